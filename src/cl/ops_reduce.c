/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of the Reduce* ops (kernels/reduce.cl), axes from the
 * attribute (older opsets) or a constant input (ReduceSum 13+, all 18+). */
#include <string.h>

#include "cl/ops.h"

static const struct {
  const char *name;
  int code;
} reduce_defs[] = {
  { "ReduceSum", ROP_SUM },
  { "ReduceMean", ROP_MEAN },
  { "ReduceMax", ROP_MAX },
  { "ReduceMin", ROP_MIN },
  { "ReduceProd", ROP_PROD },
  { "ReduceL1", ROP_L1 },
  { "ReduceL2", ROP_L2 },
  { "ReduceLogSum", ROP_LOGSUM },
  { "ReduceLogSumExp", ROP_LOGSUMEXP },
  { "ReduceSumSquare", ROP_SUMSQUARE },
};

MaceStatus
mace_cl_plan_reduce (MaceClOpCtx *ctx, cl_mem x, cl_mem y, const MaceTensor *xt,
                     const bool *reduced, int op)
{
  int64_t str[MACE_MAX_DIMS];
  mace_cl_strides (xt->ndim, xt->dims, str);
  int kd[MACE_MAX_DIMS], ks[MACE_MAX_DIMS], rd[MACE_MAX_DIMS],
      rs[MACE_MAX_DIMS];
  int nk = 0, nr = 0;
  int64_t nout = 1, count = 1;
  for (int d = 0; d < xt->ndim; d++) {
    if (reduced[d]) {
      rd[nr] = (int)xt->dims[d];
      rs[nr++] = (int)str[d];
      count *= xt->dims[d];
    } else {
      kd[nk] = (int)xt->dims[d];
      ks[nk++] = (int)str[d];
      nout *= xt->dims[d];
    }
  }
  if (count == 0
      && (op == ROP_MAX || op == ROP_MIN || op == ROP_MEAN
          || op == ROP_LOGSUMEXP))
    return mace_cl_unsupported (ctx, "reducing an empty set");
  int p[2 + 4 * MACE_MAX_DIMS];
  int w = 0;
  p[w++] = nk;
  for (int d = 0; d < nk; d++)
    p[w++] = kd[d];
  for (int d = 0; d < nk; d++)
    p[w++] = ks[d];
  p[w++] = nr;
  for (int d = 0; d < nr; d++)
    p[w++] = rd[d];
  for (int d = 0; d < nr; d++)
    p[w++] = rs[d];
  size_t gws = (size_t)nout;
  MaceClLaunch *l = mace_cl_launch (ctx, "reduce", "reduce", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)nout);
  mace_cl_arg_int (l, op);
  mace_cl_arg_ints (ctx, l, p, w);
  return MACE_OK;
}

static MaceStatus
plan_reduce (MaceClOpCtx *ctx)
{
  int op = -1;
  for (size_t i = 0; i < sizeof reduce_defs / sizeof reduce_defs[0]; i++)
    if (strcmp (reduce_defs[i].name, ctx->node->op_type) == 0)
      op = reduce_defs[i].code;
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (op < 0 || !in || !out)
    return mace_cl_unsupported (ctx, "bad inputs");
  int nd = in->t.ndim;
  int64_t axes[MACE_MAX_DIMS];
  int na = 0;
  bool axes_input = ctx->opset >= 18 || (op == ROP_SUM && ctx->opset >= 13);
  if (axes_input) {
    if (mace_cl_in (ctx, 1)) {
      na = mace_cl_const_ints (ctx, 1, axes, MACE_MAX_DIMS);
      if (na < 0)
        return mace_cl_unsupported (ctx, "axes are not constant");
    }
  } else {
    const int64_t *a = mace_attr_ints (ctx->node, "axes", &na);
    if (na > MACE_MAX_DIMS)
      return mace_cl_unsupported (ctx, "bad axes");
    if (a)
      memcpy (axes, a, sizeof (int64_t) * (size_t)na);
  }
  bool reduced[MACE_MAX_DIMS];
  if (na == 0) {
    bool noop
        = axes_input && mace_attr_int (ctx->node, "noop_with_empty_axes", 0);
    for (int d = 0; d < nd; d++)
      reduced[d] = !noop;
  } else {
    memset (reduced, 0, sizeof reduced);
    for (int i = 0; i < na; i++) {
      int ax = mace_cl_axis (axes[i], nd);
      if (ax < 0)
        return mace_cl_unsupported (ctx, "bad axis");
      reduced[ax] = true;
    }
  }
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  return mace_cl_plan_reduce (ctx, x, y, &in->t, reduced, op);
}

/* ArgMax / ArgMin: float32 in, int64 out. */
static MaceStatus
plan_argreduce (MaceClOpCtx *ctx)
{
  static const MaceDataType in_t[] = { MACE_DTYPE_FLOAT32 };
  static const MaceDataType out_t[] = { MACE_DTYPE_INT64 };
  if (!mace_cl_check_dtypes (ctx, in_t, 1, out_t, 1))
    return MACE_ERROR_UNSUPPORTED;
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (!in || !out || in->t.ndim < 1)
    return mace_cl_unsupported (ctx, "bad inputs");
  int axis = mace_cl_axis (mace_attr_int (ctx->node, "axis", 0), in->t.ndim);
  if (axis < 0)
    return mace_cl_unsupported (ctx, "bad axis");
  int64_t outer = 1, len = in->t.dims[axis], inner = 1;
  for (int d = 0; d < in->t.ndim; d++)
    if (d < axis)
      outer *= in->t.dims[d];
    else if (d > axis)
      inner *= in->t.dims[d];
  if (len == 0)
    return mace_cl_unsupported (ctx, "empty axis");
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  size_t gws[2] = { (size_t)inner, (size_t)outer };
  MaceClLaunch *l = mace_cl_launch (ctx, "reduce", "argreduce", 2, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)len);
  mace_cl_arg_int (l, (int)inner);
  mace_cl_arg_int (l, strcmp (ctx->node->op_type, "ArgMax") == 0);
  mace_cl_arg_int (l, (int)mace_attr_int (ctx->node, "select_last_index", 0));
  return MACE_OK;
}

const MaceClOp mace_cl_ops_reduce[] = {
  { "ArgMax", plan_argreduce, true },
  { "ArgMin", plan_argreduce, true },
  { "ReduceSum", plan_reduce, false },
  { "ReduceMean", plan_reduce, false },
  { "ReduceMax", plan_reduce, false },
  { "ReduceMin", plan_reduce, false },
  { "ReduceProd", plan_reduce, false },
  { "ReduceL1", plan_reduce, false },
  { "ReduceL2", plan_reduce, false },
  { "ReduceLogSum", plan_reduce, false },
  { "ReduceLogSumExp", plan_reduce, false },
  { "ReduceSumSquare", plan_reduce, false },
  { NULL, NULL, false },
};
