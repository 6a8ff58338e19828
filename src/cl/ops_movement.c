/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of data-movement ops (kernels/movement.cl): Transpose,
 * Concat, Split, Slice, Pad, Tile, Expand, DepthToSpace, SpaceToDepth,
 * and the reshapes (Reshape, Flatten, Squeeze, Unsqueeze) as copies. */
#include <string.h>

#include "cl/ops.h"

static int64_t
numel (const MaceValue *v)
{
  return mace_shape_numel (v->t.ndim, v->t.dims);
}

/* One copy_strided launch over dims (nd axes). */
static MaceStatus
plan_strided (MaceClOpCtx *ctx, cl_mem x, cl_mem y, int nd, const int64_t *dims,
              const int64_t *sstr, const int64_t *dstr, int64_t soff,
              int64_t doff)
{
  int64_t n = mace_shape_numel (nd, dims);
  if (n == 0)
    return MACE_OK;
  int p[3 + 3 * MACE_MAX_DIMS * 2];
  if (nd == 0) {
    p[0] = 1;
    p[1] = 1;
    p[2] = 0;
    p[3] = 0;
    p[4] = (int)soff;
    p[5] = (int)doff;
    nd = 1;
  } else {
    p[0] = nd;
    for (int d = 0; d < nd; d++) {
      p[1 + d] = (int)dims[d];
      p[1 + nd + d] = (int)sstr[d];
      p[1 + 2 * nd + d] = (int)dstr[d];
    }
    p[1 + 3 * nd] = (int)soff;
    p[2 + 3 * nd] = (int)doff;
  }
  size_t gws = (size_t)n;
  MaceClLaunch *l = mace_cl_launch (ctx, "movement", "copy_strided", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)n);
  mace_cl_arg_ints (ctx, l, p, 3 + 3 * nd);
  return MACE_OK;
}

static MaceStatus
io_mems (MaceClOpCtx *ctx, cl_mem *x, cl_mem *y)
{
  if (!mace_cl_in (ctx, 0) || !mace_cl_out (ctx, 0))
    return mace_cl_unsupported (ctx, "bad inputs");
  *x = mace_cl_in_mem (ctx, 0);
  *y = mace_cl_out_mem (ctx, 0);
  if (!*x || !*y)
    return ctx->err->status;
  return MACE_OK;
}

/* Reshape, Flatten, Squeeze, Unsqueeze: the bytes do not change. */
static MaceStatus
plan_reshape (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  if (numel (mace_cl_in (ctx, 0)) != numel (mace_cl_out (ctx, 0)))
    return mace_cl_unsupported (ctx, "element counts differ");
  mace_cl_copy (ctx, x, 0, y, 0,
                (size_t)numel (mace_cl_out (ctx, 0)) * sizeof (float));
  return MACE_OK;
}

static MaceStatus
plan_transpose (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  int nd = in->ndim, np = 0;
  const int64_t *perm_attr = mace_attr_ints (ctx->node, "perm", &np);
  int64_t perm[MACE_MAX_DIMS], dims[MACE_MAX_DIMS], istr[MACE_MAX_DIMS];
  int64_t sstr[MACE_MAX_DIMS], dstr[MACE_MAX_DIMS];
  if (perm_attr && np != nd)
    return mace_cl_unsupported (ctx, "perm has %d entries for rank %d", np, nd);
  for (int d = 0; d < nd; d++) {
    perm[d] = perm_attr ? mace_cl_axis (perm_attr[d], nd) : nd - 1 - d;
    if (perm[d] < 0)
      return mace_cl_unsupported (ctx, "bad perm");
  }
  mace_cl_strides (nd, in->dims, istr);
  for (int d = 0; d < nd; d++) {
    dims[d] = in->dims[perm[d]];
    sstr[d] = istr[perm[d]];
  }
  mace_cl_strides (nd, dims, dstr);
  return plan_strided (ctx, x, y, nd, dims, sstr, dstr, 0, 0);
}

