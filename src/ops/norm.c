/* SPDX-License-Identifier: Apache-2.0
 * Normalisations: BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization, LpNormalization, MeanVarianceNormalization, LRN.
 *
 * float32 and float64; statistics are accumulated in double (two passes:
 * mean, then the sum of squared deviations) so large offsets do not cost
 * precision. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Below this many elements a kernel runs on the calling thread. */
#define PARALLEL_MIN 32768

static int
norm_axis (int64_t axis, int ndim)
{
  if (axis < 0)
    axis += ndim;
  return axis >= 0 && axis < ndim ? (int)axis : -1;
}

static MaceStatus
need_float (MaceOpCtx *ctx, const MaceTensor *t, const char *what)
{
  if (t->dtype == MACE_DTYPE_FLOAT32 || t->dtype == MACE_DTYPE_FLOAT64)
    return MACE_OK;
  return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "%s type %s", what,
                       mace_dtype_name (t->dtype));
}

static void
run_range (MaceThreadPool *pool, int64_t work, int64_t n, MaceRangeFunc fn,
           void *arg)
{
  if (n <= 0)
    return;
  if (work >= PARALLEL_MIN && n > 1)
    mace_parallel_for (pool, n, fn, arg);
  else
    fn (arg, 0, n);
}

/* y[i] = x[i] * a + b over n elements at element offset off. */
static void
affine (const MaceTensor *x, MaceTensor *y, int64_t off, int64_t n, double a,
        double b)
{
  if (x->dtype == MACE_DTYPE_FLOAT32) {
    const float *xp = (const float *)x->data + off;
    float *yp = (float *)y->data + off;
    float fa = (float)a, fb = (float)b;
    for (int64_t i = 0; i < n; i++)
      yp[i] = xp[i] * fa + fb;
  } else {
    const double *xp = (const double *)x->data + off;
    double *yp = (double *)y->data + off;
    for (int64_t i = 0; i < n; i++)
      yp[i] = xp[i] * a + b;
  }
}

/* Mean and population variance of n contiguous elements at off. */
static void
moments (const MaceTensor *x, int64_t off, int64_t n, double *mean, double *var)
{
  double s = 0, q = 0;
  if (x->dtype == MACE_DTYPE_FLOAT32) {
    const float *p = (const float *)x->data + off;
    for (int64_t i = 0; i < n; i++)
      s += p[i];
    double m = n ? s / (double)n : 0;
    for (int64_t i = 0; i < n; i++)
      q += (p[i] - m) * (p[i] - m);
    *mean = m;
  } else {
    const double *p = (const double *)x->data + off;
    for (int64_t i = 0; i < n; i++)
      s += p[i];
    double m = n ? s / (double)n : 0;
    for (int64_t i = 0; i < n; i++)
      q += (p[i] - m) * (p[i] - m);
    *mean = m;
  }
  *var = n ? q / (double)n : 0;
}

static void
set_f64 (MaceTensor *t, int64_t i, double v)
{
  if (t->dtype == MACE_DTYPE_FLOAT32)
    ((float *)t->data)[i] = (float)v;
  else
    ((double *)t->data)[i] = v;
}

/* ---- BatchNormalization ------------------------------------------------ */

static MaceStatus
bn_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  if (mace_attr_int (node, "training_mode", 0) != 0) {
    snprintf (msg, len, "training_mode=1 is not supported (inference only)");
    return MACE_ERROR_UNSUPPORTED;
  }
  if (node->n_out > 1) {
    snprintf (msg, len,
              "the running / saved statistics outputs exist in training "
              "mode only, which is not supported (opset %lld)",
              (long long)opset);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (node->n_in != 5) {
    snprintf (msg, len, "needs 5 inputs, got %d", node->n_in);
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

static MaceStatus
bn_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceStatus st = need_float (ctx, x, "input");
  if (st != MACE_OK)
    return st;
  if (ctx->n_in < 5)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "needs 5 inputs");
  if (x->ndim < 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "input must be N x C x ..., got rank %d", x->ndim);
  int64_t c = x->dims[1];
  int64_t inner = mace_shape_numel (x->ndim - 2, x->dims + 2);
  for (int i = 1; i < 5; i++) {
    const MaceTensor *p = ctx->in[i];
    if (!p)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "input %d missing",
                           i);
    st = need_float (ctx, p, "parameter");
    if (st != MACE_OK)
      return st;
    int64_t n = mace_tensor_numel (p);
    /* Per channel, or per C x D1 x ... element (spatial=0, opset < 9). */
    if (n != c && n != c * inner)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "input %d has %lld elements; want %lld (C)", i,
                           (long long)n, (long long)c);
  }
  return mace_infer_same_as_input0 (ctx);
}

