/* SPDX-License-Identifier: Apache-2.0
 * Activation ops: Relu, LeakyRelu, PRelu, Clip, Sigmoid, HardSigmoid,
 * HardSwish, Tanh, Elu, Selu, Celu, ThresholdedRelu, Softplus, Softsign,
 * Gelu, Mish, Shrink; and mace_apply_activation_f32() for activations
 * fused into Conv / Gemm.
 *
 * float32 uses an exp written without library calls (Cephes' polynomial,
 * about 1 ulp) so that Sigmoid, Tanh, Elu and friends vectorise; float64
 * uses libm; float16 / bfloat16 run on float32 copies. */
/* Lets GCC if-convert selects whose arms compute (x < 0 ? x * a : x) and
 * so vectorise them; results are unchanged, only FP exception flags may
 * be raised spuriously, and nothing here reads them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "broadcast.h"
#include "internal.h"

/* ---- Vectorisable float math ------------------------------------------ */

/* exp(x) for x clamped to [-87, 88] (beyond that the result saturates at
 * about 1.6e-38 / 1.7e38, which is what the activations need). */
static inline float
fast_expf (float x)
{
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  /* n = round (x / ln 2) with the 1.5 * 2^23 trick (no libm call). */
  float n = x * 1.44269504088896341f + 12582912.0f;
  n -= 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t e = ((int32_t)n + 127) << 23;
  float s;
  memcpy (&s, &e, 4);
  return p * s;
}

/* exp(x) - 1 without the cancellation near 0. */
static inline float
fast_expm1f (float x)
{
  float t = x * (1.0f / 720.0f) + (1.0f / 120.0f);
  t = t * x + (1.0f / 24.0f);
  t = t * x + (1.0f / 6.0f);
  t = t * x + 0.5f;
  float small = (t * x) * x + x;
  float big = fast_expf (x) - 1.0f;
  return fabsf (x) < 0.25f ? small : big;
}

static inline float
fast_sigmoidf (float x)
{
  return 1.0f / (1.0f + fast_expf (-x));
}

static inline float
fast_tanhf (float x)
{
  float ax = fabsf (x);
  /* Cephes tanhf: odd polynomial below 0.625. */
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float t = 1.0f - 2.0f / (fast_expf (2.0f * ax) + 1.0f);
  float big = x < 0 ? -t : t;
  return ax < 0.625f ? small : big;
}

/* ---- Fused activations ------------------------------------------------ */

void
mace_apply_activation_f32 (float *x, int64_t n, MaceActivation act, float alpha,
                           float beta)
{
  switch (act) {
    case MACE_ACT_NONE: break;
    case MACE_ACT_RELU:
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
      break;
    case MACE_ACT_CLIP:
      for (int64_t i = 0; i < n; i++) {
        float v = x[i] < alpha ? alpha : x[i];
        x[i] = v > beta ? beta : v;
      }
      break;
    case MACE_ACT_LEAKYRELU:
      for (int64_t i = 0; i < n; i++)
        x[i] = x[i] < 0 ? x[i] * alpha : x[i];
      break;
    case MACE_ACT_HARDSWISH:
      for (int64_t i = 0; i < n; i++) {
        float v = x[i] * (1.0f / 6.0f) + 0.5f;
        v = v < 0 ? 0 : v;
        v = v > 1 ? 1 : v;
        x[i] = x[i] * v;
      }
      break;
    case MACE_ACT_SIGMOID:
      for (int64_t i = 0; i < n; i++)
        x[i] = fast_sigmoidf (x[i]);
      break;
  }
}

/* ---- Unary activations ------------------------------------------------ */

typedef struct {
  float alpha, beta, gamma;
} ActParam;

/* ACT_DEF (op, EF, ED): kernels op_f32 (expression EF) and op_f64 (ED)
 * over x, with alpha / beta / gamma of the node as a, b, g. */
#define ACT_KERNEL(name, T, EXPR)                                              \
  static void name (char *const *p, const int64_t *s, int64_t n,               \
                    const void *param)                                         \
  {                                                                            \
    const ActParam *q = param;                                                 \
    const T a = (T)q->alpha, b = (T)q->beta, g = (T)q->gamma;                  \
    T *o = (T *)p[0];                                                          \
    const T *in = (const T *)p[1];                                             \
    (void)s;                                                                   \
    (void)a;                                                                   \
    (void)b;                                                                   \
    (void)g;                                                                   \
    for (int64_t i = 0; i < n; i++) {                                          \
      T x = in[i];                                                             \
      o[i] = (EXPR);                                                           \
    }                                                                          \
  }
