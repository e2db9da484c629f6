#version 450
// layoutlife: each invocation writes a value made of the push constants.

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) writeonly buffer Dst { uint data[]; } dst;

layout(push_constant) uniform Push {
   uint base;
   uint mul;
   uint offset;
} pc;

void main()
{
   uint i = gl_GlobalInvocationID.x;
   dst.data[pc.offset + i] = pc.base + pc.mul * i;
}
