/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of Resize and Upsample (kernels/resize.cl), rank <= 4:
 * nearest on any axis, linear / cubic on the last two; scales from a
 * constant input or attribute, or from constant sizes. */
#include <string.h>

#include "cl/ops.h"

static int
lookup (const char *s, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (strcmp (s, names[i]) == 0)
      return i;
  return -1;
}

static MaceStatus
plan_resize (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  const MaceValue *x = mace_cl_in (ctx, 0), *y = mace_cl_out (ctx, 0);
  if (!x || !y || x->t.ndim < 1 || x->t.ndim > 4 || y->t.ndim != x->t.ndim)
    return mace_cl_unsupported (ctx, "rank 1-4 supported");
  bool upsample = strcmp (n->op_type, "Upsample") == 0;
  int nd = x->t.ndim;
  if (mace_node_attr (n, "axes"))
    return mace_cl_unsupported (ctx, "the axes attribute");
  static const char *const modes[] = { "nearest", "linear", "cubic" };
  static const char *const coords[] = { "half_pixel",
                                        "asymmetric",
                                        "pytorch_half_pixel",
                                        "align_corners",
                                        "tf_half_pixel_for_nearest",
                                        "half_pixel_symmetric" };
  static const char *const nearests[]
      = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" };
  const char *mode_s = mace_attr_string (n, "mode", "nearest");
  if (strcmp (mode_s, "bilinear") == 0)
    mode_s = "linear";
  int mode = lookup (mode_s, modes, 3);
  int coord, nearest;
  if (upsample || ctx->opset < 11) {
    coord = COORD_ASYMMETRIC;
    nearest = NEAREST_FLOOR;
    if (mode == RESIZE_CUBIC)
      mode = -1;
  } else {
    coord = lookup (
        mace_attr_string (n, "coordinate_transformation_mode", "half_pixel"),
        coords, 6);
    nearest
        = lookup (mace_attr_string (n, "nearest_mode", "round_prefer_floor"),
                  nearests, 4);
  }
  if (mode < 0 || coord < 0 || nearest < 0)
    return mace_cl_unsupported (ctx, "mode / coordinate transformation");
  float scales[4] = { 1, 1, 1, 1 };
  int ns = -1;
  if (upsample && ctx->opset < 9) {
    const float *a = mace_attr_floats (n, "scales", &ns);
    if (!a || ns != nd)
      return mace_cl_unsupported (ctx, "bad scales");
    memcpy (scales, a, sizeof (float) * (size_t)nd);
  } else {
    int si = upsample || ctx->opset < 11 ? 1 : 2;
    const MaceValue *sv = mace_cl_in (ctx, si);
    if (sv && mace_shape_numel (sv->t.ndim, sv->t.dims) > 0) {
      ns = mace_cl_const_floats (ctx, si, scales, 4);
      if (ns != nd)
        return mace_cl_unsupported (ctx, "scales are not constant");
    } else if (!upsample && mace_cl_in (ctx, 3)) {
      int64_t sizes[4];
      if (mace_cl_const_ints (ctx, 3, sizes, 4) != nd)
        return mace_cl_unsupported (ctx, "sizes are not constant");
      const char *pol
          = mace_attr_string (n, "keep_aspect_ratio_policy", "stretch");
      float s = 0;
      for (int d = 0; d < nd; d++) {
        scales[d] = (float)sizes[d] / (float)x->t.dims[d];
        if (strcmp (pol, "not_larger") == 0)
          s = d == 0 || scales[d] < s ? scales[d] : s;
        else if (strcmp (pol, "not_smaller") == 0)
          s = d == 0 || scales[d] > s ? scales[d] : s;
      }
      if (strcmp (pol, "stretch") != 0)
        for (int d = 0; d < nd; d++)
          scales[d] = s;
    } else {
      return mace_cl_unsupported (ctx, "neither scales nor sizes");
    }
  }
  int ip[8];
  float fp[5];
  int off = 4 - nd;
  for (int d = 0; d < 4; d++) {
    int sd = d - off;
    ip[d] = sd >= 0 ? (int)x->t.dims[sd] : 1;
    ip[4 + d] = sd >= 0 ? (int)y->t.dims[sd] : 1;
    fp[d] = sd >= 0 ? scales[sd] : 1.0f;
    if (fp[d] <= 0)
      return mace_cl_unsupported (ctx, "non-positive scale");
  }
  if (mode != RESIZE_NEAREST && (ip[0] != ip[4] || ip[1] != ip[5]))
    return mace_cl_unsupported (ctx, "linear / cubic beyond the last two axes");
  fp[4] = mace_attr_float (n, "cubic_coeff_a", -0.75f);
  cl_mem xm = mace_cl_in_mem (ctx, 0), ym = mace_cl_out_mem (ctx, 0);
  if (!xm || !ym)
    return ctx->err->status;
  size_t gws = (size_t)mace_shape_numel (y->t.ndim, y->t.dims);
  MaceClLaunch *l = mace_cl_launch (ctx, "resize", "resize", 1, &gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_int (l, (int)gws);
  mace_cl_arg_ints (ctx, l, ip, 8);
  mace_cl_arg_floats (ctx, l, fp, 5);
  mace_cl_arg_int (l, mode);
  mace_cl_arg_int (l, coord);
  mace_cl_arg_int (l, nearest);
  mace_cl_arg_int (l, (int)mace_attr_int (n, "exclude_outside", 0));
  return MACE_OK;
}

const MaceClOp mace_cl_ops_resize[] = {
  { "Resize", plan_resize, false },
  { "Upsample", plan_resize, false },
  { NULL, NULL, false },
};
