/* SPDX-License-Identifier: Apache-2.0
 * maceoverlay element tests with GstHarness: properties, drawing in every
 * format (box, landmarks, mask from a hand-made ROI meta), a custom mask
 * PNG, and a bad mask path. */
#include <string.h>

#include <glib/gstdio.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#define W 160
#define H 120
/* The hand-made detection: box and landmarks in frame pixels. */
#define BOX_X 40
#define BOX_Y 30
#define BOX_W 80
#define BOX_H 60
/* Landmarks, normalised: right eye, left eye, nose, mouth, two ears. */
static const double landmarks[12] = { 0.40, 0.40, 0.60, 0.40, 0.50, 0.55,
                                      0.50, 0.65, 0.30, 0.45, 0.70, 0.45 };

static const char *formats[]
    = { "RGBA", "BGRA", "RGBx", "BGRx", "RGB", "BGR", "I420", "NV12" };

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("maceoverlay", NULL);
  fail_unless (e != NULL);
  gchar *mask;
  gboolean boxes, lms, masks;
  gfloat scale;
  guint color;
  guint64 drawn;
  /* defaults */
  g_object_get (e, "mask", &mask, "draw-boxes", &boxes, "draw-landmarks", &lms,
                "draw-mask", &masks, "mask-scale", &scale, "color", &color,
                "masks-drawn", &drawn, NULL);
  fail_unless (mask == NULL);
  fail_unless (boxes && lms && masks);
  fail_unless (scale > 2.39f && scale < 2.41f);
  fail_unless_equals_int (color, 0xff00ff00u);
  fail_unless (drawn == 0);
  /* round trip */
  g_object_set (e, "mask", "/x/mask.png", "draw-boxes", FALSE, "draw-landmarks",
                FALSE, "draw-mask", FALSE, "mask-scale", 3.5f, "color",
                0x80123456u, NULL);
  g_object_get (e, "mask", &mask, "draw-boxes", &boxes, "draw-landmarks", &lms,
                "draw-mask", &masks, "mask-scale", &scale, "color", &color,
                NULL);
  fail_unless_equals_string (mask, "/x/mask.png");
  fail_unless (!boxes && !lms && !masks);
  fail_unless (scale > 3.49f && scale < 3.51f);
  fail_unless_equals_int (color, 0x80123456u);
  g_free (mask);
  /* back to the built-in mask */
  g_object_set (e, "mask", NULL, NULL);
  g_object_get (e, "mask", &mask, NULL);
  fail_unless (mask == NULL);
  /* ranges: mask-scale is clamped to 0.5 .. 10 by GObject */
  GParamSpec *ps
      = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "mask-scale");
  fail_unless (G_PARAM_SPEC_FLOAT (ps)->minimum == 0.5f
               && G_PARAM_SPEC_FLOAT (ps)->maximum == 10.0f);
  ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "masks-drawn");
  fail_unless (!(ps->flags & G_PARAM_WRITABLE));
  gst_object_unref (e);
}
GST_END_TEST;

/* A mid-grey frame of the format. */
static GstBuffer *
grey_frame (GstVideoInfo *vi)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, vi->size, NULL);
  gst_buffer_memset (b, 0, 128, vi->size);
  return b;
}

static void
add_detection (GstBuffer *b, double conf)
{
  GstVideoRegionOfInterestMeta *m
      = gst_buffer_add_video_region_of_interest_meta (b, "face", BOX_X, BOX_Y,
                                                      BOX_W, BOX_H);
  GValue kps = G_VALUE_INIT;
  gst_value_array_init (&kps, 12);
  for (int i = 0; i < 12; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, landmarks[i]);
    gst_value_array_append_and_take_value (&kps, &v);
  }
  GstStructure *s = gst_structure_new (
      "detection", "x", G_TYPE_DOUBLE, BOX_X / (double)W, "y", G_TYPE_DOUBLE,
      BOX_Y / (double)H, "w", G_TYPE_DOUBLE, BOX_W / (double)W, "h",
      G_TYPE_DOUBLE, BOX_H / (double)H, "confidence", G_TYPE_DOUBLE, conf,
      "label_id", G_TYPE_INT, 0, "label", G_TYPE_STRING, "face", NULL);
  gst_structure_take_value (s, "landmarks", &kps);
  gst_video_region_of_interest_meta_add_param (m, s);
}

