/* SPDX-License-Identifier: Apache-2.0
 * Reductions: Reduce* over a set of axes, ArgMax/ArgMin, the softmax
 * family (Softmax, LogSoftmax, Hardmax) and CumSum.
 *
 * Floating point reductions accumulate in double; integer ones in int64,
 * so sums and products of int32 / int64 tensors stay exact. */
#include <math.h>
#include <string.h>

#include "internal.h"

/* Below this many input elements a kernel runs on the calling thread. */
#define PARALLEL_MIN 32768

static int
norm_axis (int64_t axis, int ndim)
{
  if (axis < 0)
    axis += ndim;
  return axis >= 0 && axis < ndim ? (int)axis : -1;
}

static bool
is_float_type (MaceDataType t)
{
  return t == MACE_DTYPE_FLOAT32 || t == MACE_DTYPE_FLOAT64;
}

/* ---- Reduce* --------------------------------------------------------- */

typedef enum {
  R_SUM,
  R_MEAN,
  R_MAX,
  R_MIN,
  R_PROD,
  R_L1,
  R_L2,
  R_LOGSUM,
  R_LOGSUMEXP,
  R_SUMSQ,
} ReduceKind;

/* Kept and reduced dimensions of the input, with adjacent dimensions of
 * the same kind merged and size-1 dimensions dropped. */
typedef struct {
  ReduceKind kind;
  int nk, nr;
  int64_t kdim[MACE_MAX_DIMS], kstr[MACE_MAX_DIMS];
  int64_t rdim[MACE_MAX_DIMS], rstr[MACE_MAX_DIMS];
  int64_t rcount; /* input elements per output element */
  int64_t router; /* product of rdim[0 .. nr-2] */
  int64_t rn, rs; /* innermost reduced dimension: size and stride */
} ReducePlan;

/* Reads the axes (attribute, or input 1 where the opset has it) into
 * red[].  *noop is set when the op is an identity (empty axes with
 * noop_with_empty_axes). */
static MaceStatus
reduce_axes (MaceOpCtx *ctx, bool red[MACE_MAX_DIMS], bool *noop)
{
  const MaceTensor *x = ctx->in[0];
  int n_attr = 0;
  const int64_t *attr = mace_attr_ints (ctx->node, "axes", &n_attr);
  const MaceTensor *ax = ctx->n_in > 1 ? ctx->in[1] : NULL;
  int64_t n_axes = n_attr;
  if (ax) {
    if (!ax->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "axes input has no value");
    if (ax->dtype != MACE_DTYPE_INT64 && ax->dtype != MACE_DTYPE_INT32)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "axes must be int64, not %s",
                           mace_dtype_name (ax->dtype));
    n_axes = mace_tensor_numel (ax);
  }
  *noop = false;
  for (int d = 0; d < MACE_MAX_DIMS; d++)
    red[d] = false;
  if (n_axes == 0) {
    if (mace_attr_int (ctx->node, "noop_with_empty_axes", 0)) {
      *noop = true;
      return MACE_OK;
    }
    for (int d = 0; d < x->ndim; d++)
      red[d] = true;
    return MACE_OK;
  }
  for (int64_t i = 0; i < n_axes; i++) {
    int64_t a = ax ? mace_tensor_get_i64 (ax, i) : attr[i];
    int d = norm_axis (a, x->ndim);
    if (d < 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "axis %lld out of range for rank %d", (long long)a,
                           x->ndim);
    red[d] = true;
  }
  return MACE_OK;
}

static MaceStatus
reduce_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32:
    case MACE_DTYPE_FLOAT64:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_UINT32: break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  bool red[MACE_MAX_DIMS], noop;
  MaceStatus st = reduce_axes (ctx, red, &noop);
  if (st != MACE_OK)
    return st;
  if (noop) {
    mace_tensor_init (ctx->out[0], x->dtype, x->ndim, x->dims);
    return MACE_OK;
  }
  bool keep = mace_attr_int (ctx->node, "keepdims", 1) != 0;
  int64_t dims[MACE_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (!red[d])
      dims[nd++] = x->dims[d];
    else if (keep)
      dims[nd++] = 1;
  }
  mace_tensor_init (ctx->out[0], x->dtype, nd, dims);
  return MACE_OK;
}

static void
reduce_plan (ReducePlan *p, const MaceTensor *x, const bool *red)
{
  int64_t stride[MACE_MAX_DIMS];
  int64_t s = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    stride[d] = s;
    s *= x->dims[d];
  }
  p->nk = p->nr = 0;
  p->rcount = 1;
  int last = -1; /* kind of the previous kept dim: 0 kept, 1 reduced */
  for (int d = 0; d < x->ndim; d++) {
    if (red[d])
      p->rcount *= x->dims[d];
    if (x->dims[d] == 1)
      continue;
    int kind = red[d] ? 1 : 0;
    int64_t *dim = kind ? p->rdim : p->kdim, *str = kind ? p->rstr : p->kstr;
    int *n = kind ? &p->nr : &p->nk;
    if (last == kind) {
      /* Merge with the previous dim: contiguous in a dense tensor. */
      dim[*n - 1] *= x->dims[d];
      str[*n - 1] = stride[d];
    } else {
      dim[*n] = x->dims[d];
      str[*n] = stride[d];
      (*n)++;
    }
    last = kind;
  }
  p->router = 1;
  for (int i = 0; i + 1 < p->nr; i++)
    p->router *= p->rdim[i];
  p->rn = p->nr ? p->rdim[p->nr - 1] : 1;
  p->rs = p->nr ? p->rstr[p->nr - 1] : 0;
  if (p->rcount == 0)
    p->rn = 0;
}

