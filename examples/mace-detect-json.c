/* SPDX-License-Identifier: Apache-2.0
 *
 * mace-detect-json: embeds macefilter in an application.  Builds a pipeline
 * with gst_parse_launch(), reads the GstVideoRegionOfInterestMeta that
 * macefilter attaches (one per face, with a "detection" structure: box,
 * confidence, landmarks) in a pad probe, and prints one JSON line per frame:
 *
 *   {"frame":0,"pts":0.0,"width":512,"height":512,"detections":[
 *     {"label":"face","confidence":0.92,"box":[x,y,w,h],
 *      "landmarks":[[x,y],...]}]}
 *
 * Boxes and landmarks are in pixels of the frame macefilter saw.  At the
 * end a summary goes to stderr: frames, frames/s, mean inference time.
 *
 *   mace-detect-json --model M [--config C] [--input IMAGE|VIDEO] [--frames N]
 *                    [--device cpu|gpu|auto] [--threshold T] [--output FILE]
 *   mace-detect-json --pipeline "... ! macefilter name=mace ... ! ..."
 *
 * Without --pipeline it builds
 *   filesrc location=IMAGE ! pngdec ! imagefreeze num-buffers=N ! videoconvert
 * ! macefilter ! fakesink for an image (.png; jpegdec for .jpg), `filesrc !
 * decodebin ! videoconvert ! macefilter ! fakesink` for a video, and
 * `videotestsrc num-buffers=N` without --input. With --pipeline the probe goes
 * on the element named "mace", else on the first macefilter in the pipeline.
 */
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/video/video.h>

typedef struct {
  guint64 frames;
  guint64 frames_with_detections;
  gint width, height;
  FILE *out;
} Probe;

/* Appends s as a JSON string literal. */
static void
append_json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, (char)c);
  }
  g_string_append_c (out, '"');
}

/* Appends one ROI meta as a JSON object; pixels with two decimals. */
static void
append_detection (GString *out, GstVideoRegionOfInterestMeta *roi, int fw,
                  int fh)
{
  GstStructure *s
      = gst_video_region_of_interest_meta_get_param (roi, "detection");
  double x = roi->x, y = roi->y, w = roi->w, h = roi->h, conf = -1;
  const char *label = g_quark_to_string (roi->roi_type);

  /* The structure has the unclamped normalised box; prefer it. */
  if (s) {
    double nx, ny, nw, nh;
    if (gst_structure_get_double (s, "x", &nx)
        && gst_structure_get_double (s, "y", &ny)
        && gst_structure_get_double (s, "w", &nw)
        && gst_structure_get_double (s, "h", &nh)) {
      x = nx * fw;
      y = ny * fh;
      w = nw * fw;
      h = nh * fh;
    }
    gst_structure_get_double (s, "confidence", &conf);
    if (gst_structure_has_field_typed (s, "label", G_TYPE_STRING))
      label = gst_structure_get_string (s, "label");
  }

  g_string_append (out, "{\"label\":");
  append_json_string (out, label);
  if (conf >= 0)
    g_string_append_printf (out, ",\"confidence\":%.4f", conf);
  g_string_append_printf (out, ",\"box\":[%.2f,%.2f,%.2f,%.2f]", x, y, w, h);

  const GValue *kps = s ? gst_structure_get_value (s, "landmarks") : NULL;
  if (kps && GST_VALUE_HOLDS_ARRAY (kps)) {
    guint n = gst_value_array_get_size (kps) / 2;
    g_string_append (out, ",\"landmarks\":[");
    for (guint k = 0; k < n; k++) {
      const GValue *vx = gst_value_array_get_value (kps, 2 * k);
      const GValue *vy = gst_value_array_get_value (kps, 2 * k + 1);
      if (!G_VALUE_HOLDS_DOUBLE (vx) || !G_VALUE_HOLDS_DOUBLE (vy))
        continue;
      g_string_append_printf (out, "%s[%.2f,%.2f]", k ? "," : "",
                              g_value_get_double (vx) * fw,
                              g_value_get_double (vy) * fh);
    }
    g_string_append_c (out, ']');
  }
  g_string_append_c (out, '}');
}

