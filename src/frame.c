/* SPDX-License-Identifier: Apache-2.0
 * Video frame -> model input on the CPU: colour conversion, bilinear
 * resize at pixel centres, normalisation and layout in one pass, rows in
 * parallel.  kernels/preprocess.cl is the same computation on a device. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "frame.h"

void
mace_preprocess_init (MacePreprocess *pp)
{
  memset (pp, 0, sizeof *pp);
  pp->layout = MACE_TENSOR_NHWC;
  for (int k = 0; k < 3; k++)
    pp->scale[k] = 1.0f;
  pp->fit = MACE_FIT_STRETCH;
}

int
mace_frame_n_planes (MaceFrameFormat f)
{
  return f == MACE_FRAME_I420 ? 3 : f == MACE_FRAME_NV12 ? 2 : 1;
}

static int
plane_rows (const MaceFrame *f, int p)
{
  return p == 0 ? f->height : (f->height + 1) / 2;
}

/* Bytes of one row that a plane must hold at least. */
static int64_t
plane_row_bytes (const MaceFrame *f, int p)
{
  switch (f->format) {
    case MACE_FRAME_RGB:
    case MACE_FRAME_BGR: return (int64_t)f->width * 3;
    case MACE_FRAME_I420: return p == 0 ? f->width : (f->width + 1) / 2;
    case MACE_FRAME_NV12: return p == 0 ? f->width : ((f->width + 1) / 2) * 2;
    default: return (int64_t)f->width * 4;
  }
}

size_t
mace_frame_plane_bytes (const MaceFrame *f, int p)
{
  /* The last row need only hold its pixels, not a whole stride. */
  int rows = plane_rows (f, p);
  return (size_t)f->stride[p] * (size_t)(rows - 1)
         + (size_t)plane_row_bytes (f, p);
}

MaceStatus
mace_frame_plan (const MaceFrame *f, const MacePreprocess *pp, int mw, int mh,
                 MaceFramePlan *p, MaceError *err)
{
  memset (p, 0, sizeof *p);
  if ((int)f->format < MACE_FRAME_RGB || f->format > MACE_FRAME_NV12) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG, "frame: unknown format %d",
                    (int)f->format);
    return MACE_ERROR_INVALID_ARG;
  }
  if (f->width <= 0 || f->height <= 0 || mw <= 0 || mh <= 0) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG,
                    "frame: bad size %dx%d for a %dx%d model input", f->width,
                    f->height, mw, mh);
    return MACE_ERROR_INVALID_ARG;
  }
  for (int k = 0; k < mace_frame_n_planes (f->format); k++) {
    if (!f->data[k] && !f->cl_mem[k]) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "frame: plane %d has neither data nor a cl_mem", k);
      return MACE_ERROR_INVALID_ARG;
    }
    if (f->stride[k] < plane_row_bytes (f, k)) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "frame: plane %d stride %d is below its row size %lld", k,
                      f->stride[k], (long long)plane_row_bytes (f, k));
      return MACE_ERROR_INVALID_ARG;
    }
  }
  p->format = f->format;
  p->sw = f->width;
  p->sh = f->height;
  p->crop_x = pp->crop_w > 0 ? pp->crop_x : 0;
  p->crop_y = pp->crop_h > 0 ? pp->crop_y : 0;
  p->crop_w = pp->crop_w > 0 ? pp->crop_w : f->width;
  p->crop_h = pp->crop_h > 0 ? pp->crop_h : f->height;
  if (p->crop_x < 0 || p->crop_y < 0 || p->crop_x + p->crop_w > f->width
      || p->crop_y + p->crop_h > f->height) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG,
                    "frame: crop %dx%d+%d+%d is outside the %dx%d frame",
                    p->crop_w, p->crop_h, p->crop_x, p->crop_y, f->width,
                    f->height);
    return MACE_ERROR_INVALID_ARG;
  }
  p->mw = mw;
  p->mh = mh;
  p->layout = pp->layout;
  for (int k = 0; k < 3; k++) {
    p->mean[k] = pp->mean[k];
    p->scale[k] = pp->scale[k];
  }
  p->ci[0] = pp->bgr ? 2 : 0;
  p->ci[1] = 1;
  p->ci[2] = pp->bgr ? 0 : 2;
  double cx = 0, cy = 0, cw = mw, ch = mh;
  if (pp->fit == MACE_FIT_LETTERBOX) {
    double s = fmin ((double)mw / p->crop_w, (double)mh / p->crop_h);
    cw = p->crop_w * s;
    ch = p->crop_h * s;
    cx = (mw - cw) / 2;
    cy = (mh - ch) / 2;
  } else if (pp->fit == MACE_FIT_NONE) {
    cw = p->crop_w;
    ch = p->crop_h;
  }
  p->content.x = cx;
  p->content.y = cy;
  p->content.w = cw;
  p->content.h = ch;
  p->cx = (float)cx;
  p->cy = (float)cy;
  p->fx = (float)(p->crop_w / cw);
  p->fy = (float)(p->crop_h / ch);
  p->ix0 = (int)CLAMP (ceil (cx), 0, mw);
  p->iy0 = (int)CLAMP (ceil (cy), 0, mh);
  p->ix1 = (int)CLAMP (ceil (cx + cw), 0, mw);
  p->iy1 = (int)CLAMP (ceil (cy + ch), 0, mh);
  p->same = p->fx == 1.0f && p->fy == 1.0f && p->cx == 0.0f && p->cy == 0.0f;
  return MACE_OK;
}

