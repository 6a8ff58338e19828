/* SPDX-License-Identifier: Apache-2.0
 * Matrix products for Gemm and MatMul: Y[b] = alpha * A[b] x B[b] + beta
 * * C with arbitrary strides (transposes and broadcast batches are just
 * strides).  p = [M, N, K, A row stride, A col stride, B row stride, B col
 * stride, C row stride, C col stride, batches, A offsets (batches), B
 * offsets (batches)]. */
#include "common.h"

#define TS 16

/* 16x16 tiles through local memory; local size must be (16, 16, 1),
 * global size (N, M, batches) rounded up to 16. */
__kernel __attribute__ ((reqd_work_group_size (TS, TS, 1)))
void matmul_tiled (__global const float *A, __global const float *B,
                   __global const float *Cm, __global float *Y,
                   __global const int *p, float alpha, float beta,
                   int has_c)
{
  __local float As[TS][TS];
  __local float Bs[TS][TS + 1];
  int M = p[0], N = p[1], K = p[2];
  int n = get_global_id (0), m = get_global_id (1), b = get_global_id (2);
  int tx = get_local_id (0), ty = get_local_id (1);
  int nb = p[9];
  __global const float *a = A + p[10 + b];
  __global const float *bp = B + p[10 + nb + b];
  int m0 = get_group_id (1) * TS, n0 = get_group_id (0) * TS;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TS) {
    int am = m0 + ty, ak = k0 + tx;
    As[ty][tx] = am < M && ak < K ? a[am * p[3] + ak * p[4]] : 0.0f;
    int bk = k0 + ty, bn = n0 + tx;
    Bs[ty][tx] = bk < K && bn < N ? bp[bk * p[5] + bn * p[6]] : 0.0f;
    barrier (CLK_LOCAL_MEM_FENCE);
    for (int k = 0; k < TS; k++)
      acc = mad (As[ty][k], Bs[k][tx], acc);
    barrier (CLK_LOCAL_MEM_FENCE);
  }
  if (m < M && n < N) {
    float v = alpha * acc;
    if (has_c)
      v += beta * Cm[m * p[7] + n * p[8]];
    Y[((size_t) b * M + m) * N + n] = v;
  }
}

/* One output per work item, no local memory (small or skinny products);
 * global size (N, M, batches). */
__kernel void matmul_naive (__global const float *A, __global const float *B,
                            __global const float *Cm, __global float *Y,
                            __global const int *p, float alpha, float beta,
                            int has_c)
{
  int M = p[0], N = p[1], K = p[2];
  int n = get_global_id (0), m = get_global_id (1), b = get_global_id (2);
  int nb = p[9];
  __global const float *a = A + p[10 + b] + m * p[3];
  __global const float *bp = B + p[10 + nb + b] + n * p[6];
  float acc = 0.0f;
  for (int k = 0; k < K; k++)
    acc = mad (a[k * p[4]], bp[k * p[5]], acc);
  float v = alpha * acc;
  if (has_c)
    v += beta * Cm[m * p[7] + n * p[8]];
  Y[((size_t) b * M + m) * N + n] = v;
}
