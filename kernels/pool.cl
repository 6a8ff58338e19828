/* SPDX-License-Identifier: Apache-2.0
 * MaxPool and AveragePool over 1, 2 or 3 spatial axes (1-D and 2-D use
 * size-1 leading spatial axes). */
#include "common.h"

/* One work item per output element.  p = [N*C, D, H, W, OD, OH, OW, KD,
 * KH, KW, strides (3), leading pads (3), trailing pads (3), dilations
 * (3)]; mode is a POOL_* code. */
__kernel void pool (__global const float *x, __global float *y, int n,
                    int mode, __global const int *p)
{
  int i = get_global_id (0);
  if (i >= n)
    return;
  int D = p[1], H = p[2], W = p[3], OD = p[4], OH = p[5], OW = p[6];
  int KD = p[7], KH = p[8], KW = p[9];
  int ow = i % OW, oh = (i / OW) % OH, od = (i / (OW * OH)) % OD;
  int nc = i / (OW * OH * OD);
  int zs = od * p[10] - p[13], ys = oh * p[11] - p[14], xs = ow * p[12] - p[15];
  __global const float *xp = x + nc * D * H * W;
  float acc = mode == POOL_MAX ? -INFINITY : 0.0f;
  int count = 0, padded = 0;
  for (int kz = 0; kz < KD; kz++) {
    int z = zs + kz * p[19];
    bool zin = z >= 0 && z < D;
    bool zpad = z >= -p[13] && z < D + p[16];
    for (int ky = 0; ky < KH; ky++) {
      int yy = ys + ky * p[20];
      bool yin = yy >= 0 && yy < H;
      bool ypad = yy >= -p[14] && yy < H + p[17];
      for (int kx = 0; kx < KW; kx++) {
        int xx = xs + kx * p[21];
        bool xin = xx >= 0 && xx < W;
        bool xpad = xx >= -p[15] && xx < W + p[18];
        if (zpad && ypad && xpad)
          padded++;
        if (!(zin && yin && xin))
          continue;
        float v = xp[(z * H + yy) * W + xx];
        if (mode == POOL_MAX)
          acc = fmax (acc, v);
        else
          acc += v;
        count++;
      }
    }
  }
  if (mode == POOL_AVG_INCLUDE_PAD)
    acc /= (float) padded;
  else if (mode == POOL_AVG_EXCLUDE_PAD)
    acc /= (float) count;
  y[i] = acc;
}