static inline int64_t
plan_base (const ReducePlan *p, int64_t o)
{
  int64_t off = 0;
  for (int i = p->nk - 1; i >= 0; i--) {
    off += (o % p->kdim[i]) * p->kstr[i];
    o /= p->kdim[i];
  }
  return off;
}

/* Runs BODY with `v` bound to each input element reduced into the output
 * element whose first input element is at `base`. */
#define REDUCE_LOOP(T, BODY)                                                   \
  do {                                                                         \
    int64_t idx_[MACE_MAX_DIMS] = { 0 };                                       \
    int64_t off_ = base;                                                       \
    for (int64_t o_ = 0; o_ < p->router; o_++) {                               \
      const T *xp_ = src + off_;                                               \
      for (int64_t j_ = 0; j_ < p->rn; j_++) {                                 \
        T v = xp_[j_ * p->rs];                                                 \
        BODY;                                                                  \
      }                                                                        \
      for (int d_ = p->nr - 2; d_ >= 0; d_--) {                                \
        off_ += p->rstr[d_];                                                   \
        if (++idx_[d_] < p->rdim[d_])                                          \
          break;                                                               \
        off_ -= p->rstr[d_] * p->rdim[d_];                                     \
        idx_[d_] = 0;                                                          \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Log-sum-exp, stable: max first, then the sum of exp (v - max). */
#define REDUCE_LOGSUMEXP(T, acc)                                               \
  do {                                                                         \
    double m_ = -INFINITY;                                                     \
    REDUCE_LOOP (T, if ((double)v > m_) m_ = (double)v);                       \
    if (isinf (m_)) {                                                          \
      acc = m_;                                                                \
    } else {                                                                   \
      double s_ = 0;                                                           \
      REDUCE_LOOP (T, s_ += exp ((double)v - m_));                             \
      acc = m_ + log (s_);                                                     \
    }                                                                          \
  } while (0)

/* Column path: the innermost input dim is kept, so up to RC_CHUNK
 * neighbouring outputs read neighbouring inputs; accumulate them side by
 * side (a vectorisable inner loop) while walking the reduced set once. */
#define RC_CHUNK 64

#define COL_LOOP(T, BODY)                                                      \
  do {                                                                         \
    int64_t idx_[MACE_MAX_DIMS] = { 0 };                                       \
    int64_t off_ = base;                                                       \
    for (int64_t e_ = 0; e_ < p->rcount; e_++) {                               \
      const T *xp_ = src + off_;                                               \
      for (int64_t i = 0; i < w; i++) {                                        \
        T v = xp_[i];                                                          \
        BODY;                                                                  \
      }                                                                        \
      for (int d_ = p->nr - 1; d_ >= 0; d_--) {                                \
        off_ += p->rstr[d_];                                                   \
        if (++idx_[d_] < p->rdim[d_])                                          \
          break;                                                               \
        off_ -= p->rstr[d_] * p->rdim[d_];                                     \
        idx_[d_] = 0;                                                          \
      }                                                                        \
    }                                                                          \
  } while (0)

#define DEFINE_REDUCE_COLS(NAME, T)                                            \
  static void NAME (const ReducePlan *p, const T *src, T *dst, int64_t o0,     \
                    int64_t o1)                                                \
  {                                                                            \
    const int64_t width = p->kdim[p->nk - 1];                                  \
    double acc[RC_CHUNK], mx[RC_CHUNK];                                        \
    bool nan[RC_CHUNK];                                                        \
    for (int64_t o = o0; o < o1;) {                                            \
      int64_t w = width - o % width;                                           \
      if (w > RC_CHUNK)                                                        \
        w = RC_CHUNK;                                                          \
      if (w > o1 - o)                                                          \
        w = o1 - o;                                                            \
      int64_t base = plan_base (p, o);                                         \
      double init = p->kind == R_PROD  ? 1.0                                   \
                    : p->kind == R_MAX ? -INFINITY                             \
                    : p->kind == R_MIN ? INFINITY                              \
                                       : 0.0;                                  \
      for (int64_t i = 0; i < w; i++) {                                        \
        acc[i] = init;                                                         \
        nan[i] = false;                                                        \
        mx[i] = -INFINITY;                                                     \
      }                                                                        \
      switch (p->kind) {                                                       \
        case R_SUM:                                                            \
        case R_MEAN:                                                           \
        case R_LOGSUM: COL_LOOP (T, acc[i] += v); break;                       \
        case R_MAX:                                                            \
          COL_LOOP (T, if (v > acc[i]) acc[i] = v; nan[i] |= v != v);          \
          break;                                                               \
        case R_MIN:                                                            \
          COL_LOOP (T, if (v < acc[i]) acc[i] = v; nan[i] |= v != v);          \
          break;                                                               \
        case R_PROD: COL_LOOP (T, acc[i] *= v); break;                         \
        case R_L1: COL_LOOP (T, acc[i] += fabs ((double)v)); break;            \
        case R_L2:                                                             \
        case R_SUMSQ: COL_LOOP (T, acc[i] += (double)v * v); break;            \
        case R_LOGSUMEXP:                                                      \
          COL_LOOP (T, if ((double)v > mx[i]) mx[i] = v);                      \
          COL_LOOP (T,                                                         \
                    acc[i] += isinf (mx[i]) ? 0.0 : exp ((double)v - mx[i]));  \
          break;                                                               \
      }                                                                        \
      for (int64_t i = 0; i < w; i++) {                                        \
        double r = acc[i];                                                     \
        switch (p->kind) {                                                     \
          case R_MEAN: r /= (double)p->rcount; break;                          \
          case R_L2: r = sqrt (r); break;                                      \
          case R_LOGSUM: r = log (r); break;                                   \
          case R_LOGSUMEXP: r = isinf (mx[i]) ? mx[i] : mx[i] + log (r);       \
              break;                                                           \
          default: break;                                                      \
        }                                                                      \
        dst[o + i] = nan[i] ? (T)NAN : (T)r;                                   \
      }                                                                        \
      o += w;                                                                  \
    }                                                                          \
  }

#define DEFINE_REDUCE_FLOAT(NAME, T)                                           \
  DEFINE_REDUCE_COLS (NAME##_cols, T)                                          \
                                                                               \
  static void NAME (const ReducePlan *p, const void *src_, void *dst_,         \
                    int64_t o0, int64_t o1)                                    \
  {                                                                            \
    const T *src = src_;                                                       \
    T *dst = dst_;                                                             \
    if (p->nk > 0 && p->kstr[p->nk - 1] == 1 && p->kdim[p->nk - 1] >= 8) {     \
      NAME##_cols (p, src, dst, o0, o1);                                       \
      return;                                                                  \
    }                                                                          \
    for (int64_t o = o0; o < o1; o++) {                                        \
      int64_t base = plan_base (p, o);                                         \
      double acc = 0;                                                          \
      bool nan = false;                                                        \
      switch (p->kind) {                                                       \
        case R_SUM:                                                            \
        case R_MEAN:                                                           \
          REDUCE_LOOP (T, acc += v);                                           \
          if (p->kind == R_MEAN)                                               \
            acc /= (double)p->rcount;                                          \
          break;                                                               \
        case R_MAX:                                                            \
          acc = -INFINITY;                                                     \
          REDUCE_LOOP (T, if (v > acc) acc = v; nan |= v != v);                \
          break;                                                               \
        case R_MIN:                                                            \
          acc = INFINITY;                                                      \
          REDUCE_LOOP (T, if (v < acc) acc = v; nan |= v != v);                \
          break;                                                               \
        case R_PROD:                                                           \
          acc = 1;                                                             \
          REDUCE_LOOP (T, acc *= v);                                           \
          break;                                                               \
        case R_L1: REDUCE_LOOP (T, acc += fabs ((double)v)); break;            \
        case R_L2:                                                             \
          REDUCE_LOOP (T, acc += (double)v * v);                               \
          acc = sqrt (acc);                                                    \
          break;                                                               \
        case R_LOGSUM:                                                         \
          REDUCE_LOOP (T, acc += v);                                           \
          acc = log (acc);                                                     \
          break;                                                               \
        case R_LOGSUMEXP: REDUCE_LOGSUMEXP (T, acc); break;                    \
        case R_SUMSQ: REDUCE_LOOP (T, acc += (double)v * v); break;            \
      }                                                                        \
      dst[o] = nan ? (T)NAN : (T)acc;                                          \
    }                                                                          \
  }

static inline int64_t
abs64 (int64_t v)
{
  return v < 0 ? -v : v;
}

/* Integers: exact int64 accumulation; the transcendental ones in double.
 * An empty max / min gives the type's lowest / highest value. */
#define DEFINE_REDUCE_INT(NAME, T, TMIN, TMAX)                                 \
  static void NAME (const ReducePlan *p, const void *src_, void *dst_,         \
                    int64_t o0, int64_t o1)                                    \
  {                                                                            \
    const T *src = src_;                                                       \
    T *dst = dst_;                                                             \
    for (int64_t o = o0; o < o1; o++) {                                        \
      int64_t base = plan_base (p, o);                                         \
      int64_t acc = 0;                                                         \
      double facc = 0;                                                         \
      bool use_f = false;                                                      \
      switch (p->kind) {                                                       \
        case R_SUM:                                                            \
        case R_MEAN:                                                           \
          REDUCE_LOOP (T, acc += (int64_t)v);                                  \
          if (p->kind == R_MEAN)                                               \
            acc = p->rcount ? acc / p->rcount : 0;                             \
          break;                                                               \
        case R_MAX:                                                            \
          acc = (int64_t)(TMIN);                                               \
          REDUCE_LOOP (T, if ((int64_t)v > acc) acc = (int64_t)v);             \
          break;                                                               \
        case R_MIN:                                                            \
          acc = (int64_t)(TMAX);                                               \
          REDUCE_LOOP (T, if ((int64_t)v < acc) acc = (int64_t)v);             \
          break;                                                               \
        case R_PROD:                                                           \
          acc = 1;                                                             \
          REDUCE_LOOP (T, acc *= (int64_t)v);                                  \
          break;                                                               \
        case R_L1: REDUCE_LOOP (T, acc += abs64 ((int64_t)v)); break;          \
        case R_SUMSQ: REDUCE_LOOP (T, acc += (int64_t)v * (int64_t)v); break;  \
        case R_L2:                                                             \
          REDUCE_LOOP (T, facc += (double)v * (double)v);                      \
          facc = sqrt (facc);                                                  \
          use_f = true;                                                        \
          break;                                                               \
        case R_LOGSUM:                                                         \
          REDUCE_LOOP (T, facc += (double)v);                                  \
          facc = log (facc);                                                   \
          use_f = true;                                                        \
          break;                                                               \
        case R_LOGSUMEXP:                                                      \
          REDUCE_LOGSUMEXP (T, facc);                                          \
          use_f = true;                                                        \
          break;                                                               \
      }                                                                        \
      if (use_f)                                                               \
        dst[o] = isfinite (facc) ? (T)facc : facc > 0 ? (T)(TMAX) : (T)(TMIN); \
      else                                                                     \
        dst[o] = (T)acc;                                                       \
    }                                                                          \
  }

DEFINE_REDUCE_FLOAT (reduce_f32, float)
DEFINE_REDUCE_FLOAT (reduce_f64, double)
DEFINE_REDUCE_INT (reduce_i32, int32_t, INT32_MIN, INT32_MAX)
DEFINE_REDUCE_INT (reduce_i64, int64_t, INT64_MIN, INT64_MAX)
DEFINE_REDUCE_INT (reduce_u8, uint8_t, 0, UINT8_MAX)
DEFINE_REDUCE_INT (reduce_i8, int8_t, INT8_MIN, INT8_MAX)
DEFINE_REDUCE_INT (reduce_u32, uint32_t, 0, UINT32_MAX)

typedef void (*ReduceFunc) (const ReducePlan *p, const void *src, void *dst,
                            int64_t o0, int64_t o1);

typedef struct {
  const ReducePlan *p;
  const void *src;
  void *dst;
  ReduceFunc fn;
} ReduceJob;

static void
reduce_range (void *arg, int64_t begin, int64_t end)
{
  const ReduceJob *j = arg;
  j->fn (j->p, j->src, j->dst, begin, end);
}

static MaceStatus
reduce_run (MaceOpCtx *ctx, ReduceKind kind)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *y = ctx->out[0];
  bool red[MACE_MAX_DIMS], noop;
  MaceStatus st = reduce_axes (ctx, red, &noop);
  if (st != MACE_OK)
    return st;
  if (noop) {
    memcpy (y->data, x->data, mace_tensor_nbytes (x));
    return MACE_OK;
  }
  ReducePlan p;
  p.kind = kind;
  reduce_plan (&p, x, red);
  ReduceJob job = { &p, x->data, y->data, NULL };
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32: job.fn = reduce_f32; break;
    case MACE_DTYPE_FLOAT64: job.fn = reduce_f64; break;
    case MACE_DTYPE_INT32: job.fn = reduce_i32; break;
    case MACE_DTYPE_INT64: job.fn = reduce_i64; break;
    case MACE_DTYPE_UINT8: job.fn = reduce_u8; break;
    case MACE_DTYPE_INT8: job.fn = reduce_i8; break;
    case MACE_DTYPE_UINT32: job.fn = reduce_u32; break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  int64_t n_out = mace_tensor_numel (y);
  if (mace_tensor_numel (x) >= PARALLEL_MIN && n_out > 1)
    mace_parallel_for (ctx->pool, n_out, reduce_range, &job);
  else
    reduce_range (&job, 0, n_out);
  return MACE_OK;
}

#define DEFINE_REDUCE_RUN(NAME, KIND)                                          \
  static MaceStatus NAME (MaceOpCtx *ctx)                                      \
  {                                                                            \
    return reduce_run (ctx, KIND);                                             \
  }

DEFINE_REDUCE_RUN (run_sum, R_SUM)
DEFINE_REDUCE_RUN (run_mean, R_MEAN)
DEFINE_REDUCE_RUN (run_max, R_MAX)
DEFINE_REDUCE_RUN (run_min, R_MIN)
DEFINE_REDUCE_RUN (run_prod, R_PROD)
DEFINE_REDUCE_RUN (run_l1, R_L1)
DEFINE_REDUCE_RUN (run_l2, R_L2)
DEFINE_REDUCE_RUN (run_logsum, R_LOGSUM)
DEFINE_REDUCE_RUN (run_logsumexp, R_LOGSUMEXP)
DEFINE_REDUCE_RUN (run_sumsq, R_SUMSQ)

/* ---- ArgMax / ArgMin -------------------------------------------------- */

/* outer x n x inner view of x around `axis`. */
static void
split_at_axis (const MaceTensor *x, int axis, int64_t *outer, int64_t *n,
               int64_t *inner)
{
  *outer = mace_shape_numel (axis, x->dims);
  *n = x->ndim ? x->dims[axis] : 1;
  *inner
      = x->ndim ? mace_shape_numel (x->ndim - axis - 1, x->dims + axis + 1) : 1;
}

static int
arg_axis (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  if (x->ndim == 0)
    return 0;
  return norm_axis (mace_attr_int (ctx->node, "axis", 0), x->ndim);
}

static MaceStatus
arg_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  int axis = arg_axis (ctx);
  if (axis < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis out of range for rank %d", x->ndim);
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32:
    case MACE_DTYPE_FLOAT64:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_INT8: break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  if (x->ndim > 0 && x->dims[axis] == 0)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "cannot take the arg of an empty axis");
  bool keep = mace_attr_int (ctx->node, "keepdims", 1) != 0;
  int64_t dims[MACE_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (d != axis)
      dims[nd++] = x->dims[d];
    else if (keep)
      dims[nd++] = 1;
  }
  mace_tensor_init (ctx->out[0], MACE_DTYPE_INT64, nd, dims);
  return MACE_OK;
}

/* Ties go to the first index, or to the last with select_last_index. */
#define DEFINE_ARG(NAME, T)                                                    \
  static void NAME (const void *src_, int64_t *dst, int64_t outer, int64_t n,  \
                    int64_t inner, bool is_max, bool last)                     \
  {                                                                            \
    const T *src = src_;                                                       \
    for (int64_t o = 0; o < outer; o++)                                        \
      for (int64_t i = 0; i < inner; i++) {                                    \
        const T *xp = src + o * n * inner + i;                                 \
        T best = xp[0];                                                        \
        int64_t at = 0;                                                        \
        for (int64_t k = 1; k < n; k++) {                                      \
          T v = xp[k * inner];                                                 \
          bool better = is_max ? (last ? v >= best : v > best)                 \
                               : (last ? v <= best : v < best);                \
          if (better) {                                                        \
            best = v;                                                          \
            at = k;                                                            \
          }                                                                    \
        }                                                                      \
        dst[o * inner + i] = at;                                               \
      }                                                                        \
  }

DEFINE_ARG (arg_f32, float)
DEFINE_ARG (arg_f64, double)
DEFINE_ARG (arg_i32, int32_t)
DEFINE_ARG (arg_i64, int64_t)
DEFINE_ARG (arg_u8, uint8_t)
DEFINE_ARG (arg_i8, int8_t)

static MaceStatus
arg_run (MaceOpCtx *ctx, bool is_max)
{
  const MaceTensor *x = ctx->in[0];
  int axis = arg_axis (ctx);
  bool last = mace_attr_int (ctx->node, "select_last_index", 0) != 0;
  int64_t outer, n, inner;
  split_at_axis (x, axis, &outer, &n, &inner);
  int64_t *dst = ctx->out[0]->data;
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32:
      arg_f32 (x->data, dst, outer, n, inner, is_max, last);
      break;
    case MACE_DTYPE_FLOAT64:
      arg_f64 (x->data, dst, outer, n, inner, is_max, last);
      break;
    case MACE_DTYPE_INT32:
      arg_i32 (x->data, dst, outer, n, inner, is_max, last);
      break;
    case MACE_DTYPE_INT64:
      arg_i64 (x->data, dst, outer, n, inner, is_max, last);
      break;
    case MACE_DTYPE_UINT8:
      arg_u8 (x->data, dst, outer, n, inner, is_max, last);
      break;
    case MACE_DTYPE_INT8:
      arg_i8 (x->data, dst, outer, n, inner, is_max, last);
      break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  return MACE_OK;
}

static MaceStatus
run_argmax (MaceOpCtx *ctx)
{
  return arg_run (ctx, true);
}

static MaceStatus
run_argmin (MaceOpCtx *ctx)
{
  return arg_run (ctx, false);
}

/* ---- Softmax, LogSoftmax, Hardmax ------------------------------------ */

/* exp for x <= 0 (arguments minus their max), written so that the
 * compiler vectorises it (no branches, no libm call): Cephes' expf
 * polynomial with round-to-nearest by the 1.5 * 2^23 trick, relative error
 * below 1e-7 on (-87, 0].  The clamp works on the bits (an integer compare
 * does not trap, so it if-converts) and maps -inf and everything below -88
 * to a zero scale, so those give exactly 0. */
static inline float
exp_nonpos (float x)
{
  uint32_t xb;
  memcpy (&xb, &x, sizeof xb);
  xb = xb > 0xC2B00000u ? 0xC2B00000u : xb; /* -88.0f */
  memcpy (&x, &xb, sizeof x);
  float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  int32_t bits = ((int32_t)k + 127) * (1 << 23);
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return p * scale;
}

typedef enum { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX } SoftmaxKind;

/* Columns of the inner dimension handled together (stack buffers). */
#define SM_CHUNK 64

typedef struct {
  SoftmaxKind kind;
  int64_t outer, n, inner, n_chunks;
  const void *x;
  void *y;
} SoftmaxJob;

/* Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
 * the op works on whole rows; from 13 on it works on the one axis
 * (default -1). */
static MaceStatus
softmax_split (MaceOpCtx *ctx, int64_t *outer, int64_t *n, int64_t *inner)
{
  const MaceTensor *x = ctx->in[0];
  bool old = ctx->opset < 13;
  int64_t a = mace_attr_int (ctx->node, "axis", old ? 1 : -1);
  if (x->ndim == 0) {
    *outer = *n = *inner = 1;
    return MACE_OK;
  }
  int axis;
  if (old) {
    /* axis == rank is allowed: one element per row. */
    if (a < 0)
      a += x->ndim;
    if (a < 0 || a > x->ndim)
      return mace_op_fail (
          ctx, MACE_ERROR_INVALID_MODEL, "axis %lld out of range for rank %d",
          (long long)mace_attr_int (ctx->node, "axis", 1), x->ndim);
    *outer = mace_shape_numel ((int)a, x->dims);
    *n = mace_shape_numel (x->ndim - (int)a, x->dims + a);
    *inner = 1;
    return MACE_OK;
  }
  axis = norm_axis (a, x->ndim);
  if (axis < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis %lld out of range for rank %d", (long long)a,
                         x->ndim);
  split_at_axis (x, axis, outer, n, inner);
  return MACE_OK;
}

static MaceStatus
softmax_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  if (!is_float_type (x->dtype))
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                         mace_dtype_name (x->dtype));
  int64_t outer, n, inner;
  MaceStatus st = softmax_split (ctx, &outer, &n, &inner);
  if (st != MACE_OK)
    return st;
  return mace_infer_same_as_input0 (ctx);
}

