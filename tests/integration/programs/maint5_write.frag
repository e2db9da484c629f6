#version 450
// maint5: the first draw writes a pattern of exact unorm8 values.
layout(location = 0) out vec4 color;
void main()
{
   uint x = uint(gl_FragCoord.x), y = uint(gl_FragCoord.y);
   color = vec4(float((x * 7u) & 255u), float((y * 11u) & 255u),
                float(((x ^ y) * 5u) & 255u), 255.0) / 255.0;
}
