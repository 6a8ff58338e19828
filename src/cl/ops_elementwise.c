/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of elementwise ops (kernels/elementwise.cl): unary
 * activations and math, Clip, broadcasting binary ops, variadic
 * Sum/Mean/Max/Min, and the copies (Identity, Dropout, Cast to float). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "cl/ops.h"

typedef struct {
  const char *op_type;
  int code;
  const char *a_name, *b_name;
  float a_def, b_def;
} UnaryDef;

static const UnaryDef unary_defs[] = {
  { "Relu", UOP_RELU, NULL, NULL, 0, 0 },
  { "LeakyRelu", UOP_LEAKYRELU, "alpha", NULL, 0.01f, 0 },
  { "Sigmoid", UOP_SIGMOID, NULL, NULL, 0, 0 },
  { "Tanh", UOP_TANH, NULL, NULL, 0, 0 },
  { "Elu", UOP_ELU, "alpha", NULL, 1.0f, 0 },
  { "Selu", UOP_SELU, "alpha", "gamma", 1.67326319217681884765625f,
    1.05070102214813232421875f },
  { "HardSigmoid", UOP_HARDSIGMOID, "alpha", "beta", 0.2f, 0.5f },
  { "HardSwish", UOP_HARDSWISH, NULL, NULL, 0, 0 },
  { "Abs", UOP_ABS, NULL, NULL, 0, 0 },
  { "Neg", UOP_NEG, NULL, NULL, 0, 0 },
  { "Exp", UOP_EXP, NULL, NULL, 0, 0 },
  { "Log", UOP_LOG, NULL, NULL, 0, 0 },
  { "Sqrt", UOP_SQRT, NULL, NULL, 0, 0 },
  { "Reciprocal", UOP_RECIPROCAL, NULL, NULL, 0, 0 },
  { "Floor", UOP_FLOOR, NULL, NULL, 0, 0 },
  { "Ceil", UOP_CEIL, NULL, NULL, 0, 0 },
  { "Softplus", UOP_SOFTPLUS, NULL, NULL, 0, 0 },
  { "Softsign", UOP_SOFTSIGN, NULL, NULL, 0, 0 },
  { "Sin", UOP_SIN, NULL, NULL, 0, 0 },
  { "Cos", UOP_COS, NULL, NULL, 0, 0 },
  { "Tan", UOP_TAN, NULL, NULL, 0, 0 },
  { "Asin", UOP_ASIN, NULL, NULL, 0, 0 },
  { "Acos", UOP_ACOS, NULL, NULL, 0, 0 },
  { "Atan", UOP_ATAN, NULL, NULL, 0, 0 },
  { "Sinh", UOP_SINH, NULL, NULL, 0, 0 },
  { "Cosh", UOP_COSH, NULL, NULL, 0, 0 },
  { "Asinh", UOP_ASINH, NULL, NULL, 0, 0 },
  { "Acosh", UOP_ACOSH, NULL, NULL, 0, 0 },
  { "Atanh", UOP_ATANH, NULL, NULL, 0, 0 },
  { "Erf", UOP_ERF, NULL, NULL, 0, 0 },
  { "Round", UOP_ROUND, NULL, NULL, 0, 0 },
  { "Sign", UOP_SIGN, NULL, NULL, 0, 0 },
  { "ThresholdedRelu", UOP_THRESHOLDEDRELU, "alpha", NULL, 1.0f, 0 },
  { "Celu", UOP_CELU, "alpha", NULL, 1.0f, 0 },
  { "Shrink", UOP_SHRINK, "bias", "lambd", 0.0f, 0.5f },
  { "Mish", UOP_MISH, NULL, NULL, 0, 0 },
};

static int64_t
numel (const MaceValue *v)
{
  return mace_shape_numel (v->t.ndim, v->t.dims);
}

/* y = op(x) elementwise, x and y device buffers of n floats. */
static MaceStatus
plan_unary_mem (MaceClOpCtx *ctx, cl_mem x, cl_mem y, int64_t n, int op,
                float a, float b)
{
  size_t gws = (size_t)n;
  MaceClLaunch *l = mace_cl_launch (ctx, "elementwise", "unary", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)n);
  mace_cl_arg_int (l, op);
  mace_cl_arg_float (l, a);
  mace_cl_arg_float (l, b);
  return MACE_OK;
}

