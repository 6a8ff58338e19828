/* SPDX-License-Identifier: Apache-2.0
 * Conv and ConvTranspose, NCHW float32, 1-D to 3-D.
 *
 * Conv runs one of two paths:
 *  - depthwise (group == C_in == C_out, 1-D/2-D): direct kernels over a
 *    zero-padded copy of each plane, specialised for 3x3 stride 1 and 2;
 *  - everything else: im2col written straight into the GEMM's packed-B
 *    layout one L2-sized column tile at a time (1x1 stride-1 convs just
 *    pack the input), times weights packed once in prepare.
 * Bias, a fused residual (node->fused_add) and a fused activation
 * (node->act) are applied per tile while it is in cache.
 * ConvTranspose is a GEMM (W^T x X) followed by col2im. */
#pragma GCC optimize("O3", "fp-contract=fast")

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "gemm.h"
#include "internal.h"

#if defined(__x86_64__)
#define MACE_CLONES                                                            \
  __attribute__ ((                                                             \
      target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MACE_CLONES
#endif

/* Spatial geometry, always 3-D: index 0 = depth, 1 = height, 2 = width;
 * missing leading dims are 1 with no padding. */
typedef struct {
  int nd;
  int64_t N, C, M, group;
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} Geom;

static bool
attr_ints_n (const MaceNode *node, const char *name, int want, int64_t *dst,
             int64_t def)
{
  int n = 0;
  const int64_t *v = mace_attr_ints (node, name, &n);
  for (int i = 0; i < want; i++)
    dst[i] = def;
  if (!v)
    return true;
  if (n != want)
    return false;
  for (int i = 0; i < want; i++)
    dst[i] = v[i];
  return true;
}

static MaceStatus
conv_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (node->n_in < 2 || node->in[0] < 0 || node->in[1] < 0) {
    g_snprintf (msg, len, "%s needs inputs X and W", node->op_type);
    return MACE_ERROR_INVALID_MODEL;
  }
  const char *ap = mace_attr_string (node, "auto_pad", "NOTSET");
  if (strcmp (ap, "NOTSET") && strcmp (ap, "SAME_UPPER")
      && strcmp (ap, "SAME_LOWER") && strcmp (ap, "VALID")) {
    g_snprintf (msg, len, "unknown auto_pad '%s'", ap);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (mace_attr_int (node, "group", 1) < 1) {
    g_snprintf (msg, len, "group must be >= 1");
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

/* Reads shapes and attributes into g.  Output sizes are computed for Conv
 * (transpose = false) only. */
static MaceStatus
geom_read (MaceOpCtx *ctx, Geom *g, bool transpose)
{
  const MaceNode *node = ctx->node;
  const MaceTensor *x = ctx->in[0], *w = ctx->in[1];
  memset (g, 0, sizeof *g);
  if (x->dtype != MACE_DTYPE_FLOAT32 || w->dtype != MACE_DTYPE_FLOAT32)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                         "only float32 is supported (got %s)",
                         mace_dtype_name (x->dtype));
  if (x->ndim < 3 || x->ndim > 5 || w->ndim != x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                         "X and W must be 3-D to 5-D with equal ranks");
  int nd = x->ndim - 2;
  g->nd = nd;
  g->N = x->dims[0];
  g->C = x->dims[1];
  g->group = mace_attr_int (node, "group", 1);
  int64_t k[3], s[3], d[3], p[6];
  for (int i = 0; i < nd; i++)
    k[i] = w->dims[2 + i];
  int kn = 0;
  const int64_t *ks = mace_attr_ints (node, "kernel_shape", &kn);
  if (ks && kn == nd)
    for (int i = 0; i < nd; i++)
      if (ks[i] != k[i])
        return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                             "kernel_shape does not match W");
  if (!attr_ints_n (node, "strides", nd, s, 1)
      || !attr_ints_n (node, "dilations", nd, d, 1)
      || !attr_ints_n (node, "pads", 2 * nd, p, 0))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "strides/dilations/pads have the wrong length");
  int off = 3 - nd;
  for (int i = 0; i < 3; i++) {
    g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
    g->pb[i] = g->pe[i] = 0;
  }
  for (int i = 0; i < nd; i++) {
    if (s[i] < 1 || d[i] < 1 || k[i] < 1)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "strides, dilations and kernel must be >= 1");
    g->in[off + i] = x->dims[2 + i];
    g->k[off + i] = k[i];
    g->s[off + i] = s[i];
    g->d[off + i] = d[i];
    g->pb[off + i] = p[i];
    g->pe[off + i] = p[nd + i];
  }
  if (transpose) {
    if (w->dims[0] != g->C || g->C % g->group)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "W has %lld input channels, X has %lld",
                           (long long)w->dims[0], (long long)g->C);
    g->M = w->dims[1] * g->group;
    return MACE_OK;
  }
  g->M = w->dims[0];
  if (g->C % g->group || g->M % g->group || w->dims[1] * g->group != g->C)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "channels %lld / W %lld x %lld do not fit group %lld",
                         (long long)g->C, (long long)w->dims[0],
                         (long long)w->dims[1], (long long)g->group);
  const char *ap = mace_attr_string (node, "auto_pad", "NOTSET");
  for (int i = off; i < 3; i++) {
    int64_t ext = (g->k[i] - 1) * g->d[i] + 1;
    if (!strcmp (ap, "SAME_UPPER") || !strcmp (ap, "SAME_LOWER")) {
      int64_t o = (g->in[i] + g->s[i] - 1) / g->s[i];
      int64_t tot = (o - 1) * g->s[i] + ext - g->in[i];
      if (tot < 0)
        tot = 0;
      g->pb[i] = !strcmp (ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
      g->pe[i] = tot - g->pb[i];
    } else if (!strcmp (ap, "VALID")) {
      g->pb[i] = g->pe[i] = 0;
    }
    int64_t span = g->in[i] + g->pb[i] + g->pe[i] - ext;
    if (span < 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "kernel larger than the padded input");
    g->out[i] = span / g->s[i] + 1;
  }
  return MACE_OK;
}

static MaceStatus
conv_infer (MaceOpCtx *ctx)
{
  Geom g;
  MaceStatus st = geom_read (ctx, &g, false);
  if (st != MACE_OK)
    return st;
  const MaceTensor *b
      = ctx->n_in > 2 && ctx->node->fused_add != 2 ? ctx->in[2] : NULL;
  if (b && (b->ndim != 1 || b->dims[0] != g.M))
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "bias must have %lld values",
                         (long long)g.M);
  int64_t dims[5] = { g.N, g.M };
  for (int i = 0; i < g.nd; i++)
    dims[2 + i] = g.out[3 - g.nd + i];
  mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, g.nd + 2, dims);
  return MACE_OK;
}

/* ---- Prepared weights ------------------------------------------------ */

typedef struct {
  float *pa;       /* packed weights, one block per group */
  size_t pa_group; /* floats per group */
  int mr;
  int64_t M, Kg;
} ConvState;

static void
conv_state_free (void *p)
{
  ConvState *s = p;
  if (s)
    free (s->pa);
  free (s);
}

static bool
is_depthwise (const Geom *g)
{
  return g->group == g->C && g->M == g->C && g->k[0] == 1 && g->in[0] == 1
         && g->group > 1;
}

