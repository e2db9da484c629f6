/*
 * vkbench entry point: option parsing, the workload table and the helpers the
 * workloads share.
 *
 * usage: vkbench [--short] [--repeat N] [--workload NAME[,NAME...]]... [--list]
 * Without --workload every workload runs, in one process (peak RSS figures are
 * then cumulative); bench/run.py runs one workload per process. --repeat runs
 * each selected workload N times in a row (each run prints its figures), so
 * that a profiler sees more of a short workload than of the device setup.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bench_workload bench_workloads[] = {
   { "churn", "vkCreateBuffer + vkGetBufferMemoryRequirements + vkDestroyBuffer",
     bench_run_churn },
   { "roundtrip", "calls whose result must come from the host", bench_run_roundtrip },
   { "submit", "empty vkQueueSubmit + fence wait", bench_run_submit },
   { "commands", "record and execute 100k small commands", bench_run_commands },
   { "mapping", "host-visible memory write/read through a mapping", bench_run_mapping },
   { "staging", "staging upload via vkCmdCopyBuffer", bench_run_staging },
   { "compute", "GPU-bound FMA kernel", bench_run_compute },
   { "latency", "submit + wait of GPU work from 10 us to 10 ms", bench_run_latency },
   { "hostcompute", "FMA kernel over 16 MiB of host-visible coherent memory",
     bench_run_hostcompute },
   { "frame", "offscreen frame loop of a small textured scene", bench_run_frame },
   { "hostcopy", "host image copies of a 64 MiB image, both ways (VK_EXT_host_image_copy)",
     bench_run_hostcopy },
   { "hostsignal", "fence wait released by another thread's vkSignalSemaphore",
     bench_run_hostsignal },
   { "coopmat", "cooperative-matrix fp16 matrix multiply (VK_KHR_cooperative_matrix)",
     bench_run_coopmat },
};
#define BENCH_WORKLOAD_COUNT (sizeof(bench_workloads) / sizeof(bench_workloads[0]))

/* --- shared helpers ------------------------------------------------------- */

static int
bench_compare_double(const void *a, const void *b)
{
   const double x = *(const double *)a, y = *(const double *)b;
   return (x > y) - (x < y);
}

double
bench_median(double *samples, uint32_t n)
{
   qsort(samples, n, sizeof(double), bench_compare_double);
   return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

void
bench_report(const char *name, const char *unit, double value)
{
   vkt_print_f64(name, unit, value);
}

VkShaderModule
bench_shader(struct bench *b, const char *name)
{
   return vkt_shader_load(&b->ctx, name);
}

VkPipelineLayout
bench_pipeline_layout(struct bench *b,
                      VkDescriptorSetLayout set_layout,
                      VkShaderStageFlags push_stages,
                      uint32_t push_size)
{
   const VkPushConstantRange push = { push_stages, 0, push_size };
   const VkPipelineLayoutCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = set_layout ? 1 : 0,
      .pSetLayouts = &set_layout,
      .pushConstantRangeCount = push_size ? 1 : 0,
      .pPushConstantRanges = &push,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(b->ctx.device, &info, NULL, &layout));
   return layout;
}

VkDescriptorSetLayout
bench_storage_set_layout(struct bench *b, uint32_t count)
{
   VkDescriptorSetLayoutBinding bindings[4];
   if (count > 4)
      vkt_die("vkbench: too many storage bindings");
   for (uint32_t i = 0; i < count; i++) {
      bindings[i] = (VkDescriptorSetLayoutBinding){
         .binding = i,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      };
   }
   const VkDescriptorSetLayoutCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = count,
      .pBindings = bindings,
   };
   VkDescriptorSetLayout layout;
   VKT_CALL(vkCreateDescriptorSetLayout(b->ctx.device, &info, NULL, &layout));
   return layout;
}

VkCommandBuffer
bench_cmd_alloc(struct bench *b)
{
   const VkCommandBufferAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = b->ctx.cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd;
   VKT_CALL(vkAllocateCommandBuffers(b->ctx.device, &info, &cmd));
   return cmd;
}

VkFence
bench_fence_create(struct bench *b)
{
   const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VKT_CALL(vkCreateFence(b->ctx.device, &info, NULL, &fence));
   return fence;
}

uint64_t
bench_submit_wait(struct bench *b, VkCommandBuffer cmd, VkFence fence)
{
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   const uint64_t start = vkt_now_ns();
   VKT_CALL(vkQueueSubmit(b->ctx.queue, 1, &submit, fence));
   VKT_CALL(vkWaitForFences(b->ctx.device, 1, &fence, VK_TRUE, UINT64_MAX));
   const uint64_t elapsed = vkt_now_ns() - start;
   VKT_CALL(vkResetFences(b->ctx.device, 1, &fence));
   return elapsed;
}

/* --- setup ---------------------------------------------------------------- */

/* VK_EXT_calibrated_timestamps with the device time domain, for roundtrip. */
static bool
bench_can_calibrate(struct bench *b)
{
   if (!vkt_has_device_extension(&b->ctx, VK_EXT_CALIBRATED_TIMESTAMPS_EXTENSION_NAME))
      return false;
   PFN_vkGetPhysicalDeviceCalibrateableTimeDomainsEXT get_domains =
      (PFN_vkGetPhysicalDeviceCalibrateableTimeDomainsEXT)vkGetInstanceProcAddr(
         b->ctx.instance, "vkGetPhysicalDeviceCalibrateableTimeDomainsEXT");
   if (!get_domains)
      return false;
   VkTimeDomainEXT domains[8];
   uint32_t count = 8;
   if (get_domains(b->ctx.physical_device, &count, domains) < 0)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (domains[i] == VK_TIME_DOMAIN_DEVICE_EXT)
         return true;
   }
   return false;
}