static MaceStatus
plan_unary (MaceClOpCtx *ctx)
{
  const UnaryDef *d = NULL;
  for (size_t i = 0; i < sizeof unary_defs / sizeof unary_defs[0]; i++)
    if (strcmp (unary_defs[i].op_type, ctx->node->op_type) == 0)
      d = &unary_defs[i];
  if (!d || !mace_cl_in (ctx, 0) || !mace_cl_out (ctx, 0))
    return mace_cl_unsupported (ctx, "bad inputs");
  float a = d->a_name ? mace_attr_float (ctx->node, d->a_name, d->a_def) : 0;
  float b = d->b_name ? mace_attr_float (ctx->node, d->b_name, d->b_def) : 0;
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  return plan_unary_mem (ctx, x, y, numel (mace_cl_in (ctx, 0)), d->code, a, b);
}

/* Identity, Dropout (inference), Cast to float32, and every other op whose
 * output is its input's bytes. */
static MaceStatus
plan_copy (MaceClOpCtx *ctx)
{
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (!in || !out)
    return mace_cl_unsupported (ctx, "bad inputs");
  for (int k = 1; k < ctx->node->n_out; k++)
    if (mace_cl_out (ctx, k))
      return mace_cl_unsupported (ctx, "output %d (mask) is not supported", k);
  if (strcmp (ctx->node->op_type, "Dropout") == 0) {
    if (mace_attr_int (ctx->node, "is_test", 1) == 0 && ctx->opset < 7)
      return mace_cl_unsupported (ctx, "training mode");
    const MaceValue *tm = mace_cl_in (ctx, 2);
    if (tm) {
      int64_t v[1];
      if (mace_cl_const_ints (ctx, 2, v, 1) != 1 || v[0] != 0)
        return mace_cl_unsupported (ctx, "training_mode must be a constant "
                                         "false");
    }
  }
  if (numel (in) != numel (out) || in->t.dtype != out->t.dtype)
    return mace_cl_unsupported (ctx, "output is not a copy of the input");
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  mace_cl_copy (ctx, x, 0, y, 0, (size_t)numel (in) * sizeof (float));
  return MACE_OK;
}

static MaceStatus
plan_clip (MaceClOpCtx *ctx)
{
  const MaceValue *in = mace_cl_in (ctx, 0);
  if (!in || !mace_cl_out (ctx, 0))
    return mace_cl_unsupported (ctx, "bad inputs");
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  if (ctx->opset < 11)
    return plan_unary_mem (ctx, x, y, numel (in), UOP_CLIP,
                           mace_attr_float (ctx->node, "min", -FLT_MAX),
                           mace_attr_float (ctx->node, "max", FLT_MAX));
  float lo = -INFINITY, hi = INFINITY;
  bool lo_const
      = !mace_cl_in (ctx, 1) || mace_cl_const_floats (ctx, 1, &lo, 1) == 1;
  bool hi_const
      = !mace_cl_in (ctx, 2) || mace_cl_const_floats (ctx, 2, &hi, 1) == 1;
  if (lo_const && hi_const)
    return plan_unary_mem (ctx, x, y, numel (in), UOP_CLIP, lo, hi);
  for (int k = 1; k <= 2; k++) {
    const MaceValue *v = mace_cl_in (ctx, k);
    if (v && (v->t.dtype != MACE_DTYPE_FLOAT32 || numel (v) != 1))
      return mace_cl_unsupported (ctx, "bound %d is not a float scalar", k);
  }
  cl_mem lo_m = mace_cl_in (ctx, 1) ? mace_cl_in_mem (ctx, 1) : x;
  cl_mem hi_m = mace_cl_in (ctx, 2) ? mace_cl_in_mem (ctx, 2) : x;
  if (!lo_m || !hi_m)
    return ctx->err->status;
  size_t gws = (size_t)numel (in);
  MaceClLaunch *l = mace_cl_launch (ctx, "elementwise", "clip", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)numel (in));
  mace_cl_arg_mem (l, lo_m);
  mace_cl_arg_mem (l, hi_m);
  mace_cl_arg_int (l, mace_cl_in (ctx, 1) != NULL);
  mace_cl_arg_int (l, mace_cl_in (ctx, 2) != NULL);
  return MACE_OK;
}

/* Strides of a tensor of shape (nd, dims) broadcast to out's rank and
 * shape; 0 along broadcast axes. */
