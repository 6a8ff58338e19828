/* SPDX-License-Identifier: Apache-2.0
 * macefilter / maceoverlay element tests with GstHarness.
 * MACE_SOURCE_ROOT points at the source tree (models/, images). */
#include <string.h>

#include <glib/gstdio.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

static gchar *
src_path (const char *rel)
{
  const char *root = g_getenv ("MACE_SOURCE_ROOT");
  return g_build_filename (root ? root : ".", rel, NULL);
}

static gchar *
face_model (void)
{
  return src_path ("models/blazeface/face_detection_front_128x128_barracuda.onnx");
}

#define REQUIRE_FILE(p)                                                      \
  G_STMT_START {                                                             \
    if (!g_file_test ((p), G_FILE_TEST_EXISTS)) {                            \
      GST_WARNING ("%s missing (run models/fetch): skipping", (p));          \
      g_free (p);                                                            \
      return;                                                                \
    }                                                                        \
  } G_STMT_END

/* Astronaut as a packed RGB buffer of its own size. */
static GstBuffer *
astronaut_rgb (int *w, int *h)
{
  gchar *p = src_path ("models/images/astronaut.png");
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (p, NULL);
  g_free (p);
  if (!pb)
    return NULL;
  *w = gdk_pixbuf_get_width (pb);
  *h = gdk_pixbuf_get_height (pb);
  int nch = gdk_pixbuf_get_n_channels (pb);
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, *w, *h);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  GstVideoFrame f;
  gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE);
  for (int y = 0; y < *h; y++) {
    guint8 *dst = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
                  y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    const guint8 *s = gdk_pixbuf_get_pixels (pb) + y * gdk_pixbuf_get_rowstride (pb);
    for (int x = 0; x < *w; x++)
      memcpy (dst + 3 * x, s + nch * x, 3);
  }
  gst_video_frame_unmap (&f);
  g_object_unref (pb);
  return buf;
}

/* Runs the face model on the astronaut and checks the best detection is
 * on the face (skimage's astronaut.png: face around x 175..300, y 40..215
 * of 512x512) with confidence > 0.8. */
static void
check_astronaut_model (const char *device, gchar *model)
{
  REQUIRE_FILE (model);
  int w, h;
  GstBuffer *in = astronaut_rgb (&w, &h);
  if (!in) {
    g_free (model);
    return;
  }
  gchar *desc = g_strdup_printf ("macefilter model=%s device=%s", model, device);
  GstHarness *hh = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf ("video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hh, caps);
  GstBuffer *out = gst_harness_push_and_pull (hh, in);
  fail_unless (out != NULL);
  GstVideoRegionOfInterestMeta *best = NULL;
  double best_conf = 0;
  gpointer st = NULL;
  GstMeta *m;
  int n = 0;
  while ((m = gst_buffer_iterate_meta_filtered (out, &st, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *) m;
    GstStructure *d = gst_video_region_of_interest_meta_get_param (r, "detection");
    fail_unless (d != NULL);
    double c = 0;
    fail_unless (gst_structure_get_double (d, "confidence", &c));
    const GValue *lm = gst_structure_get_value (d, "landmarks");
    fail_unless (lm && gst_value_array_get_size (lm) == 12);
    if (c > best_conf) {
      best_conf = c;
      best = r;
    }
    n++;
  }
  GST_INFO ("%s: %d detections, best %.3f", device, n, best_conf);
  fail_unless (best != NULL, "no face found on %s", device);
  fail_unless (best_conf > 0.8, "confidence %.3f <= 0.8", best_conf);
  int cx = best->x + best->w / 2, cy = best->y + best->h / 2;
  fail_unless (cx > 175 && cx < 300 && cy > 40 && cy < 215,
               "face box centre (%d, %d) is not on the face", cx, cy);
  fail_unless (best->w > 40 && best->w < 250);
  gst_buffer_unref (out);
  gst_harness_teardown (hh);
  g_free (caps);
  g_free (desc);
  g_free (model);
}

static void
check_astronaut (const char *device)
{
  check_astronaut_model (device, face_model ());
}

GST_START_TEST (test_astronaut_cpu)
{
  check_astronaut ("cpu");
}
GST_END_TEST;

GST_START_TEST (test_astronaut_back_model)
{
  /* The 256x256 back model, no config: the anchor layout is found from
   * the model's outputs. */
  check_astronaut_model ("cpu", src_path ("models/blazeface/face_detection_back_256x256_barracuda.onnx"));
}
GST_END_TEST;

GST_START_TEST (test_astronaut_opencl)
{
  /* auto: OpenCL (PoCL here) when present, else the CPU with a warning. */
  check_astronaut ("auto");
}
GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("macefilter", NULL);
  fail_unless (e != NULL);
  g_object_set (e, "model", "/x/y.onnx", "config", "/x/y.json", "threads", 3,
                "program-cache", "/tmp/p.bin", "program-cache-mode", "read-only",
                "tuning-cache", "/tmp/t.bin", "tune", TRUE, "threshold", 0.7f,
                "iou-threshold", 0.4f, "max-detections", 5,
                "inference-interval", 3, "drop-when-busy", TRUE, "message", TRUE,
                "cl-device", "1", NULL);
  gchar *model, *config, *pc, *mode, *tc, *cl;
  gint threads, maxd, interval;
  gfloat th, iou;
  gboolean tune, drop, msg;
  g_object_get (e, "model", &model, "config", &config, "threads", &threads,
                "program-cache", &pc, "program-cache-mode", &mode,
                "tuning-cache", &tc, "tune", &tune, "threshold", &th,
                "iou-threshold", &iou, "max-detections", &maxd,
                "inference-interval", &interval, "drop-when-busy", &drop,
                "message", &msg, "cl-device", &cl, NULL);
  fail_unless_equals_string (model, "/x/y.onnx");
  fail_unless_equals_string (config, "/x/y.json");
  fail_unless_equals_string (pc, "/tmp/p.bin");
  fail_unless_equals_string (mode, "read-only");
  fail_unless_equals_string (tc, "/tmp/t.bin");
  fail_unless_equals_string (cl, "1");
  fail_unless (threads == 3 && maxd == 5 && interval == 3 && tune && drop && msg);
  fail_unless (th > 0.69f && th < 0.71f && iou > 0.39f && iou < 0.41f);
  g_free (model); g_free (config); g_free (pc); g_free (mode); g_free (tc); g_free (cl);
  guint64 frames;
  g_object_get (e, "frames", &frames, NULL);
  fail_unless (frames == 0);
  gst_object_unref (e);
}
GST_END_TEST;

static GstStateChangeReturn
start_with (const char *props, GstMessage **err_msg)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! macefilter %s ! fakesink", props);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (p != NULL);
  GstStateChangeReturn r = gst_element_set_state (p, GST_STATE_PAUSED);
  if (r == GST_STATE_CHANGE_ASYNC)
    r = gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND);
  GstBus *bus = gst_element_get_bus (p);
  *err_msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  return r;
}

