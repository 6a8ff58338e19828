/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of Conv and ConvTranspose (kernels/conv.cl): 1-D and 2-D,
 * groups, strides, pads / auto_pad, dilations; Conv with fused bias,
 * residual (node->fused_add) and activation (node->act). */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "cl/ops.h"

typedef struct {
  int ns;
  int64_t N, C, H, W, M, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw, group;
} ConvShape;

/* Reads the shared attributes; the spatial axes of 1-D convolutions are
 * mapped to (1, W). */
static bool
conv_shape (MaceClOpCtx *ctx, ConvShape *s, bool transpose, bool dwpw)
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
    memcpy (st, a, sizeof (int64_t) * (size_t)ns);
  a = mace_attr_ints (n, "dilations", &cnt);
  if (a && cnt == ns)
    memcpy (dil, a, sizeof (int64_t) * (size_t)ns);
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
  /* MaceDwPwConv: the geometry is the depthwise's, M the 1x1's. */
  if (s->group <= 0 || s->C % s->group || (!dwpw && s->M % s->group)) {
    mace_cl_unsupported (ctx, "bad group");
    return false;
  }
  return true;
}

/* Entries of a convolution's parameter buffer (kernels/conv.cl). */
#define CONV_NP 27

/* The geometry and, from the node's layout folds, the strides of x and y
 * and the residual pooling.  False (ctx->why set) when an index would
 * overflow the kernels' int arithmetic. */
static bool
conv_params (MaceClOpCtx *ctx, const ConvShape *s, int *p)
{
  int64_t v[CONV_NP]
      = { s->N,  s->C,  s->H,  s->W,  s->M,  s->OH, s->OW, s->KH,
          s->KW, s->sh, s->sw, s->ph, s->pw, s->dh, s->dw, s->group };
  int64_t chw = s->C * s->H * s->W, mhw = s->M * s->OH * s->OW;
  if (chw > INT32_MAX || mhw > INT32_MAX) {
    mace_cl_unsupported (ctx, "a batch item has more than 2^31 elements");
    return false;
  }
  bool xn = ctx->x_nhwc >= 0;
  v[16] = chw;
  v[17] = xn ? 1 : s->H * s->W;
  v[18] = xn ? s->W * s->C : s->W;
  v[19] = xn ? s->C : 1;
  v[20] = mhw;
  v[21] = ctx->y_nhwc ? 1 : s->OH * s->OW;
  v[22] = ctx->y_nhwc ? s->OW * s->M : s->OW;
  v[23] = ctx->y_nhwc ? s->M : 1;
  if (ctx->res_pool >= 0) {
    const MaceValue *r = &ctx->graph->values[ctx->res_pool];
    v[24] = ctx->res_pool_k;
    v[25] = r->t.dims[2];
    v[26] = r->t.dims[3];
  }
  for (int i = 0; i < CONV_NP; i++)
    p[i] = (int)v[i];
  return true;
}

/* Input 0's buffer, or that of the value an NHWC->NCHW fold reads. */
static cl_mem
conv_x_mem (MaceClOpCtx *ctx)
{
  return ctx->x_nhwc >= 0 ? mace_cl_value_mem (ctx, ctx->x_nhwc)
                          : mace_cl_in_mem (ctx, 0);
}

/* The residual's buffer (input k), or that of the pooled value. */
static cl_mem
conv_res_mem (MaceClOpCtx *ctx, int k)
{
  return ctx->res_pool >= 0 ? mace_cl_value_mem (ctx, ctx->res_pool)
                            : mace_cl_in_mem (ctx, k);
}

static bool
has_folds (const MaceClOpCtx *ctx)
{
  return ctx->x_nhwc >= 0 || ctx->y_nhwc || ctx->res_pool >= 0;
}

/* Register-blocked variants (kernels/conv.cl, conv2d_rb_*): kernel size,
 * work-group x/y and input channels staged per chunk; must match the
 * kernel's CONV_RB_KERNEL line. */
typedef struct {
  const char *name;
  int k, lx, ly, ct;
} RbVariant;

static const RbVariant rb_variants[] = {
  { "conv2d_rb_1x1", 1, 64, 1, 16 },
  { "conv2d_rb_3x3", 3, 8, 8, 8 },
  { "conv2d_rb_5x5", 5, 8, 8, 4 },
  { "conv2d_rb_7x7", 7, 8, 8, 2 },
};
#define RB_PX 4
#define RB_PM 8
#define RB_GZ 4

/* Which convolution kernels to use: MACE_CL_CONV=naive (one output per
 * work-item everywhere), rb (register-blocked wherever the shape allows,
 * for tests), else by size (register-blocked for large outputs, where
 * they pay off; small layers are launch-bound and take the simple ones). */
