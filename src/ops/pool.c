/* SPDX-License-Identifier: Apache-2.0
 * MaxPool (with optional Indices), AveragePool, LpPool, GlobalAveragePool,
 * GlobalMaxPool; NCHW, 1-D to 3-D, parallel over planes.  MaxPool on
 * float32 has a fast path for the common 2x2 stride-2 window. */
#pragma GCC optimize("O3", "fp-contract=fast")

#include <math.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

#if defined(__x86_64__)
#define MACE_CLONES                                                            \
  __attribute__ ((                                                             \
      target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MACE_CLONES
#endif

typedef enum { POOL_MAX, POOL_AVG, POOL_LP } PoolKind;

typedef struct {
  int nd;
  int64_t planes; /* N * C */
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} PGeom;

static MaceStatus
pool_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (node->n_in < 1) {
    g_snprintf (msg, len, "%s needs an input", node->op_type);
    return MACE_ERROR_INVALID_MODEL;
  }
  if (strncmp (node->op_type, "Global", 6) == 0)
    return MACE_OK;
  if (!mace_node_attr (node, "kernel_shape")) {
    g_snprintf (msg, len, "kernel_shape is required");
    return MACE_ERROR_INVALID_MODEL;
  }
  const char *ap = mace_attr_string (node, "auto_pad", "NOTSET");
  if (strcmp (ap, "NOTSET") && strcmp (ap, "SAME_UPPER")
      && strcmp (ap, "SAME_LOWER") && strcmp (ap, "VALID")) {
    g_snprintf (msg, len, "unknown auto_pad '%s'", ap);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (node->n_out > 1 && strcmp (node->op_type, "MaxPool") != 0) {
    g_snprintf (msg, len, "%s has one output", node->op_type);
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

static bool
ints_n (const MaceNode *node, const char *name, int want, int64_t *dst,
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
  memcpy (dst, v, sizeof (int64_t) * (size_t)want);
  return true;
}

static MaceStatus
geom (MaceOpCtx *ctx, PGeom *g, bool global)
{
  const MaceNode *node = ctx->node;
  const MaceTensor *x = ctx->in[0];
  if (x->ndim < 3 || x->ndim > 5)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                         "input must be 3-D to 5-D (got %d-D)", x->ndim);
  int nd = x->ndim - 2, off = 3 - nd;
  memset (g, 0, sizeof *g);
  g->nd = nd;
  g->planes = x->dims[0] * x->dims[1];
  for (int i = 0; i < 3; i++)
    g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
  if (global) {
    for (int i = 0; i < nd; i++) {
      g->in[off + i] = g->k[off + i] = x->dims[2 + i];
      g->out[off + i] = 1;
    }
    return MACE_OK;
  }
  int64_t k[3], s[3], d[3], p[6];
  if (!ints_n (node, "kernel_shape", nd, k, 1)
      || !ints_n (node, "strides", nd, s, 1)
      || !ints_n (node, "dilations", nd, d, 1)
      || !ints_n (node, "pads", 2 * nd, p, 0))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "kernel_shape/strides/dilations/pads do not match "
                         "the %d spatial dims",
                         nd);
  bool ceil_mode = mace_attr_int (node, "ceil_mode", 0) != 0;
  const char *ap = mace_attr_string (node, "auto_pad", "NOTSET");
  for (int i = 0; i < nd; i++) {
    int a = off + i;
    if (k[i] < 1 || s[i] < 1 || d[i] < 1)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "kernel, strides and dilations must be >= 1");
    g->in[a] = x->dims[2 + i];
    g->k[a] = k[i];
    g->s[a] = s[i];
    g->d[a] = d[i];
    int64_t ext = (k[i] - 1) * d[i] + 1;
    if (!strcmp (ap, "SAME_UPPER") || !strcmp (ap, "SAME_LOWER")) {
      int64_t o = (g->in[a] + s[i] - 1) / s[i];
      int64_t tot = (o - 1) * s[i] + ext - g->in[a];
      if (tot < 0)
        tot = 0;
      g->pb[a] = !strcmp (ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
      g->pe[a] = tot - g->pb[a];
      g->out[a] = o;
      continue;
    }
    if (!strcmp (ap, "VALID")) {
      g->pb[a] = g->pe[a] = 0;
    } else {
      g->pb[a] = p[i];
      g->pe[a] = p[nd + i];
    }
    int64_t span = g->in[a] + g->pb[a] + g->pe[a] - ext;
    if (span < 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "window larger than the padded input");
    int64_t o = (ceil_mode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
    /* The last window must start inside the input or its left padding. */
    if (ceil_mode && (o - 1) * s[i] >= g->in[a] + g->pb[a])
      o--;
    g->out[a] = o;
  }
  return MACE_OK;
}

static MaceStatus
pool_infer_common (MaceOpCtx *ctx, bool global)
{
  const MaceTensor *x = ctx->in[0];
  bool is_max = strstr (ctx->node->op_type, "Max") != NULL;
  if (x->dtype != MACE_DTYPE_FLOAT32
      && !(is_max
           && (x->dtype == MACE_DTYPE_UINT8 || x->dtype == MACE_DTYPE_INT8)))
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                         mace_dtype_name (x->dtype));
  PGeom g;
  MaceStatus st = geom (ctx, &g, global);
  if (st != MACE_OK)
    return st;
  int64_t dims[5] = { x->dims[0], x->dims[1] };
  for (int i = 0; i < g.nd; i++)
    dims[2 + i] = g.out[3 - g.nd + i];
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  if (ctx->n_out > 1 && ctx->out[1])
    mace_tensor_init (ctx->out[1], MACE_DTYPE_INT64, x->ndim, dims);
  return MACE_OK;
}

static MaceStatus
pool_infer (MaceOpCtx *ctx)
{
  return pool_infer_common (ctx, false);
}

static MaceStatus
global_infer (MaceOpCtx *ctx)
{
  return pool_infer_common (ctx, true);
}

typedef struct {
  const PGeom *g;
  PoolKind kind;
  MaceDataType dt;
  const void *x;
  void *y;
  int64_t *idx; /* MaxPool Indices, or NULL */
  bool col_major;
  bool count_pad;
  float p;
} PoolJob;

/* Fast 2x2 stride-2 max over one plane without padding. */
MACE_CLONES static void
max2x2 (const float *restrict x, int64_t W, float *restrict y, int64_t OH,
        int64_t OW)
{
  for (int64_t oy = 0; oy < OH; oy++) {
    const float *r0 = x + 2 * oy * W, *r1 = r0 + W;
    float *o = y + oy * OW;
    for (int64_t ox = 0; ox < OW; ox++) {
      float a = r0[2 * ox] > r0[2 * ox + 1] ? r0[2 * ox] : r0[2 * ox + 1];
      float b = r1[2 * ox] > r1[2 * ox + 1] ? r1[2 * ox] : r1[2 * ox + 1];
      o[ox] = a > b ? a : b;
    }
  }
}

static inline double
load_x (const PoolJob *j, int64_t i)
{
  switch (j->dt) {
    case MACE_DTYPE_UINT8: return ((const uint8_t *)j->x)[i];
    case MACE_DTYPE_INT8: return ((const int8_t *)j->x)[i];
    default: return ((const float *)j->x)[i];
  }
}

static inline void
store_y (const PoolJob *j, int64_t i, double v)
{
  switch (j->dt) {
    case MACE_DTYPE_UINT8: ((uint8_t *)j->y)[i] = (uint8_t)v; break;
    case MACE_DTYPE_INT8: ((int8_t *)j->y)[i] = (int8_t)v; break;
    default: ((float *)j->y)[i] = (float)v; break;
  }
}

static void
pool_planes (void *arg, int64_t b, int64_t e)
{
  const PoolJob *j = arg;
  const PGeom *g = j->g;
  const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
  const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
  const int64_t ipl = ID * IH * IW, opl = OD * OH * OW;
  bool fast = j->kind == POOL_MAX && j->dt == MACE_DTYPE_FLOAT32 && !j->idx
              && g->k[0] == 1 && g->k[1] == 2 && g->k[2] == 2 && g->s[1] == 2
              && g->s[2] == 2 && g->d[1] == 1 && g->d[2] == 1 && g->pb[1] == 0
              && g->pb[2] == 0 && 2 * OH <= IH && 2 * OW <= IW && OD == ID;
  for (int64_t pl = b; pl < e; pl++) {
    if (fast) {
      for (int64_t z = 0; z < OD; z++)
        max2x2 ((const float *)j->x + pl * ipl + z * IH * IW, IW,
                (float *)j->y + pl * opl + z * OH * OW, OH, OW);
      continue;
    }
    for (int64_t oz = 0; oz < OD; oz++)
      for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ox = 0; ox < OW; ox++) {
          int64_t z0 = oz * g->s[0] - g->pb[0], y0 = oy * g->s[1] - g->pb[1],
                  x0 = ox * g->s[2] - g->pb[2];
          double acc = j->kind == POOL_MAX ? -INFINITY : 0.0;
          int64_t cnt = 0, best = -1;
          for (int64_t kz = 0; kz < g->k[0]; kz++) {
            int64_t iz = z0 + kz * g->d[0];
            if (iz < 0 || iz >= ID)
              continue;
            for (int64_t ky = 0; ky < g->k[1]; ky++) {
              int64_t iy = y0 + ky * g->d[1];
              if (iy < 0 || iy >= IH)
                continue;
              for (int64_t kx = 0; kx < g->k[2]; kx++) {
                int64_t ix = x0 + kx * g->d[2];
                if (ix < 0 || ix >= IW)
                  continue;
                int64_t off = (iz * IH + iy) * IW + ix;
                double v = load_x (j, pl * ipl + off);
                if (j->kind == POOL_MAX) {
                  if (v > acc || best < 0) {
                    acc = v;
                    best = j->col_major ? (ix * IH + iy) * ID + iz : off;
                  }
                } else if (j->kind == POOL_AVG) {
                  acc += v;
                } else {
                  acc += pow (fabs (v), j->p);
                }
                cnt++;
              }
            }
          }
          int64_t o = pl * opl + (oz * OH + oy) * OW + ox;
          if (j->kind == POOL_AVG) {
            if (j->count_pad) {
              /* Divisor: the window clipped to the padded extent. */
              int64_t div = 1;
              int64_t st[3] = { z0, y0, x0 };
              for (int a = 0; a < 3; a++) {
                int64_t lo = st[a], hi = st[a] + (g->k[a] - 1) * g->d[a] + 1;
                int64_t lim = g->in[a] + g->pe[a];
                if (hi > lim)
                  hi = lim;
                int64_t n = 0;
                for (int64_t q = lo; q < hi; q += g->d[a])
                  n++;
                div *= n;
              }
              cnt = div;
            }
            acc = cnt ? acc / (double)cnt : 0.0;
          } else if (j->kind == POOL_LP) {
            acc = pow (acc, 1.0 / j->p);
          }
          store_y (j, o, acc);
          if (j->idx)
            j->idx[o] = best < 0 ? 0 : pl * ipl + best;
        }
  }
}

static MaceStatus
pool_run_kind (MaceOpCtx *ctx, PoolKind kind, bool global)
{
  PGeom g;
  MaceStatus st = geom (ctx, &g, global);
  if (st != MACE_OK)
    return st;
  const MaceTensor *x = ctx->in[0];
  PoolJob j = {
    .g = &g, .kind = kind, .dt = x->dtype, .x = x->data, .y = ctx->out[0]->data
  };
  if (ctx->n_out > 1 && ctx->out[1])
    j.idx = ctx->out[1]->data;
  j.col_major = mace_attr_int (ctx->node, "storage_order", 0) == 1;
  j.count_pad = mace_attr_int (ctx->node, "count_include_pad", 0) != 0;
  j.p = (float)mace_attr_int (ctx->node, "p", 2);
  int64_t work
      = g.planes * g.out[0] * g.out[1] * g.out[2] * g.k[0] * g.k[1] * g.k[2];
  mace_parallel_for (work < 32768 ? NULL : ctx->pool, g.planes, pool_planes,
                     &j);
  return MACE_OK;
}

static MaceStatus
maxpool_run (MaceOpCtx *ctx)
{
  return pool_run_kind (ctx, POOL_MAX, false);
}

static MaceStatus
avgpool_run (MaceOpCtx *ctx)
{
  return pool_run_kind (ctx, POOL_AVG, false);
}

static MaceStatus
lppool_run (MaceOpCtx *ctx)
{
  return pool_run_kind (ctx, POOL_LP, false);
}

static MaceStatus
globalmax_run (MaceOpCtx *ctx)
{
  return pool_run_kind (ctx, POOL_MAX, true);
}

/* GlobalAveragePool: a vectorised sum per plane. */
typedef struct {
  const float *x;
  float *y;
  int64_t n;
} GapJob;

MACE_CLONES static float
plane_mean (const float *restrict x, int64_t n)
{
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      acc[l] += x[i + l];
  double s = 0;
  for (int l = 0; l < 16; l++)
    s += acc[l];
  for (; i < n; i++)
    s += x[i];
  return (float)(s / (double)n);
}

static void
gap_planes (void *arg, int64_t b, int64_t e)
{
  GapJob *j = arg;
  for (int64_t p = b; p < e; p++)
    j->y[p] = plane_mean (j->x + p * j->n, j->n);
}

static MaceStatus
globalavg_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  if (x->dtype != MACE_DTYPE_FLOAT32)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                         mace_dtype_name (x->dtype));
  int64_t planes = x->dims[0] * x->dims[1];
  int64_t n = planes ? mace_tensor_numel (x) / planes : 0;
  if (n == 0)
    return MACE_OK;
  GapJob j = { x->data, ctx->out[0]->data, n };
  mace_parallel_for (planes * n < 32768 ? NULL : ctx->pool, planes, gap_planes,
                     &j);
  return MACE_OK;
}

const MaceOpDef mace_ops_pool[] = {
  { "MaxPool", pool_check, pool_infer, maxpool_run, 0, NULL },
  { "AveragePool", pool_check, pool_infer, avgpool_run, 0, NULL },
  { "LpPool", pool_check, pool_infer, lppool_run, 0, NULL },
  { "GlobalAveragePool", pool_check, global_infer, globalavg_run, 0, NULL },
  { "GlobalMaxPool", pool_check, global_infer, globalmax_run, 0, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
