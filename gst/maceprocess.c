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
    case GST_VIDEO_FORMAT_NV12: return TRUE;
    default: return FALSE;
  }
}

/* Channel offsets of R, G, B and pixel stride for packed formats. */
static gboolean
packed_layout (GstVideoFormat f, int *r, int *g, int *b, int *ps)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
      *r = 0;
      *g = 1;
      *b = 2;
      *ps = 3;
      return TRUE;
    case GST_VIDEO_FORMAT_BGR:
      *r = 2;
      *g = 1;
      *b = 0;
      *ps = 3;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx:
      *r = 0;
      *g = 1;
      *b = 2;
      *ps = 4;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      *r = 2;
      *g = 1;
      *b = 0;
      *ps = 4;
      return TRUE;
    default: return FALSE;
  }
}

static inline float
clampf (float v, float lo, float hi)
{
  return v < lo ? lo : v > hi ? hi : v;
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
    total += ((ih + s - 1) / s) * ((iw + s - 1) / s) * same
             * c->anchors_per_stride;
    l += same;
  }
  a->n_anchors = total;
  a->anchors = g_new (float, (gsize)total * 2 + 2);
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
  float u = (a->x1 - a->x0) * (a->y1 - a->y0)
            + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
  return u > 0 ? inter / u : 0;
}

static int
by_score (gconstpointer a, gconstpointer b)
{
  float x = ((const MaceDetection *)a)->score,
        y = ((const MaceDetection *)b)->score;
  return x < y ? 1 : x > y ? -1 : 0;
}

int
mace_decode_blazeface (const MaceAnchors *a, const float *scores,
                       const float *regs, int reg_len, int ih, int iw,
                       const MaceContentRect *content, float threshold,
                       float iou, int n_kp, MaceDetection *out, int max_out)
{
  MaceAnchorGroup g = { scores, regs, a->n_anchors, reg_len };
  return mace_decode_blazeface_groups (a, &g, 1, ih, iw, content, threshold,
                                       iou, n_kp, out, max_out);
}

int
mace_decode_blazeface_groups (const MaceAnchors *a,
                              const MaceAnchorGroup *groups, int n_groups,
                              int ih, int iw, const MaceContentRect *content,
                              float threshold, float iou, int n_kp,
                              MaceDetection *out, int max_out)
{
  int reg_len = n_groups > 0 ? groups[n_groups - 1].reg_len : 4;
  if (n_kp > 32)
    n_kp = 32;
  if (4 + 2 * n_kp > reg_len)
    n_kp = (reg_len - 4) / 2;
  /* Logits are compared with the threshold's logit: the sigmoid is only
   * worked out for the candidates. */
  float logit = logf (threshold / (1.0f - threshold));
  GArray *cand = NULL;
  int base = 0; /* index of the group's first anchor */
  for (int g = 0; g < n_groups; g++) {
    const float *scores = groups[g].scores;
    const int n = MIN (groups[g].n, a->n_anchors - base);
    for (int k = 0; k < n; k++) {
      if (!(scores[k] > logit))
        continue;
      const float *r = groups[g].regs + (gsize)k * groups[g].reg_len;
      const int ai = base + k;
      float ax = a->anchors[2 * ai] * iw, ay = a->anchors[2 * ai + 1] * ih;
      MaceDetection d = { 0 };
      float cx = ax + r[0], cy = ay + r[1], w = r[2], h = r[3];
      d.x0 = cx - w / 2;
      d.y0 = cy - h / 2;
      d.x1 = cx + w / 2;
      d.y1 = cy + h / 2;
      d.score = 1.0f / (1.0f + expf (-scores[k]));
      d.n_kp = n_kp;
      for (int q = 0; q < n_kp; q++) {
        d.kp[q][0] = ax + r[4 + 2 * q];
        d.kp[q][1] = ay + r[5 + 2 * q];
      }
      if (!cand)
        cand = g_array_new (FALSE, FALSE, sizeof (MaceDetection));
      g_array_append_val (cand, d);
    }
    base += n;
  }
  if (!cand)
    return 0;
  g_array_sort (cand, by_score);
  MaceDetection *c = (MaceDetection *)cand->data;
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
#define MX(v) (float)(((v) / wsum - content->x) / content->w)
#define MY(v) (float)(((v) / wsum - content->y) / content->h)
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
                      float lo, float hi, gboolean bgr, GstVideoFrame *frame,
                      GThreadPool *pool)
{
  if (GST_VIDEO_FRAME_WIDTH (frame) != w || GST_VIDEO_FRAME_HEIGHT (frame) != h)
    return FALSE;
  return mace_tensor_to_frame_region (src, layout, h, w, 0, 0, w, h, 0, 0, lo,
                                      hi, bgr, frame, pool);
}