static int
conv_mode (void)
{
  const char *e = g_getenv ("MACE_CL_CONV");
  if (e && strcmp (e, "naive") == 0)
    return 0;
  if (e && strcmp (e, "rb") == 0)
    return 2;
  return 1;
}

static int64_t
ceil_div (int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

/* Plans the register-blocked kernel when the shape allows it; returns
 * false (nothing appended) when it does not. */
static bool
plan_conv_rb (MaceClOpCtx *ctx, const ConvShape *s0, cl_mem xm, cl_mem bm,
              cl_mem rm, cl_mem ym, bool has_bias, int cr, MaceStatus *st)
{
  MaceNode *n = ctx->node;
  const MaceValue *wv = mace_cl_in (ctx, 1);
  int mode = conv_mode ();
  *st = MACE_OK;
  if (mode == 0 || has_folds (ctx) || s0->group != 1 || s0->sh != 1
      || s0->sw != 1 || s0->dh != 1 || s0->dw != 1 || s0->KH != s0->KW
      || !wv->is_const || !wv->t.data || wv->t.dtype != MACE_DTYPE_FLOAT32)
    return false;
  if (mode == 1 && s0->N * s0->M * s0->OH * s0->OW < ((int64_t)1 << 20))
    return false;
  const RbVariant *v = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (rb_variants); i++)
    if (rb_variants[i].k == s0->KH)
      v = &rb_variants[i];
  if (!v)
    return false;
  ConvShape s = *s0;
  if (s.KH == 1 && s.ph == 0 && s.pw == 0 && s.OH == s.H && s.OW == s.W) {
    /* A GEMM over the flattened pixels. */
    s.W = s.OW = s.H * s.W;
    s.H = s.OH = 1;
  }
  if (s.H * s.W > INT32_MAX || s.N * s.C * s.H * s.W > INT32_MAX * 4LL)
    return false;
  int64_t gz = ceil_div (s.M, RB_PM);
  if (gz > RB_GZ)
    gz = RB_GZ;
  int64_t mt = RB_PM * gz, mpad = ceil_div (s.M, mt) * mt;
  int64_t cpad = ceil_div (s.C, v->ct) * v->ct, kk = s.KH * s.KW;
  /* Packed weights: wp[(c * KK + k) * Mpad + m]. */
  size_t np = (size_t)(cpad * kk * mpad);
  float *wp = g_new0 (float, np);
  const float *w = wv->t.data;
  for (int64_t m = 0; m < s.M; m++)
    for (int64_t c = 0; c < s.C; c++)
      for (int64_t k = 0; k < kk; k++)
        wp[(c * kk + k) * mpad + m] = w[(m * s.C + c) * kk + k];
  size_t gws[3] = { (size_t)(ceil_div (s.OW, v->lx * RB_PX) * v->lx),
                    (size_t)(ceil_div (s.OH, v->ly) * v->ly),
                    (size_t)(s.N * (mpad / mt) * gz) };
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", v->name, 3, gws);
  if (!l) {
    g_free (wp);
    *st = ctx->err->status;
    return true;
  }
  l->fixed_lws = true;
  l->lws[0] = (size_t)v->lx;
  l->lws[1] = (size_t)v->ly;
  l->lws[2] = (size_t)gz;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_floats (ctx, l, wp, (int)np);
  g_free (wp);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, rm);
  mace_cl_arg_mem (l, ym);
  int iv[9] = { (int)s.C,  (int)s.H,  (int)s.W,  (int)s.M, (int)s.OH,
                (int)s.OW, (int)s.ph, (int)s.pw, (int)mpad };
  for (int i = 0; i < 9; i++)
    mace_cl_arg_int (l, iv[i]);
  mace_cl_arg_int (l, has_bias);
  mace_cl_arg_int (l, cr);
  mace_cl_arg_int (l, (int)n->act);
  mace_cl_arg_float (l, n->act_alpha);
  mace_cl_arg_float (l, n->act_beta);
  return true;
}

