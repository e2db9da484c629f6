/*
 * Shared by the ray tracing programs (raytrace.c, rayquery.c): buffers with
 * device addresses, and acceleration structures built on the device from a
 * few triangles (a BLAS) and instances of it (a TLAS). Everything is
 * deterministic, so a native run and a run through another ICD print the
 * same digests.
 */
#ifndef RT_UTIL_H
#define RT_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "vkt.h"

/* exit status for "the device lacks what the program needs" */
#define RT_SKIP 77

struct rt_fns {
   PFN_vkCreateAccelerationStructureKHR create_as;
   PFN_vkDestroyAccelerationStructureKHR destroy_as;
   PFN_vkGetAccelerationStructureBuildSizesKHR build_sizes;
   PFN_vkCmdBuildAccelerationStructuresKHR cmd_build;
   PFN_vkGetAccelerationStructureDeviceAddressKHR as_address;
   PFN_vkCmdWriteAccelerationStructuresPropertiesKHR cmd_write_props;
   PFN_vkCmdCopyAccelerationStructureKHR cmd_copy;
   PFN_vkCmdCopyAccelerationStructureToMemoryKHR cmd_serialize;
   PFN_vkCmdCopyMemoryToAccelerationStructureKHR cmd_deserialize;
   PFN_vkGetDeviceAccelerationStructureCompatibilityKHR compatibility;
};

static void *
rt_proc(VkDevice dev, const char *name)
{
   void *fn = (void *)vkGetDeviceProcAddr(dev, name);
   if (!fn)
      vkt_die("vkGetDeviceProcAddr(%s) returned NULL", name);
   return fn;
}

static void
rt_fns_load(VkDevice dev, struct rt_fns *f)
{
   f->create_as = (PFN_vkCreateAccelerationStructureKHR)rt_proc(dev, "vkCreateAccelerationStructureKHR");
   f->destroy_as = (PFN_vkDestroyAccelerationStructureKHR)rt_proc(dev, "vkDestroyAccelerationStructureKHR");
   f->build_sizes = (PFN_vkGetAccelerationStructureBuildSizesKHR)rt_proc(dev, "vkGetAccelerationStructureBuildSizesKHR");
   f->cmd_build = (PFN_vkCmdBuildAccelerationStructuresKHR)rt_proc(dev, "vkCmdBuildAccelerationStructuresKHR");
   f->as_address = (PFN_vkGetAccelerationStructureDeviceAddressKHR)rt_proc(dev, "vkGetAccelerationStructureDeviceAddressKHR");
   f->cmd_write_props = (PFN_vkCmdWriteAccelerationStructuresPropertiesKHR)rt_proc(dev, "vkCmdWriteAccelerationStructuresPropertiesKHR");
   f->cmd_copy = (PFN_vkCmdCopyAccelerationStructureKHR)rt_proc(dev, "vkCmdCopyAccelerationStructureKHR");
   f->cmd_serialize = (PFN_vkCmdCopyAccelerationStructureToMemoryKHR)rt_proc(dev, "vkCmdCopyAccelerationStructureToMemoryKHR");
   f->cmd_deserialize = (PFN_vkCmdCopyMemoryToAccelerationStructureKHR)rt_proc(dev, "vkCmdCopyMemoryToAccelerationStructureKHR");
   f->compatibility = (PFN_vkGetDeviceAccelerationStructureCompatibilityKHR)rt_proc(dev, "vkGetDeviceAccelerationStructureCompatibilityKHR");
}

/* A host-visible, mapped buffer with a device address. */
struct rt_buffer {
   VkBuffer buffer;
   VkDeviceMemory memory;
   VkDeviceSize size;
   VkDeviceAddress address;
   void *map;
};

static void
rt_buffer_create(struct vkt_context *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                 struct rt_buffer *out)
{
   VkDevice dev = ctx->device;
   memset(out, 0, sizeof(*out));
   out->size = size;
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = usage | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VKT_CALL(vkCreateBuffer(dev, &info, NULL, &out->buffer));
   VkMemoryRequirements req;
   vkGetBufferMemoryRequirements(dev, out->buffer, &req);
   const uint32_t type = vkt_memory_type(ctx, req.memoryTypeBits,
                                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                         0);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("no host-visible coherent memory type for a buffer");
   const VkMemoryAllocateFlagsInfo flags = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
      .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
   };
   const VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &flags,
      .allocationSize = req.size,
      .memoryTypeIndex = type,
   };
   VKT_CALL(vkAllocateMemory(dev, &alloc, NULL, &out->memory));
   VKT_CALL(vkBindBufferMemory(dev, out->buffer, out->memory, 0));
   VKT_CALL(vkMapMemory(dev, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map));
   memset(out->map, 0, size);
   const VkBufferDeviceAddressInfo addr = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
      .buffer = out->buffer,
   };
   out->address = vkGetBufferDeviceAddress(dev, &addr);
}

