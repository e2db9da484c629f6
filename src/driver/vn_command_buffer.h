/*
 * Command pools and command buffers. Commands are encoded locally into the
 * command buffer's growable stream (never sent one by one); at
 * vkEndCommandBuffer the whole stream (begin ... end) goes to the device ring
 * as one submission, through vkExecuteCommandStreamsMESA when it is large.
 * Re-submitting a recorded command buffer therefore costs nothing but the
 * vkQueueSubmit. (Mesa's choice too, driver-behavior.md §8.)
 */
#ifndef VN_COMMAND_BUFFER_H
#define VN_COMMAND_BUFFER_H

#include "vn_common.h"
#include "vn_query_list.h"

struct vn_device;
struct vn_query_pool;

struct vn_command_pool {
   struct vn_object obj;
   VkAllocationCallbacks alloc;
   uint32_t family;
   VkCommandPoolCreateFlags flags;
   struct vn_command_buffer *buffers; /* doubly linked through next/prev */
};
VN_HANDLE_CAST(vn_command_pool, VkCommandPool)

enum vn_command_buffer_state {
   VN_COMMAND_BUFFER_STATE_INITIAL,
   VN_COMMAND_BUFFER_STATE_RECORDING,
   VN_COMMAND_BUFFER_STATE_EXECUTABLE,
   VN_COMMAND_BUFFER_STATE_INVALID,
};

struct vn_command_buffer {
   struct vn_object obj; /* dispatchable */
   struct vn_device *device;
   struct vn_command_pool *pool;
   struct vn_command_buffer *next;
   struct vn_command_buffer *prev;
   VkCommandBufferLevel level;
   enum vn_command_buffer_state state;
   bool counted; /* in the device's count of recording command buffers */
   struct vp_encoder enc;

   struct vn_query_list queries;

   /* the render pass instance being recorded (vn_render_pass.c): a query
    * ended in a multiview subpass takes one index per view */
   VkRenderPass render_pass;
   uint32_t subpass;
   uint32_t view_mask;
};
VN_HANDLE_CAST(vn_command_buffer, VkCommandBuffer)

/* The number of consecutive queries a query command recorded now takes:
 * the views of the current subpass or rendering, at least 1. */
static inline uint32_t
vn_cmd_query_span(const struct vn_command_buffer *cmd)
{
   return cmd->view_mask ? (uint32_t)__builtin_popcount(cmd->view_mask) : 1;
}

/* The view mask a secondary command buffer inherits (render pass subpass or
 * VkCommandBufferInheritanceRenderingInfo), 0 without multiview. */
uint32_t
vn_render_pass_inherited_view_mask(const VkCommandBufferBeginInfo *info);

/* A recording command buffer whose local stream reaches this size sends it
 * to the ring and starts a new one, so that the renderer decodes and records
 * the host command buffer while the application is still recording: the
 * host-side work overlaps instead of all landing at submit time. */
#define VN_CMD_STREAM_FLUSH_BYTES (16u * 1024)

bool
vn_command_buffer_flush_partial(struct vn_command_buffer *cmd);

/* The stream the next command is appended to, or NULL when the command
 * buffer is not recording (the command is dropped). */
static inline struct vp_encoder *
vn_cmd_encoder(VkCommandBuffer commandBuffer)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   if (cmd->state != VN_COMMAND_BUFFER_STATE_RECORDING)
      return NULL;
   if (__builtin_expect(vp_encoder_size(&cmd->enc) >= VN_CMD_STREAM_FLUSH_BYTES, 0) &&
       !vn_command_buffer_flush_partial(cmd))
      return NULL;
   return &cmd->enc;
}

void
vn_command_buffer_add_query(struct vn_command_buffer *cmd,
                            struct vn_query_pool *pool,
                            uint32_t first,
                            uint32_t count,
                            bool reset);

/* internal command buffers (feedback) */
VkResult
vn_command_pool_create_internal(struct vn_device *dev, uint32_t family, VkCommandPool *out_pool);
VkCommandBuffer
vn_command_buffer_create_internal(struct vn_device *dev, VkCommandPool pool);

#endif
