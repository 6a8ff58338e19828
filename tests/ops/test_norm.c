/* SPDX-License-Identifier: Apache-2.0
 * Normalisation ops against plain reference loops on seeded random
 * inputs: BatchNormalization, InstanceNormalization, LayerNormalization,
 * LpNormalization, MeanVarianceNormalization, LRN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
set_f64 (MaceTensor *t, int64_t i, double v)
{
  if (t->dtype == MACE_DTYPE_FLOAT32)
    ((float *)t->data)[i] = (float)v;
  else
    ((double *)t->data)[i] = v;
}

static double
get (const MaceTensor *t, int64_t i)
{
  return mace_tensor_get_f64 (t, i);
}

static double
tol_for (const MaceTensor *t)
{
  return t->dtype == MACE_DTYPE_FLOAT32 ? 2e-5 : 1e-10;
}

/* ---- BatchNormalization ------------------------------------------------ */

static void
check_bn (MaceDataType dt, int ndim, const int64_t *dims, int64_t opset,
          int threads)
{
  char what[128], shape[64];
  snprintf (what, sizeof what, "BatchNormalization %s %s opset=%lld",
            mace_dtype_name (dt), mace_shape_str (ndim, dims, shape, 64),
            (long long)opset);
  int64_t c = dims[1];
  MaceTensor *x = th_tensor (dt, ndim, dims);
  MaceTensor *s = th_tensor (dt, TH_DIMS (c)), *b = th_tensor (dt, TH_DIMS (c));
  MaceTensor *m = th_tensor (dt, TH_DIMS (c)), *v = th_tensor (dt, TH_DIMS (c));
  th_fill_uniform (x, -3.0f, 3.0f);
  th_fill_uniform (s, 0.5f, 2.0f);
  th_fill_uniform (b, -1.0f, 1.0f);
  th_fill_uniform (m, -1.0f, 1.0f);
  th_fill_uniform (v, 0.1f, 2.0f);
  ThNode *n = th_node_new ("BatchNormalization", 5, 1);
  th_attr_float (n, "epsilon", 1e-3f);
  MaceTensor *in[5] = { x, s, b, m, v }, *out[1] = { NULL };
  if (th_run_op (n, opset, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    MaceTensor *want = th_tensor (dt, ndim, dims);
    int64_t inner = mace_shape_numel (ndim - 2, dims + 2);
    int64_t total = mace_tensor_numel (x);
    double eps = (double)1e-3f;
    for (int64_t i = 0; i < total; i++) {
      int64_t ch = (i / inner) % c;
      set_f64 (want, i,
               (get (x, i) - get (m, ch)) / sqrt (get (v, ch) + eps)
                       * get (s, ch)
                   + get (b, ch));
    }
    th_check_close (what, out[0], want, tol_for (x), tol_for (x));
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  for (int i = 0; i < 5; i++)
    mace_tensor_free (in[i]);
  th_node_free (n);
}

/* Opset 7-8 with spatial=0: one set of parameters per C x D1 x ...
 * element. */
static void
check_bn_spatial0 (void)
{
  const char *what = "BatchNormalization spatial=0 opset=7";
  int64_t c = 3, inner = 4 * 2;
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 2));
  MaceTensor *p[4];
  for (int i = 0; i < 4; i++) {
    p[i] = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 4, 2));
    th_fill_uniform (p[i], i == 3 ? 0.1f : -1.0f, 2.0f);
  }
  th_fill_uniform (x, -3.0f, 3.0f);
  ThNode *n = th_node_new ("BatchNormalization", 5, 1);
  th_attr_int (n, "spatial", 0);
  MaceTensor *in[5] = { x, p[0], p[1], p[2], p[3] }, *out[1] = { NULL };
  if (th_run_op (n, 7, in, out, 1) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 2));
    for (int64_t i = 0; i < 2 * c * inner; i++) {
      int64_t q = i % (c * inner);
      set_f64 (want, i,
               (get (x, i) - get (p[2], q))
                       / sqrt (get (p[3], q) + (double)1e-5f) * get (p[0], q)
                   + get (p[1], q));
    }
    th_check_close (what, out[0], want, 2e-5, 2e-5);
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  for (int i = 0; i < 5; i++)
    mace_tensor_free (in[i]);
  th_node_free (n);
}

