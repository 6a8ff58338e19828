/* SPDX-License-Identifier: Apache-2.0 */
/**
 * SECTION:element-maceoverlay
 * @title: maceoverlay
 *
 * Draws what macefilter found: a box, the confidence and the landmarks of
 * every GstVideoRegionOfInterestMeta with a `detection` parameter, and an
 * AR mask (a PNG with alpha, or the built-in one) scaled, rotated and
 * placed by the eye landmarks, alpha-blended.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,width=640,height=480
 * ! macefilter model=face_detection_front_128x128_barracuda.onnx ! maceoverlay
 * ! fakesink gst-launch-1.0 v4l2src ! videoconvert ! macefilter model=face.onnx
 * ! maceoverlay mask=mask.png draw-boxes=false ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmaceoverlay.h"

#include <math.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/video/gstvideometa.h>

GST_DEBUG_CATEGORY_STATIC (gst_mace_overlay_debug);
#define GST_CAT_DEFAULT gst_mace_overlay_debug

enum {
  PROP_0,
  PROP_MASK,
  PROP_DRAW_BOXES,
  PROP_DRAW_LANDMARKS,
  PROP_DRAW_MASK,
  PROP_MASK_SCALE,
  PROP_COLOR,
  PROP_MASKS_DRAWN,
};

#define DEFAULT_PROP_DRAW_BOXES TRUE
#define DEFAULT_PROP_DRAW_LANDMARKS TRUE
#define DEFAULT_PROP_DRAW_MASK TRUE
#define DEFAULT_PROP_MASK_SCALE 2.4f
#define DEFAULT_PROP_COLOR 0xff00ff00u

#define OVERLAY_FORMATS "{ RGBA, BGRA, RGBx, BGRx, RGB, BGR, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));

struct _GstMaceOverlay {
  GstVideoFilter parent;
  gchar *mask_path;
  gboolean draw_boxes, draw_landmarks, draw_mask;
  gfloat mask_scale;
  guint color; /* ARGB */
  guint64 masks_drawn;
  /* mask image, RGBA, straight alpha */
  guint8 *mask;
  int mask_w, mask_h;
};