typedef struct {
  const float *src;
  MaceLayout layout;
  int h, w, sx, sy, rw, dx, dy;
  float lo, k;
  gboolean bgr;
  GstVideoFrame *frame;
} ToFrame;

static inline guint8
to_byte (float v, float lo, float k)
{
  return (guint8)lrintf (clampf ((v - lo) * k, 0.0f, 255.0f));
}

/* Tensor rows [ty0, ty1) of the region. */
static void
to_frame_rows (const ToFrame *t, int ty0, int ty1)
{
  GstVideoFrame *frame = t->frame;
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  const float lo = t->lo, k = t->k;
  const int plane = t->h * t->w, w = t->w, sx = t->sx, rw = t->rw;
  int r = 0, g = 0, b = 0, ps = 0;
  gboolean packed = packed_layout (fmt, &r, &g, &b, &ps);
  const int ri = t->bgr ? 2 : 0, bi = t->bgr ? 0 : 2;
  const gboolean nhwc = t->layout != MACE_LAYOUT_NCHW;
  for (int ty = ty0; ty < ty1; ty++) {
    int y = ty - t->sy + t->dy;
    guint8 *row = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (frame, 0)
                  + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    if (packed && nhwc && ps == 3 && r == ri && b == bi) {
      /* The bytes in the tensor's channel order: one flat loop. */
      const float *s = t->src + ((gsize)ty * w + sx) * 3;
      guint8 *d = row + t->dx * 3;
      for (int i = 0; i < 3 * rw; i++)
        d[i] = to_byte (s[i], lo, k);
      continue;
    }
    if (packed && nhwc) {
      const float *s = t->src + ((gsize)ty * w + sx) * 3;
      guint8 *d = row + t->dx * ps;
      const gboolean alpha
          = fmt == GST_VIDEO_FORMAT_RGBA || fmt == GST_VIDEO_FORMAT_BGRA;
      for (int i = 0; i < rw; i++, s += 3, d += ps) {
        d[r] = to_byte (s[ri], lo, k);
        d[g] = to_byte (s[1], lo, k);
        d[b] = to_byte (s[bi], lo, k);
        if (alpha)
          d[3] = 255;
      }
      continue;
    }
    for (int tx = sx; tx < sx + rw; tx++) {
      int x = tx - sx + t->dx;
      float px[3];
      for (int c = 0; c < 3; c++) {
        float v = nhwc ? t->src[((gsize)ty * w + tx) * 3 + c]
                       : t->src[(gsize)c * plane + (gsize)ty * w + tx];
        px[c] = clampf ((v - lo) * k, 0.0f, 255.0f);
      }
      float R = px[ri], G = px[1], B = px[bi];
      if (packed) {
        guint8 *p = row + x * ps;
        p[r] = (guint8)lrintf (R);
        p[g] = (guint8)lrintf (G);
        p[b] = (guint8)lrintf (B);
        if (fmt == GST_VIDEO_FORMAT_RGBA || fmt == GST_VIDEO_FORMAT_BGRA)
          p[3] = 255;
        continue;
      }
      /* BT.601 limited range. */
      row[x] = (guint8)lrintf (16.0f + 0.256788f * R + 0.504129f * G
                               + 0.097906f * B);
      if ((x & 1) == 0 && (y & 1) == 0) {
        float U = 128.0f - 0.148223f * R - 0.290993f * G + 0.439216f * B;
        float V = 128.0f + 0.439216f * R - 0.367788f * G - 0.071427f * B;
        if (fmt == GST_VIDEO_FORMAT_I420) {
          guint8 *u
              = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (frame, 1)
                + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
          guint8 *v
              = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (frame, 2)
                + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2);
          u[x / 2] = (guint8)lrintf (clampf (U, 0, 255));
          v[x / 2] = (guint8)lrintf (clampf (V, 0, 255));
        } else {
          guint8 *uv
              = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (frame, 1)
                + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
          uv[x] = (guint8)lrintf (clampf (U, 0, 255));
          uv[x + 1] = (guint8)lrintf (clampf (V, 0, 255));
        }
      }
    }
  }
}