#define ACT_DEF(op, EF, ED)                                                    \
  ACT_KERNEL (op##_f32, float, EF)                                             \
  ACT_KERNEL (op##_f64, double, ED)

ACT_DEF (relu, x > 0 ? x : 0, x > 0 ? x : 0)
ACT_KERNEL (relu_i8, int8_t, x > 0 ? x : 0)
ACT_KERNEL (relu_i16, int16_t, x > 0 ? x : 0)
ACT_KERNEL (relu_i32, int32_t, x > 0 ? x : 0)
ACT_KERNEL (relu_i64, int64_t, x > 0 ? x : 0)
ACT_DEF (leakyrelu, x < 0 ? x * a : x, x < 0 ? x * a : x)
ACT_DEF (sigmoid, fast_sigmoidf (x), 1.0 / (1.0 + exp (-x)))
/* Selects rather than fminf / fmaxf: those are calls without -ffast-math. */
#define CLAMP01(v) ((v) < 0 ? 0 : ((v) > 1 ? 1 : (v)))
ACT_DEF (hardsigmoid, CLAMP01 (a *x + b), CLAMP01 (a *x + b))
ACT_DEF (hardswish, x *CLAMP01 (x *(1.0f / 6.0f) + 0.5f),
         x *CLAMP01 (x / 6.0 + 0.5))
ACT_DEF (tanh, fast_tanhf (x), tanh (x))
ACT_DEF (elu, x < 0 ? a * fast_expm1f (x) : x, x < 0 ? a * expm1 (x) : x)
ACT_DEF (selu, x <= 0 ? g * a * fast_expm1f (x) : g * x,
         x <= 0 ? g * a * expm1 (x) : g * x)
ACT_DEF (celu, (x > 0 ? x : 0) + (x < 0 ? a * fast_expm1f (x / a) : 0),
         (x > 0 ? x : 0) + (x < 0 ? a * expm1 (x / a) : 0))
ACT_DEF (thresholdedrelu, x > a ? x : 0, x > a ? x : 0)
ACT_DEF (softplus, x > 0 ? x + log1pf (expf (-x)) : log1pf (expf (x)),
         x > 0 ? x + log1p (exp (-x)) : log1p (exp (x)))
ACT_DEF (softsign, x / (1.0f + fabsf (x)), x / (1.0 + fabs (x)))
ACT_DEF (gelu, 0.5f * x * (1.0f + erff (x * 0.70710678118654752f)),
         0.5 * x * (1.0 + erf (x * 0.70710678118654752)))
ACT_DEF (
    gelu_tanh,
    0.5f * x
        * (1.0f
           + fast_tanhf (0.7978845608028654f * (x + 0.044715f * x * x * x))),
    0.5 * x * (1.0 + tanh (0.7978845608028654 * (x + 0.044715 * x * x * x))))
ACT_DEF (mish, x *tanhf (x > 0 ? x + log1pf (expf (-x)) : log1pf (expf (x))),
         x *tanh (x > 0 ? x + log1p (exp (-x)) : log1p (exp (x))))

/* Shrink: a = lambd, b = bias. */
ACT_DEF (shrink, x < -a ? x + b : (x > a ? x - b : 0),
         x < -a ? x + b : (x > a ? x - b : 0))

typedef struct {
  MaceBcastFn f32, f64;
  MaceBcastFn i8, i16, i32, i64; /* optional */
} ActKernels;

static bool
act_float (MaceDataType dt)
{
  return dt == MACE_DTYPE_FLOAT32 || dt == MACE_DTYPE_FLOAT64
         || mace_dtype_is_half (dt);
}

static MaceBcastFn
act_pick (const ActKernels *k, MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_FLOAT32: return k->f32;
    case MACE_DTYPE_FLOAT64: return k->f64;
    case MACE_DTYPE_INT8: return k->i8;
    case MACE_DTYPE_INT16: return k->i16;
    case MACE_DTYPE_INT32: return k->i32;
    case MACE_DTYPE_INT64: return k->i64;
    default: return NULL;
  }
}

typedef struct {
  const char *op;
  ActKernels k;
  float alpha, beta, gamma; /* defaults of the attributes */
} ActInfo;

static const ActInfo act_infos[] = {
  { "Relu",
    { relu_f32, relu_f64, relu_i8, relu_i16, relu_i32, relu_i64 },
    0,
    0,
    0 },
  { "LeakyRelu",
    { leakyrelu_f32, leakyrelu_f64, NULL, NULL, NULL, NULL },
    0.01f,
    0,
    0 },
  { "Sigmoid", { sigmoid_f32, sigmoid_f64, NULL, NULL, NULL, NULL }, 0, 0, 0 },
  { "HardSigmoid",
    { hardsigmoid_f32, hardsigmoid_f64, NULL, NULL, NULL, NULL },
    0.2f,
    0.5f,
    0 },
  { "HardSwish",
    { hardswish_f32, hardswish_f64, NULL, NULL, NULL, NULL },
    0,
    0,
    0 },
  { "Tanh", { tanh_f32, tanh_f64, NULL, NULL, NULL, NULL }, 0, 0, 0 },
  { "Elu", { elu_f32, elu_f64, NULL, NULL, NULL, NULL }, 1.0f, 0, 0 },
  { "Selu",
    { selu_f32, selu_f64, NULL, NULL, NULL, NULL },
    1.67326319217681884765625f,
    0,
    1.05070102214813232421875f },
  { "Celu", { celu_f32, celu_f64, NULL, NULL, NULL, NULL }, 1.0f, 0, 0 },
  { "ThresholdedRelu",
    { thresholdedrelu_f32, thresholdedrelu_f64, NULL, NULL, NULL, NULL },
    1.0f,
    0,
    0 },
  { "Softplus",
    { softplus_f32, softplus_f64, NULL, NULL, NULL, NULL },
    0,
    0,
    0 },
  { "Softsign",
    { softsign_f32, softsign_f64, NULL, NULL, NULL, NULL },
    0,
    0,
    0 },
  { "Gelu", { gelu_f32, gelu_f64, NULL, NULL, NULL, NULL }, 0, 0, 0 },
  { "Mish", { mish_f32, mish_f64, NULL, NULL, NULL, NULL }, 0, 0, 0 },
  { "Shrink", { shrink_f32, shrink_f64, NULL, NULL, NULL, NULL }, 0.5f, 0, 0 },
  { NULL, { NULL, NULL, NULL, NULL, NULL, NULL }, 0, 0, 0 },
};

static const ActInfo *
act_info (const char *op)
{
  for (const ActInfo *a = act_infos; a->op; a++)
    if (strcmp (a->op, op) == 0)
      return a;
  return NULL;
}

static MaceStatus
check_gelu (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *ap = mace_attr_string (node, "approximate", "none");
  if (strcmp (ap, "none") != 0 && strcmp (ap, "tanh") != 0) {
    snprintf (msg, len, "approximate='%s' is not supported", ap);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
need_input0 (MaceOpCtx *ctx)
{
  if (ctx->n_in < 1 || !ctx->in[0])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "input 0 is missing");
  return MACE_OK;
}

static MaceStatus
bad_type (MaceOpCtx *ctx, MaceDataType dt)
{
  return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                       "element type %s is not supported",
                       mace_dtype_name (dt));
}

static MaceStatus
infer_act (MaceOpCtx *ctx)
{
  MaceStatus st = need_input0 (ctx);
  if (st != MACE_OK)
    return st;
  const ActInfo *ai = act_info (ctx->node->op_type);
  MaceDataType dt = ctx->in[0]->dtype;
  if (!ai || !(act_float (dt) || act_pick (&ai->k, dt)))
    return bad_type (ctx, dt);
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
run_act (MaceOpCtx *ctx)
{
  MaceDataType dt = ctx->in[0]->dtype;
  if (mace_dtype_is_half (dt))
    return mace_run_via_f32 (ctx, run_act);
  const ActInfo *ai = act_info (ctx->node->op_type);
  MaceBcastFn fn = ai ? act_pick (&ai->k, dt) : NULL;
  if (!fn)
    return bad_type (ctx, dt);
  if (strcmp (ai->op, "Gelu") == 0
      && strcmp (mace_attr_string (ctx->node, "approximate", "none"), "tanh")
             == 0)
    fn = dt == MACE_DTYPE_FLOAT32 ? gelu_tanh_f32 : gelu_tanh_f64;
  bool shrink = strcmp (ai->op, "Shrink") == 0;
  ActParam q
      = { mace_attr_float (ctx->node, shrink ? "lambd" : "alpha", ai->alpha),
          mace_attr_float (ctx->node, shrink ? "bias" : "beta", ai->beta),
          mace_attr_float (ctx->node, "gamma", ai->gamma) };
  mace_bcast_run (ctx->pool, ctx->out[0], 1, ctx->in, fn, &q);
  return MACE_OK;
}

/* ---- Clip ------------------------------------------------------------- */

typedef struct {
  bool has_lo, has_hi;
  double lo, hi;    /* float types */
  int64_t ilo, ihi; /* integer types */
} ClipParam;

#define CLIP_KERNEL(sfx, T, LO, HI)                                            \
  static void clip_##sfx (char *const *p, const int64_t *s, int64_t n,         \
                          const void *param)                                   \
  {                                                                            \
    const ClipParam *q = param;                                                \
    T *o = (T *)p[0];                                                          \
    const T *in = (const T *)p[1];                                             \
    const T lo = (T)q->LO, hi = (T)q->HI;                                      \
    (void)s;                                                                   \
    if (q->has_lo && q->has_hi) {                                              \
      for (int64_t i = 0; i < n; i++) {                                        \
        T v = in[i] < lo ? lo : in[i];                                         \
        o[i] = v > hi ? hi : v;                                                \
      }                                                                        \
    } else if (q->has_lo) {                                                    \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = in[i] < lo ? lo : in[i];                                        \
    } else if (q->has_hi) {                                                    \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = in[i] > hi ? hi : in[i];                                        \
    } else {                                                                   \
      memcpy (o, in, sizeof (T) * (size_t)n);                                  \
    }                                                                          \
  }
CLIP_KERNEL (f32, float, lo, hi)
CLIP_KERNEL (f64, double, lo, hi)
CLIP_KERNEL (i8, int8_t, ilo, ihi)
CLIP_KERNEL (i16, int16_t, ilo, ihi)
CLIP_KERNEL (i32, int32_t, ilo, ihi)
CLIP_KERNEL (i64, int64_t, ilo, ihi)
CLIP_KERNEL (u8, uint8_t, ilo, ihi)
CLIP_KERNEL (u16, uint16_t, ilo, ihi)
CLIP_KERNEL (u32, uint32_t, ilo, ihi)
CLIP_KERNEL (u64, uint64_t, ilo, ihi)

static MaceBcastFn
clip_pick (MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_FLOAT32: return clip_f32;
    case MACE_DTYPE_FLOAT64: return clip_f64;
    case MACE_DTYPE_INT8: return clip_i8;
    case MACE_DTYPE_INT16: return clip_i16;
    case MACE_DTYPE_INT32: return clip_i32;
    case MACE_DTYPE_INT64: return clip_i64;
    case MACE_DTYPE_UINT8: return clip_u8;
    case MACE_DTYPE_UINT16: return clip_u16;
    case MACE_DTYPE_UINT32: return clip_u32;
    case MACE_DTYPE_UINT64: return clip_u64;
    default: return NULL;
  }
}

