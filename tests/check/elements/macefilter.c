/* SPDX-License-Identifier: Apache-2.0
 * macefilter / maceoverlay element tests with GstHarness.
 * MACE_SOURCE_ROOT points at the source tree (models/, images). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstcheck.h>

#include "common.h"
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>

#include "mace.h"
#include <gst/video/video.h>

/* The device for the OpenCL cases: gpu when any OpenCL device (PoCL's CPU
 * device included) is there, else auto (which then runs on the CPU with
 * a warning, and the OpenCL parts of a test are skipped). */
static const char *
cl_device (void)
{
  return mace_opencl_device_count (0) > 0 ? "gpu" : "auto";
}

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
    guint8 *dst = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
                  + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    const guint8 *s
        = gdk_pixbuf_get_pixels (pb) + y * gdk_pixbuf_get_rowstride (pb);
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
  gchar *desc
      = g_strdup_printf ("macefilter model=%s device=%s", model, device);
  GstHarness *hh = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hh, caps);
  GstBuffer *out = gst_harness_push_and_pull (hh, in);
  fail_unless (out != NULL);
  GstVideoRegionOfInterestMeta *best = NULL;
  double best_conf = 0;
  gpointer st = NULL;
  GstMeta *m;
  int n = 0;
  while ((m = gst_buffer_iterate_meta_filtered (
              out, &st, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *)m;
    GstStructure *d
        = gst_video_region_of_interest_meta_get_param (r, "detection");
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
  check_astronaut_model (
      "cpu",
      src_path ("models/blazeface/face_detection_back_256x256_barracuda.onnx"));
}
GST_END_TEST;

GST_START_TEST (test_astronaut_opencl)
{
  /* auto: OpenCL (PoCL here) when present, else the CPU with a warning. */
  check_astronaut (cl_device ());
}
GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("macefilter", NULL);
  fail_unless (e != NULL);
  g_object_set (e, "model", "/x/y.onnx", "config", "/x/y.json", "threads", 3,
                "program-cache", "/tmp/p.bin", "program-cache-mode",
                "read-only", "program-cache-base", "/usr/share/x/p.bin",
                "tuning-cache", "/tmp/t.bin", "tune", TRUE, "threshold", 0.7f,
                "iou-threshold", 0.4f, "max-detections", 5,
                "inference-interval", 3, "drop-when-busy", TRUE, "message",
                TRUE, "cl-device", "1", NULL);
  gchar *model, *config, *pc, *mode, *tc, *cl, *base;
  gint threads, maxd, interval;
  gfloat th, iou;
  gboolean tune, drop, msg;
  g_object_get (e, "model", &model, "config", &config, "threads", &threads,
                "program-cache", &pc, "program-cache-mode", &mode,
                "program-cache-base", &base, "tuning-cache", &tc, "tune", &tune,
                "threshold", &th, "iou-threshold", &iou, "max-detections",
                &maxd, "inference-interval", &interval, "drop-when-busy", &drop,
                "message", &msg, "cl-device", &cl, NULL);
  fail_unless_equals_string (model, "/x/y.onnx");
  fail_unless_equals_string (config, "/x/y.json");
  fail_unless_equals_string (pc, "/tmp/p.bin");
  fail_unless_equals_string (mode, "read-only");
  fail_unless_equals_string (base, "/usr/share/x/p.bin");
  fail_unless_equals_string (tc, "/tmp/t.bin");
  fail_unless_equals_string (cl, "1");
  fail_unless (threads == 3 && maxd == 5 && interval == 3 && tune && drop
               && msg);
  fail_unless (th > 0.69f && th < 0.71f && iou > 0.39f && iou < 0.41f);
  g_free (model);
  g_free (config);
  g_free (pc);
  g_free (mode);
  g_free (base);
  g_free (tc);
  g_free (cl);
  guint64 frames;
  g_object_get (e, "frames", &frames, NULL);
  fail_unless (frames == 0);
  gst_object_unref (e);
}
GST_END_TEST;

