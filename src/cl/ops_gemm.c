/* SPDX-License-Identifier: Apache-2.0
 * OpenCL plans of Gemm and MatMul (kernels/gemm.cl): transposes, alpha,
 * beta, a broadcast C, and MatMul's numpy batch broadcasting. */
#include <string.h>

#include <glib.h>

#include "cl/ops.h"

/* Appends the launch; aoff/boff: per-batch element offsets. */
static MaceStatus
plan_matmul_core (MaceClOpCtx *ctx, cl_mem a, cl_mem b, cl_mem c, cl_mem y,
                  int M, int N, int K, const int *astr, const int *bstr,
                  const int *cstr, int nb, const int *aoff, const int *boff,
                  float alpha, float beta, bool has_c)
{
  int *p = g_new (int, 10 + 2 * (size_t)nb);
  p[0] = M;
  p[1] = N;
  p[2] = K;
  p[3] = astr[0];
  p[4] = astr[1];
  p[5] = bstr[0];
  p[6] = bstr[1];
  p[7] = cstr[0];
  p[8] = cstr[1];
  p[9] = nb;
  memcpy (p + 10, aoff, sizeof (int) * (size_t)nb);
  memcpy (p + 10 + nb, boff, sizeof (int) * (size_t)nb);
  /* Tiles pay off once both sides span a tile. */
  bool tiled = M >= 16 && N >= 16 && K >= 16;
  size_t gws[3];
  gws[0] = tiled ? ((size_t)N + 15) / 16 * 16 : (size_t)N;
  gws[1] = tiled ? ((size_t)M + 15) / 16 * 16 : (size_t)M;
  gws[2] = (size_t)nb;
  MaceClLaunch *l = mace_cl_launch (
      ctx, "gemm", tiled ? "matmul_tiled" : "matmul_naive", 3, gws);
  if (!l) {
    g_free (p);
    return ctx->err->status;
  }
  if (tiled) {
    l->fixed_lws = true;
    l->lws[0] = 16;
    l->lws[1] = 16;
    l->lws[2] = 1;
  }
  mace_cl_arg_mem (l, a);
  mace_cl_arg_mem (l, b);
  mace_cl_arg_mem (l, c);
  mace_cl_arg_mem (l, y);
  mace_cl_arg_ints (ctx, l, p, 10 + 2 * nb);
  mace_cl_arg_float (l, alpha);
  mace_cl_arg_float (l, beta);
  mace_cl_arg_int (l, has_c);
  g_free (p);
  return MACE_OK;
}

static MaceStatus
plan_gemm (MaceClOpCtx *ctx)
{
  MaceNode *n = ctx->node;
  const MaceValue *av = mace_cl_in (ctx, 0), *bv = mace_cl_in (ctx, 1);
  const MaceValue *cv = mace_cl_in (ctx, 2), *yv = mace_cl_out (ctx, 0);
  if (!av || !bv || !yv || av->t.ndim != 2 || bv->t.ndim != 2
      || yv->t.ndim != 2)
    return mace_cl_unsupported (ctx, "A and B must be 2-D");
  if (n->act != MACE_ACT_NONE || n->fused_add >= 0)
    return mace_cl_unsupported (ctx, "fused activation / residual");
  bool ta = mace_attr_int (n, "transA", 0), tb = mace_attr_int (n, "transB", 0);
  float alpha = mace_attr_float (n, "alpha", 1.0f);
  float beta = mace_attr_float (n, "beta", 1.0f);
  if (ctx->opset < 7 && mace_node_attr (n, "broadcast") && cv
      && !mace_attr_int (n, "broadcast", 0) && cv->t.ndim != 2)
    return mace_cl_unsupported (ctx, "legacy broadcast");
  int M = (int)yv->t.dims[0], N = (int)yv->t.dims[1];
  int K = (int)(ta ? av->t.dims[0] : av->t.dims[1]);
  int64_t ad0 = av->t.dims[1];
  int64_t bd0 = bv->t.dims[1];
  int astr[2] = { ta ? 1 : (int)ad0, ta ? (int)ad0 : 1 };
  int bstr[2] = { tb ? 1 : (int)bd0, tb ? (int)bd0 : 1 };
  int cstr[2] = { 0, 0 };
  if (cv) {
    /* C broadcasts unidirectionally to (M, N). */
    int cn = cv->t.ndim;
    int64_t c0 = cn == 2 ? cv->t.dims[0] : 1;
    int64_t c1 = cn >= 1 ? cv->t.dims[cn - 1] : 1;
    if (cn > 2 || (c0 != 1 && c0 != M) || (c1 != 1 && c1 != N))
      return mace_cl_unsupported (ctx, "C does not broadcast to (M, N)");
    cstr[0] = c0 == 1 ? 0 : (int)c1;
    cstr[1] = c1 == 1 ? 0 : 1;
  }
  cl_mem am = mace_cl_in_mem (ctx, 0), bm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  cl_mem cm = cv ? mace_cl_in_mem (ctx, 2) : am;
  if (!am || !bm || !ym || !cm)
    return ctx->err->status;
  int zero = 0;
  return plan_matmul_core (ctx, am, bm, cm, ym, M, N, K, astr, bstr, cstr, 1,
                           &zero, &zero, alpha, beta, cv != NULL);
}