static void
bcast_strides (int nd, const int64_t *dims, int ond, const int64_t *odims,
               int *str)
{
  int64_t s[MACE_MAX_DIMS];
  mace_cl_strides (nd, dims, s);
  for (int d = 0; d < ond; d++) {
    int id = d - (ond - nd);
    if (id < 0 || (dims[id] == 1 && odims[d] != 1))
      str[d] = 0;
    else
      str[d] = (int)s[id];
  }
}

/* y = a op b, with a, b broadcast to y's shape (y's shape given). */
static MaceStatus
plan_binary_mem (MaceClOpCtx *ctx, cl_mem a, const MaceTensor *at, cl_mem b,
                 const MaceTensor *bt, cl_mem y, const MaceTensor *yt, int op)
{
  int64_t n = mace_shape_numel (yt->ndim, yt->dims);
  size_t gws = (size_t)n;
  bool a_full = mace_shape_equal (at->ndim, at->dims, yt->ndim, yt->dims);
  bool b_full = mace_shape_equal (bt->ndim, bt->dims, yt->ndim, yt->dims);
  MaceClLaunch *l;
  if (a_full && b_full) {
    l = mace_cl_launch (ctx, "elementwise", "binary_same", 1, &gws);
    if (!l)
      return ctx->err->status;
  } else if (a_full && mace_shape_numel (bt->ndim, bt->dims) == 1) {
    l = mace_cl_launch (ctx, "elementwise", "binary_scalar", 1, &gws);
    if (!l)
      return ctx->err->status;
  } else {
    l = mace_cl_launch (ctx, "elementwise", "binary_bcast", 1, &gws);
    if (!l)
      return ctx->err->status;
  }
  mace_cl_arg_mem (l, a);
  mace_cl_arg_mem (l, b);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)n);
  mace_cl_arg_int (l, op);
  if (!(a_full && (b_full || mace_shape_numel (bt->ndim, bt->dims) == 1))) {
    int nd = yt->ndim > 0 ? yt->ndim : 1;
    int p[1 + 3 * MACE_MAX_DIMS];
    p[0] = nd;
    if (yt->ndim == 0) {
      p[1] = 1;
      p[2] = 0;
      p[3] = 0;
    } else {
      for (int d = 0; d < nd; d++)
        p[1 + d] = (int)yt->dims[d];
      bcast_strides (at->ndim, at->dims, nd, yt->dims, p + 1 + nd);
      bcast_strides (bt->ndim, bt->dims, nd, yt->dims, p + 1 + 2 * nd);
    }
    mace_cl_arg_ints (ctx, l, p, 1 + 3 * nd);
  }
  return MACE_OK;
}

static int
binary_code (const char *op)
{
  static const struct {
    const char *name;
    int code;
  } t[] = {
    { "Add", BOP_ADD }, { "Sub", BOP_SUB },     { "Mul", BOP_MUL },
    { "Div", BOP_DIV }, { "Pow", BOP_POW },     { "Max", BOP_MAX },
    { "Min", BOP_MIN }, { "PRelu", BOP_PRELU }, { "Mod", BOP_FMOD },
    { "Sum", BOP_ADD }, { "Mean", BOP_ADD },
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp (t[i].name, op) == 0)
      return t[i].code;
  return -1;
}

/* Add, Sub, Mul, Div, Pow, PRelu, Mod (fmod = 1) and the variadic Sum,
 * Mean, Max, Min: y = in0 op in1, then y = y op in_k. */
static MaceStatus
plan_binary (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  int op = binary_code (n->op_type);
  const MaceValue *out = mace_cl_out (ctx, 0);
  if (op < 0 || !out || n->n_in < 1)
    return mace_cl_unsupported (ctx, "bad inputs");
  if (op == BOP_FMOD && mace_attr_int (n, "fmod", 0) != 1)
    return mace_cl_unsupported (ctx, "integer Mod (fmod = 0)");
  if (ctx->opset < 7
      && (mace_node_attr (n, "broadcast") || mace_node_attr (n, "axis")))
    return mace_cl_unsupported (ctx, "legacy broadcast attribute");
  for (int k = 0; k < n->n_in; k++)
    if (!mace_cl_in (ctx, k))
      return mace_cl_unsupported (ctx, "absent input %d", k);
  cl_mem y = mace_cl_out_mem (ctx, 0);
  cl_mem a = mace_cl_in_mem (ctx, 0);
  if (!y || !a)
    return ctx->err->status;
  if (n->n_in == 1) {
    if (numel (mace_cl_in (ctx, 0)) != numel (out))
      return mace_cl_unsupported (ctx, "single input of another size");
    mace_cl_copy (ctx, a, 0, y, 0, (size_t)numel (out) * sizeof (float));
    return MACE_OK;
  }
  for (int k = 1; k < n->n_in; k++) {
    cl_mem b = mace_cl_in_mem (ctx, k);
    if (!b)
      return ctx->err->status;
    MaceStatus st;
    if (k == 1)
      st = plan_binary_mem (ctx, a, &mace_cl_in (ctx, 0)->t, b,
                            &mace_cl_in (ctx, 1)->t, y, &out->t, op);
    else
      st = plan_binary_mem (ctx, y, &out->t, b, &mace_cl_in (ctx, k)->t, y,
                            &out->t, op);
    if (st != MACE_OK)
      return st;
  }
  if (strcmp (n->op_type, "Mean") == 0)
    return plan_unary_mem (ctx, y, y, numel (out), UOP_AFFINE,
                           1.0f / (float)n->n_in, 0.0f);
  return MACE_OK;
}

