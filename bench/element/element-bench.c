/* SPDX-License-Identifier: Apache-2.0
 * Element benchmark without a source: pre-made frames pushed through
 * macefilter in a GstHarness (the element's chain function, on this
 * thread), so only macefilter's own cost is timed: preprocessing, the
 * model, decoding and metadata (or the output frame).
 *
 * Each pushed buffer wraps the same pre-made frame in a new GstMemory
 * (no copy, and writable, as a source's fresh buffer would be).
 *
 * With --interleave K, the bare model runs in the same
 * process too: a second engine on the same model with the same threads
 * setting, its input set once from the same frame, and blocks of K
 * mace_engine_run calls (what `mace-run bench` times) alternate with
 * blocks of K frames through the element, each after the same warm-up.
 * On a shared machine whose speed changes from one second to the next
 * (other guests on the host), this compares like with like; separate
 * runs of mace-run and element-bench need not.
 *
 * usage: element-bench --model M [--config C] [--device cpu|gpu|auto]
 *          [--format I420] [--width 640] [--height 480] [--frames 300]
 *          [--warmup 20] [--threads 0] [--label NAME] [--interleave K]
 *          [--pipelining auto|on|off]
 * Frames are pushed as a source pushes them and outputs taken as they
 * come; a frame's time runs from its push to the next push.  A last pass
 * of up to 100 frames, each pushed and pulled before the next, gives the
 * latency (push to output).
 * Prints one JSON object: frames/s, ms per frame (mean, median, p90),
 * the element's mean-inference-ms, whether it pipelined, the latency
 * median, the detections on the last frame, the load average, and with
 * --interleave the bare model's median and the element's overhead over
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "mace.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v; the median (the mean of the middle two for an even count, as
 * mace-run bench gives it). */