typedef struct {
  MaceTensor *const *in;
  MaceTensor *y;
  int64_t c, inner;
  double eps;
} BnJob;

static void
bn_range (void *arg, int64_t begin, int64_t end)
{
  const BnJob *j = arg;
  const MaceTensor *s = j->in[1], *b = j->in[2], *m = j->in[3], *v = j->in[4];
  for (int64_t item = begin; item < end; item++) {
    int64_t c = item % j->c, off = item * j->inner;
    if (mace_tensor_numel (s) == j->c && mace_tensor_numel (b) == j->c
        && mace_tensor_numel (m) == j->c && mace_tensor_numel (v) == j->c) {
      double a = mace_tensor_get_f64 (s, c)
                 / sqrt (mace_tensor_get_f64 (v, c) + j->eps);
      affine (j->in[0], j->y, off, j->inner, a,
              mace_tensor_get_f64 (b, c) - mace_tensor_get_f64 (m, c) * a);
      continue;
    }
    /* spatial=0: one set of parameters per element of C x D1 x ... */
    for (int64_t i = 0; i < j->inner; i++) {
      int64_t p = c * j->inner + i;
      int64_t ps = mace_tensor_numel (s) == j->c ? c : p;
      int64_t pb = mace_tensor_numel (b) == j->c ? c : p;
      int64_t pm = mace_tensor_numel (m) == j->c ? c : p;
      int64_t pv = mace_tensor_numel (v) == j->c ? c : p;
      double a = mace_tensor_get_f64 (s, ps)
                 / sqrt (mace_tensor_get_f64 (v, pv) + j->eps);
      double xv = mace_tensor_get_f64 (j->in[0], off + i);
      set_f64 (j->y, off + i,
               (xv - mace_tensor_get_f64 (m, pm)) * a
                   + mace_tensor_get_f64 (b, pb));
    }
  }
}

static MaceStatus
bn_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  BnJob job = { ctx->in, ctx->out[0], x->dims[1],
                mace_shape_numel (x->ndim - 2, x->dims + 2),
                mace_attr_float (ctx->node, "epsilon", 1e-5f) };
  run_range (ctx->pool, mace_tensor_numel (x), x->dims[0] * job.c, bn_range,
             &job);
  return MACE_OK;
}

/* ---- InstanceNormalization ---------------------------------------------- */

static MaceStatus
in_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceStatus st = need_float (ctx, x, "input");
  if (st != MACE_OK)
    return st;
  if (ctx->n_in < 3 || !ctx->in[1] || !ctx->in[2])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "needs input, scale and B");
  if (x->ndim < 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "input must be N x C x ..., got rank %d", x->ndim);
  for (int i = 1; i < 3; i++) {
    st = need_float (ctx, ctx->in[i], "parameter");
    if (st != MACE_OK)
      return st;
    if (mace_tensor_numel (ctx->in[i]) != x->dims[1])
      return mace_op_fail (
          ctx, MACE_ERROR_SHAPE, "input %d has %lld elements; want C = %lld", i,
          (long long)mace_tensor_numel (ctx->in[i]), (long long)x->dims[1]);
  }
  return mace_infer_same_as_input0 (ctx);
}

typedef struct {
  MaceTensor *const *in;
  MaceTensor *y;
  int64_t c, inner;
  double eps;
} InJob;

static void
in_range (void *arg, int64_t begin, int64_t end)
{
  const InJob *j = arg;
  for (int64_t item = begin; item < end; item++) {
    int64_t c = item % j->c, off = item * j->inner;
    double mean, var;
    moments (j->in[0], off, j->inner, &mean, &var);
    double a = mace_tensor_get_f64 (j->in[1], c) / sqrt (var + j->eps);
    affine (j->in[0], j->y, off, j->inner, a,
            mace_tensor_get_f64 (j->in[2], c) - mean * a);
  }
}

