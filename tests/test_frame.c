/* SPDX-License-Identifier: Apache-2.0
 * mace_engine_set_input_frame: every frame format, stretch / letterbox /
 * 1:1 crop, NHWC and NCHW, against a straightforward reference (convert
 * the whole frame to RGB in double precision, then sample bilinearly).
 *
 * Usage: test_frame MODELDIR cpu|cl
 *   cpu: the CPU implementation against the reference.
 *   cl:  the OpenCL kernel against the CPU implementation and the
 *        reference, and the copy counters for host frames (aligned:
 *        imported, unaligned: uploaded once) and cl_mem frames (no copy).
 *        Exits 77 when no OpenCL device can be opened.
 * Random frames are seeded; the seed is printed on failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#ifdef MACE_HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#endif

#include "mace.h"

static const char *fmt_names[]
    = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "I420", "NV12" };
static unsigned seed = 20240611;
static int failures;

typedef struct {
  MaceFrame f;
  uint8_t *block; /* one allocation holding every plane */
  size_t size;
} TestFrame;

static int
bpp (MaceFrameFormat f)
{
  return f <= MACE_FRAME_BGR ? 3 : f <= MACE_FRAME_BGRX ? 4 : 1;
}

/* A random frame; planes start `misalign` bytes past a 4096-aligned
 * address (0: aligned). */
static void
frame_make (TestFrame *t, MaceFrameFormat fmt, int w, int h, int misalign)
{
  memset (t, 0, sizeof *t);
  t->f.format = fmt;
  t->f.width = w;
  t->f.height = h;
  int n = fmt == MACE_FRAME_I420 ? 3 : fmt == MACE_FRAME_NV12 ? 2 : 1;
  size_t off[3] = { 0 };
  size_t total = 0;
  for (int p = 0; p < n; p++) {
    int row = p == 0
                  ? w * bpp (fmt)
                  : (fmt == MACE_FRAME_NV12 ? ((w + 1) / 2) * 2 : (w + 1) / 2);
    int rows = p == 0 ? h : (h + 1) / 2;
    t->f.stride[p] = row + 7 + p; /* padded rows */
    off[p] = total;
    total += (size_t)t->f.stride[p] * rows;
    total = (total + 4095) & ~(size_t)4095; /* planes aligned too */
  }
  void *mem = NULL;
  if (posix_memalign (&mem, 4096, total + 4096) != 0)
    abort ();
  t->block = mem;
  t->size = total + 4096;
  for (size_t i = 0; i < t->size; i++)
    t->block[i] = (uint8_t)(rand_r (&seed) & 0xff);
  for (int p = 0; p < n; p++)
    t->f.data[p] = t->block + misalign + off[p];
}

static void
read_rgb_ref (const MaceFrame *f, int x, int y, double *rgb)
{
  const uint8_t *p0 = f->data[0];
  switch (f->format) {
    case MACE_FRAME_I420:
    case MACE_FRAME_NV12: {
      double Y = p0[y * f->stride[0] + x], u, v;
      if (f->format == MACE_FRAME_I420) {
        u = ((const uint8_t *)f->data[1])[(y / 2) * f->stride[1] + x / 2];
        v = ((const uint8_t *)f->data[2])[(y / 2) * f->stride[2] + x / 2];
      } else {
        const uint8_t *uv = (const uint8_t *)f->data[1] + (y / 2) * f->stride[1]
                            + (x / 2) * 2;
        u = uv[0];
        v = uv[1];
      }
      /* YUV formats are resampled as Y, U, V and converted after. */
      rgb[0] = Y;
      rgb[1] = u;
      rgb[2] = v;
      return;
    }
    default: {
      int ps = bpp (f->format);
      const uint8_t *q = p0 + y * f->stride[0] + x * ps;
      int bgr = f->format == MACE_FRAME_BGR || f->format == MACE_FRAME_BGRA
                || f->format == MACE_FRAME_BGRX;
      rgb[0] = q[bgr ? 2 : 0];
      rgb[1] = q[1];
      rgb[2] = q[bgr ? 0 : 2];
    }
  }
}

