#version 450
// frame: clip-space positions shifted by a per-frame push constant.

layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec2 in_uv;
layout(location = 2) in vec4 in_color;

layout(push_constant) uniform Push {
   vec2 offset;
} pc;

layout(location = 0) out vec2 out_uv;
layout(location = 1) out vec4 out_color;

void main()
{
   gl_Position = vec4(in_pos.xy + pc.offset, in_pos.z, 1.0);
   out_uv = in_uv;
   out_color = in_color;
}