static double
median (double *v, int n)
{
  qsort (v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A new buffer wrapping the pre-made frame (no copy). */
static GstBuffer *
frame_buffer (guint8 *data, gsize size, int n)
{
  GstBuffer *b = gst_buffer_new ();
  gst_buffer_append_memory (
      b, gst_memory_new_wrapped (0, data, size, 0, size, NULL, NULL));
  GST_BUFFER_PTS (b) = (GstClockTime)n * GST_SECOND / 30;
  GST_BUFFER_DURATION (b) = GST_SECOND / 30;
  return b;
}

/* Counts the regions of an output and drops it. */
static void
take_output (GstBuffer *o, int *n_dets)
{
  *n_dets = 0;
  gpointer state = NULL;
  while (gst_buffer_iterate_meta_filtered (
      o, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    (*n_dets)++;
  gst_buffer_unref (o);
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *config = NULL, *device = "cpu", *format = "I420";
  const char *label = "";
  int width = 640, height = 480, frames = 300, warmup = 20, threads = 0;
  int interleave = 0;
  const char *pipelining = "auto";
  gst_init (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      break;
    if (!strcmp (a, "--model"))
      model = v;
    else if (!strcmp (a, "--config"))
      config = v;
    else if (!strcmp (a, "--device"))
      device = v;
    else if (!strcmp (a, "--format"))
      format = v;
    else if (!strcmp (a, "--width"))
      width = atoi (v);
    else if (!strcmp (a, "--height"))
      height = atoi (v);
    else if (!strcmp (a, "--frames"))
      frames = atoi (v);
    else if (!strcmp (a, "--warmup"))
      warmup = atoi (v);
    else if (!strcmp (a, "--threads"))
      threads = atoi (v);
    else if (!strcmp (a, "--label"))
      label = v;
    else if (!strcmp (a, "--interleave"))
      interleave = atoi (v);
    else if (!strcmp (a, "--pipelining"))
      pipelining = v;
    else {
      fprintf (stderr, "unknown option %s\n", a);
      return 2;
    }
    i++;
  }
  if (!model) {
    fprintf (stderr,
             "usage: %s --model M [--config C] [--device D] [--format F] "
             "[--width W] [--height H] [--frames N] [--warmup K] [--threads T] "
             "[--interleave K] [--pipelining auto|on|off]\n",
             argv[0]);
    return 2;
  }
  gchar *desc = g_strdup_printf (
      "macefilter model=%s device=%s threads=%d pipelining=%s%s%s", model,
      device, threads, pipelining, config ? " config=" : "",
      config ? config : "");
  GstHarness *h = gst_harness_new_parse (desc);
  gchar *caps = g_strdup_printf (
      "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", format, width,
      height);
  gst_harness_set_src_caps_str (h, caps);
  GstVideoInfo vi;
  GstCaps *c = gst_caps_from_string (caps);
  gst_video_info_from_caps (&vi, c);
  gst_caps_unref (c);

  /* A frame with content (gradient + pattern), made once. */
  guint8 *data = g_malloc (vi.size);
  for (gsize i = 0; i < vi.size; i++)
    data[i] = (guint8)((i * 13) ^ (i >> 7));

  /* The bare model (--interleave): its own engine, the input set once. */
  MaceEngine *bare = NULL;
  if (interleave > 0) {
    MaceConfig *mc = mace_config_new ();
    mace_config_set_threads (mc, threads);
    if (strcmp (device, "cpu") != 0)
      mace_config_set_backend (mc, MACE_BACKEND_OPENCL);
    MaceError err = { 0 };
    bare = mace_engine_load_file (model, mc, &err);
    mace_config_free (mc);
    MaceFrame mf
        = { .format = MACE_FRAME_RGB, .width = width, .height = height };
    MacePreprocess pp;
    mace_preprocess_init (&pp);
    if (!strcmp (format, "I420"))
      mf.format = MACE_FRAME_I420;
    else if (strcmp (format, "RGB")) {
      fprintf (stderr, "--interleave: RGB or I420 frames\n");
      return 2;
    }
    for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (&vi); p++) {
      mf.data[p] = data + GST_VIDEO_INFO_PLANE_OFFSET (&vi, p);
      mf.stride[p] = GST_VIDEO_INFO_PLANE_STRIDE (&vi, p);
    }
    if (!bare
        || mace_engine_set_input_frame (bare, 0, &mf, &pp, NULL) != MACE_OK) {
      fprintf (stderr, "--interleave: cannot set up the bare model: %s\n",
               bare ? mace_engine_last_error (bare) : err.message);
      return 1;
    }
    for (int i = 0; i < warmup; i++)
      if (mace_engine_run (bare) != MACE_OK)
        return 1;
  }
  double *bare_ms = g_new (double, frames);
  int n_bare = 0, next_bare = interleave;

  /* Frames are pushed as a source would push them: outputs are taken as
   * they come (a pipelining element pushes them from its own thread), and
   * a frame's time is from its push to the next push (the last of a
   * block: to its output), so the median is the steady-state cost per
   * frame whatever the element overlaps. */
  double *ms = g_new (double, frames);
  gint64 t_all = 0, prev_t0 = 0;
  int n_dets = 0, outstanding = 0, prev_i = -1;
  gboolean have_prev = FALSE;
  for (int i = -warmup; i < frames; i++) {
    /* A block of bare runs after every `interleave` element frames. */
    if (bare && i == next_bare) {
      for (; outstanding > 0; outstanding--)
        take_output (gst_harness_pull (h), &n_dets);
      if (have_prev && prev_i >= 0) {
        ms[prev_i] = (g_get_monotonic_time () - prev_t0) / 1000.0;
        t_all += g_get_monotonic_time () - prev_t0;
      }
      have_prev = FALSE;
      for (int k = 0; k < interleave && n_bare < frames; k++) {
        gint64 t0 = g_get_monotonic_time ();
        if (mace_engine_run (bare) != MACE_OK) {
          fprintf (stderr, "bare run: %s\n", mace_engine_last_error (bare));
          return 1;
        }
        bare_ms[n_bare++] = (g_get_monotonic_time () - t0) / 1000.0;
      }
      next_bare += interleave;
    }
    GstBuffer *b = frame_buffer (data, vi.size, i + warmup);
    gint64 t0 = g_get_monotonic_time ();
    if (have_prev && prev_i >= 0) {
      ms[prev_i] = (t0 - prev_t0) / 1000.0;
      t_all += t0 - prev_t0;
    }
    GstFlowReturn r = gst_harness_push (h, b);
    if (r != GST_FLOW_OK) {
      fprintf (stderr, "push: %s\n", gst_flow_get_name (r));
      return 1;
    }
    have_prev = TRUE;
    prev_i = i;
    prev_t0 = t0;
    outstanding++;
    GstBuffer *o;
    while (outstanding > 0 && (o = gst_harness_try_pull (h))) {
      take_output (o, &n_dets);
      outstanding--;
    }
  }
  for (; outstanding > 0; outstanding--)
    take_output (gst_harness_pull (h), &n_dets);
  if (have_prev && prev_i >= 0) {
    ms[prev_i] = (g_get_monotonic_time () - prev_t0) / 1000.0;
    t_all += g_get_monotonic_time () - prev_t0;
  }
  /* Latency: one frame at a time, from its push to its output. */
  int n_lat = MIN (frames, 100);
  double *lat = g_new (double, n_lat);
  for (int i = 0; i < n_lat; i++) {
    GstBuffer *b = frame_buffer (data, vi.size, frames + warmup + i);
    gint64 t0 = g_get_monotonic_time ();
    if (gst_harness_push (h, b) != GST_FLOW_OK)
      return 1;
    take_output (gst_harness_pull (h), &n_dets);
    lat[i] = (g_get_monotonic_time () - t0) / 1000.0;
  }
  double lat_median = median (lat, n_lat);
  g_free (lat);
  GstElement *e = gst_harness_find_element (h, "macefilter");
  double mean_inf = 0;
  guint64 copies = 0;
  gboolean pipelined = FALSE;
  g_object_get (e, "mean-inference-ms", &mean_inf, "copies", &copies,
                "pipelined", &pipelined, NULL);
  gst_object_unref (e);
  double mean = t_all / 1000.0 / frames;
  gchar *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  if (load)
    g_strdelimit (load, "\n", ' ');
  double em = median (ms, frames); /* sorts ms, for the p90 too */
  printf ("{\"label\": \"%s\", \"model\": \"%s\", \"device\": \"%s\", "
          "\"format\": \"%s\", "
          "\"width\": %d, \"height\": %d, \"threads\": %d, \"frames\": %d, "
          "\"fps\": %.1f, "
          "\"ms_mean\": %.3f, \"ms_median\": %.3f, \"ms_p90\": %.3f, "
          "\"element_mean_inference_ms\": %.3f, \"copies\": %" G_GUINT64_FORMAT
          ", \"detections\": %d, \"pipelined\": %s, "
          "\"latency_ms_median\": %.3f, ",
          label, model, device, format, width, height, threads, frames,
          1000.0 / mean, mean, em, ms[frames * 9 / 10], mean_inf, copies,
          n_dets, pipelined ? "true" : "false", lat_median);
  if (n_bare > 0) {
    double bm = median (bare_ms, n_bare);
    printf ("\"interleave\": %d, \"bare_runs\": %d, \"bare_ms_median\": "
            "%.4f, \"overhead\": %.4f, ",
            interleave, n_bare, bm, (em - bm) / bm);
  }
  printf ("\"loadavg\": \"%s\"}\n", load ? g_strstrip (load) : "");
  fflush (stdout);
  g_free (load);
  g_free (ms);
  g_free (bare_ms);
  mace_engine_free (bare);
  g_free (data);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (desc);
  return 0;
}
