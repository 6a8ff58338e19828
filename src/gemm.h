/* SPDX-License-Identifier: Apache-2.0
 * Single-precision GEMM for the CPU backend: packed panels, a register
 * blocked micro-kernel chosen at run time (AVX-512, AVX2+FMA or portable
 * C) and a fused epilogue (bias, residual, activation).  Row-major.
 *
 * Packed A holds ceil(M/MR) panels of K x MR (alpha folded in, rows past M
 * zero); packed B holds ceil(N/NR) panels of K x NR (columns past N zero).
 * MR and NR depend on the kernel selected for this CPU, so packed data is
 * only valid inside one process. */
#ifndef MACE_GEMM_H
#define MACE_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* What happens to a tile of C after the product: c = act(c + bias[row] +
 * res[row][col]).  Any pointer may be NULL. */
typedef struct {
  const float *bias; /* one per row of C */
  const float *res;  /* same layout as C with row stride ldr */
  int64_t ldr;
  MaceActivation act;
  float act_alpha, act_beta;
} MaceEpilogue;

/* Kernel selection: 0 = best for this CPU, 1 = portable C, 2 = AVX2+FMA,
 * 3 = AVX-512.  For tests; call before anything is packed.  Returns the
 * kernel now in use (an unavailable one falls back to the best). */
int mace_gemm_set_kernel (int which);
const char *mace_gemm_kernel_name (void);
int mace_gemm_mr (void);
int mace_gemm_nr (void);

/* Floats needed for packed A / packed B. */
size_t mace_gemm_packed_a_size (int64_t M, int64_t K);
size_t mace_gemm_packed_b_size (int64_t K, int64_t N);
/* A is M x K (trans: stored K x M); element (i,k) scaled by alpha. */
void mace_gemm_pack_a (float *dst, const float *A, int64_t lda, bool trans,
                       int64_t M, int64_t K, float alpha);
/* B is K x N (trans: stored N x K).  Packs panels [p0, p1). */
void mace_gemm_pack_b (float *dst, const float *B, int64_t ldb, bool trans,
                       int64_t K, int64_t N, int64_t p0, int64_t p1);

/* Serial core: C (M x N, row stride ldc) = pa * pb, or C += pa * pb when
 * accumulate, then the epilogue (ep may be NULL).  pb holds the panels of
 * these N columns only. */
void mace_gemm_packed (int64_t M, int64_t N, int64_t K, const float *pa,
                       const float *pb, float *C, int64_t ldc, bool accumulate,
                       const MaceEpilogue *ep);

/* Same with B (K x N, row stride ldb) read in place, unpacked; returns
 * false (and does nothing) when the kernel in use cannot do that. */
bool mace_gemm_direct_b (int64_t M, int64_t N, int64_t K, const float *pa,
                         const float *B, int64_t ldb, float *C, int64_t ldc,
                         const MaceEpilogue *ep);

/* Same with row k of B starting at B + boff[k] (any layout, e.g. shifted
 * rows of an input image: convolution without im2col).  Returns false
 * when the kernel in use cannot do that (see mace_gemm_has_indirect). */
bool mace_gemm_has_indirect (void);
bool mace_gemm_indirect_b (int64_t M, int64_t N, int64_t K, const float *pa,
                           const float *B, const int64_t *boff, float *C,
                           int64_t ldc, const MaceEpilogue *ep);

/* C = alpha * op(A) * op(B) + beta * C, then the epilogue, in parallel on
 * pool (may be NULL).  packed_a / packed_b, when not NULL, replace A / B
 * (packed_a must have been packed with this alpha).  Returns false when
 * out of memory. */
bool mace_sgemm (MaceThreadPool *pool, bool trans_a, bool trans_b, int64_t M,
                 int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                 const float *B, int64_t ldb, float beta, float *C, int64_t ldc,
                 const float *packed_a, const float *packed_b,
                 const MaceEpilogue *ep);

/* Applies the epilogue to rows x cols of C. */
void mace_epilogue_apply (float *C, int64_t ldc, int64_t rows, int64_t cols,
                          const MaceEpilogue *ep);

/* Per-thread scratch memory that lives until the thread exits; slot 0..3
 * are independent buffers.  NULL when out of memory. */
void *mace_scratch (int slot, size_t bytes);

#endif /* MACE_GEMM_H */