/* The reference: RGB image of the crop, then bilinear sampling. */
static float *
reference (const MaceFrame *f, const MacePreprocess *pp, int mw, int mh)
{
  int cxs = pp->crop_w ? pp->crop_x : 0, cys = pp->crop_h ? pp->crop_y : 0;
  int cw = pp->crop_w ? pp->crop_w : f->width,
      ch = pp->crop_h ? pp->crop_h : f->height;
  double *img = g_new (double, (size_t)cw *ch * 3);
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++)
      read_rgb_ref (f, cxs + x, cys + y, img + ((size_t)y * cw + x) * 3);
  double ox0 = 0, oy0 = 0, ow = mw, oh = mh;
  if (pp->fit == MACE_FIT_LETTERBOX) {
    double s = fmin ((double)mw / cw, (double)mh / ch);
    ow = cw * s;
    oh = ch * s;
    ox0 = (mw - ow) / 2;
    oy0 = (mh - oh) / 2;
  } else if (pp->fit == MACE_FIT_NONE) {
    ow = cw;
    oh = ch;
  }
  float *out = g_new (float, (size_t)mw *mh * 3);
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      double rgb[3] = { 0, 0, 0 };
      if (x >= ox0 && x < ox0 + ow && y >= oy0 && y < oy0 + oh) {
        double sx = fmax ((x - ox0 + 0.5) * cw / ow - 0.5, 0);
        double sy = fmax ((y - oy0 + 0.5) * ch / oh - 0.5, 0);
        int x0 = (int)sx, y0 = (int)sy;
        int x1 = x0 + 1 < cw ? x0 + 1 : cw - 1,
            y1 = y0 + 1 < ch ? y0 + 1 : ch - 1;
        x0 = x0 < cw ? x0 : cw - 1;
        y0 = y0 < ch ? y0 : ch - 1;
        double ax = sx - x0, ay = sy - y0;
        for (int k = 0; k < 3; k++) {
          double a = img[((size_t)y0 * cw + x0) * 3 + k],
                 b = img[((size_t)y0 * cw + x1) * 3 + k];
          double c = img[((size_t)y1 * cw + x0) * 3 + k],
                 d = img[((size_t)y1 * cw + x1) * 3 + k];
          rgb[k] = (a * (1 - ax) + b * ax) * (1 - ay)
                   + (c * (1 - ax) + d * ax) * ay;
        }
        if (f->format == MACE_FRAME_I420 || f->format == MACE_FRAME_NV12) {
          double c = 1.164383 * (rgb[0] - 16), d = rgb[1] - 128,
                 e = rgb[2] - 128;
          rgb[0] = fmin (fmax (c + 1.596027 * e, 0), 255);
          rgb[1] = fmin (fmax (c - 0.391762 * d - 0.812968 * e, 0), 255);
          rgb[2] = fmin (fmax (c + 2.017232 * d, 0), 255);
        }
      }
      for (int k = 0; k < 3; k++) {
        double src = rgb[pp->bgr ? 2 - k : k];
        double v = (src - pp->mean[k]) * pp->scale[k];
        size_t i = pp->layout == MACE_TENSOR_NCHW
                       ? (size_t)k * mw * mh + (size_t)y * mw + x
                       : ((size_t)y * mw + x) * 3 + k;
        out[i] = (float)v;
      }
    }
  g_free (img);
  return out;
}

static void
compare (const char *what, const float *got, const float *want, size_t n,
         double atol)
{
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs ((double)got[i] - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= atol)) {
    fprintf (stderr,
             "FAIL %s: max |diff| %.6g at %zu (got %g want %g), "
             "atol %g, seed %u\n",
             what, worst, at, got[at], want[at], atol, seed);
    failures++;
  }
}

