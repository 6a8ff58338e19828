/* SPDX-License-Identifier: Apache-2.0
 * macefilter with pipelining (the element's push thread): the same results
 * as one frame at a time, frames and events in stream order, flushing,
 * downstream failures reaching upstream, and when it is on.
 * MACE_SOURCE_ROOT points at the source tree (models/, images). */
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gst/check/gstcheck.h>

#include "common.h"
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include "mace.h"

#define W 512
#define H 512
#define CAPS "video/x-raw,format=RGB,width=512,height=512,framerate=30/1"

/* The astronaut (512x512 RGB), mirrored when `mirror`, so that frames
 * differ and carried results can be told from fresh ones. */
static GstBuffer *
astronaut (gboolean mirror)
{
  gchar *p = src_path ("models/images/astronaut.png");
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (p, NULL);
  g_free (p);
  fail_unless (pb != NULL);
  fail_unless (gdk_pixbuf_get_width (pb) == W
               && gdk_pixbuf_get_height (pb) == H);
  int nch = gdk_pixbuf_get_n_channels (pb);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstMapInfo m;
  gst_buffer_map (buf, &m, GST_MAP_WRITE);
  for (int y = 0; y < H; y++) {
    const guint8 *s
        = gdk_pixbuf_get_pixels (pb) + y * gdk_pixbuf_get_rowstride (pb);
    for (int x = 0; x < W; x++)
      memcpy (m.data + (y * W + (mirror ? W - 1 - x : x)) * 3, s + nch * x, 3);
  }
  gst_buffer_unmap (buf, &m);
  g_object_unref (pb);
  return buf;
}

/* The regions of a buffer as "x,y,w,h,confidence;..." (exact values). */
static gchar *
regions (GstBuffer *b)
{
  GString *s = g_string_new (NULL);
  gpointer st = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (
              b, &st, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *)m;
    GstStructure *d
        = gst_video_region_of_interest_meta_get_param (r, "detection");
    double c = -1;
    fail_unless (d && gst_structure_get_double (d, "confidence", &c));
    g_string_append_printf (s, "%u,%u,%u,%u,%.9g;", r->x, r->y, r->w, r->h, c);
  }
  return g_string_free (s, FALSE);
}

static GstHarness *
harness (const char *props)
{
  gchar *model = face_model ();
  gchar *desc = g_strdup_printf ("macefilter model=%s %s", model, props);
  GstHarness *h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (h, CAPS);
  g_free (desc);
  g_free (model);
  return h;
}

static gboolean
pipelined (GstHarness *h)
{
  GstElement *e = gst_harness_find_element (h, "macefilter");
  gboolean on = FALSE;
  g_object_get (e, "pipelined", &on, NULL);
  gst_object_unref (e);
  return on;
}

/* Eight frames (astronaut, mirrored, ...) with inference-interval 2:
 * pipelined, every frame gets the regions it gets one frame at a time
 * (odd frames carry the previous frame's), bit for bit. */
static void
check_same_results (const char *device)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  gchar *props[2];
  props[0] = g_strdup_printf ("device=%s pipelining=off inference-interval=2",
                              device);
  props[1] = g_strdup_printf ("device=%s pipelining=on inference-interval=2",
                              device);
  gchar *got[2][8];
  for (int v = 0; v < 2; v++) {
    GstHarness *h = harness (props[v]);
    fail_unless (pipelined (h) == (v == 1));
    /* All pushed before any is pulled: the pipelined element holds
     * several frames at once. */
    for (int k = 0; k < 8; k++) {
      GstBuffer *b = astronaut ((k / 2) % 2);
      GST_BUFFER_PTS (b) = k * GST_SECOND / 30;
      if (v == 0) {
        GstBuffer *o = gst_harness_push_and_pull (h, b);
        fail_unless (o != NULL);
        got[v][k] = regions (o);
        gst_buffer_unref (o);
      } else {
        fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
      }
    }
    for (int k = 0; v == 1 && k < 8; k++) {
      GstBuffer *o = gst_harness_pull (h);
      fail_unless (o != NULL);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (o), k * GST_SECOND / 30);
      got[v][k] = regions (o);
      gst_buffer_unref (o);
    }
    GstElement *e = gst_harness_find_element (h, "macefilter");
    guint64 frames = 0, inferences = 0;
    g_object_get (e, "frames", &frames, "inferences", &inferences, NULL);
    gst_object_unref (e);
    fail_unless (frames == 8 && inferences == 4,
                 "%s: frames %" G_GUINT64_FORMAT
                 " inferences %" G_GUINT64_FORMAT,
                 props[v], frames, inferences);
    gst_harness_teardown (h);
  }
  for (int k = 0; k < 8; k++) {
    GST_INFO ("%s frame %d: %s", device, k, got[0][k]);
    fail_unless (got[0][k][0] != '\0', "no face on frame %d", k);
    fail_unless_equals_string (got[1][k], got[0][k]);
    if (k % 2 == 0 && k > 0)
      fail_if (!strcmp (got[0][k], got[0][k - 2]),
               "frames %d and %d (mirrored) gave the same regions", k, k - 2);
  }
  for (int v = 0; v < 2; v++) {
    for (int k = 0; k < 8; k++)
      g_free (got[v][k]);
    g_free (props[v]);
  }
}

