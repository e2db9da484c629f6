#version 460
#extension GL_EXT_ray_tracing : require
// red: the instance, green: the triangle, blue: a barycentric coordinate
layout(location = 0) rayPayloadInEXT vec4 payload;
hitAttributeEXT vec2 bary;

void main()
{
   payload = vec4((64.0 + 60.0 * float(gl_InstanceCustomIndexEXT)) / 255.0,
                  (64.0 + 60.0 * float(gl_PrimitiveID)) / 255.0, bary.x, 1.0);
}
