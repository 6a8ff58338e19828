/* SPDX-License-Identifier: Apache-2.0
 * Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax and CumSum against
 * plain reference loops on seeded random inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
set_f64 (MaceTensor *t, int64_t i, double v)
{
  switch (t->dtype) {
    case MACE_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case MACE_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case MACE_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case MACE_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case MACE_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case MACE_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    default: break;
  }
}

static bool
is_float_dtype (MaceDataType t)
{
  return t == MACE_DTYPE_FLOAT32 || t == MACE_DTYPE_FLOAT64;
}

static MaceTensor *
axes_tensor (int n, const int64_t *axes)
{
  int64_t d = n;
  MaceTensor *t = th_tensor (MACE_DTYPE_INT64, 1, &d);
  if (n)
    memcpy (t->data, axes, sizeof (int64_t) * (size_t)n);
  return t;
}

/* ---- Reduce* ---------------------------------------------------------- */

static const char *const reduce_ops[] = {
  "ReduceSum",       "ReduceMean",      "ReduceMax", "ReduceMin",
  "ReduceProd",      "ReduceL1",        "ReduceL2",  "ReduceLogSum",
  "ReduceLogSumExp", "ReduceSumSquare",
};

/* Reference: every input element is folded into its output slot. */
static MaceTensor *
ref_reduce (const char *op, const MaceTensor *x, const bool *red, bool keep)
{
  int64_t odims[MACE_MAX_DIMS];
  int ond = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (!red[d])
      odims[ond++] = x->dims[d];
    else if (keep)
      odims[ond++] = 1;
  }
  MaceTensor *y = th_tensor (x->dtype, ond, odims);
  int64_t n_out = mace_tensor_numel (y), n_in = mace_tensor_numel (x);
  double *acc = calloc ((size_t)n_out + 1, sizeof (double));
  double *mx = calloc ((size_t)n_out + 1, sizeof (double));
  int64_t count = 1;
  for (int d = 0; d < x->ndim; d++)
    if (red[d])
      count *= x->dims[d];
  bool is = false;
  for (int64_t o = 0; o < n_out; o++) {
    if (!strcmp (op, "ReduceProd"))
      acc[o] = 1;
    else if (!strcmp (op, "ReduceMax"))
      acc[o] = -INFINITY;
    else if (!strcmp (op, "ReduceMin"))
      acc[o] = INFINITY;
    mx[o] = -INFINITY;
  }
  /* Two sweeps: the first finds the max for ReduceLogSumExp. */
  for (int sweep = 0; sweep < 2; sweep++) {
    is = sweep == 1;
    for (int64_t i = 0; i < n_in; i++) {
      int64_t rem = i, o = 0, mul = 1;
      for (int d = x->ndim - 1; d >= 0; d--) {
        int64_t c = rem % x->dims[d];
        rem /= x->dims[d];
        if (!red[d]) {
          o += c * mul;
          mul *= x->dims[d];
        }
      }
      double v = mace_tensor_get_f64 (x, i);
      if (!is) {
        if (v > mx[o])
          mx[o] = v;
        continue;
      }
      if (!strcmp (op, "ReduceSum") || !strcmp (op, "ReduceMean")
          || !strcmp (op, "ReduceLogSum"))
        acc[o] += v;
      else if (!strcmp (op, "ReduceMax"))
        acc[o] = v > acc[o] ? v : acc[o];
      else if (!strcmp (op, "ReduceMin"))
        acc[o] = v < acc[o] ? v : acc[o];
      else if (!strcmp (op, "ReduceProd"))
        acc[o] *= v;
      else if (!strcmp (op, "ReduceL1"))
        acc[o] += fabs (v);
      else if (!strcmp (op, "ReduceL2") || !strcmp (op, "ReduceSumSquare"))
        acc[o] += v * v;
      else if (!strcmp (op, "ReduceLogSumExp"))
        acc[o] += exp (v - mx[o]);
    }
  }
  for (int64_t o = 0; o < n_out; o++) {
    double v = acc[o];
    if (!strcmp (op, "ReduceMean"))
      v = is_float_dtype (x->dtype) ? v / (double)count
                                    : (double)((int64_t)v / count);
    else if (!strcmp (op, "ReduceL2"))
      v = sqrt (v);
    else if (!strcmp (op, "ReduceLogSum"))
      v = log (v);
    else if (!strcmp (op, "ReduceLogSumExp"))
      v = isinf (mx[o]) ? mx[o] : mx[o] + log (v);
    set_f64 (y, o, v);
  }
  free (acc);
  free (mx);
  return y;
}

