#version 450
// test_renderer_compute: v[i] = v[i] * mul + i
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) buffer Data { uint v[]; } data;
layout(push_constant) uniform Push { uint mul; } pc;
void main()
{
   uint i = gl_GlobalInvocationID.x;
   data.v[i] = data.v[i] * pc.mul + i;
}