#define gst_mace_overlay_parent_class parent_class
G_DEFINE_TYPE (GstMaceOverlay, gst_mace_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (maceoverlay, "maceoverlay", GST_RANK_NONE,
                             GST_TYPE_MACE_OVERLAY);

static void gst_mace_overlay_set_property (GObject *o, guint id,
                                           const GValue *v, GParamSpec *p);
static void gst_mace_overlay_get_property (GObject *o, guint id, GValue *v,
                                           GParamSpec *p);
static void gst_mace_overlay_finalize (GObject *o);
static gboolean gst_mace_overlay_start (GstBaseTransform *t);
static gboolean gst_mace_overlay_stop (GstBaseTransform *t);
static GstFlowReturn gst_mace_overlay_transform_frame_ip (GstVideoFilter *f,
                                                          GstVideoFrame *fr);

static void
gst_mace_overlay_class_init (GstMaceOverlayClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *vf_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw
      = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  gobject_class->set_property = gst_mace_overlay_set_property;
  gobject_class->get_property = gst_mace_overlay_get_property;
  gobject_class->finalize = gst_mace_overlay_finalize;

  g_object_class_install_property (
      gobject_class, PROP_MASK,
      g_param_spec_string (
          "mask", "Mask",
          "PNG with alpha drawn over each face, eyes at 30%/70% of its width "
          "and 45% of its height; NULL = the built-in mask",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (
      gobject_class, PROP_DRAW_BOXES,
      g_param_spec_boolean ("draw-boxes", "Draw boxes",
                            "Draw detection boxes and confidence bars",
                            DEFAULT_PROP_DRAW_BOXES, rw));
  g_object_class_install_property (
      gobject_class, PROP_DRAW_LANDMARKS,
      g_param_spec_boolean ("draw-landmarks", "Draw landmarks",
                            "Draw a dot on each landmark",
                            DEFAULT_PROP_DRAW_LANDMARKS, rw));
  g_object_class_install_property (
      gobject_class, PROP_DRAW_MASK,
      g_param_spec_boolean ("draw-mask", "Draw mask",
                            "Draw the AR mask on faces with eye landmarks",
                            DEFAULT_PROP_DRAW_MASK, rw));
  g_object_class_install_property (
      gobject_class, PROP_MASK_SCALE,
      g_param_spec_float (
          "mask-scale", "Mask scale",
          "Mask width as a multiple of the distance between the eyes", 0.5f,
          10.0f, DEFAULT_PROP_MASK_SCALE, rw));
  g_object_class_install_property (
      gobject_class, PROP_COLOR,
      g_param_spec_uint ("color", "Color", "Box colour, 0xAARRGGBB", 0,
                         G_MAXUINT32, DEFAULT_PROP_COLOR, rw));
  g_object_class_install_property (
      gobject_class, PROP_MASKS_DRAWN,
      g_param_spec_uint64 ("masks-drawn", "Masks drawn",
                           "Number of masks drawn so far (read-only)", 0,
                           G_MAXUINT64, 0,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (
      element_class, "MACE overlay", "Filter/Effect/Video",
      "Draws detections (boxes, confidence, landmarks) and an AR mask from "
      "region-of-interest metadata",
      "gst-mace developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_mace_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_mace_overlay_stop);
  vf_class->transform_frame_ip
      = GST_DEBUG_FUNCPTR (gst_mace_overlay_transform_frame_ip);
  GST_DEBUG_CATEGORY_INIT (gst_mace_overlay_debug, "maceoverlay", 0,
                           "MACE overlay");
}

static void
gst_mace_overlay_init (GstMaceOverlay *self)
{
  self->draw_boxes = DEFAULT_PROP_DRAW_BOXES;
  self->draw_landmarks = DEFAULT_PROP_DRAW_LANDMARKS;
  self->draw_mask = DEFAULT_PROP_DRAW_MASK;
  self->mask_scale = DEFAULT_PROP_MASK_SCALE;
  self->color = DEFAULT_PROP_COLOR;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_mace_overlay_finalize (GObject *o)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (o);
  g_free (self->mask_path);
  g_free (self->mask);
  G_OBJECT_CLASS (parent_class)->finalize (o);
}

static void
gst_mace_overlay_set_property (GObject *o, guint id, const GValue *v,
                               GParamSpec *p)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (o);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_MASK:
      g_free (self->mask_path);
      self->mask_path = g_value_dup_string (v);
      break;
    case PROP_DRAW_BOXES: self->draw_boxes = g_value_get_boolean (v); break;
    case PROP_DRAW_LANDMARKS:
      self->draw_landmarks = g_value_get_boolean (v);
      break;
    case PROP_DRAW_MASK: self->draw_mask = g_value_get_boolean (v); break;
    case PROP_MASK_SCALE: self->mask_scale = g_value_get_float (v); break;
    case PROP_COLOR: self->color = g_value_get_uint (v); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (o, id, p); break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mace_overlay_get_property (GObject *o, guint id, GValue *v, GParamSpec *p)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (o);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_MASK: g_value_set_string (v, self->mask_path); break;
    case PROP_DRAW_BOXES: g_value_set_boolean (v, self->draw_boxes); break;
    case PROP_DRAW_LANDMARKS:
      g_value_set_boolean (v, self->draw_landmarks);
      break;
    case PROP_DRAW_MASK: g_value_set_boolean (v, self->draw_mask); break;
    case PROP_MASK_SCALE: g_value_set_float (v, self->mask_scale); break;
    case PROP_COLOR: g_value_set_uint (v, self->color); break;
    case PROP_MASKS_DRAWN: g_value_set_uint64 (v, self->masks_drawn); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (o, id, p); break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The built-in mask: a masquerade eye mask with two eye holes. */
static void
make_default_mask (GstMaceOverlay *self)
{
  const int w = 256, h = 128;
  self->mask = g_malloc0 ((gsize)w * h * 4);
  self->mask_w = w;
  self->mask_h = h;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float u = (x + 0.5f) / w, v = (y + 0.5f) / h;
      /* Band: a wide ellipse centred on the eye line. */
      float du = (u - 0.5f) / 0.5f, dv = (v - 0.45f) / 0.33f;
      float band = du * du + dv * dv;
      /* Eye holes at (0.3, 0.45) and (0.7, 0.45). */
      float e1 = powf ((u - 0.3f) / 0.11f, 2) + powf ((v - 0.45f) / 0.13f, 2);
      float e2 = powf ((u - 0.7f) / 0.11f, 2) + powf ((v - 0.45f) / 0.13f, 2);
      guint8 *p = self->mask + ((gsize)y * w + x) * 4;
      if (band < 1.0f && e1 > 1.0f && e2 > 1.0f) {
        float edge = (e1 < 1.4f || e2 < 1.4f || band > 0.85f) ? 1.0f : 0.0f;
        p[0] = edge ? 240 : 120;
        p[1] = edge ? 200 : 30;
        p[2] = edge ? 40 : 160;
        p[3] = 230;
      }
    }
}

static gboolean
gst_mace_overlay_start (GstBaseTransform *t)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (t);
  g_free (self->mask);
  self->mask = NULL;
  self->masks_drawn = 0;
  if (!self->mask_path) {
    make_default_mask (self);
    return TRUE;
  }
  GError *err = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (self->mask_path, &err);
  if (!pb)
    goto bad_mask;
  GdkPixbuf *rgba = pb;
  if (!gdk_pixbuf_get_has_alpha (pb))
    rgba = gdk_pixbuf_add_alpha (pb, FALSE, 0, 0, 0);
  self->mask_w = gdk_pixbuf_get_width (rgba);
  self->mask_h = gdk_pixbuf_get_height (rgba);
  self->mask = g_malloc ((gsize)self->mask_w * self->mask_h * 4);
  for (int y = 0; y < self->mask_h; y++)
    memcpy (self->mask + (gsize)y * self->mask_w * 4,
            gdk_pixbuf_get_pixels (rgba)
                + (gsize)y * gdk_pixbuf_get_rowstride (rgba),
            (gsize)self->mask_w * 4);
  if (rgba != pb)
    g_object_unref (rgba);
  g_object_unref (pb);
  return TRUE;

  /* ERRORS */
bad_mask:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
                     ("Cannot read mask image %s", self->mask_path),
                     ("%s", err->message));
  g_clear_error (&err);
  return FALSE;
}

static gboolean
gst_mace_overlay_stop (GstBaseTransform *t)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (t);
  g_free (self->mask);
  self->mask = NULL;
  return TRUE;
}

/* ---- pixel access for every supported format ------------------------- */

typedef struct {
  GstVideoFrame *f;
  GstVideoFormat fmt;
  int w, h;
  int r, g, b, ps; /* packed */
} Canvas;

static void
blend_px (Canvas *c, int x, int y, float R, float G, float B, float a)
{
  if (x < 0 || y < 0 || x >= c->w || y >= c->h || a <= 0)
    return;
  if (c->ps) {
    guint8 *p = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (c->f, 0)
                + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (c->f, 0) + x * c->ps;
    p[c->r] = (guint8)(p[c->r] + a * (R - p[c->r]));
    p[c->g] = (guint8)(p[c->g] + a * (G - p[c->g]));
    p[c->b] = (guint8)(p[c->b] + a * (B - p[c->b]));
    return;
  }
  guint8 *Y = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (c->f, 0)
              + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (c->f, 0) + x;
  float yy = 16.0f + 0.256788f * R + 0.504129f * G + 0.097906f * B;
  *Y = (guint8)(*Y + a * (yy - *Y));
  if ((x & 1) || (y & 1))
    return;
  float U = 128.0f - 0.148223f * R - 0.290993f * G + 0.439216f * B;
  float V = 128.0f + 0.439216f * R - 0.367788f * G - 0.071427f * B;
  if (c->fmt == GST_VIDEO_FORMAT_I420) {
    guint8 *u = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (c->f, 1)
                + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (c->f, 1)
                + x / 2;
    guint8 *v = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (c->f, 2)
                + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (c->f, 2)
                + x / 2;
    *u = (guint8)(*u + a * (U - *u));
    *v = (guint8)(*v + a * (V - *v));
  } else {
    guint8 *uv = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (c->f, 1)
                 + (gsize)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (c->f, 1) + x;
    uv[0] = (guint8)(uv[0] + a * (U - uv[0]));
    uv[1] = (guint8)(uv[1] + a * (V - uv[1]));
  }
}

static void
fill_rect (Canvas *c, int x0, int y0, int x1, int y1, guint argb)
{
  float a = ((argb >> 24) & 255) / 255.0f;
  float R = (argb >> 16) & 255, G = (argb >> 8) & 255, B = argb & 255;
  for (int y = MAX (y0, 0); y < MIN (y1, c->h); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, c->w); x++)
      blend_px (c, x, y, R, G, B, a);
}

static void
draw_box (Canvas *c, int x0, int y0, int x1, int y1, int t, guint argb)
{
  fill_rect (c, x0, y0, x1, y0 + t, argb);
  fill_rect (c, x0, y1 - t, x1, y1, argb);
  fill_rect (c, x0, y0, x0 + t, y1, argb);
  fill_rect (c, x1 - t, y0, x1, y1, argb);
}

/* Mask placed by the eyes: its eye points (0.3, 0.45) and (0.7, 0.45) of
 * its size go to the face's eyes, widened by `scale` around their
 * midpoint. */
static void
draw_mask (GstMaceOverlay *self, Canvas *c, float ex0, float ey0, float ex1,
           float ey1)
{
  float dx = ex1 - ex0, dy = ey1 - ey0;
  float dist = sqrtf (dx * dx + dy * dy);
  if (!isfinite (dist) || dist < 2.0f || !self->mask)
    return;
  float angle = atan2f (dy, dx);
  /* frame pixels per mask pixel: the mask's eye distance (0.4 of its
   * width) spans the face's, times mask-scale relative to the default. */
  float s = dist / (0.4f * self->mask_w)
            * (self->mask_scale / DEFAULT_PROP_MASK_SCALE);
  float cx = (ex0 + ex1) / 2, cy = (ey0 + ey1) / 2;
  float ca = cosf (angle), sa = sinf (angle);
  float half_w = self->mask_w * s, half_h = self->mask_h * s;
  float rad = sqrtf (half_w * half_w + half_h * half_h);
  /* Only the part inside the frame: landmarks far outside it (a bad
   * detection, or metadata from elsewhere) would otherwise mean billions
   * of iterations, and float-to-int overflow. */
  int y0 = (int)CLAMP (cy - rad, 0.0f, (float)c->h);
  int y1 = (int)CLAMP (cy + rad + 1.0f, 0.0f, (float)c->h);
  int x0 = (int)CLAMP (cx - rad, 0.0f, (float)c->w);
  int x1 = (int)CLAMP (cx + rad + 1.0f, 0.0f, (float)c->w);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      float px = x - cx, py = y - cy;
      /* inverse rotation, then into mask pixels around its eye midpoint */
      float mx = (ca * px + sa * py) / s + 0.5f * self->mask_w;
      float my = (-sa * px + ca * py) / s + 0.45f * self->mask_h;
      int ix = (int)mx, iy = (int)my;
      if (mx < 0 || my < 0 || ix >= self->mask_w || iy >= self->mask_h)
        continue;
      const guint8 *m = self->mask + ((gsize)iy * self->mask_w + ix) * 4;
      if (m[3])
        blend_px (c, x, y, m[0], m[1], m[2], m[3] / 255.0f);
    }
}