/* One job item: the block of `outer` index o, columns [i0, i0+w).
 * inner == 1 (the common case: the last axis) takes a contiguous row path. */
#define DEFINE_SOFTMAX(NAME, T, EXP)                                           \
  static void NAME##_row (SoftmaxKind kind, const T *x, T *y, int64_t n)       \
  {                                                                            \
    if (kind == SM_HARDMAX) {                                                  \
      T best = x[0];                                                           \
      int64_t at = 0;                                                          \
      for (int64_t k = 1; k < n; k++)                                          \
        if (x[k] > best) {                                                     \
          best = x[k];                                                         \
          at = k;                                                              \
        }                                                                      \
      for (int64_t k = 0; k < n; k++)                                          \
        y[k] = k == at ? (T)1 : (T)0;                                          \
      return;                                                                  \
    }                                                                          \
    /* Four running maxima: independent compares pipeline. */                  \
    T m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0];                              \
    int64_t q = 1;                                                             \
    for (; q + 4 <= n; q += 4) {                                               \
      m0 = x[q] > m0 ? x[q] : m0;                                              \
      m1 = x[q + 1] > m1 ? x[q + 1] : m1;                                      \
      m2 = x[q + 2] > m2 ? x[q + 2] : m2;                                      \
      m3 = x[q + 3] > m3 ? x[q + 3] : m3;                                      \
    }                                                                          \
    for (; q < n; q++)                                                         \
      m0 = x[q] > m0 ? x[q] : m0;                                              \
    m0 = m1 > m0 ? m1 : m0;                                                    \
    m2 = m3 > m2 ? m3 : m2;                                                    \
    T mx = m2 > m0 ? m2 : m0;                                                  \
    /* exp into y first (a vectorisable loop), then the sum with four          \
     * partial sums to hide the add latency. */                                \
    for (int64_t k = 0; k < n; k++)                                            \
      y[k] = EXP (x[k] - mx);                                                  \
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                     \
    int64_t k = 0;                                                             \
    for (; k + 4 <= n; k += 4) {                                               \
      s0 += y[k];                                                              \
      s1 += y[k + 1];                                                          \
      s2 += y[k + 2];                                                          \
      s3 += y[k + 3];                                                          \
    }                                                                          \
    for (; k < n; k++)                                                         \
      s0 += y[k];                                                              \
    double sum = (s0 + s1) + (s2 + s3);                                        \
    if (kind == SM_SOFTMAX) {                                                  \
      T r = (T)(1.0 / sum);                                                    \
      for (k = 0; k < n; k++)                                                  \
        y[k] *= r;                                                             \
    } else {                                                                   \
      T ls = (T)log (sum);                                                     \
      for (k = 0; k < n; k++)                                                  \
        y[k] = (x[k] - mx) - ls;                                               \
    }                                                                          \
  }                                                                            \
                                                                               \
  static void NAME (void *arg, int64_t begin, int64_t end)                     \
  {                                                                            \
    const SoftmaxJob *j = arg;                                                 \
    const int64_t n = j->n, inner = j->inner;                                  \
    for (int64_t item = begin; item < end; item++) {                           \
      int64_t o = item / j->n_chunks, i0 = (item % j->n_chunks) * SM_CHUNK;    \
      int64_t w = inner - i0 < SM_CHUNK ? inner - i0 : SM_CHUNK;               \
      const T *x = (const T *)j->x + o * n * inner + i0;                       \
      T *y = (T *)j->y + o * n * inner + i0;                                   \
      if (inner == 1) {                                                        \
        NAME##_row (j->kind, x, y, n);                                         \
        continue;                                                              \
      }                                                                        \
      T mx[SM_CHUNK];                                                          \
      double sum[SM_CHUNK];                                                    \
      int64_t at[SM_CHUNK];                                                    \
      for (int64_t i = 0; i < w; i++) {                                        \
        mx[i] = x[i];                                                          \
        at[i] = 0;                                                             \
        sum[i] = 0;                                                            \
      }                                                                        \
      for (int64_t k = 1; k < n; k++)                                          \
        for (int64_t i = 0; i < w; i++)                                        \
          if (x[k * inner + i] > mx[i]) {                                      \
            mx[i] = x[k * inner + i];                                          \
            at[i] = k;                                                         \
          }                                                                    \
      if (j->kind == SM_HARDMAX) {                                             \
        for (int64_t k = 0; k < n; k++)                                        \
          for (int64_t i = 0; i < w; i++)                                      \
            y[k * inner + i] = at[i] == k ? (T)1 : (T)0;                       \
        continue;                                                              \
      }                                                                        \
      for (int64_t k = 0; k < n; k++)                                          \
        for (int64_t i = 0; i < w; i++) {                                      \
          T e = EXP (x[k * inner + i] - mx[i]);                                \
          sum[i] += e;                                                         \
          if (j->kind == SM_SOFTMAX)                                           \
            y[k * inner + i] = e;                                              \
        }                                                                      \
      if (j->kind == SM_SOFTMAX) {                                             \
        for (int64_t i = 0; i < w; i++)                                        \
          sum[i] = 1.0 / sum[i];                                               \
        for (int64_t k = 0; k < n; k++)                                        \
          for (int64_t i = 0; i < w; i++)                                      \
            y[k * inner + i] = (T)(y[k * inner + i] * sum[i]);                 \
      } else {                                                                 \
        for (int64_t i = 0; i < w; i++)                                        \
          sum[i] = (double)mx[i] + log (sum[i]);                               \
        for (int64_t k = 0; k < n; k++)                                        \
          for (int64_t i = 0; i < w; i++)                                      \
            y[k * inner + i] = (T)(x[k * inner + i] - sum[i]);                 \
      }                                                                        \
    }                                                                          \
  }

