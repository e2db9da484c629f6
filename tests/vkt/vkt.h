/*
 * vkt: the small helper shared by the integration-test programs
 * (tests/integration/programs/) and the benchmarks (bench/). It uses only the
 * Vulkan API through the loader, so every program runs natively or through any
 * ICD chosen with VK_DRIVER_FILES / VK_ICD_FILENAMES.
 *
 * Conventions every program follows:
 * - stdout carries only result lines, `name unit value`, printed with
 *   vkt_print_*(). Integration programs print only deterministic values there
 *   (digests, counts), so a native run and a run through another ICD can be
 *   compared byte for byte; diagnostics go to stderr.
 * - A program exits 0 only if all of its own checks passed (vkt_check) and, with
 *   VKT_VALIDATION=1, the validation layer reported no error: vkt_finish()
 *   computes the exit status.
 * - An unexpected VkResult is fatal (VKT_CALL): the program cannot go on
 *   meaningfully, so it reports the call site and exits 1.
 *
 * Environment: VKT_VALIDATION=1 enables VK_LAYER_KHRONOS_validation and counts
 * its errors (VKT_VALIDATION=sync adds synchronization validation);
 * VKT_SHADER_DIR overrides where SPIR-V files are found (default: the
 * executable's directory); VKT_OUTPUT_DIR is where programs write image files.
 */
#ifndef VKT_H
#define VKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#define VKT_MAX_QUEUE_FAMILIES 16
#define VKT_NO_MEMORY_TYPE UINT32_MAX

/* Everything a program needs to talk to one device. */
struct vkt_context {
   const char *name; /* program name, prefixes every diagnostic */

   VkInstance instance;
   VkDebugUtilsMessengerEXT messenger; /* only with validation */
   bool has_validation;
   uint32_t validation_errors;   /* counted by the debug-utils callback */
   uint32_t validation_warnings; /* printed, never fatal */
   /* set around a call that breaks a valid-usage rule on purpose (a driver
    * robustness check): its validation errors are printed and counted in
    * validation_expected instead */
   bool invalid_on_purpose;
   uint32_t validation_expected;
   uint32_t check_failures;      /* vkt_check() calls that failed */

   VkPhysicalDevice physical_device;
   VkPhysicalDeviceProperties props;
   VkPhysicalDeviceMemoryProperties mem_props;
   VkPhysicalDeviceFeatures features;
   uint32_t queue_family_count;
   VkQueueFamilyProperties queue_families[VKT_MAX_QUEUE_FAMILIES];

   VkDevice device;
   uint32_t queue_family; /* family of queue; supports graphics and compute */
   VkQueue queue;
   VkCommandPool cmd_pool; /* for queue_family */

   /* A second queue, only when vkt_device_info::want_second_queue was set. It is
    * a distinct VkQueue when the device has one (same family if that family has
    * two queues, else another family), otherwise it equals queue. */
   VkQueue queue2;
   uint32_t queue2_family;
   VkCommandPool cmd_pool2;
   bool has_distinct_queue2;

   /* set by a program that enabled VK_KHR_maintenance5: vkt_buffer_create*
    * give the usage in VkBufferUsageFlags2CreateInfoKHR (and 0 in
    * VkBufferCreateInfo::usage, which the structure overrides) */
   bool buffer_usage2;
};

struct vkt_device_info {
   /* pNext chain of VkDeviceCreateInfo (e.g. VkPhysicalDeviceVulkan12Features);
    * when it holds a VkPhysicalDeviceFeatures2, enabled_features must be NULL */
   const void *next;
   const VkPhysicalDeviceFeatures *enabled_features;
   const char *const *extensions;
   uint32_t extension_count;
   bool want_second_queue;
};

/* Where a buffer's memory should live. */
enum vkt_mem {
   VKT_MEM_DEVICE,   /* device-local preferred, never mapped */
   VKT_MEM_UPLOAD,   /* host-visible, coherent preferred, mapped */
   VKT_MEM_READBACK, /* host-visible, cached preferred, mapped */
};

struct vkt_buffer {
   VkBuffer buffer;
   VkDeviceMemory memory;
   VkDeviceSize size;
   uint32_t memory_type;
   bool is_coherent;
   void *map; /* mapping of the whole buffer, NULL for VKT_MEM_DEVICE */
};