static void
test_batchnorm (void)
{
  check_bn_spatial0 ();
  check_bn (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), 15, 1);
  check_bn (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), 9, 1);
  check_bn (MACE_DTYPE_FLOAT32, TH_DIMS (5, 7), 15, 1);
  check_bn (MACE_DTYPE_FLOAT32, TH_DIMS (1, 4, 3, 2, 2), 14, 1);
  check_bn (MACE_DTYPE_FLOAT64, TH_DIMS (2, 3, 6), 15, 1);
  check_bn (MACE_DTYPE_FLOAT32, TH_DIMS (4, 16, 32, 32), 15, 2);

  /* Training mode is declared unsupported at load time. */
  ThNode *n = th_node_new ("BatchNormalization", 5, 3);
  th_attr_int (n, "training_mode", 1);
  char msg[256] = "";
  const MaceOpDef *def = mace_op_lookup ("BatchNormalization");
  if (!def || !def->check
      || def->check (&n->node, 15, msg, sizeof msg) != MACE_ERROR_UNSUPPORTED)
    th_fail ("BatchNormalization training_mode", "not refused");
  th_node_free (n);
}

/* ---- InstanceNormalization ---------------------------------------------- */

static void
check_instnorm (MaceDataType dt, int ndim, const int64_t *dims, int threads)
{
  char what[128], shape[64];
  snprintf (what, sizeof what, "InstanceNormalization %s %s",
            mace_dtype_name (dt), mace_shape_str (ndim, dims, shape, 64));
  int64_t c = dims[1], inner = mace_shape_numel (ndim - 2, dims + 2);
  MaceTensor *x = th_tensor (dt, ndim, dims);
  MaceTensor *s = th_tensor (dt, TH_DIMS (c)), *b = th_tensor (dt, TH_DIMS (c));
  th_fill_uniform (x, 2.0f, 6.0f);
  th_fill_uniform (s, 0.5f, 2.0f);
  th_fill_uniform (b, -1.0f, 1.0f);
  ThNode *n = th_node_new ("InstanceNormalization", 3, 1);
  th_attr_float (n, "epsilon", 1e-2f);
  MaceTensor *in[3] = { x, s, b }, *out[1] = { NULL };
  if (th_run_op (n, 7, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    MaceTensor *want = th_tensor (dt, ndim, dims);
    for (int64_t item = 0; item < dims[0] * c; item++) {
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < inner; i++)
        sum += get (x, item * inner + i);
      double mean = sum / (double)inner;
      for (int64_t i = 0; i < inner; i++)
        sq += pow (get (x, item * inner + i) - mean, 2);
      double sd = sqrt (sq / (double)inner + (double)1e-2f);
      for (int64_t i = 0; i < inner; i++)
        set_f64 (want, item * inner + i,
                 (get (x, item * inner + i) - mean) / sd * get (s, item % c)
                     + get (b, item % c));
    }
    th_check_close (what, out[0], want, tol_for (x), tol_for (x));
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  for (int i = 0; i < 3; i++)
    mace_tensor_free (in[i]);
  th_node_free (n);
}

static void
test_instnorm (void)
{
  check_instnorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), 1);
  check_instnorm (MACE_DTYPE_FLOAT32, TH_DIMS (1, 4, 7), 1);
  check_instnorm (MACE_DTYPE_FLOAT64, TH_DIMS (2, 2, 3, 3), 1);
  check_instnorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 8, 48, 48), 2);
}

/* ---- LayerNormalization ---------------------------------------------- */

/* scale_ndim: rank of Scale/B (right-aligned to X's normalised dims; a
 * rank below X's gives a broadcast); with_b: pass B; n_out: 1..3. */