static MaceStatus
plan_concat (MaceClOpCtx *ctx)
{
  const MaceValue *out = mace_cl_out (ctx, 0);
  if (!out)
    return mace_cl_unsupported (ctx, "bad outputs");
  int nd = out->t.ndim;
  int axis = mace_cl_axis (mace_attr_int (ctx->node, "axis", 1), nd);
  if (axis < 0)
    return mace_cl_unsupported (ctx, "bad axis");
  cl_mem y = mace_cl_out_mem (ctx, 0);
  if (!y)
    return ctx->err->status;
  int64_t ostr[MACE_MAX_DIMS], istr[MACE_MAX_DIMS];
  mace_cl_strides (nd, out->t.dims, ostr);
  int64_t off = 0;
  for (int k = 0; k < ctx->node->n_in; k++) {
    const MaceValue *in = mace_cl_in (ctx, k);
    if (!in)
      continue;
    if (in->t.ndim != nd)
      return mace_cl_unsupported (ctx, "input ranks differ");
    if (numel (in) > 0) {
      cl_mem x = mace_cl_in_mem (ctx, k);
      if (!x)
        return ctx->err->status;
      mace_cl_strides (nd, in->t.dims, istr);
      MaceStatus st = plan_strided (ctx, x, y, nd, in->t.dims, istr, ostr, 0,
                                    off * ostr[axis]);
      if (st != MACE_OK)
        return st;
    }
    off += in->t.dims[axis];
  }
  return MACE_OK;
}

/* Split: each output's extent along the axis comes from its inferred
 * shape, so the split sizes (attribute or input) need no reading here. */
static MaceStatus
plan_split (MaceClOpCtx *ctx)
{
  const MaceValue *in = mace_cl_in (ctx, 0);
  if (!in)
    return mace_cl_unsupported (ctx, "bad inputs");
  int nd = in->t.ndim;
  int axis = mace_cl_axis (mace_attr_int (ctx->node, "axis", 0), nd);
  if (axis < 0)
    return mace_cl_unsupported (ctx, "bad axis");
  cl_mem x = mace_cl_in_mem (ctx, 0);
  if (!x)
    return ctx->err->status;
  int64_t istr[MACE_MAX_DIMS], ostr[MACE_MAX_DIMS];
  mace_cl_strides (nd, in->t.dims, istr);
  int64_t off = 0;
  for (int k = 0; k < ctx->node->n_out; k++) {
    const MaceValue *out = mace_cl_out (ctx, k);
    if (!out)
      return mace_cl_unsupported (ctx, "absent output");
    if (out->t.ndim != nd)
      return mace_cl_unsupported (ctx, "output ranks differ");
    cl_mem y = mace_cl_out_mem (ctx, k);
    if (!y)
      return ctx->err->status;
    mace_cl_strides (nd, out->t.dims, ostr);
    MaceStatus st = plan_strided (ctx, x, y, nd, out->t.dims, istr, ostr,
                                  off * istr[axis], 0);
    if (st != MACE_OK)
      return st;
    off += out->t.dims[axis];
  }
  if (off != in->t.dims[axis])
    return mace_cl_unsupported (ctx, "outputs do not cover the input");
  return MACE_OK;
}