static float *
pack_weights (const Geom *g, const float *w, size_t *per_group)
{
  int64_t Cog = g->M / g->group;
  int64_t Kg = (g->C / g->group) * g->k[0] * g->k[1] * g->k[2];
  size_t pg = mace_gemm_packed_a_size (Cog, Kg);
  float *pa = malloc (sizeof (float) * (pg * (size_t)g->group + 1));
  if (!pa)
    return NULL;
  for (int64_t gi = 0; gi < g->group; gi++)
    mace_gemm_pack_a (pa + pg * (size_t)gi, w + gi * Cog * Kg, Kg, false, Cog,
                      Kg, 1.0f);
  *per_group = pg;
  return pa;
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

static MaceStatus
conv_prepare (MaceOpCtx *ctx)
{
  if (!input_is_const (ctx, 1))
    return MACE_OK;
  Geom g;
  MaceStatus st = geom_read (ctx, &g, false);
  if (st != MACE_OK)
    return st;
  if (is_depthwise (&g))
    return MACE_OK;
  ConvState *s = calloc (1, sizeof *s);
  if (!s || !(s->pa = pack_weights (&g, ctx->in[1]->data, &s->pa_group))) {
    free (s);
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "packing weights");
  }
  s->mr = mace_gemm_mr ();
  s->M = g.M;
  s->Kg = (g.C / g.group) * g.k[0] * g.k[1] * g.k[2];
  if (ctx->node->state && ctx->node->state_free)
    ctx->node->state_free (ctx->node->state);
  ctx->node->state = s;
  ctx->node->state_free = conv_state_free;
  return MACE_OK;
}

/* ---- im2col into packed B ------------------------------------------- */

/* Writes rows [0, K) x output pixels [c0, c0 + ncols) of the im2col matrix
 * of one group (xg = its first input channel) as NR-wide panels. */
MACE_CLONES static void
im2col_pack (const Geom *g, const float *xg, int64_t Cig, int64_t c0,
             int64_t ncols, float *dst, int nr)
{
  const int64_t OH = g->out[1], OW = g->out[2];
  const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
  const int64_t KX = g->k[2], st = g->s[2];
  int64_t sj[64], sl[64], sd[64], sh[64];
  /* Per (kx, run): first input column, and the part of the run that
   * reads inside the row ([lo, hi)); computed once per panel. */
  int32_t tab_lo[16 * 64], tab_hi[16 * 64];
  int64_t tab_ix[16 * 64];
  for (int64_t q0 = 0; q0 < ncols; q0 += nr) {
    int cols = (int)(ncols - q0 < nr ? ncols - q0 : nr);
    /* Runs of the panel's columns that lie in one output row. */
    int nseg = 0;
    int64_t p = c0 + q0, pend = p + cols, jj = 0;
    int64_t sw0[64];
    while (p < pend && nseg < 64) {
      int64_t ow = p % OW, t = p / OW;
      int64_t len = pend - p < OW - ow ? pend - p : OW - ow;
      sj[nseg] = jj;
      sl[nseg] = len;
      sw0[nseg] = ow;
      sh[nseg] = t % OH;
      sd[nseg] = t / OH;
      nseg++;
      p += len;
      jj += len;
    }
    bool tab = KX <= 16;
    for (int64_t kx = 0; tab && kx < KX; kx++)
      for (int sgi = 0; sgi < nseg; sgi++) {
        int64_t len = sl[sgi];
        int64_t ix0 = sw0[sgi] * st - g->pb[2] + kx * g->d[2];
        int64_t lo = ix0 < 0 ? (-ix0 + st - 1) / st : 0;
        int64_t hi = IW - ix0 <= 0 ? 0 : (IW - ix0 + st - 1) / st;
        if (hi > len)
          hi = len;
        if (lo > hi)
          lo = hi;
        tab_lo[kx * 64 + sgi] = (int32_t)lo;
        tab_hi[kx * 64 + sgi] = (int32_t)hi;
        tab_ix[kx * 64 + sgi] = ix0;
      }
    for (int64_t ci = 0; ci < Cig; ci++)
      for (int64_t kz = 0; kz < g->k[0]; kz++)
        for (int64_t ky = 0; ky < g->k[1]; ky++)
          for (int64_t kx = 0; kx < KX; kx++) {
            for (int j = cols; j < nr; j++)
              dst[j] = 0.0f;
            for (int sgi = 0; sgi < nseg; sgi++) {
              float *o = dst + sj[sgi];
              int64_t len = sl[sgi];
              int64_t iz = sd[sgi] * g->s[0] - g->pb[0] + kz * g->d[0];
              int64_t iy = sh[sgi] * g->s[1] - g->pb[1] + ky * g->d[1];
              if (iz < 0 || iz >= ID || iy < 0 || iy >= IH) {
                memset (o, 0, sizeof (float) * (size_t)len);
                continue;
              }
              const float *row = xg + ((ci * ID + iz) * IH + iy) * IW;
              int64_t ix0, lo, hi;
              if (tab) {
                ix0 = tab_ix[kx * 64 + sgi];
                lo = tab_lo[kx * 64 + sgi];
                hi = tab_hi[kx * 64 + sgi];
              } else {
                ix0 = sw0[sgi] * st - g->pb[2] + kx * g->d[2];
                lo = ix0 < 0 ? (-ix0 + st - 1) / st : 0;
                hi = IW - ix0 <= 0 ? 0 : (IW - ix0 + st - 1) / st;
                if (hi > len)
                  hi = len;
                if (lo > hi)
                  lo = hi;
              }
              for (int64_t t = 0; t < lo; t++)
                o[t] = 0.0f;
              /* Copy the in-range part without checks (stride 1 is a
               * memcpy, constant stride 2 vectorises). */
              const float *src = row + ix0;
              if (st == 1)
                memcpy (o + lo, src + lo, sizeof (float) * (size_t)(hi - lo));
              else if (st == 2)
                for (int64_t t = lo; t < hi; t++)
                  o[t] = src[2 * t];
              else
                for (int64_t t = lo; t < hi; t++)
                  o[t] = src[t * st];
              for (int64_t t = hi; t < len; t++)
                o[t] = 0.0f;
            }
            dst += nr;
          }
  }
}

typedef struct {
  const Geom *g;
  const float *x, *pa;
  float *y;
  size_t pa_group;
  int64_t Cig, Cog, Kg, OHW, IHW, nt, n_tiles;
  bool pointwise;
  /* Row mode (stride 1, no im2col): R output rows per task from RR input
   * rows of width Wp copied with their padding; boff from the GEMM. */
  int64_t R, RR, Wp, n_rt;
  int64_t *boff;
  MaceEpilogue ep;
  bool oom;
} ConvJob;

