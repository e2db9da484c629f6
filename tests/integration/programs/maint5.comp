#version 450
// maint5: dst[i] = src[i] * mul + i, its buffers bound with push descriptors.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) readonly buffer Src { uint v[]; } src;
layout(set = 0, binding = 1) writeonly buffer Dst { uint v[]; } dst;
layout(push_constant) uniform Push { uint mul; uint count; } pc;
void main()
{
   uint i = gl_GlobalInvocationID.x;
   if (i < pc.count)
      dst.v[i] = src.v[i] * pc.mul + i;
}
