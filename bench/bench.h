/*
 * vkbench: benchmark workloads written against the plain Vulkan API (through
 * tests/vkt), so the same binary runs natively, through our driver and through
 * any other ICD. Each workload prints `name unit value` lines (see README.md),
 * checks its own results, and reports its peak RSS; bench/run.py runs every
 * workload on every stack and prints ratios to native.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vkt.h"

struct bench {
   struct vkt_context ctx;
   bool is_short;              /* --short: run briefly (CI smoke test) */
   bool has_calibrated_ts;     /* VK_EXT_calibrated_timestamps enabled */
   bool has_coopmat;           /* VK_KHR_cooperative_matrix and fp16 storage enabled */
   bool has_timeline;          /* timelineSemaphore enabled */
   bool has_host_copy;         /* VK_EXT_host_image_copy enabled, R8G8B8A8 has it */
};

struct bench_workload {
   const char *name;
   const char *what;
   void (*run)(struct bench *b);
};

/* Picks the full or the --short value. */
static inline uint32_t
bench_count(const struct bench *b, uint32_t full, uint32_t brief)
{
   return b->is_short ? brief : full;
}

/* Median of n samples (sorts them in place). */
double
bench_median(double *samples, uint32_t n);

/* Prints `<name> <unit> <value>`. */
void
bench_report(const char *name, const char *unit, double value);

/* Loads a SPIR-V file built next to vkbench. */
VkShaderModule
bench_shader(struct bench *b, const char *name);

/* Pipeline layout with at most one descriptor set layout and one push range. */
VkPipelineLayout
bench_pipeline_layout(struct bench *b,
                      VkDescriptorSetLayout set_layout,
                      VkShaderStageFlags push_stages,
                      uint32_t push_size);

/* A set layout of count storage buffers (bindings 0..count-1) for compute. */
VkDescriptorSetLayout
bench_storage_set_layout(struct bench *b, uint32_t count);

/* Allocates a primary command buffer from the main pool. */
VkCommandBuffer
bench_cmd_alloc(struct bench *b);

/* Submits cmd (already ended) with fence, waits for and resets the fence;
 * returns the elapsed nanoseconds. */
uint64_t
bench_submit_wait(struct bench *b, VkCommandBuffer cmd, VkFence fence);

VkFence
bench_fence_create(struct bench *b);

void bench_run_churn(struct bench *b);
void bench_run_roundtrip(struct bench *b);
void bench_run_submit(struct bench *b);
void bench_run_commands(struct bench *b);
void bench_run_mapping(struct bench *b);
void bench_run_staging(struct bench *b);
void bench_run_compute(struct bench *b);
void bench_run_latency(struct bench *b);
void bench_run_hostcompute(struct bench *b);
void bench_run_hostcopy(struct bench *b);

/* VK_EXT_host_image_copy's feature chained in front of next where the device
 * has it for R8G8B8A8 (sets has_host_copy), else next. */
const void *
bench_hostcopy_features(struct bench *b, const void *next);
void bench_run_frame(struct bench *b);
void bench_run_hostsignal(struct bench *b);
void bench_run_coopmat(struct bench *b);

/* Before the device is created: where VK_KHR_cooperative_matrix, shaderFloat16
 * and storageBuffer16BitAccess are offered, sets has_coopmat and returns the
 * feature chain to enable (static storage; with timelineSemaphore as
 * has_timeline says, which must be set before); otherwise NULL. */
const void *
bench_coopmat_features(struct bench *b);

#endif
