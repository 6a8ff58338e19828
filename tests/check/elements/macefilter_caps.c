/* SPDX-License-Identifier: Apache-2.0
 * macefilter caps negotiation on the CPU backend: the detection decoder
 * keeps the caps (and the pixels) of every input format; ESRGAN-slim x2
 * doubles the size and its frame agrees with `mace-run run` on the same
 * preprocessed input; unsupported caps fail negotiation.
 * MACE_SOURCE_ROOT: the source tree; MACE_RUN: build/tools/mace-run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>

#include "common.h"
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include "mace.h"

static const char *formats[]
    = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12" };

static guint32 seed;

/* A frame of the caps filled with a seeded pattern (smooth gradient plus
 * noise, so colour conversion and the model both have work to do). */
static GstBuffer *
pattern_frame (const GstVideoInfo *vi)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, vi->size, NULL);
  GstMapInfo m;
  gst_buffer_map (b, &m, GST_MAP_WRITE);
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < m.size; i++)
    m.data[i] = (guint8)((i * 7 / 5) % 200 + g_rand_int_range (r, 0, 56));
  g_rand_free (r);
  gst_buffer_unmap (b, &m);
  return b;
}

static GstCaps *
sink_caps (GstHarness *h)
{
  return gst_pad_get_current_caps (h->sinkpad);
}

GST_START_TEST (test_detection_caps_equal)
{
  gchar *model = src_path (
      "models/blazeface/face_detection_front_128x128_barracuda.onnx");
  REQUIRE_FILE (model);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *desc = g_strdup_printf ("macefilter model=%s device=cpu", model);
    GstHarness *h = gst_harness_new_parse (desc);
    gchar *caps_str = g_strdup_printf (
        "video/x-raw,format=%s,width=176,height=144,framerate=25/1,"
        "pixel-aspect-ratio=1/1,interlace-mode=progressive",
        formats[i]);
    GstCaps *in_caps = gst_caps_from_string (caps_str);
    gst_harness_set_src_caps (h, gst_caps_ref (in_caps));
    GstVideoInfo vi;
    fail_unless (gst_video_info_from_caps (&vi, in_caps));
    GstBuffer *in = pattern_frame (&vi);
    GstBuffer *ref = gst_buffer_copy_deep (in);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL, "%s: no output", formats[i]);
    GstCaps *out_caps = sink_caps (h);
    fail_unless (out_caps != NULL);
    fail_unless (gst_caps_is_equal (in_caps, out_caps),
                 "%s: output caps %" GST_PTR_FORMAT
                 " != input %" GST_PTR_FORMAT,
                 formats[i], out_caps, in_caps);
    /* A detector leaves the pixels alone. */
    fail_unless (gst_buffer_get_size (out) == vi.size);
    GstMapInfo a, b;
    gst_buffer_map (ref, &a, GST_MAP_READ);
    gst_buffer_map (out, &b, GST_MAP_READ);
    fail_unless (memcmp (a.data, b.data, vi.size) == 0,
                 "%s: the detection decoder changed pixels", formats[i]);
    gst_buffer_unmap (ref, &a);
    gst_buffer_unmap (out, &b);
    /* The caps query agrees: the src pad offers what the sink pad got. */
    GstCaps *q = gst_pad_peer_query_caps (h->srcpad, NULL);
    fail_unless (gst_caps_can_intersect (q, in_caps));
    gst_caps_unref (q);
    gst_caps_unref (out_caps);
    gst_caps_unref (in_caps);
    gst_buffer_unref (ref);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (caps_str);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

/* The input tensor the element builds for ESRGAN (NHWC RGB, range
 * [0, 255], same size) from a packed RGB frame. */
static MaceTensor *
rgb_frame_tensor (GstBuffer *buf, const GstVideoInfo *vi)
{
  int w = GST_VIDEO_INFO_WIDTH (vi), h = GST_VIDEO_INFO_HEIGHT (vi);
  int64_t dims[4] = { 1, h, w, 3 };
  MaceTensor *t = mace_tensor_new (MACE_DTYPE_FLOAT32, 4, dims);
  float *d = mace_tensor_data (t);
  GstVideoFrame f;
  fail_unless (gst_video_frame_map (&f, (GstVideoInfo *)vi, buf, GST_MAP_READ));
  for (int y = 0; y < h; y++) {
    const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
                        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    for (int x = 0; x < w * 3; x++)
      d[(gsize)y * w * 3 + x] = row[x];
  }
  gst_video_frame_unmap (&f);
  return t;
}

