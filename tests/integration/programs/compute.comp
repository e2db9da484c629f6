#version 450
// compute: an integer kernel whose workgroup size and multiplier are
// specialization constants and whose other parameters are push constants.

layout(constant_id = 0) const uint LOCAL_SIZE = 64;
layout(constant_id = 1) const uint MUL = 3;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Src { uint data[]; } src;
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uint data[]; } dst;
layout(std430, set = 0, binding = 2) writeonly buffer Ids { uint data[]; } ids;

layout(push_constant) uniform Push {
   uint count;
   uint base;
   uint add;
   uint xor_mul;
   uint shift;
} pc;

void main()
{
   uint i = gl_GlobalInvocationID.x;
   if (i >= pc.count)
      return;
   uint v = src.data[i];
   dst.data[pc.base + i] = ((v * MUL + pc.add) ^ (i * pc.xor_mul)) + (v >> pc.shift);
   // checks that the specialized workgroup size was used
   ids.data[pc.base + i] = gl_WorkGroupID.x * LOCAL_SIZE + gl_LocalInvocationID.x;
}
