/* SPDX-License-Identifier: Apache-2.0
 * Resize / Upsample on tensors of rank <= 4 viewed as (N, C, H, W):
 * nearest on any axis, linear and cubic on H and W. */
#include "common.h"

/* Source coordinate of output coordinate x along one axis. */
inline float resize_coord (int x, int in, int out, float scale, int coord)
{
  switch (coord) {
    case COORD_ASYMMETRIC: return (float) x / scale;
    case COORD_PYTORCH_HALF_PIXEL:
      return out > 1 ? ((float) x + 0.5f) / scale - 0.5f : 0.0f;
    case COORD_ALIGN_CORNERS: {
      /* ONNX's reference uses the unrounded resized length in * scale. */
      float len = (float) in * scale;
      return len <= 1.0f ? 0.0f : (float) x * (float) (in - 1) / (len - 1.0f);
    }
    case COORD_TF_HALF_PIXEL_FOR_NEAREST: return ((float) x + 0.5f) / scale;
    case COORD_HALF_PIXEL_SYMMETRIC: {
      float adj = (float) out / (scale * (float) in);
      float center = (float) in / 2.0f;
      return center * (1.0f - adj) + ((float) x + 0.5f) / scale - 0.5f;
    }
    default: return ((float) x + 0.5f) / scale - 0.5f;
  }
}

inline int resize_nearest (float v, int in, int mode)
{
  int i;
  switch (mode) {
    case NEAREST_ROUND_PREFER_CEIL: i = (int) floor (v + 0.5f); break;
    case NEAREST_FLOOR: i = (int) floor (v); break;
    case NEAREST_CEIL: i = (int) ceil (v); break;
    default: i = (int) ceil (v - 0.5f); break;
  }
  return clamp (i, 0, in - 1);
}

inline void cubic_coeffs (float t, float A, float *c)
{
  float t1 = t + 1.0f, u = 1.0f - t, u1 = 2.0f - t;
  c[0] = ((A * t1 - 5.0f * A) * t1 + 8.0f * A) * t1 - 4.0f * A;
  c[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
  c[2] = ((A + 2.0f) * u - (A + 3.0f)) * u * u + 1.0f;
  c[3] = ((A * u1 - 5.0f * A) * u1 + 8.0f * A) * u1 - 4.0f * A;
}

/* Interpolation weights and source indices of one axis (linear: 2 taps,
 * cubic: 4). */
inline int resize_taps (float v, int in, int mode, float A, int exclude,
                        int *idx, float *w)
{
  float f = floor (v);
  float t = v - f;
  int i0 = (int) f;
  if (mode == RESIZE_LINEAR) {
    idx[0] = clamp (i0, 0, in - 1);
    idx[1] = clamp (i0 + 1, 0, in - 1);
    w[0] = 1.0f - t;
    w[1] = t;
    return 2;
  }
  cubic_coeffs (t, A, w);
  float sum = 0.0f;
  for (int k = 0; k < 4; k++) {
    int j = i0 - 1 + k;
    if (exclude && (j < 0 || j >= in))
      w[k] = 0.0f;
    sum += w[k];
    idx[k] = clamp (j, 0, in - 1);
  }
  if (exclude && sum != 0.0f)
    for (int k = 0; k < 4; k++)
      w[k] /= sum;
  return 4;
}

/* ip = [input dims (4), output dims (4)], fp = [scales (4), cubic a];
 * one work item per output element. */
__kernel void resize (__global const float *x, __global float *y, int n,
                      __global const int *ip, __global const float *fp,
                      int mode, int coord, int nearest, int exclude)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int o[4], rem = i;
  for (int d = 3; d >= 0; d--) {
    o[d] = rem % ip[4 + d];
    rem /= ip[4 + d];
  }
  int H = ip[2], W = ip[3];
  if (mode == RESIZE_NEAREST) {
    int s[4];
    for (int d = 0; d < 4; d++)
      s[d] = ip[d] == ip[4 + d] && fp[d] == 1.0f
                 ? o[d]
                 : resize_nearest (resize_coord (o[d], ip[d], ip[4 + d],
                                                 fp[d], coord),
                                   ip[d], nearest);
    y[i] = x[((s[0] * ip[1] + s[1]) * H + s[2]) * W + s[3]];
    return;
  }
  int iy[4], ix[4];
  float wy[4], wx[4];
  int ny = resize_taps (resize_coord (o[2], H, ip[6], fp[2], coord), H, mode,
                        fp[4], exclude, iy, wy);
  int nx = resize_taps (resize_coord (o[3], W, ip[7], fp[3], coord), W, mode,
                        fp[4], exclude, ix, wx);
  __global const float *xp = x + (size_t) (o[0] * ip[1] + o[1]) * H * W;
  float acc = 0.0f;
  for (int a = 0; a < ny; a++) {
    float row = 0.0f;
    for (int b = 0; b < nx; b++)
      row += wx[b] * xp[iy[a] * W + ix[b]];
    acc += wy[a] * row;
  }
  y[i] = acc;
}
