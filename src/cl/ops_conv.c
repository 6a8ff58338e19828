/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of Conv and ConvTranspose (kernels/conv.cl): 1-D and 2-D,
 * groups, strides, pads / auto_pad, dilations; Conv with fused bias,
 * residual (node->fused_add) and activation (node->act). */
#include <string.h>

#include "cl/ops.h"

typedef struct {
  int ns;
  int64_t N, C, H, W, M, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw, group;
} ConvShape;

/* Reads the shared attributes; the spatial axes of 1-D convolutions are
 * mapped to (1, W). */
static bool
conv_shape (MaceClOpCtx *ctx, ConvShape *s, bool transpose)
{
  MaceNode *n = ctx->node;
  const MaceValue *x = mace_cl_in (ctx, 0), *w = mace_cl_in (ctx, 1);
  const MaceValue *y = mace_cl_out (ctx, 0);
  if (!x || !w || !y)
    return false;
  int nd = x->t.ndim, ns = nd - 2;
  if (ns < 1 || ns > 2 || w->t.ndim != nd || y->t.ndim != nd) {
    mace_cl_unsupported (ctx, "%d spatial axes (1 or 2 supported)", ns);
    return false;
  }
  memset (s, 0, sizeof *s);
  s->ns = ns;
  s->group = mace_attr_int (n, "group", 1);
  int cnt;
  int64_t k[2], st[2] = { 1, 1 }, dil[2] = { 1, 1 }, pb[2] = { 0, 0 };
  for (int d = 0; d < ns; d++)
    k[d] = w->t.dims[2 + d];
  const int64_t *a = mace_attr_ints (n, "strides", &cnt);
  if (a && cnt == ns)
    memcpy (st, a, sizeof (int64_t) * (size_t) ns);
  a = mace_attr_ints (n, "dilations", &cnt);
  if (a && cnt == ns)
    memcpy (dil, a, sizeof (int64_t) * (size_t) ns);
  const char *ap = mace_attr_string (n, "auto_pad", "NOTSET");
  bool same = strcmp (ap, "SAME_UPPER") == 0 || strcmp (ap, "SAME_LOWER") == 0;
  int np = 0;
  const int64_t *pads = mace_attr_ints (n, "pads", &np);
  int nos = 0;
  mace_attr_ints (n, "output_shape", &nos);
  for (int d = 0; d < ns; d++) {
    int64_t in = x->t.dims[2 + d], out = y->t.dims[2 + d];
    if (transpose && (same || (nos && !pads))) {
      int nop = 0;
      const int64_t *op = mace_attr_ints (n, "output_padding", &nop);
      int64_t total = st[d] * (in - 1) + (op && nop == ns ? op[d] : 0)
                      + (k[d] - 1) * dil[d] + 1 - out;
      if (total < 0)
        total = 0;
      /* As ONNX's reference: SAME_UPPER puts the extra pad at the end. */
      pb[d] = strcmp (ap, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
    } else if (same) {
      int64_t total = (out - 1) * st[d] + (k[d] - 1) * dil[d] + 1 - in;
      if (total < 0)
        total = 0;
      pb[d] = strcmp (ap, "SAME_UPPER") == 0 ? total / 2 : (total + 1) / 2;
    } else if (pads && strcmp (ap, "VALID") != 0) {
      if (np != 2 * ns) {
        mace_cl_unsupported (ctx, "bad pads");
        return false;
      }
      pb[d] = pads[d];
    }
  }
  s->N = x->t.dims[0];
  s->C = x->t.dims[1];
  s->M = y->t.dims[1];
  int o = ns == 1 ? 1 : 0; /* index of the first real spatial axis */
  s->H = o ? 1 : x->t.dims[2];
  s->W = x->t.dims[1 + ns];
  s->OH = o ? 1 : y->t.dims[2];
  s->OW = y->t.dims[1 + ns];
  s->KH = o ? 1 : k[0];
  s->KW = k[ns - 1];
  s->sh = o ? 1 : st[0];
  s->sw = st[ns - 1];
  s->dh = o ? 1 : dil[0];
  s->dw = dil[ns - 1];
  s->ph = o ? 0 : pb[0];
  s->pw = pb[ns - 1];
  if (s->group <= 0 || s->C % s->group || s->M % s->group) {
    mace_cl_unsupported (ctx, "bad group");
    return false;
  }
  return true;
}

static void
conv_params (const ConvShape *s, int *p)
{
  int64_t v[16] = { s->N,  s->C,  s->H,  s->W,  s->M,  s->OH,
                    s->OW, s->KH, s->KW, s->sh, s->sw, s->ph,
                    s->pw, s->dh, s->dw, s->group };
  for (int i = 0; i < 16; i++)
    p[i] = (int) v[i];
}

static MaceStatus
plan_conv (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  ConvShape s;
  if (!conv_shape (ctx, &s, false))
    return ctx->why[0] ? MACE_ERROR_UNSUPPORTED
                       : mace_cl_unsupported (ctx, "bad inputs");
  const MaceValue *wv = mace_cl_in (ctx, 1);
  if (wv->t.dims[0] != s.M || wv->t.dims[1] * s.group != s.C)
    return mace_cl_unsupported (ctx, "weight shape does not match");
  const MaceValue *bias = mace_cl_in (ctx, 2);
  const MaceValue *res = n->fused_add >= 0 ? mace_cl_in (ctx, n->fused_add)
                                           : NULL;
  const MaceValue *y = mace_cl_out (ctx, 0);
  if (res && !mace_shape_equal (res->t.ndim, res->t.dims, y->t.ndim,
                                y->t.dims))
    return mace_cl_unsupported (ctx, "fused residual is broadcast");
  if (res && res->t.dtype != MACE_DTYPE_FLOAT32)
    return mace_cl_unsupported (ctx, "fused residual is not float32");
  cl_mem xm = mace_cl_in_mem (ctx, 0), wm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  cl_mem bm = bias ? mace_cl_in_mem (ctx, 2) : xm;
  cl_mem rm = res ? mace_cl_in_mem (ctx, n->fused_add) : xm;
  if (!xm || !wm || !ym || !bm || !rm)
    return ctx->err->status;
  int p[16];
  conv_params (&s, p);
  const char *kname;
  size_t gws[3];
  if (s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0
      && s.pw == 0 && s.group == 1 && s.OH == s.H && s.OW == s.W) {
    kname = "conv2d_1x1";
    gws[0] = (size_t) (s.OH * s.OW);
    gws[1] = (size_t) s.M;
    gws[2] = (size_t) s.N;
  } else {
    if (s.group == s.C && s.group == s.M)
      kname = "conv2d_dw";
    else if (s.KH == 3 && s.KW == 3)
      kname = "conv2d_3x3";
    else
      kname = "conv2d";
    gws[0] = (size_t) s.OW;
    gws[1] = (size_t) s.OH;
    gws[2] = (size_t) (s.N * s.M);
  }
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", kname, 3, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, wm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, rm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_ints (ctx, l, p, 16);
  mace_cl_arg_int (l, bias != NULL);
  mace_cl_arg_int (l, res != NULL);
  mace_cl_arg_int (l, (int) n->act);
  mace_cl_arg_float (l, n->act_alpha);
  mace_cl_arg_float (l, n->act_beta);
  return MACE_OK;
}

static MaceStatus
plan_conv_transpose (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  if (n->act != MACE_ACT_NONE || n->fused_add >= 0)
    return mace_cl_unsupported (ctx, "fused activation / residual");
  ConvShape s;
  if (!conv_shape (ctx, &s, true))
    return ctx->why[0] ? MACE_ERROR_UNSUPPORTED
                       : mace_cl_unsupported (ctx, "bad inputs");
  const MaceValue *wv = mace_cl_in (ctx, 1);
  if (wv->t.dims[0] != s.C || wv->t.dims[1] * s.group != s.M)
    return mace_cl_unsupported (ctx, "weight shape does not match");
  const MaceValue *bias = mace_cl_in (ctx, 2);
  cl_mem xm = mace_cl_in_mem (ctx, 0), wm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  cl_mem bm = bias ? mace_cl_in_mem (ctx, 2) : xm;
  if (!xm || !wm || !ym || !bm)
    return ctx->err->status;
  int p[16];
  conv_params (&s, p);
  size_t gws[3] = { (size_t) s.OW, (size_t) s.OH, (size_t) (s.N * s.M) };
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", "conv_transpose2d", 3, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, wm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_ints (ctx, l, p, 16);
  mace_cl_arg_int (l, bias != NULL);
  return MACE_OK;
}

const MaceClOp mace_cl_ops_conv[] = {
  { "Conv", plan_conv, false },
  { "ConvTranspose", plan_conv_transpose, false },
  { NULL, NULL, false },
};