GST_START_TEST (test_same_results_cpu)
{
  check_same_results ("cpu");
}
GST_END_TEST;

GST_START_TEST (test_same_results_opencl)
{
  if (mace_opencl_device_count (0) == 0) {
    GST_WARNING ("no OpenCL device: skipping");
    return;
  }
  check_same_results ("gpu");
}
GST_END_TEST;

/* As a discrete GPU runs it (MACE_CL_HOST_UNIFIED=0): the 512x512 frame
 * is sampled on the host while the device runs the previous one. */
GST_START_TEST (test_same_results_opencl_discrete)
{
  if (mace_opencl_device_count (0) == 0) {
    GST_WARNING ("no OpenCL device: skipping");
    return;
  }
  g_setenv ("MACE_CL_HOST_UNIFIED", "0", TRUE);
  check_same_results ("gpu");
  g_unsetenv ("MACE_CL_HOST_UNIFIED");
}
GST_END_TEST;

/* What reaches downstream, in order: "B<pts ms>" per buffer, "E" for EOS,
 * "S" for a stream-start... */
static GString *seen;
static GMutex seen_lock;

static GstPadProbeReturn
record (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void)pad;
  (void)data;
  g_mutex_lock (&seen_lock);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    g_string_append_printf (seen, "B%" G_GUINT64_FORMAT " ",
                            GST_BUFFER_PTS (b) / GST_MSECOND);
  } else if (GST_PAD_PROBE_INFO_TYPE (info)
             & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      g_string_append (seen, "E ");
    else if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM)
      g_string_append (seen, "C ");
  }
  g_mutex_unlock (&seen_lock);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_events_in_order)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  GstHarness *h = harness ("device=cpu pipelining=on");
  fail_unless (pipelined (h));
  seen = g_string_new (NULL);
  gst_pad_add_probe (h->sinkpad,
                     GST_PAD_PROBE_TYPE_BUFFER
                         | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     record, NULL, NULL);
  GstBuffer *frame = astronaut (FALSE);
  GString *want = g_string_new (NULL);
  for (int k = 0; k < 10; k++) {
    GstBuffer *b = gst_buffer_copy (frame);
    GST_BUFFER_PTS (b) = k * 10 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
    g_string_append_printf (want, "B%d ", k * 10);
    if (k == 4) {
      /* A serialized event goes out after the frames before it. */
      gst_harness_push_event (
          h, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                                   gst_structure_new_empty ("mark")));
      g_string_append (want, "C ");
    }
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  g_string_append (want, "E ");
  /* EOS is forwarded only once every frame is out. */
  g_mutex_lock (&seen_lock);
  fail_unless_equals_string (seen->str, want->str);
  g_mutex_unlock (&seen_lock);
  fail_unless_equals_int (gst_harness_buffers_received (h), 10);
  for (int k = 0; k < 10; k++) {
    GstBuffer *o = gst_harness_pull (h);
    gchar *r = regions (o);
    fail_unless (r[0] != '\0', "frame %d has no face", k);
    g_free (r);
    gst_buffer_unref (o);
  }
  gst_buffer_unref (frame);
  g_string_free (want, TRUE);
  g_string_free (seen, TRUE);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_flush)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  GstHarness *h = harness ("device=cpu pipelining=on");
  GstBuffer *frame = astronaut (FALSE);
  for (int k = 0; k < 3; k++) {
    GstBuffer *b = gst_buffer_copy (frame);
    GST_BUFFER_PTS (b) = k * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  /* Frames held at the flush were dropped or were out before it: none
   * comes after the flush-stop. */
  GstBuffer *o;
  while ((o = gst_harness_try_pull (h)))
    gst_buffer_unref (o);
  gst_harness_set_src_caps_str (h, CAPS);
  for (int k = 0; k < 3; k++) {
    GstBuffer *b = gst_buffer_copy (frame);
    GST_BUFFER_PTS (b) = (100 + k) * GST_MSECOND;
    o = gst_harness_push_and_pull (h, b);
    fail_unless (o != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (o), (100 + k) * GST_MSECOND);
    gchar *r = regions (o);
    fail_unless (r[0] != '\0');
    g_free (r);
    gst_buffer_unref (o);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A resolution change with frames held: the caps wait for them, and the
 * regions of later frames are in the new frame's pixels. */
GST_START_TEST (test_resolution_change)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  GstHarness *h = harness ("device=cpu pipelining=on");
  GstBuffer *frame = astronaut (FALSE);
  for (int k = 0; k < 3; k++)
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_copy (frame)),
                            GST_FLOW_OK);
  /* The astronaut at half size (every other pixel of every other row). */
  GstBuffer *half = gst_buffer_new_allocate (NULL, 256 * 256 * 3, NULL);
  GstMapInfo ms, md;
  gst_buffer_map (frame, &ms, GST_MAP_READ);
  gst_buffer_map (half, &md, GST_MAP_WRITE);
  for (int y = 0; y < 256; y++)
    for (int x = 0; x < 256; x++)
      memcpy (md.data + (y * 256 + x) * 3, ms.data + (2 * y * W + 2 * x) * 3,
              3);
  gst_buffer_unmap (frame, &ms);
  gst_buffer_unmap (half, &md);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=RGB,width=256,height=256,framerate=30/1");
  for (int k = 0; k < 3; k++)
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_copy (half)),
                            GST_FLOW_OK);
  for (int k = 0; k < 6; k++) {
    GstBuffer *o = gst_harness_pull (h);
    fail_unless (o != NULL);
    int side = k < 3 ? 512 : 256;
    fail_unless_equals_int (gst_buffer_get_size (o), side * side * 3);
    gpointer st = NULL;
    GstMeta *m;
    int n = 0;
    while ((m = gst_buffer_iterate_meta_filtered (
                o, &st, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *r = (GstVideoRegionOfInterestMeta *)m;
      fail_unless (r->x + r->w <= (guint)side && r->y + r->h <= (guint)side,
                   "frame %d: region %u,%u %ux%u outside %dx%d", k, r->x, r->y,
                   r->w, r->h, side, side);
      /* The face: x 175..300, y 40..215 of 512, half that at 256. */
      int cx = (int)(r->x + r->w / 2) * 512 / side;
      int cy = (int)(r->y + r->h / 2) * 512 / side;
      fail_unless (cx > 175 && cx < 300 && cy > 40 && cy < 215,
                   "frame %d: face centre (%d, %d) of 512", k, cx, cy);
      n++;
    }
    fail_unless (n >= 1, "frame %d: no face", k);
    gst_buffer_unref (o);
  }
  gst_buffer_unref (half);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A downstream failure (here: nothing linked) comes back to upstream on a
 * later push, and the element stops taking frames. */
GST_START_TEST (test_not_linked)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  gchar *desc
      = g_strdup_printf ("macefilter model=%s device=cpu pipelining=on", model);
  GstElement *e = gst_parse_launch (desc, NULL);
  fail_unless (e != NULL);
  GstHarness *h = gst_harness_new_with_element (e, "sink", NULL);
  gst_harness_set_src_caps_str (h, CAPS);
  GstBuffer *frame = astronaut (FALSE);
  GstFlowReturn ret = GST_FLOW_OK;
  for (int k = 0; k < 20 && ret == GST_FLOW_OK; k++)
    ret = gst_harness_push (h, gst_buffer_copy (frame));
  fail_unless_equals_int (ret, GST_FLOW_NOT_LINKED);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
  gst_object_unref (e);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* auto: off on the CPU backend and on OpenCL CPU devices (PoCL); on
 * never applies to image-to-image models. */
GST_START_TEST (test_when_on)
{
  gchar *model = face_model ();
  REQUIRE_FILE (model);
  g_free (model);
  GstHarness *h = harness ("device=cpu");
  fail_if (pipelined (h));
  gst_harness_teardown (h);
  if (mace_opencl_device_count (0) > 0 && mace_opencl_device_count (1) == 0) {
    h = harness ("device=gpu");
    fail_if (pipelined (h), "auto pipelines on an OpenCL CPU device");
    gst_harness_teardown (h);
  }
  gchar *sr = src_path ("models/esrgan-slim/esrgan-slim-x2.onnx");
  REQUIRE_FILE (sr);
  gchar *cfg = src_path ("models/configs/esrgan-slim-x2.json");
  gchar *desc = g_strdup_printf (
      "macefilter model=%s config=%s device=cpu pipelining=on", sr, cfg);
  h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=RGB,width=32,height=24,framerate=30/1");
  GstBuffer *o = gst_harness_push_and_pull (
      h, gst_buffer_new_allocate (NULL, 32 * 24 * 3, NULL));
  fail_unless (o != NULL);
  fail_unless_equals_int (gst_buffer_get_size (o), 64 * 48 * 3);
  gst_buffer_unref (o);
  fail_if (pipelined (h), "an image model was pipelined");
  gst_harness_teardown (h);
  g_free (desc);
  g_free (cfg);
  g_free (sr);
}
GST_END_TEST;

static Suite *
macefilter_pipe_suite (void)
{
  Suite *s = suite_create ("macefilter_pipe");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_same_results_cpu);
  tcase_add_test (tc, test_same_results_opencl);
  tcase_add_test (tc, test_same_results_opencl_discrete);
  tcase_add_test (tc, test_events_in_order);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_resolution_change);
  tcase_add_test (tc, test_not_linked);
  tcase_add_test (tc, test_when_on);
  return s;
}

GST_CHECK_MAIN (macefilter_pipe);
