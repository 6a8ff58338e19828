/* SPDX-License-Identifier: Apache-2.0
 * Conv and ConvTranspose against naive loops: 1-D/2-D/3-D, strides,
 * asymmetric pads, auto_pad, dilations, groups, depthwise, pointwise,
 * fused activation and residual, constant (pre-packed) weights; 1 and 2
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "harness.h"

typedef struct {
  int nd;
  int64_t n, c, m, group;
  int64_t in[3], k[3], s[3], d[3], pads[6];
  const char *auto_pad;
  bool bias;
  MaceActivation act;
  bool residual;
} Case;

static void
out_size (const Case *cs, int i, int64_t *pb, int64_t *pe, int64_t *o)
{
  int64_t ext = (cs->k[i] - 1) * cs->d[i] + 1;
  *pb = cs->pads[i];
  *pe = cs->pads[cs->nd + i];
  if (cs->auto_pad && strncmp (cs->auto_pad, "SAME", 4) == 0) {
    int64_t oo = (cs->in[i] + cs->s[i] - 1) / cs->s[i];
    int64_t tot = (oo - 1) * cs->s[i] + ext - cs->in[i];
    if (tot < 0)
      tot = 0;
    *pb = strcmp (cs->auto_pad, "SAME_UPPER") == 0 ? tot / 2 : tot - tot / 2;
    *pe = tot - *pb;
  } else if (cs->auto_pad && strcmp (cs->auto_pad, "VALID") == 0) {
    *pb = *pe = 0;
  }
  *o = (cs->in[i] + *pb + *pe - ext) / cs->s[i] + 1;
}

static double
act_ref (MaceActivation a, double v)
{
  switch (a) {
    case MACE_ACT_RELU: return v > 0 ? v : 0;
    case MACE_ACT_CLIP: return v < -0.5 ? -0.5 : v > 0.5 ? 0.5 : v;
    case MACE_ACT_LEAKYRELU: return v < 0 ? 0.2 * v : v;
    case MACE_ACT_HARDSWISH: return v * fmin (fmax (v / 6 + 0.5, 0), 1);
    case MACE_ACT_SIGMOID: return 1 / (1 + exp (-v));
    default: return v;
  }
}

static void
run_case (const Case *cs, int threads, bool const_w, const char *name)
{
  int nd = cs->nd;
  int64_t xd[5] = { cs->n, cs->c }, wd[5] = { cs->m, cs->c / cs->group };
  int64_t od[5] = { cs->n, cs->m }, pb[3], pe[3], o[3];
  for (int i = 0; i < nd; i++) {
    xd[2 + i] = cs->in[i];
    wd[2 + i] = cs->k[i];
    out_size (cs, i, &pb[i], &pe[i], &o[i]);
    od[2 + i] = o[i];
  }
  MaceTensor *x = th_tensor (1, nd + 2, xd), *w = th_tensor (1, nd + 2, wd);
  MaceTensor *b = cs->bias ? th_tensor (1, TH_DIMS (cs->m)) : NULL;
  MaceTensor *r = cs->residual ? th_tensor (1, nd + 2, od) : NULL;
  MaceTensor *want = th_tensor (1, nd + 2, od);
  th_fill_uniform (x, -1, 1);
  th_fill_uniform (w, -1, 1);
  if (b)
    th_fill_uniform (b, -1, 1);
  if (r)
    th_fill_uniform (r, -1, 1);
  /* Reference, with the spatial dims padded to 3. */
  int64_t I[3] = { 1, 1, 1 }, K[3] = { 1, 1, 1 }, S[3] = { 1, 1, 1 },
          D[3] = { 1, 1, 1 }, P[3] = { 0, 0, 0 }, O[3] = { 1, 1, 1 };
  for (int i = 0; i < nd; i++) {
    int a = 3 - nd + i;
    I[a] = cs->in[i];
    K[a] = cs->k[i];
    S[a] = cs->s[i];
    D[a] = cs->d[i];
    P[a] = pb[i];
    O[a] = o[i];
  }
  int64_t cig = cs->c / cs->group, cog = cs->m / cs->group;
  const float *X = x->data, *W = w->data;
  float *Y = want->data;
  for (int64_t n = 0; n < cs->n; n++)
    for (int64_t m = 0; m < cs->m; m++)
      for (int64_t oz = 0; oz < O[0]; oz++)
        for (int64_t oy = 0; oy < O[1]; oy++)
          for (int64_t ox = 0; ox < O[2]; ox++) {
            double s = b ? ((float *)b->data)[m] : 0;
            int64_t g = m / cog;
            for (int64_t ci = 0; ci < cig; ci++)
              for (int64_t kz = 0; kz < K[0]; kz++)
                for (int64_t ky = 0; ky < K[1]; ky++)
                  for (int64_t kx = 0; kx < K[2]; kx++) {
                    int64_t iz = oz * S[0] - P[0] + kz * D[0];
                    int64_t iy = oy * S[1] - P[1] + ky * D[1];
                    int64_t ix = ox * S[2] - P[2] + kx * D[2];
                    if (iz < 0 || iz >= I[0] || iy < 0 || iy >= I[1] || ix < 0
                        || ix >= I[2])
                      continue;
                    s += (double)
                             X[(((n * cs->c + g * cig + ci) * I[0] + iz) * I[1]
                                + iy)
                                   * I[2]
                               + ix]
                         * W[(((m * cig + ci) * K[0] + kz) * K[1] + ky) * K[2]
                             + kx];
                  }
            int64_t idx
                = (((n * cs->m + m) * O[0] + oz) * O[1] + oy) * O[2] + ox;
            if (r)
              s += ((float *)r->data)[idx];
            Y[idx] = (float)act_ref (cs->act, s);
          }

  ThNode *node = th_node_new ("Conv", r ? 4 : (b ? 3 : 2), 1);
  int64_t ks[3], st[3], dl[3];
  for (int i = 0; i < nd; i++) {
    ks[i] = cs->k[i];
    st[i] = cs->s[i];
    dl[i] = cs->d[i];
  }
  th_attr_ints (node, "kernel_shape", nd, ks);
  th_attr_ints (node, "strides", nd, st);
  th_attr_ints (node, "dilations", nd, dl);
  if (cs->auto_pad)
    th_attr_string (node, "auto_pad", cs->auto_pad);
  else
    th_attr_ints (node, "pads", 2 * nd, cs->pads);
  th_attr_int (node, "group", cs->group);
  node->node.act = cs->act;
  node->node.act_alpha = cs->act == MACE_ACT_LEAKYRELU ? 0.2f : -0.5f;
  node->node.act_beta = 0.5f;
  node->node.fused_add = r ? 3 : -1;
  if (const_w) {
    mace_graph_value (node->graph, "x", true);
    int vw = mace_graph_value (node->graph, "w", true);
    node->graph->values[vw].is_const = true;
  }
  MaceTensor *in[4] = { x, w, b, r }, *out[1] = { NULL };
  if (th_run_op (node, 13, in, out, threads) != MACE_OK)
    th_fail (name, "run failed");
  else {
    char what[160];
    snprintf (what, sizeof what, "%s (threads %d, const_w %d)", name, threads,
              const_w);
    /* float32 sums of K products: the absolute error grows with K. */
    double kk = (double)cig * K[0] * K[1] * K[2];
    th_check_close (what, out[0], want, 1e-4, 1e-5 * (kk > 64 ? kk / 64 : 1));
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  mace_tensor_free (w);
  mace_tensor_free (b);
  mace_tensor_free (r);
  mace_tensor_free (want);
  th_node_free (node);
}

