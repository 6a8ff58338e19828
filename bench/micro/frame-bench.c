/* SPDX-License-Identifier: Apache-2.0
 * Micro-benchmark of frame input (not installed, not a test): how long
 * mace_engine_set_input_frame takes on the CPU backend, beside
 * mace_engine_run alone and the two back to back (what macefilter does
 * per frame), in interleaved rounds so that a shared machine's load hits
 * every figure alike.
 *
 * usage: frame-bench MODEL [--format RGB|BGR|RGBA|I420|NV12]
 *          [--width 1920] [--height 1080] [--runs 300] [--warmup 20]
 *          [--threads 0] [--letterbox] [--nchw] [--cl]
 * (--cl: the OpenCL backend, default device; the frame is a plain host
 * buffer, as element-bench's foreign memory)
 * Prints one JSON object with the medians (ms) of: preprocess alone, a
 * run right after a run (as mace-run bench times it), a run right after
 * a preprocess, preprocess + run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mace.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

int
main (int argc, char **argv)
{
  const char *model = NULL, *format = "I420";
  int width = 1920, height = 1080, runs = 300, warmup = 20, threads = 0;
  int letterbox = 0, nchw = 0, cl = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp (a, "--letterbox"))
      letterbox = 1;
    else if (!strcmp (a, "--nchw"))
      nchw = 1;
    else if (!strcmp (a, "--cl"))
      cl = 1;
    else if (a[0] != '-')
      model = a;
    else if (!v)
      break;
    else if (!strcmp (a, "--format"))
      format = argv[++i];
    else if (!strcmp (a, "--width"))
      width = atoi (argv[++i]);
    else if (!strcmp (a, "--height"))
      height = atoi (argv[++i]);
    else if (!strcmp (a, "--runs"))
      runs = atoi (argv[++i]);
    else if (!strcmp (a, "--warmup"))
      warmup = atoi (argv[++i]);
    else if (!strcmp (a, "--threads"))
      threads = atoi (argv[++i]);
    else {
      fprintf (stderr, "unknown option %s\n", a);
      return 2;
    }
  }
  if (!model || runs < 1) {
    fprintf (stderr,
             "usage: %s MODEL [--format F] [--width W] [--height H] "
             "[--runs N] [--warmup K] [--threads T] [--letterbox] "
             "[--nchw] [--cl]\n",
             argv[0]);
    return 2;
  }
  static const char *names[]
      = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12", NULL };
  static const MaceFrameFormat fmts[]
      = { MACE_FRAME_RGB,  MACE_FRAME_BGR,  MACE_FRAME_RGBA, MACE_FRAME_BGRA,
          MACE_FRAME_RGBX, MACE_FRAME_BGRX, MACE_FRAME_I420, MACE_FRAME_NV12 };
  int fi = 0;
  while (names[fi] && strcmp (names[fi], format))
    fi++;
  if (!names[fi]) {
    fprintf (stderr, "unknown format %s\n", format);
    return 2;
  }
  MaceFrame f = { 0 };
  f.format = fmts[fi];
  f.width = width;
  f.height = height;
  size_t cw = (size_t)(width + 1) / 2, chh = (size_t)(height + 1) / 2;
  size_t size;
  if (f.format == MACE_FRAME_I420) {
    f.stride[0] = width;
    f.stride[1] = f.stride[2] = (int)cw;
    size = (size_t)width * height + 2 * cw * chh;
  } else if (f.format == MACE_FRAME_NV12) {
    f.stride[0] = width;
    f.stride[1] = (int)(2 * cw);
    size = (size_t)width * height + 2 * cw * chh;
  } else {
    int ps = f.format <= MACE_FRAME_BGR ? 3 : 4;
    f.stride[0] = width * ps;
    size = (size_t)f.stride[0] * height;
  }
  /* The element benchmark's frame content. */
  guint8 *data = g_malloc (size);
  for (size_t i = 0; i < size; i++)
    data[i] = (guint8)((i * 13) ^ (i >> 7));
  f.data[0] = data;
  if (f.format == MACE_FRAME_I420) {
    f.data[1] = data + (size_t)width * height;
    f.data[2] = (guint8 *)f.data[1] + cw * chh;
  } else if (f.format == MACE_FRAME_NV12) {
    f.data[1] = data + (size_t)width * height;
  }

  MaceConfig *c = mace_config_new ();
  mace_config_set_threads (c, threads);
  if (cl)
    mace_config_set_backend (c, MACE_BACKEND_OPENCL);
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (model, c, &err);
  mace_config_free (c);
  if (!e) {
    fprintf (stderr, "%s\n", err.message);
    return 1;
  }
  MacePreprocess pp;
  mace_preprocess_init (&pp);
  pp.layout = nchw ? MACE_TENSOR_NCHW : MACE_TENSOR_NHWC;
  pp.fit = letterbox ? MACE_FIT_LETTERBOX : MACE_FIT_STRETCH;
  for (int k = 0; k < 3; k++) {
    pp.mean[k] = 127.5f;
    pp.scale[k] = 2.0f / 255.0f;
  }
  double *t_pre = g_new (double, runs), *t_run = g_new (double, runs);
  double *t_after = g_new (double, runs), *t_both = g_new (double, runs);
  for (int i = -warmup; i < runs; i++) {
    /* Rounds: preprocess alone, the run right after it, a second run
     * (the model's data still in cache, as in mace-run bench), then
     * preprocess + run back to back. */
    double t0 = now_ms ();
    if (mace_engine_set_input_frame (e, 0, &f, &pp, NULL) != MACE_OK)
      goto failed;
    double t1 = now_ms ();
    if (mace_engine_run (e) != MACE_OK)
      goto failed;
    double t2 = now_ms ();
    if (mace_engine_run (e) != MACE_OK)
      goto failed;
    double t3 = now_ms ();
    if (mace_engine_set_input_frame (e, 0, &f, &pp, NULL) != MACE_OK
        || mace_engine_run (e) != MACE_OK)
      goto failed;
    double t4 = now_ms ();
    if (i >= 0) {
      t_pre[i] = t1 - t0;
      t_after[i] = t2 - t1;
      t_run[i] = t3 - t2;
      t_both[i] = t4 - t3;
    }
  }
  printf ("{\"model\": \"%s\", \"format\": \"%s\", \"width\": %d, "
          "\"height\": %d, \"threads\": %d, \"runs\": %d, "
          "\"preprocess_ms\": %.4f, \"run_ms\": %.4f, "
          "\"run_after_preprocess_ms\": %.4f, "
          "\"preprocess_run_ms\": %.4f}\n",
          model, format, width, height, threads, runs, median (t_pre, runs),
          median (t_run, runs), median (t_after, runs), median (t_both, runs));
  mace_engine_free (e);
  g_free (t_pre);
  g_free (t_run);
  g_free (t_after);
  g_free (t_both);
  g_free (data);
  return 0;

failed:
  fprintf (stderr, "%s\n", mace_engine_last_error (e));
  mace_engine_free (e);
  return 1;
}
