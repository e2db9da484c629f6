#version 450
// hostmem: writes a generated sequence into host-visible memory and transforms
// data the CPU wrote there into a second buffer.

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) writeonly buffer Gen { uint data[]; } gen;
layout(std430, set = 0, binding = 1) readonly buffer Src { uint data[]; } src;
layout(std430, set = 0, binding = 2) writeonly buffer Dst { uint data[]; } dst;

layout(push_constant) uniform Push {
   uint mul;
   uint add;
} pc;

void main()
{
   uint i = gl_GlobalInvocationID.x;
   gen.data[i] = i * pc.mul + pc.add;
   dst.data[i] = ~src.data[i] + i;
}