static void
rt_buffer_destroy(struct vkt_context *ctx, struct rt_buffer *buf)
{
   vkDestroyBuffer(ctx->device, buf->buffer, NULL);
   vkFreeMemory(ctx->device, buf->memory, NULL);
   memset(buf, 0, sizeof(*buf));
}

struct rt_as {
   VkAccelerationStructureKHR as;
   struct rt_buffer storage;
   VkDeviceAddress address;
};

static void
rt_as_create(struct vkt_context *ctx, const struct rt_fns *f, VkAccelerationStructureTypeKHR type,
             VkDeviceSize size, struct rt_as *out)
{
   rt_buffer_create(ctx, size, VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_STORAGE_BIT_KHR,
                    &out->storage);
   const VkAccelerationStructureCreateInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_CREATE_INFO_KHR,
      .buffer = out->storage.buffer,
      .size = size,
      .type = type,
   };
   VKT_CALL(f->create_as(ctx->device, &info, NULL, &out->as));
   const VkAccelerationStructureDeviceAddressInfoKHR addr = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_DEVICE_ADDRESS_INFO_KHR,
      .accelerationStructure = out->as,
   };
   out->address = f->as_address(ctx->device, &addr);
}

static void
rt_as_destroy(struct vkt_context *ctx, const struct rt_fns *f, struct rt_as *as)
{
   f->destroy_as(ctx->device, as->as, NULL);
   rt_buffer_destroy(ctx, &as->storage);
}

static VkDeviceSize
rt_align(VkDeviceSize v, VkDeviceSize a)
{
   return a ? (v + a - 1) / a * a : v;
}

/* The scene: RT_TRIANGLES triangles in the plane z = 0 of the BLAS, and
 * RT_INSTANCES translated instances of it (custom index = instance number). */
#define RT_TRIANGLES 3u
#define RT_INSTANCES 3u
/* rays closer than 0.01 to an edge are not checked */
#define RT_MARGIN2 1e-4f

static const float rt_vertices[RT_TRIANGLES * 3][3] = {
   { -0.9f, -0.9f, 0.0f }, { -0.1f, -0.9f, 0.0f }, { -0.5f, -0.1f, 0.0f },
   { 0.1f, -0.9f, 0.0f },  { 0.9f, -0.9f, 0.0f },  { 0.9f, -0.1f, 0.0f },
   { -0.8f, 0.1f, 0.0f },  { 0.8f, 0.1f, 0.0f },   { 0.0f, 0.9f, 0.0f },
};
static const uint32_t rt_indices[RT_TRIANGLES * 3] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };

/* instance translations (x, y, z); the BLAS spans [-0.9, 0.9] */
static const float rt_instance_offsets[RT_INSTANCES][3] = {
   { -1.0f, -1.0f, 2.0f },
   { 1.0f, -1.0f, 3.0f },
   { 0.0f, 1.0f, 4.0f },
};

struct rt_scene {
   struct rt_buffer vertices, indices, instances, scratch;
   struct rt_as blas, tlas;
   VkDeviceSize blas_build_size, compacted_size;
};

/* builds before later builds and before the shaders (stage) that trace */
static void
rt_barrier(VkCommandBuffer cmd, VkPipelineStageFlags stage)
{
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR,
                          VK_ACCESS_ACCELERATION_STRUCTURE_WRITE_BIT_KHR,
                          VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR | stage,
                          VK_ACCESS_ACCELERATION_STRUCTURE_READ_BIT_KHR |
                             VK_ACCESS_ACCELERATION_STRUCTURE_WRITE_BIT_KHR);
}

/* Builds the BLAS (compacted through a query and a COMPACT copy, then
 * serialized to memory and deserialized) and the TLAS on the device; checks
 * the sizes and the compatibility query on the serialized header.
 * trace_stage: the shader stage that will trace rays. */
