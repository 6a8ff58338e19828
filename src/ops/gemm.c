/* SPDX-License-Identifier: Apache-2.0
 * Gemm and MatMul on the blocked SGEMM (src/gemm.c).  A constant B is
 * packed once in prepare. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "gemm.h"
#include "internal.h"

typedef struct {
  float *pb; /* packed B */
  int64_t K, N;
  int nr;
} PackedB;

static void
packed_b_free (void *p)
{
  PackedB *s = p;
  if (s)
    free (s->pb);
  free (s);
}

static bool
input_is_const (MaceOpCtx *ctx, int i)
{
  const MaceNode *n = ctx->node;
  if (!ctx->graph || i >= n->n_in || n->in[i] < 0
      || n->in[i] >= ctx->graph->n_values)
    return false;
  return ctx->graph->values[n->in[i]].is_const && ctx->in[i]
         && ctx->in[i]->data;
}

/* Packs B (K x N, or N x K when trans) into node->state. */
static MaceStatus
prepack_b (MaceOpCtx *ctx, const float *B, bool trans, int64_t K, int64_t N)
{
  PackedB *s = calloc (1, sizeof *s);
  if (!s)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "packing B");
  s->pb = malloc (sizeof (float) * (mace_gemm_packed_b_size (K, N) + 1));
  if (!s->pb) {
    free (s);
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "packing B");
  }
  mace_gemm_pack_b (s->pb, B, trans ? K : N, trans, K, N, 0,
                    (N + mace_gemm_nr () - 1) / mace_gemm_nr ());
  s->K = K;
  s->N = N;
  s->nr = mace_gemm_nr ();
  if (ctx->node->state_free && ctx->node->state)
    ctx->node->state_free (ctx->node->state);
  ctx->node->state = s;
  ctx->node->state_free = packed_b_free;
  return MACE_OK;
}

static const float *
state_b (MaceOpCtx *ctx, int64_t K, int64_t N)
{
  PackedB *s = ctx->node->state;
  if (s && ctx->node->state_free == packed_b_free && s->K == K && s->N == N
      && s->nr == mace_gemm_nr ())
    return s->pb;
  return NULL;
}

static void
node_epilogue (MaceOpCtx *ctx, MaceEpilogue *ep, const MaceTensor *out)
{
  const MaceNode *n = ctx->node;
  memset (ep, 0, sizeof *ep);
  ep->act = n->act;
  ep->act_alpha = n->act_alpha;
  ep->act_beta = n->act_beta;
  if (n->fused_add >= 0 && n->fused_add < ctx->n_in && ctx->in[n->fused_add]) {
    ep->res = ctx->in[n->fused_add]->data;
    ep->ldr = out->dims[out->ndim - 1];
  }
}

/* ---- Gemm ------------------------------------------------------------ */

static MaceStatus
gemm_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (node->n_in < 2) {
    g_snprintf (msg, len, "Gemm needs inputs A and B");
    return MACE_ERROR_INVALID_MODEL;
  }
  if (mace_attr_int (node, "broadcast", 1) == 0 && node->n_in > 2
      && node->in[2] >= 0 && opset < 7) {
    g_snprintf (msg, len, "Gemm broadcast=0 (opset < 7) is not supported");
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
gemm_infer (MaceOpCtx *ctx)
{
  const MaceTensor *a = ctx->in[0], *b = ctx->in[1];
  if (a->ndim != 2 || b->ndim != 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "A and B must be 2-D");
  if (a->dtype != MACE_DTYPE_FLOAT32 || b->dtype != MACE_DTYPE_FLOAT32)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "only float32 (got %s)",
                         mace_dtype_name (a->dtype));
  bool ta = mace_attr_int (ctx->node, "transA", 0);
  bool tb = mace_attr_int (ctx->node, "transB", 0);
  int64_t M = a->dims[ta ? 1 : 0], K = a->dims[ta ? 0 : 1];
  int64_t K2 = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
  if (K != K2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "inner sizes %lld and %lld",
                         (long long)K, (long long)K2);
  const MaceTensor *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
  if (c) {
    if (c->dtype != MACE_DTYPE_FLOAT32)
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "C must be float32");
    int64_t cm = c->ndim >= 2 ? c->dims[c->ndim - 2] : 1;
    int64_t cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    if (c->ndim > 2 || (cm != 1 && cm != M) || (cn != 1 && cn != N))
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "C does not broadcast to %lldx%lld", (long long)M,
                           (long long)N);
  }
  int64_t dims[2] = { M, N };
  mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, 2, dims);
  return MACE_OK;
}