/* p of the broadcasting kernels: [ndim, dims of y, strides of each of
 * the n tensors t[] in y's coordinates]; returns the count. */
static int
bcast_params (const MaceTensor *yt, const MaceTensor *const *t, int n, int *p)
{
  int nd = yt->ndim > 0 ? yt->ndim : 1;
  p[0] = nd;
  if (yt->ndim == 0) {
    p[1] = 1;
    for (int k = 0; k < n; k++)
      p[2 + k] = 0;
    return 2 + n;
  }
  for (int d = 0; d < nd; d++)
    p[1 + d] = (int)yt->dims[d];
  for (int k = 0; k < n; k++)
    bcast_strides (t[k]->ndim, t[k]->dims, nd, yt->dims, p + 1 + (k + 1) * nd);
  return 1 + (n + 1) * nd;
}

/* Equal, Less, Greater, LessOrEqual, GreaterOrEqual on float32 -> bool. */
static MaceStatus
plan_compare (MaceClOpCtx *ctx)
{
  static const MaceDataType in_t[] = { MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32 };
  static const MaceDataType out_t[] = { MACE_DTYPE_BOOL };
  static const char *const names[]
      = { "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual" };
  if (!mace_cl_check_dtypes (ctx, in_t, 2, out_t, 1))
    return MACE_ERROR_UNSUPPORTED;
  int op = -1;
  for (int i = 0; i < 5; i++)
    if (strcmp (names[i], ctx->node->op_type) == 0)
      op = i;
  const MaceValue *a = mace_cl_in (ctx, 0), *b = mace_cl_in (ctx, 1);
  const MaceValue *y = mace_cl_out (ctx, 0);
  if (op < 0 || !a || !b || !y)
    return mace_cl_unsupported (ctx, "bad inputs");
  cl_mem am = mace_cl_in_mem (ctx, 0), bm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  if (!am || !bm || !ym)
    return ctx->err->status;
  int p[1 + 4 * MACE_MAX_DIMS];
  const MaceTensor *t[2] = { &a->t, &b->t };
  int np = bcast_params (&y->t, t, 2, p);
  size_t gws = (size_t)numel (y);
  MaceClLaunch *l
      = mace_cl_launch (ctx, "elementwise", "compare_bcast", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, am);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_int (l, op);
  mace_cl_arg_ints (ctx, l, p, np);
  return MACE_OK;
}

/* IsNaN and IsInf: float32 -> bool. */
static MaceStatus
plan_isnan_isinf (MaceClOpCtx *ctx)
{
  static const MaceDataType in_t[] = { MACE_DTYPE_FLOAT32 };
  static const MaceDataType out_t[] = { MACE_DTYPE_BOOL };
  if (!mace_cl_check_dtypes (ctx, in_t, 1, out_t, 1))
    return MACE_ERROR_UNSUPPORTED;
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  if (!x || !y)
    return mace_cl_unsupported (ctx, "bad inputs");
  int mode = 0;
  if (strcmp (ctx->node->op_type, "IsInf") == 0) {
    bool pos = mace_attr_int (ctx->node, "detect_positive", 1);
    bool neg = mace_attr_int (ctx->node, "detect_negative", 1);
    if (!pos && !neg)
      return mace_cl_unsupported (ctx, "detects nothing");
    mode = pos && neg ? 1 : pos ? 2 : 3;
  }
  cl_mem xm = mace_cl_in_mem (ctx, 0), ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !ym)
    return ctx->err->status;
  size_t gws = (size_t)numel (y);
  MaceClLaunch *l = mace_cl_launch (ctx, "elementwise", "isnan_isinf", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_int (l, mode);
  return MACE_OK;
}