static void
check_layernorm (MaceDataType dt, int ndim, const int64_t *dims, int64_t axis,
                 int scale_ndim, bool with_b, int n_out, int threads)
{
  char what[160], shape[64];
  snprintf (what, sizeof what,
            "LayerNormalization %s %s axis=%lld scale_rank=%d B=%d outs=%d",
            mace_dtype_name (dt), mace_shape_str (ndim, dims, shape, 64),
            (long long)axis, scale_ndim, with_b, n_out);
  int a = (int)(axis < 0 ? axis + ndim : axis);
  int64_t outer = mace_shape_numel (a, dims);
  int64_t inner = mace_shape_numel (ndim - a, dims + a);
  MaceTensor *x = th_tensor (dt, ndim, dims);
  th_fill_uniform (x, -2.0f, 4.0f);
  const int64_t *pdims = dims + ndim - scale_ndim;
  MaceTensor *s = th_tensor (dt, scale_ndim, pdims);
  MaceTensor *b = with_b ? th_tensor (dt, scale_ndim, pdims) : NULL;
  th_fill_uniform (s, 0.5f, 2.0f);
  if (b)
    th_fill_uniform (b, -1.0f, 1.0f);
  int64_t pn = mace_tensor_numel (s);
  ThNode *n = th_node_new ("LayerNormalization", with_b ? 3 : 2, n_out);
  th_attr_int (n, "axis", axis);
  th_attr_float (n, "epsilon", 1e-4f);
  MaceTensor *in[3] = { x, s, b }, *out[3] = { NULL, NULL, NULL };
  if (th_run_op (n, 17, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    MaceTensor *want = th_tensor (dt, ndim, dims);
    int64_t sdims[MACE_MAX_DIMS];
    for (int d = 0; d < ndim; d++)
      sdims[d] = d < a ? dims[d] : 1;
    MaceTensor *wmean = th_tensor (MACE_DTYPE_FLOAT32, ndim, sdims);
    MaceTensor *winv = th_tensor (MACE_DTYPE_FLOAT32, ndim, sdims);
    for (int64_t o = 0; o < outer; o++) {
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < inner; i++)
        sum += get (x, o * inner + i);
      double mean = sum / (double)inner;
      for (int64_t i = 0; i < inner; i++)
        sq += pow (get (x, o * inner + i) - mean, 2);
      double inv = 1.0 / sqrt (sq / (double)inner + (double)1e-4f);
      set_f64 (wmean, o, mean);
      set_f64 (winv, o, inv);
      /* The parameters cover the last scale_ndim dims: index i % pn. */
      for (int64_t i = 0; i < inner; i++)
        set_f64 (want, o * inner + i,
                 (get (x, o * inner + i) - mean) * inv * get (s, i % pn)
                     + (b ? get (b, i % pn) : 0));
    }
    th_check_close (what, out[0], want, tol_for (x), tol_for (x));
    if (n_out > 1)
      th_check_close (what, out[1], wmean, 1e-6, 1e-6);
    if (n_out > 2)
      th_check_close (what, out[2], winv, 1e-6, 1e-6);
    mace_tensor_free (want);
    mace_tensor_free (wmean);
    mace_tensor_free (winv);
  }
  for (int i = 0; i < 3; i++) {
    mace_tensor_free (out[i]);
    mace_tensor_free (in[i]);
  }
  th_node_free (n);
}

static void
test_layernorm (void)
{
  for (int64_t axis = -4; axis < 4; axis++) {
    int a = (int)(axis < 0 ? axis + 4 : axis);
    check_layernorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), axis, 4 - a,
                     true, 3, 1);
    check_layernorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), axis, 4 - a,
                     false, 1, 1);
  }
  /* Scale and B of lower rank than the normalised shape: broadcast. */
  check_layernorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), 1, 1, true, 3, 1);
  check_layernorm (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5), 1, 2, true, 2, 1);
  check_layernorm (MACE_DTYPE_FLOAT64, TH_DIMS (3, 7), -1, 1, true, 3, 1);
  check_layernorm (MACE_DTYPE_FLOAT64, TH_DIMS (3, 7), 0, 1, false, 3, 1);
  check_layernorm (MACE_DTYPE_FLOAT32, TH_DIMS (64, 32, 48), 2, 1, true, 1, 2);
}