static MaceStatus
plan_conv (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  ConvShape s;
  if (!conv_shape (ctx, &s, false, false))
    return ctx->why[0] ? MACE_ERROR_UNSUPPORTED
                       : mace_cl_unsupported (ctx, "bad inputs");
  const MaceValue *wv = mace_cl_in (ctx, 1);
  if (wv->t.dims[0] != s.M || wv->t.dims[1] * s.group != s.C)
    return mace_cl_unsupported (ctx, "weight shape does not match");
  /* Input 2 is the bias unless the residual took its place. */
  const MaceValue *bias = n->fused_add != 2 ? mace_cl_in (ctx, 2) : NULL;
  const MaceValue *res
      = n->fused_add >= 0 ? mace_cl_in (ctx, n->fused_add) : NULL;
  const MaceValue *y = mace_cl_out (ctx, 0);
  /* The residual has the output's shape, or fewer channels (a channel
   * padding fused into the conv): channels >= its count get none. */
  int cr = 0;
  if (res) {
    bool ok = res->t.ndim == y->t.ndim && res->t.ndim >= 2
              && res->t.dims[0] == y->t.dims[0] && res->t.dims[1] >= 1
              && res->t.dims[1] <= y->t.dims[1];
    for (int d = 2; ok && d < y->t.ndim; d++)
      ok = res->t.dims[d] == y->t.dims[d];
    if (!ok)
      return mace_cl_unsupported (ctx, "fused residual is broadcast");
    cr = (int)res->t.dims[1];
  }
  if (res && res->t.dtype != MACE_DTYPE_FLOAT32)
    return mace_cl_unsupported (ctx, "fused residual is not float32");
  if (ctx->res_pool >= 0 && !res)
    return mace_cl_unsupported (ctx, "pooled residual without a residual");
  cl_mem xm = conv_x_mem (ctx);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  cl_mem bm = bias ? mace_cl_in_mem (ctx, 2) : xm;
  cl_mem rm = res ? conv_res_mem (ctx, n->fused_add) : xm;
  if (!xm || !ym || !bm || !rm)
    return ctx->err->status;
  MaceStatus st;
  if (plan_conv_rb (ctx, &s, xm, bm, rm, ym, bias != NULL, cr, &st))
    return st;
  cl_mem wm = mace_cl_in_mem (ctx, 1);
  if (!wm)
    return ctx->err->status;
  int p[CONV_NP];
  if (!conv_params (ctx, &s, p))
    return MACE_ERROR_UNSUPPORTED;
  const char *kname;
  size_t gws[3];
  if (s.KH == 1 && s.KW == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0
      && s.group == 1 && s.OH == s.H && s.OW == s.W) {
    kname = "conv2d_1x1";
    gws[0] = (size_t)(s.OH * s.OW);
    gws[1] = (size_t)s.M;
    gws[2] = (size_t)s.N;
  } else {
    if (s.group == s.C && s.group == s.M)
      kname = "conv2d_dw";
    else if (s.KH == 3 && s.KW == 3)
      kname = "conv2d_3x3";
    else
      kname = "conv2d";
    gws[0] = (size_t)s.OW;
    gws[1] = (size_t)s.OH;
    gws[2] = (size_t)(s.N * s.M);
  }
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", kname, 3, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, wm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, rm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_ints (ctx, l, p, CONV_NP);
  mace_cl_arg_int (l, bias != NULL);
  mace_cl_arg_int (l, cr);
  mace_cl_arg_int (l, (int)n->act);
  mace_cl_arg_float (l, n->act_alpha);
  mace_cl_arg_float (l, n->act_beta);
  ctx->folds_done = true;
  return MACE_OK;
}

/* The residual of a conv output y (input k): the output's shape, or fewer
 * channels (a channel padding fused into the conv: channels >= its count
 * get none).  Sets *cr (0 without one); false when unsupported. */
static bool
residual_channels (MaceClOpCtx *ctx, const MaceValue *res, const MaceValue *y,
                   int *cr)
{
  *cr = 0;
  if (!res)
    return true;
  bool ok = res->t.ndim == y->t.ndim && res->t.ndim >= 2
            && res->t.dims[0] == y->t.dims[0] && res->t.dims[1] >= 1
            && res->t.dims[1] <= y->t.dims[1];
  for (int d = 2; ok && d < y->t.ndim; d++)
    ok = res->t.dims[d] == y->t.dims[d];
  if (!ok) {
    mace_cl_unsupported (ctx, "fused residual is broadcast");
    return false;
  }
  if (res->t.dtype != MACE_DTYPE_FLOAT32) {
    mace_cl_unsupported (ctx, "fused residual is not float32");
    return false;
  }
  *cr = (int)res->t.dims[1];
  return true;
}

#define DWPW_LOCAL 4096 /* floats (16 KB); kernels/conv.cl */

