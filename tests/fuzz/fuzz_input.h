/*
 * Reading a fuzz input: little-endian integers, short at the end (missing
 * bytes read as 0). Shared by the fuzz targets that interpret their input
 * as a program (fuzz_ring_play.h, fuzz_vmm.c).
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_input {
   const uint8_t *p;
   size_t left;
};

static inline uint32_t
fuzz_u32(struct fuzz_input *in)
{
   uint32_t v = 0;
   const size_t n = in->left < 4 ? in->left : 4;
   memcpy(&v, in->p, n);
   in->p += n;
   in->left -= n;
   return v;
}

static inline uint8_t
fuzz_u8(struct fuzz_input *in)
{
   if (!in->left)
      return 0;
   in->left--;
   return *in->p++;
}

#endif