/* Where: bool condition, float32 values. */
static MaceStatus
plan_where (MaceClOpCtx *ctx)
{
  static const MaceDataType in_t[]
      = { MACE_DTYPE_BOOL, MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32 };
  static const MaceDataType out_t[] = { MACE_DTYPE_FLOAT32 };
  if (!mace_cl_check_dtypes (ctx, in_t, 3, out_t, 1))
    return MACE_ERROR_UNSUPPORTED;
  const MaceValue *c = mace_cl_in (ctx, 0), *a = mace_cl_in (ctx, 1);
  const MaceValue *b = mace_cl_in (ctx, 2), *y = mace_cl_out (ctx, 0);
  if (!c || !a || !b || !y)
    return mace_cl_unsupported (ctx, "bad inputs");
  cl_mem cm = mace_cl_in_mem (ctx, 0), am = mace_cl_in_mem (ctx, 1);
  cl_mem bm = mace_cl_in_mem (ctx, 2), ym = mace_cl_out_mem (ctx, 0);
  if (!cm || !am || !bm || !ym)
    return ctx->err->status;
  int p[1 + 4 * MACE_MAX_DIMS];
  const MaceTensor *t[3] = { &c->t, &a->t, &b->t };
  int np = bcast_params (&y->t, t, 3, p);
  size_t gws = (size_t)numel (y);
  MaceClLaunch *l = mace_cl_launch (ctx, "elementwise", "where_bcast", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, cm);
  mace_cl_arg_mem (l, am);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_ints (ctx, l, p, np);
  return MACE_OK;
}

const MaceClOp mace_cl_ops_elementwise[] = {
  { "Relu", plan_unary, false },
  { "LeakyRelu", plan_unary, false },
  { "Sigmoid", plan_unary, false },
  { "Tanh", plan_unary, false },
  { "Elu", plan_unary, false },
  { "Selu", plan_unary, false },
  { "HardSigmoid", plan_unary, false },
  { "HardSwish", plan_unary, false },
  { "Abs", plan_unary, false },
  { "Neg", plan_unary, false },
  { "Exp", plan_unary, false },
  { "Log", plan_unary, false },
  { "Sqrt", plan_unary, false },
  { "Reciprocal", plan_unary, false },
  { "Floor", plan_unary, false },
  { "Ceil", plan_unary, false },
  { "Softplus", plan_unary, false },
  { "Softsign", plan_unary, false },
  { "Sin", plan_unary, false },
  { "Cos", plan_unary, false },
  { "Tan", plan_unary, false },
  { "Asin", plan_unary, false },
  { "Acos", plan_unary, false },
  { "Atan", plan_unary, false },
  { "Sinh", plan_unary, false },
  { "Cosh", plan_unary, false },
  { "Asinh", plan_unary, false },
  { "Acosh", plan_unary, false },
  { "Atanh", plan_unary, false },
  { "Erf", plan_unary, false },
  { "Round", plan_unary, false },
  { "Sign", plan_unary, false },
  { "ThresholdedRelu", plan_unary, false },
  { "Celu", plan_unary, false },
  { "Shrink", plan_unary, false },
  { "Mish", plan_unary, false },
  { "Clip", plan_clip, false },
  { "Identity", plan_copy, false },
  { "Dropout", plan_copy, false },
  { "Cast", plan_copy, false },
  { "Add", plan_binary, false },
  { "Sub", plan_binary, false },
  { "Mul", plan_binary, false },
  { "Div", plan_binary, false },
  { "Pow", plan_binary, false },
  { "Max", plan_binary, false },
  { "Min", plan_binary, false },
  { "PRelu", plan_binary, false },
  { "Mod", plan_binary, false },
  { "Sum", plan_binary, false },
  { "Mean", plan_binary, false },
  { "Equal", plan_compare, true },
  { "Less", plan_compare, true },
  { "Greater", plan_compare, true },
  { "LessOrEqual", plan_compare, true },
  { "GreaterOrEqual", plan_compare, true },
  { "IsNaN", plan_isnan_isinf, true },
  { "IsInf", plan_isnan_isinf, true },
  { "Where", plan_where, true },
  { NULL, NULL, false },
};