static inline float
clampf (float v, float lo, float hi)
{
  /* Written as min then max so the compiler emits minss/maxss, not
   * branches (the taps' clamps mispredicted badly). */
  v = v < hi ? v : hi;
  return v > lo ? v : lo;
}

static inline void
yuv_to_rgb (float y, float u, float v, float *rgb)
{
  float c = 1.164383f * (y - 16.0f), d = u - 128.0f, e = v - 128.0f;
  rgb[0] = clampf (c + 1.596027f * e, 0.0f, 255.0f);
  rgb[1] = clampf (c - 0.391762f * d - 0.812968f * e, 0.0f, 255.0f);
  rgb[2] = clampf (c + 2.017232f * d, 0.0f, 255.0f);
}

typedef struct {
  const MaceFrame *f;
  const MaceFramePlan *p;
  float *dst;
  int *x0, *x1; /* source columns (crop applied) per model column */
  int *c0, *c1; /* their byte offsets in a chroma row (YUV formats) */
  float *ax;
  int ps, ro, go, bo; /* packed: pixel size and R/G/B offsets */
} Job;

/* RGB of source pixel (x, y), frame coordinates. */
static inline void
read_rgb (const Job *j, int x, int y, float *rgb)
{
  const MaceFrame *f = j->f;
  if (j->ps) {
    const uint8_t *q = (const uint8_t *)f->data[0]
                       + (size_t)y * (size_t)f->stride[0] + (size_t)x * j->ps;
    rgb[0] = q[j->ro];
    rgb[1] = q[j->go];
    rgb[2] = q[j->bo];
    return;
  }
  float Y = ((const uint8_t *)f->data[0])[(size_t)y * f->stride[0] + x];
  float u, v;
  if (f->format == MACE_FRAME_I420) {
    u = ((const uint8_t *)f->data[1])[(size_t)(y / 2) * f->stride[1] + x / 2];
    v = ((const uint8_t *)f->data[2])[(size_t)(y / 2) * f->stride[2] + x / 2];
  } else {
    const uint8_t *uv = (const uint8_t *)f->data[1]
                        + (size_t)(y / 2) * f->stride[1] + (x / 2) * 2;
    u = uv[0];
    v = uv[1];
  }
  yuv_to_rgb (Y, u, v, rgb);
}

static inline void
store (const Job *j, int ox, int oy, const float *rgb)
{
  const MaceFramePlan *p = j->p;
  float v[3];
  for (int k = 0; k < 3; k++)
    v[k] = (rgb[p->ci[k]] - p->mean[k]) * p->scale[k];
  if (p->layout == MACE_TENSOR_NCHW) {
    size_t plane = (size_t)p->mh * p->mw, i = (size_t)oy * p->mw + ox;
    j->dst[i] = v[0];
    j->dst[plane + i] = v[1];
    j->dst[2 * plane + i] = v[2];
  } else {
    float *d = j->dst + ((size_t)oy * p->mw + ox) * 3;
    d[0] = v[0];
    d[1] = v[1];
    d[2] = v[2];
  }
}

/* One output row from a YUV frame: Y, U and V are interpolated on their
 * planes and converted once per model pixel (kernels/preprocess.cl does
 * the same), with row pointers and column offsets worked out once. */
static void
yuv_row (const Job *j, int oy, int y0, int y1, float ay)
{
  const MaceFramePlan *p = j->p;
  const MaceFrame *f = j->f;
  const uint8_t *Y0 = (const uint8_t *)f->data[0] + (size_t)y0 * f->stride[0];
  const uint8_t *Y1 = (const uint8_t *)f->data[0] + (size_t)y1 * f->stride[0];
  const uint8_t *U0
      = (const uint8_t *)f->data[1] + (size_t)(y0 / 2) * f->stride[1];
  const uint8_t *U1
      = (const uint8_t *)f->data[1] + (size_t)(y1 / 2) * f->stride[1];
  const uint8_t *V0, *V1;
  if (f->format == MACE_FRAME_I420) {
    V0 = (const uint8_t *)f->data[2] + (size_t)(y0 / 2) * f->stride[2];
    V1 = (const uint8_t *)f->data[2] + (size_t)(y1 / 2) * f->stride[2];
  } else { /* NV12: interleaved U, V */
    V0 = U0 + 1;
    V1 = U1 + 1;
  }
  const float by = 1.0f - ay;
  for (int ox = p->ix0; ox < p->ix1; ox++) {
    int x0 = j->x0[ox], x1 = j->x1[ox], c0 = j->c0[ox], c1 = j->c1[ox];
    float ax = j->ax[ox], bx = 1.0f - ax;
    float w00 = bx * by, w01 = ax * by, w10 = bx * ay, w11 = ax * ay;
    float yv = w00 * Y0[x0] + w01 * Y0[x1] + w10 * Y1[x0] + w11 * Y1[x1];
    float uv = w00 * U0[c0] + w01 * U0[c1] + w10 * U1[c0] + w11 * U1[c1];
    float vv = w00 * V0[c0] + w01 * V0[c1] + w10 * V1[c0] + w11 * V1[c1];
    float rgb[3];
    yuv_to_rgb (yv, uv, vv, rgb);
    store (j, ox, oy, rgb);
  }
}

