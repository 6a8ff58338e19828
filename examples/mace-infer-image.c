/* SPDX-License-Identifier: Apache-2.0
 *
 * mace-infer-image: the smallest useful program on top of libmace.  Loads an
 * ONNX model, reads an image file (anything gdk-pixbuf reads: PNG, JPEG...),
 * resizes and normalises it into the model's image input, runs the model
 * and prints every output: name, type, shape, the first values and the
 * largest ones.
 *
 *   mace-infer-image MODEL.onnx IMAGE [options]
 *
 *   --range LO,HI     map pixel values 0..255 linearly to LO..HI (default 0,1)
 *   --mean R,G,B      subtract after --range (default 0)
 *   --std R,G,B       then divide (default 1)
 *   --size WxH        input size for models with a dynamic size (default:
 *                     the model's size, else the image's)
 *   --bgr             feed BGR instead of RGB
 *   --layout L        nhwc or nchw (default: nchw when dim 1 is 3)
 *   --top K           how many of the largest values to print (default 5)
 *   --first N         how many leading values to print (default 8)
 *   --threads N       CPU threads (default: one per core)
 *   --device D        cpu (default) or cl
 *
 * Example (BlazeFace wants RGB in [-1, 1]):
 *   mace-infer-image
 * models/blazeface/face_detection_front_128x128_barracuda.onnx \
 *       models/images/astronaut.png --range -1,1
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

#include "mace.h"

typedef struct {
  float lo, hi;
  float mean[3], std[3];
  int width, height; /* 0 = from the model or the image */
  gboolean bgr;
  int nchw; /* -1 = guess */
  int top, first;
  int threads;
  gboolean opencl;
} Options;

/* Parses "a,b,c" into up to n floats; one value fills all n. */
static gboolean
parse_floats (const char *s, float *out, int n, int need_exact)
{
  gchar **parts = g_strsplit (s, ",", -1);
  int count = (int)g_strv_length (parts);
  gboolean ok = count == n || (!need_exact && count == 1);
  for (int i = 0; ok && i < count; i++) {
    char *end = NULL;
    out[i] = (float)g_ascii_strtod (parts[i], &end);
    ok = end && end != parts[i] && *end == '\0';
  }
  if (ok && count == 1)
    for (int i = 1; i < n; i++)
      out[i] = out[0];
  g_strfreev (parts);
  return ok;
}

static gboolean
parse_options (int *argc, char ***argv, Options *o)
{
  gchar *range = NULL, *mean = NULL, *std = NULL, *size = NULL;
  gchar *layout = NULL, *device = NULL;
  gboolean ok = TRUE;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "range", 0, 0, G_OPTION_ARG_STRING, &range,
      "Map pixels 0..255 to LO..HI (default 0,1)", "LO,HI" },
    { "mean", 0, 0, G_OPTION_ARG_STRING, &mean,
      "Subtract per channel after --range (default 0)", "R,G,B" },
    { "std", 0, 0, G_OPTION_ARG_STRING, &std,
      "Divide per channel after --mean (default 1)", "R,G,B" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size,
      "Input size for dynamic models (default: the image's)", "WxH" },
    { "bgr", 0, 0, G_OPTION_ARG_NONE, &o->bgr, "Feed BGR, not RGB", NULL },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout,
      "nhwc or nchw (default: nchw when dim 1 is 3)", "L" },
    { "top", 0, 0, G_OPTION_ARG_INT, &o->top,
      "Largest values to print per output (default 5)", "K" },
    { "first", 0, 0, G_OPTION_ARG_INT, &o->first,
      "Leading values to print per output (default 8)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o->threads,
      "CPU threads (default: one per core)", "N" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "cpu (default) or cl",
      "D" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *ctx = g_option_context_new (
      "MODEL.onnx IMAGE - run an ONNX model on an image with libmace");
  g_option_context_add_main_entries (ctx, entries, NULL);

  o->lo = 0.0f;
  o->hi = 1.0f;
  for (int i = 0; i < 3; i++) {
    o->mean[i] = 0.0f;
    o->std[i] = 1.0f;
  }
  o->nchw = -1;
  o->top = 5;
  o->first = 8;
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    g_clear_error (&error);
    ok = FALSE;
  } else if (*argc != 3) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    fprintf (stderr, "%s", help);
    g_free (help);
    ok = FALSE;
  }
  float r[2];
  if (ok && range) {
    ok = parse_floats (range, r, 2, 1) && r[1] != r[0];
    o->lo = r[0];
    o->hi = r[1];
    if (!ok)
      fprintf (stderr, "--range wants LO,HI, got '%s'\n", range);
  }
  if (ok && mean && !(ok = parse_floats (mean, o->mean, 3, 0)))
    fprintf (stderr, "--mean wants R,G,B or one value, got '%s'\n", mean);
  if (ok && std && !(ok = parse_floats (std, o->std, 3, 0)))
    fprintf (stderr, "--std wants R,G,B or one value, got '%s'\n", std);
  for (int i = 0; ok && i < 3; i++)
    if (o->std[i] == 0.0f) {
      fprintf (stderr, "--std must not be 0\n");
      ok = FALSE;
    }
  if (ok && size
      && (sscanf (size, "%dx%d", &o->width, &o->height) != 2 || o->width <= 0
          || o->height <= 0)) {
    fprintf (stderr, "--size wants WxH, got '%s'\n", size);
    ok = FALSE;
  }
  if (ok && layout) {
    if (g_ascii_strcasecmp (layout, "nchw") == 0)
      o->nchw = 1;
    else if (g_ascii_strcasecmp (layout, "nhwc") == 0)
      o->nchw = 0;
    else {
      fprintf (stderr, "--layout wants nhwc or nchw, got '%s'\n", layout);
      ok = FALSE;
    }
  }
  if (ok && device) {
    if (strcmp (device, "cl") == 0)
      o->opencl = TRUE;
    else if (strcmp (device, "cpu") != 0) {
      fprintf (stderr, "--device wants cpu or cl, got '%s'\n", device);
      ok = FALSE;
    }
  }
  g_free (range);
  g_free (mean);
  g_free (std);
  g_free (size);
  g_free (layout);
  g_free (device);
  g_option_context_free (ctx);
  return ok;
}

