/* SPDX-License-Identifier: Apache-2.0
 * Helpers shared by the elementwise and activation ops (implemented in
 * elementwise.c): a numpy broadcasting loop that hands contiguous runs to
 * a typed kernel, float16 / bfloat16 conversion, and running an op on
 * float32 copies of its half-precision tensors. */
#ifndef MACE_OPS_BROADCAST_H
#define MACE_OPS_BROADCAST_H

#include <string.h>

#include "internal.h"

#define MACE_BCAST_MAX_IN 3

/* A kernel over one contiguous run of n output elements.  p[0] is the
 * output, p[1..] the inputs at the start of the run; s[k] is the stride of
 * operand k inside the run in elements: 1 (contiguous) or 0 (the same
 * element repeated).  s[0] is always 1.  param is passed through. */
typedef void (*MaceBcastFn) (char *const *p, const int64_t *s, int64_t n,
                             const void *param);

/* Computes out (already shaped and allocated) from n_in inputs that
 * broadcast to its shape: dimensions are collapsed, the innermost one is
 * handed to fn in runs, the runs are spread over the pool. */
void mace_bcast_run (MaceThreadPool *pool, MaceTensor *out, int n_in,
                     MaceTensor *const *in, MaceBcastFn fn, const void *param);

/* Runs `run` on float32 copies of every float16 / bfloat16 input and
 * output of ctx, converting the outputs back afterwards. */
MaceStatus mace_run_via_f32 (MaceOpCtx *ctx, MaceStatus (*run) (MaceOpCtx *));

static inline bool
mace_dtype_is_half (MaceDataType dt)
{
  return dt == MACE_DTYPE_FLOAT16 || dt == MACE_DTYPE_BFLOAT16;
}

static inline float
mace_half_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        exp--;
      }
      man &= 0x3ff;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Round to nearest even; overflow gives infinity, NaN stays NaN. */
static inline uint16_t
mace_f32_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000)
    return (uint16_t)(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
  if (ax >= 0x477ff000) /* rounds to >= 65520: infinity */
    return (uint16_t)(sign | 0x7c00);
  if (ax < 0x38800000) { /* below the smallest normal half: subnormal */
    if (ax < 0x33000000) /* below half of the smallest subnormal */
      return (uint16_t)sign;
    uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1)))
      r++;
    return (uint16_t)(sign | r);
  }
  uint32_t r = ax - 0x38000000; /* rebias 127 -> 15 (in place) */
  uint32_t h = r >> 13, rem = r & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    h++;
  return (uint16_t)(sign | h);
}

static inline float
mace_bf16_to_f32 (uint16_t h)
{
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Round to nearest even; NaN stays NaN. */
static inline uint16_t
mace_f32_to_bf16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

#endif /* MACE_OPS_BROADCAST_H */