static GstStateChangeReturn
start_with (const char *props, GstMessage **err_msg)
{
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=1 ! macefilter %s ! fakesink", props);
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
  fail_unless (r == GST_STATE_CHANGE_FAILURE, "state change should fail for %s",
               props);
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
  g_file_set_contents (bad, "\x12\x34garbage that is not protobuf\xff\xff\xff",
                       32, NULL);
  gchar *props = g_strdup_printf ("model=%s", bad);
  expect_error (props, "bad.onnx");
  g_free (props);
  /* A model with an op the runtime does not have. */
  gchar *model = face_model ();
  if (g_file_test (model, G_FILE_TEST_EXISTS)) {
    gchar *cfg = g_build_filename (dir, "bad.json", NULL);
    g_file_set_contents (cfg, "{\"input\": {\"layout\": \"sideways\"}}", -1,
                         NULL);
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
  const char *formats[]
      = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *desc = g_strdup_printf (
        "macefilter model=%s device=cpu inference-interval=3", model);
    GstHarness *hh = gst_harness_new_parse (desc);
    gchar *caps = g_strdup_printf (
        "video/x-raw,format=%s,width=160,height=120,framerate=30/1",
        formats[i]);
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
                 "%s: frames %" G_GUINT64_FORMAT
                 " inferences %" G_GUINT64_FORMAT,
                 formats[i], frames, inferences);
    gst_object_unref (e);
    gst_harness_teardown (hh);
    g_free (caps);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

/* ---- frame input: zero-copy, foreign memory, resolution, tiles, tensors */

static gchar *
frame_model (const char *name)
{
  const char *dir = g_getenv ("MACE_FRAME_MODELS");
  return g_build_filename (dir ? dir : ".", name, NULL);
}

/* The pool macefilter offers upstream, when it is one of OpenCL memory
 * (NULL on the CPU backend). */
static GstBufferPool *
offered_cl_pool (GstHarness *h, const char *caps_str)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GstQuery *q = gst_query_new_allocation (caps, TRUE);
  GstBufferPool *pool = NULL;
  if (gst_pad_peer_query (h->srcpad, q)
      && gst_query_get_n_allocation_pools (q) > 0) {
    guint size, min, max;
    gst_query_parse_nth_allocation_pool (q, 0, &pool, &size, &min, &max);
    if (pool) {
      GstStructure *config = gst_buffer_pool_get_config (pool);
      GstAllocator *alloc = NULL;
      gst_buffer_pool_config_get_allocator (config, &alloc, NULL);
      if (!alloc
          || strcmp (G_OBJECT_TYPE_NAME (alloc), "GstMaceClAllocator") != 0)
        gst_clear_object (&pool);
      gst_structure_free (config);
    }
  }
  gst_query_unref (q);
  gst_caps_unref (caps);
  return pool;
}