static MaceStatus
in_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  InJob job = { ctx->in, ctx->out[0], x->dims[1],
                mace_shape_numel (x->ndim - 2, x->dims + 2),
                mace_attr_float (ctx->node, "epsilon", 1e-5f) };
  run_range (ctx->pool, mace_tensor_numel (x), x->dims[0] * job.c, in_range,
             &job);
  return MACE_OK;
}

/* ---- LayerNormalization -------------------------------------------------- */

static MaceStatus
ln_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  int64_t stash = mace_attr_int (node, "stash_type", MACE_DTYPE_FLOAT32);
  if (stash != MACE_DTYPE_FLOAT32 && stash != MACE_DTYPE_FLOAT64) {
    snprintf (msg, len, "stash_type %lld is not supported", (long long)stash);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

/* Scale and B broadcast (numpy rules, right-aligned) to X's dims from
 * `axis` on. */
static bool
ln_param_ok (const MaceTensor *p, const MaceTensor *x, int axis)
{
  int nn = x->ndim - axis;
  if (p->ndim > nn)
    return false;
  for (int i = 0; i < p->ndim; i++) {
    int64_t pd = p->dims[p->ndim - 1 - i], xd = x->dims[x->ndim - 1 - i];
    if (pd != xd && pd != 1)
      return false;
  }
  return true;
}

static MaceStatus
ln_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceStatus st = need_float (ctx, x, "input");
  if (st != MACE_OK)
    return st;
  int axis = norm_axis (mace_attr_int (ctx->node, "axis", -1), x->ndim);
  if (axis < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis out of range for rank %d", x->ndim);
  if (ctx->n_in < 2 || !ctx->in[1])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "Scale missing");
  for (int i = 1; i < 3 && i < ctx->n_in; i++) {
    if (!ctx->in[i])
      continue;
    st = need_float (ctx, ctx->in[i], i == 1 ? "Scale" : "B");
    if (st != MACE_OK)
      return st;
    if (!ln_param_ok (ctx->in[i], x, axis)) {
      char a[64], b[64];
      return mace_op_fail (
          ctx, MACE_ERROR_SHAPE, "%s shape %s does not broadcast to %s",
          i == 1 ? "Scale" : "B",
          mace_shape_str (ctx->in[i]->ndim, ctx->in[i]->dims, a, sizeof a),
          mace_shape_str (x->ndim - axis, x->dims + axis, b, sizeof b));
    }
  }
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, x->dims);
  MaceDataType stash = (MaceDataType)mace_attr_int (ctx->node, "stash_type",
                                                    MACE_DTYPE_FLOAT32);
  int64_t dims[MACE_MAX_DIMS];
  for (int d = 0; d < x->ndim; d++)
    dims[d] = d < axis ? x->dims[d] : 1;
  for (int i = 1; i < ctx->n_out && i < 3; i++)
    mace_tensor_init (ctx->out[i], stash, x->ndim, dims);
  return MACE_OK;
}

typedef struct {
  const MaceTensor *x, *scale, *bias;
  MaceTensor *y, *mean, *inv;
  int64_t inner;
  int axis;
  bool direct; /* scale and bias (if any) hold `inner` elements each */
  double eps;
} LnJob;

/* Index into a parameter broadcast over X's dims [axis, ndim). */
static int64_t
ln_param_index (const MaceTensor *p, const MaceTensor *x, int64_t j)
{
  int64_t idx = 0, mul = 1;
  for (int i = 0; i < p->ndim; i++) {
    int64_t xd = x->dims[x->ndim - 1 - i], pd = p->dims[p->ndim - 1 - i];
    int64_t c = j % xd;
    j /= xd;
    if (pd != 1)
      idx += c * mul;
    mul *= pd;
  }
  return idx;
}