static MaceStatus
plan_matmul (MaceClOpCtx *ctx)
{
  const MaceValue *av = mace_cl_in (ctx, 0), *bv = mace_cl_in (ctx, 1);
  const MaceValue *yv = mace_cl_out (ctx, 0);
  if (!av || !bv || !yv || av->t.ndim < 1 || bv->t.ndim < 1)
    return mace_cl_unsupported (ctx, "bad inputs");
  /* Promote 1-D operands as numpy does. */
  int64_t ad[MACE_MAX_DIMS + 1], bd[MACE_MAX_DIMS + 1];
  int an = av->t.ndim, bn = bv->t.ndim;
  if (an == 1) {
    ad[0] = 1;
    ad[1] = av->t.dims[0];
    an = 2;
  } else {
    memcpy (ad, av->t.dims, sizeof (int64_t) * (size_t)an);
  }
  if (bn == 1) {
    bd[0] = bv->t.dims[0];
    bd[1] = 1;
    bn = 2;
  } else {
    memcpy (bd, bv->t.dims, sizeof (int64_t) * (size_t)bn);
  }
  int M = (int)ad[an - 2], K = (int)ad[an - 1], N = (int)bd[bn - 1];
  if (bd[bn - 2] != K)
    return mace_cl_unsupported (ctx, "inner dimensions differ");
  /* Batch shape: broadcast of the leading axes. */
  int ab = an - 2, bb = bn - 2, nbd = ab > bb ? ab : bb;
  int64_t batch[MACE_MAX_DIMS];
  int64_t nb = 1;
  for (int d = 0; d < nbd; d++) {
    int ia = d - (nbd - ab), ib = d - (nbd - bb);
    int64_t x = ia >= 0 ? ad[ia] : 1, y = ib >= 0 ? bd[ib] : 1;
    if (x != y && x != 1 && y != 1)
      return mace_cl_unsupported (ctx, "batch axes do not broadcast");
    batch[d] = x > y ? x : y;
    nb *= batch[d];
  }
  if (mace_shape_numel (yv->t.ndim, yv->t.dims) != nb * M * N)
    return mace_cl_unsupported (ctx, "unexpected output shape");
  int *aoff = g_new (int, nb ? nb : 1), *boff = g_new (int, nb ? nb : 1);
  for (int64_t b = 0; b < nb; b++) {
    int64_t rem = b, oa = 0, ob = 0, sa = (int64_t)M * K, sb = (int64_t)K * N;
    for (int d = nbd - 1; d >= 0; d--) {
      int64_t c = rem % batch[d];
      rem /= batch[d];
      int ia = d - (nbd - ab), ib = d - (nbd - bb);
      if (ia >= 0) {
        if (ad[ia] != 1)
          oa += c * sa;
        sa *= ad[ia];
      }
      if (ib >= 0) {
        if (bd[ib] != 1)
          ob += c * sb;
        sb *= bd[ib];
      }
    }
    aoff[b] = (int)oa;
    boff[b] = (int)ob;
  }
  cl_mem am = mace_cl_in_mem (ctx, 0), bm = mace_cl_in_mem (ctx, 1);
  cl_mem ym = mace_cl_out_mem (ctx, 0);
  MaceStatus st;
  if (!am || !bm || !ym) {
    st = ctx->err->status;
  } else {
    int astr[2] = { K, 1 }, bstr[2] = { N, 1 }, cstr[2] = { 0, 0 };
    st = plan_matmul_core (ctx, am, bm, am, ym, M, N, K, astr, bstr, cstr,
                           (int)nb, aoff, boff, 1.0f, 0.0f, false);
  }
  g_free (aoff);
  g_free (boff);
  return st;
}

const MaceClOp mace_cl_ops_gemm[] = {
  { "Gemm", plan_gemm, false },
  { "MatMul", plan_matmul, false },
  { NULL, NULL, false },
};