static void
rows_fn (void *arg, int64_t begin, int64_t end)
{
  const Job *j = arg;
  const MaceFramePlan *p = j->p;
  static const float black[3] = { 0, 0, 0 };
  for (int oy = (int)begin; oy < (int)end; oy++) {
    bool row_in = oy >= p->iy0 && oy < p->iy1;
    if (!row_in) {
      for (int ox = 0; ox < p->mw; ox++)
        store (j, ox, oy, black);
      continue;
    }
    for (int ox = 0; ox < p->ix0; ox++)
      store (j, ox, oy, black);
    for (int ox = p->ix1; ox < p->mw; ox++)
      store (j, ox, oy, black);
    if (p->same) {
      int sy = p->crop_y + oy;
      for (int ox = p->ix0; ox < p->ix1; ox++) {
        float rgb[3];
        read_rgb (j, p->crop_x + ox, sy, rgb);
        store (j, ox, oy, rgb);
      }
      continue;
    }
    float sy = ((float)oy - p->cy + 0.5f) * p->fy - 0.5f;
    sy = sy > 0.0f ? sy : 0.0f;
    int y0 = (int)sy;
    int y1 = MIN (y0 + 1, p->crop_h - 1);
    y0 = MIN (y0, p->crop_h - 1);
    float ay = sy - (float)y0;
    y0 += p->crop_y;
    y1 += p->crop_y;
    if (!j->ps) {
      yuv_row (j, oy, y0, y1, ay);
      continue;
    }
    for (int ox = p->ix0; ox < p->ix1; ox++) {
      float q00[3], q01[3], q10[3], q11[3], rgb[3];
      float ax = j->ax[ox];
      read_rgb (j, j->x0[ox], y0, q00);
      read_rgb (j, j->x1[ox], y0, q01);
      read_rgb (j, j->x0[ox], y1, q10);
      read_rgb (j, j->x1[ox], y1, q11);
      for (int k = 0; k < 3; k++)
        rgb[k] = (q00[k] * (1.0f - ax) + q01[k] * ax) * (1.0f - ay)
                 + (q10[k] * (1.0f - ax) + q11[k] * ax) * ay;
      store (j, ox, oy, rgb);
    }
  }
}

void
mace_frame_preprocess_cpu (const MaceFrame *f, const MaceFramePlan *p,
                           float *dst, MaceThreadPool *pool)
{
  Job j = { .f = f, .p = p, .dst = dst };
  switch (f->format) {
    case MACE_FRAME_RGB:
      j.ps = 3;
      j.ro = 0;
      j.go = 1;
      j.bo = 2;
      break;
    case MACE_FRAME_BGR:
      j.ps = 3;
      j.ro = 2;
      j.go = 1;
      j.bo = 0;
      break;
    case MACE_FRAME_RGBA:
    case MACE_FRAME_RGBX:
      j.ps = 4;
      j.ro = 0;
      j.go = 1;
      j.bo = 2;
      break;
    case MACE_FRAME_BGRA:
    case MACE_FRAME_BGRX:
      j.ps = 4;
      j.ro = 2;
      j.go = 1;
      j.bo = 0;
      break;
    default: break;
  }
  /* Source columns and weights depend on the output column only. */
  j.x0 = g_new (int, p->mw + 1);
  j.x1 = g_new (int, p->mw + 1);
  j.ax = g_new (float, p->mw + 1);
  j.c0 = g_new (int, p->mw + 1);
  j.c1 = g_new (int, p->mw + 1);
  const int cstep = f->format == MACE_FRAME_NV12 ? 2 : 1;
  for (int ox = 0; ox < p->mw; ox++) {
    float sx = ((float)ox - p->cx + 0.5f) * p->fx - 0.5f;
    sx = sx > 0.0f ? sx : 0.0f;
    int x0 = (int)sx;
    int x1 = MIN (x0 + 1, p->crop_w - 1);
    x0 = MIN (x0, p->crop_w - 1);
    j.ax[ox] = sx - (float)x0;
    j.x0[ox] = p->crop_x + x0;
    j.x1[ox] = p->crop_x + x1;
    j.c0[ox] = (j.x0[ox] / 2) * cstep;
    j.c1[ox] = (j.x1[ox] / 2) * cstep;
  }
  /* Small inputs are not worth waking the pool. */
  if ((int64_t)p->mw * p->mh < 4096)
    rows_fn (&j, 0, p->mh);
  else
    mace_parallel_for (pool, p->mh, rows_fn, &j);
  g_free (j.x0);
  g_free (j.x1);
  g_free (j.ax);
  g_free (j.c0);
  g_free (j.c1);
}