static MaceStatus
plan_slice (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  const MaceTensor *out = &mace_cl_out (ctx, 0)->t;
  int nd = in->ndim;
  int64_t starts[MACE_MAX_DIMS], ends[MACE_MAX_DIMS], axes[MACE_MAX_DIMS];
  int64_t steps[MACE_MAX_DIMS];
  int ns, ne, na = -1, nst = -1;
  if (ctx->opset < 10) {
    const int64_t *a;
    if (!(a = mace_attr_ints (ctx->node, "starts", &ns)) || ns > nd)
      return mace_cl_unsupported (ctx, "bad starts");
    memcpy (starts, a, sizeof (int64_t) * (size_t)ns);
    if (!(a = mace_attr_ints (ctx->node, "ends", &ne)) || ne != ns)
      return mace_cl_unsupported (ctx, "bad ends");
    memcpy (ends, a, sizeof (int64_t) * (size_t)ne);
    if ((a = mace_attr_ints (ctx->node, "axes", &na))) {
      if (na != ns)
        return mace_cl_unsupported (ctx, "bad axes");
      memcpy (axes, a, sizeof (int64_t) * (size_t)na);
    } else {
      na = -1;
    }
  } else {
    ns = mace_cl_const_ints (ctx, 1, starts, MACE_MAX_DIMS);
    ne = mace_cl_const_ints (ctx, 2, ends, MACE_MAX_DIMS);
    if (ns < 0 || ne != ns)
      return mace_cl_unsupported (ctx, "starts/ends are not constant");
    if (mace_cl_in (ctx, 3)) {
      na = mace_cl_const_ints (ctx, 3, axes, MACE_MAX_DIMS);
      if (na != ns)
        return mace_cl_unsupported (ctx, "axes are not constant");
    }
    if (mace_cl_in (ctx, 4)) {
      nst = mace_cl_const_ints (ctx, 4, steps, MACE_MAX_DIMS);
      if (nst != ns)
        return mace_cl_unsupported (ctx, "steps are not constant");
    }
  }
  int64_t istr[MACE_MAX_DIMS], sstr[MACE_MAX_DIMS], dstr[MACE_MAX_DIMS];
  int64_t soff = 0;
  mace_cl_strides (nd, in->dims, istr);
  for (int d = 0; d < nd; d++)
    sstr[d] = istr[d];
  for (int i = 0; i < ns; i++) {
    int ax = na >= 0 ? mace_cl_axis (axes[i], nd) : i;
    if (ax < 0)
      return mace_cl_unsupported (ctx, "bad axis");
    int64_t dim = in->dims[ax], step = nst >= 0 ? steps[i] : 1;
    if (step == 0)
      return mace_cl_unsupported (ctx, "step 0");
    int64_t s = starts[i];
    if (s < 0)
      s += dim;
    if (step > 0)
      s = s < 0 ? 0 : (s > dim ? dim : s);
    else
      s = s < 0 ? 0 : (s > dim - 1 ? dim - 1 : s);
    soff += s * istr[ax];
    sstr[ax] = istr[ax] * step;
  }
  if (out->ndim != nd)
    return mace_cl_unsupported (ctx, "output rank differs");
  mace_cl_strides (nd, out->dims, dstr);
  return plan_strided (ctx, x, y, nd, out->dims, sstr, dstr, soff, 0);
}

