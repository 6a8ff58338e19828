/* SPDX-License-Identifier: Apache-2.0
 * Elementwise ops: arithmetic, comparison and logic with numpy
 * broadcasting, unary math, Where, Cast, Identity, Dropout and Size.
 *
 * Every op reduces to a kernel over one contiguous run of the output (see
 * broadcast.h); the kernels are stamped out per type by macros so that the
 * compiler vectorises each branch (both sides contiguous, one side a
 * repeated scalar).  Float16 and bfloat16 run on float32 copies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broadcast.h"
#include "internal.h"

/* ---- Broadcasting loop ------------------------------------------------ */

#define NOPS (MACE_BCAST_MAX_IN + 1)
/* Elements per task: big enough to amortise the call, small enough to
 * spread a single large run over the threads. */
#define RUN_CHUNK 16384
#define PARALLEL_MIN 32768

typedef struct {
  int nops, nd; /* nd >= 1 */
  int64_t dims[MACE_MAX_DIMS];
  int64_t st[NOPS][MACE_MAX_DIMS]; /* strides in elements, 0 = broadcast */
  int64_t s_in[NOPS];              /* inner strides */
  size_t es[NOPS];
  char *base[NOPS];
  int64_t inner, cpr; /* inner length, chunks per row */
  MaceBcastFn fn;
  const void *param;
} BcastPlan;

static void
bcast_range (void *arg, int64_t begin, int64_t end)
{
  const BcastPlan *pl = arg;
  int outer = pl->nd - 1;
  int64_t idx[MACE_MAX_DIMS] = { 0 }, off[NOPS] = { 0 };
  int64_t row = begin / pl->cpr, c = begin % pl->cpr;
  for (int d = outer - 1; d >= 0; d--) {
    idx[d] = row % pl->dims[d];
    row /= pl->dims[d];
    for (int k = 0; k < pl->nops; k++)
      off[k] += idx[d] * pl->st[k][d];
  }
  char *p[NOPS];
  for (int64_t t = begin; t < end; t++) {
    int64_t start = c * RUN_CHUNK, len = pl->inner - start;
    if (len > RUN_CHUNK)
      len = RUN_CHUNK;
    for (int k = 0; k < pl->nops; k++)
      p[k] = pl->base[k] + (size_t)(off[k] + start * pl->s_in[k]) * pl->es[k];
    pl->fn (p, pl->s_in, len, pl->param);
    if (++c == pl->cpr) {
      c = 0;
      for (int d = outer - 1; d >= 0; d--) {
        for (int k = 0; k < pl->nops; k++)
          off[k] += pl->st[k][d];
        if (++idx[d] < pl->dims[d])
          break;
        for (int k = 0; k < pl->nops; k++)
          off[k] -= pl->st[k][d] * pl->dims[d];
        idx[d] = 0;
      }
    }
  }
}

void
mace_bcast_run (MaceThreadPool *pool, MaceTensor *out, int n_in,
                MaceTensor *const *in, MaceBcastFn fn, const void *param)
{
  int64_t numel = mace_tensor_numel (out);
  if (numel <= 0)
    return;
  BcastPlan pl;
  memset (&pl, 0, sizeof pl);
  pl.nops = n_in + 1;
  pl.fn = fn;
  pl.param = param;
  const MaceTensor *ops[NOPS];
  ops[0] = out;
  for (int k = 0; k < n_in; k++)
    ops[k + 1] = in[k];
  /* Per output dimension strides of every operand, size-1 dims dropped. */
  int nd = 0;
  for (int i = 0; i < out->ndim; i++) {
    if (out->dims[i] == 1)
      continue;
    pl.dims[nd] = out->dims[i];
    for (int k = 0; k < pl.nops; k++) {
      const MaceTensor *t = ops[k];
      int j = i - (out->ndim - t->ndim);
      int64_t stride = 0;
      if (j >= 0 && t->dims[j] != 1) {
        stride = 1;
        for (int m = j + 1; m < t->ndim; m++)
          stride *= t->dims[m];
      }
      pl.st[k][nd] = stride;
    }
    nd++;
  }
  for (int k = 0; k < pl.nops; k++) {
    pl.es[k] = mace_dtype_size (ops[k]->dtype);
    pl.base[k] = ops[k]->data;
  }
  if (nd == 0) {
    pl.dims[0] = 1;
    for (int k = 0; k < pl.nops; k++)
      pl.st[k][0] = 1;
    nd = 1;
  }
  /* Merge neighbours that every operand walks the same way. */
  int m = 0;
  for (int i = 1; i < nd; i++) {
    bool merge = true;
    for (int k = 0; k < pl.nops && merge; k++)
      merge = pl.st[k][m] == pl.st[k][i] * pl.dims[i];
    if (merge) {
      pl.dims[m] *= pl.dims[i];
      for (int k = 0; k < pl.nops; k++)
        pl.st[k][m] = pl.st[k][i];
    } else {
      m++;
      pl.dims[m] = pl.dims[i];
      for (int k = 0; k < pl.nops; k++)
        pl.st[k][m] = pl.st[k][i];
    }
  }
  pl.nd = m + 1;
  pl.inner = pl.dims[pl.nd - 1];
  for (int k = 0; k < pl.nops; k++)
    pl.s_in[k] = pl.st[k][pl.nd - 1];
  pl.cpr = (pl.inner + RUN_CHUNK - 1) / RUN_CHUNK;
  int64_t tasks = (numel / pl.inner) * pl.cpr;
  if (pool && numel >= PARALLEL_MIN && mace_threadpool_size (pool) > 1)
    mace_parallel_for (pool, tasks, bcast_range, &pl);
  else
    bcast_range (&pl, 0, tasks);
}

/* ---- Half precision through float32 ----------------------------------- */

static void
half_to_f32_buf (float *dst, const uint16_t *src, int64_t n, MaceDataType dt)
{
  if (dt == MACE_DTYPE_BFLOAT16)
    for (int64_t i = 0; i < n; i++)
      dst[i] = mace_bf16_to_f32 (src[i]);
  else
    for (int64_t i = 0; i < n; i++)
      dst[i] = mace_half_to_f32 (src[i]);
}

static void
f32_to_half_buf (uint16_t *dst, const float *src, int64_t n, MaceDataType dt)
{
  if (dt == MACE_DTYPE_BFLOAT16)
    for (int64_t i = 0; i < n; i++)
      dst[i] = mace_f32_to_bf16 (src[i]);
  else
    for (int64_t i = 0; i < n; i++)
      dst[i] = mace_f32_to_half (src[i]);
}

