/* SPDX-License-Identifier: Apache-2.0 */
#include "maceprocess.h"

#include <math.h>
#include <string.h>

gboolean
mace_format_supported (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_NV12:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Channel offsets of R, G, B and pixel stride for packed formats. */
static gboolean
packed_layout (GstVideoFormat f, int *r, int *g, int *b, int *ps)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB: *r = 0; *g = 1; *b = 2; *ps = 3; return TRUE;
    case GST_VIDEO_FORMAT_BGR: *r = 2; *g = 1; *b = 0; *ps = 3; return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx: *r = 0; *g = 1; *b = 2; *ps = 4; return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx: *r = 2; *g = 1; *b = 0; *ps = 4; return TRUE;
    default: return FALSE;
  }
}

static inline float
clampf (float v, float lo, float hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* BT.601 limited-range YUV -> RGB, the usual camera / videotestsrc matrix. */
static inline void
yuv_to_rgb (float y, float u, float v, float *rgb)
{
  float c = 1.164383f * (y - 16.0f), d = u - 128.0f, e = v - 128.0f;
  rgb[0] = clampf (c + 1.596027f * e, 0, 255);
  rgb[1] = clampf (c - 0.391762f * d - 0.812968f * e, 0, 255);
  rgb[2] = clampf (c + 2.017232f * d, 0, 255);
}

/* RGB of the source pixel (x, y), integers in range. */
static inline void
read_rgb (const GstVideoFrame *f, GstVideoFormat fmt, int x, int y,
          float *rgb)
{
  int r, g, b, ps;
  if (packed_layout (fmt, &r, &g, &b, &ps)) {
    const guint8 *p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 0) +
                      (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (f, 0) + x * ps;
    rgb[0] = p[r];
    rgb[1] = p[g];
    rgb[2] = p[b];
    return;
  }
  const guint8 *Y = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 0) +
                    (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (f, 0) + x;
  float u, v;
  if (fmt == GST_VIDEO_FORMAT_I420) {
    const guint8 *U = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 1) +
                      (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (f, 1) +
                      x / 2;
    const guint8 *V = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 2) +
                      (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (f, 2) +
                      x / 2;
    u = *U;
    v = *V;
  } else { /* NV12 */
    const guint8 *UV = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 1) +
                       (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (f, 1) +
                       (x / 2) * 2;
    u = UV[0];
    v = UV[1];
  }
  yuv_to_rgb (*Y, u, v, rgb);
}

gboolean
mace_preprocess_frame (const GstVideoFrame *frame, const MaceModelConfig *c,
                       MaceLayout layout, int mh, int mw, float *dst,
                       MaceContentRect *content)
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  if (!mace_format_supported (fmt))
    return FALSE;
  int sw = GST_VIDEO_FRAME_WIDTH (frame), sh = GST_VIDEO_FRAME_HEIGHT (frame);
  double cx = 0, cy = 0, cw = mw, ch = mh;
  if (c->resize == MACE_RESIZE_LETTERBOX) {
    double s = MIN ((double) mw / sw, (double) mh / sh);
    cw = sw * s;
    ch = sh * s;
    cx = (mw - cw) / 2;
    cy = (mh - ch) / 2;
  }
  content->x = cx;
  content->y = cy;
  content->w = cw;
  content->h = ch;
  const int plane = mh * mw;
  const int ci[3] = { c->bgr ? 2 : 0, 1, c->bgr ? 0 : 2 };
  /* Padding value: what a black pixel normalises to. */
  float pad[3];
  for (int k = 0; k < 3; k++)
    pad[k] = (0.0f - c->mean[k]) * c->scale[k];
  const double fx = sw / cw, fy = sh / ch;
  const gboolean same = (sw == mw && sh == mh && cx == 0 && cy == 0);
  for (int oy = 0; oy < mh; oy++) {
    for (int ox = 0; ox < mw; ox++) {
      float rgb[3];
      if (ox < cx || oy < cy || ox >= cx + cw || oy >= cy + ch) {
        for (int k = 0; k < 3; k++)
          rgb[k] = NAN;
      } else if (same) {
        read_rgb (frame, fmt, ox, oy, rgb);
      } else {
        /* Bilinear sample at the pixel centre (half-pixel mapping). */
        double sx = (ox - cx + 0.5) * fx - 0.5, sy = (oy - cy + 0.5) * fy - 0.5;
        if (sx < 0)
          sx = 0;
        if (sy < 0)
          sy = 0;
        int x0 = (int) sx, y0 = (int) sy;
        int x1 = MIN (x0 + 1, sw - 1), y1 = MIN (y0 + 1, sh - 1);
        x0 = MIN (x0, sw - 1);
        y0 = MIN (y0, sh - 1);
        float ax = (float) (sx - x0), ay = (float) (sy - y0);
        float p00[3], p01[3], p10[3], p11[3];
        read_rgb (frame, fmt, x0, y0, p00);
        read_rgb (frame, fmt, x1, y0, p01);
        read_rgb (frame, fmt, x0, y1, p10);
        read_rgb (frame, fmt, x1, y1, p11);
        for (int k = 0; k < 3; k++)
          rgb[k] = (p00[k] * (1 - ax) + p01[k] * ax) * (1 - ay) +
                   (p10[k] * (1 - ax) + p11[k] * ax) * ay;
      }
      for (int k = 0; k < 3; k++) {
        float v = isnan (rgb[ci[k]]) ? pad[k]
                                     : (rgb[ci[k]] - c->mean[k]) * c->scale[k];
        if (layout == MACE_LAYOUT_NCHW)
          dst[k * plane + oy * mw + ox] = v;
        else
          dst[(oy * mw + ox) * 3 + k] = v;
      }
    }
  }
  return TRUE;
}