/* Best detection confidence on a buffer (0 if none). */
static double
best_confidence (GstBuffer *out, int *cx, int *cy)
{
  gpointer st = NULL;
  GstMeta *m;
  double best = 0;
  while ((m = gst_buffer_iterate_meta_filtered (
              out, &st, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *)m;
    double c = 0;
    gst_structure_get_double (
        gst_video_region_of_interest_meta_get_param (r, "detection"),
        "confidence", &c);
    if (c > best) {
      best = c;
      *cx = r->x + r->w / 2;
      *cy = r->y + r->h / 2;
    }
  }
  return best;
}

/* The astronaut as RGBA into an already allocated buffer. */
static void
fill_astronaut_rgba (GstBuffer *dst, const GstVideoInfo *info, GstBuffer *rgb)
{
  GstVideoFrame f;
  GstMapInfo in;
  fail_unless (
      gst_video_frame_map (&f, (GstVideoInfo *)info, dst, GST_MAP_WRITE));
  fail_unless (gst_buffer_map (rgb, &in, GST_MAP_READ));
  int w = GST_VIDEO_INFO_WIDTH (info), h = GST_VIDEO_INFO_HEIGHT (info);
  int rs = GST_ROUND_UP_4 (w * 3);
  for (int y = 0; y < h; y++) {
    guint8 *d = (guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
                + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    for (int x = 0; x < w; x++) {
      memcpy (d + 4 * x, in.data + y * rs + 3 * x, 3);
      d[4 * x + 3] = 255;
    }
  }
  gst_buffer_unmap (rgb, &in);
  gst_video_frame_unmap (&f);
}

/* Runs the face model once on the astronaut with extra properties; returns
 * the element's cache-hits and cache-misses (both 0 on the CPU). */
static void
run_once_with (const char *props, guint64 *hits, guint64 *misses)
{
  gchar *model = face_model ();
  int w, h;
  GstBuffer *in = astronaut_rgb (&w, &h);
  fail_unless (in != NULL);
  gchar *desc = g_strdup_printf ("macefilter model=%s device=%s %s", model,
                                 cl_device (), props);
  GstHarness *hh = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hh, caps);
  GstBuffer *out = gst_harness_push_and_pull (hh, in);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  GstElement *e = gst_harness_find_element (hh, "macefilter");
  g_object_get (e, "cache-hits", hits, "cache-misses", misses, NULL);
  gst_object_unref (e);
  gst_harness_teardown (hh);
  g_free (caps);
  g_free (desc);
  g_free (model);
}

GST_START_TEST (test_program_cache_base)
{
  /* A cache built by one pipeline, then used read-only under an empty
   * per-user cache: every program from it, nothing built or written. */
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  gchar *dir = g_dir_make_tmp ("macefilter-base-XXXXXX", NULL);
  gchar *base = g_build_filename (dir, "shipped.bin", NULL);
  gchar *user = g_build_filename (dir, "user.bin", NULL);
  gchar *props = g_strdup_printf ("program-cache=%s", base);
  guint64 hits = 0, misses = 0;
  run_once_with (props, &hits, &misses);
  g_free (props);
  if (hits + misses == 0) {
    GST_WARNING ("no OpenCL device: program-cache-base not tested");
  } else {
    fail_unless (g_file_test (base, G_FILE_TEST_EXISTS), "no cache written");
    props = g_strdup_printf ("program-cache=%s program-cache-base=%s", user,
                             base);
    run_once_with (props, &hits, &misses);
    g_free (props);
    fail_unless (hits > 0 && misses == 0,
                 "with the base: hits %" G_GUINT64_FORMAT
                 ", misses %" G_GUINT64_FORMAT,
                 hits, misses);
    fail_unless (!g_file_test (user, G_FILE_TEST_EXISTS),
                 "the per-user cache was written with nothing new");
  }
  g_unlink (base);
  g_unlink (user);
  g_rmdir (dir);
  g_free (base);
  g_free (user);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_zero_copy_pool)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  int w, h;
  GstBuffer *rgb = astronaut_rgb (&w, &h);
  fail_unless (rgb != NULL);
  gchar *desc
      = g_strdup_printf ("macefilter model=%s device=%s", model, cl_device ());
  GstHarness *hh = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=RGBA,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hh, caps);
  GstBufferPool *pool = offered_cl_pool (hh, caps);
  if (!pool) {
    GST_WARNING ("no OpenCL pool offered (no device): zero-copy not tested");
  } else {
    GstVideoInfo info;
    GstCaps *c = gst_caps_from_string (caps);
    gst_video_info_from_caps (&info, c);
    gst_caps_unref (c);
    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    for (int i = 0; i < 3; i++) {
      GstBuffer *b = NULL;
      fail_unless (gst_buffer_pool_acquire_buffer (pool, &b, NULL)
                   == GST_FLOW_OK);
      fill_astronaut_rgba (b, &info, rgb);
      GstBuffer *out = gst_harness_push_and_pull (hh, b);
      fail_unless (out != NULL);
      int cx = 0, cy = 0;
      double conf = best_confidence (out, &cx, &cy);
      fail_unless (conf > 0.8 && cx > 175 && cx < 300 && cy > 40 && cy < 215,
                   "pool frame %d: confidence %.3f at (%d, %d)", i, conf, cx,
                   cy);
      gst_buffer_unref (out);
    }
    GstElement *e = gst_harness_find_element (hh, "macefilter");
    guint64 copies = 99;
    gboolean zc = FALSE;
    g_object_get (e, "copies", &copies, "zero-copy", &zc, NULL);
    fail_unless (copies == 0 && zc,
                 "pool buffers: copies %" G_GUINT64_FORMAT ", zero-copy %d",
                 copies, zc);
    gst_object_unref (e);
    gst_buffer_pool_set_active (pool, FALSE);
    gst_object_unref (pool);
  }
  gst_harness_teardown (hh);
  gst_buffer_unref (rgb);
  g_free (caps);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

static void
free_block (gpointer p)
{
  free (p);
}