MaceStatus
mace_run_via_f32 (MaceOpCtx *ctx, MaceStatus (*run) (MaceOpCtx *))
{
  int n_in = ctx->n_in, n_out = ctx->n_out;
  MaceTensor *tin = g_new0 (MaceTensor, n_in + 1);
  MaceTensor *tout = g_new0 (MaceTensor, n_out + 1);
  MaceTensor **pin = g_new0 (MaceTensor *, n_in + 1);
  MaceTensor **pout = g_new0 (MaceTensor *, n_out + 1);
  MaceStatus st = MACE_OK;
  for (int i = 0; i < n_in && st == MACE_OK; i++) {
    MaceTensor *t = ctx->in[i];
    pin[i] = t;
    if (!t || !mace_dtype_is_half (t->dtype))
      continue;
    mace_tensor_init (&tin[i], MACE_DTYPE_FLOAT32, t->ndim, t->dims);
    st = mace_tensor_alloc (&tin[i]);
    if (st == MACE_OK)
      half_to_f32_buf (tin[i].data, t->data, mace_tensor_numel (t), t->dtype);
    pin[i] = &tin[i];
  }
  for (int i = 0; i < n_out && st == MACE_OK; i++) {
    MaceTensor *t = ctx->out[i];
    pout[i] = t;
    if (!t || !mace_dtype_is_half (t->dtype))
      continue;
    mace_tensor_init (&tout[i], MACE_DTYPE_FLOAT32, t->ndim, t->dims);
    st = mace_tensor_alloc (&tout[i]);
    pout[i] = &tout[i];
  }
  if (st == MACE_OK) {
    MaceOpCtx c2 = *ctx;
    c2.in = pin;
    c2.out = pout;
    st = run (&c2);
  } else {
    st = mace_op_fail (ctx, st, "out of memory for float32 copies");
  }
  for (int i = 0; i < n_out && st == MACE_OK; i++)
    if (pout[i] == &tout[i])
      f32_to_half_buf (ctx->out[i]->data, tout[i].data,
                       mace_tensor_numel (ctx->out[i]), ctx->out[i]->dtype);
  for (int i = 0; i < n_in; i++)
    mace_tensor_clear (&tin[i]);
  for (int i = 0; i < n_out; i++)
    mace_tensor_clear (&tout[i]);
  g_free (tin);
  g_free (tout);
  g_free (pin);
  g_free (pout);
  return st;
}

/* ---- Kernel stamping -------------------------------------------------- */

/* Type lists: X (suffix, C type, dtype, ...). */
#define T_FLOAT(X, ...)                                                        \
  X (f32, float, MACE_DTYPE_FLOAT32, __VA_ARGS__)                              \
  X (f64, double, MACE_DTYPE_FLOAT64, __VA_ARGS__)
#define T_SINT(X, ...)                                                         \
  X (i8, int8_t, MACE_DTYPE_INT8, __VA_ARGS__)                                 \
  X (i16, int16_t, MACE_DTYPE_INT16, __VA_ARGS__)                              \
  X (i32, int32_t, MACE_DTYPE_INT32, __VA_ARGS__)                              \
  X (i64, int64_t, MACE_DTYPE_INT64, __VA_ARGS__)
#define T_UINT(X, ...)                                                         \
  X (u8, uint8_t, MACE_DTYPE_UINT8, __VA_ARGS__)                               \
  X (u16, uint16_t, MACE_DTYPE_UINT16, __VA_ARGS__)                            \
  X (u32, uint32_t, MACE_DTYPE_UINT32, __VA_ARGS__)                            \
  X (u64, uint64_t, MACE_DTYPE_UINT64, __VA_ARGS__)
#define T_BOOL(X, ...) X (b, uint8_t, MACE_DTYPE_BOOL, __VA_ARGS__)
/* The same list once more, for use inside an expansion of the first (a
 * macro does not expand inside itself). */
#define T2_ALL(X, ...)                                                         \
  X (f32, float, MACE_DTYPE_FLOAT32, __VA_ARGS__)                              \
  X (f64, double, MACE_DTYPE_FLOAT64, __VA_ARGS__)                             \
  X (i8, int8_t, MACE_DTYPE_INT8, __VA_ARGS__)                                 \
  X (i16, int16_t, MACE_DTYPE_INT16, __VA_ARGS__)                              \
  X (i32, int32_t, MACE_DTYPE_INT32, __VA_ARGS__)                              \
  X (i64, int64_t, MACE_DTYPE_INT64, __VA_ARGS__)                              \
  X (u8, uint8_t, MACE_DTYPE_UINT8, __VA_ARGS__)                               \
  X (u16, uint16_t, MACE_DTYPE_UINT16, __VA_ARGS__)                            \
  X (u32, uint32_t, MACE_DTYPE_UINT32, __VA_ARGS__)                            \
  X (u64, uint64_t, MACE_DTYPE_UINT64, __VA_ARGS__)                            \
  X (b, uint8_t, MACE_DTYPE_BOOL, __VA_ARGS__)

typedef struct {
  MaceDataType dtype;
  MaceBcastFn fn;
} KEnt;

static MaceBcastFn
kernel_for (const KEnt *k, MaceDataType dt)
{
  for (; k->fn; k++)
    if (k->dtype == dt)
      return k->fn;
  return NULL;
}

/* Binary kernel: x and y are the operands (type Tin), U the output type. */
#define BIN_DEF(sfx, T, DT, op, U, EXPR)                                       \
  static void op##_##sfx (char *const *p, const int64_t *s, int64_t n,         \
                          const void *param)                                   \
  {                                                                            \
    typedef T Tin;                                                             \
    (void)param;                                                               \
    U *o = (U *)p[0];                                                          \
    const Tin *a = (const Tin *)p[1], *b = (const Tin *)p[2];                  \
    if (s[1] && s[2]) {                                                        \
      for (int64_t i = 0; i < n; i++) {                                        \
        Tin x = a[i], y = b[i];                                                \
        o[i] = (U)(EXPR);                                                      \
      }                                                                        \
    } else if (s[1]) {                                                         \
      Tin y = b[0];                                                            \
      for (int64_t i = 0; i < n; i++) {                                        \
        Tin x = a[i];                                                          \
        o[i] = (U)(EXPR);                                                      \
      }                                                                        \
    } else if (s[2]) {                                                         \
      Tin x = a[0];                                                            \
      for (int64_t i = 0; i < n; i++) {                                        \
        Tin y = b[i];                                                          \
        o[i] = (U)(EXPR);                                                      \
      }                                                                        \
    } else {                                                                   \
      Tin x = a[0], y = b[0];                                                  \
      U v = (U)(EXPR);                                                         \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = v;                                                              \
    }                                                                          \
  }

/* Unary kernel over x (type Tin). */
#define UN_DEF(sfx, T, DT, op, U, EXPR)                                        \
  static void op##_##sfx (char *const *p, const int64_t *s, int64_t n,         \
                          const void *param)                                   \
  {                                                                            \
    typedef T Tin;                                                             \
    (void)param;                                                               \
    U *o = (U *)p[0];                                                          \
    const Tin *a = (const Tin *)p[1];                                          \
    if (s[1]) {                                                                \
      for (int64_t i = 0; i < n; i++) {                                        \
        Tin x = a[i];                                                          \
        o[i] = (U)(EXPR);                                                      \
      }                                                                        \
    } else {                                                                   \
      Tin x = a[0];                                                            \
      U v = (U)(EXPR);                                                         \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = v;                                                              \
    }                                                                          \
  }

#define K_ENT(sfx, T, DT, op) { DT, op##_##sfx },

/* ---- Binary arithmetic ------------------------------------------------ */

