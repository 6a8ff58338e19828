/* SPDX-License-Identifier: Apache-2.0
 * Convolutions, float32: general direct, 1x1, 3x3 and depthwise variants
 * and depthwise + 1x1 in one pass, all with fused bias, residual add and
 * activation; and the transposed convolution.  p = [N, C, H, W, M, OH, OW,
 * KH, KW, sh, sw, ph, pw, dh, dw, group, then (not for the transposed
 * convolution) the layouts: p[16..19] strides of x (N, C, H, W) and
 * p[20..23] of y, in elements (NCHW, or NHWC where the backend folded a
 * Transpose into the convolution); p[24] residual pooling: 0 = the
 * residual is [N, cr, OH, OW], k = it is the k x k, stride k max pool of
 * [N, cr, p[25], p[26]] (a MaxPool folded into the convolution)]. */
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
  int sc = p[17], sy = p[18], sx = p[19];
  float acc = 0.0f;
  for (int ic = 0; ic < cpg; ic++) {
    __global const float *xp
        = x + (size_t) nb * p[16] + (size_t) (g * cpg + ic) * sc;
    __global const float *wp = w + ((size_t) (m * cpg + ic)) * KH * KW;
    for (int ky = 0; ky < KH; ky++) {
      int iy = iy0 + ky * dh;
      if (iy < 0 || iy >= H)
        continue;
      for (int kx = 0; kx < KW; kx++) {
        int ix = ix0 + kx * dw;
        if (ix >= 0 && ix < W)
          acc = mad (xp[iy * sy + ix * sx], wp[ky * KW + kx], acc);
      }
    }
  }
  return acc;
}

/* Epilogue of the register-blocked kernels (NCHW, plain residual): bias,
 * residual (res is [N, cr, OH, OW]: only output channels m < cr get one;
 * cr == 0: none), activation.  sp = oh * OW + ow, OHW = OH * OW. */
inline void conv_store (__global const float *bias,
                        __global const float *res, __global float *y,
                        int has_bias, int cr, int act, float a, float b,
                        int nb, int m, int M, size_t sp, size_t OHW,
                        float acc)
{
  if (has_bias)
    acc += bias[m];
  if (m < cr)
    acc += res[((size_t) nb * cr + m) * OHW + sp];
  y[((size_t) nb * M + m) * OHW + sp] = apply_act (acc, act, a, b);
}

/* The residual of output (nb, m, oh, ow), m < cr, with p's pooling. */
inline float conv_residual (__global const float *res, __global const int *p,
                            int cr, int nb, int m, int oh, int ow)
{
  int k = p[24];
  if (k == 0)
    return res[(((size_t) nb * cr + m) * p[5] + oh) * p[6] + ow];
  int RW = p[26];
  __global const float *r = res + ((size_t) nb * cr + m) * p[25] * RW
                            + (size_t) oh * k * RW + (size_t) ow * k;
  float v = r[0];
  for (int ky = 0; ky < k; ky++)
    for (int kx = 0; kx < k; kx++)
      v = fmax (v, r[ky * RW + kx]);
  return v;
}

/* Epilogue with p's layouts: bias, residual (channels m < cr), activation,
 * stored at y's strides. */
inline void conv_store_p (__global const float *bias,
                          __global const float *res, __global float *y,
                          __global const int *p, int has_bias, int cr,
                          int act, float a, float b, int nb, int m, int oh,
                          int ow, float acc)
{
  if (has_bias)
    acc += bias[m];
  if (m < cr)
    acc += conv_residual (res, p, cr, nb, m, oh, ow);
  y[(size_t) nb * p[20] + (size_t) m * p[21] + (size_t) oh * p[22]
    + (size_t) ow * p[23]]
      = apply_act (acc, act, a, b);
}

/* General direct convolution: one output element per work item; global
 * size (OW, OH, N * M). */
__kernel void conv2d (__global const float *x, __global const float *w,
                      __global const float *bias, __global const float *res,
                      __global float *y, __global const int *p, int has_bias,
                      int cr, int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int M = p[4];
  int nb = nm / M, m = nm % M;
  float acc = conv_acc (x, w, p, nb, m, oh, ow, p[7], p[8]);
  conv_store_p (bias, res, y, p, has_bias, cr, act, a, b, nb, m, oh, ow, acc);
}

/* 3x3 kernels (fixed loop bounds, unrolled). */
__kernel void conv2d_3x3 (__global const float *x, __global const float *w,
                          __global const float *bias,
                          __global const float *res, __global float *y,
                          __global const int *p, int has_bias, int cr,
                          int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int M = p[4];
  int nb = nm / M, m = nm % M;
  float acc = conv_acc (x, w, p, nb, m, oh, ow, 3, 3);
  conv_store_p (bias, res, y, p, has_bias, cr, act, a, b, nb, m, oh, ow, acc);
}