GST_START_TEST (test_foreign_memory)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  const char *devices[] = { "cpu", cl_device () };
  for (int d = 0; d < 2; d++) {
    gchar *desc
        = g_strdup_printf ("macefilter model=%s device=%s", model, devices[d]);
    GstHarness *hh = gst_harness_new_parse (desc);
    const char *caps
        = "video/x-raw,format=RGBx,width=160,height=120,framerate=30/1";
    gst_harness_set_src_caps_str (hh, caps);
    GstBufferPool *pool = offered_cl_pool (hh, caps);
    gboolean cl = pool != NULL;
    gst_clear_object (&pool);
    if (d == 1 && !cl) {
      GST_WARNING ("no OpenCL device: foreign-memory import not tested");
      gst_harness_teardown (hh);
      g_free (desc);
      continue;
    }
    gsize size = 160 * 120 * 4;
    GstElement *e = gst_harness_find_element (hh, "macefilter");
    guint64 copies;
    gboolean zc;
    /* System memory on a page boundary: imported where the device shares
     * host memory (PoCL does), no copy. */
    GstAllocationParams params;
    gst_allocation_params_init (&params);
    params.align = 4095;
    GstBuffer *b = gst_buffer_new_allocate (NULL, size, &params);
    gst_buffer_memset (b, 0, 120, size);
    gst_buffer_unref (gst_harness_push_and_pull (hh, b));
    g_object_get (e, "copies", &copies, "zero-copy", &zc, NULL);
    fail_unless (copies == 0 && zc,
                 "%s aligned: copies %" G_GUINT64_FORMAT " zero-copy %d",
                 devices[d], copies, zc);
    /* Memory one byte off alignment: uploaded once on OpenCL; read in
     * place on the CPU. */
    guint8 *block = NULL;
    fail_unless (posix_memalign ((void **)&block, 4096, size + 64) == 0);
    memset (block, 120, size + 64);
    b = gst_buffer_new_wrapped_full (0, block, size + 64, 1, size, block,
                                     free_block);
    gst_buffer_unref (gst_harness_push_and_pull (hh, b));
    g_object_get (e, "copies", &copies, "zero-copy", &zc, NULL);
    if (cl)
      fail_unless (copies == 1 && !zc,
                   "misaligned: copies %" G_GUINT64_FORMAT " zero-copy %d",
                   copies, zc);
    else
      fail_unless (copies == 0 && zc,
                   "cpu misaligned: copies %" G_GUINT64_FORMAT, copies);
    gst_object_unref (e);
    gst_harness_teardown (hh);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

static GstBuffer *
random_frame (const GstVideoInfo *info, guint32 seed)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstMapInfo m;
  gst_buffer_map (b, &m, GST_MAP_WRITE);
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < m.size; i++)
    m.data[i] = (guint8)g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  gst_buffer_unmap (b, &m);
  return b;
}

/* Pushes one w x h RGB frame (after setting caps) and returns the output. */
static GstBuffer *
push_size (GstHarness *hh, int w, int h, guint32 seed)
{
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", w, h);
  gst_harness_set_src_caps_str (hh, caps);
  GstVideoInfo info;
  GstCaps *c = gst_caps_from_string (caps);
  gst_video_info_from_caps (&info, c);
  gst_caps_unref (c);
  g_free (caps);
  return gst_harness_push_and_pull (hh, random_frame (&info, seed));
}

static void
out_size (GstHarness *hh, int *w, int *h)
{
  GstCaps *c = gst_pad_get_current_caps (hh->sinkpad);
  GstVideoInfo vi;
  fail_unless (c && gst_video_info_from_caps (&vi, c));
  *w = GST_VIDEO_INFO_WIDTH (&vi);
  *h = GST_VIDEO_INFO_HEIGHT (&vi);
  gst_caps_unref (c);
}