T_FLOAT (BIN_DEF, add, Tin, x + y)
T_SINT (BIN_DEF, add, Tin, x + y)
T_UINT (BIN_DEF, add, Tin, x + y)
T_FLOAT (BIN_DEF, sub, Tin, x - y)
T_SINT (BIN_DEF, sub, Tin, x - y)
T_UINT (BIN_DEF, sub, Tin, x - y)
T_FLOAT (BIN_DEF, mul, Tin, x *y)
T_SINT (BIN_DEF, mul, Tin, x *y)
T_UINT (BIN_DEF, mul, Tin, x *y)
T_FLOAT (BIN_DEF, div, Tin, x / y)
/* Integer division truncates; no trap on zero or MIN / -1. */
T_SINT (BIN_DEF, div, Tin, y == 0 ? 0 : (y == -1 ? (Tin)(0 - x) : x / y))
T_UINT (BIN_DEF, div, Tin, y == 0 ? 0 : x / y)
/* NaN propagates like numpy's maximum / minimum. */
T_FLOAT (BIN_DEF, max, Tin, (x != x || x > y) ? x : y)
T_SINT (BIN_DEF, max, Tin, x > y ? x : y)
T_UINT (BIN_DEF, max, Tin, x > y ? x : y)
T_FLOAT (BIN_DEF, min, Tin, (x != x || x < y) ? x : y)
T_SINT (BIN_DEF, min, Tin, x < y ? x : y)
T_UINT (BIN_DEF, min, Tin, x < y ? x : y)
/* Mod: fmod = 1 is C's remainder (sign of x); fmod = 0 Python's (sign of
 * y). */
BIN_DEF (f32, float, 0, fmod, float, fmodf (x, y))
BIN_DEF (f64, double, 0, fmod, double, fmod (x, y))
T_SINT (BIN_DEF, fmod, Tin, (y == 0 || y == -1) ? 0 : x % y)
T_UINT (BIN_DEF, fmod, Tin, y == 0 ? 0 : x % y)
#define PYMOD_FDEF(sfx, T, DT, FM)                                             \
  static inline T pymod_##sfx (T x, T y)                                       \
  {                                                                            \
    T r = FM (x, y);                                                           \
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;                       \
  }
PYMOD_FDEF (f32, float, 0, fmodf)
PYMOD_FDEF (f64, double, 0, fmod)
#define PYMOD_IDEF(sfx, T, DT, ...)                                            \
  static inline T pymod_##sfx (T x, T y)                                       \
  {                                                                            \
    if (y == 0 || y == -1)                                                     \
      return 0;                                                                \
    T r = (T)(x % y);                                                          \
    return (r != 0 && ((r < 0) != (y < 0))) ? (T)(r + y) : r;                  \
  }
T_SINT (PYMOD_IDEF, 0)
#define PYMOD(x, y)                                                            \
  _Generic((x), float                                                          \
           : pymod_f32, double                                                 \
           : pymod_f64, int8_t                                                 \
           : pymod_i8, int16_t                                                 \
           : pymod_i16, int32_t                                                \
           : pymod_i32, int64_t                                                \
           : pymod_i64) (x, y)
T_FLOAT (BIN_DEF, pmod, Tin, PYMOD (x, y))
T_SINT (BIN_DEF, pmod, Tin, PYMOD (x, y))

static const KEnt add_k[] = { T_FLOAT (K_ENT, add) T_SINT (K_ENT, add)
                                  T_UINT (K_ENT, add){ 0, NULL } };
static const KEnt sub_k[] = { T_FLOAT (K_ENT, sub) T_SINT (K_ENT, sub)
                                  T_UINT (K_ENT, sub){ 0, NULL } };
static const KEnt mul_k[] = { T_FLOAT (K_ENT, mul) T_SINT (K_ENT, mul)
                                  T_UINT (K_ENT, mul){ 0, NULL } };
static const KEnt div_k[] = { T_FLOAT (K_ENT, div) T_SINT (K_ENT, div)
                                  T_UINT (K_ENT, div){ 0, NULL } };
static const KEnt max_k[] = { T_FLOAT (K_ENT, max) T_SINT (K_ENT, max)
                                  T_UINT (K_ENT, max){ 0, NULL } };
static const KEnt min_k[] = { T_FLOAT (K_ENT, min) T_SINT (K_ENT, min)
                                  T_UINT (K_ENT, min){ 0, NULL } };
static const KEnt fmod_k[] = { T_FLOAT (K_ENT, fmod) T_SINT (K_ENT, fmod)
                                   T_UINT (K_ENT, fmod){ 0, NULL } };
/* Unsigned remainders have no sign to fix: the C one is Python's. */
static const KEnt pmod_k[] = { T_FLOAT (K_ENT, pmod) T_SINT (K_ENT, pmod)
                                   T_UINT (K_ENT, fmod){ 0, NULL } };

/* ---- Comparison and logic --------------------------------------------- */

#define CMP_DEFS(op, EXPR)                                                     \
  T_FLOAT (BIN_DEF, op, uint8_t, EXPR)                                         \
  T_SINT (BIN_DEF, op, uint8_t, EXPR)                                          \
  T_UINT (BIN_DEF, op, uint8_t, EXPR)
#define CMP_TABLE(op)                                                          \
  static const KEnt op##_k[] = { T_FLOAT (K_ENT, op) T_SINT (K_ENT, op)        \
                                     T_UINT (K_ENT, op){ 0, NULL } };
CMP_DEFS (eq, x == y)
T_BOOL (BIN_DEF, eq, uint8_t, (x != 0) == (y != 0))
CMP_DEFS (lt, x < y)
CMP_DEFS (gt, x > y)
CMP_DEFS (le, x <= y)
CMP_DEFS (ge, x >= y)
static const KEnt eq_k[] = { T_FLOAT (K_ENT, eq) T_SINT (K_ENT, eq) T_UINT (
    K_ENT, eq) T_BOOL (K_ENT, eq){ 0, NULL } };
CMP_TABLE (lt)
CMP_TABLE (gt)
CMP_TABLE (le)
CMP_TABLE (ge)

T_BOOL (BIN_DEF, and, uint8_t, (x != 0) & (y != 0))
T_BOOL (BIN_DEF, or, uint8_t, (x != 0) | (y != 0))
T_BOOL (BIN_DEF, xor, uint8_t, (x != 0) ^ (y != 0))
static const KEnt and_k[] = { T_BOOL (K_ENT, and){ 0, NULL } };
static const KEnt or_k[] = { T_BOOL (K_ENT, or){ 0, NULL } };
static const KEnt xor_k[] = { T_BOOL (K_ENT, xor){ 0, NULL } };

/* Shifts by the width or more give 0 instead of undefined behaviour. */
T_UINT (BIN_DEF, shl, Tin, y >= sizeof (Tin) * 8 ? 0 : (Tin)((uint64_t)x << y))
T_UINT (BIN_DEF, shr, Tin, y >= sizeof (Tin) * 8 ? 0 : x >> y)
static const KEnt shl_k[] = { T_UINT (K_ENT, shl){ 0, NULL } };
static const KEnt shr_k[] = { T_UINT (K_ENT, shr){ 0, NULL } };

/* ---- Unary ------------------------------------------------------------ */

/* Float-only math: one expression for float, one for double. */
#define UN_FLOAT(op, EF, ED)                                                   \
  UN_DEF (f32, float, 0, op, float, EF)                                        \
  UN_DEF (f64, double, 0, op, double, ED)                                      \
  static const KEnt op##_k[] = { T_FLOAT (K_ENT, op){ 0, NULL } };