/* One Reduce* case.  axes_as_input: pass axes as input 1 (opset 13 for
 * ReduceSum, 18 for the others) rather than as the attribute. */
static void
check_reduce (const char *op, MaceTensor *x, int n_axes, const int64_t *axes,
              int keep, bool axes_as_input, bool noop, int threads)
{
  char what[256];
  snprintf (what, sizeof what, "%s %s axes(%d)%s%s keep=%d%s", op,
            mace_dtype_name (x->dtype), n_axes, n_axes > 0 ? " first " : "",
            n_axes > 0 ? (axes[0] < 0 ? "neg" : "pos") : "", keep,
            axes_as_input ? " input" : " attr");
  int64_t opset = axes_as_input ? (strcmp (op, "ReduceSum") ? 18 : 13)
                                : (strcmp (op, "ReduceSum") ? 13 : 11);
  ThNode *n = th_node_new (op, axes_as_input ? 2 : 1, 1);
  MaceTensor *at = NULL;
  if (axes_as_input)
    at = axes_tensor (n_axes, axes);
  else if (n_axes)
    th_attr_ints (n, "axes", n_axes, axes);
  if (keep >= 0)
    th_attr_int (n, "keepdims", keep);
  if (noop)
    th_attr_int (n, "noop_with_empty_axes", 1);
  MaceTensor *in[2] = { x, at }, *out[1] = { NULL };
  MaceStatus st = th_run_op (n, opset, in, out, threads);
  if (st != MACE_OK) {
    th_fail (what, "status %s", mace_status_to_string (st));
  } else {
    MaceTensor *want;
    if (noop && n_axes == 0) {
      want = th_tensor (x->dtype, x->ndim, x->dims);
      memcpy (want->data, x->data, mace_tensor_nbytes (x));
    } else {
      bool red[MACE_MAX_DIMS] = { false };
      for (int d = 0; d < x->ndim; d++)
        red[d] = n_axes == 0;
      for (int i = 0; i < n_axes; i++)
        red[axes[i] < 0 ? axes[i] + x->ndim : axes[i]] = true;
      want = ref_reduce (op, x, red, keep != 0);
    }
    double tol = x->dtype == MACE_DTYPE_FLOAT32 ? 1e-5 : 1e-12;
    th_check_close (what, out[0], want, tol, tol);
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (at);
  th_node_free (n);
}

static void
test_reduce_all (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5));
  MaceTensor *pos = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5));
  th_fill_uniform (x, -2.0f, 2.0f);
  th_fill_uniform (pos, 0.1f, 2.0f);
  static const struct {
    int n;
    int64_t axes[4];
  } sets[] = {
    { 0, { 0 } },       { 1, { 1 } },          { 1, { -1 } },
    { 2, { 0, 2 } },    { 2, { 1, 3 } },       { 2, { -3, -2 } },
    { 3, { 0, 1, 3 } }, { 4, { 0, 1, 2, 3 } }, { 1, { 0 } },
  };
  for (size_t o = 0; o < sizeof reduce_ops / sizeof *reduce_ops; o++) {
    const char *op = reduce_ops[o];
    MaceTensor *in = !strcmp (op, "ReduceLogSum") ? pos : x;
    for (size_t s = 0; s < sizeof sets / sizeof *sets; s++)
      for (int keep = 0; keep < 2; keep++) {
        check_reduce (op, in, sets[s].n, sets[s].axes, keep, false, false, 1);
        check_reduce (op, in, sets[s].n, sets[s].axes, keep, true, false, 1);
      }
    /* keepdims left at its default (1). */
    check_reduce (op, in, sets[1].n, sets[1].axes, -1, false, false, 1);
    /* Empty axes input with noop_with_empty_axes: identity. */
    check_reduce (op, in, 0, NULL, 1, true, true, 1);
  }
  mace_tensor_free (x);
  mace_tensor_free (pos);

  /* Float64, integers, and a large tensor on the thread pool. */
  MaceTensor *d = th_tensor (MACE_DTYPE_FLOAT64, TH_DIMS (3, 4, 5));
  th_fill_uniform (d, -3.0f, 3.0f);
  MaceTensor *i32 = th_tensor (MACE_DTYPE_INT32, TH_DIMS (3, 4, 5));
  th_fill_uniform (i32, -100.0f, 100.0f);
  MaceTensor *i64 = th_tensor (MACE_DTYPE_INT64, TH_DIMS (3, 4, 5));
  th_fill_uniform (i64, -1000.0f, 1000.0f);
  MaceTensor *u8 = th_tensor (MACE_DTYPE_UINT8, TH_DIMS (3, 4, 5));
  th_fill_uniform (u8, 0.0f, 10.0f);
  int64_t a1[] = { 1 }, a02[] = { 0, 2 }, a0_wide[] = { 0 };
  for (size_t o = 0; o < sizeof reduce_ops / sizeof *reduce_ops; o++) {
    check_reduce (reduce_ops[o], d, 1, a1, 1, false, false, 1);
    check_reduce (reduce_ops[o], d, 2, a02, 0, false, false, 1);
  }
  const char *int_ops[] = { "ReduceSum", "ReduceMean", "ReduceMax",
                            "ReduceMin", "ReduceL1",   "ReduceSumSquare" };
  for (size_t o = 0; o < sizeof int_ops / sizeof *int_ops; o++) {
    check_reduce (int_ops[o], i32, 1, a1, 1, false, false, 1);
    check_reduce (int_ops[o], i64, 2, a02, 0, false, false, 1);
    check_reduce (int_ops[o], u8, 0, NULL, 0, false, false, 1);
  }
  mace_tensor_free (d);
  mace_tensor_free (i32);
  mace_tensor_free (i64);
  mace_tensor_free (u8);

  /* Innermost dim kept and wide: the column path, chunk edges included. */
  MaceTensor *cols = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 5, 130));
  MaceTensor *colsp = th_tensor (MACE_DTYPE_FLOAT64, TH_DIMS (3, 5, 20));
  th_fill_uniform (cols, -2.0f, 2.0f);
  th_fill_uniform (colsp, 0.1f, 2.0f);
  int64_t a01[] = { 0, 1 };
  for (size_t o = 0; o < sizeof reduce_ops / sizeof *reduce_ops; o++) {
    bool lg = !strcmp (reduce_ops[o], "ReduceLogSum");
    MaceTensor *t = lg ? colsp : cols;
    for (int keep = 0; keep < 2; keep++) {
      check_reduce (reduce_ops[o], t, 1, a1, keep, false, false, 1);
      check_reduce (reduce_ops[o], t, 2, a01, keep, false, false, 1);
      check_reduce (reduce_ops[o], colsp, 1, a1, keep, false, false, 1);
    }
  }
  mace_tensor_free (cols);
  mace_tensor_free (colsp);
  MaceTensor *wide = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (64, 600));
  th_fill_uniform (wide, -1.0f, 1.0f);
  check_reduce ("ReduceSum", wide, 1, a0_wide, 0, false, false, 2);
  check_reduce ("ReduceLogSumExp", wide, 1, a0_wide, 1, false, false, 2);
  mace_tensor_free (wide);

  MaceTensor *big = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (16, 40, 64));
  th_fill_uniform (big, -1.0f, 1.0f);
  int64_t a0[] = { 0 }, a2[] = { 2 };
  check_reduce ("ReduceSum", big, 1, a0, 1, true, false, 2);
  check_reduce ("ReduceMean", big, 1, a2, 0, false, false, 2);
  check_reduce ("ReduceMax", big, 2, a02, 1, false, false, 2);
  check_reduce ("ReduceLogSumExp", big, 1, a1, 0, false, false, 2);
  mace_tensor_free (big);
}