/* Resizes the image to w x h (bilinear) and writes the normalised tensor
 * in the model's layout and channel order. */
static void
fill_input (GdkPixbuf *image, int w, int h, gboolean nchw, const Options *o,
            float *dst)
{
  GdkPixbuf *scaled
      = gdk_pixbuf_scale_simple (image, w, h, GDK_INTERP_BILINEAR);
  const guint8 *pixels = gdk_pixbuf_read_pixels (scaled);
  int stride = gdk_pixbuf_get_rowstride (scaled);
  int nch = gdk_pixbuf_get_n_channels (scaled); /* 3, or 4 with alpha */
  float scale = (o->hi - o->lo) / 255.0f;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const guint8 *p = pixels + (gsize)y * stride + (gsize)x * nch;
      for (int c = 0; c < 3; c++) {
        int src = o->bgr ? 2 - c : c;
        float v = (o->lo + p[src] * scale - o->mean[c]) / o->std[c];
        gsize idx
            = nchw ? ((gsize)c * h + y) * w + x : ((gsize)y * w + x) * 3 + c;
        dst[idx] = v;
      }
    }
  g_object_unref (scaled);
}

static double
value_at (const MaceTensor *t, int64_t i)
{
  const void *d = mace_tensor_data_const (t);
  switch (mace_tensor_dtype (t)) {
    case MACE_DTYPE_FLOAT32: return ((const float *)d)[i];
    case MACE_DTYPE_FLOAT64: return ((const double *)d)[i];
    case MACE_DTYPE_INT64: return (double)((const int64_t *)d)[i];
    case MACE_DTYPE_INT32: return ((const int32_t *)d)[i];
    case MACE_DTYPE_UINT8: return ((const uint8_t *)d)[i];
    case MACE_DTYPE_INT8: return ((const int8_t *)d)[i];
    case MACE_DTYPE_BOOL: return ((const uint8_t *)d)[i];
    default: return NAN;
  }
}