UN_FLOAT (sqrt, sqrtf (x), sqrt (x))
UN_FLOAT (exp, expf (x), exp (x))
UN_FLOAT (log, logf (x), log (x))
UN_FLOAT (recip, 1.0f / x, 1.0 / x)
UN_FLOAT (ceil, ceilf (x), ceil (x))
UN_FLOAT (floor, floorf (x), floor (x))
UN_FLOAT (round, nearbyintf (x), nearbyint (x)) /* half to even */
UN_FLOAT (erf, erff (x), erf (x))
UN_FLOAT (sin, sinf (x), sin (x))
UN_FLOAT (cos, cosf (x), cos (x))
UN_FLOAT (tan, tanf (x), tan (x))
UN_FLOAT (asin, asinf (x), asin (x))
UN_FLOAT (acos, acosf (x), acos (x))
UN_FLOAT (atan, atanf (x), atan (x))
UN_FLOAT (sinh, sinhf (x), sinh (x))
UN_FLOAT (cosh, coshf (x), cosh (x))
UN_FLOAT (asinh, asinhf (x), asinh (x))
UN_FLOAT (acosh, acoshf (x), acosh (x))
UN_FLOAT (atanh, atanhf (x), atanh (x))

T_FLOAT (UN_DEF, neg, Tin, -x)
T_SINT (UN_DEF, neg, Tin, 0 - x)
static const KEnt neg_k[]
    = { T_FLOAT (K_ENT, neg) T_SINT (K_ENT, neg){ 0, NULL } };
T_FLOAT (UN_DEF, abs, Tin, x < 0 ? -x : (x == 0 ? 0 : x))
T_SINT (UN_DEF, abs, Tin, x < 0 ? 0 - x : x)
T_UINT (UN_DEF, abs, Tin, x)
static const KEnt abs_k[] = { T_FLOAT (K_ENT, abs) T_SINT (K_ENT, abs)
                                  T_UINT (K_ENT, abs){ 0, NULL } };
T_FLOAT (UN_DEF, sign, Tin, x > 0 ? 1 : (x < 0 ? -1 : x))
T_SINT (UN_DEF, sign, Tin, (x > 0) - (x < 0))
T_UINT (UN_DEF, sign, Tin, x != 0)
static const KEnt sign_k[] = { T_FLOAT (K_ENT, sign) T_SINT (K_ENT, sign)
                                   T_UINT (K_ENT, sign){ 0, NULL } };
T_FLOAT (UN_DEF, isnan, uint8_t, x != x)
static const KEnt isnan_k[] = { T_FLOAT (K_ENT, isnan){ 0, NULL } };
T_BOOL (UN_DEF, not, uint8_t, x == 0)
static const KEnt not_k[] = { T_BOOL (K_ENT, not ){ 0, NULL } };

typedef struct {
  bool neg, pos;
} IsInfParam;

#define ISINF_DEF(sfx, T, DT, ...)                                             \
  static void isinf_##sfx (char *const *p, const int64_t *s, int64_t n,        \
                           const void *param)                                  \
  {                                                                            \
    const IsInfParam *q = param;                                               \
    uint8_t *o = (uint8_t *)p[0];                                              \
    const T *a = (const T *)p[1];                                              \
    (void)s;                                                                   \
    for (int64_t i = 0; i < n; i++)                                            \
      o[i] = (q->pos && a[i] == (T)INFINITY)                                   \
             || (q->neg && a[i] == (T)-INFINITY);                              \
  }
T_FLOAT (ISINF_DEF)
static const KEnt isinf_k[] = { T_FLOAT (K_ENT, isinf){ 0, NULL } };

/* ---- Generic drivers -------------------------------------------------- */

static bool
is_float_type (MaceDataType dt)
{
  return dt == MACE_DTYPE_FLOAT32 || dt == MACE_DTYPE_FLOAT64
         || mace_dtype_is_half (dt);
}

static MaceStatus
need_inputs (MaceOpCtx *ctx, int n)
{
  if (ctx->n_in < n)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "needs %d inputs, has %d", n, ctx->n_in);
  for (int i = 0; i < n; i++)
    if (!ctx->in[i])
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "input %d is missing",
                           i);
  return MACE_OK;
}

/* Broadcast shape of inputs [0, n) into out. */
static MaceStatus
bcast_shape_n (MaceOpCtx *ctx, int n, int *nd, int64_t *dims)
{
  *nd = ctx->in[0]->ndim;
  memcpy (dims, ctx->in[0]->dims, sizeof (int64_t) * (size_t)*nd);
  for (int i = 1; i < n; i++) {
    const MaceTensor *t = ctx->in[i];
    if (!mace_broadcast_shape (*nd, dims, t->ndim, t->dims, nd, dims)) {
      char a[128], b[128];
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "shapes %s and %s do not broadcast",
                           mace_shape_str (*nd, dims, a, sizeof a),
                           mace_shape_str (t->ndim, t->dims, b, sizeof b));
    }
  }
  return MACE_OK;
}

static MaceStatus
same_types (MaceOpCtx *ctx, int n)
{
  for (int i = 1; i < n; i++)
    if (ctx->in[i]->dtype != ctx->in[0]->dtype)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "input %d is %s but input 0 is %s", i,
                           mace_dtype_name (ctx->in[i]->dtype),
                           mace_dtype_name (ctx->in[0]->dtype));
  return MACE_OK;
}

static MaceStatus
unsupported_type (MaceOpCtx *ctx, MaceDataType dt)
{
  return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                       "element type %s is not supported",
                       mace_dtype_name (dt));
}

/* All inputs (variadic) of one type, broadcast; output of type out_dt
 * (UNDEFINED: the inputs' type).  `table` checks the type. */
static MaceStatus
infer_nary (MaceOpCtx *ctx, int n, const KEnt *table, MaceDataType out_dt)
{
  MaceStatus st = need_inputs (ctx, n);
  if (st == MACE_OK)
    st = same_types (ctx, n);
  if (st != MACE_OK)
    return st;
  MaceDataType dt = ctx->in[0]->dtype;
  if (!kernel_for (table, mace_dtype_is_half (dt) ? MACE_DTYPE_FLOAT32 : dt))
    return unsupported_type (ctx, dt);
  int nd;
  int64_t dims[MACE_MAX_DIMS];
  st = bcast_shape_n (ctx, n, &nd, dims);
  if (st != MACE_OK)
    return st;
  mace_tensor_init (ctx->out[0], out_dt ? out_dt : dt, nd, dims);
  return MACE_OK;
}

static MaceStatus
run_table (MaceOpCtx *ctx, int n, const KEnt *table, const void *param)
{
  MaceBcastFn fn = kernel_for (table, ctx->in[0]->dtype);
  if (!fn)
    return unsupported_type (ctx, ctx->in[0]->dtype);
  mace_bcast_run (ctx->pool, ctx->out[0], n, ctx->in, fn, param);
  return MACE_OK;
}

