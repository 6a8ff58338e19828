/* SPDX-License-Identifier: Apache-2.0
 * Shape ops: Shape, Reshape, Flatten, Squeeze, Unsqueeze, ConstantOfShape,
 * Expand, Range, EyeLike, Constant.  Data is moved by element size, so
 * every dtype works. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- helpers ---------------------------------------------------------- */

/* Fills n elements of size es at dst with the element at val. */
static void
fill_elems (void *dst, const void *val, size_t es, int64_t n)
{
  uint8_t *p = dst;
  bool zero = true;
  for (size_t b = 0; b < es; b++)
    if (((const uint8_t *)val)[b])
      zero = false;
  if (zero) {
    memset (dst, 0, (size_t)n * es);
    return;
  }
  for (int64_t i = 0; i < n; i++)
    memcpy (p + (size_t)i * es, val, es);
}

static bool
is_int_dtype (MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_UINT16:
    case MACE_DTYPE_INT16:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT32:
    case MACE_DTYPE_UINT64:
    case MACE_DTYPE_BOOL: return true;
    default: return false;
  }
}

static bool
has_input (const MaceOpCtx *ctx, int i)
{
  return i < ctx->n_in && ctx->in[i] != NULL;
}

static MaceStatus
need_input (MaceOpCtx *ctx, int i)
{
  if (!has_input (ctx, i))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "missing input %d", i);
  return MACE_OK;
}

/* Copies input 0's bytes to output 0 (the view ops). */
static MaceStatus
run_copy (MaceOpCtx *ctx)
{
  size_t n = mace_tensor_nbytes (ctx->out[0]);
  if (n != mace_tensor_nbytes (ctx->in[0]))
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "size mismatch");
  if (n)
    memcpy (ctx->out[0]->data, ctx->in[0]->data, n);
  return MACE_OK;
}

/* ---- Shape ------------------------------------------------------------ */

static void
shape_range (const MaceOpCtx *ctx, int64_t *start, int64_t *end)
{
  int64_t r = ctx->in[0]->ndim;
  int64_t s = mace_attr_int (ctx->node, "start", 0);
  int64_t e = mace_attr_int (ctx->node, "end", r);
  if (s < 0)
    s += r;
  if (e < 0)
    e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  *start = s;
  *end = e > s ? e : s;
}

static MaceStatus
shape_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  int64_t s, e;
  shape_range (ctx, &s, &e);
  int64_t d = e - s;
  mace_tensor_init (ctx->out[0], MACE_DTYPE_INT64, 1, &d);
  return MACE_OK;
}

static MaceStatus
shape_run (MaceOpCtx *ctx)
{
  int64_t s, e;
  shape_range (ctx, &s, &e);
  int64_t *o = ctx->out[0]->data;
  for (int64_t i = s; i < e; i++)
    o[i - s] = ctx->in[0]->dims[i];
  return MACE_OK;
}

/* ---- Reshape ---------------------------------------------------------- */

static MaceStatus
reshape_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  if (opset < 5 && !mace_node_attr (node, "shape")) {
    snprintf (msg, len, "Reshape-1 needs a 'shape' attribute");
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
reshape_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t req[MACE_MAX_DIMS];
  int n;
  if (ctx->opset < 5) {
    const int64_t *a = mace_attr_ints (ctx->node, "shape", &n);
    if (n > MACE_MAX_DIMS)
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %d", n);
    for (int i = 0; i < n; i++)
      req[i] = a[i];
  } else {
    if ((st = need_input (ctx, 1)))
      return st;
    const MaceTensor *s = ctx->in[1];
    if (!s->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "shape values unknown");
    if (s->ndim != 1)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "shape must be 1-D");
    if (s->dims[0] > MACE_MAX_DIMS)
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %lld",
                           (long long)s->dims[0]);
    n = (int)s->dims[0];
    for (int i = 0; i < n; i++)
      req[i] = mace_tensor_get_i64 (s, i);
  }
  bool allowzero = mace_attr_int (ctx->node, "allowzero", 0) != 0;
  int64_t dims[MACE_MAX_DIMS];
  int neg = -1;
  int64_t known = 1;
  for (int i = 0; i < n; i++) {
    int64_t d = req[i];
    if (d == 0 && !allowzero) {
      if (i >= x->ndim)
        return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                             "0 at position %d but input has rank %d", i,
                             x->ndim);
      d = x->dims[i];
    }
    if (d == -1) {
      if (neg >= 0)
        return mace_op_fail (ctx, MACE_ERROR_SHAPE, "more than one -1");
      neg = i;
      dims[i] = 1;
      continue;
    }
    if (d < 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "bad dimension %lld",
                           (long long)d);
    dims[i] = d;
    known *= d;
  }
  int64_t total = mace_tensor_numel (x);
  if (neg >= 0) {
    if (known == 0 || total % known != 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "cannot infer -1: %lld elements over %lld",
                           (long long)total, (long long)known);
    dims[neg] = total / known;
  } else if (known != total) {
    char a[128], b[128];
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "cannot reshape %s into %s",
                         mace_shape_str (x->ndim, x->dims, a, sizeof a),
                         mace_shape_str (n, dims, b, sizeof b));
  }
  mace_tensor_init (ctx->out[0], x->dtype, n, dims);
  return MACE_OK;
}

