#version 460
#extension GL_EXT_ray_query : require
// One ray per invocation from z = -1 along +z over a width x width grid of
// [-2, 2]^2: (instance, triangle, t bits, 1) of the closest hit, or
// (~0, ~0, 0, 0) on a miss.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) uniform accelerationStructureEXT tlas;
layout(set = 0, binding = 1, std430) writeonly buffer Out { uvec4 r[]; } outp;
layout(push_constant) uniform P { uint width; uint count; } pc;

void main()
{
   const uint i = gl_GlobalInvocationID.x;
   if (i >= pc.count)
      return;
   const float x = -2.0 + 4.0 * (float(i % pc.width) + 0.5) / float(pc.width);
   const float y = -2.0 + 4.0 * (float(i / pc.width) + 0.5) / float(pc.width);
   rayQueryEXT q;
   rayQueryInitializeEXT(q, tlas, gl_RayFlagsOpaqueEXT, 0xff, vec3(x, y, -1.0), 0.0,
                         vec3(0.0, 0.0, 1.0), 100.0);
   while (rayQueryProceedEXT(q)) {
   }
   if (rayQueryGetIntersectionTypeEXT(q, true) == gl_RayQueryCommittedIntersectionTriangleEXT) {
      outp.r[i] = uvec4(rayQueryGetIntersectionInstanceCustomIndexEXT(q, true),
                        rayQueryGetIntersectionPrimitiveIndexEXT(q, true),
                        floatBitsToUint(rayQueryGetIntersectionTEXT(q, true)), 1u);
   } else {
      outp.r[i] = uvec4(0xffffffffu, 0xffffffffu, 0u, 0u);
   }
}