/* RGB of pixel (x, y) of a mapped frame, any of the eight formats. */
static void
pixel_rgb (GstVideoFrame *f, int x, int y, int rgb[3])
{
  GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT (f);
  const guint8 *p0 = GST_VIDEO_FRAME_PLANE_DATA (f, 0);
  int s0 = GST_VIDEO_FRAME_PLANE_STRIDE (f, 0);
  int r = 0, g = 1, b = 2, ps = 0;
  switch (fmt) {
    case GST_VIDEO_FORMAT_RGB: ps = 3; break;
    case GST_VIDEO_FORMAT_BGR:
      r = 2;
      b = 0;
      ps = 3;
      break;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx: ps = 4; break;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx:
      r = 2;
      b = 0;
      ps = 4;
      break;
    default: break;
  }
  if (ps) {
    const guint8 *p = p0 + y * s0 + x * ps;
    rgb[0] = p[r];
    rgb[1] = p[g];
    rgb[2] = p[b];
    return;
  }
  int Y = p0[y * s0 + x], U, V;
  const guint8 *p1 = GST_VIDEO_FRAME_PLANE_DATA (f, 1);
  int s1 = GST_VIDEO_FRAME_PLANE_STRIDE (f, 1);
  if (fmt == GST_VIDEO_FORMAT_I420) {
    const guint8 *p2 = GST_VIDEO_FRAME_PLANE_DATA (f, 2);
    int s2 = GST_VIDEO_FRAME_PLANE_STRIDE (f, 2);
    U = p1[(y / 2) * s1 + x / 2];
    V = p2[(y / 2) * s2 + x / 2];
  } else {
    U = p1[(y / 2) * s1 + (x / 2) * 2];
    V = p1[(y / 2) * s1 + (x / 2) * 2 + 1];
  }
  double c = 1.164383 * (Y - 16), d = U - 128, e = V - 128;
  rgb[0] = CLAMP ((int)(c + 1.596027 * e), 0, 255);
  rgb[1] = CLAMP ((int)(c - 0.391762 * d - 0.812968 * e), 0, 255);
  rgb[2] = CLAMP ((int)(c + 2.017232 * d), 0, 255);
}

static gboolean
near_rgb (const int a[3], int r, int g, int b, int tol)
{
  return ABS (a[0] - r) <= tol && ABS (a[1] - g) <= tol
         && ABS (a[2] - b) <= tol;
}

/* Pushes a grey frame with one detection through maceoverlay (with the
 * given properties) and returns the output, mapped; *ref is the input,
 * mapped. */
typedef struct {
  GstHarness *h;
  GstBuffer *in, *out;
  GstVideoFrame fin, fout;
  GstVideoInfo vi;
} Run;

static void
run_overlay (Run *r, const char *format, const char *props, gboolean with_meta)
{
  gchar *desc = g_strdup_printf ("maceoverlay %s", props ? props : "");
  r->h = gst_harness_new_parse (desc);
  g_free (desc);
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", format, W, H);
  gst_harness_set_src_caps_str (r->h, caps);
  GstCaps *c = gst_caps_from_string (caps);
  fail_unless (gst_video_info_from_caps (&r->vi, c));
  gst_caps_unref (c);
  g_free (caps);
  GstBuffer *b = grey_frame (&r->vi);
  r->in = gst_buffer_copy (b);
  if (with_meta)
    add_detection (b, 0.9);
  r->out = gst_harness_push_and_pull (r->h, b);
  fail_unless (r->out != NULL, "%s: no output", format);
  fail_unless (gst_video_frame_map (&r->fin, &r->vi, r->in, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&r->fout, &r->vi, r->out, GST_MAP_READ));
}

static guint64
masks_drawn (Run *r)
{
  GstElement *e = gst_harness_find_element (r->h, "maceoverlay");
  guint64 n;
  g_object_get (e, "masks-drawn", &n, NULL);
  gst_object_unref (e);
  return n;
}