static void
conv_tiles (void *arg, int64_t b, int64_t e)
{
  ConvJob *j = arg;
  const Geom *g = j->g;
  int nr = mace_gemm_nr ();
  float *pb = mace_scratch (0, sizeof (float) * (size_t)(j->Kg * j->nt));
  if (!pb) {
    j->oom = true;
    return;
  }
  for (int64_t t = b; t < e; t++) {
    int64_t tile = t % j->n_tiles, ng = t / j->n_tiles;
    int64_t gi = ng % g->group, n = ng / g->group;
    int64_t c0 = tile * j->nt;
    int64_t nc = j->OHW - c0 < j->nt ? j->OHW - c0 : j->nt;
    const float *xg = j->x + (n * g->C + gi * j->Cig) * j->IHW;
    int64_t yoff = (n * g->M + gi * j->Cog) * j->OHW + c0;
    MaceEpilogue ep = j->ep;
    if (ep.bias)
      ep.bias += gi * j->Cog;
    if (ep.res)
      ep.res += yoff;
    if (j->pointwise) {
      if (mace_gemm_direct_b (j->Cog, nc, j->Kg,
                              j->pa + j->pa_group * (size_t)gi, xg + c0, j->IHW,
                              j->y + yoff, j->OHW, &ep))
        continue;
      mace_gemm_pack_b (pb, xg + c0, j->IHW, false, j->Kg, nc, 0,
                        (nc + nr - 1) / nr);
    } else {
      im2col_pack (g, xg, j->Cig, c0, nc, pb, nr);
    }
    mace_gemm_packed (j->Cog, nc, j->Kg, j->pa + j->pa_group * (size_t)gi, pb,
                      j->y + yoff, j->OHW, false, &ep);
  }
}

/* Copies input row `src` (IW values, or NULL for a padding row) into a
 * padded row of Wp values starting at column -pl; split stores even
 * columns first, then odd ones. */
MACE_CLONES static void
pad_row (const float *restrict src, int64_t IW, int64_t pl, float *restrict dst,
         int64_t Wp, bool split)
{
  if (!src) {
    memset (dst, 0, sizeof (float) * (size_t)Wp);
    return;
  }
  if (!split) {
    int64_t lo = pl < Wp ? pl : Wp;
    int64_t hi = pl + IW < Wp ? pl + IW : Wp;
    if (hi < lo)
      hi = lo;
    memset (dst, 0, sizeof (float) * (size_t)lo);
    memcpy (dst + lo, src + (lo - pl), sizeof (float) * (size_t)(hi - lo));
    memset (dst + hi, 0, sizeof (float) * (size_t)(Wp - hi));
    return;
  }
  int64_t We = (Wp + 1) / 2;
  for (int par = 0; par < 2; par++) {
    float *d = dst + (par ? We : 0);
    int64_t n = par ? Wp / 2 : We;
    /* Column 2i + par reads src[2i + par - pl]. */
    int64_t base = par - pl;
    int64_t lo = base < 0 ? (-base + 1) / 2 : 0;
    int64_t hi = IW - base <= 0 ? 0 : (IW - base + 1) / 2;
    if (hi > n)
      hi = n;
    if (lo > hi)
      lo = hi;
    for (int64_t i = 0; i < lo; i++)
      d[i] = 0.0f;
    const float *s = src + base;
    for (int64_t i = lo; i < hi; i++)
      d[i] = s[2 * i];
    for (int64_t i = hi; i < n; i++)
      d[i] = 0.0f;
  }
}

/* Stride-1/2 conv without im2col: the input rows a block of output rows
 * needs are copied once with their zero padding (stride 2: even columns,
 * then odd ones, so a kernel column reads a contiguous run), and the GEMM
 * reads row k = (ci, ky, kx) of B at a fixed offset into that copy. */
