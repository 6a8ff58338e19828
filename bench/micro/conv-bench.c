/* SPDX-License-Identifier: Apache-2.0
 * Times the Conv layers of BlazeFace-128 and ESRGAN-slim x2 (320x180) one
 * by one through the op table, with constant (pre-packed) weights, and
 * prints the median time and GFLOP/s for 1 and 2 threads.
 *
 *   conv-bench [--runs N] [--threads T] [--filter SUBSTRING]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "gemm.h"
#include "internal.h"

typedef struct {
  const char *name;
  int64_t c, m, group, h, w, k, s, pads[4];
  MaceActivation act;
  bool res;
} Layer;

static const Layer layers[] = {
  { "bf conv5x5 s2 3->24 128",
    3,
    24,
    1,
    128,
    128,
    5,
    2,
    { 1, 1, 2, 2 },
    MACE_ACT_RELU,
    false },
  { "bf dw3x3 24 64",
    24,
    24,
    24,
    64,
    64,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "bf pw 24->24 64 +res relu",
    24,
    24,
    1,
    64,
    64,
    1,
    1,
    { 0 },
    MACE_ACT_RELU,
    true },
  { "bf pw 24->28 64", 24, 28, 1, 64, 64, 1, 1, { 0 }, MACE_ACT_NONE, false },
  { "bf dw3x3 s2 28 64",
    28,
    28,
    28,
    64,
    64,
    3,
    2,
    { 0, 0, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "bf pw 28->32 32", 28, 32, 1, 32, 32, 1, 1, { 0 }, MACE_ACT_RELU, true },
  { "bf dw3x3 42 32 s2",
    42,
    42,
    42,
    32,
    32,
    3,
    2,
    { 0, 0, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "bf dw3x3 48 16",
    48,
    48,
    48,
    16,
    16,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "bf pw 48->56 16", 48, 56, 1, 16, 16, 1, 1, { 0 }, MACE_ACT_RELU, true },
  { "bf pw 88->96 8", 88, 96, 1, 8, 8, 1, 1, { 0 }, MACE_ACT_RELU, true },
  { "bf dw3x3 96 8",
    96,
    96,
    96,
    8,
    8,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "bf pw 96->96 8", 96, 96, 1, 8, 8, 1, 1, { 0 }, MACE_ACT_RELU, true },
  { "es conv3x3 3->64",
    3,
    64,
    1,
    180,
    320,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "es conv3x3 64->64 relu",
    64,
    64,
    1,
    180,
    320,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_RELU,
    false },
  { "es conv3x3 64->4",
    64,
    4,
    1,
    180,
    320,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "es pw 68->64", 68, 64, 1, 180, 320, 1, 1, { 0 }, MACE_ACT_NONE, false },
  { "es pw 128->64 +res",
    128,
    64,
    1,
    180,
    320,
    1,
    1,
    { 0 },
    MACE_ACT_NONE,
    true },
  { "es conv5x5 64->64",
    64,
    64,
    1,
    180,
    320,
    5,
    1,
    { 2, 2, 2, 2 },
    MACE_ACT_RELU,
    false },
  { "es conv3x3 64->32",
    64,
    32,
    1,
    180,
    320,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "es conv3x3 32->12",
    32,
    12,
    1,
    180,
    320,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
  { "es conv3x3 12->3 x2",
    12,
    3,
    1,
    360,
    640,
    3,
    1,
    { 1, 1, 1, 1 },
    MACE_ACT_NONE,
    false },
};

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_d (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static MaceAttr
ints_attr (const char *name, int n, const int64_t *v)
{
  MaceAttr a = { 0 };
  a.name = g_strdup (name);
  a.type = MACE_ATTR_INTS;
  a.n = n;
  a.ints = g_memdup2 (v, sizeof (int64_t) * (size_t)n);
  return a;
}

static void
fill (MaceTensor *t)
{
  float *p = t->data;
  int64_t n = mace_tensor_numel (t);
  uint32_t s = 12345;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
  }
}

/* Returns the median seconds of one run, or -1 on failure. */
static double
bench_layer (const Layer *l, MaceThreadPool *pool, int runs)
{
  MaceGraph *g = mace_graph_new ("conv-bench");
  int vx = mace_graph_value (g, "x", true),
      vw = mace_graph_value (g, "w", true);
  int vb = mace_graph_value (g, "b", true),
      vr = mace_graph_value (g, "r", true);
  int vy = mace_graph_value (g, "y", true);
  g->values[vw].is_const = g->values[vb].is_const = true;
  MaceNode *n = mace_graph_add_node (g);
  n->name = g_strdup (l->name);
  n->op_type = g_strdup ("Conv");
  n->domain = g_strdup ("");
  n->n_in = l->res ? 4 : 3;
  n->in = g_new0 (int, 4);
  n->in[0] = vx;
  n->in[1] = vw;
  n->in[2] = vb;
  n->in[3] = vr;
  n->n_out = 1;
  n->out = g_new0 (int, 1);
  n->out[0] = vy;
  n->n_attr = 4;
  n->attrs = g_new0 (MaceAttr, 4);
  n->attrs[0] = ints_attr ("kernel_shape", 2, (int64_t[]){ l->k, l->k });
  n->attrs[1] = ints_attr ("strides", 2, (int64_t[]){ l->s, l->s });
  n->attrs[2] = ints_attr ("pads", 4, l->pads);
  n->attrs[3].name = g_strdup ("group");
  n->attrs[3].type = MACE_ATTR_INT;
  n->attrs[3].i = l->group;
  n->act = l->act;
  n->fused_add = l->res ? 3 : -1;
  n->def = mace_op_lookup ("Conv");

  MaceTensor *x = mace_tensor_new (1, 4, (int64_t[]){ 1, l->c, l->h, l->w });
  MaceTensor *w = mace_tensor_new (
      1, 4, (int64_t[]){ l->m, l->c / l->group, l->k, l->k });
  MaceTensor *b = mace_tensor_new (1, 1, (int64_t[]){ l->m });
  MaceTensor y = { 0 }, *r = NULL;
  fill (x);
  fill (w);
  fill (b);
  MaceError err = { 0 };
  MaceTensor *in[4] = { x, w, b, NULL }, *out[1] = { &y };
  MaceOpCtx ctx = { .node = n,
                    .graph = g,
                    .opset = 13,
                    .n_in = n->n_in,
                    .n_out = 1,
                    .in = in,
                    .out = out,
                    .pool = pool,
                    .err = &err };
  double med = -1;
  if (n->def->infer (&ctx) != MACE_OK || mace_tensor_alloc (&y) != MACE_OK)
    goto out;
  if (l->res) {
    r = mace_tensor_new (1, y.ndim, y.dims);
    fill (r);
    in[3] = r;
  }
  if (n->def->prepare && n->def->prepare (&ctx) != MACE_OK)
    goto out;
  double *t = g_new (double, runs);
  for (int i = 0; i < runs + 3; i++) {
    double t0 = now_s ();
    if (n->def->run (&ctx) != MACE_OK) {
      fprintf (stderr, "%s\n", err.message);
      g_free (t);
      goto out;
    }
    if (i >= 3)
      t[i - 3] = now_s () - t0;
  }
  qsort (t, (size_t)runs, sizeof *t, cmp_d);
  med = t[runs / 2];
  g_free (t);
out:
  mace_tensor_clear (&y);
  mace_tensor_free (x);
  mace_tensor_free (w);
  mace_tensor_free (b);
  mace_tensor_free (r);
  mace_graph_free (g);
  return med;
}

