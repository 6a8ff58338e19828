/* SPDX-License-Identifier: Apache-2.0
 * Activation ops against double-precision reference loops on seeded random
 * inputs (wide ranges, so the float32 exp / tanh approximations are seen
 * at their limits), Clip in both opset forms and integer types, PRelu
 * broadcasting, and mace_apply_activation_f32(). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/broadcast.h"

typedef struct {
  double alpha, beta, gamma;
  int approx; /* Gelu: tanh approximation */
} Attrs;

static double
ref_act (const char *op, double x, const Attrs *a)
{
  if (!strcmp (op, "Relu"))
    return x > 0 ? x : 0;
  if (!strcmp (op, "LeakyRelu"))
    return x < 0 ? a->alpha * x : x;
  if (!strcmp (op, "Sigmoid"))
    return 1 / (1 + exp (-x));
  if (!strcmp (op, "HardSigmoid"))
    return fmin (1, fmax (0, a->alpha * x + a->beta));
  if (!strcmp (op, "HardSwish"))
    return x * fmin (1, fmax (0, x / 6 + 0.5));
  if (!strcmp (op, "Tanh"))
    return tanh (x);
  if (!strcmp (op, "Elu"))
    return x < 0 ? a->alpha * (exp (x) - 1) : x;
  if (!strcmp (op, "Selu"))
    return a->gamma * (x <= 0 ? a->alpha * (exp (x) - 1) : x);
  if (!strcmp (op, "Celu"))
    return fmax (0, x) + fmin (0, a->alpha * (exp (x / a->alpha) - 1));
  if (!strcmp (op, "ThresholdedRelu"))
    return x > a->alpha ? x : 0;
  if (!strcmp (op, "Softplus"))
    return log (exp (x) + 1);
  if (!strcmp (op, "Softsign"))
    return x / (1 + fabs (x));
  if (!strcmp (op, "Gelu"))
    return a->approx
               ? 0.5 * x
                     * (1 + tanh (sqrt (2 / M_PI) * (x + 0.044715 * x * x * x)))
               : 0.5 * x * (1 + erf (x / sqrt (2)));
  if (!strcmp (op, "Shrink"))
    return x < -a->alpha ? x + a->beta : (x > a->alpha ? x - a->beta : 0);
  if (!strcmp (op, "Mish"))
    return x * tanh (log1p (exp (x)));
  return NAN;
}

static void
set_val (MaceTensor *t, int64_t i, double v)
{
  switch (t->dtype) {
    case MACE_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case MACE_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case MACE_DTYPE_FLOAT16:
      ((uint16_t *)t->data)[i] = mace_f32_to_half ((float)v);
      break;
    case MACE_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case MACE_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case MACE_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case MACE_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    default: break;
  }
}

static MaceTensor *
rand_tensor (MaceDataType dt, int nd, const int64_t *dims, double lo, double hi)
{
  MaceTensor *t = th_tensor (dt, nd, dims);
  for (int64_t i = 0; i < mace_tensor_numel (t); i++) {
    double v = th_uniform ((float)lo, (float)hi);
    set_val (t, i,
             dt == MACE_DTYPE_FLOAT32 || dt == MACE_DTYPE_FLOAT64
                     || dt == MACE_DTYPE_FLOAT16
                 ? v
                 : floor (v));
  }
  return t;
}

static MaceTensor *
run1 (const char *what, ThNode *node, int64_t opset, MaceTensor **in,
      int threads)
{
  MaceTensor *out[1] = { NULL };
  MaceStatus st = th_run_op (node, opset, in, out, threads);
  if (st != MACE_OK) {
    th_fail (what, "run failed: %s", mace_status_to_string (st));
    mace_tensor_free (out[0]);
    return NULL;
  }
  return out[0];
}