/* Wrappers: infer_X / run_X for an op with a fixed arity and table. */
#define NARY_OP(name, n, table, out_dt)                                        \
  static MaceStatus infer_##name (MaceOpCtx *ctx)                              \
  {                                                                            \
    return infer_nary (ctx, n, table, out_dt);                                 \
  }                                                                            \
  static MaceStatus run_##name (MaceOpCtx *ctx)                                \
  {                                                                            \
    if (mace_dtype_is_half (ctx->in[0]->dtype))                                \
      return mace_run_via_f32 (ctx, run_##name);                               \
    return run_table (ctx, n, table, NULL);                                    \
  }

NARY_OP (add, 2, add_k, 0)
NARY_OP (sub, 2, sub_k, 0)
NARY_OP (mul, 2, mul_k, 0)
NARY_OP (div, 2, div_k, 0)
NARY_OP (equal, 2, eq_k, MACE_DTYPE_BOOL)
NARY_OP (less, 2, lt_k, MACE_DTYPE_BOOL)
NARY_OP (greater, 2, gt_k, MACE_DTYPE_BOOL)
NARY_OP (less_equal, 2, le_k, MACE_DTYPE_BOOL)
NARY_OP (greater_equal, 2, ge_k, MACE_DTYPE_BOOL)
NARY_OP (and, 2, and_k, 0)
NARY_OP (or, 2, or_k, 0)
NARY_OP (xor, 2, xor_k, 0)
NARY_OP (not, 1, not_k, 0)
NARY_OP (sqrt, 1, sqrt_k, 0)
NARY_OP (exp, 1, exp_k, 0)
NARY_OP (log, 1, log_k, 0)
NARY_OP (recip, 1, recip_k, 0)
NARY_OP (ceil, 1, ceil_k, 0)
NARY_OP (floor, 1, floor_k, 0)
NARY_OP (round, 1, round_k, 0)
NARY_OP (erf, 1, erf_k, 0)
NARY_OP (sin, 1, sin_k, 0)
NARY_OP (cos, 1, cos_k, 0)
NARY_OP (tan, 1, tan_k, 0)
NARY_OP (asin, 1, asin_k, 0)
NARY_OP (acos, 1, acos_k, 0)
NARY_OP (atan, 1, atan_k, 0)
NARY_OP (sinh, 1, sinh_k, 0)
NARY_OP (cosh, 1, cosh_k, 0)
NARY_OP (asinh, 1, asinh_k, 0)
NARY_OP (acosh, 1, acosh_k, 0)
NARY_OP (atanh, 1, atanh_k, 0)
NARY_OP (neg, 1, neg_k, 0)
NARY_OP (abs, 1, abs_k, 0)
NARY_OP (sign, 1, sign_k, 0)
NARY_OP (isnan, 1, isnan_k, MACE_DTYPE_BOOL)

static MaceStatus
infer_isinf (MaceOpCtx *ctx)
{
  return infer_nary (ctx, 1, isinf_k, MACE_DTYPE_BOOL);
}

static MaceStatus
run_isinf (MaceOpCtx *ctx)
{
  if (mace_dtype_is_half (ctx->in[0]->dtype))
    return mace_run_via_f32 (ctx, run_isinf);
  IsInfParam q = { mace_attr_int (ctx->node, "detect_negative", 1) != 0,
                   mace_attr_int (ctx->node, "detect_positive", 1) != 0 };
  return run_table (ctx, 1, isinf_k, &q);
}

/* ---- Mod, BitShift ---------------------------------------------------- */

static MaceStatus
infer_mod (MaceOpCtx *ctx)
{
  return infer_nary (ctx, 2, fmod_k, 0);
}

static MaceStatus
run_mod (MaceOpCtx *ctx)
{
  if (mace_dtype_is_half (ctx->in[0]->dtype))
    return mace_run_via_f32 (ctx, run_mod);
  bool f = mace_attr_int (ctx->node, "fmod", 0) != 0;
  return run_table (ctx, 2, f ? fmod_k : pmod_k, NULL);
}

static MaceStatus
check_bitshift (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *dir = mace_attr_string (node, "direction", NULL);
  if (!dir || (strcmp (dir, "LEFT") != 0 && strcmp (dir, "RIGHT") != 0)) {
    snprintf (msg, len, "direction must be LEFT or RIGHT, not %s",
              dir ? dir : "(missing)");
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
infer_bitshift (MaceOpCtx *ctx)
{
  return infer_nary (ctx, 2, shl_k, 0);
}

static MaceStatus
run_bitshift (MaceOpCtx *ctx)
{
  const char *dir = mace_attr_string (ctx->node, "direction", "LEFT");
  return run_table (ctx, 2, strcmp (dir, "LEFT") == 0 ? shl_k : shr_k, NULL);
}

/* ---- Variadic: Max, Min, Sum, Mean ------------------------------------ */

static MaceStatus
check_variadic (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (node->n_in < 1) {
    snprintf (msg, len, "needs at least one input");
    return MACE_ERROR_INVALID_MODEL;
  }
  return MACE_OK;
}

static MaceStatus
infer_variadic (MaceOpCtx *ctx)
{
  const KEnt *t = strcmp (ctx->node->op_type, "Max") == 0   ? max_k
                  : strcmp (ctx->node->op_type, "Min") == 0 ? min_k
                                                            : add_k;
  MaceStatus st = infer_nary (ctx, ctx->n_in, t, 0);
  if (st == MACE_OK && strcmp (ctx->node->op_type, "Mean") == 0
      && !is_float_type (ctx->in[0]->dtype))
    return unsupported_type (ctx, ctx->in[0]->dtype);
  return st;
}

static void
copy_kernel (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  size_t es = *(const size_t *)param;
  if (s[1]) {
    memcpy (p[0], p[1], (size_t)n * es);
  } else {
    for (int64_t i = 0; i < n; i++)
      memcpy (p[0] + (size_t)i * es, p[1], es);
  }
}

T_FLOAT (UN_DEF, scale, Tin, x *(Tin) * (const double *)param)

static MaceStatus
run_variadic (MaceOpCtx *ctx)
{
  MaceDataType dt = ctx->in[0]->dtype;
  if (mace_dtype_is_half (dt))
    return mace_run_via_f32 (ctx, run_variadic);
  const char *op = ctx->node->op_type;
  const KEnt *t = strcmp (op, "Max") == 0   ? max_k
                  : strcmp (op, "Min") == 0 ? min_k
                                            : add_k;
  MaceBcastFn fn = kernel_for (t, dt);
  if (!fn)
    return unsupported_type (ctx, dt);
  MaceTensor *out = ctx->out[0];
  if (ctx->n_in == 1) {
    size_t es = mace_dtype_size (dt);
    mace_bcast_run (ctx->pool, out, 1, ctx->in, copy_kernel, &es);
  } else {
    mace_bcast_run (ctx->pool, out, 2, ctx->in, fn, NULL);
    /* Accumulate in place: out = out op in[i], element for element. */
    for (int i = 2; i < ctx->n_in; i++) {
      MaceTensor *pair[2] = { out, ctx->in[i] };
      mace_bcast_run (ctx->pool, out, 2, pair, fn, NULL);
    }
  }
  if (strcmp (op, "Mean") == 0) {
    double inv = 1.0 / ctx->n_in;
    MaceBcastFn sc = dt == MACE_DTYPE_FLOAT32 ? scale_f32 : scale_f64;
    mace_bcast_run (ctx->pool, out, 1, &out, sc, &inv);
  }
  return MACE_OK;
}

/* ---- Pow -------------------------------------------------------------- */

static double
load_f64 (const char *p, MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_FLOAT32: return *(const float *)p;
    case MACE_DTYPE_FLOAT64: return *(const double *)p;
    case MACE_DTYPE_INT8: return *(const int8_t *)p;
    case MACE_DTYPE_INT16: return *(const int16_t *)p;
    case MACE_DTYPE_INT32: return *(const int32_t *)p;
    case MACE_DTYPE_INT64: return (double)*(const int64_t *)p;
    case MACE_DTYPE_UINT8: return *(const uint8_t *)p;
    case MACE_DTYPE_UINT16: return *(const uint16_t *)p;
    case MACE_DTYPE_UINT32: return *(const uint32_t *)p;
    case MACE_DTYPE_UINT64: return (double)*(const uint64_t *)p;
    default: return 0;
  }
}

static int64_t
load_i64 (const char *p, MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_INT8: return *(const int8_t *)p;
    case MACE_DTYPE_INT16: return *(const int16_t *)p;
    case MACE_DTYPE_INT32: return *(const int32_t *)p;
    case MACE_DTYPE_INT64: return *(const int64_t *)p;
    case MACE_DTYPE_UINT8: return *(const uint8_t *)p;
    case MACE_DTYPE_UINT16: return *(const uint16_t *)p;
    case MACE_DTYPE_UINT32: return *(const uint32_t *)p;
    case MACE_DTYPE_UINT64: return (int64_t) * (const uint64_t *)p;
    default: return (int64_t)load_f64 (p, dt);
  }
}

/* Stores v converted like a C cast from int64 (integers) or double. */
static void
store_num (char *p, MaceDataType dt, double v, int64_t iv, bool use_int)
{
  if (!use_int && dt != MACE_DTYPE_FLOAT32 && dt != MACE_DTYPE_FLOAT64)
    iv = isfinite (v) && fabs (v) < 9.2e18 ? (int64_t)v : INT64_MIN;
  switch (dt) {
    case MACE_DTYPE_FLOAT32: *(float *)p = (float)(use_int ? iv : v); break;
    case MACE_DTYPE_FLOAT64: *(double *)p = use_int ? (double)iv : v; break;
    case MACE_DTYPE_INT8: *(int8_t *)p = (int8_t)iv; break;
    case MACE_DTYPE_INT16: *(int16_t *)p = (int16_t)iv; break;
    case MACE_DTYPE_INT32: *(int32_t *)p = (int32_t)iv; break;
    case MACE_DTYPE_INT64: *(int64_t *)p = iv; break;
    case MACE_DTYPE_UINT8: *(uint8_t *)p = (uint8_t)iv; break;
    case MACE_DTYPE_UINT16: *(uint16_t *)p = (uint16_t)iv; break;
    case MACE_DTYPE_UINT32: *(uint32_t *)p = (uint32_t)iv; break;
    case MACE_DTYPE_UINT64: *(uint64_t *)p = (uint64_t)iv; break;
    default: break;
  }
}

static int64_t
ipow (int64_t x, int64_t e)
{
  if (e < 0)
    return x == 1 ? 1 : (x == -1 ? ((e & 1) ? -1 : 1) : 0);
  uint64_t r = 1, b = (uint64_t)x;
  while (e) {
    if (e & 1)
      r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}

typedef struct {
  MaceDataType ta, tb;
} PowParam;

/* Mixed or integer types: one element at a time. */
static void
pow_generic (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  const PowParam *q = param;
  size_t ea = mace_dtype_size (q->ta), eb = mace_dtype_size (q->tb);
  bool fa = is_float_type (q->ta), fb = is_float_type (q->tb);
  for (int64_t i = 0; i < n; i++) {
    const char *a = p[1] + (size_t)(i * s[1]) * ea;
    const char *b = p[2] + (size_t)(i * s[2]) * eb;
    char *o = p[0] + (size_t)i * ea;
    if (!fa && !fb)
      store_num (o, q->ta, 0, ipow (load_i64 (a, q->ta), load_i64 (b, q->tb)),
                 true);
    else
      store_num (o, q->ta, pow (load_f64 (a, q->ta), load_f64 (b, q->tb)), 0,
                 false);
  }
}

static void
pow_f32 (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  (void)param;
  float *o = (float *)p[0];
  const float *a = (const float *)p[1], *b = (const float *)p[2];
  if (s[1] && !s[2] && b[0] == 2.0f) {
    for (int64_t i = 0; i < n; i++)
      o[i] = a[i] * a[i];
  } else if (s[1] && !s[2] && b[0] == 0.5f) {
    for (int64_t i = 0; i < n; i++)
      o[i] = sqrtf (a[i]);
  } else {
    for (int64_t i = 0; i < n; i++)
      o[i] = powf (a[i * s[1]], b[i * s[2]]);
  }
}

static void
pow_f64 (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  (void)param;
  double *o = (double *)p[0];
  const double *a = (const double *)p[1], *b = (const double *)p[2];
  for (int64_t i = 0; i < n; i++)
    o[i] = pow (a[i * s[1]], b[i * s[2]]);
}

static bool
pow_type_ok (MaceDataType dt)
{
  return dt == MACE_DTYPE_FLOAT32 || dt == MACE_DTYPE_FLOAT64
         || mace_dtype_is_half (dt)
         || (dt >= MACE_DTYPE_UINT8 && dt <= MACE_DTYPE_INT64)
         || dt == MACE_DTYPE_UINT32 || dt == MACE_DTYPE_UINT64;
}

static MaceStatus
infer_pow (MaceOpCtx *ctx)
{
  MaceStatus st = need_inputs (ctx, 2);
  if (st != MACE_OK)
    return st;
  for (int i = 0; i < 2; i++)
    if (!pow_type_ok (ctx->in[i]->dtype))
      return unsupported_type (ctx, ctx->in[i]->dtype);
  int nd;
  int64_t dims[MACE_MAX_DIMS];
  st = bcast_shape_n (ctx, 2, &nd, dims);
  if (st == MACE_OK)
    mace_tensor_init (ctx->out[0], ctx->in[0]->dtype, nd, dims);
  return st;
}

static MaceStatus
run_pow (MaceOpCtx *ctx)
{
  MaceDataType ta = ctx->in[0]->dtype, tb = ctx->in[1]->dtype;
  if (mace_dtype_is_half (ta) || mace_dtype_is_half (tb))
    return mace_run_via_f32 (ctx, run_pow);
  PowParam q = { ta, tb };
  MaceBcastFn fn = pow_generic;
  if (ta == tb && ta == MACE_DTYPE_FLOAT32)
    fn = pow_f32;
  else if (ta == tb && ta == MACE_DTYPE_FLOAT64)
    fn = pow_f64;
  mace_bcast_run (ctx->pool, ctx->out[0], 2, ctx->in, fn, &q);
  return MACE_OK;
}

/* ---- Where ------------------------------------------------------------ */

#define WHERE_DEF(bits)                                                        \
  static void where_##bits (char *const *p, const int64_t *s, int64_t n,       \
                            const void *param)                                 \
  {                                                                            \
    (void)param;                                                               \
    uint##bits##_t *o = (uint##bits##_t *)p[0];                                \
    const uint8_t *c = (const uint8_t *)p[1];                                  \
    const uint##bits##_t *x = (const uint##bits##_t *)p[2];                    \
    const uint##bits##_t *y = (const uint##bits##_t *)p[3];                    \
    if (s[1] && s[2] && s[3]) {                                                \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = c[i] ? x[i] : y[i];                                             \
    } else {                                                                   \
      for (int64_t i = 0; i < n; i++)                                          \
        o[i] = c[i * s[1]] ? x[i * s[2]] : y[i * s[3]];                        \
    }                                                                          \
  }
WHERE_DEF (8)
WHERE_DEF (16)
WHERE_DEF (32)
WHERE_DEF (64)

static MaceStatus
infer_where (MaceOpCtx *ctx)
{
  MaceStatus st = need_inputs (ctx, 3);
  if (st != MACE_OK)
    return st;
  if (ctx->in[0]->dtype != MACE_DTYPE_BOOL)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "condition must be bool, not %s",
                         mace_dtype_name (ctx->in[0]->dtype));
  if (ctx->in[1]->dtype != ctx->in[2]->dtype)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "X is %s but Y is %s",
                         mace_dtype_name (ctx->in[1]->dtype),
                         mace_dtype_name (ctx->in[2]->dtype));
  if (mace_dtype_size (ctx->in[1]->dtype) == 0)
    return unsupported_type (ctx, ctx->in[1]->dtype);
  int nd;
  int64_t dims[MACE_MAX_DIMS];
  st = bcast_shape_n (ctx, 3, &nd, dims);
  if (st == MACE_OK)
    mace_tensor_init (ctx->out[0], ctx->in[1]->dtype, nd, dims);
  return st;
}