/* A band of rows for a pool thread; the last one done signals. */
typedef struct {
  const ToFrame *t;
  int ty0, ty1;
  gint *left;
  GMutex *lock;
  GCond *done;
} Band;

static void
band_run (gpointer data, gpointer user_data)
{
  (void)user_data;
  Band *b = data;
  to_frame_rows (b->t, b->ty0, b->ty1);
  g_mutex_lock (b->lock);
  if (--*b->left == 0)
    g_cond_signal (b->done);
  g_mutex_unlock (b->lock);
}

GThreadPool *
mace_to_frame_pool_new (void)
{
  gint n = (gint)CLAMP (g_get_num_processors (), 1, 8) - 1;
  return n > 0 ? g_thread_pool_new (band_run, NULL, n, FALSE, NULL) : NULL;
}

gboolean
mace_tensor_to_frame_region (const float *src, MaceLayout layout, int h, int w,
                             int sx, int sy, int rw, int rh, int dx, int dy,
                             float lo, float hi, gboolean bgr,
                             GstVideoFrame *frame, GThreadPool *pool)
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (frame);
  if (!mace_format_supported (fmt) || sx < 0 || sy < 0 || sx + rw > w
      || sy + rh > h || dx < 0 || dy < 0
      || dx + rw > GST_VIDEO_FRAME_WIDTH (frame)
      || dy + rh > GST_VIDEO_FRAME_HEIGHT (frame))
    return FALSE;
  ToFrame t = { .src = src,
                .layout = layout,
                .h = h,
                .w = w,
                .sx = sx,
                .sy = sy,
                .rw = rw,
                .dx = dx,
                .dy = dy,
                .lo = lo,
                .k = 255.0f / (hi - lo),
                .bgr = bgr,
                .frame = frame };
  /* Bands of even height (a chroma row belongs to one band), at least
   * 64K pixels each: below that a thread costs more than it saves. */
  int n = pool ? (int)g_thread_pool_get_max_threads (pool) + 1 : 1;
  n = MIN (n, (int)MAX (1, (gint64)rw * rh / 65536));
  if (n <= 1) {
    to_frame_rows (&t, sy, sy + rh);
    return TRUE;
  }
  int step = ((rh + n - 1) / n + 1) & ~1;
  Band bands[9];
  GMutex lock;
  GCond done;
  g_mutex_init (&lock);
  g_cond_init (&done);
  gint left = 0;
  int nb = 0;
  for (int y = 0; y < rh && nb < 9; y += step, nb++)
    bands[nb]
        = (Band){ &t, sy + y, sy + MIN (y + step, rh), &left, &lock, &done };
  left = nb - 1;
  for (int i = 1; i < nb; i++)
    g_thread_pool_push (pool, &bands[i], NULL);
  to_frame_rows (&t, bands[0].ty0, bands[0].ty1);
  g_mutex_lock (&lock);
  while (left > 0)
    g_cond_wait (&done, &lock);
  g_mutex_unlock (&lock);
  g_mutex_clear (&lock);
  g_cond_clear (&done);
  return TRUE;
}