void
mace_anchors_build (MaceAnchors *a, const MaceModelConfig *c, int ih, int iw)
{
  /* MediaPipe SSD anchors: consecutive layers with the same stride share
   * one grid; each layer adds anchors_per_stride anchors per cell. */
  int total = 0;
  for (int l = 0; l < c->n_strides;) {
    int s = c->strides[l], same = 0;
    while (l + same < c->n_strides && c->strides[l + same] == s)
      same++;
    total += ((ih + s - 1) / s) * ((iw + s - 1) / s) * same *
             c->anchors_per_stride;
    l += same;
  }
  a->n_anchors = total;
  a->anchors = g_new (float, (gsize) total * 2 + 2);
  int k = 0;
  for (int l = 0; l < c->n_strides;) {
    int s = c->strides[l], same = 0;
    while (l + same < c->n_strides && c->strides[l + same] == s)
      same++;
    int gh = (ih + s - 1) / s, gw = (iw + s - 1) / s;
    for (int y = 0; y < gh; y++)
      for (int x = 0; x < gw; x++)
        for (int r = 0; r < same * c->anchors_per_stride; r++) {
          a->anchors[2 * k] = (x + 0.5f) / gw;
          a->anchors[2 * k + 1] = (y + 0.5f) / gh;
          k++;
        }
    l += same;
  }
}

void
mace_anchors_clear (MaceAnchors *a)
{
  g_free (a->anchors);
  a->anchors = NULL;
  a->n_anchors = 0;
}

