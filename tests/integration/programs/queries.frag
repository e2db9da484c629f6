#version 450
// queries: a flat color; only the sample counts matter.

layout(location = 0) out vec4 out_color;

void main()
{
   out_color = vec4(1.0, 0.5, 0.0, 1.0);
}
