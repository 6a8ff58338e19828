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

/* Comparisons of float tensors with broadcasting into a bool (uchar)
 * tensor; p as for binary_bcast; op: 0 ==, 1 <, 2 >, 3 <=, 4 >=. */
__kernel void compare_bcast (__global const float *a, __global const float *b,
                             __global uchar *y, int n, int op,
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
  float x = a[oa], z = b[ob];
  bool r;
  switch (op) {
    case 0: r = x == z; break;
    case 1: r = x < z; break;
    case 2: r = x > z; break;
    case 3: r = x <= z; break;
    default: r = x >= z; break;
  }
  y[i] = r ? 1 : 0;
}

/* IsNaN (mode 0) and IsInf (mode 1: both signs, 2: +inf, 3: -inf). */
__kernel void isnan_isinf (__global const float *x, __global uchar *y, int n,
                           int mode)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  float v = x[i];
  bool r = mode == 0   ? isnan (v)
           : mode == 1 ? isinf (v)
           : mode == 2 ? (isinf (v) && v > 0.0f)
                       : (isinf (v) && v < 0.0f);
  y[i] = r ? 1 : 0;
}

/* Where: y = c ? a : b with broadcasting; p = [ndim, dims of y, strides of
 * c, strides of a, strides of b]. */
__kernel void where_bcast (__global const uchar *c, __global const float *a,
                           __global const float *b, __global float *y, int n,
                           __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0];
  int rem = i, oc = 0, oa = 0, ob = 0;
  for (int d = nd - 1; d >= 0; d--) {
    int k = rem % p[1 + d];
    rem /= p[1 + d];
    oc += k * p[1 + nd + d];
    oa += k * p[1 + 2 * nd + d];
    ob += k * p[1 + 3 * nd + d];
  }
  y[i] = c[oc] ? a[oa] : b[ob];
}