static MaceStatus
infer_clip (MaceOpCtx *ctx)
{
  MaceStatus st = need_input0 (ctx);
  if (st != MACE_OK)
    return st;
  MaceDataType dt = ctx->in[0]->dtype;
  if (!mace_dtype_is_half (dt) && !clip_pick (dt))
    return bad_type (ctx, dt);
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
run_clip (MaceOpCtx *ctx)
{
  MaceDataType dt = ctx->in[0]->dtype;
  if (mace_dtype_is_half (dt))
    return mace_run_via_f32 (ctx, run_clip);
  ClipParam q = { 0 };
  if (ctx->opset < 11) {
    q.has_lo = mace_node_attr (ctx->node, "min") != NULL;
    q.has_hi = mace_node_attr (ctx->node, "max") != NULL;
    q.lo = mace_attr_float (ctx->node, "min", -INFINITY);
    q.hi = mace_attr_float (ctx->node, "max", INFINITY);
  } else {
    for (int i = 1; i <= 2; i++) {
      const MaceTensor *t = i < ctx->n_in ? ctx->in[i] : NULL;
      if (!t || mace_tensor_numel (t) < 1)
        continue;
      if (t->dtype != dt)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                             "%s is %s but the input is %s",
                             i == 1 ? "min" : "max", mace_dtype_name (t->dtype),
                             mace_dtype_name (dt));
      double v = mace_tensor_get_f64 (t, 0);
      int64_t iv = mace_tensor_get_i64 (t, 0);
      if (i == 1) {
        q.has_lo = true;
        q.lo = v;
        q.ilo = iv;
      } else {
        q.has_hi = true;
        q.hi = v;
        q.ihi = iv;
      }
    }
  }
  mace_bcast_run (ctx->pool, ctx->out[0], 1, ctx->in, clip_pick (dt), &q);
  return MACE_OK;
}

