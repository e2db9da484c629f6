#version 450
// maint5: the second draw reads the first draw's attachment as an input
// attachment (dynamic rendering local read) and writes it swizzled to its
// output location 0, which vkCmdSetRenderingAttachmentLocationsKHR maps to
// color attachment 1.
layout(input_attachment_index = 0, set = 0, binding = 0) uniform subpassInput src;
layout(location = 0) out vec4 color;
void main()
{
   color = subpassLoad(src).bgra;
}