static void
run_done (Run *r)
{
  gst_video_frame_unmap (&r->fin);
  gst_video_frame_unmap (&r->fout);
  gst_buffer_unref (r->in);
  gst_buffer_unref (r->out);
  gst_harness_teardown (r->h);
}

static gboolean
changed (Run *r, int x, int y)
{
  int a[3], b[3];
  pixel_rgb (&r->fin, x, y, a);
  pixel_rgb (&r->fout, x, y, b);
  return !near_rgb (a, b[0], b[1], b[2], 2);
}

/* The whole frame except a rectangle (with margin) is untouched. */
static void
check_untouched_outside (Run *r, const char *fmt, int x0, int y0, int x1,
                         int y1)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      if (x >= x0 && x < x1 && y >= y0 && y < y1)
        continue;
      fail_if (changed (r, x, y),
               "%s: pixel (%d, %d) far from the detection changed", fmt, x, y);
    }
}

GST_START_TEST (test_formats_box_and_landmarks)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    const char *fmt = formats[i];
    Run r;
    /* boxes + landmarks only */
    run_overlay (&r, fmt, "draw-mask=false", TRUE);
    int px[3];
    /* Left edge of the box, an even row (chroma sited there): green. */
    pixel_rgb (&r.fout, BOX_X, BOX_Y + 20, px);
    fail_unless (px[1] > 200 && px[0] < 70 && px[2] < 70,
                 "%s: box edge is (%d,%d,%d), not green", fmt, px[0], px[1],
                 px[2]);
    pixel_rgb (&r.fout, BOX_X + BOX_W - 2, BOX_Y + 20, px);
    fail_unless (px[1] > 200 && px[0] < 70, "%s: right box edge not green",
                 fmt);
    pixel_rgb (&r.fout, BOX_X + 20, BOX_Y + BOX_H - 2, px);
    fail_unless (px[1] > 200 && px[0] < 70, "%s: bottom box edge not green",
                 fmt);
    /* The confidence bar above the box: 90% of its width. */
    fail_unless (changed (&r, BOX_X + 10, BOX_Y - 4), "%s: no confidence bar",
                 fmt);
    fail_if (changed (&r, BOX_X + BOX_W - 4, BOX_Y - 4),
             "%s: confidence bar longer than 0.9", fmt);
    /* Inside the box, away from edges and landmarks: untouched. */
    fail_if (changed (&r, BOX_X + 12, BOX_Y + 12), "%s: inside of box changed",
             fmt);
    /* Every landmark: a red dot. */
    for (int k = 0; k < 6; k++) {
      int lx = (int)(landmarks[2 * k] * W),
          ly = (int)(landmarks[2 * k + 1] * H);
      lx &= ~1;
      ly &= ~1;
      pixel_rgb (&r.fout, lx, ly, px);
      fail_unless (px[0] > 180 && px[1] < 90 && px[2] < 90,
                   "%s: landmark %d at (%d, %d) is (%d,%d,%d), not red", fmt, k,
                   lx, ly, px[0], px[1], px[2]);
    }
    /* Far away (margin for chroma siting): untouched. */
    check_untouched_outside (&r, fmt, BOX_X - 2, BOX_Y - 8, BOX_X + BOX_W + 2,
                             BOX_Y + BOX_H + 2);
    fail_unless (masks_drawn (&r) == 0);
    run_done (&r);
  }
}
GST_END_TEST;

GST_START_TEST (test_formats_mask)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    const char *fmt = formats[i];
    Run r;
    run_overlay (&r, fmt, "draw-boxes=false draw-landmarks=false", TRUE);
    /* Between the eyes: the built-in mask's band (120, 30, 160 at alpha
     * 230 over grey). */
    int px[3], mx = (int)(0.5 * W) & ~1, my = (int)(0.40 * H) & ~1;
    pixel_rgb (&r.fout, mx, my, px);
    fail_unless (near_rgb (px, 123, 37, 154, 14),
                 "%s: between the eyes (%d,%d,%d), not the mask's purple", fmt,
                 px[0], px[1], px[2]);
    /* The eye holes stay clear. */
    int ex = (int)(0.40 * W), ey = (int)(0.40 * H);
    fail_if (changed (&r, ex, ey), "%s: the right eye hole was painted", fmt);
    fail_unless (masks_drawn (&r) == 1);
    /* The mask is 2.4 x the eye distance (32 px) wide: inside +-40 px. */
    check_untouched_outside (&r, fmt, 80 - 44, 48 - 30, 80 + 44, 48 + 30);
    run_done (&r);
    /* No meta: nothing drawn at all. */
    run_overlay (&r, fmt, NULL, FALSE);
    check_untouched_outside (&r, fmt, 0, 0, 0, 0);
    fail_unless (masks_drawn (&r) == 0);
    run_done (&r);
  }
}
GST_END_TEST;