/* ---- Flatten ---------------------------------------------------------- */

static MaceStatus
flatten_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 1);
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis > x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "axis %lld for rank %d",
                         (long long)mace_attr_int (ctx->node, "axis", 1),
                         x->ndim);
  int64_t d[2] = { mace_shape_numel ((int)axis, x->dims),
                   mace_shape_numel (x->ndim - (int)axis, x->dims + axis) };
  mace_tensor_init (ctx->out[0], x->dtype, 2, d);
  return MACE_OK;
}

/* ---- Squeeze / Unsqueeze ---------------------------------------------- */

/* Reads the axes from the attribute (opset < 13) or input 1.  Returns the
 * count, -1 when there are none given. */
static int
read_axes (MaceOpCtx *ctx, int64_t *axes, MaceStatus *st)
{
  *st = MACE_OK;
  if (ctx->opset < 13) {
    int n;
    const int64_t *a = mace_attr_ints (ctx->node, "axes", &n);
    if (!a)
      return -1;
    if (n > MACE_MAX_DIMS) {
      *st = mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "too many axes");
      return 0;
    }
    memcpy (axes, a, sizeof (int64_t) * (size_t)n);
    return n;
  }
  if (!has_input (ctx, 1))
    return -1;
  const MaceTensor *t = ctx->in[1];
  if (!t->data) {
    *st = mace_op_fail (ctx, MACE_ERROR_INTERNAL, "axes values unknown");
    return 0;
  }
  int64_t n = mace_tensor_numel (t);
  if (n > MACE_MAX_DIMS) {
    *st = mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "too many axes");
    return 0;
  }
  for (int64_t i = 0; i < n; i++)
    axes[i] = mace_tensor_get_i64 (t, i);
  return (int)n;
}

static MaceStatus
squeeze_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t axes[MACE_MAX_DIMS];
  int na = read_axes (ctx, axes, &st);
  if (st)
    return st;
  bool drop[MACE_MAX_DIMS] = { false };
  if (na < 0) {
    for (int i = 0; i < x->ndim; i++)
      drop[i] = x->dims[i] == 1;
  } else {
    for (int i = 0; i < na; i++) {
      int64_t a = axes[i] < 0 ? axes[i] + x->ndim : axes[i];
      if (a < 0 || a >= x->ndim)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                             "axis %lld out of range for rank %d",
                             (long long)axes[i], x->ndim);
      if (x->dims[a] != 1)
        return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                             "cannot squeeze axis %lld of size %lld",
                             (long long)a, (long long)x->dims[a]);
      drop[a] = true;
    }
  }
  int64_t dims[MACE_MAX_DIMS];
  int n = 0;
  for (int i = 0; i < x->ndim; i++)
    if (!drop[i])
      dims[n++] = x->dims[i];
  mace_tensor_init (ctx->out[0], x->dtype, n, dims);
  return MACE_OK;
}

