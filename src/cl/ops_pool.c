/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of pooling (kernels/pool.cl): MaxPool and AveragePool with
 * 1-3 spatial axes, pads / auto_pad, strides, dilations, ceil mode (from
 * the inferred output shape); GlobalAveragePool and GlobalMaxPool through
 * the reduce kernel. */
#include <string.h>

#include "cl/ops.h"

/* Leading/trailing pads of spatial axis d from the attributes (auto_pad
 * from the inferred output size). */
static bool
spatial_pads (MaceClOpCtx *ctx, int ns, const int64_t *in, const int64_t *out,
              const int64_t *k, const int64_t *s, const int64_t *dil,
              int64_t *pb, int64_t *pe)
{
  const char *ap = mace_attr_string (ctx->node, "auto_pad", "NOTSET");
  int np = 0;
  const int64_t *pads = mace_attr_ints (ctx->node, "pads", &np);
  for (int d = 0; d < ns; d++) {
    if (strcmp (ap, "SAME_UPPER") == 0 || strcmp (ap, "SAME_LOWER") == 0) {
      int64_t total = (out[d] - 1) * s[d] + (k[d] - 1) * dil[d] + 1 - in[d];
      if (total < 0)
        total = 0;
      pb[d] = strcmp (ap, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
      pe[d] = total - pb[d];
    } else if (strcmp (ap, "VALID") == 0 || !pads) {
      pb[d] = pe[d] = 0;
    } else {
      if (np != 2 * ns)
        return false;
      pb[d] = pads[d];
      pe[d] = pads[ns + d];
    }
  }
  return true;
}

static MaceStatus
plan_pool (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (!in || !out)
    return mace_cl_unsupported (ctx, "bad inputs");
  if (mace_cl_out (ctx, 1))
    return mace_cl_unsupported (ctx, "the Indices output is not supported");
  int nd = in->t.ndim, ns = nd - 2;
  if (ns < 1 || ns > 3 || out->t.ndim != nd)
    return mace_cl_unsupported (ctx, "%d spatial axes (1-3 supported)", ns);
  bool is_max = strcmp (n->op_type, "MaxPool") == 0;
  int nk = 0, nst = 0, ndl = 0;
  const int64_t *ka = mace_attr_ints (n, "kernel_shape", &nk);
  const int64_t *sa = mace_attr_ints (n, "strides", &nst);
  const int64_t *da = mace_attr_ints (n, "dilations", &ndl);
  if (!ka || nk != ns || (sa && nst != ns) || (da && ndl != ns))
    return mace_cl_unsupported (ctx, "bad kernel_shape/strides/dilations");
  int64_t k[3], s[3], dil[3], pb[3], pe[3];
  for (int d = 0; d < ns; d++) {
    k[d] = ka[d];
    s[d] = sa ? sa[d] : 1;
    dil[d] = da ? da[d] : 1;
  }
  if (!spatial_pads (ctx, ns, in->t.dims + 2, out->t.dims + 2, k, s, dil, pb,
                     pe))
    return mace_cl_unsupported (ctx, "bad pads");
  int mode = is_max                                      ? POOL_MAX
             : mace_attr_int (n, "count_include_pad", 0) ? POOL_AVG_INCLUDE_PAD
                                                         : POOL_AVG_EXCLUDE_PAD;
  /* Spatial axes right-aligned into D, H, W. */
  int p[22];
  int off = 3 - ns;
  for (int d = 0; d < 3; d++) {
    int sd = d - off;
    p[1 + d] = sd >= 0 ? (int)in->t.dims[2 + sd] : 1;
    p[4 + d] = sd >= 0 ? (int)out->t.dims[2 + sd] : 1;
    p[7 + d] = sd >= 0 ? (int)k[sd] : 1;
    p[10 + d] = sd >= 0 ? (int)s[sd] : 1;
    p[13 + d] = sd >= 0 ? (int)pb[sd] : 0;
    p[16 + d] = sd >= 0 ? (int)pe[sd] : 0;
    p[19 + d] = sd >= 0 ? (int)dil[sd] : 1;
  }
  p[0] = (int)(in->t.dims[0] * in->t.dims[1]);
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  size_t gws = (size_t)mace_shape_numel (out->t.ndim, out->t.dims);
  MaceClLaunch *l = mace_cl_launch (ctx, "pool", "pool", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_int (l, mode);
  mace_cl_arg_ints (ctx, l, p, 22);
  return MACE_OK;
}

static MaceStatus
plan_global_pool (MaceClOpCtx *ctx)
{
  const MaceValue *in = mace_cl_in (ctx, 0), *out = mace_cl_out (ctx, 0);
  if (!in || !out || in->t.ndim < 3)
    return mace_cl_unsupported (ctx, "bad inputs");
  bool reduced[MACE_MAX_DIMS] = { false };
  for (int d = 2; d < in->t.ndim; d++)
    reduced[d] = true;
  cl_mem x = mace_cl_in_mem (ctx, 0), y = mace_cl_out_mem (ctx, 0);
  if (!x || !y)
    return ctx->err->status;
  bool is_max = strcmp (ctx->node->op_type, "GlobalMaxPool") == 0;
  return mace_cl_plan_reduce (ctx, x, y, &in->t, reduced,
                              is_max ? ROP_MAX : ROP_MEAN);
}

const MaceClOp mace_cl_ops_pool[] = {
  { "MaxPool", plan_pool, false },
  { "AveragePool", plan_pool, false },
  { "GlobalAveragePool", plan_global_pool, false },
  { "GlobalMaxPool", plan_global_pool, false },
  { NULL, NULL, false },
};
