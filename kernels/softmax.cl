/* SPDX-License-Identifier: Apache-2.0
 * Softmax, LogSoftmax and Hardmax along one axis of a tensor viewed as
 * (outer, len, inner). */
#include "common.h"

/* One work item per (outer, inner) row; mode is SOFTMAX, LOGSOFTMAX or
 * HARDMAX.  Global size (inner, outer). */
__kernel void softmax (__global const float *x, __global float *y, int len,
                       int inner, int mode)
{
  int in = get_global_id (0), out = get_global_id (1);
  size_t base = (size_t) out * len * inner + in;
  float mx = -INFINITY;
  int arg = 0;
  for (int j = 0; j < len; j++) {
    float v = x[base + (size_t) j * inner];
    if (v > mx) {
      mx = v;
      arg = j;
    }
  }
  if (mode == HARDMAX) {
    for (int j = 0; j < len; j++)
      y[base + (size_t) j * inner] = j == arg ? 1.0f : 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int j = 0; j < len; j++)
    sum += exp (x[base + (size_t) j * inner] - mx);
  if (mode == LOGSOFTMAX) {
    float ls = log (sum);
    for (int j = 0; j < len; j++)
      y[base + (size_t) j * inner] = x[base + (size_t) j * inner] - mx - ls;
  } else {
    float inv = 1.0f / sum;
    for (int j = 0; j < len; j++)
      y[base + (size_t) j * inner] = exp (x[base + (size_t) j * inner] - mx) * inv;
  }
}