static MaceStatus
unsqueeze_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t axes[MACE_MAX_DIMS];
  int na = read_axes (ctx, axes, &st);
  if (st)
    return st;
  if (na < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "axes missing");
  int r = x->ndim + na;
  if (r > MACE_MAX_DIMS)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %d", r);
  bool ins[MACE_MAX_DIMS] = { false };
  for (int i = 0; i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r || ins[a])
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "bad or repeated axis %lld for output rank %d",
                           (long long)axes[i], r);
    ins[a] = true;
  }
  int64_t dims[MACE_MAX_DIMS];
  int j = 0;
  for (int i = 0; i < r; i++)
    dims[i] = ins[i] ? 1 : x->dims[j++];
  mace_tensor_init (ctx->out[0], x->dtype, r, dims);
  return MACE_OK;
}

/* ---- ConstantOfShape -------------------------------------------------- */

static MaceStatus
cos_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const MaceAttr *a = mace_node_attr (node, "value");
  if (a
      && (a->type != MACE_ATTR_TENSOR || !a->t || mace_tensor_numel (a->t) != 1
          || mace_dtype_size (a->t->dtype) == 0)) {
    snprintf (msg, len, "'value' must be a one-element numeric tensor");
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
cos_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *s = ctx->in[0];
  if (!s->data)
    return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "shape values unknown");
  int64_t n = mace_tensor_numel (s);
  if (n > MACE_MAX_DIMS)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %lld",
                         (long long)n);
  int64_t dims[MACE_MAX_DIMS];
  for (int64_t i = 0; i < n; i++) {
    dims[i] = mace_tensor_get_i64 (s, i);
    if (dims[i] < 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "negative dimension");
  }
  const MaceAttr *a = mace_node_attr (ctx->node, "value");
  MaceDataType dt = a && a->t ? a->t->dtype : MACE_DTYPE_FLOAT32;
  mace_tensor_init (ctx->out[0], dt, (int)n, dims);
  return MACE_OK;
}

static MaceStatus
cos_run (MaceOpCtx *ctx)
{
  const MaceAttr *a = mace_node_attr (ctx->node, "value");
  MaceTensor *o = ctx->out[0];
  size_t es = mace_dtype_size (o->dtype);
  uint8_t zero[8] = { 0 };
  const void *val = a && a->t ? a->t->data : zero;
  fill_elems (o->data, val, es, mace_tensor_numel (o));
  return MACE_OK;
}

/* ---- Expand ----------------------------------------------------------- */

static MaceStatus
expand_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (!st)
    st = need_input (ctx, 1);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0], *s = ctx->in[1];
  if (!s->data)
    return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "shape values unknown");
  int64_t n = mace_tensor_numel (s);
  if (n > MACE_MAX_DIMS)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %lld",
                         (long long)n);
  int64_t req[MACE_MAX_DIMS], dims[MACE_MAX_DIMS];
  for (int64_t i = 0; i < n; i++)
    req[i] = mace_tensor_get_i64 (s, i);
  int nd;
  if (!mace_broadcast_shape (x->ndim, x->dims, (int)n, req, &nd, dims)) {
    char a[128], b[128];
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "cannot expand %s to %s",
                         mace_shape_str (x->ndim, x->dims, a, sizeof a),
                         mace_shape_str ((int)n, req, b, sizeof b));
  }
  mace_tensor_init (ctx->out[0], x->dtype, nd, dims);
  return MACE_OK;
}

typedef struct {
  const uint8_t *src;
  uint8_t *dst;
  size_t es;
  int nd;
  int64_t dims[MACE_MAX_DIMS];
  int64_t istr[MACE_MAX_DIMS]; /* input strides in elements, 0 = broadcast */
  int64_t inner;               /* last dim length */
} ExpandArgs;

static void
expand_rows (void *arg, int64_t begin, int64_t end)
{
  const ExpandArgs *a = arg;
  int nd = a->nd;
  int64_t idx[MACE_MAX_DIMS] = { 0 };
  int64_t r = begin, off = 0;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = r % a->dims[d];
    r /= a->dims[d];
    off += idx[d] * a->istr[d];
  }
  size_t es = a->es;
  int64_t inner = a->inner, ls = a->istr[nd - 1];
  for (int64_t row = begin; row < end; row++) {
    uint8_t *dst = a->dst + (size_t)(row * inner) * es;
    const uint8_t *src = a->src + (size_t)off * es;
    if (ls == 1)
      memcpy (dst, src, (size_t)inner * es);
    else
      fill_elems (dst, src, es, inner);
    for (int d = nd - 2; d >= 0; d--) {
      off += a->istr[d];
      if (++idx[d] < a->dims[d])
        break;
      off -= idx[d] * a->istr[d];
      idx[d] = 0;
    }
  }
}