static MaceStatus
plan_dwpw (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  ConvShape s;
  if (!conv_shape (ctx, &s, false, true))
    return ctx->why[0] ? MACE_ERROR_UNSUPPORTED
                       : mace_cl_unsupported (ctx, "bad inputs");
  const MaceValue *wd = mace_cl_in (ctx, 1), *wp = mace_cl_in (ctx, 3);
  if (s.group != s.C || wd->t.dims[0] != s.C || wd->t.dims[1] != 1 || !wp
      || wp->t.ndim != 4 || wp->t.dims[0] != s.M || wp->t.dims[1] != s.C
      || wp->t.dims[2] != 1 || wp->t.dims[3] != 1)
    return mace_cl_unsupported (ctx, "weight shapes do not match");
  if (!wp->is_const || !wp->t.data || wp->t.dtype != MACE_DTYPE_FLOAT32)
    return mace_cl_unsupported (ctx, "1x1 weights are not constant");
  const MaceValue *bd = mace_cl_in (ctx, 2), *bp = mace_cl_in (ctx, 4);
  const MaceValue *res = n->fused_add == 5 ? mace_cl_in (ctx, 5) : NULL;
  const MaceValue *y = mace_cl_out (ctx, 0);
  int cr;
  if (!residual_channels (ctx, res, y, &cr))
    return MACE_ERROR_UNSUPPORTED;
  if (ctx->res_pool >= 0 && !res)
    return mace_cl_unsupported (ctx, "pooled residual without a residual");
  int p[CONV_NP];
  if (!conv_params (ctx, &s, p))
    return MACE_ERROR_UNSUPPORTED;
  cl_mem xm = conv_x_mem (ctx), wdm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  cl_mem bdm = bd ? mace_cl_in_mem (ctx, 2) : xm;
  cl_mem bpm = bp ? mace_cl_in_mem (ctx, 4) : xm;
  cl_mem rm = res ? conv_res_mem (ctx, 5) : xm;
  if (!xm || !wdm || !ym || !bdm || !bpm || !rm)
    return ctx->err->status;
  if (s.C > DWPW_LOCAL)
    return mace_cl_unsupported (ctx, "more than %d channels", DWPW_LOCAL);
  /* The 1x1 weights transposed, wt[c * M + m]. */
  float *wt = g_new (float, (size_t)(s.C * s.M));
  const float *w = wp->t.data;
  for (int64_t m = 0; m < s.M; m++)
    for (int64_t c = 0; c < s.C; c++)
      wt[c * s.M + m] = w[m * s.C + c];
  /* Pixels per work-group: as many as local memory holds (64 at most),
   * fewer while that leaves fewer than two work-groups per compute unit,
   * so small layers still spread over the device. */
  int64_t P = s.OH * s.OW, tp = 64;
  int64_t cu = ctx->dev->compute_units ? ctx->dev->compute_units : 1;
  while (tp > 1 && tp * s.C > DWPW_LOCAL)
    tp /= 2;
  while (tp > 1 && s.N * ceil_div (P, tp) < 2 * cu)
    tp /= 2;
  size_t nt = MIN (256, ctx->dev->max_work_group_size);
  size_t gws[3] = { (size_t)ceil_div (P, tp) * nt, 1, (size_t)s.N };
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", "conv2d_dwpw", 3, gws);
  if (!l) {
    g_free (wt);
    return ctx->err->status;
  }
  l->fixed_lws = true;
  l->lws[0] = nt;
  l->lws[1] = 1;
  l->lws[2] = 1;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, wdm);
  mace_cl_arg_mem (l, bdm);
  mace_cl_arg_floats (ctx, l, wt, (int)(s.C * s.M));
  g_free (wt);
  mace_cl_arg_mem (l, bpm);
  mace_cl_arg_mem (l, rm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_ints (ctx, l, p, CONV_NP);
  mace_cl_arg_int (l, bd != NULL);
  mace_cl_arg_int (l, bp != NULL);
  mace_cl_arg_int (l, cr);
  mace_cl_arg_int (l, (int)n->act);
  mace_cl_arg_float (l, n->act_alpha);
  mace_cl_arg_float (l, n->act_beta);
  mace_cl_arg_int (l, (int)tp);
  ctx->folds_done = true;
  return MACE_OK;
}

static MaceStatus
plan_conv_transpose (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  if (n->act != MACE_ACT_NONE || n->fused_add >= 0)
    return mace_cl_unsupported (ctx, "fused activation / residual");
  ConvShape s;
  if (!conv_shape (ctx, &s, true, false))
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
  if (has_folds (ctx))
    return mace_cl_unsupported (ctx, "layout folds");
  int p[CONV_NP];
  if (!conv_params (ctx, &s, p))
    return MACE_ERROR_UNSUPPORTED;
  size_t gws[3] = { (size_t)s.OW, (size_t)s.OH, (size_t)(s.N * s.M) };
  MaceClLaunch *l = mace_cl_launch (ctx, "conv", "conv_transpose2d", 3, gws);
  if (!l)
    return ctx->err->status;
  mace_cl_arg_mem (l, xm);
  mace_cl_arg_mem (l, wm);
  mace_cl_arg_mem (l, bm);
  mace_cl_arg_mem (l, ym);
  mace_cl_arg_ints (ctx, l, p, CONV_NP);
  mace_cl_arg_int (l, bias != NULL);
  return MACE_OK;
}

const MaceClOp mace_cl_ops_conv[] = {
  { "Conv", plan_conv, false },
  { "ConvTranspose", plan_conv_transpose, false },
  { "MaceDwPwConv", plan_dwpw, false },
  { NULL, NULL, false },
};