static void
ln_range (void *arg, int64_t begin, int64_t end)
{
  const LnJob *j = arg;
  for (int64_t r = begin; r < end; r++) {
    int64_t off = r * j->inner;
    double mean, var;
    moments (j->x, off, j->inner, &mean, &var);
    double inv = 1.0 / sqrt (var + j->eps);
    if (j->mean)
      set_f64 (j->mean, r, mean);
    if (j->inv)
      set_f64 (j->inv, r, inv);
    if (j->direct && j->x->dtype == MACE_DTYPE_FLOAT32
        && j->scale->dtype == MACE_DTYPE_FLOAT32
        && (!j->bias || j->bias->dtype == MACE_DTYPE_FLOAT32)) {
      const float *xp = (const float *)j->x->data + off;
      const float *sp = j->scale->data;
      const float *bp = j->bias ? j->bias->data : NULL;
      float *yp = (float *)j->y->data + off;
      float fm = (float)mean, fi = (float)inv;
      for (int64_t i = 0; i < j->inner; i++)
        yp[i] = (xp[i] - fm) * fi * sp[i] + (bp ? bp[i] : 0.0f);
      continue;
    }
    for (int64_t i = 0; i < j->inner; i++) {
      int64_t si = j->direct ? i : ln_param_index (j->scale, j->x, i);
      double b = 0;
      if (j->bias)
        b = mace_tensor_get_f64 (
            j->bias, j->direct ? i : ln_param_index (j->bias, j->x, i));
      double xv = mace_tensor_get_f64 (j->x, off + i);
      set_f64 (j->y, off + i,
               (xv - mean) * inv * mace_tensor_get_f64 (j->scale, si) + b);
    }
  }
}

static MaceStatus
ln_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  int axis = norm_axis (mace_attr_int (ctx->node, "axis", -1), x->ndim);
  LnJob job = { 0 };
  job.x = x;
  job.scale = ctx->in[1];
  job.bias = ctx->n_in > 2 ? ctx->in[2] : NULL;
  job.y = ctx->out[0];
  job.mean = ctx->n_out > 1 ? ctx->out[1] : NULL;
  job.inv = ctx->n_out > 2 ? ctx->out[2] : NULL;
  job.axis = axis;
  job.inner = mace_shape_numel (x->ndim - axis, x->dims + axis);
  job.eps = mace_attr_float (ctx->node, "epsilon", 1e-5f);
  job.direct = mace_tensor_numel (job.scale) == job.inner
               && (!job.bias || mace_tensor_numel (job.bias) == job.inner);
  int64_t outer = mace_shape_numel (axis, x->dims);
  run_range (ctx->pool, mace_tensor_numel (x), outer, ln_range, &job);
  return MACE_OK;
}

/* ---- LpNormalization ----------------------------------------------------- */

static MaceStatus
lp_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  int64_t p = mace_attr_int (node, "p", 2);
  if (p != 1 && p != 2) {
    snprintf (msg, len, "p=%lld; only 1 and 2 are defined", (long long)p);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
lp_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceStatus st = need_float (ctx, x, "input");
  if (st != MACE_OK)
    return st;
  if (x->ndim > 0
      && norm_axis (mace_attr_int (ctx->node, "axis", -1), x->ndim) < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis out of range for rank %d", x->ndim);
  return mace_infer_same_as_input0 (ctx);
}

typedef struct {
  const MaceTensor *x;
  MaceTensor *y;
  int64_t n, inner;
  int p;
} LpJob;

/* One item: one (outer, inner) column along the axis.  A zero norm gives
 * zeros rather than NaN. */
static void
lp_range (void *arg, int64_t begin, int64_t end)
{
  const LpJob *j = arg;
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / j->inner, i = item % j->inner;
    int64_t base = o * j->n * j->inner + i;
    double s = 0;
    for (int64_t k = 0; k < j->n; k++) {
      double v = mace_tensor_get_f64 (j->x, base + k * j->inner);
      s += j->p == 1 ? fabs (v) : v * v;
    }
    double norm = j->p == 1 ? s : sqrt (s);
    double scale = norm > 0 ? 1.0 / norm : 0.0;
    for (int64_t k = 0; k < j->n; k++) {
      int64_t idx = base + k * j->inner;
      set_f64 (j->y, idx, mace_tensor_get_f64 (j->x, idx) * scale);
    }
  }
}

static MaceStatus
lp_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  LpJob job = { x, ctx->out[0], 1, 1, (int)mace_attr_int (ctx->node, "p", 2) };
  int64_t outer = 1;
  if (x->ndim > 0) {
    int axis = norm_axis (mace_attr_int (ctx->node, "axis", -1), x->ndim);
    outer = mace_shape_numel (axis, x->dims);
    job.n = x->dims[axis];
    job.inner = mace_shape_numel (x->ndim - axis - 1, x->dims + axis + 1);
  }
  run_range (ctx->pool, mace_tensor_numel (x), outer * job.inner, lp_range,
             &job);
  return MACE_OK;
}