struct vkt_image {
   VkImage image;
   VkDeviceMemory memory;
   VkImageView view; /* VK_NULL_HANDLE unless usable as view */
   VkFormat format;
   VkImageAspectFlags aspect;
   uint32_t width;
   uint32_t height;
};

/* Fixed-function choices for vkt_graphics_pipeline_create(): triangle lists,
 * no culling, static viewport and scissor covering width x height. */
struct vkt_graphics_desc {
   VkShaderModule vert;
   VkShaderModule frag;
   const VkSpecializationInfo *frag_spec; /* may be NULL */
   VkPipelineLayout layout;
   VkRenderPass render_pass;
   uint32_t width;
   uint32_t height;
   const VkPipelineVertexInputStateCreateInfo *vertex_input; /* NULL: none */
   bool depth_test; /* LESS, with depth writes */
};

/* --- context ------------------------------------------------------------- */

/* Creates the instance (with validation when asked) and picks the first
 * physical device. Exits the program on failure. */
void
vkt_init(struct vkt_context *ctx, const char *name);
/* vkt_init with instance extensions (at most VKT_MAX_INSTANCE_EXTENSIONS) */
#define VKT_MAX_INSTANCE_EXTENSIONS 8
void
vkt_init_with_extensions(struct vkt_context *ctx,
                         const char *name,
                         const char *const *extensions,
                         uint32_t extension_count);

/* Creates the device, its queue(s) and command pool(s). info may be NULL. */
void
vkt_device_init(struct vkt_context *ctx, const struct vkt_device_info *info);

/* Destroys the device and the instance, prints a PASS/FAIL line to stderr and
 * returns the process exit status: 0 only with no failed check and no
 * validation error. */
int
vkt_finish(struct vkt_context *ctx);

bool
vkt_has_device_extension(const struct vkt_context *ctx, const char *name);

/* --- results ------------------------------------------------------------- */

