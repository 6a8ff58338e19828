/* SPDX-License-Identifier: Apache-2.0
 * Convolutions, NCHW float32: general direct, 1x1, 3x3 and depthwise
 * variants, all with fused bias, residual add and activation; and the
 * transposed convolution.  p = [N, C, H, W, M, OH, OW, KH, KW, sh, sw, ph,
 * pw, dh, dw, group]. */
#include "common.h"

inline float conv_acc (__global const float *x, __global const float *w,
                       __global const int *p, int nb, int m, int oh, int ow,
                       const int KH, const int KW)
{
  int C = p[1], H = p[2], W = p[3], M = p[4];
  int group = p[15];
  int cpg = C / group, mpg = M / group, g = m / mpg;
  int iy0 = oh * p[9] - p[11], ix0 = ow * p[10] - p[12];
  int dh = p[13], dw = p[14];
  float acc = 0.0f;
  for (int ic = 0; ic < cpg; ic++) {
    __global const float *xp = x + ((size_t) (nb * C + g * cpg + ic)) * H * W;
    __global const float *wp = w + ((size_t) (m * cpg + ic)) * KH * KW;
    for (int ky = 0; ky < KH; ky++) {
      int iy = iy0 + ky * dh;
      if (iy < 0 || iy >= H)
        continue;
      for (int kx = 0; kx < KW; kx++) {
        int ix = ix0 + kx * dw;
        if (ix >= 0 && ix < W)
          acc = mad (xp[iy * W + ix], wp[ky * KW + kx], acc);
      }
    }
  }
  return acc;
}

inline void conv_store (__global const float *bias,
                        __global const float *res, __global float *y,
                        int has_bias, int has_res, int act, float a, float b,
                        int m, size_t o, float acc)
{
  if (has_bias)
    acc += bias[m];
  if (has_res)
    acc += res[o];
  y[o] = apply_act (acc, act, a, b);
}

/* General direct convolution: one output element per work item; global
 * size (OW, OH, N * M). */
__kernel void conv2d (__global const float *x, __global const float *w,
                      __global const float *bias, __global const float *res,
                      __global float *y, __global const int *p, int has_bias,
                      int has_res, int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int M = p[4], OH = p[5], OW = p[6];
  int nb = nm / M, m = nm % M;
  float acc = conv_acc (x, w, p, nb, m, oh, ow, p[7], p[8]);
  conv_store (bias, res, y, has_bias, has_res, act, a, b, m,
              ((size_t) nm * OH + oh) * OW + ow, acc);
}

/* 3x3 kernels (fixed loop bounds, unrolled). */
__kernel void conv2d_3x3 (__global const float *x, __global const float *w,
                          __global const float *bias,
                          __global const float *res, __global float *y,
                          __global const int *p, int has_bias, int has_res,
                          int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int M = p[4], OH = p[5], OW = p[6];
  int nb = nm / M, m = nm % M;
  float acc = conv_acc (x, w, p, nb, m, oh, ow, 3, 3);
  conv_store (bias, res, y, has_bias, has_res, act, a, b, m,
              ((size_t) nm * OH + oh) * OW + ow, acc);
}

/* 1x1, stride 1, no padding, one group: a per-pixel matrix product;
 * global size (OH * OW, M, N). */
__kernel void conv2d_1x1 (__global const float *x, __global const float *w,
                          __global const float *bias,
                          __global const float *res, __global float *y,
                          __global const int *p, int has_bias, int has_res,
                          int act, float a, float b)
{
  int pix = get_global_id (0), m = get_global_id (1), nb = get_global_id (2);
  int C = p[1], HW = p[2] * p[3], M = p[4];
  __global const float *xp = x + (size_t) nb * C * HW + pix;
  __global const float *wp = w + (size_t) m * C;
  float acc = 0.0f;
  for (int c = 0; c < C; c++)
    acc = mad (xp[(size_t) c * HW], wp[c], acc);
  conv_store (bias, res, y, has_bias, has_res, act, a, b, m,
              ((size_t) nb * M + m) * HW + pix, acc);
}

/* Depthwise (group == C == M): one input channel per output. */
__kernel void conv2d_dw (__global const float *x, __global const float *w,
                         __global const float *bias,
                         __global const float *res, __global float *y,
                         __global const int *p, int has_bias, int has_res,
                         int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int H = p[2], W = p[3], M = p[4], OH = p[5], OW = p[6];
  int KH = p[7], KW = p[8];
  int m = nm % M;
  int iy0 = oh * p[9] - p[11], ix0 = ow * p[10] - p[12];
  __global const float *xp = x + (size_t) nm * H * W;
  __global const float *wp = w + (size_t) m * KH * KW;
  float acc = 0.0f;
  for (int ky = 0; ky < KH; ky++) {
    int iy = iy0 + ky * p[13];
    if (iy < 0 || iy >= H)
      continue;
    for (int kx = 0; kx < KW; kx++) {
      int ix = ix0 + kx * p[14];
      if (ix >= 0 && ix < W)
        acc = mad (xp[iy * W + ix], wp[ky * KW + kx], acc);
    }
  }
  conv_store (bias, res, y, has_bias, has_res, act, a, b, m,
              ((size_t) nm * OH + oh) * OW + ow, acc);
}

/* Transposed convolution as a gather over the inputs that reach each
 * output; w is (C, M / group, KH, KW).  Global size (OW, OH, N * M). */
__kernel void conv_transpose2d (__global const float *x,
                                __global const float *w,
                                __global const float *bias,
                                __global float *y, __global const int *p,
                                int has_bias)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int C = p[1], H = p[2], W = p[3], M = p[4], OH = p[5], OW = p[6];
  int KH = p[7], KW = p[8], sh = p[9], sw = p[10];
  int group = p[15];
  int nb = nm / M, m = nm % M;
  int cpg = C / group, mpg = M / group, g = m / mpg, mg = m - g * mpg;
  float acc = has_bias ? bias[m] : 0.0f;
  for (int ic = 0; ic < cpg; ic++) {
    int c = g * cpg + ic;
    __global const float *xp = x + ((size_t) (nb * C + c)) * H * W;
    __global const float *wp = w + ((size_t) (c * mpg + mg)) * KH * KW;
    for (int ky = 0; ky < KH; ky++) {
      int ty = oh + p[11] - ky * p[13];
      if (ty < 0 || ty % sh)
        continue;
      int iy = ty / sh;
      if (iy >= H)
        continue;
      for (int kx = 0; kx < KW; kx++) {
        int tx = ow + p[12] - kx * p[14];
        if (tx < 0 || tx % sw)
          continue;
        int ix = tx / sw;
        if (ix < W)
          acc = mad (xp[iy * W + ix], wp[ky * KW + kx], acc);
      }
    }
  }
  y[((size_t) nm * OH + oh) * OW + ow] = acc;
}