/* A solid blue PNG with alpha, written with gdk-pixbuf. */
static gchar *
write_blue_mask (const char *dir)
{
  GdkPixbuf *pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 100, 50);
  gdk_pixbuf_fill (pb, 0x0000ffffu); /* RGBA: blue, opaque */
  gchar *path = g_build_filename (dir, "blue-mask.png", NULL);
  GError *err = NULL;
  fail_unless (gdk_pixbuf_save (pb, path, "png", &err, NULL), "%s",
               err ? err->message : "");
  g_object_unref (pb);
  return path;
}

GST_START_TEST (test_custom_mask)
{
  gchar *dir = g_dir_make_tmp ("maceoverlay-XXXXXX", NULL);
  gchar *png = write_blue_mask (dir);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    const char *fmt = formats[i];
    gchar *props = g_strdup_printf (
        "mask=%s draw-boxes=false draw-landmarks=false", png);
    Run r;
    run_overlay (&r, fmt, props, TRUE);
    int px[3], mx = (int)(0.5 * W) & ~1, my = (int)(0.40 * H) & ~1;
    pixel_rgb (&r.fout, mx, my, px);
    fail_unless (near_rgb (px, 0, 0, 255, 24),
                 "%s: between the eyes (%d,%d,%d), not the PNG's blue", fmt,
                 px[0], px[1], px[2]);
    /* Mask of 100x50 with the eyes 40 px apart in it, scaled to 32 px:
     * 80 x 40 frame pixels around (80, 48) with the eye line at 45%. */
    pixel_rgb (&r.fout, (80 - 36) & ~1, 48, px);
    fail_unless (near_rgb (px, 0, 0, 255, 24), "%s: mask too narrow", fmt);
    fail_if (changed (&r, 80 - 46, 48), "%s: mask too wide", fmt);
    fail_if (changed (&r, 80, 48 - 24), "%s: mask too tall", fmt);
    check_untouched_outside (&r, fmt, 80 - 44, 48 - 26, 80 + 44, 48 + 26);
    run_done (&r);
    g_free (props);
  }
  /* mask-scale doubles the size: now 160 px wide, the frame's width. */
  gchar *props = g_strdup_printf (
      "mask=%s mask-scale=4.8 draw-boxes=false draw-landmarks=false", png);
  Run r;
  run_overlay (&r, "RGB", props, TRUE);
  fail_unless (changed (&r, 80 - 70, 48));
  run_done (&r);
  g_free (props);
  g_unlink (png);
  g_rmdir (dir);
  g_free (png);
  g_free (dir);
}
GST_END_TEST;

/* A rotated face: the eye line at 45 degrees puts the mask on that line. */
GST_START_TEST (test_rotated_mask)
{
  Run r;
  gchar *desc = g_strdup ("maceoverlay draw-boxes=false draw-landmarks=false");
  r.h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (
      r.h, "video/x-raw,format=RGB,width=160,height=120,framerate=30/1");
  gst_video_info_set_format (&r.vi, GST_VIDEO_FORMAT_RGB, W, H);
  GstBuffer *b = grey_frame (&r.vi);
  r.in = gst_buffer_copy (b);
  GstVideoRegionOfInterestMeta *m
      = gst_buffer_add_video_region_of_interest_meta (b, "face", 40, 20, 80,
                                                      80);
  GstStructure *s = gst_structure_new_empty ("detection");
  GValue kps = G_VALUE_INIT;
  /* eyes at (64, 44) and (88, 68): 45 degrees, 34 px apart */
  const double lm[4] = { 64.0 / W, 44.0 / H, 88.0 / W, 68.0 / H };
  gst_value_array_init (&kps, 4);
  for (int i = 0; i < 4; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, lm[i]);
    gst_value_array_append_and_take_value (&kps, &v);
  }
  gst_structure_take_value (s, "landmarks", &kps);
  gst_video_region_of_interest_meta_add_param (m, s);
  r.out = gst_harness_push_and_pull (r.h, b);
  gst_video_frame_map (&r.fin, &r.vi, r.in, GST_MAP_READ);
  gst_video_frame_map (&r.fout, &r.vi, r.out, GST_MAP_READ);
  /* along the eye line beyond the eyes: painted; across it: not */
  fail_unless (changed (&r, 76, 56));           /* midpoint */
  fail_unless (changed (&r, 76 - 24, 56 - 24)); /* beyond the right eye */
  fail_if (changed (&r, 76 + 30, 56 - 30));     /* perpendicular, far */
  run_done (&r);
}
GST_END_TEST;