static void
conv_rows (void *arg, int64_t b, int64_t e)
{
  ConvJob *j = arg;
  const Geom *g = j->g;
  const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
  const int64_t pt = g->pb[1], pl = g->pb[2], Wp = j->Wp, RR = j->RR;
  const bool split = g->s[2] == 2;
  float *buf = mace_scratch (0, sizeof (float) * (size_t)(g->C * RR * Wp + 16));
  if (!buf) {
    j->oom = true;
    return;
  }
  for (int64_t t = b; t < e; t++) {
    int64_t n = t / j->n_rt, oy0 = (t % j->n_rt) * j->R;
    int64_t nrows = OH - oy0 < j->R ? OH - oy0 : j->R;
    const float *xn = j->x + n * g->C * j->IHW;
    int64_t need = (nrows - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
    for (int64_t ci = 0; ci < g->C; ci++)
      for (int64_t rr = 0; rr < need; rr++) {
        int64_t iy = oy0 * g->s[1] + rr - pt;
        pad_row (iy >= 0 && iy < IH ? xn + (ci * IH + iy) * IW : NULL, IW, pl,
                 buf + (ci * RR + rr) * Wp, Wp, split);
      }
    for (int64_t r = 0; r < nrows; r++) {
      int64_t yoff = n * g->M * j->OHW + (oy0 + r) * OW;
      MaceEpilogue ep = j->ep;
      if (ep.res)
        ep.res += yoff;
      mace_gemm_indirect_b (g->M, OW, j->Kg, j->pa, buf + r * g->s[1] * Wp,
                            j->boff, j->y + yoff, j->OHW, &ep);
    }
  }
}

/* ---- Depthwise ------------------------------------------------------ */

/* A 3x3 depthwise conv plane (stride 1 or 2, no dilation) read straight
 * from the input (`zero`, IW zeros, stands in for padding rows); columns
 * whose window crosses the left/right padding are done with checks, the
 * rest vectorised.  Bias included. */
MACE_CLONES static void
dw3x3_plane (const float *restrict xp, int64_t IH, int64_t IW,
             const float *restrict zero, float *restrict out, int64_t OH,
             int64_t OW, const float *restrict w, float bias, int64_t sh,
             int64_t sw, int64_t pt, int64_t pl)
{
  const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5],
              w6 = w[6], w7 = w[7], w8 = w[8];
  int64_t xa = (pl + sw - 1) / sw;
  int64_t xb = IW - 3 + pl >= 0 ? (IW - 3 + pl) / sw + 1 : 0;
  if (xa > OW)
    xa = OW;
  if (xb > OW)
    xb = OW;
  if (xb < xa)
    xb = xa;
  const int64_t n = xb - xa;
  for (int64_t oy = 0; oy < OH; oy++) {
    const float *r[3];
    for (int ky = 0; ky < 3; ky++) {
      int64_t iy = oy * sh - pt + ky;
      r[ky] = iy >= 0 && iy < IH ? xp + iy * IW : zero;
    }
    const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2];
    float *restrict o = out + oy * OW;
    for (int64_t x = 0; x < OW; x++) {
      if (x == xa)
        x = xb;
      if (x >= OW)
        break;
      float s = bias;
      for (int64_t kx = 0; kx < 3; kx++) {
        int64_t ix = x * sw - pl + kx;
        if (ix < 0 || ix >= IW)
          continue;
        s += w[kx] * r0[ix] + w[3 + kx] * r1[ix] + w[6 + kx] * r2[ix];
      }
      o[x] = s;
    }
    float *restrict q = o + xa;
    if (sw == 1) {
      const float *p0 = r0 + xa - pl, *p1 = r1 + xa - pl, *p2 = r2 + xa - pl;
      for (int64_t x = 0; x < n; x++) {
        float a = bias + w0 * p0[x] + w1 * p0[x + 1] + w2 * p0[x + 2];
        float b = w3 * p1[x] + w4 * p1[x + 1] + w5 * p1[x + 2];
        float c = w6 * p2[x] + w7 * p2[x + 1] + w8 * p2[x + 2];
        q[x] = a + b + c;
      }
    } else if (sw == 2) {
      const float *p0 = r0 + 2 * xa - pl, *p1 = r1 + 2 * xa - pl,
                  *p2 = r2 + 2 * xa - pl;
      for (int64_t x = 0; x < n; x++) {
        float a
            = bias + w0 * p0[2 * x] + w1 * p0[2 * x + 1] + w2 * p0[2 * x + 2];
        float b = w3 * p1[2 * x] + w4 * p1[2 * x + 1] + w5 * p1[2 * x + 2];
        float c = w6 * p2[2 * x] + w7 * p2[2 * x + 1] + w8 * p2[2 * x + 2];
        q[x] = a + b + c;
      }
    } else {
      for (int64_t x = xa; x < xb; x++) {
        int64_t i = x * sw - pl;
        o[x] = bias + w0 * r0[i] + w1 * r0[i + 1] + w2 * r0[i + 2] + w3 * r1[i]
               + w4 * r1[i + 1] + w5 * r1[i + 2] + w6 * r2[i] + w7 * r2[i + 1]
               + w8 * r2[i + 2];
      }
    }
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Lanes l of a 16-wide load at column base with 0 <= base + l < IW. */
static inline __mmask16
range_mask (int64_t base, int64_t IW)
{
  int64_t lo = base < 0 ? -base : 0, hi = IW - base;
  if (hi > 16)
    hi = 16;
  if (lo >= hi)
    return 0;
  return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/* The same as dw3x3_plane with AVX-512 masked loads: padding columns and
 * the row tail need no scalar code, and bias, residual and
 * ReLU/Clip/LeakyReLU are applied before the store.  Returns false when
 * the activation still has to be applied. */
__attribute__ ((target ("avx512f"))) static bool
dw3x3_plane_avx512 (const float *xp, int64_t IH, int64_t IW, const float *zero,
                    float *out, int64_t OH, int64_t OW, const float *w,
                    float bias, int64_t sh, int64_t sw, int64_t pt, int64_t pl,
                    const MaceEpilogue *ep)
{
  MaceActivation act = ep->act;
  bool fused = act == MACE_ACT_NONE || act == MACE_ACT_RELU
               || act == MACE_ACT_CLIP || act == MACE_ACT_LEAKYRELU;
  const float *res = fused ? ep->res : NULL;
  __m512 wv[9];
  for (int i = 0; i < 9; i++)
    wv[i] = _mm512_set1_ps (w[i]);
  const __m512 bv = _mm512_set1_ps (bias);
  const __m512 lo = _mm512_set1_ps (act == MACE_ACT_CLIP ? ep->act_alpha : 0);
  const __m512 hi = _mm512_set1_ps (act == MACE_ACT_CLIP ? ep->act_beta : 0);
  const __m512 slope
      = _mm512_set1_ps (act == MACE_ACT_LEAKYRELU ? ep->act_alpha : 0);
  const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                         10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  /* Load masks depend on the column block only: computed once. */
  __mmask16 mk[64][4], om[64];
  int64_t nblk = (OW + 15) / 16;
  bool tab = nblk <= 64;
  for (int64_t bi = 0; tab && bi < nblk; bi++) {
    int64_t x0 = bi * 16, nv = OW - x0 < 16 ? OW - x0 : 16;
    int64_t base = x0 * sw - pl;
    om[bi] = (__mmask16)((1u << nv) - 1);
    if (sw == 1)
      for (int kx = 0; kx < 3; kx++)
        mk[bi][kx] = range_mask (base + kx, IW);
    else {
      mk[bi][0] = range_mask (base, IW);
      mk[bi][1] = range_mask (base + 16, IW);
      mk[bi][2] = range_mask (base + 2, IW);
      mk[bi][3] = range_mask (base + 18, IW);
    }
  }
  if (sw == 1 && pl == 1) {
    /* The common pad-1 case: one load per input row and block; the
     * neighbours come from lane shifts of the blocks on either side. */
    for (int64_t oy = 0; oy < OH; oy++) {
      const float *r[3];
      __m512 cur[3], prev[3];
      for (int ky = 0; ky < 3; ky++) {
        int64_t iy = oy * sh - pt + ky;
        r[ky] = iy >= 0 && iy < IH ? xp + iy * IW : zero;
        cur[ky] = _mm512_maskz_loadu_ps (range_mask (0, IW), r[ky]);
        prev[ky] = _mm512_setzero_ps ();
      }
      float *o = out + oy * OW;
      for (int64_t x0 = 0; x0 < OW; x0 += 16) {
        int64_t nv = OW - x0 < 16 ? OW - x0 : 16;
        __mmask16 omk = (__mmask16)((1u << nv) - 1);
        __mmask16 mn = range_mask (x0 + 16, IW);
        __m512 acc[3];
        for (int ky = 0; ky < 3; ky++) {
          __m512 next = _mm512_maskz_loadu_ps (mn, r[ky] + x0 + 16);
          __m512 left = _mm512_castsi512_ps (
              _mm512_alignr_epi32 (_mm512_castps_si512 (cur[ky]),
                                   _mm512_castps_si512 (prev[ky]), 15));
          __m512 right = _mm512_castsi512_ps (_mm512_alignr_epi32 (
              _mm512_castps_si512 (next), _mm512_castps_si512 (cur[ky]), 1));
          __m512 t = _mm512_mul_ps (wv[3 * ky], left);
          t = _mm512_fmadd_ps (wv[3 * ky + 1], cur[ky], t);
          acc[ky] = _mm512_fmadd_ps (wv[3 * ky + 2], right, t);
          prev[ky] = cur[ky];
          cur[ky] = next;
        }
        __m512 v = _mm512_add_ps (_mm512_add_ps (acc[0], bv),
                                  _mm512_add_ps (acc[1], acc[2]));
        if (res)
          v = _mm512_add_ps (v,
                             _mm512_maskz_loadu_ps (omk, res + oy * OW + x0));
        if (act == MACE_ACT_RELU)
          v = _mm512_max_ps (v, _mm512_setzero_ps ());
        else if (act == MACE_ACT_CLIP)
          v = _mm512_min_ps (_mm512_max_ps (v, lo), hi);
        else if (act == MACE_ACT_LEAKYRELU)
          v = _mm512_mask_mul_ps (
              v, _mm512_cmp_ps_mask (v, _mm512_setzero_ps (), _CMP_LT_OQ), v,
              slope);
        _mm512_mask_storeu_ps (o + x0, omk, v);
      }
    }
    return fused;
  }
  if (sw == 2) {
    /* Even and odd columns of a 32-column window by two permutes; the
     * third tap (even columns shifted by one) comes from the next block's
     * even columns, carried over. */
    for (int64_t oy = 0; oy < OH; oy++) {
      const float *r[3];
      __m512 ev[3], od[3];
      for (int ky = 0; ky < 3; ky++) {
        int64_t iy = oy * sh - pt + ky;
        r[ky] = iy >= 0 && iy < IH ? xp + iy * IW : zero;
        __m512 a = _mm512_maskz_loadu_ps (range_mask (-pl, IW), r[ky] - pl);
        __m512 b
            = _mm512_maskz_loadu_ps (range_mask (16 - pl, IW), r[ky] + 16 - pl);
        ev[ky] = _mm512_permutex2var_ps (a, even, b);
        od[ky] = _mm512_permutex2var_ps (a, odd, b);
      }
      float *o = out + oy * OW;
      for (int64_t x0 = 0; x0 < OW; x0 += 16) {
        int64_t nv = OW - x0 < 16 ? OW - x0 : 16;
        __mmask16 omk = (__mmask16)((1u << nv) - 1);
        int64_t nb = 2 * x0 + 32 - pl;
        __mmask16 ma = range_mask (nb, IW), mb = range_mask (nb + 16, IW);
        __m512 acc[3];
        for (int ky = 0; ky < 3; ky++) {
          __m512 a = _mm512_maskz_loadu_ps (ma, r[ky] + nb);
          __m512 b = _mm512_maskz_loadu_ps (mb, r[ky] + nb + 16);
          __m512 en = _mm512_permutex2var_ps (a, even, b);
          __m512 on = _mm512_permutex2var_ps (a, odd, b);
          __m512 e2 = _mm512_castsi512_ps (_mm512_alignr_epi32 (
              _mm512_castps_si512 (en), _mm512_castps_si512 (ev[ky]), 1));
          __m512 t = _mm512_mul_ps (wv[3 * ky], ev[ky]);
          t = _mm512_fmadd_ps (wv[3 * ky + 1], od[ky], t);
          acc[ky] = _mm512_fmadd_ps (wv[3 * ky + 2], e2, t);
          ev[ky] = en;
          od[ky] = on;
        }
        __m512 v = _mm512_add_ps (_mm512_add_ps (acc[0], bv),
                                  _mm512_add_ps (acc[1], acc[2]));
        if (res)
          v = _mm512_add_ps (v,
                             _mm512_maskz_loadu_ps (omk, res + oy * OW + x0));
        if (act == MACE_ACT_RELU)
          v = _mm512_max_ps (v, _mm512_setzero_ps ());
        else if (act == MACE_ACT_CLIP)
          v = _mm512_min_ps (_mm512_max_ps (v, lo), hi);
        else if (act == MACE_ACT_LEAKYRELU)
          v = _mm512_mask_mul_ps (
              v, _mm512_cmp_ps_mask (v, _mm512_setzero_ps (), _CMP_LT_OQ), v,
              slope);
        _mm512_mask_storeu_ps (o + x0, omk, v);
      }
    }
    return fused;
  }
  for (int64_t oy = 0; oy < OH; oy++) {
    const float *r[3];
    for (int ky = 0; ky < 3; ky++) {
      int64_t iy = oy * sh - pt + ky;
      r[ky] = iy >= 0 && iy < IH ? xp + iy * IW : zero;
    }
    float *o = out + oy * OW;
    for (int64_t bi = 0; bi < nblk; bi++) {
      int64_t x0 = bi * 16;
      __mmask16 m[4], omk;
      int64_t base = x0 * sw - pl;
      if (tab) {
        m[0] = mk[bi][0];
        m[1] = mk[bi][1];
        m[2] = mk[bi][2];
        m[3] = mk[bi][3];
        omk = om[bi];
      } else {
        int64_t nv = OW - x0 < 16 ? OW - x0 : 16;
        omk = (__mmask16)((1u << nv) - 1);
        if (sw == 1) {
          m[0] = range_mask (base, IW);
          m[1] = range_mask (base + 1, IW);
          m[2] = range_mask (base + 2, IW);
          m[3] = 0;
        } else {
          m[0] = range_mask (base, IW);
          m[1] = range_mask (base + 16, IW);
          m[2] = range_mask (base + 2, IW);
          m[3] = range_mask (base + 18, IW);
        }
      }
      __m512 acc0 = bv, acc1 = _mm512_setzero_ps (),
             acc2 = _mm512_setzero_ps ();
      if (sw == 1) {
        for (int kx = 0; kx < 3; kx++) {
          __m512 v0 = _mm512_maskz_loadu_ps (m[kx], r[0] + base + kx);
          __m512 v1 = _mm512_maskz_loadu_ps (m[kx], r[1] + base + kx);
          __m512 v2 = _mm512_maskz_loadu_ps (m[kx], r[2] + base + kx);
          acc0 = _mm512_fmadd_ps (wv[kx], v0, acc0);
          acc1 = _mm512_fmadd_ps (wv[3 + kx], v1, acc1);
          acc2 = _mm512_fmadd_ps (wv[6 + kx], v2, acc2);
        }
      } else {
        __m512 *accs[3] = { &acc0, &acc1, &acc2 };
        for (int ky = 0; ky < 3; ky++) {
          const float *row = r[ky];
          __m512 a = _mm512_maskz_loadu_ps (m[0], row + base);
          __m512 b = _mm512_maskz_loadu_ps (m[1], row + base + 16);
          __m512 c = _mm512_maskz_loadu_ps (m[2], row + base + 2);
          __m512 d = _mm512_maskz_loadu_ps (m[3], row + base + 18);
          __m512 e0 = _mm512_permutex2var_ps (a, even, b);
          __m512 o1 = _mm512_permutex2var_ps (a, odd, b);
          __m512 e2 = _mm512_permutex2var_ps (c, even, d);
          __m512 t = *accs[ky];
          t = _mm512_fmadd_ps (wv[3 * ky], e0, t);
          t = _mm512_fmadd_ps (wv[3 * ky + 1], o1, t);
          t = _mm512_fmadd_ps (wv[3 * ky + 2], e2, t);
          *accs[ky] = t;
        }
      }
      __m512 v = _mm512_add_ps (acc0, _mm512_add_ps (acc1, acc2));
      if (res)
        v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (omk, res + oy * OW + x0));
      if (act == MACE_ACT_RELU)
        v = _mm512_max_ps (v, _mm512_setzero_ps ());
      else if (act == MACE_ACT_CLIP)
        v = _mm512_min_ps (_mm512_max_ps (v, lo), hi);
      else if (act == MACE_ACT_LEAKYRELU)
        v = _mm512_mask_mul_ps (
            v, _mm512_cmp_ps_mask (v, _mm512_setzero_ps (), _CMP_LT_OQ), v,
            slope);
      _mm512_mask_storeu_ps (o + x0, omk, v);
    }
  }
  return fused;
}

#endif

/* Any kernel, stride and dilation. */
MACE_CLONES static void
dw_row_generic (const float *restrict P, int64_t Wp, float *restrict o,
                int64_t OW, const float *restrict w, int64_t kh, int64_t kw,
                int64_t sw, int64_t dh, int64_t dw, float bias)
{
  for (int64_t x = 0; x < OW; x++)
    o[x] = bias;
  for (int64_t ky = 0; ky < kh; ky++)
    for (int64_t kx = 0; kx < kw; kx++) {
      const float wv = w[ky * kw + kx];
      const float *r = P + ky * dh * Wp + kx * dw;
      if (sw == 1)
        for (int64_t x = 0; x < OW; x++)
          o[x] += wv * r[x];
      else
        for (int64_t x = 0; x < OW; x++)
          o[x] += wv * r[x * sw];
    }
}

typedef struct {
  const Geom *g;
  const float *x, *w;
  float *y;
  MaceEpilogue ep;
  bool oom;
} DwJob;

static void
dw_planes (void *arg, int64_t b, int64_t e)
{
  DwJob *j = arg;
  const Geom *g = j->g;
  const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
  const int64_t kh = g->k[1], kw = g->k[2];
  const int64_t sh = g->s[1], sw = g->s[2], dh = g->d[1], dw = g->d[2];
  /* The padded plane covers exactly what the windows read. */
  const int64_t Hp = (OH - 1) * sh + (kh - 1) * dh + 1;
  const int64_t Wp = (OW - 1) * sw + (kw - 1) * dw + 1;
  const int64_t pt = g->pb[1], pl = g->pb[2];
  const bool k3 = kh == 3 && kw == 3 && dh == 1 && dw == 1;
  /* 3x3: straight from the input, with a zero row for padding rows;
   * otherwise over a zero-padded copy of the plane. */
  size_t need = k3 ? (size_t)IW + 16 : (size_t)(Hp * Wp + 16);
  float *P = mace_scratch (1, sizeof (float) * need);
  if (!P) {
    j->oom = true;
    return;
  }
  if (k3)
    memset (P, 0, sizeof (float) * (size_t)IW);
  bool plain_ep = j->ep.res || j->ep.act != MACE_ACT_NONE;
  for (int64_t t = b; t < e; t++) {
    int64_t c = t % g->C;
    const float *xp = j->x + t * IH * IW;
    for (int64_t y = 0; !k3 && y < Hp; y++) {
      int64_t iy = y - pt;
      pad_row (iy >= 0 && iy < IH ? xp + iy * IW : NULL, IW, pl, P + y * Wp, Wp,
               false);
    }
    float *o = j->y + t * OH * OW;
    const float *wc = j->w + c * kh * kw;
    float bias = j->ep.bias ? j->ep.bias[c] : 0.0f;
    MaceEpilogue ep = j->ep;
    ep.bias = NULL;
#if defined(__x86_64__)
    if (k3 && (sw == 1 || sw == 2) && mace_gemm_has_indirect ()) {
      MaceEpilogue pe = ep;
      if (pe.res)
        pe.res += t * OH * OW;
      if (dw3x3_plane_avx512 (xp, IH, IW, P, o, OH, OW, wc, bias, sh, sw, pt,
                              pl, &pe))
        continue;
      mace_epilogue_apply (o, OH * OW, 1, OH * OW, &pe);
      continue;
    }
#endif
    if (k3)
      dw3x3_plane (xp, IH, IW, P, o, OH, OW, wc, bias, sh, sw, pt, pl);
    else
      for (int64_t oy = 0; oy < OH; oy++)
        dw_row_generic (P + oy * sh * Wp, Wp, o + oy * OW, OW, wc, kh, kw, sw,
                        dh, dw, bias);
    if (plain_ep) {
      if (ep.res)
        ep.res += t * OH * OW;
      mace_epilogue_apply (o, OH * OW, 1, OH * OW, &ep);
    }
  }
}

/* The fused residual covers only the first channels of the output (the
 * optimiser fuses Add(conv, Concat(x, zeros)) channel padding this way). */
static const MaceTensor *
partial_residual (const MaceOpCtx *ctx, const MaceTensor *out)
{
  const MaceNode *n = ctx->node;
  if (n->fused_add < 0 || n->fused_add >= ctx->n_in || !ctx->in[n->fused_add])
    return NULL;
  const MaceTensor *r = ctx->in[n->fused_add];
  if (r->ndim == out->ndim && r->ndim >= 2 && r->dims[1] < out->dims[1])
    return r;
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
  if (ctx->n_in > 2 && ctx->in[2] && n->fused_add != 2)
    ep->bias = ctx->in[2]->data;
  if (n->fused_add >= 0 && n->fused_add < ctx->n_in && ctx->in[n->fused_add])
    ep->res = ctx->in[n->fused_add]->data;
  if (partial_residual (ctx, out)) {
    /* Added, with the activation, by conv_run's second pass. */
    ep->res = NULL;
    ep->act = MACE_ACT_NONE;
  }
}

static MaceStatus conv_run_main (MaceOpCtx *ctx);

static MaceStatus
conv_run (MaceOpCtx *ctx)
{
  MaceStatus st = conv_run_main (ctx);
  const MaceTensor *r = partial_residual (ctx, ctx->out[0]);
  if (st != MACE_OK || !r)
    return st;
  /* Residual on the first channels, then the activation on all. */
  MaceTensor *y = ctx->out[0];
  int64_t C = y->dims[1], Cr = r->dims[1];
  int64_t plane = mace_tensor_numel (y) / (y->dims[0] * C);
  float *yd = y->data;
  const float *rd = r->data;
  for (int64_t b = 0; b < y->dims[0]; b++) {
    float *yb = yd + b * C * plane;
    const float *rb = rd + b * Cr * plane;
    for (int64_t i = 0; i < Cr * plane; i++)
      yb[i] += rb[i];
  }
  if (ctx->node->act != MACE_ACT_NONE)
    mace_apply_activation_f32 (yd, mace_tensor_numel (y), ctx->node->act,
                               ctx->node->act_alpha, ctx->node->act_beta);
  return MACE_OK;
}

static MaceStatus
conv_run_main (MaceOpCtx *ctx)
{
  Geom g;
  MaceStatus st = geom_read (ctx, &g, false);
  if (st != MACE_OK)
    return st;
  MaceTensor *y = ctx->out[0];
  if (mace_tensor_numel (y) == 0)
    return MACE_OK;
  const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
  int64_t OHW = g.out[0] * g.out[1] * g.out[2];
  int64_t IHW = g.in[0] * g.in[1] * g.in[2];
  int threads = mace_threadpool_size (ctx->pool);

  if (is_depthwise (&g)) {
    DwJob j = { .g = &g, .x = x, .w = w, .y = y->data };
    node_epilogue (ctx, &j.ep, y);
    j.ep.ldr = OHW;
    MaceThreadPool *pool
        = g.N * g.C * OHW * g.k[1] * g.k[2] < 16384 ? NULL : ctx->pool;
    mace_parallel_for (pool, g.N * g.C, dw_planes, &j);
    if (j.oom)
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "depthwise buffer");
    return MACE_OK;
  }

  ConvJob j = { .g = &g, .x = x, .y = y->data, .OHW = OHW, .IHW = IHW };
  j.Cig = g.C / g.group;
  j.Cog = g.M / g.group;
  j.Kg = j.Cig * g.k[0] * g.k[1] * g.k[2];
  j.pointwise = g.k[0] * g.k[1] * g.k[2] == 1 && g.s[0] * g.s[1] * g.s[2] == 1
                && !g.pb[0] && !g.pb[1] && !g.pb[2] && !g.pe[0] && !g.pe[1]
                && !g.pe[2];
  node_epilogue (ctx, &j.ep, y);
  j.ep.ldr = OHW;
  ConvState *s = ctx->node->state;
  float *pa_tmp = NULL;
  if (s && ctx->node->state_free == conv_state_free && s->M == g.M
      && s->Kg == j.Kg && s->mr == mace_gemm_mr ()) {
    j.pa = s->pa;
    j.pa_group = s->pa_group;
  } else {
    pa_tmp = pack_weights (&g, w, &j.pa_group);
    if (!pa_tmp)
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "packing weights");
    j.pa = pa_tmp;
  }
  if (g.group == 1 && !j.pointwise && g.k[0] == 1 && g.in[0] == 1
      && (g.s[2] == 1 || g.s[2] == 2) && mace_gemm_has_indirect ()
      && g.out[2] >= 16) {
    j.Wp = (g.out[2] - 1) * g.s[2] + (g.k[2] - 1) * g.d[2] + 1;
    int64_t ext = (g.k[1] - 1) * g.d[1] + 1;
    /* Rows per task: the copied input block stays within ~256 KiB, and
     * there are enough tasks for every thread. */
    int64_t R = (65536 / (g.C * j.Wp) - ext) / g.s[1] + 1;
    if (R > 8)
      R = 8;
    if (R < 1)
      R = 1;
    while (R > 1 && g.N * ((g.out[1] + R - 1) / R) < 4 * threads)
      R /= 2;
    j.R = R;
    j.RR = (R - 1) * g.s[1] + ext;
    j.n_rt = (g.out[1] + R - 1) / R;
    j.boff = malloc (sizeof (int64_t) * (size_t)(j.Kg + 1));
    if (!j.boff) {
      free (pa_tmp);
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "conv offsets");
    }
    int64_t k = 0;
    for (int64_t ci = 0; ci < g.C; ci++)
      for (int64_t ky = 0; ky < g.k[1]; ky++)
        for (int64_t kx = 0; kx < g.k[2]; kx++) {
          /* Padded column x * s + kx * d; stride 2 stores even columns
           * first, then odd ones. */
          int64_t c = kx * g.d[2];
          int64_t col = g.s[2] == 2 ? (c & 1 ? (j.Wp + 1) / 2 : 0) + c / 2 : c;
          j.boff[k++] = (ci * j.RR + ky * g.d[1]) * j.Wp + col;
        }
    MaceThreadPool *pool
        = (double)g.M * j.Kg * OHW * g.N < 131072.0 ? NULL : ctx->pool;
    mace_parallel_for (pool, g.N * j.n_rt, conv_rows, &j);
    free (j.boff);
    free (pa_tmp);
    if (j.oom)
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "conv rows buffer");
    return MACE_OK;
  }
  /* Column tiles whose packed B stays in L2, and enough of them to keep
   * every thread busy. */
  int nr = mace_gemm_nr ();
  int64_t nt = (98304 / (j.Kg > 0 ? j.Kg : 1)) / nr * nr;
  if (nt < nr)
    nt = nr;
  if (nt > 1024)
    nt = 1024;
  int64_t outer = g.N * g.group;
  while (nt > nr && outer * ((OHW + nt - 1) / nt) < 4 * threads)
    nt = (nt / 2 + nr - 1) / nr * nr;
  j.nt = nt;
  j.n_tiles = (OHW + nt - 1) / nt;
  MaceThreadPool *pool
      = (double)g.M * j.Kg * OHW * g.N < 131072.0 ? NULL : ctx->pool;
  mace_parallel_for (pool, outer * j.n_tiles, conv_tiles, &j);
  free (pa_tmp);
  if (j.oom)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "im2col buffer");
  return MACE_OK;
}