static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Probe *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!buf)
    return GST_PAD_PROBE_OK;
  if (p->width == 0) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    GstVideoInfo vi;
    if (caps && gst_video_info_from_caps (&vi, caps)) {
      p->width = GST_VIDEO_INFO_WIDTH (&vi);
      p->height = GST_VIDEO_INFO_HEIGHT (&vi);
    }
    if (caps)
      gst_caps_unref (caps);
  }

  GString *line = g_string_new (NULL);
  g_string_append_printf (
      line, "{\"frame\":%" G_GUINT64_FORMAT ",\"pts\":", p->frames);
  if (GST_BUFFER_PTS_IS_VALID (buf))
    g_string_append_printf (line, "%.6f",
                            GST_BUFFER_PTS (buf) / (double)GST_SECOND);
  else
    g_string_append (line, "null");
  g_string_append_printf (line, ",\"width\":%d,\"height\":%d,\"detections\":[",
                          p->width, p->height);
  gpointer state = NULL;
  GstMeta *meta;
  int n = 0;
  while ((meta = gst_buffer_iterate_meta_filtered (
              buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (n++)
      g_string_append_c (line, ',');
    append_detection (line, (GstVideoRegionOfInterestMeta *)meta, p->width,
                      p->height);
  }
  g_string_append (line, "]}\n");
  fputs (line->str, p->out);
  fflush (p->out);
  g_string_free (line, TRUE);

  p->frames++;
  if (n > 0)
    p->frames_with_detections++;
  return GST_PAD_PROBE_OK;
}

static GstElement *
find_macefilter (GstElement *pipeline)
{
  GstElement *found = NULL;
  if (GST_IS_BIN (pipeline))
    found = gst_bin_get_by_name (GST_BIN (pipeline), "mace");
  if (found || !GST_IS_BIN (pipeline))
    return found;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK: {
        GstElement *e = g_value_get_object (&item);
        GstElementFactory *f = gst_element_get_factory (e);
        /* Pipelines are iterated sink first: keep the last one seen, which
         * is the first macefilter upstream. */
        if (f && strcmp (GST_OBJECT_NAME (f), "macefilter") == 0) {
          if (found)
            gst_object_unref (found);
          found = gst_object_ref (e);
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC: gst_iterator_resync (it); break;
      default: done = TRUE; break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

static gboolean
is_image (const char *path)
{
  const char *exts[] = { ".png", ".jpg", ".jpeg", NULL };
  gchar *lower = g_ascii_strdown (path, -1);
  gboolean yes = FALSE;
  for (int i = 0; exts[i] && !yes; i++)
    yes = g_str_has_suffix (lower, exts[i]);
  g_free (lower);
  return yes;
}

int
main (int argc, char **argv)
{
  gchar *model = NULL, *config = NULL, *input = NULL, *desc = NULL;
  gchar *output = NULL, *device = NULL;
  gint frames = 1;
  gdouble threshold = -1;
  GError *error = NULL;
  int ret = 1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      "ONNX model for macefilter", "MODEL" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
      "Model config (default: beside the model, else guessed)", "FILE" },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
      "Image or video file (default: videotestsrc)", "FILE" },
    { "frames", 'n', 0, G_OPTION_ARG_INT, &frames,
      "Frames for an image or videotestsrc (default 1)", "N" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold,
      "macefilter threshold (default: the element's)", "T" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
      "macefilter device: auto, cpu or gpu (default: the element's)", "D" },
    { "pipeline", 'p', 0, G_OPTION_ARG_STRING, &desc,
      "Whole pipeline description instead of the options above", "DESC" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Write the JSON lines to FILE instead of stdout", "FILE" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *ctx
      = g_option_context_new ("- print macefilter detections as JSON lines");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (!desc && !model) {
    fprintf (stderr, "give --model MODEL.onnx or --pipeline DESC (--help)\n");
    return 2;
  }

  if (!desc) {
    /* Quote paths for gst_parse_launch. */
    gchar *m = g_strescape (model, NULL);
    gchar *c = config ? g_strescape (config, NULL) : NULL;
    gchar *in = input ? g_strescape (input, NULL) : NULL;
    gchar *src;
    if (!input)
      src = g_strdup_printf ("videotestsrc num-buffers=%d", frames);
    else if (is_image (input))
      src = g_strdup_printf (
          "filesrc location=\"%s\" ! %s ! "
          "imagefreeze num-buffers=%d",
          in, g_str_has_suffix (input, ".png") ? "pngdec" : "jpegdec", frames);
    else
      src = g_strdup_printf ("filesrc location=\"%s\" ! decodebin", in);
    gchar *thr
        = device ? g_strdup_printf (" device=%s", device) : g_strdup ("");
    if (threshold >= 0) {
      gchar *t = g_strdup_printf ("%s threshold=%g", thr, threshold);
      g_free (thr);
      thr = t;
    }
    desc = g_strdup_printf (
        "%s ! videoconvert ! macefilter name=mace model=\"%s\"%s%s%s%s ! "
        "fakesink",
        src, m, c ? " config=\"" : "", c ? c : "", c ? "\"" : "", thr);
    g_free (m);
    g_free (c);
    g_free (in);
    g_free (src);
    g_free (thr);
  }

  Probe probe = { 0 };
  probe.out = stdout;
  if (output && !(probe.out = fopen (output, "w"))) {
    fprintf (stderr, "cannot write %s\n", output);
    return 1;
  }

  GstElement *pipeline = gst_parse_launch (desc, &error);
  if (!pipeline || error) {
    fprintf (stderr, "bad pipeline: %s\n  %s\n", error ? error->message : "?",
             desc);
    g_clear_error (&error);
    goto out;
  }
  GstElement *filter = find_macefilter (pipeline);
  if (!filter) {
    fprintf (stderr, "no macefilter in the pipeline: %s\n", desc);
    goto out;
  }
  GstPad *pad = gst_element_get_static_pad (filter, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &probe, NULL);
  gst_object_unref (pad);

  gint64 t0 = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    fprintf (stderr, "the pipeline did not start; the bus says why:\n");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *dbg = NULL;
    gst_message_parse_error (msg, &error, &dbg);
    fprintf (stderr, "error from %s: %s\n%s%s", GST_OBJECT_NAME (msg->src),
             error->message, dbg ? dbg : "", dbg ? "\n" : "");
    g_clear_error (&error);
    g_free (dbg);
  } else {
    gdouble ms = 0;
    g_object_get (filter, "mean-inference-ms", &ms, NULL);
    fprintf (stderr,
             "mace-detect-json: %" G_GUINT64_FORMAT " frames in %.2f s "
             "(%.1f frames/s), %" G_GUINT64_FORMAT " with detections, "
             "inference %.1f ms mean\n",
             probe.frames, secs, secs > 0 ? probe.frames / secs : 0.0,
             probe.frames_with_detections, ms);
    ret = 0;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (filter);

out:
  if (pipeline)
    gst_object_unref (pipeline);
  if (probe.out && probe.out != stdout)
    fclose (probe.out);
  g_free (model);
  g_free (config);
  g_free (input);
  g_free (desc);
  g_free (output);
  g_free (device);
  return ret;
}