static MaceStatus
plan_pad (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  const MaceTensor *out = &mace_cl_out (ctx, 0)->t;
  int nd = in->ndim;
  const char *mode_s = mace_attr_string (ctx->node, "mode", "constant");
  int mode;
  if (strcmp (mode_s, "constant") == 0)
    mode = PAD_CONSTANT;
  else if (strcmp (mode_s, "reflect") == 0)
    mode = PAD_REFLECT;
  else if (strcmp (mode_s, "edge") == 0)
    mode = PAD_EDGE;
  else if (strcmp (mode_s, "wrap") == 0)
    mode = PAD_WRAP;
  else
    return mace_cl_unsupported (ctx, "mode '%s'", mode_s);
  int64_t pads[2 * MACE_MAX_DIMS], axes[MACE_MAX_DIMS];
  int npads;
  float value = 0.0f;
  if (ctx->opset < 11) {
    const int64_t *a = mace_attr_ints (ctx->node, "pads", &npads);
    if (!a || npads != 2 * nd)
      return mace_cl_unsupported (ctx, "bad pads");
    memcpy (pads, a, sizeof (int64_t) * (size_t)npads);
    value = mace_attr_float (ctx->node, "value", 0.0f);
  } else {
    npads = mace_cl_const_ints (ctx, 1, pads, 2 * MACE_MAX_DIMS);
    if (npads < 0)
      return mace_cl_unsupported (ctx, "pads are not constant");
    if (mace_cl_in (ctx, 2) && mace_cl_const_floats (ctx, 2, &value, 1) != 1)
      return mace_cl_unsupported (ctx, "constant_value is not constant");
  }
  int64_t lead[MACE_MAX_DIMS] = { 0 };
  if (mace_cl_in (ctx, 3)) {
    int na = mace_cl_const_ints (ctx, 3, axes, MACE_MAX_DIMS);
    if (na < 0 || npads != 2 * na)
      return mace_cl_unsupported (ctx, "axes are not constant");
    for (int i = 0; i < na; i++) {
      int ax = mace_cl_axis (axes[i], nd);
      if (ax < 0)
        return mace_cl_unsupported (ctx, "bad axis");
      lead[ax] = pads[i];
    }
  } else {
    if (npads != 2 * nd)
      return mace_cl_unsupported (ctx, "pads has %d entries for rank %d", npads,
                                  nd);
    for (int d = 0; d < nd; d++)
      lead[d] = pads[d];
  }
  if (out->ndim != nd || nd == 0)
    return mace_cl_unsupported (ctx, "bad output rank");
  if (mode != PAD_CONSTANT && mace_shape_numel (nd, in->dims) == 0)
    return mace_cl_unsupported (ctx, "padding an empty tensor");
  int p[1 + 3 * MACE_MAX_DIMS];
  p[0] = nd;
  for (int d = 0; d < nd; d++) {
    p[1 + d] = (int)out->dims[d];
    p[1 + nd + d] = (int)in->dims[d];
    p[1 + 2 * nd + d] = (int)lead[d];
  }
  size_t gws = (size_t)mace_shape_numel (nd, out->dims);
  MaceClLaunch *l = mace_cl_launch (ctx, "movement", "pad", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_int (l, mode);
  mace_cl_arg_float (l, value);
  mace_cl_arg_ints (ctx, l, p, 1 + 3 * nd);
  return MACE_OK;
}

static MaceStatus
plan_tile (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  const MaceTensor *out = &mace_cl_out (ctx, 0)->t;
  int nd = in->ndim;
  if (out->ndim != nd || nd == 0)
    return mace_cl_unsupported (ctx, "bad output rank");
  if (mace_shape_numel (nd, in->dims) == 0)
    return mace_cl_unsupported (ctx, "empty input");
  int p[1 + 2 * MACE_MAX_DIMS];
  p[0] = nd;
  for (int d = 0; d < nd; d++) {
    p[1 + d] = (int)out->dims[d];
    p[1 + nd + d] = (int)in->dims[d];
  }
  size_t gws = (size_t)mace_shape_numel (nd, out->dims);
  MaceClLaunch *l = mace_cl_launch (ctx, "movement", "tile", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, x);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_ints (ctx, l, p, 1 + 2 * nd);
  return MACE_OK;
}

static MaceStatus
plan_expand (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  const MaceTensor *out = &mace_cl_out (ctx, 0)->t;
  int nd = out->ndim;
  if (in->ndim > nd)
    return mace_cl_unsupported (ctx, "bad output rank");
  int64_t istr[MACE_MAX_DIMS], sstr[MACE_MAX_DIMS], dstr[MACE_MAX_DIMS];
  mace_cl_strides (in->ndim, in->dims, istr);
  for (int d = 0; d < nd; d++) {
    int id = d - (nd - in->ndim);
    sstr[d] = id < 0 || in->dims[id] == 1 ? 0 : istr[id];
  }
  mace_cl_strides (nd, out->dims, dstr);
  return plan_strided (ctx, x, y, nd, out->dims, sstr, dstr, 0, 0);
}

/* DepthToSpace (DCR / CRD) and SpaceToDepth as 6-D strided copies. */
static MaceStatus
plan_depth_space (MaceClOpCtx *ctx)
{
  cl_mem x = NULL, y = NULL;
  MaceStatus st = io_mems (ctx, &x, &y);
  if (st != MACE_OK)
    return st;
  const MaceTensor *in = &mace_cl_in (ctx, 0)->t;
  if (in->ndim != 4)
    return mace_cl_unsupported (ctx, "rank %d (4 expected)", in->ndim);
  int64_t b = mace_attr_int (ctx->node, "blocksize", 0);
  if (b <= 0)
    return mace_cl_unsupported (ctx, "bad blocksize");
  int64_t N = in->dims[0], C = in->dims[1], H = in->dims[2], W = in->dims[3];
  int64_t dims[6], sstr[6], dstr[6];
  if (strcmp (ctx->node->op_type, "DepthToSpace") == 0) {
    if (C % (b * b))
      return mace_cl_unsupported (ctx, "channels not divisible");
    int64_t Co = C / (b * b);
    bool crd = strcmp (mace_attr_string (ctx->node, "mode", "DCR"), "CRD") == 0;
    int64_t sN = C * H * W, sC, sb1, sb2;
    if (crd) {
      sC = b * b * H * W;
      sb1 = b * H * W;
      sb2 = H * W;
    } else {
      sb1 = b * Co * H * W;
      sb2 = Co * H * W;
      sC = H * W;
    }
    int64_t d6[6] = { N, Co, H, b, W, b };
    int64_t s6[6] = { sN, sC, W, sb1, 1, sb2 };
    memcpy (dims, d6, sizeof d6);
    memcpy (sstr, s6, sizeof s6);
  } else {
    if (H % b || W % b)
      return mace_cl_unsupported (ctx, "spatial size not divisible");
    int64_t Ho = H / b, Wo = W / b;
    int64_t d6[6] = { N, b, b, C, Ho, Wo };
    int64_t s6[6] = { C * H * W, W, 1, H * W, b * W, b };
    memcpy (dims, d6, sizeof d6);
    memcpy (sstr, s6, sizeof s6);
  }
  mace_cl_strides (6, dims, dstr);
  return plan_strided (ctx, x, y, 6, dims, sstr, dstr, 0, 0);
}

/* Gather and GatherElements: float32 data, int64 indices. */
static MaceStatus
plan_gather (MaceClOpCtx *ctx)
{
  static const MaceDataType in_t[] = { MACE_DTYPE_FLOAT32, MACE_DTYPE_INT64 };
  static const MaceDataType out_t[] = { MACE_DTYPE_FLOAT32 };
  if (!mace_cl_check_dtypes (ctx, in_t, 2, out_t, 1))
    return MACE_ERROR_UNSUPPORTED;
  const MaceValue *x = mace_cl_in (ctx, 0), *ix = mace_cl_in (ctx, 1);
  const MaceValue *y = mace_cl_out (ctx, 0);
  if (!x || !ix || !y || x->t.ndim < 1)
    return mace_cl_unsupported (ctx, "bad inputs");
  int nd = x->t.ndim;
  int axis = mace_cl_axis (mace_attr_int (ctx->node, "axis", 0), nd);
  if (axis < 0 || x->t.dims[axis] == 0)
    return mace_cl_unsupported (ctx, "bad axis");
  bool elements = strcmp (ctx->node->op_type, "GatherElements") == 0;
  if (elements && ix->t.ndim != nd)
    return mace_cl_unsupported (ctx, "index rank differs");
  cl_mem xm = mace_cl_in_mem (ctx, 0), im = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !im || !ym)
    return ctx->err->status;
  size_t gws = (size_t)numel (y);
  MaceClLaunch *l = mace_cl_launch (
      ctx, "movement", elements ? "gather_elements" : "gather", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, im);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)gws);
  if (elements) {
    int64_t str[MACE_MAX_DIMS];
    mace_cl_strides (nd, x->t.dims, str);
    int p[3 + 2 * MACE_MAX_DIMS];
    p[0] = nd;
    for (int d = 0; d < nd; d++) {
      p[1 + d] = (int)ix->t.dims[d];
      p[1 + nd + d] = (int)str[d];
    }
    p[1 + 2 * nd] = axis;
    p[2 + 2 * nd] = (int)x->t.dims[axis];
    mace_cl_arg_ints (ctx, l, p, 3 + 2 * nd);
  } else {
    int64_t inner = 1;
    for (int d = axis + 1; d < nd; d++)
      inner *= x->t.dims[d];
    mace_cl_arg_int (l, (int)numel (ix));
    mace_cl_arg_int (l, (int)inner);
    mace_cl_arg_int (l, (int)x->t.dims[axis]);
  }
  return MACE_OK;
}

const MaceClOp mace_cl_ops_movement[] = {
  { "Reshape", plan_reshape, false },
  { "Flatten", plan_reshape, false },
  { "Squeeze", plan_reshape, false },
  { "Unsqueeze", plan_reshape, false },
  { "Transpose", plan_transpose, false },
  { "Concat", plan_concat, false },
  { "Split", plan_split, false },
  { "Slice", plan_slice, false },
  { "Pad", plan_pad, false },
  { "Tile", plan_tile, false },
  { "Expand", plan_expand, false },
  { "DepthToSpace", plan_depth_space, false },
  { "SpaceToDepth", plan_depth_space, false },
  { "Gather", plan_gather, true },
  { "GatherElements", plan_gather, true },
  { NULL, NULL, false },
};