DEFINE_SOFTMAX (softmax_f32, float, exp_nonpos)
DEFINE_SOFTMAX (softmax_f64, double, exp)

static MaceStatus
softmax_run (MaceOpCtx *ctx, SoftmaxKind kind)
{
  const MaceTensor *x = ctx->in[0];
  SoftmaxJob job = { .kind = kind, .x = x->data, .y = ctx->out[0]->data };
  MaceStatus st = softmax_split (ctx, &job.outer, &job.n, &job.inner);
  if (st != MACE_OK)
    return st;
  if (job.outer == 0 || job.n == 0 || job.inner == 0)
    return MACE_OK;
  job.n_chunks = (job.inner + SM_CHUNK - 1) / SM_CHUNK;
  MaceRangeFunc fn = x->dtype == MACE_DTYPE_FLOAT32 ? softmax_f32 : softmax_f64;
  int64_t items = job.outer * job.n_chunks;
  if (mace_tensor_numel (x) >= PARALLEL_MIN && items > 1)
    mace_parallel_for (ctx->pool, items, fn, &job);
  else
    fn (&job, 0, items);
  return MACE_OK;
}

static MaceStatus
run_softmax (MaceOpCtx *ctx)
{
  return softmax_run (ctx, SM_SOFTMAX);
}