/* Whether the device offers timeline semaphores (Vulkan 1.2). */
static bool
bench_can_timeline(struct bench *b)
{
   if (VK_API_VERSION_MINOR(b->ctx.props.apiVersion) < 2 &&
       VK_API_VERSION_MAJOR(b->ctx.props.apiVersion) == 1)
      return false;
   VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &timeline,
   };
   vkGetPhysicalDeviceFeatures2(b->ctx.physical_device, &features);
   return timeline.timelineSemaphore;
}

static void
bench_usage(FILE *out)
{
   fprintf(out, "usage: vkbench [--short] [--repeat N] [--workload NAME[,NAME...]]... [--list]\n"
                "workloads:\n");
   for (size_t i = 0; i < BENCH_WORKLOAD_COUNT; i++)
      fprintf(out, "  %-10s %s\n", bench_workloads[i].name, bench_workloads[i].what);
}

/* Marks the workloads named in a comma-separated list; false on an unknown one. */
static bool
bench_select(const char *list, bool *selected)
{
   char *copy = strdup(list);
   bool ok = copy != NULL;
   for (char *save = NULL, *name = copy ? strtok_r(copy, ",", &save) : NULL; name;
        name = strtok_r(NULL, ",", &save)) {
      size_t i = 0;
      while (i < BENCH_WORKLOAD_COUNT && strcmp(bench_workloads[i].name, name))
         i++;
      if (i == BENCH_WORKLOAD_COUNT) {
         fprintf(stderr, "vkbench: unknown workload '%s'\n", name);
         ok = false;
      } else {
         selected[i] = true;
      }
   }
   free(copy);
   return ok;
}

int
main(int argc, char **argv)
{
   bool selected[BENCH_WORKLOAD_COUNT] = { false };
   bool any_selected = false;
   bool is_short = false;
   unsigned long repeat = 1;

   for (int i = 1; i < argc; i++) {
      if (!strcmp(argv[i], "--short")) {
         is_short = true;
      } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
         char *end;
         repeat = strtoul(argv[++i], &end, 10);
         if (*end || !repeat || repeat > 100000) {
            fprintf(stderr, "vkbench: --repeat takes a count from 1 to 100000\n");
            return 2;
         }
      } else if (!strcmp(argv[i], "--workload") && i + 1 < argc) {
         if (!bench_select(argv[++i], selected))
            return 2;
         any_selected = true;
      } else if (!strncmp(argv[i], "--workload=", 11)) {
         if (!bench_select(argv[i] + 11, selected))
            return 2;
         any_selected = true;
      } else if (!strcmp(argv[i], "--list")) {
         for (size_t w = 0; w < BENCH_WORKLOAD_COUNT; w++)
            printf("%s\n", bench_workloads[w].name);
         return 0;
      } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
         bench_usage(stdout);
         return 0;
      } else {
         bench_usage(stderr);
         return 2;
      }
   }

   static struct bench b;
   b.is_short = is_short;
   vkt_init(&b.ctx, "vkbench");
   b.has_calibrated_ts = bench_can_calibrate(&b);
   const char *extensions[3];
   uint32_t extension_count = 0;
   if (b.has_calibrated_ts)
      extensions[extension_count++] = VK_EXT_CALIBRATED_TIMESTAMPS_EXTENSION_NAME;
   /* timeline semaphores (frame), VK_KHR_cooperative_matrix and fp16 storage
    * (coopmat), where offered */
   b.has_timeline = bench_can_timeline(&b);
   const void *features = bench_coopmat_features(&b);
   if (features)
      extensions[extension_count++] = "VK_KHR_cooperative_matrix";
   static VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .timelineSemaphore = VK_TRUE,
   };
   if (!features && b.has_timeline)
      features = &timeline;
   /* host image copies (hostcopy), where offered */
   features = bench_hostcopy_features(&b, features);
   if (b.has_host_copy)
      extensions[extension_count++] = "VK_EXT_host_image_copy";
   const struct vkt_device_info info = {
      .next = features,
      .extensions = extensions,
      .extension_count = extension_count,
   };
   vkt_device_init(&b.ctx, &info);

   for (size_t n = 0; n < BENCH_WORKLOAD_COUNT * repeat; n++) {
      const size_t i = n / repeat;
      if (any_selected && !selected[i])
         continue;
      const struct bench_workload *w = &bench_workloads[i];
      const uint32_t failures = b.ctx.check_failures;
      fprintf(stderr, "vkbench: %s: %s%s\n", w->name, w->what,
              is_short ? " (short)" : "");
      w->run(&b);
      VKT_CALL(vkDeviceWaitIdle(b.ctx.device));
      char name[64];
      snprintf(name, sizeof(name), "%s_peak_rss", w->name);
      vkt_print_u64(name, "KiB", (uint64_t)vkt_peak_rss_kib());
      if (b.ctx.check_failures != failures)
         fprintf(stderr, "vkbench: %s: RESULT CHECK FAILED\n", w->name);
   }
   return vkt_finish(&b.ctx);
}