GST_START_TEST (test_esrgan_x2_vs_mace_run)
{
  gchar *model = src_path ("models/esrgan-slim/esrgan-slim-x2.onnx");
  REQUIRE_FILE (model);
  gchar *config = src_path ("models/configs/esrgan-slim-x2.json");
  const char *mace_run = g_getenv ("MACE_RUN");
  fail_unless (mace_run != NULL, "MACE_RUN not set");
  gchar *desc = g_strdup_printf ("macefilter model=%s config=%s device=cpu",
                                 model, config);
  GstHarness *h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  GstVideoInfo vi, vo;
  gst_video_info_set_format (&vi, GST_VIDEO_FORMAT_RGB, 64, 48);
  GstBuffer *in = pattern_frame (&vi);
  MaceTensor *t = rgb_frame_tensor (in, &vi);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  GstCaps *oc = sink_caps (h);
  fail_unless (gst_video_info_from_caps (&vo, oc));
  fail_unless (GST_VIDEO_INFO_WIDTH (&vo) == 128
                   && GST_VIDEO_INFO_HEIGHT (&vo) == 96,
               "output caps %" GST_PTR_FORMAT " are not 128x96", oc);
  fail_unless (GST_VIDEO_INFO_FORMAT (&vo) == GST_VIDEO_FORMAT_RGB);
  gst_caps_unref (oc);

  /* The same tensor through mace-run. */
  gchar *dir = g_dir_make_tmp ("macefilter-esrgan-XXXXXX", NULL);
  gchar *in_dir = g_build_filename (dir, "in", NULL);
  gchar *out_dir = g_build_filename (dir, "out", NULL);
  g_mkdir (in_dir, 0755);
  gchar *in_pb = g_build_filename (in_dir, "input_0.pb", NULL);
  MaceError err = { 0 };
  fail_unless (mace_tensor_save_pb (t, "LR", in_pb, &err) == MACE_OK, "%s",
               err.message);
  gchar *argv[]
      = { (gchar *)mace_run, "run",  model,          "--device", "cpu",
          "--inputs",        in_dir, "--output-dir", out_dir,    NULL };
  gchar *so = NULL, *se = NULL;
  gint status = 0;
  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &so,
                             &se, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL),
               "mace-run failed: %s%s", so, se);
  gchar *out_pb = g_build_filename (out_dir, "output_0.pb", NULL);
  MaceTensor *ref = NULL;
  fail_unless (mace_tensor_load_pb (out_pb, &ref, NULL, &err) == MACE_OK, "%s",
               err.message);
  fail_unless (mace_tensor_dim (ref, 1) == 96
               && mace_tensor_dim (ref, 2) == 128);

  /* Model output -> 8 bit, against the element's frame. */
  const float *r = mace_tensor_data_const (ref);
  GstVideoFrame f;
  fail_unless (gst_video_frame_map (&f, &vo, out, GST_MAP_READ));
  int max_diff = 0;
  double sum = 0;
  for (int y = 0; y < 96; y++) {
    const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
                        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    for (int x = 0; x < 128 * 3; x++) {
      float v = r[(gsize)y * 128 * 3 + x];
      int want = (int)lrintf (CLAMP (v, 0.0f, 255.0f));
      int d = ABS (want - (int)row[x]);
      max_diff = MAX (max_diff, d);
      sum += d;
    }
  }
  gst_video_frame_unmap (&f);
  double mean = sum / (96 * 128 * 3);
  GST_INFO ("ESRGAN x2 element vs mace-run: max |diff| %d, mean %.4f (seed %u)",
            max_diff, mean, seed);
  fail_unless (max_diff <= 2 && mean < 0.1,
               "element vs mace-run: max |diff| %d, mean %.4f (seed %u)",
               max_diff, mean, seed);

  g_unlink (in_pb);
  g_unlink (out_pb);
  g_rmdir (in_dir);
  g_rmdir (out_dir);
  g_rmdir (dir);
  g_free (in_pb);
  g_free (out_pb);
  g_free (in_dir);
  g_free (out_dir);
  g_free (dir);
  g_free (so);
  g_free (se);
  mace_tensor_free (t);
  mace_tensor_free (ref);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (config);
  g_free (model);
}
GST_END_TEST;

/* Every format through ESRGAN x2: output caps keep the format and double
 * the size. */
