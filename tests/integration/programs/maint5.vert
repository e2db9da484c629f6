#version 450
// maint5: a triangle covering the whole target, from the vertex index
// (drawn through an index buffer bound with vkCmdBindIndexBuffer2KHR).
void main()
{
   vec2 p = vec2(float((gl_VertexIndex & 1) * 4 - 1), float((gl_VertexIndex >> 1) * 4 - 1));
   gl_Position = vec4(p, 0.0, 1.0);
}