static MaceEngine *
load (const char *dir, const char *name, MaceBackendType be)
{
  gchar *path = g_build_filename (dir, name, NULL);
  MaceConfig *c = mace_config_new ();
  mace_config_set_backend (c, be);
  if (be == MACE_BACKEND_OPENCL)
    mace_config_set_program_cache (c, NULL, "off");
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (path, c, &err);
  mace_config_free (c);
  if (!e && be == MACE_BACKEND_CPU) {
    fprintf (stderr, "FAIL loading %s: %s\n", path, err.message);
    exit (1);
  }
  if (!e)
    fprintf (stderr, "OpenCL engine for %s: %s\n", path, err.message);
  g_free (path);
  return e;
}

/* Runs the engine on a frame; returns a copy of the output. */
static float *
run_frame (MaceEngine *e, const MaceFrame *f, const MacePreprocess *pp,
           size_t *n)
{
  MaceRect r;
  if (mace_engine_set_input_frame (e, 0, f, pp, &r) != MACE_OK
      || mace_engine_run (e) != MACE_OK) {
    fprintf (stderr, "FAIL run: %s\n", mace_engine_last_error (e));
    failures++;
    return NULL;
  }
  const MaceTensor *t = mace_engine_get_output (e, 0);
  *n = (size_t)mace_tensor_numel (t);
  return g_memdup2 (mace_tensor_data_const (t), *n * sizeof (float));
}

typedef struct {
  const char *model;
  MaceTensorLayout layout;
  MaceFit fit;
  int crop; /* 1: a crop with FIT_NONE on the dynamic model */
  int mw, mh;
} Case;

static const Case cases[] = {
  { "identity-nhwc.onnx", MACE_TENSOR_NHWC, MACE_FIT_STRETCH, 0, 32, 24 },
  { "identity-nhwc.onnx", MACE_TENSOR_NHWC, MACE_FIT_LETTERBOX, 0, 32, 24 },
  { "identity-nchw.onnx", MACE_TENSOR_NCHW, MACE_FIT_STRETCH, 0, 32, 24 },
  { "identity-nchw.onnx", MACE_TENSOR_NCHW, MACE_FIT_LETTERBOX, 0, 32, 24 },
  { "identity-dyn.onnx", MACE_TENSOR_NHWC, MACE_FIT_STRETCH, 0, 0, 0 },
  { "identity-dyn.onnx", MACE_TENSOR_NHWC, MACE_FIT_NONE, 1, 0, 0 },
};

/* Frame sizes: downscale, upscale and (dynamic model) same size. */
static const int sizes[][2] = { { 75, 41 }, { 13, 19 } };