static MaceStatus
gemm_prepare (MaceOpCtx *ctx)
{
  if (!input_is_const (ctx, 1))
    return MACE_OK;
  const MaceTensor *b = ctx->in[1];
  bool tb = mace_attr_int (ctx->node, "transB", 0);
  int64_t K = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
  return prepack_b (ctx, b->data, tb, K, N);
}

static MaceStatus
gemm_run (MaceOpCtx *ctx)
{
  const MaceTensor *a = ctx->in[0], *b = ctx->in[1];
  const MaceTensor *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
  MaceTensor *y = ctx->out[0];
  bool ta = mace_attr_int (ctx->node, "transA", 0);
  bool tb = mace_attr_int (ctx->node, "transB", 0);
  float alpha = mace_attr_float (ctx->node, "alpha", 1.0f);
  float beta = mace_attr_float (ctx->node, "beta", 1.0f);
  int64_t M = y->dims[0], N = y->dims[1], K = a->dims[ta ? 0 : 1];
  float *yd = y->data;
  float bsum = 0.0f;
  if (c && beta != 0.0f) {
    const float *cd = c->data;
    int64_t cm = c->ndim >= 2 ? c->dims[c->ndim - 2] : 1;
    int64_t cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++)
        yd[i * N + j] = beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    bsum = 1.0f;
  }
  MaceEpilogue ep;
  node_epilogue (ctx, &ep, y);
  if (!mace_sgemm (ctx->pool, ta, tb, M, N, K, alpha, a->data, a->dims[1],
                   b->data, b->dims[1], bsum, yd, N, NULL, state_b (ctx, K, N),
                   &ep))
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "gemm buffers");
  return MACE_OK;
}

/* ---- MatMul ---------------------------------------------------------- */

static MaceStatus
matmul_infer (MaceOpCtx *ctx)
{
  const MaceTensor *a = ctx->in[0], *b = ctx->in[1];
  if (a->dtype != MACE_DTYPE_FLOAT32 || b->dtype != MACE_DTYPE_FLOAT32)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "only float32 (got %s)",
                         mace_dtype_name (a->dtype));
  if (a->ndim < 1 || b->ndim < 1)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "operands must be >= 1-D");
  int64_t K = a->dims[a->ndim - 1];
  int64_t K2 = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
  if (K != K2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "inner sizes %lld and %lld",
                         (long long)K, (long long)K2);
  int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0;
  int nbat;
  int64_t bat[MACE_MAX_DIMS];
  if (!mace_broadcast_shape (na, a->dims, nb, b->dims, &nbat, bat))
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "batch dims do not broadcast");
  int64_t dims[MACE_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < nbat; i++)
    dims[nd++] = bat[i];
  if (a->ndim >= 2)
    dims[nd++] = a->dims[a->ndim - 2];
  if (b->ndim >= 2)
    dims[nd++] = b->dims[b->ndim - 1];
  mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, nd, dims);
  return MACE_OK;
}

static MaceStatus
matmul_prepare (MaceOpCtx *ctx)
{
  const MaceTensor *b = ctx->in[1];
  if (!input_is_const (ctx, 1) || b->ndim != 2)
    return MACE_OK;
  return prepack_b (ctx, b->data, false, b->dims[0], b->dims[1]);
}

typedef struct {
  MaceOpCtx *ctx;
  int nbat;
  int64_t bat[MACE_MAX_DIMS], sa[MACE_MAX_DIMS], sb[MACE_MAX_DIMS];
  int64_t M, N, K;
  const float *a, *b, *pb;
  float *y;
  bool oom;
} MatMulJob;

