#version 450
// commands: one invocation stores the last push constant; the benchmark's
// zero-group dispatches never run it.

layout(local_size_x = 1) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out { uint data[]; } o;

layout(push_constant) uniform Push {
   uint value;
} pc;

void main()
{
   o.data[0] = pc.value;
}
