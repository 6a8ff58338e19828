/* SPDX-License-Identifier: Apache-2.0
 * Leak check: `videotestsrc ! macefilter ! maceoverlay ! fakesink` taken
 * PLAYING -> NULL many times (two small frames each time), then torn down
 * with gst_deinit(), so that a leak checker (valgrind memcheck, or LSan in
 * an ASan build) sees every block our code allocated and did not free.
 *
 * usage: leak-cycle MODEL [CYCLES] [WIDTH HEIGHT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr,
             "usage: %s MODEL [CYCLES] [WIDTH HEIGHT [PROPS [interrupt]]]\n",
             argv[0]);
    return 2;
  }
  int cycles = argc > 2 ? atoi (argv[2]) : 200;
  int w = argc > 4 ? atoi (argv[3]) : 64, h = argc > 4 ? atoi (argv[4]) : 48;
  /* PROPS: more macefilter properties (pipelining=on); interrupt: every
   * other cycle goes to NULL while frames are still flowing (30 frames
   * a cycle instead of 2). */
  const char *props = argc > 5 ? argv[5] : "";
  gboolean interrupt = argc > 6 && !strcmp (argv[6], "interrupt");
  int n_frames = interrupt ? 30 : 2;
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
    fprintf (stderr, "%s missing (run models/fetch): skipping\n", argv[1]);
    return 77;
  }
  gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=%d ! "
      "video/x-raw,format=I420,width=%d,height=%d ! "
      "macefilter name=f model=%s device=cpu threads=2 message=true %s ! "
      "maceoverlay ! fakesink",
      n_frames, w, h, argv[1], props);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p) {
    fprintf (stderr, "pipeline: %s\n", err->message);
    return 1;
  }
  GstBus *bus = gst_element_get_bus (p);
  GstElement *f = gst_bin_get_by_name (GST_BIN (p), "f");
  int status = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < cycles && status == 0; i++) {
    if (gst_element_set_state (p, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE) {
      fprintf (stderr, "cycle %d: PLAYING failed\n", i);
      status = 1;
    }
    if (interrupt && i % 2) {
      /* Whatever is in flight when the state goes down. */
      gst_element_get_state (p, NULL, NULL, 60 * GST_SECOND);
      gst_element_set_state (p, GST_STATE_NULL);
      gst_bus_set_flushing (bus, TRUE);
      gst_bus_set_flushing (bus, FALSE);
      continue;
    }
    GstMessage *m = gst_bus_timed_pop_filtered (
        bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!m || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      fprintf (stderr, "cycle %d: %s\n", i, m ? "error" : "timeout");
      status = 1;
    }
    if (m)
      gst_message_unref (m);
    guint64 frames = 0;
    g_object_get (f, "frames", &frames, NULL);
    if (status == 0 && frames != (guint64)n_frames) {
      fprintf (stderr, "cycle %d: %" G_GUINT64_FORMAT " frames, not %d\n", i,
               frames, n_frames);
      status = 1;
    }
    gst_element_set_state (p, GST_STATE_NULL);
    /* the element messages of this cycle */
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_flushing (bus, FALSE);
  }
  printf ("%d cycles in %.1f s\n", cycles,
          (g_get_monotonic_time () - t0) / 1e6);
  gst_object_unref (f);
  gst_object_unref (bus);
  gst_object_unref (p);
  gst_deinit ();
  return status;
}