static MaceStatus
expand_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t total = mace_tensor_numel (o);
  if (total == 0)
    return MACE_OK;
  ExpandArgs a
      = { .src = x->data, .dst = o->data, .es = mace_dtype_size (x->dtype) };
  if (o->ndim == 0) {
    memcpy (o->data, x->data, a.es);
    return MACE_OK;
  }
  a.nd = o->ndim;
  int64_t stride = 1;
  for (int d = o->ndim - 1; d >= 0; d--) {
    int xd = d - (o->ndim - x->ndim);
    a.dims[d] = o->dims[d];
    if (xd >= 0 && x->dims[xd] != 1) {
      a.istr[d] = stride;
      stride *= x->dims[xd];
    } else {
      a.istr[d] = 0;
    }
  }
  a.inner = o->dims[o->ndim - 1];
  int64_t rows = total / a.inner;
  if (total < 65536)
    expand_rows (&a, 0, rows);
  else
    mace_parallel_for (ctx->pool, rows, expand_rows, &a);
  return MACE_OK;
}

/* ---- Range ------------------------------------------------------------ */

static MaceStatus
range_infer (MaceOpCtx *ctx)
{
  for (int i = 0; i < 3; i++) {
    MaceStatus st = need_input (ctx, i);
    if (st)
      return st;
    if (!ctx->in[i]->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "values unknown");
    if (mace_tensor_numel (ctx->in[i]) != 1)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "input %d is not a scalar",
                           i);
  }
  MaceDataType dt = ctx->in[0]->dtype;
  int64_t n;
  if (is_int_dtype (dt)) {
    int64_t s = mace_tensor_get_i64 (ctx->in[0], 0);
    int64_t l = mace_tensor_get_i64 (ctx->in[1], 0);
    int64_t d = mace_tensor_get_i64 (ctx->in[2], 0);
    if (d == 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG, "delta is 0");
    int64_t span = l - s;
    if ((span > 0) != (d > 0) || span == 0)
      n = 0;
    else
      n = (span + d + (d > 0 ? -1 : 1)) / d;
  } else {
    double s = mace_tensor_get_f64 (ctx->in[0], 0);
    double l = mace_tensor_get_f64 (ctx->in[1], 0);
    double d = mace_tensor_get_f64 (ctx->in[2], 0);
    if (d == 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG, "delta is 0");
    double c = ceil ((l - s) / d);
    n = c > 0 ? (int64_t)c : 0;
  }
  mace_tensor_init (ctx->out[0], dt, 1, &n);
  return MACE_OK;
}

static MaceStatus
range_run (MaceOpCtx *ctx)
{
  MaceTensor *o = ctx->out[0];
  int64_t n = o->dims[0];
  if (is_int_dtype (o->dtype)) {
    int64_t s = mace_tensor_get_i64 (ctx->in[0], 0);
    int64_t d = mace_tensor_get_i64 (ctx->in[2], 0);
    if (o->dtype == MACE_DTYPE_INT64) {
      for (int64_t i = 0; i < n; i++)
        ((int64_t *)o->data)[i] = s + i * d;
    } else {
      for (int64_t i = 0; i < n; i++)
        mace_tensor_set_f64 (o, i, (double)(s + i * d));
    }
  } else {
    double s = mace_tensor_get_f64 (ctx->in[0], 0);
    double d = mace_tensor_get_f64 (ctx->in[2], 0);
    for (int64_t i = 0; i < n; i++)
      mace_tensor_set_f64 (o, i, s + (double)i * d);
  }
  return MACE_OK;
}

/* ---- EyeLike ---------------------------------------------------------- */

static MaceStatus
eyelike_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  if (x->ndim != 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "input must be 2-D");
  int64_t dt = mace_attr_int (ctx->node, "dtype", x->dtype);
  if (mace_dtype_size ((MaceDataType)dt) == 0)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "dtype %lld",
                         (long long)dt);
  mace_tensor_init (ctx->out[0], (MaceDataType)dt, 2, x->dims);
  return MACE_OK;
}

