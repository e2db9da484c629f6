#version 450
// gpl: a fan of four colored triangles from gl_VertexIndex (no vertex buffer).

layout(location = 0) out vec3 color;

void main()
{
   const vec2 pos[12] = vec2[](
      vec2(0.0, 0.0), vec2(0.9, -0.2), vec2(0.3, 0.8),
      vec2(0.0, 0.0), vec2(-0.2, 0.9), vec2(-0.8, 0.1),
      vec2(0.0, 0.0), vec2(-0.9, -0.3), vec2(-0.4, -0.9),
      vec2(0.0, 0.0), vec2(0.2, -0.95), vec2(0.7, -0.6));
   const vec3 colors[3] = vec3[](vec3(1.0, 0.1, 0.2), vec3(0.1, 0.9, 0.3), vec3(0.2, 0.3, 1.0));
   gl_Position = vec4(pos[gl_VertexIndex], 0.5, 1.0);
   color = colors[gl_VertexIndex % 3] * (0.4 + 0.15 * float(gl_VertexIndex / 3));
}