/* Landmark coordinate i (normalised) as a double; doubles and floats are
 * accepted, anything else (or not finite) reads as NAN. */
static double
landmark (const GValue *lm, guint i)
{
  const GValue *v = gst_value_array_get_value (lm, i);
  double d = NAN;
  if (G_VALUE_HOLDS_DOUBLE (v))
    d = g_value_get_double (v);
  else if (G_VALUE_HOLDS_FLOAT (v))
    d = g_value_get_float (v);
  return isfinite (d) ? d : NAN;
}

/* A normalised coordinate to a frame pixel, kept well inside int range. */
static int
to_px (double v, int size)
{
  if (!isfinite (v))
    return -1000000;
  return (int)CLAMP (v * size, -1e6, 1e6);
}

static GstFlowReturn
gst_mace_overlay_transform_frame_ip (GstVideoFilter *filter,
                                     GstVideoFrame *frame)
{
  GstMaceOverlay *self = GST_MACE_OVERLAY (filter);
  Canvas c = { .f = frame,
               .fmt = GST_VIDEO_FRAME_FORMAT (frame),
               .w = GST_VIDEO_FRAME_WIDTH (frame),
               .h = GST_VIDEO_FRAME_HEIGHT (frame) };
  switch (c.fmt) {
    case GST_VIDEO_FORMAT_RGB:
      c.r = 0;
      c.g = 1;
      c.b = 2;
      c.ps = 3;
      break;
    case GST_VIDEO_FORMAT_BGR:
      c.r = 2;
      c.g = 1;
      c.b = 0;
      c.ps = 3;
      break;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx:
      c.r = 0;
      c.g = 1;
      c.b = 2;
      c.ps = 4;
      break;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      c.r = 2;
      c.g = 1;
      c.b = 0;
      c.ps = 4;
      break;
    default: c.ps = 0; break;
  }
  GST_OBJECT_LOCK (self);
  gpointer state = NULL;
  GstMeta *meta;
  int thick = MAX (2, c.w / 320);
  while ((
      meta = gst_buffer_iterate_meta_filtered (
          frame->buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    GstStructure *d
        = gst_video_region_of_interest_meta_get_param (roi, "detection");
    double conf = 0;
    if (d)
      gst_structure_get_double (d, "confidence", &conf);
    /* ROI fields are unsigned: keep the sums inside int range. */
    int x0 = (int)MIN (roi->x, 1000000u), y0 = (int)MIN (roi->y, 1000000u);
    int x1 = x0 + (int)MIN (roi->w, 1000000u);
    int y1 = y0 + (int)MIN (roi->h, 1000000u);
    const GValue *lm = d ? gst_structure_get_value (d, "landmarks") : NULL;
    guint n_lm = lm && GST_VALUE_HOLDS_ARRAY (lm)
                     ? gst_value_array_get_size (lm) / 2
                     : 0;
    if (self->draw_mask && n_lm >= 2) {
      float p[4];
      for (int k = 0; k < 4; k++)
        p[k] = (float)landmark (lm, k);
      /* Landmark 0 is the person's right eye (left in the image). */
      draw_mask (self, &c, p[0] * c.w, p[1] * c.h, p[2] * c.w, p[3] * c.h);
      self->masks_drawn++;
    }
    if (self->draw_boxes) {
      draw_box (&c, x0, y0, x1, y1, thick, self->color);
      /* Confidence as a bar above the box: full width = 1.0. */
      int bw = (int)((x1 - x0) * CLAMP (conf, 0.0, 1.0));
      fill_rect (&c, x0, y0 - 3 * thick, x0 + bw, y0 - thick, self->color);
    }
    if (self->draw_landmarks)
      for (guint k = 0; k < n_lm; k++) {
        int lx = to_px (landmark (lm, 2 * k), c.w);
        int ly = to_px (landmark (lm, 2 * k + 1), c.h);
        fill_rect (&c, lx - thick, ly - thick, lx + thick + 1, ly + thick + 1,
                   0xffff2020u);
      }
  }
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;
}