/* ---- LpNormalization ------------------------------------------------- */

static void
check_lpnorm (MaceDataType dt, int ndim, const int64_t *dims, int64_t axis,
              int p)
{
  char what[128], shape[64];
  snprintf (what, sizeof what, "LpNormalization %s %s axis=%lld p=%d",
            mace_dtype_name (dt), mace_shape_str (ndim, dims, shape, 64),
            (long long)axis, p);
  int a = (int)(axis < 0 ? axis + ndim : axis);
  int64_t outer = mace_shape_numel (a, dims), len = dims[a];
  int64_t inner = mace_shape_numel (ndim - a - 1, dims + a + 1);
  MaceTensor *x = th_tensor (dt, ndim, dims);
  th_fill_uniform (x, -2.0f, 2.0f);
  ThNode *n = th_node_new ("LpNormalization", 1, 1);
  th_attr_int (n, "axis", axis);
  th_attr_int (n, "p", p);
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (n, 1, in, out, 1) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    MaceTensor *want = th_tensor (dt, ndim, dims);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        double norm = 0;
        for (int64_t k = 0; k < len; k++) {
          double v = get (x, (o * len + k) * inner + i);
          norm += p == 1 ? fabs (v) : v * v;
        }
        if (p == 2)
          norm = sqrt (norm);
        for (int64_t k = 0; k < len; k++) {
          int64_t idx = (o * len + k) * inner + i;
          set_f64 (want, idx, get (x, idx) / norm);
        }
      }
    th_check_close (what, out[0], want, tol_for (x), tol_for (x));
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  th_node_free (n);
}

static void
test_lpnorm (void)
{
  for (int p = 1; p <= 2; p++)
    for (int64_t axis = -3; axis < 3; axis++) {
      check_lpnorm (MACE_DTYPE_FLOAT32, TH_DIMS (3, 4, 5), axis, p);
      check_lpnorm (MACE_DTYPE_FLOAT64, TH_DIMS (2, 6, 3), axis, p);
    }
  /* p = 3 is refused at load time. */
  ThNode *n = th_node_new ("LpNormalization", 1, 1);
  th_attr_int (n, "p", 3);
  char msg[256] = "";
  const MaceOpDef *def = mace_op_lookup ("LpNormalization");
  if (!def || !def->check
      || def->check (&n->node, 1, msg, sizeof msg) != MACE_ERROR_UNSUPPORTED)
    th_fail ("LpNormalization p=3", "not refused");
  th_node_free (n);
}

/* ---- MeanVarianceNormalization ---------------------------------------- */

static void
check_mvn (int ndim, const int64_t *dims, int n_axes, const int64_t *axes,
           int threads)
{
  char what[128], shape[64];
  snprintf (what, sizeof what, "MeanVarianceNormalization %s axes(%d)",
            mace_shape_str (ndim, dims, shape, 64), n_axes);
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, ndim, dims);
  th_fill_uniform (x, -1.0f, 3.0f);
  ThNode *n = th_node_new ("MeanVarianceNormalization", 1, 1);
  static const int64_t def_axes[] = { 0, 2, 3 };
  if (n_axes)
    th_attr_ints (n, "axes", n_axes, axes);
  else {
    axes = def_axes;
    n_axes = 3;
  }
  bool red[MACE_MAX_DIMS] = { false };
  for (int i = 0; i < n_axes; i++)
    red[axes[i] < 0 ? axes[i] + ndim : axes[i]] = true;
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (n, 13, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    int64_t total = mace_tensor_numel (x), n_out = 1;
    for (int d = 0; d < ndim; d++)
      if (!red[d])
        n_out *= dims[d];
    double *sum = calloc ((size_t)n_out, sizeof (double));
    double *sq = calloc ((size_t)n_out, sizeof (double));
    int64_t *slot = malloc (sizeof (int64_t) * (size_t)total);
    int64_t count = total / n_out;
    for (int64_t i = 0; i < total; i++) {
      int64_t rem = i, o = 0, mul = 1;
      for (int d = ndim - 1; d >= 0; d--) {
        int64_t c = rem % dims[d];
        rem /= dims[d];
        if (!red[d]) {
          o += c * mul;
          mul *= dims[d];
        }
      }
      slot[i] = o;
      sum[o] += get (x, i);
    }
    for (int64_t i = 0; i < total; i++)
      sq[slot[i]] += pow (get (x, i) - sum[slot[i]] / (double)count, 2);
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, ndim, dims);
    for (int64_t i = 0; i < total; i++) {
      double mean = sum[slot[i]] / (double)count;
      double sd = sqrt (sq[slot[i]] / (double)count);
      set_f64 (want, i, (get (x, i) - mean) / (sd + 1e-9));
    }
    th_check_close (what, out[0], want, 1e-5, 1e-5);
    mace_tensor_free (want);
    free (sum);
    free (sq);
    free (slot);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  th_node_free (n);
}

