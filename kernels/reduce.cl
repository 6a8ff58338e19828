/* SPDX-License-Identifier: Apache-2.0
 * Reductions over any set of axes (ReduceSum, ReduceMean, ReduceMax,
 * ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
 * ReduceLogSumExp, ReduceSumSquare). */
#include "common.h"

/* One work item per output element.  p = [nk, kept dims (nk), their input
 * strides (nk), nr, reduced dims (nr), their input strides (nr)]; op is a
 * ROP_* code. */
__kernel void reduce (__global const float *x, __global float *y, int n,
                      int op, __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nk = p[0];
  int base = 0, rem = i;
  for (int d = nk - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem /= p[1 + d];
    base += c * p[1 + nk + d];
  }
  __global const int *r = p + 1 + 2 * nk;
  int nr = r[0];
  int count = 1;
  for (int d = 0; d < nr; d++)
    count *= r[1 + d];
  float mx = -INFINITY;
  if (op == ROP_LOGSUMEXP) {
    for (int j = 0; j < count; j++) {
      int rj = j, off = base;
      for (int d = nr - 1; d >= 0; d--) {
        off += (rj % r[1 + d]) * r[1 + nr + d];
        rj /= r[1 + d];
      }
      mx = fmax (mx, x[off]);
    }
    if (isinf (mx))
      mx = 0.0f;
  }
  float acc;
  switch (op) {
    case ROP_MAX: acc = -INFINITY; break;
    case ROP_MIN: acc = INFINITY; break;
    case ROP_PROD: acc = 1.0f; break;
    default: acc = 0.0f; break;
  }
  for (int j = 0; j < count; j++) {
    int rj = j, off = base;
    for (int d = nr - 1; d >= 0; d--) {
      off += (rj % r[1 + d]) * r[1 + nr + d];
      rj /= r[1 + d];
    }
    float v = x[off];
    switch (op) {
      case ROP_MAX: acc = fmax (acc, v); break;
      case ROP_MIN: acc = fmin (acc, v); break;
      case ROP_PROD: acc *= v; break;
      case ROP_L1: acc += fabs (v); break;
      case ROP_L2:
      case ROP_SUMSQUARE: acc += v * v; break;
      case ROP_LOGSUMEXP: acc += exp (v - mx); break;
      default: acc += v; break;
    }
  }
  switch (op) {
    case ROP_MEAN: acc /= (float) count; break;
    case ROP_L2: acc = sqrt (acc); break;
    case ROP_LOGSUM: acc = log (acc); break;
    case ROP_LOGSUMEXP: acc = log (acc) + mx; break;
    default: break;
  }
  y[i] = acc;
}

/* ArgMax (is_max) / ArgMin along one axis of a tensor viewed as (outer,
 * len, inner); ties go to the first index, or the last with
 * select_last.  Global size (inner, outer); y is int64. */
__kernel void argreduce (__global const float *x, __global long *y, int len,
                         int inner, int is_max, int select_last)
{
  int in = get_global_id (0), out = get_global_id (1);
  size_t base = (size_t) out * len * inner + in;
  float best = x[base];
  int arg = 0;
  for (int j = 1; j < len; j++) {
    float v = x[base + (size_t) j * inner];
    bool better = is_max ? (select_last ? v >= best : v > best)
                         : (select_last ? v <= best : v < best);
    if (better) {
      best = v;
      arg = j;
    }
  }
  y[(size_t) out * inner + in] = arg;
}