int
main (int argc, char **argv)
{
  if (argc < 3) {
    fprintf (stderr, "usage: test_frame MODELDIR cpu|cl\n");
    return 2;
  }
  const char *dir = argv[1];
  int cl = strcmp (argv[2], "cl") == 0;
  const char *env_seed = g_getenv ("MACE_TEST_SEED");
  if (env_seed)
    seed = (unsigned)atoi (env_seed);
  int n_checks = 0;
  for (size_t ci = 0; ci < G_N_ELEMENTS (cases); ci++) {
    const Case *c = &cases[ci];
    MaceEngine *cpu = load (dir, c->model, MACE_BACKEND_CPU);
    MaceEngine *dev = NULL;
    if (cl) {
      dev = load (dir, c->model, MACE_BACKEND_OPENCL);
      if (!dev) {
        mace_engine_free (cpu);
        printf ("no OpenCL device: skipped\n");
        return 77;
      }
    }
    for (int fmt = MACE_FRAME_RGB; fmt <= MACE_FRAME_NV12; fmt++)
      for (size_t si = 0; si < G_N_ELEMENTS (sizes); si++) {
        TestFrame tf;
        frame_make (&tf, (MaceFrameFormat)fmt, sizes[si][0], sizes[si][1], 0);
        MacePreprocess pp;
        mace_preprocess_init (&pp);
        pp.layout = c->layout;
        pp.fit = c->fit;
        pp.bgr = fmt & 1; /* both channel orders over the formats */
        for (int k = 0; k < 3; k++) {
          pp.mean[k] = 127.5f + k;
          pp.scale[k] = 1.0f / (127.5f + 10 * k);
        }
        if (c->crop) {
          pp.crop_x = 3;
          pp.crop_y = 2;
          pp.crop_w = tf.f.width - 5;
          pp.crop_h = tf.f.height - 4;
        }
        int mw = c->mw ? c->mw : (pp.crop_w ? pp.crop_w : tf.f.width);
        int mh = c->mh ? c->mh : (pp.crop_h ? pp.crop_h : tf.f.height);
        gchar *what = g_strdup_printf ("%s %s %dx%d fit %d crop %d", c->model,
                                       fmt_names[fmt], tf.f.width, tf.f.height,
                                       c->fit, c->crop);
        float *want = reference (&tf.f, &pp, mw, mh);
        size_t n = 0;
        float *got = run_frame (cpu, &tf.f, &pp, &n);
        if (got && n != (size_t)mw * mh * 3) {
          fprintf (stderr, "FAIL %s: %zu outputs, want %d\n", what, n,
                   mw * mh * 3);
          failures++;
        } else if (got) {
          compare (what, got, want, n, 1e-4);
        }
        n_checks++;
        if (cl && got) {
          MaceFrameStats s0, s1;
          /* Aligned host planes: imported, no copy. */
          mace_engine_get_frame_stats (dev, &s0);
          size_t nd = 0;
          float *gd = run_frame (dev, &tf.f, &pp, &nd);
          mace_engine_get_frame_stats (dev, &s1);
          gchar *w2 = g_strdup_printf ("OpenCL %s", what);
          if (gd && nd == n) {
            compare (w2, gd, got, n, 1e-4);
            compare (w2, gd, want, n, 1e-4);
          } else {
            fprintf (stderr, "FAIL %s: no output\n", w2);
            failures++;
          }
          if (s1.copies != s0.copies || s1.imported != s0.imported + 1
              || !s1.last_zero_copy) {
            fprintf (stderr,
                     "FAIL %s aligned: copies %lld -> %lld, imported "
                     "%lld -> %lld, zero-copy %d\n",
                     w2, (long long)s0.copies, (long long)s1.copies,
                     (long long)s0.imported, (long long)s1.imported,
                     s1.last_zero_copy);
            failures++;
          }
          g_free (gd);
          /* Misaligned host planes: uploaded once. */
          TestFrame mis;
          frame_make (&mis, (MaceFrameFormat)fmt, sizes[si][0], sizes[si][1],
                      1);
          for (int p = 0; p < 3; p++)
            if (mis.f.data[p])
              memcpy ((void *)mis.f.data[p], tf.f.data[p],
                      (size_t)tf.f.stride[p] * (size_t)tf.f.height);
          gd = run_frame (dev, &mis.f, &pp, &nd);
          mace_engine_get_frame_stats (dev, &s0);
          if (gd && nd == n)
            compare (w2, gd, got, n, 1e-4);
          if (s0.copies != s1.copies + 1 || s0.last_zero_copy) {
            fprintf (stderr,
                     "FAIL %s misaligned: copies %lld -> %lld, "
                     "zero-copy %d\n",
                     w2, (long long)s1.copies, (long long)s0.copies,
                     s0.last_zero_copy);
            failures++;
          }
          g_free (gd);
          free (mis.block);
#ifdef MACE_HAVE_OPENCL
          /* The same frame as one cl_mem with plane offsets. */
          void *ctx = NULL;
          if (mace_engine_get_cl_handles (dev, &ctx, NULL, NULL) == MACE_OK) {
            cl_int rc;
            cl_mem m = clCreateBuffer ((cl_context)ctx,
                                       CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                       tf.size, tf.block, &rc);
            MaceFrame df = tf.f;
            for (int p = 0; p < 3; p++) {
              if (!tf.f.data[p])
                continue;
              df.cl_mem[p] = m;
              df.offset[p] = (size_t)((const uint8_t *)tf.f.data[p] - tf.block);
              df.data[p] = NULL;
            }
            gd = run_frame (dev, &df, &pp, &nd);
            mace_engine_get_frame_stats (dev, &s1);
            if (gd && nd == n)
              compare (w2, gd, got, n, 1e-4);
            if (s1.copies != s0.copies || !s1.last_zero_copy
                || s1.device_frames != s0.device_frames + 1) {
              fprintf (stderr, "FAIL %s cl_mem: copies %lld -> %lld\n", w2,
                       (long long)s0.copies, (long long)s1.copies);
              failures++;
            }
            g_free (gd);
            clReleaseMemObject (m);
          }
#endif
          g_free (w2);
        }
        g_free (got);
        g_free (want);
        g_free (what);
        free (tf.block);
      }
    if (!cl) {
      MaceFrameStats s;
      mace_engine_get_frame_stats (cpu, &s);
      if (s.copies != 0 || !s.last_zero_copy) {
        fprintf (stderr, "FAIL CPU copies %lld (want 0)\n",
                 (long long)s.copies);
        failures++;
      }
    }
    mace_engine_free (cpu);
    mace_engine_free (dev);
  }
  /* Pipelined runs (mace_engine_run_async): the next frame is set while a
   * run is in flight and must not change that run's outputs; host and
   * misaligned (uploaded) frames, RGB and I420, 200x150 into 32x24, and
   * with OpenCL the device also taken as discrete (MACE_CL_HOST_UNIFIED=0:
   * the frames are sampled on the host into the input's host tensor, the
   * one the run in flight uploads from). */
  for (int fmt = MACE_FRAME_RGB; fmt <= MACE_FRAME_I420; fmt += 6)
    for (int mis = 0; mis < (cl ? 3 : 2); mis++) {
      if (mis == 2)
        g_setenv ("MACE_CL_HOST_UNIFIED", "0", TRUE);
      MaceEngine *pe = load (dir, "identity-nhwc.onnx",
                             cl ? MACE_BACKEND_OPENCL : MACE_BACKEND_CPU);
      if (!pe) {
        failures++;
        g_unsetenv ("MACE_CL_HOST_UNIFIED");
        continue;
      }
      MacePreprocess pp;
      mace_preprocess_init (&pp);
      for (int k = 0; k < 3; k++) { /* as above: atol 1e-4 on ~[-1, 1] */
        pp.mean[k] = 127.5f;
        pp.scale[k] = 1.0f / 127.5f;
      }
      TestFrame fr[3];
      float *want[3];
      for (int k = 0; k < 3; k++) {
        frame_make (&fr[k], (MaceFrameFormat)fmt, 200, 150, mis == 1);
        want[k] = reference (&fr[k].f, &pp, 32, 24);
      }
      gchar *what = g_strdup_printf ("%s async %s%s", cl ? "OpenCL" : "CPU",
                                     fmt_names[fmt],
                                     mis == 1   ? " misaligned"
                                     : mis == 2 ? " discrete"
                                                : "");
      MaceFence *fence = NULL;
      if (mace_engine_set_input_frame (pe, 0, &fr[0].f, &pp, NULL) != MACE_OK
          || mace_engine_run_async (pe, &fence) != MACE_OK) {
        fprintf (stderr, "FAIL %s: %s\n", what, mace_engine_last_error (pe));
        failures++;
      }
      for (int k = 0; k < 3 && fence; k++) {
        /* Frame k runs; frame k + 1 is set meanwhile, and starts before
         * frame k's outputs are read (from its fence: two sets
         * alternate). */
        if (k + 1 < 3
            && mace_engine_set_input_frame (pe, 0, &fr[k + 1].f, &pp, NULL)
                   != MACE_OK) {
          fprintf (stderr, "FAIL %s set %d: %s\n", what, k + 1,
                   mace_engine_last_error (pe));
          failures++;
          break;
        }
        if (mace_fence_wait (fence) != MACE_OK) {
          fprintf (stderr, "FAIL %s: fence %d\n", what, k);
          failures++;
          break;
        }
        MaceFence *next = NULL;
        if (k + 1 < 3 && mace_engine_run_async (pe, &next) != MACE_OK) {
          fprintf (stderr, "FAIL %s run %d: %s\n", what, k + 1,
                   mace_engine_last_error (pe));
          failures++;
          break;
        }
        const MaceTensor *t = mace_fence_get_output (fence, 0);
        gchar *wk = g_strdup_printf ("%s frame %d", what, k);
        compare (wk, mace_tensor_data_const (t), want[k],
                 (size_t)mace_tensor_numel (t), 1e-4);
        g_free (wk);
        n_checks++;
        mace_fence_free (fence);
        fence = next;
      }
      if (mace_engine_wait (pe) != MACE_OK) {
        fprintf (stderr, "FAIL %s wait: %s\n", what,
                 mace_engine_last_error (pe));
        failures++;
      }
      /* Two runs in flight (the device runs the second right after the
       * first), the third frame set meanwhile. */
      MaceFence *f[3] = { NULL, NULL, NULL };
      gboolean ok
          = mace_engine_set_input_frame (pe, 0, &fr[0].f, &pp, NULL) == MACE_OK
            && mace_engine_run_async (pe, &f[0]) == MACE_OK
            && mace_engine_set_input_frame (pe, 0, &fr[1].f, &pp, NULL)
                   == MACE_OK
            && mace_engine_run_async (pe, &f[1]) == MACE_OK
            && mace_fence_wait (f[0]) == MACE_OK;
      if (ok) {
        const MaceTensor *t0 = mace_fence_get_output (f[0], 0);
        gchar *wk = g_strdup_printf ("%s two in flight, frame 0", what);
        compare (wk, mace_tensor_data_const (t0), want[0],
                 (size_t)mace_tensor_numel (t0), 1e-4);
        g_free (wk);
        ok = mace_engine_set_input_frame (pe, 0, &fr[2].f, &pp, NULL) == MACE_OK
             && mace_engine_run_async (pe, &f[2]) == MACE_OK;
      }
      for (int k = 1; ok && k < 3; k++) {
        ok = mace_fence_wait (f[k]) == MACE_OK;
        const MaceTensor *tk = mace_fence_get_output (f[k], 0);
        gchar *wk = g_strdup_printf ("%s two in flight, frame %d", what, k);
        if (ok)
          compare (wk, mace_tensor_data_const (tk), want[k],
                   (size_t)mace_tensor_numel (tk), 1e-4);
        g_free (wk);
      }
      if (!ok || mace_engine_wait (pe) != MACE_OK) {
        fprintf (stderr, "FAIL %s two in flight: %s\n", what,
                 mace_engine_last_error (pe));
        failures++;
      }
      n_checks++;
      for (int k = 0; k < 3; k++)
        mace_fence_free (f[k]);
      mace_fence_free (fence);
      mace_engine_free (pe);
      for (int k = 0; k < 3; k++) {
        g_free (want[k]);
        free (fr[k].block);
      }
      g_free (what);
      g_unsetenv ("MACE_CL_HOST_UNIFIED");
    }
  /* Errors name the reason: a bad crop, a cl_mem on the CPU. */
  MaceEngine *e = load (dir, "identity-nhwc.onnx", MACE_BACKEND_CPU);
  TestFrame tf;
  frame_make (&tf, MACE_FRAME_RGB, 20, 10, 0);
  MacePreprocess pp;
  mace_preprocess_init (&pp);
  pp.crop_x = 15;
  pp.crop_w = 10;
  pp.crop_h = 5;
  if (mace_engine_set_input_frame (e, 0, &tf.f, &pp, NULL) == MACE_OK
      || !strstr (mace_engine_last_error (e), "crop")) {
    fprintf (stderr, "FAIL bad crop accepted or unclear: %s\n",
             mace_engine_last_error (e));
    failures++;
  }
  free (tf.block);
  mace_engine_free (e);
  printf ("%d frame checks%s, %d failures\n", n_checks,
          cl ? " (CPU + OpenCL)" : "", failures);
  return failures ? 1 : 0;
}
