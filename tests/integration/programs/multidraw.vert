#version 450
// multidraw: cell gl_VertexIndex / 6 of a 4x4 grid, two triangles per cell
// (no vertex buffer); the color names the cell.

layout(location = 0) flat out vec3 color;

void main()
{
   const vec2 corner[6] = vec2[](vec2(0.0, 0.0), vec2(1.0, 0.0), vec2(0.0, 1.0),
                                 vec2(1.0, 0.0), vec2(1.0, 1.0), vec2(0.0, 1.0));
   const int cell = gl_VertexIndex / 6;
   const vec2 origin = vec2(float(cell % 4), float(cell / 4)) * 0.5 - 1.0;
   gl_Position = vec4(origin + corner[gl_VertexIndex % 6] * 0.5, 0.5, 1.0);
   color = vec3(float(cell + 1) / 16.0, 1.0 - float(cell) / 16.0, 0.5);
}