GST_START_TEST (test_esrgan_x2_formats)
{
  gchar *model = src_path ("models/esrgan-slim/esrgan-slim-x2.onnx");
  REQUIRE_FILE (model);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *desc = g_strdup_printf ("macefilter model=%s device=cpu", model);
    GstHarness *h = gst_harness_new_parse (desc);
    gchar *cs = g_strdup_printf (
        "video/x-raw,format=%s,width=32,height=24,framerate=30/1", formats[i]);
    gst_harness_set_src_caps_str (h, cs);
    GstVideoInfo vi, vo;
    GstCaps *c = gst_caps_from_string (cs);
    gst_video_info_from_caps (&vi, c);
    gst_caps_unref (c);
    GstBuffer *out = gst_harness_push_and_pull (h, pattern_frame (&vi));
    fail_unless (out != NULL, "%s", formats[i]);
    GstCaps *oc = sink_caps (h);
    fail_unless (gst_video_info_from_caps (&vo, oc));
    fail_unless (GST_VIDEO_INFO_FORMAT (&vo) == GST_VIDEO_INFO_FORMAT (&vi)
                     && GST_VIDEO_INFO_WIDTH (&vo) == 64
                     && GST_VIDEO_INFO_HEIGHT (&vo) == 48,
                 "%s: output caps %" GST_PTR_FORMAT, formats[i], oc);
    fail_unless (gst_buffer_get_size (out) >= vo.size);
    gst_caps_unref (oc);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    g_free (cs);
    g_free (desc);
  }
  g_free (model);
}
GST_END_TEST;

/* Runs a pipeline to an error or EOS; returns the error (or NULL). */
static GstMessage *
run_to_error (const char *desc, GstStateChangeReturn *sret)
{
  GError *perr = NULL;
  GstElement *p = gst_parse_launch (desc, &perr);
  fail_unless (p != NULL, "cannot parse %s", desc);
  if (perr) {
    /* A link refused at parse time (the caps cannot link): that is the
     * negotiation error, reported as one. */
    GstMessage *m = gst_message_new_error (GST_OBJECT (p), perr, "parse");
    g_error_free (perr);
    gst_object_unref (p);
    *sret = GST_STATE_CHANGE_FAILURE;
    return m;
  }
  *sret = gst_element_set_state (p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (
      bus, 20 * GST_SECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
    gst_message_unref (m);
    m = NULL;
  }
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  return m;
}

GST_START_TEST (test_unsupported_caps)
{
  gchar *model = src_path (
      "models/blazeface/face_detection_front_128x128_barracuda.onnx");
  REQUIRE_FILE (model);
  const char *bad[] = { "GRAY8", "YUY2", "RGB16" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=2 ! "
                                   "video/x-raw,format=%s,width=64,height=48 ! "
                                   "macefilter model=%s device=cpu ! fakesink",
                                   bad[i], model);
    GstStateChangeReturn sret;
    GstMessage *m = run_to_error (desc, &sret);
    fail_unless (m != NULL, "%s: no error", bad[i]);
    GError *e = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &e, &dbg);
    GST_INFO ("%s: %s (%s)", bad[i], e->message, dbg);
    gchar *all = g_strdup_printf ("%s %s", e->message, dbg ? dbg : "");
    fail_unless (
        g_error_matches (e, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION)
            || strstr (all, "not-negotiated") != NULL
            || (g_error_matches (e, GST_PARSE_ERROR, GST_PARSE_ERROR_LINK)
                && strstr (all, "macefilter") != NULL
                && strstr (all, bad[i]) != NULL),
        "%s: not a negotiation error: %s", bad[i], all);
    g_free (all);
    g_error_free (e);
    g_free (dbg);
    gst_message_unref (m);
    g_free (desc);
  }
  /* With the harness: the caps event is refused and a push fails with
   * not-negotiated. */
  gchar *desc = g_strdup_printf ("macefilter model=%s device=cpu", model);
  GstHarness *h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
  GstFlowReturn fr
      = gst_harness_push (h, gst_buffer_new_allocate (NULL, 64 * 48, NULL));
  fail_unless (fr == GST_FLOW_NOT_NEGOTIATED, "push returned %s",
               gst_flow_get_name (fr));
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

static Suite *
macefilter_caps_suite (void)
{
  const char *s_env = g_getenv ("MACE_TEST_SEED");
  seed = s_env ? (guint32)strtoul (s_env, NULL, 10)
               : (guint32)g_get_real_time ();
  g_print ("macefilter_caps: seed %u (MACE_TEST_SEED)\n", seed);
  Suite *s = suite_create ("macefilter_caps");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_detection_caps_equal);
  tcase_add_test (tc, test_esrgan_x2_vs_mace_run);
  tcase_add_test (tc, test_esrgan_x2_formats);
  tcase_add_test (tc, test_unsupported_caps);
  return s;
}

GST_CHECK_MAIN (macefilter_caps);