/* Reductions over an empty set give the op's identity (0 for sums, 1 for
 * the product, -inf / +inf for max / min, -inf for the logs). */
static void
test_reduce_empty (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 0, 4));
  int64_t a1[] = { 1 };
  for (size_t o = 0; o < sizeof reduce_ops / sizeof *reduce_ops; o++) {
    if (!strcmp (reduce_ops[o], "ReduceMean"))
      continue; /* 0/0 */
    check_reduce (reduce_ops[o], x, 1, a1, 1, true, false, 1);
  }
  mace_tensor_free (x);
}

/* ---- ArgMax / ArgMin --------------------------------------------------- */

static void
check_arg (const char *op, MaceTensor *x, int64_t axis, int keep, int last)
{
  char what[160];
  snprintf (what, sizeof what, "%s %s axis=%lld keep=%d last=%d", op,
            mace_dtype_name (x->dtype), (long long)axis, keep, last);
  ThNode *n = th_node_new (op, 1, 1);
  th_attr_int (n, "axis", axis);
  th_attr_int (n, "keepdims", keep);
  th_attr_int (n, "select_last_index", last);
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (n, 13, in, out, 1) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    int a = (int)(axis < 0 ? axis + x->ndim : axis);
    int64_t outer = mace_shape_numel (a, x->dims), len = x->dims[a];
    int64_t inner = mace_shape_numel (x->ndim - a - 1, x->dims + a + 1);
    int64_t dims[MACE_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++)
      if (d != a || keep)
        dims[nd++] = d == a ? 1 : x->dims[d];
    MaceTensor *want = th_tensor (MACE_DTYPE_INT64, nd, dims);
    bool is_max = !strcmp (op, "ArgMax");
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = 0;
        double best = mace_tensor_get_f64 (x, o * len * inner + i);
        for (int64_t k = 1; k < len; k++) {
          double v = mace_tensor_get_f64 (x, (o * len + k) * inner + i);
          if ((is_max && (v > best || (last && v == best)))
              || (!is_max && (v < best || (last && v == best)))) {
            best = v;
            at = k;
          }
        }
        ((int64_t *)want->data)[o * inner + i] = at;
      }
    th_check_close (what, out[0], want, 0, 0);
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  th_node_free (n);
}

