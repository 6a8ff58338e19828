/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of normalisations (kernels/norm.cl): BatchNormalization
 * (inference form), InstanceNormalization, LayerNormalization (with its
 * optional Mean / InvStdDev outputs) and LRN. */
#include <string.h>

#include "cl/ops.h"

static int64_t
numel (const MaceValue *v)
{
  return mace_shape_numel (v->t.ndim, v->t.dims);
}

static MaceStatus
plan_batchnorm (MaceClOpCtx *ctx)
{
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  if (!x || !y || ctx->node->n_in < 5 || x->t.ndim < 2)
    return mace_cl_unsupported (ctx, "bad inputs");
  for (int k = 1; k < ctx->node->n_out; k++)
    if (mace_cl_out (ctx, k))
      return mace_cl_unsupported (ctx, "training outputs");
  if (mace_attr_int (ctx->node, "training_mode", 0))
    return mace_cl_unsupported (ctx, "training mode");
  int64_t C = x->t.dims[1];
  for (int k = 1; k < 5; k++)
    if (!mace_cl_in (ctx, k) || numel (mace_cl_in (ctx, k)) != C)
      return mace_cl_unsupported (ctx, "input %d is not per channel", k);
  cl_mem m[6];
  for (int k = 0; k < 5; k++)
    if (!(m[k] = mace_cl_in_mem (ctx, k)))
      return ctx->err->status;
  if (!(m[5] = mace_cl_out_mem (ctx, 0)))
    return ctx->err->status;
  int64_t n = numel (x);
  size_t gws = (size_t)n;
  MaceClLaunch *l = mace_cl_launch (ctx, "norm", "batchnorm", 1, &gws);
  if (!l)
    return ctx->err->status;
  for (int k = 0; k < 6; k++)
    mace_cl_arg_mem (l, m[k]);
  mace_cl_arg_int (l, (int)n);
  mace_cl_arg_int (l, (int)C);
  mace_cl_arg_int (l, (int)(C ? n / (x->t.dims[0] * C) : 1));
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "epsilon", 1e-5f));
  return MACE_OK;
}

static MaceStatus
plan_instancenorm (MaceClOpCtx *ctx)
{
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  if (!x || !y || x->t.ndim < 3 || !mace_cl_in (ctx, 1) || !mace_cl_in (ctx, 2))
    return mace_cl_unsupported (ctx, "bad inputs");
  int64_t C = x->t.dims[1], rows = x->t.dims[0] * C;
  if (numel (mace_cl_in (ctx, 1)) != C || numel (mace_cl_in (ctx, 2)) != C)
    return mace_cl_unsupported (ctx, "scale/bias are not per channel");
  cl_mem xm = mace_cl_in_mem (ctx, 0), sm = mace_cl_in_mem (ctx, 1);
  cl_mem bm = mace_cl_in_mem (ctx, 2), ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !sm || !bm || !ym)
    return ctx->err->status;
  size_t gws = (size_t)rows;
  MaceClLaunch *l = mace_cl_launch (ctx, "norm", "instancenorm", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, sm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)rows);
  mace_cl_arg_int (l, (int)C);
  mace_cl_arg_int (l, (int)(rows ? numel (x) / rows : 0));
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "epsilon", 1e-5f));
  return MACE_OK;
}

static MaceStatus
plan_layernorm (MaceClOpCtx *ctx)
{
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  const MaceValue *s = mace_cl_in (ctx, 1), *b = mace_cl_in (ctx, 2);
  if (!x || !y || !s || x->t.ndim < 1)
    return mace_cl_unsupported (ctx, "bad inputs");
  int axis = mace_cl_axis (mace_attr_int (ctx->node, "axis", -1), x->t.ndim);
  if (axis < 0)
    return mace_cl_unsupported (ctx, "bad axis");
  int64_t rows = 1, len = 1;
  for (int d = 0; d < x->t.ndim; d++)
    if (d < axis)
      rows *= x->t.dims[d];
    else
      len *= x->t.dims[d];
  int ss = numel (s) == len ? 1 : numel (s) == 1 ? 0 : -1;
  int bs = !b ? 0 : numel (b) == len ? 1 : numel (b) == 1 ? 0 : -1;
  if (ss < 0 || bs < 0)
    return mace_cl_unsupported (ctx, "scale/bias broadcast partially");
  const MaceValue *mo = mace_cl_out (ctx, 1), *io = mace_cl_out (ctx, 2);
  if ((mo && numel (mo) != rows) || (io && numel (io) != rows))
    return mace_cl_unsupported (ctx, "unexpected statistics shape");
  cl_mem xm = mace_cl_in_mem (ctx, 0), sm = mace_cl_in_mem (ctx, 1);
  cl_mem bm = b ? mace_cl_in_mem (ctx, 2) : sm, ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !sm || !bm || !ym)
    return ctx->err->status;
  cl_mem mm = mo ? mace_cl_out_mem (ctx, 1) : NULL;
  cl_mem im = io ? mace_cl_out_mem (ctx, 2) : NULL;
  if ((mo && !mm) || (io && !im))
    return ctx->err->status;
  bool stats = mo || io;
  if (stats && !(mm && im))
    return mace_cl_unsupported (ctx, "only one of Mean / InvStdDev is used");
  size_t gws = (size_t)rows;
  MaceClLaunch *l = mace_cl_launch (ctx, "norm", "layernorm", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, sm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_mem (l, mm ? mm : ym);
  mace_cl_arg_mem (l, im ? im : ym);
  mace_cl_arg_int (l, (int)rows);
  mace_cl_arg_int (l, (int)len);
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "epsilon", 1e-5f));
  mace_cl_arg_int (l, ss);
  mace_cl_arg_int (l, bs);
  mace_cl_arg_int (l, b != NULL);
  mace_cl_arg_int (l, stats);
  return MACE_OK;
}

static MaceStatus
plan_lrn (MaceClOpCtx *ctx)
{
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  if (!x || !y || x->t.ndim < 2)
    return mace_cl_unsupported (ctx, "bad inputs");
  int64_t size = mace_attr_int (ctx->node, "size", 0);
  if (size <= 0)
    return mace_cl_unsupported (ctx, "bad size");
  cl_mem xm = mace_cl_in_mem (ctx, 0), ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !ym)
    return ctx->err->status;
  int64_t n = numel (x), C = x->t.dims[1];
  size_t gws = (size_t)n;
  MaceClLaunch *l = mace_cl_launch (ctx, "norm", "lrn", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)n);
  mace_cl_arg_int (l, (int)C);
  mace_cl_arg_int (l, (int)(C ? n / (x->t.dims[0] * C) : 1));
  mace_cl_arg_int (l, (int)size);
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "alpha", 1e-4f));
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "beta", 0.75f));
  mace_cl_arg_float (l, mace_attr_float (ctx->node, "bias", 1.0f));
  return MACE_OK;
}

const MaceClOp mace_cl_ops_norm[] = {
  { "BatchNormalization", plan_batchnorm, false },
  { "InstanceNormalization", plan_instancenorm, false },
  { "LayerNormalization", plan_layernorm, false },
  { "LRN", plan_lrn, false },
  { NULL, NULL, false },
};
