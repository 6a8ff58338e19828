/* SPDX-License-Identifier: Apache-2.0
 * Elementwise ops: unary (one op-code switch), Clip with runtime bounds,
 * and binary ops with numpy broadcasting. */
#include "common.h"

/* y[i] = op(x[i]); op is a UOP_* code, alpha/beta its parameters. */
__kernel void unary (__global const float *x, __global float *y, int n,
                     int op, float alpha, float beta)
{
  int i = get_global_id (0);
  if (i < n)
    y[i] = unary_op (x[i], op, alpha, beta);
}

/* Clip whose bounds are one-element tensors (absent bound: has_* = 0). */
__kernel void clip (__global const float *x, __global float *y, int n,
                    __global const float *lo, __global const float *hi,
                    int has_lo, int has_hi)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  float v = x[i];
  if (has_lo)
    v = fmax (v, lo[0]);
  if (has_hi)
    v = fmin (v, hi[0]);
  y[i] = v;
}

/* y = a op b, all three of the same shape. */
__kernel void binary_same (__global const float *a, __global const float *b,
                           __global float *y, int n, int op)
{
  int i = get_global_id (0);
  if (i < n)
    y[i] = binary_op (a[i], b[i], op);
}

/* y = a op b[0] (b a one-element tensor). */
__kernel void binary_scalar (__global const float *a,
                             __global const float *b, __global float *y,
                             int n, int op)
{
  int i = get_global_id (0);
  if (i < n)
    y[i] = binary_op (a[i], b[0], op);
}

/* y = a op b with broadcasting.  p = [ndim, dims of y (ndim), strides of a
 * in y's coordinates (ndim, 0 where broadcast), strides of b (ndim)]. */
__kernel void binary_bcast (__global const float *a, __global const float *b,
                            __global float *y, int n, int op,
                            __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0];
  int rem = i, oa = 0, ob = 0;
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem /= p[1 + d];
    oa += c * p[1 + nd + d];
    ob += c * p[1 + 2 * nd + d];
  }
  y[i] = binary_op (a[oa], b[ob], op);
}