static void
matmul_batches (void *arg, int64_t b0, int64_t b1)
{
  MatMulJob *j = arg;
  for (int64_t t = b0; t < b1; t++) {
    int64_t oa = 0, ob = 0, rem = t;
    for (int d = j->nbat - 1; d >= 0; d--) {
      int64_t idx = rem % j->bat[d];
      rem /= j->bat[d];
      oa += idx * j->sa[d];
      ob += idx * j->sb[d];
    }
    if (!mace_sgemm (NULL, false, false, j->M, j->N, j->K, 1.0f,
                     j->a + oa * j->M * j->K, j->K, j->b + ob * j->K * j->N,
                     j->N, 0.0f, j->y + t * j->M * j->N, j->N, NULL, j->pb,
                     NULL))
      j->oom = true;
  }
}

static MaceStatus
matmul_run (MaceOpCtx *ctx)
{
  const MaceTensor *a = ctx->in[0], *b = ctx->in[1];
  MaceTensor *y = ctx->out[0];
  int64_t K = a->dims[a->ndim - 1];
  int64_t M = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
  int64_t N = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
  MatMulJob j = {
    .ctx = ctx, .M = M, .N = N, .K = K, .a = a->data, .b = b->data, .y = y->data
  };
  int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0;
  mace_broadcast_shape (na, a->dims, nb, b->dims, &j.nbat, j.bat);
  int64_t nbatch = 1;
  for (int d = 0; d < j.nbat; d++)
    nbatch *= j.bat[d];
  if (nbatch == 0 || M == 0 || N == 0)
    return MACE_OK;
  j.pb = b->ndim == 2 ? state_b (ctx, K, N) : NULL;
  MaceEpilogue ep;
  node_epilogue (ctx, &ep, y);
  /* B shared by all batches and A contiguous: one tall GEMM. */
  if (b->ndim <= 2 && (na == j.nbat)) {
    if (!mace_sgemm (ctx->pool, false, false, nbatch * M, N, K, 1.0f, j.a, K,
                     j.b, N, 0.0f, j.y, N, NULL, j.pb, &ep))
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "matmul buffers");
    return MACE_OK;
  }
  /* Strides of A and B batches in units of whole matrices (0 where
   * broadcast). */
  int64_t s = 1;
  for (int d = j.nbat - 1, da = na - 1; d >= 0; d--, da--) {
    int64_t dim = da >= 0 ? a->dims[da] : 1;
    j.sa[d] = dim == 1 ? 0 : s;
    s *= dim;
  }
  s = 1;
  for (int d = j.nbat - 1, db = nb - 1; d >= 0; d--, db--) {
    int64_t dim = db >= 0 ? b->dims[db] : 1;
    j.sb[d] = dim == 1 ? 0 : s;
    s *= dim;
  }
  if ((double)M * N * K >= 262144.0 || nbatch == 1) {
    for (int64_t t = 0; t < nbatch; t++) {
      MatMulJob one = j;
      int64_t oa = 0, ob = 0, rem = t;
      for (int d = j.nbat - 1; d >= 0; d--) {
        int64_t idx = rem % j.bat[d];
        rem /= j.bat[d];
        oa += idx * j.sa[d];
        ob += idx * j.sb[d];
      }
      if (!mace_sgemm (ctx->pool, false, false, M, N, K, 1.0f,
                       one.a + oa * M * K, K, one.b + ob * K * N, N, 0.0f,
                       one.y + t * M * N, N, NULL, j.pb, NULL))
        return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "matmul buffers");
    }
  } else {
    mace_parallel_for (ctx->pool, nbatch, matmul_batches, &j);
    if (j.oom)
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "matmul buffers");
  }
  if (ep.res || ep.act != MACE_ACT_NONE)
    mace_epilogue_apply (j.y, N, nbatch * M, N, &ep);
  return MACE_OK;
}

static MaceStatus
matmul_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (node->n_in != 2) {
    g_snprintf (msg, len, "MatMul needs 2 inputs");
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

const MaceOpDef mace_ops_gemm[] = {
  { "Gemm", gemm_check, gemm_infer, gemm_run, 0, gemm_prepare },
  { "MatMul", matmul_check, matmul_infer, matmul_run, 0, matmul_prepare },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