static void
print_output (MaceEngine *engine, int index, const Options *o)
{
  const MaceTensor *t = mace_engine_get_output (engine, index);
  int64_t n = mace_tensor_numel (t);
  printf ("output %d '%s' %s [", index, mace_engine_output_name (engine, index),
          mace_dtype_name (mace_tensor_dtype (t)));
  for (int a = 0; a < mace_tensor_ndim (t); a++)
    printf ("%s%lld", a ? ", " : "", (long long)mace_tensor_dim (t, a));
  printf ("]\n");
  if (n == 0 || isnan (value_at (t, 0))) {
    printf ("  (no printable values)\n");
    return;
  }

  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double v = value_at (t, i);
    sum += v;
    lo = fmin (lo, v);
    hi = fmax (hi, v);
  }
  printf ("  min %.6g  max %.6g  mean %.6g\n", lo, hi, sum / (double)n);

  printf ("  first:");
  for (int64_t i = 0; i < n && i < o->first; i++)
    printf (" %.6g", value_at (t, i));
  printf ("\n");

  /* Top K by a partial selection: fine for the sizes printed here. */
  int k = (int)MIN ((int64_t)o->top, n);
  int64_t *best = g_new (int64_t, k > 0 ? k : 1);
  int have = 0;
  for (int64_t i = 0; i < n && k > 0; i++) {
    double v = value_at (t, i);
    if (have == k && v <= value_at (t, best[k - 1]))
      continue;
    int j = have < k ? have++ : k - 1;
    while (j > 0 && value_at (t, best[j - 1]) < v) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = i;
  }
  if (k > 0) {
    printf ("  top %d:", k);
    for (int i = 0; i < have; i++)
      printf (" [%lld]=%.6g", (long long)best[i], value_at (t, best[i]));
    printf ("\n");
  }
  g_free (best);
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  MaceError err = { 0 };
  GError *gerr = NULL;
  int ret = 1;
  MaceConfig *config = NULL;
  MaceEngine *engine = NULL;
  MaceTensor *input = NULL;
  GdkPixbuf *image = NULL;

  if (!parse_options (&argc, &argv, &o))
    return 2;
  const char *model = argv[1], *image_path = argv[2];

  image = gdk_pixbuf_new_from_file (image_path, &gerr);
  if (!image) {
    fprintf (stderr, "%s\n", gerr->message);
    g_clear_error (&gerr);
    return 1;
  }

  config = mace_config_new ();
  mace_config_set_threads (config, o.threads);
  if (o.opencl)
    mace_config_set_backend (config, MACE_BACKEND_OPENCL);

  /* The declared input shape decides size and layout.  Dynamic sizes
   * (ESRGAN takes any H x W) are fixed by the first run's input. */
  engine = mace_engine_load_file (model, config, &err);
  if (!engine)
    goto load_failed;
  MaceDataType dtype;
  int64_t dims[MACE_MAX_DIMS];
  int ndim = mace_engine_input_info (engine, 0, &dtype, dims);
  if (mace_engine_num_inputs (engine) != 1 || ndim != 4
      || dtype != MACE_DTYPE_FLOAT32)
    goto not_an_image_model;
  gboolean nchw = o.nchw >= 0 ? o.nchw : dims[1] == 3;
  int hd = nchw ? 2 : 1, wd = nchw ? 3 : 2, cd = nchw ? 1 : 3;
  if (dims[cd] != 3 && dims[cd] != -1)
    goto not_an_image_model;
  int h = dims[hd] > 0   ? (int)dims[hd]
          : o.height > 0 ? o.height
                         : gdk_pixbuf_get_height (image);
  int w = dims[wd] > 0  ? (int)dims[wd]
          : o.width > 0 ? o.width
                        : gdk_pixbuf_get_width (image);
  const int64_t shape[4] = { 1, nchw ? 3 : h, nchw ? h : w, nchw ? w : 3 };
  input = mace_tensor_new (MACE_DTYPE_FLOAT32, 4, shape);
  fill_input (image, w, h, nchw, &o, mace_tensor_data (input));
  printf ("model %s, input '%s' %s 1x%lldx%lldx%lld (%s) from %s %dx%d\n",
          model, mace_engine_input_name (engine, 0), mace_dtype_name (dtype),
          (long long)shape[1], (long long)shape[2], (long long)shape[3],
          nchw ? "NCHW" : "NHWC", image_path, gdk_pixbuf_get_width (image),
          gdk_pixbuf_get_height (image));

  gint64 t0 = g_get_monotonic_time ();
  if (mace_engine_set_input (engine, 0, input) != MACE_OK
      || mace_engine_run (engine) != MACE_OK)
    goto run_failed;
  printf ("run: %.2f ms (first run, includes preparing the plan)\n",
          (g_get_monotonic_time () - t0) / 1000.0);
  for (int i = 0; i < mace_engine_num_outputs (engine); i++)
    print_output (engine, i, &o);
  ret = 0;
out:
  mace_tensor_free (input);
  mace_engine_free (engine);
  mace_config_free (config);
  g_object_unref (image);
  return ret;

  /* ERRORS */
load_failed:
  fprintf (stderr, "%s: %s (%s)\n", model, err.message,
           mace_status_to_string (err.status));
  goto out;
not_an_image_model:
  fprintf (stderr,
           "%s: this example wants one 4-D float32 input with 3 "
           "channels (NHWC or NCHW)\n",
           model);
  goto out;
run_failed:
  fprintf (stderr, "%s: run failed: %s\n", model,
           mace_engine_last_error (engine));
  goto out;
}