/* 1x1, stride 1, no padding, one group: a per-pixel matrix product;
 * global size (OH * OW, M, N). */
__kernel void conv2d_1x1 (__global const float *x, __global const float *w,
                          __global const float *bias,
                          __global const float *res, __global float *y,
                          __global const int *p, int has_bias, int cr,
                          int act, float a, float b)
{
  int pix = get_global_id (0), m = get_global_id (1), nb = get_global_id (2);
  int C = p[1], OW = p[6], sc = p[17];
  int oh = pix / OW, ow = pix - oh * OW;
  __global const float *xp
      = x + (size_t) nb * p[16] + (size_t) oh * p[18] + (size_t) ow * p[19];
  __global const float *wp = w + (size_t) m * C;
  float acc = 0.0f;
  /* Unrolled so that the loads of several channels are in flight at once
   * (each is a trip to L2 on a GPU). */
#pragma unroll 8
  for (int c = 0; c < C; c++)
    acc = mad (xp[(size_t) c * sc], wp[c], acc);
  conv_store_p (bias, res, y, p, has_bias, cr, act, a, b, nb, m, oh, ow, acc);
}

/* The depthwise sum of one channel (xp: its plane) at output (oh, ow),
 * before its bias; taps in (ky, kx) order, those outside the input
 * skipped.  The geometry comes in registers: reading p[] inside the
 * channel loop of conv2d_dwpw made it ten times slower on NVIDIA. */
inline float conv_dw_sum (__global const float *xp, __global const float *wc,
                          int H, int W, int KH, int KW, int iy0, int ix0,
                          int dh, int dw, int sy, int sx)
{
  float acc = 0.0f;
  for (int ky = 0; ky < KH; ky++) {
    int iy = iy0 + ky * dh;
    if (iy < 0 || iy >= H)
      continue;
    for (int kx = 0; kx < KW; kx++) {
      int ix = ix0 + kx * dw;
      if (ix >= 0 && ix < W)
        acc = mad (xp[iy * sy + ix * sx], wc[ky * KW + kx], acc);
    }
  }
  return acc;
}

/* Depthwise (group == C == M): one input channel per output. */
__kernel void conv2d_dw (__global const float *x, __global const float *w,
                         __global const float *bias,
                         __global const float *res, __global float *y,
                         __global const int *p, int has_bias, int cr,
                         int act, float a, float b)
{
  int ow = get_global_id (0), oh = get_global_id (1), nm = get_global_id (2);
  int M = p[4], KH = p[7], KW = p[8];
  int nb = nm / M, m = nm % M;
  __global const float *xp = x + (size_t) nb * p[16] + (size_t) m * p[17];
  float acc = conv_dw_sum (xp, w + (size_t) m * KH * KW, p[2], p[3], KH, KW,
                           oh * p[9] - p[11], ow * p[10] - p[12], p[13],
                           p[14], p[18], p[19]);
  conv_store_p (bias, res, y, p, has_bias, cr, act, a, b, nb, m, oh, ow, acc);
}

/* ---- Depthwise + pointwise in one pass (MaceDwPwConv, the optimiser's
 * fuse_dw_pw).  A work-group takes tp output pixels (of the flattened
 * OH * OW) and all M output channels: its work-items first compute the
 * depthwise results of those pixels for all C channels (plus the
 * depthwise bias) into local memory, then the 1x1 outputs from there, so
 * the intermediate tensor never goes to global memory and the two
 * convolutions are one launch.  Pixels vary fastest across work-items in
 * both phases (coalesced reads and stores).  wt is the 1x1 weights
 * transposed, wt[c * M + m].  Same operation order as conv2d_dw followed
 * by conv2d_1x1.  p is the depthwise's geometry with M = the 1x1's output
 * channels.  Global size (ceil (OH * OW / tp) * L, 1, N), local (L, 1, 1)
 * for any L; tp * C <= DWPW_LOCAL (16 KB of local memory, half the
 * minimum OpenCL 1.2 devices have). */
#define DWPW_LOCAL 4096