/* ---- ConvTranspose -------------------------------------------------- */

static MaceStatus
convt_geom (MaceOpCtx *ctx, Geom *g)
{
  MaceStatus st = geom_read (ctx, g, true);
  if (st != MACE_OK)
    return st;
  const MaceNode *node = ctx->node;
  int nd = g->nd, off = 3 - nd;
  int64_t op[3], os[3];
  if (!attr_ints_n (node, "output_padding", nd, op, 0))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "output_padding has the wrong length");
  int n_os = 0;
  const int64_t *osa = mace_attr_ints (node, "output_shape", &n_os);
  if (osa && n_os != nd && n_os != nd + 2)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "output_shape has the wrong length");
  for (int i = 0; osa && i < nd; i++)
    os[i] = osa[n_os - nd + i];
  const char *ap = mace_attr_string (node, "auto_pad", "NOTSET");
  bool same = !strcmp (ap, "SAME_UPPER") || !strcmp (ap, "SAME_LOWER");
  for (int i = 0; i < nd; i++) {
    int a = off + i;
    int64_t ext = (g->k[a] - 1) * g->d[a] + 1;
    int64_t full = g->s[a] * (g->in[a] - 1) + op[i] + ext;
    if (osa || same) {
      int64_t want = osa ? os[i] : g->in[a] * g->s[a];
      int64_t tot = full - want;
      if (tot < 0) {
        /* Asked for more than the kernel reaches: the rest is output
         * padding at the end. */
        g->pb[a] = 0;
        g->pe[a] = tot;
      } else if (!strcmp (ap, "SAME_UPPER")) {
        g->pb[a] = tot / 2;
        g->pe[a] = tot - tot / 2;
      } else {
        g->pb[a] = tot - tot / 2;
        g->pe[a] = tot / 2;
      }
      g->out[a] = want;
    } else {
      if (!strcmp (ap, "VALID"))
        g->pb[a] = g->pe[a] = 0;
      g->out[a] = full - g->pb[a] - g->pe[a];
    }
    if (g->out[a] < 1)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "output size below 1");
  }
  return MACE_OK;
}

