/* SPDX-License-Identifier: Apache-2.0
 * The CPU frame preprocessing in libmace (vector rows where the CPU has
 * them) gives bit for bit what its scalar code gives: src/frame.c is
 * compiled into this test a second time without the vector rows, and both
 * run on the same frames: every format, sizes down- and up-scaled, 1:1,
 * stretch, letterbox and none, crops, NHWC and NCHW, RGB and BGR order,
 * padded rows, 1 and 2 threads.  Each plane ends right before an
 * inaccessible page, so a read past a plane's last byte crashes the test. */
#define MACE_FRAME_NO_SIMD 1
#define mace_preprocess_init scalar_preprocess_init
#define mace_frame_n_planes scalar_frame_n_planes
#define mace_frame_plane_bytes scalar_frame_plane_bytes
#define mace_frame_plan scalar_frame_plan
#define mace_frame_preprocess_cpu scalar_frame_preprocess_cpu
#include "frame.c"
#undef mace_preprocess_init
#undef mace_frame_n_planes
#undef mace_frame_plane_bytes
#undef mace_frame_plan
#undef mace_frame_preprocess_cpu

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* libmace's, as built. */
void mace_frame_preprocess_cpu (const MaceFrame *frame,
                                const MaceFramePlan *plan, float *dst,
                                MaceThreadPool *pool);

static unsigned seed = 20261124;

/* A plane of `bytes` random bytes ending right before a PROT_NONE page. */
typedef struct {
  uint8_t *map;
  size_t len;
} Guarded;

static uint8_t *
guarded (Guarded *g, size_t bytes)
{
  size_t pg = (size_t)sysconf (_SC_PAGESIZE);
  size_t n = (bytes + pg - 1) / pg * pg;
  g->len = n + pg;
  g->map = mmap (NULL, g->len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g->map == MAP_FAILED || mprotect (g->map + n, pg, PROT_NONE) != 0)
    abort ();
  uint8_t *p = g->map + n - bytes;
  for (size_t i = 0; i < bytes; i++)
    p[i] = (uint8_t)(rand_r (&seed) >> 3);
  return p;
}

static int
bpp (MaceFrameFormat f)
{
  return f <= MACE_FRAME_BGR ? 3 : f <= MACE_FRAME_BGRX ? 4 : 1;
}

int
main (void)
{
  static const int sizes[][4] = {
    { 1920, 1080, 128, 128 }, { 1920, 1080, 256, 256 }, { 640, 480, 128, 128 },
    { 128, 128, 128, 128 },   { 37, 23, 16, 16 },       { 31, 17, 64, 48 },
    { 1, 1, 8, 8 },           { 2, 3, 128, 128 },       { 301, 199, 97, 131 },
    { 96, 128, 128, 96 },     { 7, 5, 7, 5 },
  };
  MaceThreadPool *pools[2]
      = { mace_threadpool_new (1), mace_threadpool_new (2) };
  int checks = 0, failures = 0;
  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int fmt = MACE_FRAME_RGB; fmt <= MACE_FRAME_NV12; fmt++) {
      const int w = sizes[s][0], h = sizes[s][1];
      const int mw = sizes[s][2], mh = sizes[s][3];
      MaceFrame f = { .format = (MaceFrameFormat)fmt, .width = w, .height = h };
      Guarded g[3] = { { 0 } };
      const int pad = (int)(s + fmt) % 3 == 0 ? 0 : 5;
      for (int p = 0; p < scalar_frame_n_planes (f.format); p++) {
        int row = p == 0 ? w * bpp (f.format)
                         : (fmt == MACE_FRAME_NV12 ? ((w + 1) / 2) * 2
                                                   : (w + 1) / 2);
        f.stride[p] = row + pad;
        f.data[p] = guarded (&g[p], scalar_frame_plane_bytes (&f, p));
      }
      size_t n = (size_t)mw * mh * 3;
      float *got = g_new (float, n), *want = g_new (float, n);
      for (int v = 0; v < 24; v++) {
        MacePreprocess pp;
        scalar_preprocess_init (&pp);
        pp.fit = (MaceFit)(v % 3);
        pp.layout = (v / 3) % 2 ? MACE_TENSOR_NCHW : MACE_TENSOR_NHWC;
        pp.bgr = (v / 6) % 2;
        for (int k = 0; k < 3; k++) {
          pp.mean[k] = 127.5f + k;
          pp.scale[k] = 2.0f / 255.0f * (1 + k);
        }
        if ((v / 12) % 2 && w > 4 && h > 4) {
          pp.crop_x = w / 5;
          pp.crop_y = h / 7;
          pp.crop_w = w - w / 5 - w / 9;
          pp.crop_h = h - h / 7 - 1;
        }
        MaceFramePlan plan;
        MaceError err = { 0 };
        if (scalar_frame_plan (&f, &pp, mw, mh, &plan, &err) != MACE_OK) {
          fprintf (stderr, "FAIL plan: %s\n", err.message);
          return 1;
        }
        memset (got, 0x7f, n * sizeof *got);
        memset (want, 0x3f, n * sizeof *want);
        mace_frame_preprocess_cpu (&f, &plan, got, pools[v % 2]);
        scalar_frame_preprocess_cpu (&f, &plan, want, pools[v % 2]);
        checks++;
        if (memcmp (got, want, n * sizeof *got) != 0) {
          size_t i = 0;
          while (memcmp (got + i, want + i, sizeof *got) == 0)
            i++;
          if (failures++ < 20)
            fprintf (stderr,
                     "FAIL format %d %dx%d -> %dx%d fit %d layout %d bgr %d "
                     "crop %d,%d %dx%d: [%zu] %.9g, scalar %.9g\n",
                     fmt, w, h, mw, mh, pp.fit, pp.layout, pp.bgr, pp.crop_x,
                     pp.crop_y, pp.crop_w, pp.crop_h, i, got[i], want[i]);
        }
      }
      g_free (got);
      g_free (want);
      for (int p = 0; p < 3; p++)
        if (g[p].map)
          munmap (g[p].map, g[p].len);
    }
  mace_threadpool_free (pools[0]);
  mace_threadpool_free (pools[1]);
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  const char *simd = __builtin_cpu_supports ("avx2") ? "AVX2" : "none";
#else
  const char *simd = "none";
#endif
  printf ("%d frame preprocessing checks against the scalar code (vector "
          "rows: %s), %d differ\n",
          checks, simd, failures);
  return failures ? 1 : 0;
}