/* Records a failed check (printed to stderr) unless cond holds; returns cond. */
bool
vkt_check(struct vkt_context *ctx, bool cond, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

void
vkt_print_u64(const char *name, const char *unit, uint64_t value);
void
vkt_print_hex(const char *name, uint64_t value); /* unit "hex", 16 digits */
void
vkt_print_f64(const char *name, const char *unit, double value);

/* FNV-1a, 64-bit: a stable digest of result bytes. */
#define VKT_DIGEST_INIT 0xcbf29ce484222325ull
uint64_t
vkt_digest_update(uint64_t digest, const void *data, size_t size);
static inline uint64_t
vkt_digest(const void *data, size_t size)
{
   return vkt_digest_update(VKT_DIGEST_INIT, data, size);
}

/* --- errors -------------------------------------------------------------- */

const char *
vkt_result_string(VkResult result);

void
vkt_call_failed(VkResult result, const char *expr, const char *file, int line)
   __attribute__((noreturn));

/* For calls that must return VK_SUCCESS. */
#define VKT_CALL(expr)                                                                \
   do {                                                                               \
      const VkResult vkt_result_ = (expr);                                            \
      if (vkt_result_ != VK_SUCCESS)                                                  \
         vkt_call_failed(vkt_result_, #expr, __FILE__, __LINE__);                     \
   } while (0)

/* Prints a message and exits 1. */
void
vkt_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* --- memory, buffers, images --------------------------------------------- */

/* First memory type in type_bits with all of required and preferred, else the
 * first with required; VKT_NO_MEMORY_TYPE if none. */
uint32_t
vkt_memory_type(const struct vkt_context *ctx,
                uint32_t type_bits,
                VkMemoryPropertyFlags required,
                VkMemoryPropertyFlags preferred);

/* A buffer bound at offset 0 of its own allocation; with two queue families in
 * use the buffer is VK_SHARING_MODE_CONCURRENT between them. */
void
vkt_buffer_create(struct vkt_context *ctx,
                  VkDeviceSize size,
                  VkBufferUsageFlags usage,
                  enum vkt_mem mem,
                  struct vkt_buffer *out);

/* Same with an explicit memory type (for walking every host-visible type). */
void
vkt_buffer_create_in_type(struct vkt_context *ctx,
                          VkDeviceSize size,
                          VkBufferUsageFlags usage,
                          uint32_t memory_type,
                          struct vkt_buffer *out);

void
vkt_buffer_destroy(struct vkt_context *ctx, struct vkt_buffer *buf);

/* Flush host writes / invalidate before host reads; no-ops on coherent memory. */
void
vkt_buffer_flush(struct vkt_context *ctx, const struct vkt_buffer *buf);
void
vkt_buffer_invalidate(struct vkt_context *ctx, const struct vkt_buffer *buf);

/* A 2D, single-mip, optimal-tiling, device-local image; a view is created when
 * usage allows one. */
void
vkt_image_create(struct vkt_context *ctx,
                 VkFormat format,
                 uint32_t width,
                 uint32_t height,
                 VkImageUsageFlags usage,
                 struct vkt_image *out);

void
vkt_image_destroy(struct vkt_context *ctx, struct vkt_image *img);

/* A binary or timeline semaphore (`initial`: a timeline's first value). */
VkSemaphore
vkt_semaphore_create(struct vkt_context *ctx, VkSemaphoreType type, uint64_t initial);

/* --- commands ------------------------------------------------------------ */

/* One-shot command buffer from ctx->cmd_pool, already begun. */
VkCommandBuffer
vkt_cmd_begin(struct vkt_context *ctx);

/* A primary command buffer from pool, begun with flags (0: resubmittable). */
VkCommandBuffer
vkt_cmd_begin_in(struct vkt_context *ctx, VkCommandPool pool, VkCommandBufferUsageFlags flags);

/* Ends cmd, submits it to ctx->queue, waits on a fence and frees it. */
void
vkt_cmd_submit_wait(struct vkt_context *ctx, VkCommandBuffer cmd);

/* Submits an already ended command buffer with a fence and waits for it. */
void
vkt_queue_submit_wait(struct vkt_context *ctx, VkQueue queue, VkCommandBuffer cmd);

void
vkt_cmd_image_barrier(VkCommandBuffer cmd,
                      const struct vkt_image *img,
                      VkImageLayout old_layout,
                      VkImageLayout new_layout,
                      VkPipelineStageFlags src_stage,
                      VkAccessFlags src_access,
                      VkPipelineStageFlags dst_stage,
                      VkAccessFlags dst_access);

/* A global memory barrier. */
void
vkt_cmd_memory_barrier(VkCommandBuffer cmd,
                       VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access,
                       VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access);

/* --- shaders and pipelines ----------------------------------------------- */

/* Loads name (e.g. "compute.comp.spv") from VKT_SHADER_DIR, else from the
 * executable's directory; a name containing '/' is used as a path as is. */
VkShaderModule
vkt_shader_load(struct vkt_context *ctx, const char *name);

/* The SPIR-V words of name, found as vkt_shader_load() does (malloc'ed). */
uint32_t *
vkt_shader_read(struct vkt_context *ctx, const char *name, size_t *out_size);

VkPipeline
vkt_compute_pipeline_create(struct vkt_context *ctx,
                            VkShaderModule module,
                            VkPipelineLayout layout,
                            const VkSpecializationInfo *spec);

/* Clear on load, store; color ends in TRANSFER_SRC_OPTIMAL, ready for a copy.
 * depth_format may be VK_FORMAT_UNDEFINED for no depth attachment. */
VkRenderPass
vkt_render_pass_create(struct vkt_context *ctx,
                       VkFormat color_format,
                       VkFormat depth_format);

VkFramebuffer
vkt_framebuffer_create(struct vkt_context *ctx,
                       VkRenderPass render_pass,
                       const struct vkt_image *color,
                       const struct vkt_image *depth);

VkPipeline
vkt_graphics_pipeline_create(struct vkt_context *ctx,
                             const struct vkt_graphics_desc *desc);

/* --- host utilities ------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t
vkt_now_ns(void);

/* Peak resident set size of this process in KiB (getrusage). */
long
vkt_peak_rss_kib(void);

/* Binary PPM (P6) from RGBA8 rows; alpha is dropped. */
bool
vkt_write_ppm(const char *path,
              uint32_t width,
              uint32_t height,
              const uint8_t *rgba,
              size_t row_pitch);

bool
vkt_write_raw(const char *path, const void *data, size_t size);

/* Path for an output file: argv_path if not NULL, else $VKT_OUTPUT_DIR/file_name,
 * else NULL (no file wanted). The result is malloc'ed. */
char *
vkt_output_path(const char *argv_path, const char *file_name);

#endif