/* ---- PRelu ------------------------------------------------------------ */

#define PRELU_KERNEL(sfx, T, NEG)                                              \
  static void prelu_##sfx (char *const *p, const int64_t *s, int64_t n,        \
                           const void *param)                                  \
  {                                                                            \
    T *o = (T *)p[0];                                                          \
    const T *x = (const T *)p[1], *sl = (const T *)p[2];                       \
    (void)param;                                                               \
    if (s[2]) {                                                                \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = NEG (x[i]) ? x[i] * sl[i] : x[i];                               \
    } else {                                                                   \
      T a = sl[0];                                                             \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = NEG (x[i]) ? x[i] * a : x[i];                                   \
    }                                                                          \
  }
#define IS_NEG(v) ((v) < 0)
PRELU_KERNEL (f32, float, IS_NEG)
PRELU_KERNEL (f64, double, IS_NEG)
PRELU_KERNEL (i8, int8_t, IS_NEG)
PRELU_KERNEL (i16, int16_t, IS_NEG)
PRELU_KERNEL (i32, int32_t, IS_NEG)
PRELU_KERNEL (i64, int64_t, IS_NEG)

static MaceBcastFn
prelu_pick (MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_FLOAT32: return prelu_f32;
    case MACE_DTYPE_FLOAT64: return prelu_f64;
    case MACE_DTYPE_INT8: return prelu_i8;
    case MACE_DTYPE_INT16: return prelu_i16;
    case MACE_DTYPE_INT32: return prelu_i32;
    case MACE_DTYPE_INT64: return prelu_i64;
    default: return NULL;
  }
}

