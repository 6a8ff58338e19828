/* SPDX-License-Identifier: Apache-2.0
 * macefilter's tensor -> frame conversion (gst/maceprocess.c): the same
 * image as an NHWC tensor (packed formats take the fast row loops) and as
 * an NCHW tensor (the per-pixel path) gives the same bytes, and so does
 * the frame cut into bands for a thread pool, for every output format,
 * both channel orders, the whole frame and a region at an odd offset
 * (tiles).  Seeded random tensors in and beyond the value range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/video/video.h>

#include "maceprocess.h"

static const GstVideoFormat formats[]
    = { GST_VIDEO_FORMAT_RGB,  GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_RGBA,
        GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
        GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12 };

/* Converts into a new frame buffer (filled with 0x5a first). */
static GstBuffer *
convert (const float *src, MaceLayout layout, int h, int w, GstVideoFormat fmt,
         int fw, int fh, const int *reg, gboolean bgr, GThreadPool *pool,
         gboolean *ok)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, fmt, fw, fh);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0x5a, info.size);
  GstVideoFrame f;
  gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE);
  *ok = mace_tensor_to_frame_region (src, layout, h, w, reg[0], reg[1], reg[2],
                                     reg[3], reg[4], reg[5], -1.0f, 1.0f, bgr,
                                     &f, pool);
  gst_video_frame_unmap (&f);
  return buf;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  unsigned seed = 20241124;
  const char *es = g_getenv ("MACE_TEST_SEED");
  if (es)
    seed = (unsigned)atoi (es);
  /* 300x400: two bands or more of 64K pixels whenever there are 2 cores. */
  const int h = 300, w = 400;
  float *nhwc = g_new (float, (gsize)h *w * 3);
  float *nchw = g_new (float, (gsize)h *w * 3);
  unsigned s = seed;
  for (int i = 0; i < h * w * 3; i++)
    nhwc[i] = ((float)(rand_r (&s) % 2400) - 1200.0f) / 1000.0f;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        nchw[(c * h + y) * w + x] = nhwc[(y * w + x) * 3 + c];
  GThreadPool *pool = mace_to_frame_pool_new ();
  /* Whole frame; a region from (7, 5), 381x283, to (3, 9) of a larger
   * frame. */
  const int regions[2][6] = { { 0, 0, w, h, 0, 0 }, { 7, 5, 381, 283, 3, 9 } };
  const int sizes[2][2] = { { w, h }, { 390, 300 } };
  int failures = 0, checks = 0;
  for (guint fi = 0; fi < G_N_ELEMENTS (formats); fi++)
    for (int r = 0; r < 2; r++)
      for (int bgr = 0; bgr < 2; bgr++) {
        gboolean ok[3];
        GstBuffer *a
            = convert (nchw, MACE_LAYOUT_NCHW, h, w, formats[fi], sizes[r][0],
                       sizes[r][1], regions[r], bgr, NULL, &ok[0]);
        GstBuffer *b
            = convert (nhwc, MACE_LAYOUT_NHWC, h, w, formats[fi], sizes[r][0],
                       sizes[r][1], regions[r], bgr, NULL, &ok[1]);
        GstBuffer *c
            = convert (nhwc, MACE_LAYOUT_NHWC, h, w, formats[fi], sizes[r][0],
                       sizes[r][1], regions[r], bgr, pool, &ok[2]);
        const char *name = gst_video_format_to_string (formats[fi]);
        if (!ok[0] || !ok[1] || !ok[2]) {
          fprintf (stderr, "FAIL %s region %d bgr %d: refused\n", name, r, bgr);
          failures++;
        } else {
          GstMapInfo ma, mb, mc;
          gst_buffer_map (a, &ma, GST_MAP_READ);
          gst_buffer_map (b, &mb, GST_MAP_READ);
          gst_buffer_map (c, &mc, GST_MAP_READ);
          if (memcmp (ma.data, mb.data, ma.size)) {
            fprintf (stderr,
                     "FAIL %s region %d bgr %d: NHWC rows differ from the "
                     "NCHW per-pixel path (seed %u)\n",
                     name, r, bgr, seed);
            failures++;
          }
          if (memcmp (mb.data, mc.data, mb.size)) {
            fprintf (stderr,
                     "FAIL %s region %d bgr %d: banded differs from one "
                     "thread (seed %u)\n",
                     name, r, bgr, seed);
            failures++;
          }
          gst_buffer_unmap (a, &ma);
          gst_buffer_unmap (b, &mb);
          gst_buffer_unmap (c, &mc);
        }
        checks++;
        gst_buffer_unref (a);
        gst_buffer_unref (b);
        gst_buffer_unref (c);
      }
  if (pool)
    g_thread_pool_free (pool, FALSE, TRUE);
  g_free (nhwc);
  g_free (nchw);
  printf ("%d tensor->frame checks, %d failures (seed %u, %s)\n", checks,
          failures, seed, pool ? "banded on a pool" : "no pool: one core");
  return failures ? 1 : 0;
}
