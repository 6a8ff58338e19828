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

#endif /* MACE_OPS_BROADCAST_H */
