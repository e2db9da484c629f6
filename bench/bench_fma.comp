#version 450
// compute: a GPU-bound FMA loop. With pc.a = 1.0 (unknown to the compiler) each
// lane accumulates iterations * b exactly, so the host can check every result.
// Work per invocation: iterations * 4 accumulators * vec4 * 2 flops.

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float b[]; } inp;
layout(std430, set = 0, binding = 1) writeonly buffer Out { float r[]; } outp;

layout(push_constant) uniform Push {
   float a;
   uint iterations;
} pc;

void main()
{
   uint i = gl_GlobalInvocationID.x;
   float bi = inp.b[i];
   vec4 b = vec4(bi, bi + 1.0, bi + 2.0, bi + 3.0);
   vec4 a = vec4(pc.a);
   vec4 x0 = vec4(0.0), x1 = vec4(1.0), x2 = vec4(2.0), x3 = vec4(3.0);
   for (uint k = 0; k < pc.iterations; k++) {
      x0 = fma(x0, a, b);
      x1 = fma(x1, a, b);
      x2 = fma(x2, a, b);
      x3 = fma(x3, a, b);
   }
   outp.r[i] = dot(x0 + x1 + x2 + x3, vec4(1.0));
}