static MaceStatus
convt_infer (MaceOpCtx *ctx)
{
  Geom g;
  MaceStatus st = convt_geom (ctx, &g);
  if (st != MACE_OK)
    return st;
  const MaceTensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
  if (b && (b->ndim != 1 || b->dims[0] != g.M))
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "bias must have %lld values",
                         (long long)g.M);
  int64_t dims[5] = { g.N, g.M };
  for (int i = 0; i < g.nd; i++)
    dims[2 + i] = g.out[3 - g.nd + i];
  mace_tensor_init (ctx->out[0], MACE_DTYPE_FLOAT32, g.nd + 2, dims);
  return MACE_OK;
}

typedef struct {
  const Geom *g;
  const float *col; /* (Cog * kvol) x IHW for the current group */
  float *y;         /* first output channel of the group */
  const float *bias;
} Col2ImJob;

static void
col2im_channels (void *arg, int64_t b, int64_t e)
{
  Col2ImJob *j = arg;
  const Geom *g = j->g;
  const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
  const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
  const int64_t kvol = g->k[0] * g->k[1] * g->k[2], IHW = ID * IH * IW;
  for (int64_t c = b; c < e; c++) {
    float *yc = j->y + c * OD * OH * OW;
    float bv = j->bias ? j->bias[c] : 0.0f;
    for (int64_t i = 0; i < OD * OH * OW; i++)
      yc[i] = bv;
    for (int64_t kz = 0; kz < g->k[0]; kz++)
      for (int64_t ky = 0; ky < g->k[1]; ky++)
        for (int64_t kx = 0; kx < g->k[2]; kx++) {
          const float *row
              = j->col + (c * kvol + (kz * g->k[1] + ky) * g->k[2] + kx) * IHW;
          for (int64_t iz = 0; iz < ID; iz++) {
            int64_t oz = iz * g->s[0] - g->pb[0] + kz * g->d[0];
            if (oz < 0 || oz >= OD)
              continue;
            for (int64_t iy = 0; iy < IH; iy++) {
              int64_t oy = iy * g->s[1] - g->pb[1] + ky * g->d[1];
              if (oy < 0 || oy >= OH)
                continue;
              const float *r = row + (iz * IH + iy) * IW;
              float *o = yc + (oz * OH + oy) * OW;
              for (int64_t ix = 0; ix < IW; ix++) {
                int64_t ox = ix * g->s[2] - g->pb[2] + kx * g->d[2];
                if (ox >= 0 && ox < OW)
                  o[ox] += r[ix];
              }
            }
          }
        }
  }
}

