/* SPDX-License-Identifier: Apache-2.0
 * Element benchmark without a source: pre-made frames pushed through
 * macefilter in a GstHarness (the element's chain function, on this
 * thread), so only macefilter's own cost is timed: preprocessing, the
 * model, decoding and metadata (or the output frame).
 *
 * Each pushed buffer wraps the same pre-made frame in a new GstMemory
 * (no copy, and writable, as a source's fresh buffer would be).
 *
 * usage: element-bench --model M [--config C] [--device cpu|gpu|auto]
 *          [--format I420] [--width 640] [--height 480] [--frames 300]
 *          [--warmup 20] [--threads 0] [--label NAME]
 * Prints one JSON object: frames/s, ms per frame (mean, median, p90),
 * the element's mean-inference-ms, and the load average. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *config = NULL, *device = "cpu", *format = "I420";
  const char *label = "";
  int width = 640, height = 480, frames = 300, warmup = 20, threads = 0;
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
    else {
      fprintf (stderr, "unknown option %s\n", a);
      return 2;
    }
    i++;
  }
  if (!model) {
    fprintf (
        stderr,
        "usage: %s --model M [--config C] [--device D] [--format F] "
        "[--width W] [--height H] [--frames N] [--warmup K] [--threads T]\n",
        argv[0]);
    return 2;
  }
  gchar *desc = g_strdup_printf (
      "macefilter model=%s device=%s threads=%d%s%s", model, device, threads,
      config ? " config=" : "", config ? config : "");
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

  double *ms = g_new (double, frames);
  gint64 t_all = 0;
  for (int i = -warmup; i < frames; i++) {
    GstBuffer *b = gst_buffer_new ();
    gst_buffer_append_memory (
        b, gst_memory_new_wrapped (0, data, vi.size, 0, vi.size, NULL, NULL));
    GST_BUFFER_PTS (b) = (GstClockTime)(i + warmup) * GST_SECOND / 30;
    GST_BUFFER_DURATION (b) = GST_SECOND / 30;
    gint64 t0 = g_get_monotonic_time ();
    GstFlowReturn r = gst_harness_push (h, b);
    gint64 t1 = g_get_monotonic_time ();
    if (r != GST_FLOW_OK) {
      fprintf (stderr, "push: %s\n", gst_flow_get_name (r));
      return 1;
    }
    GstBuffer *o = gst_harness_pull (h);
    gst_buffer_unref (o);
    if (i >= 0) {
      ms[i] = (t1 - t0) / 1000.0;
      t_all += t1 - t0;
    }
  }
  GstElement *e = gst_harness_find_element (h, "macefilter");
  double mean_inf = 0;
  guint64 copies = 0;
  g_object_get (e, "mean-inference-ms", &mean_inf, "copies", &copies, NULL);
  gst_object_unref (e);
  qsort (ms, frames, sizeof *ms, cmp_double);
  double mean = t_all / 1000.0 / frames;
  gchar *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  if (load)
    g_strdelimit (load, "\n", ' ');
  printf ("{\"label\": \"%s\", \"model\": \"%s\", \"device\": \"%s\", "
          "\"format\": \"%s\", "
          "\"width\": %d, \"height\": %d, \"frames\": %d, \"fps\": %.1f, "
          "\"ms_mean\": %.3f, \"ms_median\": %.3f, \"ms_p90\": %.3f, "
          "\"element_mean_inference_ms\": %.3f, \"copies\": %" G_GUINT64_FORMAT
          ", "
          "\"loadavg\": \"%s\"}\n",
          label, model, device, format, width, height, frames, 1000.0 / mean,
          mean, ms[frames / 2], ms[frames * 9 / 10], mean_inf, copies,
          load ? g_strstrip (load) : "");
  fflush (stdout);
  g_free (load);
  g_free (ms);
  g_free (data);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (desc);
  return 0;
}