/* ---- MeanVarianceNormalization --------------------------------------------
 */

/* Kept and normalised dims with adjacent dims of the same kind merged. */
typedef struct {
  const MaceTensor *x;
  MaceTensor *y;
  int nk, nr;
  int64_t kdim[MACE_MAX_DIMS], kstr[MACE_MAX_DIMS];
  int64_t rdim[MACE_MAX_DIMS], rstr[MACE_MAX_DIMS];
  int64_t rcount;
} MvnJob;

static MaceStatus
mvn_axes (MaceOpCtx *ctx, bool red[MACE_MAX_DIMS])
{
  const MaceTensor *x = ctx->in[0];
  static const int64_t def_axes[] = { 0, 2, 3 };
  int n = 0;
  const int64_t *axes = mace_attr_ints (ctx->node, "axes", &n);
  if (!axes) {
    axes = def_axes;
    n = 3;
  }
  for (int d = 0; d < MACE_MAX_DIMS; d++)
    red[d] = false;
  for (int i = 0; i < n; i++) {
    int d = norm_axis (axes[i], x->ndim);
    if (d < 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "axis %lld out of range for rank %d",
                           (long long)axes[i], x->ndim);
    red[d] = true;
  }
  return MACE_OK;
}

static MaceStatus
mvn_infer (MaceOpCtx *ctx)
{
  bool red[MACE_MAX_DIMS];
  MaceStatus st = need_float (ctx, ctx->in[0], "input");
  if (st != MACE_OK)
    return st;
  st = mvn_axes (ctx, red);
  if (st != MACE_OK)
    return st;
  return mace_infer_same_as_input0 (ctx);
}

static inline int64_t
mvn_base (const MvnJob *j, int64_t o)
{
  int64_t off = 0;
  for (int i = j->nk - 1; i >= 0; i--) {
    off += (o % j->kdim[i]) * j->kstr[i];
    o /= j->kdim[i];
  }
  return off;
}

/* Visits every offset of the normalised set of the output at `base`;
 * `pass` 0 sums, 1 sums squared deviations, 2 writes. */
static void
mvn_visit (const MvnJob *j, int64_t base, int pass, double *acc, double mean,
           double scale)
{
  int64_t idx[MACE_MAX_DIMS] = { 0 };
  int64_t off = base;
  for (int64_t e = 0; e < j->rcount; e++) {
    double v = mace_tensor_get_f64 (j->x, off);
    if (pass == 0)
      *acc += v;
    else if (pass == 1)
      *acc += (v - mean) * (v - mean);
    else
      set_f64 (j->y, off, (v - mean) * scale);
    for (int d = j->nr - 1; d >= 0; d--) {
      off += j->rstr[d];
      if (++idx[d] < j->rdim[d])
        break;
      off -= j->rstr[d] * j->rdim[d];
      idx[d] = 0;
    }
  }
}

static void
mvn_range (void *arg, int64_t begin, int64_t end)
{
  const MvnJob *j = arg;
  for (int64_t o = begin; o < end; o++) {
    int64_t base = mvn_base (j, o);
    double s = 0, q = 0;
    mvn_visit (j, base, 0, &s, 0, 0);
    double mean = j->rcount ? s / (double)j->rcount : 0;
    mvn_visit (j, base, 1, &q, mean, 0);
    double sd = sqrt (j->rcount ? q / (double)j->rcount : 0);
    /* The ONNX function adds epsilon to the standard deviation. */
    mvn_visit (j, base, 2, NULL, mean, 1.0 / (sd + 1e-9));
  }
}

static MaceStatus
mvn_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  bool red[MACE_MAX_DIMS];
  MaceStatus st = mvn_axes (ctx, red);
  if (st != MACE_OK)
    return st;
  MvnJob j = { .x = x, .y = ctx->out[0], .rcount = 1 };
  int64_t stride[MACE_MAX_DIMS], s = 1, n_out = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    stride[d] = s;
    s *= x->dims[d];
  }
  int last = -1;
  for (int d = 0; d < x->ndim; d++) {
    if (red[d])
      j.rcount *= x->dims[d];
    else
      n_out *= x->dims[d];
    if (x->dims[d] == 1)
      continue;
    int kind = red[d] ? 1 : 0;
    int64_t *dim = kind ? j.rdim : j.kdim, *str = kind ? j.rstr : j.kstr;
    int *n = kind ? &j.nr : &j.nk;
    if (last == kind) {
      dim[*n - 1] *= x->dims[d];
      str[*n - 1] = stride[d];
    } else {
      dim[*n] = x->dims[d];
      str[*n] = stride[d];
      (*n)++;
    }
    last = kind;
  }
  if (mace_tensor_numel (x) == 0)
    return MACE_OK;
  run_range (ctx->pool, mace_tensor_numel (x), n_out, mvn_range, &j);
  return MACE_OK;
}