#define C2(N, C, M, G, H, W, KH, KW, SH, SW, DH, DW, P0, P1, P2, P3, AP, B,    \
           ACT, RES)                                                           \
  {                                                                            \
    2, N, C, M, G, { H, W }, { KH, KW }, { SH, SW }, { DH, DW },               \
        { P0, P1, P2, P3 }, AP, B, ACT, RES                                    \
  }

static const Case cases[] = {
  /* BlazeFace-like */
  C2 (1, 3, 24, 1, 32, 32, 5, 5, 2, 2, 1, 1, 1, 1, 2, 2, NULL, true,
      MACE_ACT_RELU, false),
  C2 (1, 24, 24, 24, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 24, 24, 24, 16, 16, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 24, 28, 1, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true,
      MACE_ACT_RELU, true),
  C2 (1, 36, 36, 36, 9, 11, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, NULL, true,
      MACE_ACT_CLIP, true),
  C2 (2, 42, 42, 42, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, false,
      MACE_ACT_LEAKYRELU, false),
  C2 (1, 96, 96, 1, 8, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true,
      MACE_ACT_RELU, true),
  C2 (1, 5, 5, 5, 9, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_RELU, true),
  C2 (1, 5, 5, 5, 9, 13, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 5, 5, 5, 10, 14, 3, 3, 3, 3, 1, 1, 1, 2, 0, 1, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 4, 4, 4, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true, MACE_ACT_NONE,
      false),
  C2 (1, 4, 4, 4, 5, 1, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, NULL, false,
      MACE_ACT_NONE, false),
  C2 (1, 4, 4, 4, 40, 70, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 3, 3, 3, 11, 37, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, NULL, true,
      MACE_ACT_RELU, true),
  C2 (1, 3, 3, 3, 9, 70, 3, 3, 1, 1, 1, 1, 0, 1, 2, 2, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 3, 3, 3, 9, 33, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, NULL, true,
      MACE_ACT_LEAKYRELU, true),
  C2 (1, 5, 7, 1, 23, 41, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, NULL, true,
      MACE_ACT_RELU, true),
  C2 (2, 4, 9, 1, 19, 50, 5, 3, 1, 2, 2, 2, 3, 1, 0, 2, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 3, 8, 1, 20, 36, 5, 5, 2, 2, 1, 1, 1, 2, 2, 1, NULL, false,
      MACE_ACT_CLIP, false),
  C2 (1, 3, 8, 1, 20, 36, 4, 4, 3, 1, 1, 1, 1, 2, 2, 1, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 6, 6, 6, 12, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_SIGMOID, true),
  C2 (1, 6, 6, 6, 12, 40, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, NULL, true,
      MACE_ACT_HARDSWISH, true),
  C2 (1, 6, 10, 1, 12, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_HARDSWISH, true),
  C2 (1, 6, 10, 1, 12, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true,
      MACE_ACT_LEAKYRELU, true),
  /* ESRGAN-like (smaller spatial size) */
  C2 (1, 64, 64, 1, 13, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_RELU, false),
  C2 (1, 72, 4, 1, 9, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_NONE, true),
  C2 (1, 3, 64, 1, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true,
      MACE_ACT_NONE, false),
  /* General */
  C2 (2, 6, 10, 2, 11, 9, 3, 2, 2, 1, 2, 1, 1, 0, 2, 1, NULL, true,
      MACE_ACT_HARDSWISH, false),
  C2 (1, 8, 8, 8, 12, 13, 5, 5, 2, 3, 1, 1, 2, 1, 2, 3, NULL, true,
      MACE_ACT_SIGMOID, false),
  C2 (1, 8, 8, 8, 12, 13, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, NULL, true,
      MACE_ACT_NONE, false),
  C2 (1, 4, 8, 4, 7, 7, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, NULL, false,
      MACE_ACT_NONE, false),
  C2 (1, 5, 7, 1, 7, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_UPPER", true,
      MACE_ACT_NONE, false),
  C2 (1, 5, 7, 1, 7, 8, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_LOWER", true,
      MACE_ACT_NONE, false),
  C2 (1, 5, 7, 1, 7, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, "VALID", true,
      MACE_ACT_NONE, false),
  C2 (1, 16, 16, 16, 9, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, "SAME_UPPER", true,
      MACE_ACT_RELU, false),
  C2 (1, 3, 5, 1, 6, 7, 1, 1, 2, 2, 1, 1, 1, 0, 0, 1, NULL, true, MACE_ACT_NONE,
      false),
  C2 (1, 33, 37, 1, 41, 45, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true,
      MACE_ACT_NONE, true),
  { 1,
    2,
    4,
    6,
    1,
    { 20 },
    { 3 },
    { 2 },
    { 1 },
    { 1, 2 },
    NULL,
    true,
    MACE_ACT_NONE,
    false },
  { 1,
    1,
    6,
    6,
    6,
    { 20 },
    { 3 },
    { 1 },
    { 2 },
    { 2, 1 },
    NULL,
    true,
    MACE_ACT_RELU,
    false },
  { 3,
    1,
    3,
    4,
    1,
    { 5, 6, 7 },
    { 3, 2, 3 },
    { 1, 2, 2 },
    { 1, 1, 1 },
    { 1, 0, 1, 1, 1, 0 },
    NULL,
    true,
    MACE_ACT_NONE,
    false },
};