GST_START_TEST (test_bad_mask)
{
  GstElement *p
      = gst_parse_launch ("videotestsrc num-buffers=1 ! maceoverlay "
                          "mask=/nonexistent/dir/no-mask.png ! fakesink",
                          NULL);
  fail_unless (p != NULL);
  GstStateChangeReturn ret = gst_element_set_state (p, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "no error message");
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  fail_unless (strstr (e->message, "/nonexistent/dir/no-mask.png") != NULL,
               "file not named in '%s'", e->message);
  fail_unless (e->domain == GST_RESOURCE_ERROR);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  /* A file that is not an image. */
  gchar *dir = g_dir_make_tmp ("maceoverlay-XXXXXX", NULL);
  gchar *bad = g_build_filename (dir, "garbage.png", NULL);
  g_file_set_contents (bad, "not a png at all", -1, NULL);
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=1 ! maceoverlay mask=%s ! fakesink", bad);
  p = gst_parse_launch (desc, NULL);
  ret = gst_element_set_state (p, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (p);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_parse_error (m, &e, &dbg);
  fail_unless (strstr (e->message, "garbage.png") != NULL);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_unlink (bad);
  g_rmdir (dir);
  g_free (bad);
  g_free (desc);
  g_free (dir);
}
GST_END_TEST;

/* Garbage landmarks (far outside the frame) must not hang or crash. */
GST_START_TEST (test_wild_landmarks)
{
  GstHarness *h = gst_harness_new_parse ("maceoverlay");
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=I420,width=160,height=120,framerate=30/1");
  GstVideoInfo vi;
  gst_video_info_set_format (&vi, GST_VIDEO_FORMAT_I420, W, H);
  GstBuffer *b = grey_frame (&vi);
  GstVideoRegionOfInterestMeta *m
      = gst_buffer_add_video_region_of_interest_meta (b, "face", 150, 110, 400,
                                                      400);
  GstStructure *s = gst_structure_new_empty ("detection");
  GValue kps = G_VALUE_INIT;
  const double lm[4] = { -3000.0, -2000.0, 5000.0, 4000.0 };
  gst_value_array_init (&kps, 4);
  for (int i = 0; i < 4; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, lm[i]);
    gst_value_array_append_and_take_value (&kps, &v);
  }
  gst_structure_take_value (s, "landmarks", &kps);
  gst_video_region_of_interest_meta_add_param (m, s);
  gint64 t0 = g_get_monotonic_time ();
  GstBuffer *o = gst_harness_push_and_pull (h, b);
  fail_unless (o != NULL);
  gint64 ms = (g_get_monotonic_time () - t0) / 1000;
  fail_unless (ms < 2000,
               "a frame with far-away landmarks took %" G_GINT64_FORMAT " ms",
               ms);
  gst_buffer_unref (o);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
maceoverlay_suite (void)
{
  Suite *s = suite_create ("maceoverlay");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_formats_box_and_landmarks);
  tcase_add_test (tc, test_formats_mask);
  tcase_add_test (tc, test_custom_mask);
  tcase_add_test (tc, test_rotated_mask);
  tcase_add_test (tc, test_bad_mask);
  tcase_add_test (tc, test_wild_landmarks);
  return s;
}

GST_CHECK_MAIN (maceoverlay);
