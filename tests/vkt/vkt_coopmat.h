/*
 * vkt_coopmat: a SPIR-V emitter for one compute shader, a tiled matrix
 * multiply-add with SPV_KHR_cooperative_matrix (D = A x B + C), shared by the
 * test program vkt_coopmat and the benchmark workload `coopmat`. Debian 12's
 * glslang (12.0) does not know GL_KHR_cooperative_matrix, so the words are
 * emitted from C; the opcode and enum numbers are those of the SPIR-V
 * specification (SPIRV-Headers' spirv.core.grammar.json).
 *
 * The shader: set 0, binding 0 = A (M x K), 1 = B (K x N), both fp16; binding
 * 2 = C and 3 = D (M x N), fp16 or fp32; all row-major and tightly packed. One
 * workgroup is one subgroup (local size = subgroup_size); workgroup (x, y)
 * computes rm x rn result tiles of tm x tn, rows from y * rm * tm and columns
 * from x * rn * tn, looping over K in steps of tk. Dispatch
 * (n / (rn * tn), m / (rm * tm), 1); m, n and k must be multiples of the tiles.
 */
#ifndef VKT_COOPMAT_H
#define VKT_COOPMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vkt_coopmat_shader {
   uint32_t m, n, k;       /* matrix sizes */
   uint32_t tm, tn, tk;    /* one cooperative matrix: A is tm x tk, B tk x tn, C tm x tn */
   uint32_t rm, rn;        /* result tiles per workgroup, rows x columns */
   uint32_t subgroup_size; /* local size x */
   bool acc_f32;           /* C and D are fp32 (else fp16) */
};

/* Emits the shader; returns a malloc'd array of *word_count words (the caller
 * frees it), or NULL when the description is invalid or memory runs out. */
uint32_t *
vkt_coopmat_spirv(const struct vkt_coopmat_shader *desc, size_t *word_count);

/* IEEE half precision conversions (round to nearest even; denormals, infinities
 * and NaNs included), for the inputs and the checks. */
uint16_t
vkt_half_from_float(float f);
float
vkt_half_to_float(uint16_t h);

#endif