static void
test_mvn (void)
{
  int64_t a1[] = { 1 }, a23[] = { 2, 3 }, aneg[] = { -1, 0 };
  check_mvn (TH_DIMS (2, 3, 4, 5), 0, NULL, 1);
  check_mvn (TH_DIMS (2, 3, 4, 5), 1, a1, 1);
  check_mvn (TH_DIMS (2, 3, 4, 5), 2, a23, 1);
  check_mvn (TH_DIMS (2, 3, 4, 5), 2, aneg, 1);
  check_mvn (TH_DIMS (3, 1, 4, 5), 0, NULL, 1);
  check_mvn (TH_DIMS (2, 16, 40, 40), 0, NULL, 2);
}

/* ---- LRN ---------------------------------------------------------------- */

static void
check_lrn (MaceDataType dt, int ndim, const int64_t *dims, int64_t size,
           int threads)
{
  char what[128], shape[64];
  snprintf (what, sizeof what, "LRN %s %s size=%lld", mace_dtype_name (dt),
            mace_shape_str (ndim, dims, shape, 64), (long long)size);
  float alpha = 2e-3f, beta = 0.6f, bias = 1.5f;
  MaceTensor *x = th_tensor (dt, ndim, dims);
  th_fill_uniform (x, -3.0f, 3.0f);
  ThNode *n = th_node_new ("LRN", 1, 1);
  th_attr_int (n, "size", size);
  th_attr_float (n, "alpha", alpha);
  th_attr_float (n, "beta", beta);
  th_attr_float (n, "bias", bias);
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (n, 13, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    int64_t c = dims[1], inner = mace_shape_numel (ndim - 2, dims + 2);
    MaceTensor *want = th_tensor (dt, ndim, dims);
    for (int64_t b = 0; b < dims[0]; b++)
      for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < inner; i++) {
          double sq = 0;
          for (int64_t k = ch - (size - 1) / 2; k <= ch + size / 2; k++)
            if (k >= 0 && k < c)
              sq += pow (get (x, (b * c + k) * inner + i), 2);
          int64_t idx = (b * c + ch) * inner + i;
          set_f64 (want, idx,
                   get (x, idx)
                       / pow ((double)bias + (double)alpha / size * sq,
                              (double)beta));
        }
    th_check_close (what, out[0], want, tol_for (x), tol_for (x));
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (x);
  th_node_free (n);
}

static void
test_lrn (void)
{
  for (int64_t size = 1; size <= 6; size++)
    check_lrn (MACE_DTYPE_FLOAT32, TH_DIMS (2, 5, 3, 4), size, 1);
  check_lrn (MACE_DTYPE_FLOAT64, TH_DIMS (1, 7, 5), 3, 1);
  check_lrn (MACE_DTYPE_FLOAT32, TH_DIMS (2, 32, 24, 24), 5, 2);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_batchnorm ();
  test_instnorm ();
  test_layernorm ();
  test_lpnorm ();
  test_mvn ();
  test_lrn ();
  return th_finish ();
}
