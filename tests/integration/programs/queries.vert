#version 450
// queries: an axis-aligned quad (two triangles, no vertex buffer) whose corners
// (clip space) and depth come from push constants.

layout(push_constant) uniform Push {
   vec4 rect; // x0, y0, x1, y1
   float depth;
} pc;

void main()
{
   const vec2 corners[6] = vec2[](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
                                  vec2(1.0, 0.0), vec2(1.0, 1.0), vec2(0.0, 1.0));
   vec2 c = corners[gl_VertexIndex];
   gl_Position = vec4(mix(pc.rect.xy, pc.rect.zw, c), pc.depth, 1.0);
}