static MaceStatus
run_where (MaceOpCtx *ctx)
{
  MaceBcastFn fn;
  switch (mace_dtype_size (ctx->in[1]->dtype)) {
    case 1: fn = where_8; break;
    case 2: fn = where_16; break;
    case 4: fn = where_32; break;
    case 8: fn = where_64; break;
    default: return unsupported_type (ctx, ctx->in[1]->dtype);
  }
  mace_bcast_run (ctx->pool, ctx->out[0], 3, ctx->in, fn, NULL);
  return MACE_OK;
}

/* ---- Cast ------------------------------------------------------------- */

/* Conversions per destination; F: from a floating point value, I: from an
 * integer.  Floats go to integers through int64 so that negative values
 * wrap into unsigned types the way numpy's casts do on x86. */
#define F2_f32(x) ((float)(x))
#define F2_f64(x) ((double)(x))
#define F2_i8(x) ((int8_t)(int64_t)(x))
#define F2_i16(x) ((int16_t)(int64_t)(x))
#define F2_i32(x) ((int32_t)(int64_t)(x))
#define F2_i64(x) ((int64_t)(x))
#define F2_u8(x) ((uint8_t)(int64_t)(x))
#define F2_u16(x) ((uint16_t)(int64_t)(x))
#define F2_u32(x) ((uint32_t)(int64_t)(x))
#define F2_u64(x)                                                              \
  ((x) >= 9223372036854775808.0 ? (uint64_t)(x) : (uint64_t)(int64_t)(x))
