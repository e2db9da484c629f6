#version 450
// gpl: interpolated color, tinted by a push constant.

layout(location = 0) in vec3 color;
layout(location = 0) out vec4 out_color;

layout(push_constant) uniform Push {
   vec4 tint;
} pc;

void main()
{
   out_color = vec4(color * pc.tint.rgb, 1.0);
}