static void
copy_run (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  (void)s;
  memcpy (p[0], p[1], (size_t)n * *(const size_t *)param);
}

static MaceStatus
infer_prelu (MaceOpCtx *ctx)
{
  if (ctx->n_in < 2 || !ctx->in[0] || !ctx->in[1])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "needs inputs X and slope");
  const MaceTensor *x = ctx->in[0], *sl = ctx->in[1];
  MaceDataType dt = x->dtype;
  bool is_uint = dt == MACE_DTYPE_UINT8 || dt == MACE_DTYPE_UINT16
                 || dt == MACE_DTYPE_UINT32 || dt == MACE_DTYPE_UINT64;
  if (!mace_dtype_is_half (dt) && !prelu_pick (dt) && !is_uint)
    return bad_type (ctx, dt);
  if (sl->dtype != dt)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "slope is %s but X is %s", mace_dtype_name (sl->dtype),
                         mace_dtype_name (dt));
  int nd;
  int64_t dims[MACE_MAX_DIMS];
  if (!mace_broadcast_shape (x->ndim, x->dims, sl->ndim, sl->dims, &nd, dims)
      || !mace_shape_equal (nd, dims, x->ndim, x->dims)) {
    char a[128], b[128];
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "slope %s does not broadcast to X %s",
                         mace_shape_str (sl->ndim, sl->dims, a, sizeof a),
                         mace_shape_str (x->ndim, x->dims, b, sizeof b));
  }
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
run_prelu (MaceOpCtx *ctx)
{
  MaceDataType dt = ctx->in[0]->dtype;
  if (mace_dtype_is_half (dt))
    return mace_run_via_f32 (ctx, run_prelu);
  MaceBcastFn fn = prelu_pick (dt);
  if (!fn) {
    /* Unsigned: nothing is negative. */
    size_t es = mace_dtype_size (dt);
    mace_bcast_run (ctx->pool, ctx->out[0], 1, ctx->in, copy_run, &es);
    return MACE_OK;
  }
  mace_bcast_run (ctx->pool, ctx->out[0], 2, ctx->in, fn, NULL);
  return MACE_OK;
}

/* ---- Table ------------------------------------------------------------ */

#define ACT(name)                                                              \
  {                                                                            \
    name, NULL, infer_act, run_act, 0, NULL                                    \
  }

const MaceOpDef mace_ops_activation[] = {
  ACT ("Relu"),
  ACT ("LeakyRelu"),
  { "PRelu", NULL, infer_prelu, run_prelu, 0, NULL },
  { "Clip", NULL, infer_clip, run_clip, 0, NULL },
  ACT ("Sigmoid"),
  ACT ("HardSigmoid"),
  ACT ("HardSwish"),
  ACT ("Tanh"),
  ACT ("Elu"),
  ACT ("Selu"),
  ACT ("Celu"),
  ACT ("ThresholdedRelu"),
  ACT ("Softplus"),
  ACT ("Softsign"),
  { "Gelu", check_gelu, infer_act, run_act, 0, NULL },
  ACT ("Mish"),
  ACT ("Shrink"),
  { NULL, NULL, NULL, NULL, 0, NULL },
};