/* One unary op, one type, one range, with optional attributes. */
static void
check_act (const char *op, MaceDataType dt, double lo, double hi,
           const Attrs *attrs, bool set_attrs, int threads, double rtol,
           double atol)
{
  static const Attrs none = { 0, 0, 0, 0 };
  Attrs a = attrs ? *attrs : none;
  int64_t d[] = { 5, 7, 9 }, dbig[] = { 4, 32, 30, 30 };
  bool big = threads > 1;
  MaceTensor *x = rand_tensor (dt, big ? 4 : 3, big ? dbig : d, lo, hi);
  /* Edges: zero and values at the ends of the range. */
  set_val (x, 0, 0);
  set_val (x, 1, lo);
  set_val (x, 2, hi);
  ThNode *node = th_node_new (op, 1, 1);
  if (set_attrs && strcmp (op, "Shrink") == 0) {
    th_attr_float (node, "lambd", (float)a.alpha);
    th_attr_float (node, "bias", (float)a.beta);
  } else if (set_attrs) {
    th_attr_float (node, "alpha", (float)a.alpha);
    if (strcmp (op, "HardSigmoid") == 0)
      th_attr_float (node, "beta", (float)a.beta);
    if (strcmp (op, "Selu") == 0)
      th_attr_float (node, "gamma", (float)a.gamma);
  }
  if (a.approx)
    th_attr_string (node, "approximate", "tanh");
  char what[128];
  snprintf (what, sizeof what, "%s %s [%g,%g] t%d", op, mace_dtype_name (dt),
            lo, hi, threads);
  MaceTensor *got = run1 (what, node, 20, &x, threads);
  if (got) {
    MaceTensor *want = th_tensor (dt, x->ndim, x->dims);
    /* Attributes are floats on the wire: reference with the same. */
    Attrs ra = a;
    /* volatile: GCC 12 -O3 was seen dropping these roundings. */
    volatile float fa = (float)a.alpha, fb = (float)a.beta, fg = (float)a.gamma;
    ra.alpha = fa;
    ra.beta = fb;
    ra.gamma = fg;
    for (int64_t i = 0; i < mace_tensor_numel (x); i++)
      set_val (want, i, ref_act (op, mace_tensor_get_f64 (x, i), &ra));
    th_check_close (what, got, want, rtol, atol);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  mace_tensor_free (x);
}

static void
test_unary (void)
{
  static const struct {
    const char *op;
    Attrs def;    /* the op's defaults */
    Attrs custom; /* set as attributes */
  } ops[] = {
    { "Relu", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "LeakyRelu", { 0.01, 0, 0, 0 }, { 0.3, 0, 0, 0 } },
    { "Sigmoid", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "HardSigmoid", { 0.2, 0.5, 0, 0 }, { 0.3, 0.4, 0, 0 } },
    { "HardSwish", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "Tanh", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "Elu", { 1, 0, 0, 0 }, { 0.7, 0, 0, 0 } },
    { "Selu",
      { 1.67326319217681884765625, 0, 1.05070102214813232421875, 0 },
      { 2, 0, 3, 0 } },
    { "Celu", { 1, 0, 0, 0 }, { 2.5, 0, 0, 0 } },
    { "ThresholdedRelu", { 1, 0, 0, 0 }, { 0.5, 0, 0, 0 } },
    { "Softplus", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "Softsign", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "Gelu", { 0, 0, 0, 0 }, { 0, 0, 0, 1 } },
    { "Mish", { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
    { "Shrink", { 0.5, 0, 0, 0 }, { 1.5, 0.7, 0, 0 } },
  };
  static const double ranges[][2]
      = { { -1, 1 }, { -10, 10 }, { -100, 100 }, { -0.01, 0.01 } };
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
    for (size_t r = 0; r < 4; r++) {
      /* float32: a few ulp plus an absolute floor for results near 0. */
      check_act (ops[o].op, MACE_DTYPE_FLOAT32, ranges[r][0], ranges[r][1],
                 &ops[o].def, false, 1, 2e-6, 1e-7);
      check_act (ops[o].op, MACE_DTYPE_FLOAT64, ranges[r][0], ranges[r][1],
                 &ops[o].def, false, 1, 1e-12, 1e-15);
    }
    bool has_attr = ops[o].custom.alpha != 0 || ops[o].custom.approx;
    if (has_attr) {
      check_act (ops[o].op, MACE_DTYPE_FLOAT32, -5, 5, &ops[o].custom,
                 ops[o].custom.alpha != 0, 1, 2e-6, 1e-7);
      check_act (ops[o].op, MACE_DTYPE_FLOAT64, -5, 5, &ops[o].custom,
                 ops[o].custom.alpha != 0, 1, 1e-12, 1e-15);
    }
    /* Split over two threads. */
    check_act (ops[o].op, MACE_DTYPE_FLOAT32, -8, 8, &ops[o].def, false, 2,
               2e-6, 1e-7);
    /* float16 runs in float32 and rounds once. */
    check_act (ops[o].op, MACE_DTYPE_FLOAT16, -4, 4, &ops[o].def, false, 1,
               1e-3, 1e-3);
  }
  /* Integer Relu. */
  static const MaceDataType its[]
      = { MACE_DTYPE_INT8, MACE_DTYPE_INT32, MACE_DTYPE_INT64 };
  for (int t = 0; t < 3; t++)
    check_act ("Relu", its[t], -100, 100, NULL, false, 1, 0, 0);
}

/* ---- Clip ------------------------------------------------------------- */

static void
check_clip (MaceDataType dt, int64_t opset, bool has_lo, bool has_hi, double lo,
            double hi)
{
  int64_t d[] = { 6, 50 };
  MaceTensor *x = rand_tensor (dt, 2, d, -100, 100);
  ThNode *node;
  MaceTensor *in[3] = { x, NULL, NULL };
  if (opset < 11) {
    node = th_node_new ("Clip", 1, 1);
    if (has_lo)
      th_attr_float (node, "min", (float)lo);
    if (has_hi)
      th_attr_float (node, "max", (float)hi);
  } else {
    node = th_node_new ("Clip", 3, 1);
    if (has_lo) {
      in[1] = th_tensor (dt, 0, NULL);
      set_val (in[1], 0, lo);
    }
    if (has_hi) {
      in[2] = th_tensor (dt, 0, NULL);
      set_val (in[2], 0, hi);
    }
  }
  char what[128];
  snprintf (what, sizeof what, "Clip %s opset %lld min %s%g max %s%g",
            mace_dtype_name (dt), (long long)opset, has_lo ? "" : "none ", lo,
            has_hi ? "" : "none ", hi);
  MaceTensor *got = run1 (what, node, opset, in, 1);
  if (got) {
    MaceTensor *want = th_tensor (dt, 2, d);
    for (int64_t i = 0; i < 300; i++) {
      double v = mace_tensor_get_f64 (x, i);
      if (has_lo && v < lo)
        v = lo;
      if (has_hi && v > hi)
        v = hi;
      set_val (want, i, v);
    }
    th_check_close (what, got, want, 0, 0);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  for (int i = 0; i < 3; i++)
    mace_tensor_free (in[i]);
}

static void
test_clip (void)
{
  for (int lo = 0; lo < 2; lo++)
    for (int hi = 0; hi < 2; hi++) {
      check_clip (MACE_DTYPE_FLOAT32, 6, lo, hi, -20.5, 30.25);
      check_clip (MACE_DTYPE_FLOAT32, 13, lo, hi, -20.5, 30.25);
      check_clip (MACE_DTYPE_FLOAT64, 13, lo, hi, -20.5, 30.25);
      check_clip (MACE_DTYPE_INT8, 13, lo, hi, -20, 30);
      check_clip (MACE_DTYPE_INT32, 13, lo, hi, -20, 30);
      check_clip (MACE_DTYPE_INT64, 13, lo, hi, -20, 30);
    }
  check_clip (MACE_DTYPE_UINT8, 13, true, true, 3, 9);
  /* min > max: everything becomes max, as numpy.clip does. */
  check_clip (MACE_DTYPE_FLOAT32, 13, true, true, 5, -5);
}

/* ---- PRelu ------------------------------------------------------------ */

static void
check_prelu (MaceDataType dt, int ns, const int64_t *ds, int threads)
{
  int64_t dx[] = { 2, 16, 24, 24 };
  MaceTensor *in[2]
      = { rand_tensor (dt, 4, dx, -10, 10), rand_tensor (dt, ns, ds, -3, 3) };
  ThNode *node = th_node_new ("PRelu", 2, 1);
  char what[128], sb[64];
  snprintf (what, sizeof what, "PRelu %s slope %s", mace_dtype_name (dt),
            mace_shape_str (ns, ds, sb, sizeof sb));
  MaceTensor *got = run1 (what, node, 16, in, threads);
  if (got) {
    MaceTensor *want = th_tensor (dt, 4, dx);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      /* Slope index by broadcasting against X's coordinates. */
      int64_t o = i, idx = 0, stride = 1;
      for (int d = 3; d >= 0; d--) {
        int64_t c = o % dx[d];
        o /= dx[d];
        int j = d - (4 - ns);
        if (j >= 0) {
          if (ds[j] != 1)
            idx += c * stride;
          stride *= ds[j];
        }
      }
      double x = mace_tensor_get_f64 (in[0], i);
      double s = mace_tensor_get_f64 (in[1], idx);
      set_val (want, i, x < 0 ? x * s : x);
    }
    th_check_close (what, got, want, 1e-6, 1e-6);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
}

static void
test_prelu (void)
{
  int64_t ch[] = { 16, 1, 1 }, sc[] = { 1 }, full[] = { 2, 16, 24, 24 },
          last[] = { 24 }, mid[] = { 16, 24, 1 };
  for (int t = 1; t <= 2; t++) {
    check_prelu (MACE_DTYPE_FLOAT32, 3, ch, t);
    check_prelu (MACE_DTYPE_FLOAT32, 1, sc, t);
    check_prelu (MACE_DTYPE_FLOAT32, 0, sc, t);
    check_prelu (MACE_DTYPE_FLOAT32, 4, full, t);
    check_prelu (MACE_DTYPE_FLOAT32, 1, last, t);
    check_prelu (MACE_DTYPE_FLOAT32, 3, mid, t);
  }
  check_prelu (MACE_DTYPE_FLOAT64, 3, ch, 1);
  check_prelu (MACE_DTYPE_INT32, 3, ch, 1);
  check_prelu (MACE_DTYPE_INT64, 1, last, 1);
  /* A slope that does not broadcast to X is refused. */
  int64_t bad[] = { 5 }, dx[] = { 2, 3 };
  MaceTensor *in[2] = { th_tensor (MACE_DTYPE_FLOAT32, 2, dx),
                        th_tensor (MACE_DTYPE_FLOAT32, 1, bad) };
  MaceTensor *out[1] = { NULL };
  ThNode *node = th_node_new ("PRelu", 2, 1);
  fprintf (stderr, "(an error message follows, expected)\n");
  if (th_run_op (node, 16, in, out, 1) == MACE_OK)
    th_fail ("PRelu", "accepted a slope of 5 for X 2x3");
  mace_tensor_free (out[0]);
  th_node_free (node);
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
}

/* ---- Fused activations ------------------------------------------------ */

static void
test_apply_activation (void)
{
  static const struct {
    MaceActivation act;
    const char *op;
    float alpha, beta;
  } acts[] = {
    { MACE_ACT_NONE, NULL, 0, 0 },
    { MACE_ACT_RELU, "Relu", 0, 0 },
    { MACE_ACT_CLIP, NULL, -1.5f, 2.5f },
    { MACE_ACT_LEAKYRELU, "LeakyRelu", 0.2f, 0 },
    { MACE_ACT_HARDSWISH, "HardSwish", 0, 0 },
    { MACE_ACT_SIGMOID, "Sigmoid", 0, 0 },
  };
  int64_t n = 1037;
  float *x = malloc (sizeof (float) * (size_t)n);
  float *y = malloc (sizeof (float) * (size_t)n);
  for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
    for (int64_t i = 0; i < n; i++)
      x[i] = y[i] = th_uniform (-20, 20);
    mace_apply_activation_f32 (y, n, acts[a].act, acts[a].alpha, acts[a].beta);
    Attrs at = { acts[a].alpha, acts[a].beta, 0, 0 };
    for (int64_t i = 0; i < n; i++) {
      double w;
      if (acts[a].act == MACE_ACT_NONE)
        w = x[i];
      else if (acts[a].act == MACE_ACT_CLIP)
        w = fmin (fmax (x[i], acts[a].alpha), acts[a].beta);
      else
        w = ref_act (acts[a].op, x[i], &at);
      if (!(fabs (y[i] - w) <= 1e-7 + 2e-6 * fabs (w))) {
        th_fail ("mace_apply_activation_f32",
                 "act %d x %.9g: got %.9g want "
                 "%.9g",
                 (int)acts[a].act, x[i], y[i], w);
        break;
      }
    }
  }
  free (x);
  free (y);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_unary ();
  test_clip ();
  test_prelu ();
  test_apply_activation ();
  return th_finish ();
}
