/* SPDX-License-Identifier: Apache-2.0
 * Video frame -> model input in one pass: colour conversion (packed RGB
 * variants, I420, NV12 as BT.601 limited range), bilinear resize at pixel
 * centres (stretch, letterbox or 1:1), normalisation and NHWC/NCHW layout.
 * YUV frames are interpolated as Y, U, V and converted once per model pixel.
 * The CPU version is src/frame.c; both follow the same formulas. */

#define FMT_RGB 0
#define FMT_BGR 1
#define FMT_RGBA 2
#define FMT_BGRA 3
#define FMT_RGBX 4
#define FMT_BGRX 5
#define FMT_I420 6
#define FMT_NV12 7

inline float3 yuv_to_rgb (float y, float u, float v)
{
  float c = 1.164383f * (y - 16.0f), d = u - 128.0f, e = v - 128.0f;
  return (float3) (clamp (c + 1.596027f * e, 0.0f, 255.0f),
                   clamp (c - 0.391762f * d - 0.812968f * e, 0.0f, 255.0f),
                   clamp (c + 2.017232f * d, 0.0f, 255.0f));
}

/* RGB of source pixel (x, y), frame coordinates in range; for YUV formats
 * its Y, U, V (converted after interpolation, as on the CPU). */
inline float3 read_rgb (__global const uchar *p0, int s0,
                        __global const uchar *p1, int s1,
                        __global const uchar *p2, int s2, int fmt, int x,
                        int y)
{
  if (fmt <= FMT_BGRX) {
    int ps = fmt <= FMT_BGR ? 3 : 4;
    __global const uchar *p = p0 + (size_t) y * s0 + x * ps;
    bool bgr = fmt == FMT_BGR || fmt == FMT_BGRA || fmt == FMT_BGRX;
    return bgr ? (float3) (p[2], p[1], p[0]) : (float3) (p[0], p[1], p[2]);
  }
  float Y = p0[(size_t) y * s0 + x];
  float u, v;
  if (fmt == FMT_I420) {
    u = p1[(size_t) (y / 2) * s1 + x / 2];
    v = p2[(size_t) (y / 2) * s2 + x / 2];
  } else {
    __global const uchar *uv = p1 + (size_t) (y / 2) * s1 + (x / 2) * 2;
    u = uv[0];
    v = uv[1];
  }
  /* YUV formats are resampled as Y, U, V; the caller converts. */
  return (float3) (Y, u, v);
}

/* One work item per model pixel (x, y).  The content rectangle is
 * [ix0, ix1) x [iy0, iy1); outside it the value of a black pixel. */
__kernel void preprocess (__global const uchar *p0, int off0, int s0,
                          __global const uchar *p1, int off1, int s1,
                          __global const uchar *p2, int off2, int s2,
                          int fmt, int crop_x, int crop_y, int crop_w,
                          int crop_h, int mw, int mh, int nchw, int ix0,
                          int iy0, int ix1, int iy1, float cx, float cy,
                          float fx, float fy, int c0, int c1, int c2,
                          float m0, float m1, float m2, float k0, float k1,
                          float k2, __global float *dst, int dst_off)
{
  int ox = get_global_id (0), oy = get_global_id (1);
  if (ox >= mw || oy >= mh)
    return;
  p0 += off0;
  p1 += off1;
  p2 += off2;
  float3 rgb;
  bool inside = ox >= ix0 && ox < ix1 && oy >= iy0 && oy < iy1;
  if (inside) {
    float sx = ((float) ox - cx + 0.5f) * fx - 0.5f;
    float sy = ((float) oy - cy + 0.5f) * fy - 0.5f;
    sx = fmax (sx, 0.0f);
    sy = fmax (sy, 0.0f);
    int x0 = (int) sx, y0 = (int) sy;
    int x1 = min (x0 + 1, crop_w - 1), y1 = min (y0 + 1, crop_h - 1);
    x0 = min (x0, crop_w - 1);
    y0 = min (y0, crop_h - 1);
    float ax = sx - (float) x0, ay = sy - (float) y0;
    float3 q00 = read_rgb (p0, s0, p1, s1, p2, s2, fmt, crop_x + x0, crop_y + y0);
    float3 q01 = read_rgb (p0, s0, p1, s1, p2, s2, fmt, crop_x + x1, crop_y + y0);
    float3 q10 = read_rgb (p0, s0, p1, s1, p2, s2, fmt, crop_x + x0, crop_y + y1);
    float3 q11 = read_rgb (p0, s0, p1, s1, p2, s2, fmt, crop_x + x1, crop_y + y1);
    rgb = (q00 * (1.0f - ax) + q01 * ax) * (1.0f - ay) +
          (q10 * (1.0f - ax) + q11 * ax) * ay;
    if (fmt > FMT_BGRX)
      rgb = yuv_to_rgb (rgb.x, rgb.y, rgb.z);
  } else {
    rgb = (float3) (0.0f, 0.0f, 0.0f);
  }
  float src[3] = { rgb.x, rgb.y, rgb.z };
  float v0 = (src[c0] - m0) * k0;
  float v1 = (src[c1] - m1) * k1;
  float v2 = (src[c2] - m2) * k2;
  dst += dst_off;
  if (nchw) {
    size_t plane = (size_t) mh * mw, i = (size_t) oy * mw + ox;
    dst[i] = v0;
    dst[plane + i] = v1;
    dst[2 * plane + i] = v2;
  } else {
    size_t i = ((size_t) oy * mw + ox) * 3;
    dst[i] = v0;
    dst[i + 1] = v1;
    dst[i + 2] = v2;
  }
}