static MaceStatus
run_logsoftmax (MaceOpCtx *ctx)
{
  return softmax_run (ctx, SM_LOGSOFTMAX);
}

static MaceStatus
run_hardmax (MaceOpCtx *ctx)
{
  return softmax_run (ctx, SM_HARDMAX);
}

/* ---- CumSum ----------------------------------------------------------- */

static MaceStatus
cumsum_infer (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32:
    case MACE_DTYPE_FLOAT64:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT32:
    case MACE_DTYPE_UINT64: break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  if (ctx->n_in < 2 || !ctx->in[1])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "axis input missing");
  return mace_infer_same_as_input0 (ctx);
}

/* Runs along the axis, using the previous output row as the running sum:
 * y[k] = y[k-1] + x[k] (inclusive) or x[k-1] (exclusive). */
#define DEFINE_CUMSUM(NAME, T)                                                 \
  static void NAME (const void *src_, void *dst_, int64_t outer, int64_t n,    \
                    int64_t inner, bool excl, bool rev)                        \
  {                                                                            \
    const T *src = src_;                                                       \
    T *dst = dst_;                                                             \
    for (int64_t o = 0; o < outer; o++) {                                      \
      const T *x = src + o * n * inner;                                        \
      T *y = dst + o * n * inner;                                              \
      for (int64_t s = 0; s < n; s++) {                                        \
        int64_t k = rev ? n - 1 - s : s, prev = rev ? k + 1 : k - 1;           \
        T *yr = y + k * inner;                                                 \
        if (s == 0) {                                                          \
          for (int64_t i = 0; i < inner; i++)                                  \
            yr[i] = excl ? (T)0 : x[k * inner + i];                            \
          continue;                                                            \
        }                                                                      \
        const T *yp = y + prev * inner;                                        \
        const T *xr = x + (excl ? prev : k) * inner;                           \
        for (int64_t i = 0; i < inner; i++)                                    \
          yr[i] = yp[i] + xr[i];                                               \
      }                                                                        \
    }                                                                          \
  }

