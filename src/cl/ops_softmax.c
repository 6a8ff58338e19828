/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of Softmax, LogSoftmax and Hardmax (kernels/softmax.cl):
 * opset < 13 flattens to 2-D at `axis`, 13+ works along one axis. */
#include <string.h>

#include "cl/ops.h"

static MaceStatus
plan_softmax (MaceClOpCtx *ctx)
{
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (!in || !out)
    return mace_cl_unsupported (ctx, "bad inputs");
  const char *op = ctx->node->op_type;
  int mode = strcmp (op, "Softmax") == 0      ? SOFTMAX
             : strcmp (op, "LogSoftmax") == 0 ? LOGSOFTMAX
                                              : HARDMAX;
  int nd = in->t.ndim;
  bool legacy = ctx->opset < 13;
  int64_t axis_attr = mace_attr_int (ctx->node, "axis", legacy ? 1 : -1);
  if (nd == 0)
    return mace_cl_unsupported (ctx, "scalar input");
  int axis = mace_cl_axis (axis_attr, nd);
  if (legacy && axis_attr == nd)
    axis = nd;
  if (axis < 0)
    return mace_cl_unsupported (ctx, "bad axis");
  int64_t outer = 1, len = 1, inner = 1;
  for (int d = 0; d < nd; d++) {
    if (d < axis)
      outer *= in->t.dims[d];
    else if (legacy || d == axis)
      len *= in->t.dims[d];
    else
      inner *= in->t.dims[d];
  }
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  size_t gws[2] = { (size_t)inner, (size_t)outer };
  MaceClLaunch *l = mace_cl_launch (ctx, "softmax", "softmax", 2, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)len);
  mace_cl_arg_int (l, (int)inner);
  mace_cl_arg_int (l, mode);
  return MACE_OK;
}

const MaceClOp mace_cl_ops_softmax[] = {
  { "Softmax", plan_softmax, false },
  { "LogSoftmax", plan_softmax, false },
  { "Hardmax", plan_softmax, false },
  { NULL, NULL, false },
};