static MaceStatus
convt_run (MaceOpCtx *ctx)
{
  Geom g;
  MaceStatus st = convt_geom (ctx, &g);
  if (st != MACE_OK)
    return st;
  MaceTensor *y = ctx->out[0];
  const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
  const float *bias
      = ctx->n_in > 2 && ctx->in[2] ? (const float *)ctx->in[2]->data : NULL;
  int64_t Cig = g.C / g.group, Cog = g.M / g.group;
  int64_t kvol = g.k[0] * g.k[1] * g.k[2];
  int64_t IHW = g.in[0] * g.in[1] * g.in[2];
  int64_t OHW = g.out[0] * g.out[1] * g.out[2];
  int64_t rows = Cog * kvol;
  float *col = malloc (sizeof (float) * (size_t)(rows * IHW + 1));
  if (!col)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "col buffer");
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t gi = 0; gi < g.group; gi++) {
      /* col = W_g^T (rows x Cig) * X_g (Cig x IHW). */
      const float *wg = w + gi * Cig * rows;
      const float *xg = x + (n * g.C + gi * Cig) * IHW;
      if (!mace_sgemm (ctx->pool, true, false, rows, IHW, Cig, 1.0f, wg, rows,
                       xg, IHW, 0.0f, col, IHW, NULL, NULL, NULL)) {
        free (col);
        return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "gemm buffers");
      }
      Col2ImJob j = { &g, col, (float *)y->data + (n * g.M + gi * Cog) * OHW,
                      bias ? bias + gi * Cog : NULL };
      mace_parallel_for (ctx->pool, Cog, col2im_channels, &j);
    }
  free (col);
  MaceEpilogue ep;
  node_epilogue (ctx, &ep, y);
  ep.bias = NULL;
  ep.ldr = OHW;
  mace_epilogue_apply (y->data, OHW, g.N * g.M, OHW, &ep);
  return MACE_OK;
}