static float
iou_of (const MaceDetection *a, const MaceDetection *b)
{
  float ix = MAX (0.0f, MIN (a->x1, b->x1) - MAX (a->x0, b->x0));
  float iy = MAX (0.0f, MIN (a->y1, b->y1) - MAX (a->y0, b->y0));
  float inter = ix * iy;
  float u = (a->x1 - a->x0) * (a->y1 - a->y0) +
            (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
  return u > 0 ? inter / u : 0;
}

static int
by_score (gconstpointer a, gconstpointer b)
{
  float x = ((const MaceDetection *) a)->score,
        y = ((const MaceDetection *) b)->score;
  return x < y ? 1 : x > y ? -1 : 0;
}

int
mace_decode_blazeface (const MaceAnchors *a, const float *scores,
                       const float *regs, int reg_len, int ih, int iw,
                       const MaceContentRect *content, float threshold,
                       float iou, int n_kp, MaceDetection *out, int max_out)
{
  if (n_kp > 32)
    n_kp = 32;
  if (4 + 2 * n_kp > reg_len)
    n_kp = (reg_len - 4) / 2;
  GArray *cand = g_array_new (FALSE, FALSE, sizeof (MaceDetection));
  float logit = logf (threshold / (1.0f - threshold));
  for (int i = 0; i < a->n_anchors; i++) {
    if (!(scores[i] > logit))
      continue;
    const float *r = regs + (gsize) i * reg_len;
    float ax = a->anchors[2 * i] * iw, ay = a->anchors[2 * i + 1] * ih;
    MaceDetection d = { 0 };
    float cx = ax + r[0], cy = ay + r[1], w = r[2], h = r[3];
    d.x0 = cx - w / 2;
    d.y0 = cy - h / 2;
    d.x1 = cx + w / 2;
    d.y1 = cy + h / 2;
    d.score = 1.0f / (1.0f + expf (-scores[i]));
    d.n_kp = n_kp;
    for (int k = 0; k < n_kp; k++) {
      d.kp[k][0] = ax + r[4 + 2 * k];
      d.kp[k][1] = ay + r[5 + 2 * k];
    }
    g_array_append_val (cand, d);
  }
  g_array_sort (cand, by_score);
  MaceDetection *c = (MaceDetection *) cand->data;
  gboolean *used = g_new0 (gboolean, cand->len + 1);
  int n = 0;
  /* Weighted NMS (MediaPipe's blending): overlapping candidates are
   * averaged, weighted by score; the best score is kept. */
  for (guint i = 0; i < cand->len && n < max_out; i++) {
    if (used[i])
      continue;
    MaceDetection acc = { 0 };
    float wsum = 0;
    for (guint j = i; j < cand->len; j++) {
      if (used[j] || iou_of (&c[i], &c[j]) <= iou)
        continue;
      used[j] = TRUE;
      float w = c[j].score;
      wsum += w;
      acc.x0 += w * c[j].x0;
      acc.y0 += w * c[j].y0;
      acc.x1 += w * c[j].x1;
      acc.y1 += w * c[j].y1;
      for (int k = 0; k < n_kp; k++) {
        acc.kp[k][0] += w * c[j].kp[k][0];
        acc.kp[k][1] += w * c[j].kp[k][1];
      }
    }
    MaceDetection d = { 0 };
    d.score = c[i].score;
    d.n_kp = n_kp;
    /* From model pixels to normalised frame coordinates. */
#define MX(v) (float) (((v) / wsum - content->x) / content->w)
#define MY(v) (float) (((v) / wsum - content->y) / content->h)
    d.x0 = MX (acc.x0);
    d.y0 = MY (acc.y0);
    d.x1 = MX (acc.x1);
    d.y1 = MY (acc.y1);
    for (int k = 0; k < n_kp; k++) {
      d.kp[k][0] = MX (acc.kp[k][0]);
      d.kp[k][1] = MY (acc.kp[k][1]);
    }
#undef MX
#undef MY
    out[n++] = d;
  }
  g_free (used);
  g_array_free (cand, TRUE);
  return n;
}

gboolean
mace_tensor_to_frame (const float *src, MaceLayout layout, int h, int w,
                      float lo, float hi, gboolean bgr, GstVideoFrame *frame)
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  if (!mace_format_supported (fmt) || GST_VIDEO_FRAME_WIDTH (frame) != w ||
      GST_VIDEO_FRAME_HEIGHT (frame) != h)
    return FALSE;
  const float k = 255.0f / (hi - lo);
  const int plane = h * w;
  int r = 0, g = 0, b = 0, ps = 0;
  gboolean packed = packed_layout (fmt, &r, &g, &b, &ps);
  const int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
  for (int y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 0) +
                  (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    for (int x = 0; x < w; x++) {
      float px[3];
      for (int c = 0; c < 3; c++) {
        float v = layout == MACE_LAYOUT_NCHW ? src[c * plane + y * w + x]
                                             : src[(y * w + x) * 3 + c];
        px[c] = clampf ((v - lo) * k, 0.0f, 255.0f);
      }
      float R = px[ri], G = px[1], B = px[bi];
      if (packed) {
        guint8 *p = row + x * ps;
        p[r] = (guint8) lrintf (R);
        p[g] = (guint8) lrintf (G);
        p[b] = (guint8) lrintf (B);
        if (fmt == GST_VIDEO_FORMAT_RGBA || fmt == GST_VIDEO_FORMAT_BGRA)
          p[3] = 255;
        continue;
      }
      /* BT.601 limited range. */
      row[x] = (guint8) lrintf (16.0f + 0.256788f * R + 0.504129f * G +
                                0.097906f * B);
      if ((x & 1) == 0 && (y & 1) == 0) {
        float U = 128.0f - 0.148223f * R - 0.290993f * G + 0.439216f * B;
        float V = 128.0f + 0.439216f * R - 0.367788f * G - 0.071427f * B;
        if (fmt == GST_VIDEO_FORMAT_I420) {
          guint8 *u = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 1) +
                      (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
          guint8 *v = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 2) +
                      (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2);
          u[x / 2] = (guint8) lrintf (clampf (U, 0, 255));
          v[x / 2] = (guint8) lrintf (clampf (V, 0, 255));
        } else {
          guint8 *uv = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (frame, 1) +
                       (gsize) (y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
          uv[x] = (guint8) lrintf (clampf (U, 0, 255));
          uv[x + 1] = (guint8) lrintf (clampf (V, 0, 255));
        }
      }
    }
  }
  return TRUE;
}
