/*
 * vkt_coopmat: SPIR-V words of a cooperative-matrix matrix multiply-add (see
 * vkt_coopmat.h for the shader's interface). The module is written in the
 * order SPIR-V requires: capabilities, extensions, memory model, entry point,
 * execution mode, decorations, types/constants/variables, the function.
 * Accumulators live in Function variables (as glslang emits them); the loop
 * over K is a structured loop whose header tests k < K.
 */
#include "vkt_coopmat.h"

#include <stdlib.h>
#include <string.h>

/* SPIR-V numbers (SPIR-V specification, unified1) */
enum {
   SPV_MAGIC = 0x07230203,
   SPV_VERSION_1_3 = 0x00010300,

   OP_EXTENSION = 10,
   OP_MEMORY_MODEL = 14,
   OP_ENTRY_POINT = 15,
   OP_EXECUTION_MODE = 16,
   OP_CAPABILITY = 17,
   OP_TYPE_VOID = 19,
   OP_TYPE_BOOL = 20,
   OP_TYPE_INT = 21,
   OP_TYPE_FLOAT = 22,
   OP_TYPE_VECTOR = 23,
   OP_TYPE_RUNTIME_ARRAY = 29,
   OP_TYPE_STRUCT = 30,
   OP_TYPE_POINTER = 32,
   OP_TYPE_FUNCTION = 33,
   OP_CONSTANT = 43,
   OP_FUNCTION = 54,
   OP_FUNCTION_END = 56,
   OP_VARIABLE = 59,
   OP_LOAD = 61,
   OP_STORE = 62,
   OP_ACCESS_CHAIN = 65,
   OP_DECORATE = 71,
   OP_MEMBER_DECORATE = 72,
   OP_COMPOSITE_EXTRACT = 81,
   OP_IADD = 128,
   OP_IMUL = 132,
   OP_ULESS_THAN = 176,
   OP_LOOP_MERGE = 246,
   OP_LABEL = 248,
   OP_BRANCH = 249,
   OP_BRANCH_CONDITIONAL = 250,
   OP_RETURN = 253,
   OP_TYPE_COOPERATIVE_MATRIX_KHR = 4456,
   OP_COOPERATIVE_MATRIX_LOAD_KHR = 4457,
   OP_COOPERATIVE_MATRIX_STORE_KHR = 4458,
   OP_COOPERATIVE_MATRIX_MUL_ADD_KHR = 4459,

   CAP_SHADER = 1,
   CAP_FLOAT16 = 9,
   CAP_STORAGE_BUFFER_16BIT_ACCESS = 4433,
   CAP_COOPERATIVE_MATRIX_KHR = 6022,

   ADDRESSING_LOGICAL = 0,
   MEMORY_MODEL_GLSL450 = 1,
   EXECUTION_MODEL_GLCOMPUTE = 5,
   EXECUTION_MODE_LOCAL_SIZE = 17,

   DECORATION_BLOCK = 2,
   DECORATION_ARRAY_STRIDE = 6,
   DECORATION_BUILTIN = 11,
   DECORATION_BINDING = 33,
   DECORATION_DESCRIPTOR_SET = 34,
   DECORATION_OFFSET = 35,
   BUILTIN_WORKGROUP_ID = 26,

   STORAGE_INPUT = 1,
   STORAGE_FUNCTION = 7,
   STORAGE_BUFFER = 12,

   SCOPE_SUBGROUP = 3,
   MATRIX_USE_A = 0,
   MATRIX_USE_B = 1,
   MATRIX_USE_ACCUMULATOR = 2,
   MATRIX_LAYOUT_ROW_MAJOR = 0,
};

#define SPV_MAX_TILES 64u
#define SPV_MAX_CONSTANTS 32u

struct spv {
   uint32_t *words;
   size_t count, capacity;
   uint32_t bound; /* next free id */
   bool failed;
   /* u32 constants emitted so far (each value once) */
   uint32_t const_values[SPV_MAX_CONSTANTS];
   uint32_t const_ids[SPV_MAX_CONSTANTS];
   uint32_t const_count;
   uint32_t type_u32;
};