/* ---- MaceDwPwConv (src/opt/fuse_dw_pw.c) ----------------------------
 * A depthwise Conv followed by a 1x1 Conv, one node: inputs [x, W_dw,
 * B_dw, W_pw, B_pw, residual]; the depthwise's attributes; the 1x1's
 * activation and residual (fused_add = 5).  Runs the two Conv paths above
 * with the intermediate in a scratch tensor, so results equal the unfused
 * graph's. */

typedef struct {
  MaceTensor mid;
  void *pw_state; /* the 1x1's packed weights (conv_prepare) */
} DwPwState;

static void
dwpw_state_free (void *p)
{
  DwPwState *s = p;
  if (!s)
    return;
  mace_tensor_clear (&s->mid);
  conv_state_free (s->pw_state);
  free (s);
}

/* Sub-contexts of the two convolutions.  dw_in / pw_in / tin are storage
 * for the sub-nodes' input arrays. */
typedef struct {
  MaceNode dw, pw;
  int dw_in[3], pw_in[4];
  MaceTensor *dw_t[3], *pw_t[4], *dw_o[1], *pw_o[1];
  MaceOpCtx dctx, pctx;
} DwPwSub;

static void
dwpw_sub (MaceOpCtx *ctx, DwPwSub *s, MaceTensor *mid)
{
  MaceNode *n = ctx->node;
  memset (s, 0, sizeof *s);
  s->dw = *n;
  s->dw.op_type = (char *)"Conv";
  s->dw.n_in = 3;
  s->dw.in = s->dw_in;
  s->dw.act = MACE_ACT_NONE;
  s->dw.fused_add = -1;
  s->dw.state = NULL;
  s->dw.state_free = NULL;
  s->pw = s->dw;
  s->pw.n_attr = 0;
  s->pw.attrs = NULL;
  s->pw.in = s->pw_in;
  s->pw.act = n->act;
  s->pw.act_alpha = n->act_alpha;
  s->pw.act_beta = n->act_beta;
  bool res = n->fused_add == 5 && ctx->n_in > 5 && ctx->in[5];
  s->pw.n_in = res ? 4 : 3;
  s->pw.fused_add = res ? 3 : -1;
  for (int k = 0; k < 3; k++) {
    s->dw_in[k] = k < n->n_in ? n->in[k] : -1;
    s->dw_t[k] = k < ctx->n_in ? ctx->in[k] : NULL;
  }
  s->pw_in[0] = -1;
  s->pw_t[0] = mid;
  for (int k = 1; k < 4; k++) {
    s->pw_in[k] = k + 2 < n->n_in ? n->in[k + 2] : -1;
    s->pw_t[k] = k + 2 < ctx->n_in ? ctx->in[k + 2] : NULL;
  }
  s->dw_o[0] = mid;
  s->pw_o[0] = ctx->out[0];
  s->dctx = *ctx;
  s->dctx.node = &s->dw;
  s->dctx.n_in = 3;
  s->dctx.in = s->dw_t;
  s->dctx.n_out = 1;
  s->dctx.out = s->dw_o;
  s->pctx = s->dctx;
  s->pctx.node = &s->pw;
  s->pctx.n_in = s->pw.n_in;
  s->pctx.in = s->pw_t;
  s->pctx.out = s->pw_o;
}

static MaceStatus
dwpw_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  if (node->n_in < 5 || node->in[3] < 0) {
    g_snprintf (msg, len, "MaceDwPwConv needs inputs X, W_dw, B, W_pw, B");
    return MACE_ERROR_INVALID_MODEL;
  }
  return conv_check (node, opset, msg, len);
}

static MaceStatus
dwpw_infer (MaceOpCtx *ctx)
{
  MaceTensor mid;
  memset (&mid, 0, sizeof mid);
  DwPwSub s;
  dwpw_sub (ctx, &s, &mid);
  MaceStatus st = conv_infer (&s.dctx);
  if (st == MACE_OK)
    st = conv_infer (&s.pctx);
  return st;
}

static MaceStatus
dwpw_prepare (MaceOpCtx *ctx)
{
  DwPwState *ps = calloc (1, sizeof *ps);
  if (!ps)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "state");
  DwPwSub s;
  dwpw_sub (ctx, &s, &ps->mid);
  MaceStatus st = conv_infer (&s.dctx);
  if (st == MACE_OK)
    st = conv_prepare (&s.pctx);
  if (st != MACE_OK) {
    dwpw_state_free (ps);
    return st;
  }
  ps->pw_state = s.pw.state;
  if (ctx->node->state && ctx->node->state_free)
    ctx->node->state_free (ctx->node->state);
  ctx->node->state = ps;
  ctx->node->state_free = dwpw_state_free;
  return MACE_OK;
}

static MaceStatus
dwpw_run (MaceOpCtx *ctx)
{
  DwPwState *ps
      = ctx->node->state_free == dwpw_state_free ? ctx->node->state : NULL;
  MaceTensor tmp;
  memset (&tmp, 0, sizeof tmp);
  MaceTensor *mid = ps ? &ps->mid : &tmp;
  DwPwSub s;
  dwpw_sub (ctx, &s, mid);
  if (ps) {
    s.pw.state = ps->pw_state;
    s.pw.state_free = conv_state_free;
  }
  MaceStatus st = conv_infer (&s.dctx);
  if (st == MACE_OK && mace_tensor_alloc (mid) != MACE_OK)
    st = mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "intermediate");
  if (st == MACE_OK)
    st = conv_run (&s.dctx);
  if (st == MACE_OK)
    st = conv_run (&s.pctx);
  mace_tensor_clear (&tmp);
  return st;
}

const MaceOpDef mace_ops_conv[] = {
  { "Conv", conv_check, conv_infer, conv_run, 0, conv_prepare },
  { "ConvTranspose", conv_check, convt_infer, convt_run, 0, NULL },
  { "MaceDwPwConv", dwpw_check, dwpw_infer, dwpw_run, 0, dwpw_prepare },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
