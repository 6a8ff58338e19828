/* SPDX-License-Identifier: Apache-2.0
 * Data movement: strided copies (Transpose, Slice, Concat, Split,
 * DepthToSpace, SpaceToDepth, Expand), Pad and Tile. */
#include "common.h"

/* Strided copy over an index space of n elements.  p = [ndim, dims (ndim),
 * source strides (ndim), destination strides (ndim), source offset,
 * destination offset]; strides may be negative or zero. */
__kernel void copy_strided (__global const float *x, __global float *y,
                            int n, __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0];
  int rem = i;
  int so = p[1 + 3 * nd], dst = p[2 + 3 * nd];
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem /= p[1 + d];
    so += c * p[1 + nd + d];
    dst += c * p[1 + 2 * nd + d];
  }
  y[dst] = x[so];
}

/* Pad: p = [ndim, output dims (ndim), input dims (ndim), leading pads
 * (ndim, may be negative)]; mode is a PAD_* code. */
__kernel void pad (__global const float *x, __global float *y, int n,
                   int mode, float value, __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0];
  int rem = i, off = 0, stride = 1;
  bool outside = false;
  for (int d = nd - 1; d >= 0; d--) {
    int od = p[1 + d], id = p[1 + nd + d], pb = p[1 + 2 * nd + d];
    int c = rem % od - pb;
    rem /= od;
    if (c < 0 || c >= id) {
      if (mode == PAD_CONSTANT || id == 0) {
        outside = true;
      } else if (mode == PAD_EDGE) {
        c = c < 0 ? 0 : id - 1;
      } else if (mode == PAD_WRAP) {
        c = ((c % id) + id) % id;
      } else { /* reflect */
        if (id == 1) {
          c = 0;
        } else {
          int period = 2 * (id - 1);
          c = ((c % period) + period) % period;
          if (c >= id)
            c = period - c;
        }
      }
    }
    off += c * stride;
    stride *= id;
  }
  y[i] = outside ? value : x[off];
}

/* Tile: y[c] = x[c mod input dims].  p = [ndim, output dims, input dims]. */
__kernel void tile (__global const float *x, __global float *y, int n,
                    __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0];
  int rem = i, off = 0, stride = 1;
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem /= p[1 + d];
    off += (c % p[1 + nd + d]) * stride;
    stride *= p[1 + nd + d];
  }
  y[i] = x[off];
}

/* Gather along an axis: y viewed as (outer, nidx, inner), x as (outer,
 * axis_dim, inner); negative indices count from the end. */
__kernel void gather (__global const float *x, __global const long *idx,
                      __global float *y, int n, int nidx, int inner,
                      int axis_dim)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int in = i % inner, j = (i / inner) % nidx, o = i / (inner * nidx);
  long k = idx[j];
  if (k < 0)
    k += axis_dim;
  k = clamp (k, 0L, (long) axis_dim - 1);
  y[i] = x[((size_t) o * axis_dim + k) * inner + in];
}

/* GatherElements: p = [ndim, index dims (ndim), data strides (ndim),
 * axis, axis dim]. */
__kernel void gather_elements (__global const float *x,
                               __global const long *idx, __global float *y,
                               int n, __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int nd = p[0], axis = p[1 + 2 * nd], adim = p[2 + 2 * nd];
  int rem = i, off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    int c = rem % p[1 + d];
    rem /= p[1 + d];
    if (d == axis) {
      long k = idx[i];
      if (k < 0)
        k += adim;
      c = (int) clamp (k, 0L, (long) adim - 1);
    }
    off += c * p[1 + nd + d];
  }
  y[i] = x[off];
}
