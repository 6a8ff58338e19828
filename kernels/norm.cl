/* SPDX-License-Identifier: Apache-2.0
 * Normalisations: BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization and LRN. */
#include "common.h"

/* y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c]; c is the
 * axis-1 index, inner the product of the axes after it. */
__kernel void batchnorm (__global const float *x, __global const float *scale,
                         __global const float *bias,
                         __global const float *mean,
                         __global const float *var, __global float *y, int n,
                         int C, int inner, float eps)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int c = (i / inner) % C;
  y[i] = (x[i] - mean[c]) / sqrt (var[c] + eps) * scale[c] + bias[c];
}

/* One work item per (n, c) plane of `len` elements. */
__kernel void instancenorm (__global const float *x,
                            __global const float *scale,
                            __global const float *bias, __global float *y,
                            int rows, int C, int len, float eps)
{
  int r = get_global_id (0);
  if (r >= rows)
    return;
  int c = r % C;
  __global const float *xp = x + (size_t) r * len;
  __global float *yp = y + (size_t) r * len;
  float mean = 0.0f;
  for (int j = 0; j < len; j++)
    mean += xp[j];
  mean /= (float) len;
  float var = 0.0f;
  for (int j = 0; j < len; j++) {
    float d = xp[j] - mean;
    var += d * d;
  }
  var /= (float) len;
  float inv = 1.0f / sqrt (var + eps);
  for (int j = 0; j < len; j++)
    yp[j] = (xp[j] - mean) * inv * scale[c] + bias[c];
}

/* One work item per row of `len` elements; scale/bias indexed by the
 * element (stride 1) or broadcast (stride 0); mean / inv_std written when
 * has_stats. */
__kernel void layernorm (__global const float *x, __global const float *scale,
                         __global const float *bias, __global float *y,
                         __global float *mean_out, __global float *inv_out,
                         int rows, int len, float eps, int scale_stride,
                         int bias_stride, int has_bias, int has_stats)
{
  int r = get_global_id (0);
  if (r >= rows)
    return;
  __global const float *xp = x + (size_t) r * len;
  __global float *yp = y + (size_t) r * len;
  float mean = 0.0f;
  for (int j = 0; j < len; j++)
    mean += xp[j];
  mean /= (float) len;
  float var = 0.0f;
  for (int j = 0; j < len; j++) {
    float d = xp[j] - mean;
    var += d * d;
  }
  var /= (float) len;
  float inv = 1.0f / sqrt (var + eps);
  for (int j = 0; j < len; j++) {
    float v = (xp[j] - mean) * inv * scale[j * scale_stride];
    if (has_bias)
      v += bias[j * bias_stride];
    yp[j] = v;
  }
  if (has_stats) {
    mean_out[r] = mean;
    inv_out[r] = inv;
  }
}

/* Local response normalisation across channels (axis 1). */
__kernel void lrn (__global const float *x, __global float *y, int n, int C,
                   int inner, int size, float alpha, float beta, float bias)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int c = (i / inner) % C;
  int lo = c - (size - 1) / 2, hi = c + (size - 1) - (size - 1) / 2;
  float sum = 0.0f;
  for (int k = max (lo, 0); k <= min (hi, C - 1); k++) {
    float v = x[i + (k - c) * inner];
    sum += v * v;
  }
  y[i] = x[i] / pow (bias + alpha / (float) size * sum, beta);
}