static void
rt_scene_build(struct vkt_context *ctx, const struct rt_fns *f, struct rt_scene *s,
               VkDeviceSize scratch_alignment, VkPipelineStageFlags trace_stage)
{
   VkDevice dev = ctx->device;
   memset(s, 0, sizeof(*s));
   const VkBufferUsageFlags input = VK_BUFFER_USAGE_ACCELERATION_STRUCTURE_BUILD_INPUT_READ_ONLY_BIT_KHR;
   rt_buffer_create(ctx, sizeof(rt_vertices), input, &s->vertices);
   rt_buffer_create(ctx, sizeof(rt_indices), input, &s->indices);
   rt_buffer_create(ctx, sizeof(VkAccelerationStructureInstanceKHR) * RT_INSTANCES, input,
                    &s->instances);
   memcpy(s->vertices.map, rt_vertices, sizeof(rt_vertices));
   memcpy(s->indices.map, rt_indices, sizeof(rt_indices));

   /* BLAS */
   const VkAccelerationStructureGeometryKHR tri = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_TRIANGLES_KHR,
      .geometry.triangles = {
         .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_TRIANGLES_DATA_KHR,
         .vertexFormat = VK_FORMAT_R32G32B32_SFLOAT,
         .vertexData.deviceAddress = s->vertices.address,
         .vertexStride = sizeof(rt_vertices[0]),
         .maxVertex = RT_TRIANGLES * 3 - 1,
         .indexType = VK_INDEX_TYPE_UINT32,
         .indexData.deviceAddress = s->indices.address,
      },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR,
   };
   VkAccelerationStructureBuildGeometryInfoKHR blas_info = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
      .flags = VK_BUILD_ACCELERATION_STRUCTURE_PREFER_FAST_TRACE_BIT_KHR |
               VK_BUILD_ACCELERATION_STRUCTURE_ALLOW_COMPACTION_BIT_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR,
      .geometryCount = 1,
      .pGeometries = &tri,
   };
   const uint32_t tri_count = RT_TRIANGLES;
   VkAccelerationStructureBuildSizesInfoKHR blas_sizes = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR,
   };
   f->build_sizes(dev, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, &blas_info, &tri_count,
                  &blas_sizes);
   vkt_check(ctx, blas_sizes.accelerationStructureSize > 0, "BLAS build size is 0");

   /* TLAS sizes */
   const VkAccelerationStructureGeometryKHR inst = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
      .geometryType = VK_GEOMETRY_TYPE_INSTANCES_KHR,
      .geometry.instances = {
         .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_INSTANCES_DATA_KHR,
         .arrayOfPointers = VK_FALSE,
         .data.deviceAddress = s->instances.address,
      },
      .flags = VK_GEOMETRY_OPAQUE_BIT_KHR,
   };
   VkAccelerationStructureBuildGeometryInfoKHR tlas_info = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR,
      .flags = VK_BUILD_ACCELERATION_STRUCTURE_PREFER_FAST_TRACE_BIT_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR,
      .geometryCount = 1,
      .pGeometries = &inst,
   };
   const uint32_t inst_count = RT_INSTANCES;
   VkAccelerationStructureBuildSizesInfoKHR tlas_sizes = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR,
   };
   f->build_sizes(dev, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, &tlas_info, &inst_count,
                  &tlas_sizes);
   vkt_check(ctx, tlas_sizes.accelerationStructureSize > 0, "TLAS build size is 0");

   VkDeviceSize scratch = blas_sizes.buildScratchSize > tlas_sizes.buildScratchSize
                             ? blas_sizes.buildScratchSize
                             : tlas_sizes.buildScratchSize;
   rt_buffer_create(ctx, scratch + scratch_alignment, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                    &s->scratch);
   const VkDeviceAddress scratch_addr = rt_align(s->scratch.address, scratch_alignment);

   struct rt_as full;
   rt_as_create(ctx, f, VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
                blas_sizes.accelerationStructureSize, &full);
   s->blas_build_size = blas_sizes.accelerationStructureSize;
   blas_info.dstAccelerationStructure = full.as;
   blas_info.scratchData.deviceAddress = scratch_addr;
   const VkAccelerationStructureBuildRangeInfoKHR blas_range = { RT_TRIANGLES, 0, 0, 0 };
   const VkAccelerationStructureBuildRangeInfoKHR *blas_ranges[1] = { &blas_range };

   const VkQueryPoolCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = VK_QUERY_TYPE_ACCELERATION_STRUCTURE_COMPACTED_SIZE_KHR,
      .queryCount = 1,
   };
   VkQueryPool qpool;
   VKT_CALL(vkCreateQueryPool(dev, &qinfo, NULL, &qpool));

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdResetQueryPool(cmd, qpool, 0, 1);
   f->cmd_build(cmd, 1, &blas_info, blas_ranges);
   rt_barrier(cmd, trace_stage);
   f->cmd_write_props(cmd, 1, &full.as, VK_QUERY_TYPE_ACCELERATION_STRUCTURE_COMPACTED_SIZE_KHR,
                      qpool, 0);
   vkt_cmd_submit_wait(ctx, cmd);
   uint64_t compacted = 0;
   VKT_CALL(vkGetQueryPoolResults(dev, qpool, 0, 1, sizeof(compacted), &compacted,
                                  sizeof(compacted),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
   vkDestroyQueryPool(dev, qpool, NULL);
   vkt_check(ctx, compacted > 0 && compacted <= blas_sizes.accelerationStructureSize,
             "compacted BLAS size %llu (built %llu)", (unsigned long long)compacted,
             (unsigned long long)blas_sizes.accelerationStructureSize);
   if (!compacted)
      compacted = blas_sizes.accelerationStructureSize;
   s->compacted_size = compacted;

   /* compacted, then serialized to memory and deserialized: the last copy
    * is the BLAS the instances use */
   struct rt_as compact;
   rt_as_create(ctx, f, VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR, compacted, &compact);
   const VkQueryPoolCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = VK_QUERY_TYPE_ACCELERATION_STRUCTURE_SERIALIZATION_SIZE_KHR,
      .queryCount = 1,
   };
   VKT_CALL(vkCreateQueryPool(dev, &sinfo, NULL, &qpool));
   cmd = vkt_cmd_begin(ctx);
   vkCmdResetQueryPool(cmd, qpool, 0, 1);
   const VkCopyAccelerationStructureInfoKHR copy = {
      .sType = VK_STRUCTURE_TYPE_COPY_ACCELERATION_STRUCTURE_INFO_KHR,
      .src = full.as,
      .dst = compact.as,
      .mode = VK_COPY_ACCELERATION_STRUCTURE_MODE_COMPACT_KHR,
   };
   f->cmd_copy(cmd, &copy);
   rt_barrier(cmd, trace_stage);
   f->cmd_write_props(cmd, 1, &compact.as,
                      VK_QUERY_TYPE_ACCELERATION_STRUCTURE_SERIALIZATION_SIZE_KHR, qpool, 0);
   vkt_cmd_submit_wait(ctx, cmd);
   uint64_t serialized = 0;
   VKT_CALL(vkGetQueryPoolResults(dev, qpool, 0, 1, sizeof(serialized), &serialized,
                                  sizeof(serialized),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
   vkDestroyQueryPool(dev, qpool, NULL);
   rt_as_destroy(ctx, f, &full);
   vkt_check(ctx, serialized > 2 * VK_UUID_SIZE, "serialization size %llu",
             (unsigned long long)serialized);
   if (serialized <= 2 * VK_UUID_SIZE)
      serialized = 4096;

   struct rt_buffer blob;
   rt_buffer_create(ctx, serialized + 256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &blob);
   const VkDeviceAddress blob_addr = rt_align(blob.address, 256);
   const uint8_t *header = (const uint8_t *)blob.map + (blob_addr - blob.address);

   rt_as_create(ctx, f, VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR, compacted, &s->blas);
   VkAccelerationStructureInstanceKHR *instances = s->instances.map;
   for (uint32_t i = 0; i < RT_INSTANCES; i++) {
      VkAccelerationStructureInstanceKHR *in = &instances[i];
      memset(in, 0, sizeof(*in));
      in->transform.matrix[0][0] = 1.0f;
      in->transform.matrix[1][1] = 1.0f;
      in->transform.matrix[2][2] = 1.0f;
      for (uint32_t r = 0; r < 3; r++)
         in->transform.matrix[r][3] = rt_instance_offsets[i][r];
      in->instanceCustomIndex = i;
      in->mask = 0xff;
      in->instanceShaderBindingTableRecordOffset = 0;
      in->flags = VK_GEOMETRY_INSTANCE_TRIANGLE_FACING_CULL_DISABLE_BIT_KHR;
      in->accelerationStructureReference = s->blas.address;
   }
   rt_as_create(ctx, f, VK_ACCELERATION_STRUCTURE_TYPE_TOP_LEVEL_KHR,
                tlas_sizes.accelerationStructureSize, &s->tlas);
   tlas_info.dstAccelerationStructure = s->tlas.as;
   tlas_info.scratchData.deviceAddress = scratch_addr;
   const VkAccelerationStructureBuildRangeInfoKHR tlas_range = { RT_INSTANCES, 0, 0, 0 };
   const VkAccelerationStructureBuildRangeInfoKHR *tlas_ranges[1] = { &tlas_range };

   cmd = vkt_cmd_begin(ctx);
   const VkCopyAccelerationStructureToMemoryInfoKHR to_memory = {
      .sType = VK_STRUCTURE_TYPE_COPY_ACCELERATION_STRUCTURE_TO_MEMORY_INFO_KHR,
      .src = compact.as,
      .dst.deviceAddress = blob_addr,
      .mode = VK_COPY_ACCELERATION_STRUCTURE_MODE_SERIALIZE_KHR,
   };
   f->cmd_serialize(cmd, &to_memory);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR,
                          VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR,
                          VK_ACCESS_TRANSFER_READ_BIT);
   const VkCopyMemoryToAccelerationStructureInfoKHR from_memory = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_ACCELERATION_STRUCTURE_INFO_KHR,
      .src.deviceAddress = blob_addr,
      .dst = s->blas.as,
      .mode = VK_COPY_ACCELERATION_STRUCTURE_MODE_DESERIALIZE_KHR,
   };
   f->cmd_deserialize(cmd, &from_memory);
   rt_barrier(cmd, trace_stage);
   f->cmd_build(cmd, 1, &tlas_info, tlas_ranges);
   rt_barrier(cmd, trace_stage);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_ACCELERATION_STRUCTURE_BUILD_BIT_KHR,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   rt_as_destroy(ctx, f, &compact);

   /* this device can load what it serialized (the header's two UUIDs;
    * lavapipe 25's first one is not its driverUUID, so that is not checked) */
   const VkAccelerationStructureVersionInfoKHR vinfo = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_VERSION_INFO_KHR,
      .pVersionData = header,
   };
   VkAccelerationStructureCompatibilityKHR compat = VK_ACCELERATION_STRUCTURE_COMPATIBILITY_MAX_ENUM_KHR;
   f->compatibility(dev, &vinfo, &compat);
   vkt_check(ctx, compat == VK_ACCELERATION_STRUCTURE_COMPATIBILITY_COMPATIBLE_KHR,
             "compatibility of this device's own serialized BLAS: %d", (int)compat);
   rt_buffer_destroy(ctx, &blob);
}