static void
test_arg (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 4, 5));
  th_fill_uniform (x, -1.0f, 1.0f);
  /* Small integers: many ties, so select_last_index matters. */
  MaceTensor *t = th_tensor (MACE_DTYPE_INT32, TH_DIMS (3, 4, 5));
  th_fill_uniform (t, 0.0f, 3.0f);
  const char *ops[] = { "ArgMax", "ArgMin" };
  for (int o = 0; o < 2; o++)
    for (int64_t axis = -3; axis < 3; axis++)
      for (int keep = 0; keep < 2; keep++)
        for (int last = 0; last < 2; last++) {
          check_arg (ops[o], x, axis, keep, last);
          check_arg (ops[o], t, axis, keep, last);
        }
  mace_tensor_free (x);
  mace_tensor_free (t);
}

/* ---- Softmax family ---------------------------------------------------- */

static void
check_softmax (const char *op, MaceTensor *x, int64_t opset, bool has_axis,
               int64_t axis, int threads)
{
  char what[160];
  snprintf (what, sizeof what, "%s %s opset=%lld axis=%s%lld", op,
            mace_dtype_name (x->dtype), (long long)opset,
            has_axis ? "" : "default ", (long long)axis);
  ThNode *n = th_node_new (op, 1, 1);
  if (has_axis)
    th_attr_int (n, "axis", axis);
  else
    axis = opset < 13 ? 1 : -1;
  MaceTensor *in[1] = { x }, *out[1] = { NULL };
  if (th_run_op (n, opset, in, out, threads) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    int a = (int)(axis < 0 ? axis + x->ndim : axis);
    int64_t outer = mace_shape_numel (a, x->dims), len, inner;
    if (opset < 13) {
      len = mace_shape_numel (x->ndim - a, x->dims + a);
      inner = 1;
    } else {
      len = x->dims[a];
      inner = mace_shape_numel (x->ndim - a - 1, x->dims + a + 1);
    }
    MaceTensor *want = th_tensor (x->dtype, x->ndim, x->dims);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) {
        double mx = -INFINITY, sum = 0;
        int64_t at = 0;
        for (int64_t k = 0; k < len; k++) {
          double v = mace_tensor_get_f64 (x, (o * len + k) * inner + i);
          if (v > mx) {
            mx = v;
            at = k;
          }
        }
        for (int64_t k = 0; k < len; k++)
          sum += exp (mace_tensor_get_f64 (x, (o * len + k) * inner + i) - mx);
        for (int64_t k = 0; k < len; k++) {
          int64_t idx = (o * len + k) * inner + i;
          double v = mace_tensor_get_f64 (x, idx), r;
          if (!strcmp (op, "Softmax"))
            r = exp (v - mx) / sum;
          else if (!strcmp (op, "LogSoftmax"))
            r = v - mx - log (sum);
          else
            r = k == at;
          set_f64 (want, idx, r);
        }
      }
    th_check_close (what, out[0], want, 1e-5, 1e-6);
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  th_node_free (n);
}