__kernel void conv2d_dwpw (__global const float *x, __global const float *wd,
                           __global const float *bd,
                           __global const float *wt,
                           __global const float *bias,
                           __global const float *res, __global float *y,
                           __global const int *p, int has_bd, int has_bias,
                           int cr, int act, float a, float b, int tp)
{
  __local float mid[DWPW_LOCAL];
  const int lid = get_local_id (0), nt = get_local_size (0);
  const int C = p[1], H = p[2], W = p[3], M = p[4], OW = p[6];
  const int KH = p[7], KW = p[8], sh = p[9], sw = p[10], ph = p[11];
  const int pw = p[12], dh = p[13], dw = p[14], sc = p[17], sy = p[18];
  const int sx = p[19], P = p[5] * OW;
  const int pix0 = get_group_id (0) * tp, nb = get_global_id (2);
  __global const float *xb = x + (size_t) nb * p[16];
  for (int i = lid; i < tp * C; i += nt) {
    int c = i / tp, pix = pix0 + i - c * tp;
    float d = 0.0f;
    if (pix < P) {
      int oh = pix / OW, ow = pix - oh * OW;
      d = conv_dw_sum (xb + (size_t) c * sc, wd + (size_t) c * KH * KW, H, W,
                       KH, KW, oh * sh - ph, ow * sw - pw, dh, dw, sy, sx);
      if (has_bd)
        d += bd[c];
    }
    mid[i] = d;
  }
  barrier (CLK_LOCAL_MEM_FENCE);
  for (int i = lid; i < tp * M; i += nt) {
    int m = i / tp, pp = i - m * tp, pix = pix0 + pp;
    if (pix >= P)
      continue;
    __global const float *wm = wt + m;
    float acc = 0.0f;
#pragma unroll 8
    for (int c = 0; c < C; c++)
      acc = mad (mid[c * tp + pp], wm[(size_t) c * M], acc);
    int oh = pix / OW;
    conv_store_p (bias, res, y, p, has_bias, cr, act, a, b, nb, m, oh,
                  pix - oh * OW, acc);
  }
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

/* ---- Register-blocked direct convolution: stride 1, dilation 1, one
 * group, NCHW.  A work-group of (lx, ly, gz) work-items computes a tile of
 * lx * RB_PX output columns x ly output rows x RB_PM * gz output channels;
 * each work-item RB_PX adjacent columns x RB_PM channels, in registers.
 * The input tile of ct input channels (with its halo) and the weights of
 * those channels are staged in local memory, one chunk of channels at a
 * time.  Weights are packed at plan time as
 *   wp[(c * KH * KW + ky * KW + kx) * Mpad + m]
 * (c padded with zeros to a multiple of ct, m to Mpad, a multiple of
 * RB_PM * gz).  1x1 convolutions run as a GEMM over the flattened pixels
 * (H = 1, W = H * W).  Global size (ceil (OW / (lx * RB_PX)) * lx,
 * ceil (OH / ly) * ly, N * (Mpad / (RB_PM * gz)) * gz), local (lx, ly, gz). */
#define RB_PX 4
#define RB_PM 8
#define RB_GZ 4 /* at most RB_GZ channel groups per work-group */

#define RB_FMA8(xv, w0, w1, q)                  \
  do {                                          \
    acc[0][q] = mad (xv, w0.x, acc[0][q]);      \
    acc[1][q] = mad (xv, w0.y, acc[1][q]);      \
    acc[2][q] = mad (xv, w0.z, acc[2][q]);      \
    acc[3][q] = mad (xv, w0.w, acc[3][q]);      \
    acc[4][q] = mad (xv, w1.x, acc[4][q]);      \
    acc[5][q] = mad (xv, w1.y, acc[5][q]);      \
    acc[6][q] = mad (xv, w1.z, acc[6][q]);      \
    acc[7][q] = mad (xv, w1.w, acc[7][q]);      \
  } while (0)

/* The row buffer of one work-item: RB_PX + KW - 1 inputs, in float4s. */
#define RB_RW(KW) ((RB_PX + (KW) - 1 + 3) / 4)
/* Local row stride of the input tile (a multiple of 4). */
#define RB_XS(LX, KW) (((LX) - 1) * RB_PX + 4 * RB_RW (KW))

inline void conv_rb_body (__global const float *x, __global const float *wp,
                          __global const float *bias,
                          __global const float *res, __global float *y,
                          __local float4 *xl4, __local float4 *wl4, int C,
                          int H, int W, int M, int OH, int OW, int ph,
                          int pw, int Mpad, int has_bias, int cr, int act,
                          float a, float b, const int KH, const int KW,
                          const int LX, const int LY, const int CT)
{
  const int tx = get_local_id (0), ty = get_local_id (1);
  const int tz = get_local_id (2), gz = get_local_size (2);
  const int TW = LX * RB_PX, IH = LY + KH - 1, XS = RB_XS (LX, KW);
  const int KK = KH * KW, MT = RB_PM * gz, nmg = Mpad / MT;
  const int zg = get_group_id (2);
  const int nb = zg / nmg, mbase = (zg - nb * nmg) * MT;
  const int ow0 = get_group_id (0) * TW, oh0 = get_group_id (1) * LY;
  const int lid = (tz * LY + ty) * LX + tx, NT = LX * LY * gz;
  const int iy0 = oh0 - ph, ix0 = ow0 - pw;
  __local float *xl = (__local float *) xl4;
  __local float *wl = (__local float *) wl4;
  __global const float *xb = x + (size_t) nb * C * H * W;
  float acc[RB_PM][RB_PX];
#pragma unroll
  for (int j = 0; j < RB_PM; j++)
#pragma unroll
    for (int q = 0; q < RB_PX; q++)
      acc[j][q] = 0.0f;

  for (int c0 = 0; c0 < C; c0 += CT) {
    for (int i = lid; i < CT * IH * XS; i += NT) {
      int col = i % XS, t = i / XS, row = t % IH, cc = t / IH;
      int c = c0 + cc, iy = iy0 + row, ix = ix0 + col;
      float v = 0.0f;
      if (c < C && iy >= 0 && iy < H && ix >= 0 && ix < W)
        v = xb[((size_t) c * H + iy) * W + ix];
      xl[i] = v;
    }
    __global const float *wc = wp + (size_t) c0 * KK * Mpad + mbase;
    for (int i = lid; i < CT * KK * MT; i += NT) {
      int t = i / MT, mm = i - t * MT;
      wl[i] = wc[(size_t) t * Mpad + mm];
    }
    barrier (CLK_LOCAL_MEM_FENCE);
#pragma unroll 1
    for (int cc = 0; cc < CT; cc++) {
#pragma unroll
      for (int ky = 0; ky < KH; ky++) {
        float r[12]; /* 4 * RB_RW (KW), KW <= 7 */
        __local const float4 *xr
            = xl4 + ((cc * IH + ty + ky) * XS + tx * RB_PX) / 4;
#pragma unroll
        for (int q4 = 0; q4 < RB_RW (KW); q4++) {
          float4 v = xr[q4];
          r[4 * q4] = v.x;
          r[4 * q4 + 1] = v.y;
          r[4 * q4 + 2] = v.z;
          r[4 * q4 + 3] = v.w;
        }
        __local const float4 *wr
            = wl4 + ((cc * KK + ky * KW) * MT + tz * RB_PM) / 4;
#pragma unroll
        for (int kx = 0; kx < KW; kx++) {
          float4 w0 = wr[kx * MT / 4], w1 = wr[kx * MT / 4 + 1];
#pragma unroll
          for (int q = 0; q < RB_PX; q++)
            RB_FMA8 (r[q + kx], w0, w1, q);
        }
      }
    }
    barrier (CLK_LOCAL_MEM_FENCE);
  }

  const int oh = oh0 + ty;
  if (oh >= OH)
    return;
  const size_t OHW = (size_t) OH * OW;
#pragma unroll
  for (int j = 0; j < RB_PM; j++) {
    int m = mbase + tz * RB_PM + j;
    if (m >= M)
      break;
#pragma unroll
    for (int q = 0; q < RB_PX; q++) {
      int ow = ow0 + tx * RB_PX + q;
      if (ow < OW)
        conv_store (bias, res, y, has_bias, cr, act, a, b, nb, m, M,
                    (size_t) oh * OW + ow, OHW, acc[j][q]);
    }
  }
}

#define CONV_RB_KERNEL(NAME, KH, KW, LX, LY, CT)                             \
  __kernel void NAME (__global const float *x, __global const float *wp,     \
                      __global const float *bias, __global const float *res, \
                      __global float *y, int C, int H, int W, int M, int OH, \
                      int OW, int ph, int pw, int Mpad, int has_bias,        \
                      int cr, int act, float a, float b)                     \
  {                                                                          \
    __local float4 xl4[(CT) * ((LY) + (KH) - 1) * RB_XS (LX, KW) / 4];       \
    __local float4 wl4[(CT) * (KH) * (KW) * RB_PM * RB_GZ / 4];              \
    conv_rb_body (x, wp, bias, res, y, xl4, wl4, C, H, W, M, OH, OW, ph, pw, \
                  Mpad, has_bias, cr, act, a, b, KH, KW, LX, LY, CT);        \
  }

/* Name, KH, KW, lx, ly, input channels per chunk. */
CONV_RB_KERNEL (conv2d_rb_1x1, 1, 1, 64, 1, 16)
CONV_RB_KERNEL (conv2d_rb_3x3, 3, 3, 8, 8, 8)
CONV_RB_KERNEL (conv2d_rb_5x5, 5, 5, 8, 8, 4)
CONV_RB_KERNEL (conv2d_rb_7x7, 7, 7, 8, 8, 2)