static void
rt_scene_destroy(struct vkt_context *ctx, const struct rt_fns *f, struct rt_scene *s)
{
   rt_as_destroy(ctx, f, &s->tlas);
   rt_as_destroy(ctx, f, &s->blas);
   rt_buffer_destroy(ctx, &s->scratch);
   rt_buffer_destroy(ctx, &s->instances);
   rt_buffer_destroy(ctx, &s->indices);
   rt_buffer_destroy(ctx, &s->vertices);
}

/* Which triangle of which instance a ray from (x, y, -1) along +z hits
 * first: t and the hit, or -1 (CPU reference; the triangles lie in planes
 * z = const, so the nearest instance whose triangle contains (x, y) wins).
 * *margin: the smallest squared distance to an edge's line seen, to skip
 * rays that graze an edge. */
static int
rt_cpu_hit(float x, float y, uint32_t *instance, uint32_t *prim, float *t, float *margin)
{
   int hit = 0;
   float best = 1e30f;
   *margin = 1e30f;
   for (uint32_t i = 0; i < RT_INSTANCES; i++) {
      for (uint32_t p = 0; p < RT_TRIANGLES; p++) {
         float v[3][2];
         for (uint32_t k = 0; k < 3; k++) {
            v[k][0] = rt_vertices[rt_indices[p * 3 + k]][0] + rt_instance_offsets[i][0];
            v[k][1] = rt_vertices[rt_indices[p * 3 + k]][1] + rt_instance_offsets[i][1];
         }
         float sign = 0.0f;
         int inside = 1;
         for (uint32_t k = 0; k < 3; k++) {
            const float *a = v[k], *b = v[(k + 1) % 3];
            const float ex = b[0] - a[0], ey = b[1] - a[1];
            const float d = ex * (y - a[1]) - ey * (x - a[0]);
            const float d2 = d * d / (ex * ex + ey * ey); /* squared distance */
            if (d2 < *margin)
               *margin = d2;
            if (sign == 0.0f)
               sign = d < 0 ? -1.0f : 1.0f;
            else if ((d < 0 ? -1.0f : 1.0f) != sign)
               inside = 0;
         }
         const float tt = rt_instance_offsets[i][2] + 1.0f;
         if (inside && tt < best) {
            best = tt;
            *instance = i;
            *prim = p;
            hit = 1;
         }
      }
   }
   *t = best;
   return hit;
}

#endif