#define F2_b(x) ((uint8_t)((x) != 0))
#define I2_f32(x) ((float)(x))
#define I2_f64(x) ((double)(x))
#define I2_i8(x) ((int8_t)(x))
#define I2_i16(x) ((int16_t)(x))
#define I2_i32(x) ((int32_t)(x))
#define I2_i64(x) ((int64_t)(x))
#define I2_u8(x) ((uint8_t)(x))
#define I2_u16(x) ((uint16_t)(x))
#define I2_u32(x) ((uint32_t)(x))
#define I2_u64(x) ((uint64_t)(x))
#define I2_b(x) ((uint8_t)((x) != 0))

typedef void (*CastFn) (void *o, const void *a, int64_t n);

#define CAST_FN(dsfx, D, DT, ssfx, S, KIND)                                    \
  static void cast_##ssfx##_##dsfx (void *o_, const void *a_, int64_t n)       \
  {                                                                            \
    D *o = o_;                                                                 \
    const S *a = a_;                                                           \
    for (int64_t i = 0; i < n; i++)                                            \
      o[i] = KIND##2_##dsfx (a[i]);                                            \
  }
#define CAST_ALL_DST(ssfx, S, DT, KIND) T2_ALL (CAST_FN, ssfx, S, KIND)
T_FLOAT (CAST_ALL_DST, F)
T_SINT (CAST_ALL_DST, I)
T_UINT (CAST_ALL_DST, I)
T_BOOL (CAST_ALL_DST, I)

typedef struct {
  MaceDataType src, dst;
  CastFn fn;
} CastEnt;

#define CAST_ENT(dsfx, D, DT, ssfx, SDT) { SDT, DT, cast_##ssfx##_##dsfx },
#define CAST_ENT_DST(ssfx, S, SDT, ...) T2_ALL (CAST_ENT, ssfx, SDT)
static const CastEnt cast_table[]
    = { T_FLOAT (CAST_ENT_DST, 0) T_SINT (CAST_ENT_DST, 0)
            T_UINT (CAST_ENT_DST, 0) T_BOOL (CAST_ENT_DST, 0){ 0, 0, NULL } };

static CastFn
cast_lookup (MaceDataType src, MaceDataType dst)
{
  for (const CastEnt *e = cast_table; e->fn; e++)
    if (e->src == src && e->dst == dst)
      return e->fn;
  return NULL;
}

static bool
cast_type_ok (MaceDataType dt)
{
  return mace_dtype_is_half (dt) || cast_lookup (dt, dt) != NULL;
}

typedef struct {
  MaceDataType src, dst;
} CastParam;

/* Half types pass through a float32 buffer on the stack. */
static void
cast_kernel (char *const *p, const int64_t *s, int64_t n, const void *param)
{
  const CastParam *q = param;
  (void)s;
  if (!mace_dtype_is_half (q->src) && !mace_dtype_is_half (q->dst)) {
    cast_lookup (q->src, q->dst) (p[0], p[1], n);
    return;
  }
  float buf[1024];
  size_t es = mace_dtype_size (q->src), ed = mace_dtype_size (q->dst);
  for (int64_t i = 0; i < n; i += 1024) {
    int64_t m = n - i < 1024 ? n - i : 1024;
    const char *a = p[1] + (size_t)i * es;
    char *o = p[0] + (size_t)i * ed;
    if (mace_dtype_is_half (q->src)) {
      half_to_f32_buf (buf, (const uint16_t *)a, m, q->src);
    } else if (q->src == MACE_DTYPE_FLOAT64) {
      /* Round to odd into float, so that the rounding to half (or
       * bfloat16) that follows is the only one that counts. */
      const double *d = (const double *)a;
      for (int64_t j = 0; j < m; j++) {
        float f = (float)d[j];
        if ((double)f != d[j] && isfinite (f)) {
          uint32_t bits;
          memcpy (&bits, &f, 4);
          if (fabs ((double)f) > fabs (d[j]))
            bits--;
          bits |= 1;
          memcpy (&f, &bits, 4);
        }
        buf[j] = f;
      }
    } else {
      cast_lookup (q->src, MACE_DTYPE_FLOAT32) (buf, a, m);
    }
    if (q->dst == MACE_DTYPE_BFLOAT16) {
      /* Cast truncates to bfloat16, as ONNX's reference (and its node
       * tests) do; arithmetic in bfloat16 rounds (f32_to_half_buf). */
      uint16_t *h = (uint16_t *)o;
      for (int64_t j = 0; j < m; j++) {
        uint32_t bits;
        memcpy (&bits, &buf[j], 4);
        h[j] = (uint16_t)(bits >> 16);
        if ((bits & 0x7fffffff) > 0x7f800000)
          h[j] |= 0x40; /* keep NaN a NaN */
      }
    } else if (q->dst == MACE_DTYPE_FLOAT16)
      f32_to_half_buf ((uint16_t *)o, buf, m, q->dst);
    else
      cast_lookup (MACE_DTYPE_FLOAT32, q->dst) (o, buf, m);
  }
}

