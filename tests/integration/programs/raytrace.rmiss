#version 460
#extension GL_EXT_ray_tracing : require
layout(location = 0) rayPayloadInEXT vec4 payload;

void main()
{
   payload = vec4(10.0, 20.0, 30.0, 255.0) / 255.0;
}