DEFINE_CUMSUM (cumsum_f32, float)
DEFINE_CUMSUM (cumsum_f64, double)
DEFINE_CUMSUM (cumsum_i32, int32_t)
DEFINE_CUMSUM (cumsum_i64, int64_t)
DEFINE_CUMSUM (cumsum_u32, uint32_t)
DEFINE_CUMSUM (cumsum_u64, uint64_t)

static MaceStatus
run_cumsum (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *ax = ctx->in[1];
  if (!ax->data || mace_tensor_numel (ax) != 1
      || (ax->dtype != MACE_DTYPE_INT32 && ax->dtype != MACE_DTYPE_INT64))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis must be one int32 or int64 value");
  int64_t a = mace_tensor_get_i64 (ax, 0);
  int axis = x->ndim ? norm_axis (a, x->ndim) : 0;
  if (axis < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "axis %lld out of range for rank %d", (long long)a,
                         x->ndim);
  bool excl = mace_attr_int (ctx->node, "exclusive", 0) != 0;
  bool rev = mace_attr_int (ctx->node, "reverse", 0) != 0;
  int64_t outer, n, inner;
  split_at_axis (x, axis, &outer, &n, &inner);
  void *y = ctx->out[0]->data;
  switch (x->dtype) {
    case MACE_DTYPE_FLOAT32:
      cumsum_f32 (x->data, y, outer, n, inner, excl, rev);
      break;
    case MACE_DTYPE_FLOAT64:
      cumsum_f64 (x->data, y, outer, n, inner, excl, rev);
      break;
    case MACE_DTYPE_INT32:
      cumsum_i32 (x->data, y, outer, n, inner, excl, rev);
      break;
    case MACE_DTYPE_INT64:
      cumsum_i64 (x->data, y, outer, n, inner, excl, rev);
      break;
    case MACE_DTYPE_UINT32:
      cumsum_u32 (x->data, y, outer, n, inner, excl, rev);
      break;
    case MACE_DTYPE_UINT64:
      cumsum_u64 (x->data, y, outer, n, inner, excl, rev);
      break;
    default:
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "type %s",
                           mace_dtype_name (x->dtype));
  }
  return MACE_OK;
}