static MaceStatus
check_cast (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  if (strcmp (node->op_type, "CastLike") == 0)
    return MACE_OK;
  const MaceAttr *a = mace_node_attr (node, "to");
  if (!a) {
    snprintf (msg, len, "attribute 'to' is missing");
    return MACE_ERROR_INVALID_MODEL;
  }
  if (!cast_type_ok ((MaceDataType)a->i)) {
    snprintf (msg, len, "casting to %s is not supported",
              mace_dtype_name ((MaceDataType)a->i));
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
infer_cast (MaceOpCtx *ctx)
{
  bool like = strcmp (ctx->node->op_type, "CastLike") == 0;
  MaceStatus st = need_inputs (ctx, like ? 2 : 1);
  if (st != MACE_OK)
    return st;
  MaceDataType src = ctx->in[0]->dtype;
  MaceDataType dst = like ? ctx->in[1]->dtype
                          : (MaceDataType)mace_attr_int (ctx->node, "to", 0);
  if (!cast_type_ok (src))
    return unsupported_type (ctx, src);
  if (!cast_type_ok (dst))
    return unsupported_type (ctx, dst);
  mace_tensor_init (ctx->out[0], dst, ctx->in[0]->ndim, ctx->in[0]->dims);
  return MACE_OK;
}

static MaceStatus
run_cast (MaceOpCtx *ctx)
{
  CastParam q = { ctx->in[0]->dtype, ctx->out[0]->dtype };
  if (q.src == q.dst) {
    memcpy (ctx->out[0]->data, ctx->in[0]->data,
            mace_tensor_nbytes (ctx->in[0]));
    return MACE_OK;
  }
  mace_bcast_run (ctx->pool, ctx->out[0], 1, ctx->in, cast_kernel, &q);
  return MACE_OK;
}

/* ---- Identity, Dropout, Size ------------------------------------------ */

static MaceStatus
run_identity (MaceOpCtx *ctx)
{
  size_t n = mace_tensor_nbytes (ctx->in[0]);
  if (n)
    memcpy (ctx->out[0]->data, ctx->in[0]->data, n);
  return MACE_OK;
}

static MaceStatus
infer_identity (MaceOpCtx *ctx)
{
  MaceStatus st = need_inputs (ctx, 1);
  if (st != MACE_OK)
    return st;
  if (mace_dtype_size (ctx->in[0]->dtype) == 0)
    return unsupported_type (ctx, ctx->in[0]->dtype);
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
infer_dropout (MaceOpCtx *ctx)
{
  MaceStatus st = need_inputs (ctx, 1);
  if (st != MACE_OK)
    return st;
  const MaceTensor *x = ctx->in[0];
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, x->dims);
  if (ctx->n_out > 1 && ctx->out[1])
    mace_tensor_init (ctx->out[1],
                      ctx->opset >= 10 ? MACE_DTYPE_BOOL : x->dtype, x->ndim,
                      x->dims);
  return MACE_OK;
}

static MaceStatus
run_dropout (MaceOpCtx *ctx)
{
  /* Training mode (input 2, opset 12+) would need random masks. */
  if (ctx->opset >= 12 && ctx->n_in > 2 && ctx->in[2] && ctx->in[2]->data
      && mace_tensor_numel (ctx->in[2]) > 0
      && mace_tensor_get_f64 (ctx->in[2], 0) != 0) {
    double ratio = ctx->n_in > 1 && ctx->in[1] && ctx->in[1]->data
                       ? mace_tensor_get_f64 (ctx->in[1], 0)
                       : 0.5;
    if (ratio != 0)
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED,
                           "training_mode is true: random dropout is not "
                           "supported for inference");
  }
  run_identity (ctx);
  if (ctx->n_out > 1 && ctx->out[1]) {
    MaceTensor *m = ctx->out[1];
    int64_t n = mace_tensor_numel (m);
    if (m->dtype == MACE_DTYPE_BOOL) {
      memset (m->data, 1, (size_t)n);
    } else {
      uint8_t one = 1;
      CastParam q = { MACE_DTYPE_BOOL, m->dtype };
      char *p[2] = { m->data, (char *)&one };
      int64_t s[2] = { 1, 0 };
      for (int64_t i = 0; i < n; i++) {
        p[0] = (char *)m->data + (size_t)i * mace_dtype_size (m->dtype);
        cast_kernel (p, s, 1, &q);
      }
    }
  }
  return MACE_OK;
}

static MaceStatus
infer_size (MaceOpCtx *ctx)
{
  MaceStatus st = need_inputs (ctx, 1);
  if (st == MACE_OK)
    mace_tensor_init (ctx->out[0], MACE_DTYPE_INT64, 0, NULL);
  return st;
}

static MaceStatus
run_size (MaceOpCtx *ctx)
{
  *(int64_t *)ctx->out[0]->data = mace_tensor_numel (ctx->in[0]);
  return MACE_OK;
}

/* ---- Table ------------------------------------------------------------ */

#define SIMPLE(name, fn)                                                       \
  {                                                                            \
    name, NULL, infer_##fn, run_##fn, 0, NULL                                  \
  }

const MaceOpDef mace_ops_elementwise[] = {
  SIMPLE ("Add", add),
  SIMPLE ("Sub", sub),
  SIMPLE ("Mul", mul),
  SIMPLE ("Div", div),
  SIMPLE ("Pow", pow),
  SIMPLE ("Mod", mod),
  { "Max", check_variadic, infer_variadic, run_variadic, 0, NULL },
  { "Min", check_variadic, infer_variadic, run_variadic, 0, NULL },
  { "Sum", check_variadic, infer_variadic, run_variadic, 0, NULL },
  { "Mean", check_variadic, infer_variadic, run_variadic, 0, NULL },
  SIMPLE ("Sqrt", sqrt),
  SIMPLE ("Exp", exp),
  SIMPLE ("Log", log),
  SIMPLE ("Neg", neg),
  SIMPLE ("Abs", abs),
  SIMPLE ("Reciprocal", recip),
  SIMPLE ("Ceil", ceil),
  SIMPLE ("Floor", floor),
  SIMPLE ("Round", round),
  SIMPLE ("Sign", sign),
  SIMPLE ("Erf", erf),
  SIMPLE ("Sin", sin),
  SIMPLE ("Cos", cos),
  SIMPLE ("Tan", tan),
  SIMPLE ("Asin", asin),
  SIMPLE ("Acos", acos),
  SIMPLE ("Atan", atan),
  SIMPLE ("Sinh", sinh),
  SIMPLE ("Cosh", cosh),
  SIMPLE ("Asinh", asinh),
  SIMPLE ("Acosh", acosh),
  SIMPLE ("Atanh", atanh),
  SIMPLE ("IsNaN", isnan),
  SIMPLE ("IsInf", isinf),
  SIMPLE ("Not", not ),
  SIMPLE ("And", and),
  SIMPLE ("Or", or),
  SIMPLE ("Xor", xor),
  { "BitShift", check_bitshift, infer_bitshift, run_bitshift, 0, NULL },
  SIMPLE ("Equal", equal),
  SIMPLE ("Less", less),
  SIMPLE ("Greater", greater),
  SIMPLE ("LessOrEqual", less_equal),
  SIMPLE ("GreaterOrEqual", greater_equal),
  SIMPLE ("Where", where),
  { "Cast", check_cast, infer_cast, run_cast, 0, NULL },
  { "CastLike", check_cast, infer_cast, run_cast, 0, NULL },
  SIMPLE ("Identity", identity),
  SIMPLE ("Dropout", dropout),
  SIMPLE ("Size", size),
  { NULL, NULL, NULL, NULL, 0, NULL },
};