static void
test_softmax (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 70));
  th_fill_uniform (x, -5.0f, 5.0f);
  /* Large values: only a stable implementation stays finite. */
  MaceTensor *big = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 5));
  th_fill_uniform (big, 1000.0f, 1010.0f);
  MaceTensor *d = th_tensor (MACE_DTYPE_FLOAT64, TH_DIMS (4, 6));
  th_fill_uniform (d, -3.0f, 3.0f);
  /* Masked entries (-inf) must give exactly 0 (Softmax) / -inf. */
  MaceTensor *mask = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (4, 37));
  th_fill_uniform (mask, -100.0f, 3.0f);
  for (int64_t i = 0; i < 4 * 37; i += 3)
    ((float *)mask->data)[i] = -INFINITY;
  const char *ops[] = { "Softmax", "LogSoftmax", "Hardmax" };
  for (int o = 0; o < 3; o++) {
    check_softmax (ops[o], mask, 13, false, 0, 1);
    check_softmax (ops[o], mask, 13, true, 0, 1);
    for (int64_t axis = -4; axis < 4; axis++) {
      check_softmax (ops[o], x, 11, true, axis, 1);
      check_softmax (ops[o], x, 13, true, axis, 1);
    }
    check_softmax (ops[o], x, 11, true, 4, 1);
    check_softmax (ops[o], x, 11, false, 0, 1);
    check_softmax (ops[o], x, 13, false, 0, 1);
    check_softmax (ops[o], x, 13, true, 1, 2);
    check_softmax (ops[o], big, 13, false, 0, 1);
    check_softmax (ops[o], big, 1, false, 0, 1);
    check_softmax (ops[o], d, 13, true, 0, 1);
  }
  mace_tensor_free (x);
  mace_tensor_free (big);
  mace_tensor_free (d);
  mace_tensor_free (mask);
}

/* ---- CumSum ------------------------------------------------------------ */

static void
check_cumsum (MaceTensor *x, int64_t axis, int excl, int rev)
{
  char what[160];
  snprintf (what, sizeof what, "CumSum %s axis=%lld exclusive=%d reverse=%d",
            mace_dtype_name (x->dtype), (long long)axis, excl, rev);
  ThNode *n = th_node_new ("CumSum", 2, 1);
  th_attr_int (n, "exclusive", excl);
  th_attr_int (n, "reverse", rev);
  MaceTensor *at = th_tensor (MACE_DTYPE_INT32, 0, NULL);
  *(int32_t *)at->data = (int32_t)axis;
  MaceTensor *in[2] = { x, at }, *out[1] = { NULL };
  if (th_run_op (n, 14, in, out, 1) != MACE_OK) {
    th_fail (what, "run failed");
  } else {
    int a = (int)(axis < 0 ? axis + x->ndim : axis);
    int64_t outer = mace_shape_numel (a, x->dims), len = x->dims[a];
    int64_t inner = mace_shape_numel (x->ndim - a - 1, x->dims + a + 1);
    MaceTensor *want = th_tensor (x->dtype, x->ndim, x->dims);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++)
        for (int64_t k = 0; k < len; k++) {
          double s = 0;
          for (int64_t m = 0; m < len; m++) {
            bool in_sum
                = rev ? (excl ? m > k : m >= k) : (excl ? m < k : m <= k);
            if (in_sum)
              s += mace_tensor_get_f64 (x, (o * len + m) * inner + i);
          }
          set_f64 (want, (o * len + k) * inner + i, s);
        }
    th_check_close (what, out[0], want, 1e-5, 1e-5);
    mace_tensor_free (want);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (at);
  th_node_free (n);
}

static void
test_cumsum (void)
{
  MaceTensor *f = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 4, 5));
  th_fill_uniform (f, -1.0f, 1.0f);
  MaceTensor *d = th_tensor (MACE_DTYPE_FLOAT64, TH_DIMS (6));
  th_fill_uniform (d, -1.0f, 1.0f);
  MaceTensor *i = th_tensor (MACE_DTYPE_INT32, TH_DIMS (4, 7));
  th_fill_uniform (i, -50.0f, 50.0f);
  for (int excl = 0; excl < 2; excl++)
    for (int rev = 0; rev < 2; rev++) {
      for (int64_t axis = -3; axis < 3; axis++)
        check_cumsum (f, axis, excl, rev);
      check_cumsum (d, 0, excl, rev);
      check_cumsum (i, 1, excl, rev);
      check_cumsum (i, -2, excl, rev);
    }
  mace_tensor_free (f);
  mace_tensor_free (d);
  mace_tensor_free (i);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_reduce_all ();
  test_reduce_empty ();
  test_arg ();
  test_softmax ();
  test_cumsum ();
  return th_finish ();
}