/* ConvTranspose against scatter loops (2-D and 1-D). */
static void
run_convt (int nd, int64_t n, int64_t c, int64_t m, int64_t group,
           const int64_t *in, const int64_t *k, const int64_t *s,
           const int64_t *d, const int64_t *pads, const int64_t *opad,
           int threads)
{
  int64_t xd[4] = { n, c }, wd[4] = { c, m / group }, od[4] = { n, m };
  int64_t o[2];
  for (int i = 0; i < nd; i++) {
    xd[2 + i] = in[i];
    wd[2 + i] = k[i];
    o[i] = s[i] * (in[i] - 1) + opad[i] + (k[i] - 1) * d[i] + 1 - pads[i]
           - pads[nd + i];
    od[2 + i] = o[i];
  }
  MaceTensor *x = th_tensor (1, nd + 2, xd), *w = th_tensor (1, nd + 2, wd);
  MaceTensor *b = th_tensor (1, TH_DIMS (m)), *want = th_tensor (1, nd + 2, od);
  th_fill_uniform (x, -1, 1);
  th_fill_uniform (w, -1, 1);
  th_fill_uniform (b, -1, 1);
  int64_t IH = nd == 2 ? in[0] : 1, IW = in[nd - 1], OH = nd == 2 ? o[0] : 1,
          OW = o[nd - 1];
  int64_t KH = nd == 2 ? k[0] : 1, KW = k[nd - 1], SH = nd == 2 ? s[0] : 1,
          SW = s[nd - 1], DH = nd == 2 ? d[0] : 1, DW = d[nd - 1];
  int64_t PT = nd == 2 ? pads[0] : 0, PL = pads[nd - 1];
  double *acc = calloc ((size_t)(n * m * OH * OW), sizeof (double));
  int64_t cig = c / group, cog = m / group;
  const float *X = x->data, *W = w->data;
  for (int64_t b0 = 0; b0 < n; b0++)
    for (int64_t ci = 0; ci < c; ci++)
      for (int64_t iy = 0; iy < IH; iy++)
        for (int64_t ix = 0; ix < IW; ix++)
          for (int64_t mo = 0; mo < cog; mo++)
            for (int64_t ky = 0; ky < KH; ky++)
              for (int64_t kx = 0; kx < KW; kx++) {
                int64_t oy = iy * SH - PT + ky * DH,
                        ox = ix * SW - PL + kx * DW;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW)
                  continue;
                int64_t mm = (ci / cig) * cog + mo;
                acc[((b0 * m + mm) * OH + oy) * OW + ox]
                    += (double)X[((b0 * c + ci) * IH + iy) * IW + ix]
                       * W[((ci * cog + mo) * KH + ky) * KW + kx];
              }
  for (int64_t i = 0; i < n * m * OH * OW; i++)
    ((float *)want->data)[i]
        = (float)(acc[i] + ((float *)b->data)[(i / (OH * OW)) % m]);
  free (acc);
  ThNode *node = th_node_new ("ConvTranspose", 3, 1);
  th_attr_ints (node, "kernel_shape", nd, k);
  th_attr_ints (node, "strides", nd, s);
  th_attr_ints (node, "dilations", nd, d);
  th_attr_ints (node, "pads", 2 * nd, pads);
  th_attr_ints (node, "output_padding", nd, opad);
  th_attr_int (node, "group", group);
  MaceTensor *ins[3] = { x, w, b }, *out[1] = { NULL };
  if (th_run_op (node, 13, ins, out, threads) != MACE_OK)
    th_fail ("ConvTranspose", "run failed");
  else
    th_check_close ("ConvTranspose", out[0], want, 1e-4, 1e-5);
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  mace_tensor_free (w);
  mace_tensor_free (b);
  mace_tensor_free (want);
  th_node_free (node);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  /* Every kernel: the AVX-512 one takes the direct/indirect GEMM and
   * masked depthwise paths, the others the packed and portable ones. */
  for (int k = 3; k >= 1; k--) {
    if (mace_gemm_set_kernel (k) != k)
      continue;
    printf ("kernel %s\n", mace_gemm_kernel_name ());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char name[64];
      snprintf (name, sizeof name, "Conv case %zu (%s)", i,
                mace_gemm_kernel_name ());
      run_case (&cases[i], 2, true, name);
    }
  }
  mace_gemm_set_kernel (0);
  for (int t = 1; t <= 2; t++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char name[64];
      snprintf (name, sizeof name, "Conv case %zu", i);
      run_case (&cases[i], t, false, name);
      run_case (&cases[i], t, true, name);
    }
  for (int t = 1; t <= 2; t++) {
    run_convt (2, 1, 4, 6, 1, (int64_t[]){ 5, 6 }, (int64_t[]){ 3, 3 },
               (int64_t[]){ 2, 2 }, (int64_t[]){ 1, 1 },
               (int64_t[]){ 1, 0, 1, 1 }, (int64_t[]){ 1, 0 }, t);
    run_convt (2, 2, 4, 4, 2, (int64_t[]){ 4, 3 }, (int64_t[]){ 2, 3 },
               (int64_t[]){ 1, 2 }, (int64_t[]){ 2, 1 },
               (int64_t[]){ 0, 0, 0, 0 }, (int64_t[]){ 0, 1 }, t);
    run_convt (1, 1, 3, 2, 1, (int64_t[]){ 7 }, (int64_t[]){ 4 },
               (int64_t[]){ 3 }, (int64_t[]){ 1 }, (int64_t[]){ 1, 2 },
               (int64_t[]){ 2 }, t);
  }
  return th_finish ();
}