static MaceStatus
eyelike_run (MaceOpCtx *ctx)
{
  MaceTensor *o = ctx->out[0];
  int64_t k = mace_attr_int (ctx->node, "k", 0);
  int64_t r = o->dims[0], c = o->dims[1];
  memset (o->data, 0, mace_tensor_nbytes (o));
  for (int64_t i = 0; i < r; i++) {
    int64_t j = i + k;
    if (j >= 0 && j < c)
      mace_tensor_set_f64 (o, i * c + j, 1.0);
  }
  return MACE_OK;
}

/* ---- Constant --------------------------------------------------------- */

static MaceStatus
constant_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *names[]
      = { "value", "value_float", "value_int", "value_floats", "value_ints" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const MaceAttr *a = mace_node_attr (node, names[i]);
    if (!a)
      continue;
    if (i == 0 && (!a->t || mace_dtype_size (a->t->dtype) == 0)) {
      snprintf (msg, len, "'value' must be a numeric tensor");
      return MACE_ERROR_UNSUPPORTED;
    }
    return MACE_OK;
  }
  snprintf (msg, len,
            "Constant without value / value_float / value_int / "
            "value_floats / value_ints (sparse and string values are not "
            "supported)");
  return MACE_ERROR_UNSUPPORTED;
}

static MaceStatus
constant_infer (MaceOpCtx *ctx)
{
  const MaceAttr *a;
  int64_t n;
  if ((a = mace_node_attr (ctx->node, "value")) && a->t) {
    mace_tensor_init (ctx->out[0], a->t->dtype, a->t->ndim, a->t->dims);
  } else if (mace_node_attr (ctx->node, "value_float")) {
    mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, 0, NULL);
  } else if (mace_node_attr (ctx->node, "value_int")) {
    mace_tensor_init (ctx->out[0], MACE_DTYPE_INT64, 0, NULL);
  } else if ((a = mace_node_attr (ctx->node, "value_floats"))) {
    n = a->n;
    mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, 1, &n);
  } else if ((a = mace_node_attr (ctx->node, "value_ints"))) {
    n = a->n;
    mace_tensor_init (ctx->out[0], MACE_DTYPE_INT64, 1, &n);
  } else {
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "no value attribute");
  }
  return MACE_OK;
}

static MaceStatus
constant_run (MaceOpCtx *ctx)
{
  const MaceAttr *a;
  MaceTensor *o = ctx->out[0];
  if ((a = mace_node_attr (ctx->node, "value")) && a->t) {
    size_t n = mace_tensor_nbytes (a->t);
    if (n)
      memcpy (o->data, a->t->data, n);
  } else if ((a = mace_node_attr (ctx->node, "value_float"))) {
    ((float *)o->data)[0] = a->f;
  } else if ((a = mace_node_attr (ctx->node, "value_int"))) {
    ((int64_t *)o->data)[0] = a->i;
  } else if ((a = mace_node_attr (ctx->node, "value_floats"))) {
    if (a->n)
      memcpy (o->data, a->floats, sizeof (float) * (size_t)a->n);
  } else if ((a = mace_node_attr (ctx->node, "value_ints"))) {
    if (a->n)
      memcpy (o->data, a->ints, sizeof (int64_t) * (size_t)a->n);
  }
  return MACE_OK;
}

/* ---- table ------------------------------------------------------------ */

const MaceOpDef mace_ops_shape[] = {
  { "Shape", NULL, shape_infer, shape_run, 0, NULL },
  { "Reshape", reshape_check, reshape_infer, run_copy, 1u << 1, NULL },
  { "Flatten", NULL, flatten_infer, run_copy, 0, NULL },
  { "Squeeze", NULL, squeeze_infer, run_copy, 1u << 1, NULL },
  { "Unsqueeze", NULL, unsqueeze_infer, run_copy, 1u << 1, NULL },
  { "ConstantOfShape", cos_check, cos_infer, cos_run, 1u << 0, NULL },
  { "Expand", NULL, expand_infer, expand_run, 1u << 1, NULL },
  { "Range", NULL, range_infer, range_run, 0x7u, NULL },
  { "EyeLike", NULL, eyelike_infer, eyelike_run, 0, NULL },
  { "Constant", constant_check, constant_infer, constant_run, 0, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