/* Axes as an input exist for ReduceSum from opset 13 and for the others
 * from 18; the value is needed for the output shape either way. */
#define AXES_INPUT (1u << 1)

const MaceOpDef mace_ops_reduce[] = {
  { "ReduceSum", NULL, reduce_infer, run_sum, AXES_INPUT, NULL },
  { "ReduceMean", NULL, reduce_infer, run_mean, AXES_INPUT, NULL },
  { "ReduceMax", NULL, reduce_infer, run_max, AXES_INPUT, NULL },
  { "ReduceMin", NULL, reduce_infer, run_min, AXES_INPUT, NULL },
  { "ReduceProd", NULL, reduce_infer, run_prod, AXES_INPUT, NULL },
  { "ReduceL1", NULL, reduce_infer, run_l1, AXES_INPUT, NULL },
  { "ReduceL2", NULL, reduce_infer, run_l2, AXES_INPUT, NULL },
  { "ReduceLogSum", NULL, reduce_infer, run_logsum, AXES_INPUT, NULL },
  { "ReduceLogSumExp", NULL, reduce_infer, run_logsumexp, AXES_INPUT, NULL },
  { "ReduceSumSquare", NULL, reduce_infer, run_sumsq, AXES_INPUT, NULL },
  { "ArgMax", NULL, arg_infer, run_argmax, 0, NULL },
  { "ArgMin", NULL, arg_infer, run_argmin, 0, NULL },
  { "Softmax", NULL, softmax_infer, run_softmax, 0, NULL },
  { "LogSoftmax", NULL, softmax_infer, run_logsoftmax, 0, NULL },
  { "Hardmax", NULL, softmax_infer, run_hardmax, 0, NULL },
  { "CumSum", NULL, cumsum_infer, run_cumsum, 0, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