/* ---- LRN ------------------------------------------------------------------
 */

static MaceStatus
lrn_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (mace_attr_int (node, "size", 0) <= 0) {
    snprintf (msg, len, "attribute size must be a positive integer");
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

static MaceStatus
lrn_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceStatus st = need_float (ctx, x, "input");
  if (st != MACE_OK)
    return st;
  if (x->ndim < 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "input must be N x C x ..., got rank %d", x->ndim);
  return mace_infer_same_as_input0 (ctx);
}

typedef struct {
  const MaceTensor *x;
  MaceTensor *y;
  int64_t c, inner, size;
  double alpha, beta, bias;
} LrnJob;

/* y = x / (bias + alpha / size * sum of x^2 over the channel window)^beta,
 * the window being [c - floor((size-1)/2), c + ceil((size-1)/2)]. */
#define DEFINE_LRN(NAME, T)                                                    \
  static void NAME (const LrnJob *j, int64_t item)                             \
  {                                                                            \
    int64_t n = item / j->c, c = item % j->c;                                  \
    int64_t lo = c - (j->size - 1) / 2, hi = c + j->size / 2;                  \
    if (lo < 0)                                                                \
      lo = 0;                                                                  \
    if (hi > j->c - 1)                                                         \
      hi = j->c - 1;                                                           \
    const T *xb = (const T *)j->x->data + n * j->c * j->inner;                 \
    T *y = (T *)j->y->data + item * j->inner;                                  \
    const T *x = xb + c * j->inner;                                            \
    for (int64_t i = 0; i < j->inner; i++)                                     \
      y[i] = 0;                                                                \
    for (int64_t k = lo; k <= hi; k++) {                                       \
      const T *xk = xb + k * j->inner;                                         \
      for (int64_t i = 0; i < j->inner; i++)                                   \
        y[i] += xk[i] * xk[i];                                                 \
    }                                                                          \
    double a = j->alpha / (double)j->size;                                     \
    for (int64_t i = 0; i < j->inner; i++)                                     \
      y[i] = (T)(x[i] / pow (j->bias + a * y[i], j->beta));                    \
  }

DEFINE_LRN (lrn_f32, float)
DEFINE_LRN (lrn_f64, double)

static void
lrn_range (void *arg, int64_t begin, int64_t end)
{
  const LrnJob *j = arg;
  for (int64_t item = begin; item < end; item++) {
    if (j->x->dtype == MACE_DTYPE_FLOAT32)
      lrn_f32 (j, item);
    else
      lrn_f64 (j, item);
  }
}

static MaceStatus
lrn_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  LrnJob job = { x,
                 ctx->out[0],
                 x->dims[1],
                 mace_shape_numel (x->ndim - 2, x->dims + 2),
                 mace_attr_int (ctx->node, "size", 1),
                 mace_attr_float (ctx->node, "alpha", 1e-4f),
                 mace_attr_float (ctx->node, "beta", 0.75f),
                 mace_attr_float (ctx->node, "bias", 1.0f) };
  run_range (ctx->pool, mace_tensor_numel (x), x->dims[0] * job.c, lrn_range,
             &job);
  return MACE_OK;
}

const MaceOpDef mace_ops_norm[] = {
  { "BatchNormalization", bn_check, bn_infer, bn_run, 0, NULL },
  { "InstanceNormalization", NULL, in_infer, in_run, 0, NULL },
  { "LayerNormalization", ln_check, ln_infer, ln_run, 0, NULL },
  { "LpNormalization", lp_check, lp_infer, lp_run, 0, NULL },
  { "MeanVarianceNormalization", NULL, mvn_infer, mvn_run, 0, NULL },
  { "LRN", lrn_check, lrn_infer, lrn_run, 0, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