int
main (int argc, char **argv)
{
  int runs = 0, max_threads = 2;
  const char *filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--runs") && i + 1 < argc)
      runs = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--threads") && i + 1 < argc)
      max_threads = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--filter") && i + 1 < argc)
      filter = argv[++i];
    else {
      fprintf (stderr,
               "usage: conv-bench [--runs N] [--threads T] [--filter S]\n");
      return 2;
    }
  }
  printf ("gemm kernel %s (MR %d, NR %d)\n", mace_gemm_kernel_name (),
          mace_gemm_mr (), mace_gemm_nr ());
  printf ("%-28s %8s", "layer", "MFLOP");
  for (int t = 1; t <= max_threads; t++)
    printf ("   t=%d: us   GFLOP/s", t);
  printf ("\n");
  MaceThreadPool *pools[16] = { NULL };
  for (int t = 2; t <= max_threads && t < 16; t++)
    pools[t] = mace_threadpool_new (t);
  double tot[16] = { 0 };
  for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
    const Layer *l = &layers[li];
    if (filter && !strstr (l->name, filter))
      continue;
    int64_t oh = (l->h + l->pads[0] + l->pads[2] - l->k) / l->s + 1;
    int64_t ow = (l->w + l->pads[1] + l->pads[3] - l->k) / l->s + 1;
    double flop = 2.0 * l->m * (l->c / l->group) * l->k * l->k * oh * ow;
    int r = runs > 0 ? runs : flop > 1e9 ? 5 : flop > 1e8 ? 15 : 200;
    printf ("%-28s %8.2f", l->name, flop * 1e-6);
    for (int t = 1; t <= max_threads && t < 16; t++) {
      double s = bench_layer (l, pools[t], r);
      tot[t] += s;
      printf ("   %9.1f %8.1f", s * 1e6, flop / s * 1e-9);
    }
    printf ("\n");
    fflush (stdout);
  }
  printf ("%-37s", "sum");
  for (int t = 1; t <= max_threads && t < 16; t++)
    printf ("   %9.1f %8s", tot[t] * 1e6, "");
  printf ("\n");
  for (int t = 2; t <= max_threads && t < 16; t++)
    mace_threadpool_free (pools[t]);
  return 0;
}