GST_START_TEST (test_resolution_change)
{
  /* A dynamic 2x image model: new caps mid-stream re-prepare the engine
   * (no restart), on the CPU and on OpenCL. */
  gchar *model = frame_model ("tile-dyn.onnx");
  REQUIRE_FILE (model);
  const char *devices[] = { "cpu", cl_device () };
  for (int d = 0; d < 2; d++) {
    gchar *desc
        = g_strdup_printf ("macefilter model=%s device=%s", model, devices[d]);
    GstHarness *hh = gst_harness_new_parse (desc);
    const int sizes[3][2] = { { 40, 30 }, { 20, 16 }, { 64, 36 } };
    for (int i = 0; i < 3; i++) {
      GstBuffer *out = push_size (hh, sizes[i][0], sizes[i][1], 7 + i);
      fail_unless (out != NULL, "%s: no output for %dx%d", devices[d],
                   sizes[i][0], sizes[i][1]);
      int ow, oh;
      out_size (hh, &ow, &oh);
      fail_unless (ow == 2 * sizes[i][0] && oh == 2 * sizes[i][1],
                   "%s: %dx%d gave %dx%d", devices[d], sizes[i][0], sizes[i][1],
                   ow, oh);
      fail_unless (gst_buffer_get_size (out)
                   == (gsize)GST_ROUND_UP_4 (ow * 3) * oh);
      gst_buffer_unref (out);
    }
    GstElement *e = gst_harness_find_element (hh, "macefilter");
    guint64 frames;
    g_object_get (e, "frames", &frames, NULL);
    fail_unless (frames == 3);
    gst_object_unref (e);
    gst_harness_teardown (hh);
    g_free (desc);
  }
  g_free (model);
  /* A fixed-input detector across sizes: the frame is rescaled. */
  model = face_model ();
  REQUIRE_FILE (model);
  gchar *desc = g_strdup_printf ("macefilter model=%s device=cpu", model);
  GstHarness *hh = gst_harness_new_parse (desc);
  for (int i = 0; i < 2; i++) {
    GstBuffer *out = push_size (hh, i ? 320 : 160, i ? 240 : 120, 3);
    fail_unless (out != NULL);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (hh);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* The output of `model` on one w x h RGB frame (seeded), as bytes. */
static GstBuffer *
image_output (const char *model, const char *device, const char *extra, int w,
              int h, int *ow, int *oh)
{
  gchar *desc = g_strdup_printf ("macefilter model=%s device=%s %s", model,
                                 device, extra);
  GstHarness *hh = gst_harness_new_parse (desc);
  GstBuffer *out = push_size (hh, w, h, 99);
  fail_unless (out != NULL, "%s on %s: no output", model, device);
  out_size (hh, ow, oh);
  gst_harness_teardown (hh);
  g_free (desc);
  return out;
}

GST_START_TEST (test_tiles)
{
  /* A fixed 16x16-input model (2x nearest Resize + 3x3 Conv) on a 40x30
   * frame in overlapping tiles equals the same weights with a dynamic
   * input on the whole frame. */
  gchar *fixed = frame_model ("tile-fixed.onnx"),
        *dyn = frame_model ("tile-dyn.onnx");
  REQUIRE_FILE (dyn);
  int rw, rh;
  GstBuffer *ref = image_output (dyn, "cpu", "", 40, 30, &rw, &rh);
  fail_unless (rw == 80 && rh == 60);
  const char *devices[] = { "cpu", cl_device () };
  const char *overlaps[] = { "tile-overlap=4", "tile-overlap=2" };
  for (int d = 0; d < 2; d++)
    for (int o = 0; o < 2; o++) {
      int w, h;
      GstBuffer *out
          = image_output (fixed, devices[d], overlaps[o], 40, 30, &w, &h);
      fail_unless (w == 80 && h == 60, "tiled output %dx%d", w, h);
      GstMapInfo a, b;
      gst_buffer_map (ref, &a, GST_MAP_READ);
      gst_buffer_map (out, &b, GST_MAP_READ);
      fail_unless (a.size == b.size);
      int worst = 0, n_diff = 0;
      for (gsize i = 0; i < a.size; i++) {
        int dd = abs ((int)a.data[i] - (int)b.data[i]);
        worst = MAX (worst, dd);
        n_diff += dd != 0;
      }
      gst_buffer_unmap (ref, &a);
      gst_buffer_unmap (out, &b);
      GST_INFO ("%s %s: max diff %d, %d bytes differ", devices[d], overlaps[o],
                worst, n_diff);
      fail_unless (worst <= 1, "%s %s: tiles differ from the whole frame by %d",
                   devices[d], overlaps[o], worst);
      gst_buffer_unref (out);
    }
  /* Without overlap the seams show: the test can tell. */
  int w, h;
  GstBuffer *out
      = image_output (fixed, "cpu", "tile-overlap=0", 40, 30, &w, &h);
  GstMapInfo a, b;
  gst_buffer_map (ref, &a, GST_MAP_READ);
  gst_buffer_map (out, &b, GST_MAP_READ);
  int worst = 0;
  for (gsize i = 0; i < a.size && i < b.size; i++)
    worst = MAX (worst, abs ((int)a.data[i] - (int)b.data[i]));
  gst_buffer_unmap (ref, &a);
  gst_buffer_unmap (out, &b);
  fail_unless (worst > 1, "tiles without overlap should show seams");
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  g_free (fixed);
  g_free (dyn);
}
GST_END_TEST;

GST_START_TEST (test_tensor_meta)
{
  /* The tensor decoder: an app reads every output from MaceTensorMeta. */
  gchar *model = frame_model ("tensor-two.onnx");
  REQUIRE_FILE (model);
  const char *devices[] = { "cpu", cl_device () };
  for (int d = 0; d < 2; d++) {
    gchar *desc
        = g_strdup_printf ("macefilter model=%s device=%s", model, devices[d]);
    GstHarness *hh = gst_harness_new_parse (desc);
    gst_harness_set_src_caps_str (
        hh, "video/x-raw,format=BGRx,width=32,height=24,framerate=30/1");
    GstBuffer *b = gst_buffer_new_allocate (NULL, 32 * 24 * 4, NULL);
    GstMapInfo m;
    gst_buffer_map (b, &m, GST_MAP_WRITE);
    for (int i = 0; i < 32 * 24; i++) {
      m.data[4 * i] = 30;     /* B */
      m.data[4 * i + 1] = 20; /* G */
      m.data[4 * i + 2] = 10; /* R */
    }
    gst_buffer_unmap (b, &m);
    GstBuffer *out = gst_harness_push_and_pull (hh, b);
    fail_unless (out != NULL);
    GstCustomMeta *meta = gst_buffer_get_custom_meta (out, "MaceTensorMeta");
    fail_unless (meta != NULL, "no MaceTensorMeta on %s", devices[d]);
    GstStructure *s = gst_custom_meta_get_structure (meta);
    int n = 0;
    fail_unless (gst_structure_get_int (s, "num-outputs", &n) && n == 2);
    const GValue *outs = gst_structure_get_value (s, "outputs");
    fail_unless (outs && gst_value_array_get_size (outs) == 2);
    gboolean seen_mean = FALSE;
    for (guint i = 0; i < 2; i++) {
      const GstStructure *t
          = gst_value_get_structure (gst_value_array_get_value (outs, i));
      const gchar *name = gst_structure_get_string (t, "name");
      const GValue *shape = gst_structure_get_value (t, "shape");
      GBytes *bytes = NULL;
      fail_unless (gst_structure_get (t, "data", G_TYPE_BYTES, &bytes, NULL));
      fail_unless_equals_string (gst_structure_get_string (t, "dtype"),
                                 "float32");
      gsize len;
      const float *v = g_bytes_get_data (bytes, &len);
      if (strcmp (name, "mean") == 0) {
        seen_mean = TRUE;
        fail_unless (gst_value_array_get_size (shape) == 2
                     && len == 3 * sizeof (float));
        fail_unless (g_value_get_int64 (gst_value_array_get_value (shape, 1))
                     == 3);
        /* RGB (10, 20, 30), mean 0, scale 1. */
        fail_unless (fabsf (v[0] - 10) < 1e-3 && fabsf (v[1] - 20) < 1e-3
                         && fabsf (v[2] - 30) < 1e-3,
                     "mean %g %g %g", v[0], v[1], v[2]);
      } else {
        fail_unless_equals_string (name, "relu");
        fail_unless (len == 3 * 8 * 8 * sizeof (float));
      }
      g_bytes_unref (bytes);
    }
    fail_unless (seen_mean);
    gst_buffer_unref (out);
    gst_harness_teardown (hh);
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
  tcase_add_test (tc, test_zero_copy_pool);
  tcase_add_test (tc, test_program_cache_base);
  tcase_add_test (tc, test_foreign_memory);
  tcase_add_test (tc, test_resolution_change);
  tcase_add_test (tc, test_tiles);
  tcase_add_test (tc, test_tensor_meta);
  return s;
}

GST_CHECK_MAIN (macefilter);