static void
expect_error (const char *props, const char *needle)
{
  GstMessage *m = NULL;
  GstStateChangeReturn r = start_with (props, &m);
  fail_unless (r == GST_STATE_CHANGE_FAILURE, "state change should fail for %s", props);
  fail_unless (m != NULL, "no error message for %s", props);
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  GST_INFO ("%s -> %s (%s)", props, e->message, dbg);
  gchar *all = g_strdup_printf ("%s %s", e->message, dbg ? dbg : "");
  fail_unless (strstr (all, needle) != NULL, "'%s' not in '%s'", needle, all);
  g_free (all);
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
}

GST_START_TEST (test_errors)
{
  expect_error ("", "No model");
  expect_error ("model=/nonexistent/face.onnx", "/nonexistent/face.onnx");
  /* A corrupt model: random bytes. */
  gchar *dir = g_dir_make_tmp ("macefilter-XXXXXX", NULL);
  gchar *bad = g_build_filename (dir, "bad.onnx", NULL);
  g_file_set_contents (bad, "\x12\x34garbage that is not protobuf\xff\xff\xff", 32, NULL);
  gchar *props = g_strdup_printf ("model=%s", bad);
  expect_error (props, "bad.onnx");
  g_free (props);
  /* A model with an op the runtime does not have. */
  gchar *model = face_model ();
  if (g_file_test (model, G_FILE_TEST_EXISTS)) {
    gchar *cfg = g_build_filename (dir, "bad.json", NULL);
    g_file_set_contents (cfg, "{\"input\": {\"layout\": \"sideways\"}}", -1, NULL);
    props = g_strdup_printf ("model=%s config=%s", model, cfg);
    expect_error (props, "sideways");
    g_free (props);
    g_unlink (cfg);
    g_free (cfg);
  }
  g_free (model);
  g_unlink (bad);
  g_rmdir (dir);
  g_free (bad);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_interval_and_formats)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  const char *formats[] = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *desc = g_strdup_printf ("macefilter model=%s device=cpu inference-interval=3", model);
    GstHarness *hh = gst_harness_new_parse (desc);
    gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=160,height=120,framerate=30/1", formats[i]);
    gst_harness_set_src_caps_str (hh, caps);
    for (int k = 0; k < 7; k++) {
      GstVideoInfo vi;
      GstCaps *c = gst_caps_from_string (caps);
      gst_video_info_from_caps (&vi, c);
      gst_caps_unref (c);
      GstBuffer *o, *b = gst_buffer_new_allocate (NULL, vi.size, NULL);
      gst_buffer_memset (b, 0, 90 + k, vi.size);
      o = gst_harness_push_and_pull (hh, b);
      fail_unless (o != NULL, "format %s", formats[i]);
      gst_buffer_unref (o);
    }
    GstElement *e = gst_harness_find_element (hh, "macefilter");
    guint64 frames, inferences;
    g_object_get (e, "frames", &frames, "inferences", &inferences, NULL);
    fail_unless (frames == 7 && inferences == 3,
                 "%s: frames %" G_GUINT64_FORMAT " inferences %" G_GUINT64_FORMAT,
                 formats[i], frames, inferences);
    gst_object_unref (e);
    gst_harness_teardown (hh);
    g_free (caps);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

static Suite *
macefilter_suite (void)
{
  Suite *s = suite_create ("macefilter");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_astronaut_cpu);
  tcase_add_test (tc, test_astronaut_back_model);
  tcase_add_test (tc, test_astronaut_opencl);
  tcase_add_test (tc, test_interval_and_formats);
  return s;
}

GST_CHECK_MAIN (macefilter);
