/* SPDX-License-Identifier: Apache-2.0
 * Pooling against a reference over an explicitly padded copy of the input:
 * MaxPool (incl. the 2x2 stride-2 fast path, dilations, ceil_mode),
 * AveragePool (count_include_pad), GlobalAveragePool, GlobalMaxPool;
 * 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct {
  const char *op;
  int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  int ceil_mode, count_pad;
} Case;

static void
run_case (const Case *cs, int threads)
{
  bool is_max = strcmp (cs->op, "MaxPool") == 0;
  int64_t eh = (cs->kh - 1) * cs->dh + 1, ew = (cs->kw - 1) * cs->dw + 1;
  int64_t sh = cs->h + cs->pt + cs->pb - eh, sw = cs->w + cs->pl + cs->pr - ew;
  int64_t OH = (cs->ceil_mode ? (sh + cs->sh - 1) / cs->sh : sh / cs->sh) + 1;
  int64_t OW = (cs->ceil_mode ? (sw + cs->sw - 1) / cs->sw : sw / cs->sw) + 1;
  if (cs->ceil_mode && (OH - 1) * cs->sh >= cs->h + cs->pt)
    OH--;
  if (cs->ceil_mode && (OW - 1) * cs->sw >= cs->w + cs->pl)
    OW--;
  MaceTensor *x = th_tensor (1, TH_DIMS (cs->n, cs->c, cs->h, cs->w));
  MaceTensor *want = th_tensor (1, TH_DIMS (cs->n, cs->c, OH, OW));
  th_fill_uniform (x, -1, 1);
  /* Padded copy, large enough for ceil_mode windows; NAN marks "outside
   * the input", and the padded extent is tracked separately. */
  int64_t PH = (OH - 1) * cs->sh + eh + cs->pt + 1,
          PW = (OW - 1) * cs->sw + ew + cs->pl + 1;
  float *P = malloc (sizeof (float) * (size_t)(PH * PW));
  for (int64_t pl = 0; pl < cs->n * cs->c; pl++) {
    for (int64_t y = 0; y < PH; y++)
      for (int64_t xx = 0; xx < PW; xx++) {
        int64_t iy = y - cs->pt, ix = xx - cs->pl;
        P[y * PW + xx]
            = iy >= 0 && iy < cs->h && ix >= 0 && ix < cs->w
                  ? ((float *)x->data)[(pl * cs->h + iy) * cs->w + ix]
                  : NAN;
      }
    for (int64_t oy = 0; oy < OH; oy++)
      for (int64_t ox = 0; ox < OW; ox++) {
        double m = -INFINITY, s = 0;
        int64_t cnt = 0, cntpad = 0;
        for (int64_t ky = 0; ky < cs->kh; ky++)
          for (int64_t kx = 0; kx < cs->kw; kx++) {
            int64_t y = oy * cs->sh + ky * cs->dh,
                    xx = ox * cs->sw + kx * cs->dw;
            if (y < cs->h + cs->pt + cs->pb && xx < cs->w + cs->pl + cs->pr)
              cntpad++;
            float v = P[y * PW + xx];
            if (isnan (v))
              continue;
            m = fmax (m, v);
            s += v;
            cnt++;
          }
        ((float *)want->data)[(pl * OH + oy) * OW + ox]
            = (float)(is_max ? m : s / (double)(cs->count_pad ? cntpad : cnt));
      }
  }
  free (P);
  ThNode *node = th_node_new (cs->op, 1, 1);
  th_attr_ints (node, "kernel_shape", 2, (int64_t[]){ cs->kh, cs->kw });
  th_attr_ints (node, "strides", 2, (int64_t[]){ cs->sh, cs->sw });
  if (cs->dh != 1 || cs->dw != 1)
    th_attr_ints (node, "dilations", 2, (int64_t[]){ cs->dh, cs->dw });
  th_attr_ints (node, "pads", 4, (int64_t[]){ cs->pt, cs->pl, cs->pb, cs->pr });
  th_attr_int (node, "ceil_mode", cs->ceil_mode);
  if (!is_max)
    th_attr_int (node, "count_include_pad", cs->count_pad);
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  char what[96];
  snprintf (what, sizeof what, "%s %lldx%lld k%lldx%lld (threads %d)", cs->op,
            (long long)cs->h, (long long)cs->w, (long long)cs->kh,
            (long long)cs->kw, threads);
  if (th_run_op (node, 19, in, out, threads) != MACE_OK)
    th_fail (what, "run failed");
  else
    th_check_close (what, out[0], want, 1e-5, 1e-6);
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  mace_tensor_free (want);
  th_node_free (node);
}

static void
run_global (const char *op, int threads)
{
  MaceTensor *x = th_tensor (1, TH_DIMS (2, 37, 13, 11));
  MaceTensor *want = th_tensor (1, TH_DIMS (2, 37, 1, 1));
  th_fill_uniform (x, -1, 1);
  bool is_max = strcmp (op, "GlobalMaxPool") == 0;
  for (int64_t p = 0; p < 2 * 37; p++) {
    double s = 0, m = -INFINITY;
    for (int64_t i = 0; i < 13 * 11; i++) {
      double v = ((float *)x->data)[p * 143 + i];
      s += v;
      m = fmax (m, v);
    }
    ((float *)want->data)[p] = (float)(is_max ? m : s / 143);
  }
  ThNode *node = th_node_new (op, 1, 1);
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (node, 13, in, out, threads) != MACE_OK)
    th_fail (op, "run failed");
  else
    th_check_close (op, out[0], want, 1e-5, 1e-6);
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  mace_tensor_free (want);
  th_node_free (node);
}

static const Case cases[] = {
  { "MaxPool", 1, 24, 64, 64, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0 },
  { "MaxPool", 2, 5, 9, 7, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0 },
  { "MaxPool", 1, 3, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0 },
  { "MaxPool", 1, 3, 10, 11, 3, 2, 2, 1, 1, 1, 0, 1, 2, 0, 1, 0 },
  { "MaxPool", 1, 2, 12, 12, 3, 3, 1, 1, 2, 2, 1, 0, 0, 1, 0, 0 },
  { "MaxPool", 1, 2, 9, 9, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0 },
  { "AveragePool", 1, 3, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0 },
  { "AveragePool", 1, 3, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1 },
  { "AveragePool", 2, 4, 9, 8, 2, 3, 2, 2, 1, 1, 0, 1, 1, 0, 1, 0 },
  { "AveragePool", 2, 4, 9, 8, 2, 3, 2, 2, 1, 1, 0, 1, 1, 0, 1, 1 },
  { "AveragePool", 1, 16, 32, 32, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0 },
};

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  for (int t = 1; t <= 2; t++) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      run_case (&cases[i], t);
    run_global ("GlobalAveragePool", t);
    run_global ("GlobalMaxPool", t);
  }
  return th_finish ();
}
