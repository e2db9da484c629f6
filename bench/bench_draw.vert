#version 450
// commands: a full-screen triangle from gl_VertexIndex, no vertex buffer.

void main()
{
   vec2 p = vec2(float((gl_VertexIndex << 1) & 2), float(gl_VertexIndex & 2));
   gl_Position = vec4(p * 2.0 - 1.0, 0.5, 1.0);
}