static void
spv_word(struct spv *s, uint32_t w)
{
   if (s->failed)
      return;
   if (s->count == s->capacity) {
      size_t cap = s->capacity ? s->capacity * 2 : 1024;
      uint32_t *grown = realloc(s->words, cap * sizeof(*grown));
      if (!grown) {
         s->failed = true;
         return;
      }
      s->words = grown;
      s->capacity = cap;
   }
   s->words[s->count++] = w;
}

static uint32_t
spv_id(struct spv *s)
{
   return s->bound++;
}

/* one instruction: opcode and its operand words */
static void
spv_inst(struct spv *s, uint32_t opcode, const uint32_t *operands, size_t count)
{
   spv_word(s, (uint32_t)(count + 1) << 16 | opcode);
   for (size_t i = 0; i < count; i++)
      spv_word(s, operands[i]);
}

#define SPV(s, opcode, ...)                                                              \
   spv_inst((s), (opcode), (const uint32_t[]){ __VA_ARGS__ },                          \
            sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* an instruction whose operands are `before`, a literal string, then `after` */
static void
spv_inst_string(struct spv *s, uint32_t opcode, const uint32_t *before, size_t before_count,
                const char *str, const uint32_t *after, size_t after_count)
{
   const size_t len = strlen(str);
   const size_t str_words = len / 4 + 1; /* nul-terminated, zero-padded */
   spv_word(s, (uint32_t)(1 + before_count + str_words + after_count) << 16 | opcode);
   for (size_t i = 0; i < before_count; i++)
      spv_word(s, before[i]);
   for (size_t w = 0; w < str_words; w++) {
      uint32_t word = 0;
      for (size_t b = 0; b < 4; b++) {
         const size_t at = w * 4 + b;
         if (at < len)
            word |= (uint32_t)(uint8_t)str[at] << (8 * b);
      }
      spv_word(s, word);
   }
   for (size_t i = 0; i < after_count; i++)
      spv_word(s, after[i]);
}

/* the id of a u32 constant, emitted at the first use (types section only) */
static uint32_t
spv_const(struct spv *s, uint32_t value)
{
   for (uint32_t i = 0; i < s->const_count; i++) {
      if (s->const_values[i] == value)
         return s->const_ids[i];
   }
   if (s->const_count == SPV_MAX_CONSTANTS) {
      s->failed = true;
      return 0;
   }
   const uint32_t id = spv_id(s);
   SPV(s, OP_CONSTANT, s->type_u32, id, value);
   s->const_values[s->const_count] = value;
   s->const_ids[s->const_count] = id;
   s->const_count++;
   return id;
}

static bool
coopmat_desc_valid(const struct vkt_coopmat_shader *d)
{
   if (!d->tm || !d->tn || !d->tk || !d->rm || !d->rn || !d->subgroup_size)
      return false;
   if (d->rm * d->rn > SPV_MAX_TILES || d->rm > 16 || d->rn > 16)
      return false;
   if (!d->m || !d->n || !d->k || d->m % (d->rm * d->tm) || d->n % (d->rn * d->tn) ||
       d->k % d->tk)
      return false;
   /* every element index fits a u32 */
   return (uint64_t)d->m * d->k < UINT32_MAX && (uint64_t)d->k * d->n < UINT32_MAX &&
          (uint64_t)d->m * d->n < UINT32_MAX;
}

uint32_t *
vkt_coopmat_spirv(const struct vkt_coopmat_shader *d, size_t *word_count)
{
   if (!coopmat_desc_valid(d))
      return NULL;
   struct spv s0 = { .bound = 1 };
   struct spv *s = &s0;
   const uint32_t tiles = d->rm * d->rn;

   /* ids named before their instructions (entry point, decorations) */
   const uint32_t main_fn = spv_id(s);
   const uint32_t wg_id = spv_id(s);
   const uint32_t rt_f16 = spv_id(s), st_f16 = spv_id(s);
   const uint32_t rt_f32 = d->acc_f32 ? spv_id(s) : rt_f16;
   const uint32_t st_f32 = d->acc_f32 ? spv_id(s) : st_f16;
   uint32_t var[4];
   for (uint32_t i = 0; i < 4; i++)
      var[i] = spv_id(s);

   spv_word(s, SPV_MAGIC);
   spv_word(s, SPV_VERSION_1_3);
   spv_word(s, 0); /* generator */
   spv_word(s, 0); /* bound: set at the end */
   spv_word(s, 0);

   SPV(s, OP_CAPABILITY, CAP_SHADER);
   SPV(s, OP_CAPABILITY, CAP_FLOAT16);
   SPV(s, OP_CAPABILITY, CAP_STORAGE_BUFFER_16BIT_ACCESS);
   SPV(s, OP_CAPABILITY, CAP_COOPERATIVE_MATRIX_KHR);
   spv_inst_string(s, OP_EXTENSION, NULL, 0, "SPV_KHR_16bit_storage", NULL, 0);
   spv_inst_string(s, OP_EXTENSION, NULL, 0, "SPV_KHR_cooperative_matrix", NULL, 0);
   SPV(s, OP_MEMORY_MODEL, ADDRESSING_LOGICAL, MEMORY_MODEL_GLSL450);
   spv_inst_string(s, OP_ENTRY_POINT, (const uint32_t[]){ EXECUTION_MODEL_GLCOMPUTE, main_fn },
                   2, "main", &wg_id, 1);
   SPV(s, OP_EXECUTION_MODE, main_fn, EXECUTION_MODE_LOCAL_SIZE, d->subgroup_size, 1, 1);

   /* decorations */
   SPV(s, OP_DECORATE, wg_id, DECORATION_BUILTIN, BUILTIN_WORKGROUP_ID);
   SPV(s, OP_DECORATE, rt_f16, DECORATION_ARRAY_STRIDE, 2);
   SPV(s, OP_DECORATE, st_f16, DECORATION_BLOCK);
   SPV(s, OP_MEMBER_DECORATE, st_f16, 0, DECORATION_OFFSET, 0);
   if (d->acc_f32) {
      SPV(s, OP_DECORATE, rt_f32, DECORATION_ARRAY_STRIDE, 4);
      SPV(s, OP_DECORATE, st_f32, DECORATION_BLOCK);
      SPV(s, OP_MEMBER_DECORATE, st_f32, 0, DECORATION_OFFSET, 0);
   }
   for (uint32_t i = 0; i < 4; i++) {
      SPV(s, OP_DECORATE, var[i], DECORATION_DESCRIPTOR_SET, 0);
      SPV(s, OP_DECORATE, var[i], DECORATION_BINDING, i);
   }

   /* types, constants, variables */
   const uint32_t t_void = spv_id(s);
   SPV(s, OP_TYPE_VOID, t_void);
   const uint32_t t_fn = spv_id(s);
   SPV(s, OP_TYPE_FUNCTION, t_fn, t_void);
   const uint32_t t_bool = spv_id(s);
   SPV(s, OP_TYPE_BOOL, t_bool);
   const uint32_t t_u32 = spv_id(s);
   SPV(s, OP_TYPE_INT, t_u32, 32, 0);
   s->type_u32 = t_u32;
   const uint32_t t_f16 = spv_id(s);
   SPV(s, OP_TYPE_FLOAT, t_f16, 16);
   uint32_t t_acc = t_f16;
   if (d->acc_f32) {
      t_acc = spv_id(s);
      SPV(s, OP_TYPE_FLOAT, t_acc, 32);
   }
   const uint32_t t_v3u32 = spv_id(s);
   SPV(s, OP_TYPE_VECTOR, t_v3u32, t_u32, 3);
   const uint32_t t_in_v3u32 = spv_id(s);
   SPV(s, OP_TYPE_POINTER, t_in_v3u32, STORAGE_INPUT, t_v3u32);
   SPV(s, OP_VARIABLE, t_in_v3u32, wg_id, STORAGE_INPUT);

   SPV(s, OP_TYPE_RUNTIME_ARRAY, rt_f16, t_f16);
   SPV(s, OP_TYPE_STRUCT, st_f16, rt_f16);
   const uint32_t t_sb_st_f16 = spv_id(s);
   SPV(s, OP_TYPE_POINTER, t_sb_st_f16, STORAGE_BUFFER, st_f16);
   const uint32_t t_sb_f16 = spv_id(s);
   SPV(s, OP_TYPE_POINTER, t_sb_f16, STORAGE_BUFFER, t_f16);
   uint32_t t_sb_st_acc = t_sb_st_f16, t_sb_acc = t_sb_f16;
   if (d->acc_f32) {
      SPV(s, OP_TYPE_RUNTIME_ARRAY, rt_f32, t_acc);
      SPV(s, OP_TYPE_STRUCT, st_f32, rt_f32);
      t_sb_st_acc = spv_id(s);
      SPV(s, OP_TYPE_POINTER, t_sb_st_acc, STORAGE_BUFFER, st_f32);
      t_sb_acc = spv_id(s);
      SPV(s, OP_TYPE_POINTER, t_sb_acc, STORAGE_BUFFER, t_acc);
   }
   SPV(s, OP_VARIABLE, t_sb_st_f16, var[0], STORAGE_BUFFER);
   SPV(s, OP_VARIABLE, t_sb_st_f16, var[1], STORAGE_BUFFER);
   SPV(s, OP_VARIABLE, t_sb_st_acc, var[2], STORAGE_BUFFER);
   SPV(s, OP_VARIABLE, t_sb_st_acc, var[3], STORAGE_BUFFER);

   const uint32_t c0 = spv_const(s, 0);
   const uint32_t c_row_major = spv_const(s, MATRIX_LAYOUT_ROW_MAJOR);
   const uint32_t c_scope = spv_const(s, SCOPE_SUBGROUP);
   const uint32_t c_k = spv_const(s, d->k);
   const uint32_t c_n = spv_const(s, d->n);
   const uint32_t c_tk = spv_const(s, d->tk);
   const uint32_t c_wg_rows = spv_const(s, d->rm * d->tm);
   const uint32_t c_wg_cols = spv_const(s, d->rn * d->tn);
   uint32_t c_row_off[16], c_col_off[16];
   for (uint32_t i = 0; i < d->rm; i++)
      c_row_off[i] = spv_const(s, i * d->tm);
   for (uint32_t j = 0; j < d->rn; j++)
      c_col_off[j] = spv_const(s, j * d->tn);

   const uint32_t t_mat_a = spv_id(s);
   SPV(s, OP_TYPE_COOPERATIVE_MATRIX_KHR, t_mat_a, t_f16, c_scope, spv_const(s, d->tm),
       spv_const(s, d->tk), spv_const(s, MATRIX_USE_A));
   const uint32_t t_mat_b = spv_id(s);
   SPV(s, OP_TYPE_COOPERATIVE_MATRIX_KHR, t_mat_b, t_f16, c_scope, spv_const(s, d->tk),
       spv_const(s, d->tn), spv_const(s, MATRIX_USE_B));
   const uint32_t t_mat_c = spv_id(s);
   SPV(s, OP_TYPE_COOPERATIVE_MATRIX_KHR, t_mat_c, t_acc, c_scope, spv_const(s, d->tm),
       spv_const(s, d->tn), spv_const(s, MATRIX_USE_ACCUMULATOR));
   const uint32_t t_fn_mat_c = spv_id(s);
   SPV(s, OP_TYPE_POINTER, t_fn_mat_c, STORAGE_FUNCTION, t_mat_c);
   const uint32_t t_fn_u32 = spv_id(s);
   SPV(s, OP_TYPE_POINTER, t_fn_u32, STORAGE_FUNCTION, t_u32);

   /* the function; entry block: variables, tile origins, C loaded */
   const uint32_t l_entry = spv_id(s), l_header = spv_id(s), l_body = spv_id(s);
   const uint32_t l_continue = spv_id(s), l_merge = spv_id(s);
   SPV(s, OP_FUNCTION, t_void, main_fn, 0, t_fn);
   SPV(s, OP_LABEL, l_entry);
   uint32_t acc[SPV_MAX_TILES];
   for (uint32_t t = 0; t < tiles; t++) {
      acc[t] = spv_id(s);
      SPV(s, OP_VARIABLE, t_fn_mat_c, acc[t], STORAGE_FUNCTION);
   }
   const uint32_t k_var = spv_id(s);
   SPV(s, OP_VARIABLE, t_fn_u32, k_var, STORAGE_FUNCTION);

   const uint32_t wg = spv_id(s), wg_x = spv_id(s), wg_y = spv_id(s);
   SPV(s, OP_LOAD, t_v3u32, wg, wg_id);
   SPV(s, OP_COMPOSITE_EXTRACT, t_u32, wg_x, wg, 0);
   SPV(s, OP_COMPOSITE_EXTRACT, t_u32, wg_y, wg, 1);
   const uint32_t row0 = spv_id(s), col0 = spv_id(s);
   SPV(s, OP_IMUL, t_u32, row0, wg_y, c_wg_rows);
   SPV(s, OP_IMUL, t_u32, col0, wg_x, c_wg_cols);
   uint32_t row[16], col[16];
   for (uint32_t i = 0; i < d->rm; i++) {
      row[i] = spv_id(s);
      SPV(s, OP_IADD, t_u32, row[i], row0, c_row_off[i]);
   }
   for (uint32_t j = 0; j < d->rn; j++) {
      col[j] = spv_id(s);
      SPV(s, OP_IADD, t_u32, col[j], col0, c_col_off[j]);
   }
   /* element index of each result tile's first element: row * N + col */
   uint32_t c_index[SPV_MAX_TILES];
   for (uint32_t i = 0; i < d->rm; i++) {
      const uint32_t row_start = spv_id(s);
      SPV(s, OP_IMUL, t_u32, row_start, row[i], c_n);
      for (uint32_t j = 0; j < d->rn; j++) {
         const uint32_t t = i * d->rn + j;
         c_index[t] = spv_id(s);
         SPV(s, OP_IADD, t_u32, c_index[t], row_start, col[j]);
         const uint32_t ptr = spv_id(s), value = spv_id(s);
         SPV(s, OP_ACCESS_CHAIN, t_sb_acc, ptr, var[2], c0, c_index[t]);
         SPV(s, OP_COOPERATIVE_MATRIX_LOAD_KHR, t_mat_c, value, ptr, c_row_major, c_n);
         SPV(s, OP_STORE, acc[t], value);
      }
   }
   SPV(s, OP_STORE, k_var, c0);
   SPV(s, OP_BRANCH, l_header);

   /* loop header: k < K */
   SPV(s, OP_LABEL, l_header);
   const uint32_t k = spv_id(s), more = spv_id(s);
   SPV(s, OP_LOAD, t_u32, k, k_var);
   SPV(s, OP_ULESS_THAN, t_bool, more, k, c_k);
   SPV(s, OP_LOOP_MERGE, l_merge, l_continue, 0);
   SPV(s, OP_BRANCH_CONDITIONAL, more, l_body, l_merge);

   /* body: A tiles at (row_i, k), B tiles at (k, col_j), acc += A x B */
   SPV(s, OP_LABEL, l_body);
   uint32_t a[16], b[16];
   for (uint32_t i = 0; i < d->rm; i++) {
      const uint32_t row_start = spv_id(s), index = spv_id(s), ptr = spv_id(s);
      SPV(s, OP_IMUL, t_u32, row_start, row[i], c_k);
      SPV(s, OP_IADD, t_u32, index, row_start, k);
      SPV(s, OP_ACCESS_CHAIN, t_sb_f16, ptr, var[0], c0, index);
      a[i] = spv_id(s);
      SPV(s, OP_COOPERATIVE_MATRIX_LOAD_KHR, t_mat_a, a[i], ptr, c_row_major, c_k);
   }
   const uint32_t k_row_start = spv_id(s);
   SPV(s, OP_IMUL, t_u32, k_row_start, k, c_n);
   for (uint32_t j = 0; j < d->rn; j++) {
      const uint32_t index = spv_id(s), ptr = spv_id(s);
      SPV(s, OP_IADD, t_u32, index, k_row_start, col[j]);
      SPV(s, OP_ACCESS_CHAIN, t_sb_f16, ptr, var[1], c0, index);
      b[j] = spv_id(s);
      SPV(s, OP_COOPERATIVE_MATRIX_LOAD_KHR, t_mat_b, b[j], ptr, c_row_major, c_n);
   }
   for (uint32_t i = 0; i < d->rm; i++) {
      for (uint32_t j = 0; j < d->rn; j++) {
         const uint32_t t = i * d->rn + j;
         const uint32_t old = spv_id(s), sum = spv_id(s);
         SPV(s, OP_LOAD, t_mat_c, old, acc[t]);
         SPV(s, OP_COOPERATIVE_MATRIX_MUL_ADD_KHR, t_mat_c, sum, a[i], b[j], old);
         SPV(s, OP_STORE, acc[t], sum);
      }
   }
   SPV(s, OP_BRANCH, l_continue);

   /* continue: k += tk */
   SPV(s, OP_LABEL, l_continue);
   const uint32_t k_next = spv_id(s);
   SPV(s, OP_IADD, t_u32, k_next, k, c_tk);
   SPV(s, OP_STORE, k_var, k_next);
   SPV(s, OP_BRANCH, l_header);

   /* merge: D tiles stored */
   SPV(s, OP_LABEL, l_merge);
   for (uint32_t t = 0; t < tiles; t++) {
      const uint32_t ptr = spv_id(s), value = spv_id(s);
      SPV(s, OP_ACCESS_CHAIN, t_sb_acc, ptr, var[3], c0, c_index[t]);
      SPV(s, OP_LOAD, t_mat_c, value, acc[t]);
      SPV(s, OP_COOPERATIVE_MATRIX_STORE_KHR, ptr, value, c_row_major, c_n);
   }
   SPV(s, OP_RETURN);
   spv_inst(s, OP_FUNCTION_END, NULL, 0);

   if (s->failed) {
      free(s->words);
      return NULL;
   }
   s->words[3] = s->bound;
   *word_count = s->count;
   return s->words;
}

static uint32_t
float_bits(float f)
{
   uint32_t u;
   memcpy(&u, &f, sizeof(u));
   return u;
}

static float
bits_float(uint32_t u)
{
   float f;
   memcpy(&f, &u, sizeof(f));
   return f;
}

uint16_t
vkt_half_from_float(float f)
{
   const uint32_t x = float_bits(f);
   const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
   const uint32_t abs = x & 0x7fffffffu;
   if (abs > 0x7f800000u)
      return sign | 0x7e00; /* NaN */
   if (abs >= 0x477ff000u)
      return sign | 0x7c00; /* 65520 and above round to infinity */
   if (abs < 0x38800000u) {
      /* below 2^-14: a half denormal, round(|f| * 2^24) units of 2^-24 */
      const float units = bits_float(abs) * 16777216.0f;
      uint32_t n = (uint32_t)units;
      const float frac = units - (float)n;
      if (frac > 0.5f || (frac == 0.5f && (n & 1)))
         n++;
      return sign | (uint16_t)n;
   }
   const uint32_t mant = abs & 0x7fffffu;
   uint32_t h = ((abs >> 23) - 127 + 15) << 10 | mant >> 13;
   const uint32_t rest = mant & 0x1fffu;
   if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
      h++; /* a carry into the exponent is the correct rounding */
   return sign | (uint16_t)h;
}

float
vkt_half_to_float(uint16_t h)
{
   const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
   const uint32_t exp = (h >> 10) & 0x1f;
   const uint32_t mant = h & 0x3ff;
   if (exp == 0) {
      const float v = (float)mant * (1.0f / 16777216.0f);
      return sign ? -v : v;
   }
   if (exp == 31)
      return bits_float(sign | 0x7f800000u | mant << 13);
   return bits_float(sign | (exp - 15 + 127) << 23 | mant << 13);
}
