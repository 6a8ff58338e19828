/* SPDX-License-Identifier: Apache-2.0
 * Elementwise ops against plain reference loops on seeded random inputs:
 * every broadcasting pattern the kernels special-case (same shape, scalar,
 * per channel, general, different ranks, empty), integer and bool types,
 * Where, Cast between types, and float16 through float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/broadcast.h"

/* ---- Helpers ---------------------------------------------------------- */

static void
set_num (MaceTensor *t, int64_t i, double v, int64_t iv, bool use_int)
{
  void *d = t->data;
  switch (t->dtype) {
    case MACE_DTYPE_FLOAT32: ((float *)d)[i] = (float)v; break;
    case MACE_DTYPE_FLOAT64: ((double *)d)[i] = v; break;
    case MACE_DTYPE_FLOAT16:
      ((uint16_t *)d)[i] = mace_f32_to_half ((float)v);
      break;
    case MACE_DTYPE_INT8: ((int8_t *)d)[i] = (int8_t)iv; break;
    case MACE_DTYPE_INT16: ((int16_t *)d)[i] = (int16_t)iv; break;
    case MACE_DTYPE_INT32: ((int32_t *)d)[i] = (int32_t)iv; break;
    case MACE_DTYPE_INT64: ((int64_t *)d)[i] = iv; break;
    case MACE_DTYPE_UINT8: ((uint8_t *)d)[i] = (uint8_t)iv; break;
    case MACE_DTYPE_UINT16: ((uint16_t *)d)[i] = (uint16_t)iv; break;
    case MACE_DTYPE_UINT32: ((uint32_t *)d)[i] = (uint32_t)iv; break;
    case MACE_DTYPE_UINT64: ((uint64_t *)d)[i] = (uint64_t)iv; break;
    case MACE_DTYPE_BOOL: ((uint8_t *)d)[i] = use_int ? iv != 0 : v != 0; break;
    default: break;
  }
  (void)use_int;
}

static bool
is_float (MaceDataType dt)
{
  return dt == MACE_DTYPE_FLOAT32 || dt == MACE_DTYPE_FLOAT64
         || dt == MACE_DTYPE_FLOAT16;
}

/* Random tensor: floats uniform in [lo, hi), integers in [lo, hi]. */
static MaceTensor *
rand_tensor (MaceDataType dt, int nd, const int64_t *dims, double lo, double hi)
{
  MaceTensor *t = th_tensor (dt, nd, dims);
  int64_t n = mace_tensor_numel (t);
  for (int64_t i = 0; i < n; i++) {
    if (is_float (dt)) {
      set_num (t, i, th_uniform ((float)lo, (float)hi), 0, false);
    } else {
      int64_t span = (int64_t)(hi - lo) + 1;
      int64_t v = (int64_t)lo + (int64_t)(th_rand_u32 () % (uint64_t)span);
      set_num (t, i, 0, v, true);
    }
  }
  return t;
}

/* Linear index into `t` of output element `o` of shape (nd, dims). */
static int64_t
bcast_index (const MaceTensor *t, int nd, const int64_t *dims, int64_t o)
{
  int64_t idx = 0, stride = 1;
  for (int d = nd - 1; d >= 0; d--) {
    int64_t c = o % dims[d];
    o /= dims[d];
    int j = d - (nd - t->ndim);
    if (j >= 0) {
      if (t->dims[j] != 1)
        idx += c * stride;
      stride *= t->dims[j];
    }
  }
  return idx;
}

static void
out_shape (MaceTensor **in, int n, int *nd, int64_t *dims)
{
  *nd = in[0]->ndim;
  memcpy (dims, in[0]->dims, sizeof (int64_t) * (size_t)*nd);
  for (int i = 1; i < n; i++)
    mace_broadcast_shape (*nd, dims, in[i]->ndim, in[i]->dims, nd, dims);
}

/* Runs op on inputs; returns output 0 (NULL on failure, recorded). */
static MaceTensor *
run1 (const char *what, ThNode *node, int64_t opset, MaceTensor **in,
      int threads)
{
  MaceTensor *out[2] = { NULL, NULL };
  MaceStatus st = th_run_op (node, opset, in, out, threads);
  if (st != MACE_OK) {
    th_fail (what, "run failed: %s", mace_status_to_string (st));
    for (int i = 0; i < 2; i++)
      mace_tensor_free (out[i]);
    return NULL;
  }
  mace_tensor_free (out[1]);
  return out[0];
}

typedef double (*RefF) (double x, double y);
typedef int64_t (*RefI) (int64_t x, int64_t y);

/* Binary op on (a, b) compared with ref over every output element. */
static void
check_binary (const char *op, MaceDataType dt, MaceDataType out_dt, int na,
              const int64_t *da, int nb, const int64_t *db, double lo,
              double hi, RefF rf, RefI ri, int64_t fmod_attr, int threads,
              double rtol)
{
  char what[160];
  char sa[64], sb[64];
  snprintf (what, sizeof what, "%s %s %s,%s t%d", op, mace_dtype_name (dt),
            mace_shape_str (na, da, sa, sizeof sa),
            mace_shape_str (nb, db, sb, sizeof sb), threads);
  MaceTensor *in[2]
      = { rand_tensor (dt, na, da, lo, hi), rand_tensor (dt, nb, db, lo, hi) };
  if (ri || !strcmp (op, "Div") || !strcmp (op, "Mod")) {
    /* Keep divisors away from zero. */
    int64_t n = mace_tensor_numel (in[1]);
    for (int64_t i = 0; i < n; i++)
      if (mace_tensor_get_f64 (in[1], i) == 0)
        set_num (in[1], i, 1.5, 1, true);
  }
  ThNode *node = th_node_new (op, 2, 1);
  if (fmod_attr >= 0)
    th_attr_int (node, "fmod", fmod_attr);
  MaceTensor *got = run1 (what, node, 17, in, threads);
  if (got) {
    int nd;
    int64_t dims[MACE_MAX_DIMS];
    out_shape (in, 2, &nd, dims);
    MaceTensor *want = th_tensor (out_dt, nd, dims);
    int64_t n = mace_tensor_numel (want);
    for (int64_t o = 0; o < n; o++) {
      int64_t ia = bcast_index (in[0], nd, dims, o);
      int64_t ib = bcast_index (in[1], nd, dims, o);
      if (ri) {
        int64_t v = ri (mace_tensor_get_i64 (in[0], ia),
                        mace_tensor_get_i64 (in[1], ib));
        set_num (want, o, (double)v, v, true);
      } else {
        double v = rf (mace_tensor_get_f64 (in[0], ia),
                       mace_tensor_get_f64 (in[1], ib));
        set_num (want, o, v, (int64_t)v, false);
      }
    }
    th_check_close (what, got, want, rtol, rtol > 0 ? 1e-6 : 0);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
}

/* ---- References ------------------------------------------------------- */

static double
r_add (double x, double y)
{
  return x + y;
}
static double
r_sub (double x, double y)
{
  return x - y;
}
static double
r_mul (double x, double y)
{
  return x * y;
}
static double
r_div (double x, double y)
{
  return x / y;
}
static double
r_pow (double x, double y)
{
  return pow (x, y);
}
static double
r_max (double x, double y)
{
  return x > y ? x : y;
}
static double
r_min (double x, double y)
{
  return x < y ? x : y;
}
static double
r_fmod (double x, double y)
{
  return fmod (x, y);
}
static double
r_eq (double x, double y)
{
  return x == y;
}
static double
r_lt (double x, double y)
{
  return x < y;
}
static double
r_gt (double x, double y)
{
  return x > y;
}
static double
r_le (double x, double y)
{
  return x <= y;
}
static double
r_ge (double x, double y)
{
  return x >= y;
}
static int64_t
i_add (int64_t x, int64_t y)
{
  return x + y;
}
static int64_t
i_sub (int64_t x, int64_t y)
{
  return x - y;
}
static int64_t
i_mul (int64_t x, int64_t y)
{
  return x * y;
}
static int64_t
i_div (int64_t x, int64_t y)
{
  return x / y;
}
static int64_t
i_max (int64_t x, int64_t y)
{
  return x > y ? x : y;
}
static int64_t
i_min (int64_t x, int64_t y)
{
  return x < y ? x : y;
}
static int64_t
i_fmod (int64_t x, int64_t y)
{
  return x % y;
}
static int64_t
i_pymod (int64_t x, int64_t y)
{
  int64_t r = x % y;
  return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
static int64_t
i_pow (int64_t x, int64_t y)
{
  int64_t r = 1;
  for (int64_t i = 0; i < y; i++)
    r *= x;
  return r;
}
static int64_t
i_and (int64_t x, int64_t y)
{
  return x && y;
}
static int64_t
i_or (int64_t x, int64_t y)
{
  return x || y;
}
static int64_t
i_xor (int64_t x, int64_t y)
{
  return !x != !y;
}
static int64_t
i_shl (int64_t x, int64_t y)
{
  return (int64_t)((uint64_t)x << y);
}
static int64_t
i_shr (int64_t x, int64_t y)
{
  return x >> y;
}
static int64_t
i_eq (int64_t x, int64_t y)
{
  return x == y;
}
static int64_t
i_lt (int64_t x, int64_t y)
{
  return x < y;
}

/* ---- Binary tests ----------------------------------------------------- */

typedef struct {
  int na, nb;
  int64_t a[4], b[4];
} ShapePair;

/* same, scalar, scalar first, per channel, general, different ranks,
 * empty */
static const ShapePair shapes[] = {
  { 4, 4, { 2, 3, 4, 5 }, { 2, 3, 4, 5 } },
  { 4, 0, { 2, 3, 4, 5 }, { 0 } },
  { 0, 3, { 0 }, { 3, 4, 5 } },
  { 4, 3, { 2, 3, 4, 5 }, { 3, 1, 1 } },
  { 4, 3, { 2, 1, 4, 1 }, { 3, 1, 5 } },
  { 1, 4, { 5 }, { 2, 3, 4, 5 } },
  { 2, 1, { 7, 1 }, { 1 } },
  { 2, 1, { 0, 3 }, { 3 } },
};

static void
test_float_binary (void)
{
  static const struct {
    const char *op;
    RefF ref;
    double lo, hi;
  } ops[] = {
    { "Add", r_add, -5, 5 },  { "Sub", r_sub, -5, 5 },  { "Mul", r_mul, -5, 5 },
    { "Div", r_div, 0.5, 5 }, { "Pow", r_pow, 0.1, 3 }, { "Max", r_max, -5, 5 },
    { "Min", r_min, -5, 5 },  { "Mod", r_fmod, -5, 5 },
  };
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (int t = 0; t < 2; t++)
        check_binary (ops[o].op, t ? MACE_DTYPE_FLOAT64 : MACE_DTYPE_FLOAT32,
                      t ? MACE_DTYPE_FLOAT64 : MACE_DTYPE_FLOAT32, shapes[s].na,
                      shapes[s].a, shapes[s].nb, shapes[s].b, ops[o].lo,
                      ops[o].hi, ops[o].ref, NULL,
                      strcmp (ops[o].op, "Mod") ? -1 : 1, 1, 1e-5);
  /* Large enough to be split over threads: per channel and same shape. */
  int64_t big[] = { 2, 32, 40, 40 }, ch[] = { 32, 1, 1 }, row[] = { 40 };
  check_binary ("Add", MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32, 4, big, 3, ch,
                -1, 1, r_add, NULL, -1, 2, 1e-6);
  check_binary ("Mul", MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32, 4, big, 4, big,
                -1, 1, r_mul, NULL, -1, 2, 1e-6);
  check_binary ("Sub", MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32, 3, ch, 4, big,
                -1, 1, r_sub, NULL, -1, 2, 1e-6);
  check_binary ("Div", MACE_DTYPE_FLOAT32, MACE_DTYPE_FLOAT32, 4, big, 1, row,
                1, 2, r_div, NULL, -1, 2, 1e-6);
  /* Pow by a scalar 2 and 0.5 takes a shortcut. */
  MaceTensor *in[2] = { rand_tensor (MACE_DTYPE_FLOAT32, 4, big, 0, 3),
                        th_tensor (MACE_DTYPE_FLOAT32, 0, NULL) };
  for (int k = 0; k < 3; k++) {
    float e = k == 0 ? 2.0f : k == 1 ? 0.5f : 3.0f;
    *(float *)in[1]->data = e;
    ThNode *node = th_node_new ("Pow", 2, 1);
    MaceTensor *got = run1 ("Pow scalar", node, 15, in, 1);
    if (got) {
      MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 4, big);
      for (int64_t i = 0; i < mace_tensor_numel (want); i++)
        ((float *)want->data)[i] = (float)pow (((float *)in[0]->data)[i], e);
      th_check_close ("Pow scalar", got, want, 1e-6, 1e-6);
      mace_tensor_free (want);
      mace_tensor_free (got);
    }
    th_node_free (node);
  }
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
}

static void
test_int_binary (void)
{
  static const MaceDataType types[] = {
    MACE_DTYPE_INT32,
    MACE_DTYPE_INT64,
    MACE_DTYPE_INT8,
    MACE_DTYPE_INT16,
  };
  static const struct {
    const char *op;
    RefI ref;
    int64_t fmod;
  } ops[] = {
    { "Add", i_add, -1 }, { "Sub", i_sub, -1 },  { "Mul", i_mul, -1 },
    { "Div", i_div, -1 }, { "Max", i_max, -1 },  { "Min", i_min, -1 },
    { "Mod", i_fmod, 1 }, { "Mod", i_pymod, 0 },
  };
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
      for (size_t s = 0; s < 6; s++)
        check_binary (ops[o].op, types[t], types[t], shapes[s].na, shapes[s].a,
                      shapes[s].nb, shapes[s].b, -9, 9, NULL, ops[o].ref,
                      ops[o].fmod, 1, 0);
  /* Unsigned */
  static const MaceDataType utypes[] = { MACE_DTYPE_UINT8, MACE_DTYPE_UINT16,
                                         MACE_DTYPE_UINT32, MACE_DTYPE_UINT64 };
  for (size_t t = 0; t < 4; t++) {
    check_binary ("Add", utypes[t], utypes[t], 4, shapes[3].a, 3, shapes[3].b,
                  0, 100, NULL, i_add, -1, 1, 0);
    check_binary ("Div", utypes[t], utypes[t], 4, shapes[4].a, 3, shapes[4].b,
                  0, 100, NULL, i_div, -1, 1, 0);
    check_binary ("Mod", utypes[t], utypes[t], 1, shapes[5].a, 4, shapes[5].b,
                  0, 100, NULL, i_fmod, 0, 1, 0);
  }
  /* Integer Pow (exponents >= 0) and Pow with mixed types. */
  int64_t d[] = { 3, 4 };
  check_binary ("Pow", MACE_DTYPE_INT64, MACE_DTYPE_INT64, 2, d, 2, d, 0, 5,
                NULL, i_pow, -1, 1, 0);
  check_binary ("Pow", MACE_DTYPE_INT32, MACE_DTYPE_INT32, 2, d, 0, d, 0, 5,
                NULL, i_pow, -1, 1, 0);
  MaceTensor *in[2] = { rand_tensor (MACE_DTYPE_FLOAT32, 2, d, 0.5, 3),
                        rand_tensor (MACE_DTYPE_INT64, 1, d + 1, 0, 3) };
  ThNode *node = th_node_new ("Pow", 2, 1);
  MaceTensor *got = run1 ("Pow f32^i64", node, 15, in, 1);
  if (got) {
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 2, d);
    for (int64_t i = 0; i < 12; i++)
      ((float *)want->data)[i] = (float)pow (
          ((float *)in[0]->data)[i], (double)((int64_t *)in[1]->data)[i % 4]);
    th_check_close ("Pow f32^i64", got, want, 1e-6, 1e-6);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
  /* Exact edge cases: truncating division, Python and C remainders. */
  MaceTensor *a = th_tensor (MACE_DTYPE_INT32, 1, (int64_t[]){ 4 });
  MaceTensor *b = th_tensor (MACE_DTYPE_INT32, 1, (int64_t[]){ 4 });
  int32_t av[] = { 7, -7, 7, -7 }, bv[] = { 2, 2, -2, -2 };
  memcpy (a->data, av, sizeof av);
  memcpy (b->data, bv, sizeof bv);
  struct {
    const char *op;
    int64_t fmod;
    int32_t want[4];
  } cases[] = {
    { "Div", -1, { 3, -3, -3, 3 } },
    { "Mod", 0, { 1, 1, -1, -1 } },
    { "Mod", 1, { 1, -1, 1, -1 } },
  };
  for (int c = 0; c < 3; c++) {
    MaceTensor *pair[2] = { a, b };
    ThNode *n2 = th_node_new (cases[c].op, 2, 1);
    if (cases[c].fmod >= 0)
      th_attr_int (n2, "fmod", cases[c].fmod);
    MaceTensor *g = run1 (cases[c].op, n2, 13, pair, 1);
    if (g && memcmp (g->data, cases[c].want, sizeof av) != 0) {
      const int32_t *gv = g->data;
      th_fail (cases[c].op, "int32 signs: got %d %d %d %d", gv[0], gv[1], gv[2],
               gv[3]);
    }
    mace_tensor_free (g);
    th_node_free (n2);
  }
  mace_tensor_free (a);
  mace_tensor_free (b);
}

static void
test_compare_logic (void)
{
  static const struct {
    const char *op;
    RefF ref;
  } cmp[] = {
    { "Equal", r_eq },       { "Less", r_lt },           { "Greater", r_gt },
    { "LessOrEqual", r_le }, { "GreaterOrEqual", r_ge },
  };
  for (size_t o = 0; o < 5; o++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      /* Integers in a small range make equality common. */
      check_binary (cmp[o].op, MACE_DTYPE_INT32, MACE_DTYPE_BOOL, shapes[s].na,
                    shapes[s].a, shapes[s].nb, shapes[s].b, -3, 3, cmp[o].ref,
                    NULL, -1, 1, 0);
      check_binary (cmp[o].op, MACE_DTYPE_FLOAT32, MACE_DTYPE_BOOL,
                    shapes[s].na, shapes[s].a, shapes[s].nb, shapes[s].b, -1, 1,
                    cmp[o].ref, NULL, -1, 1, 0);
    }
  check_binary ("Less", MACE_DTYPE_UINT64, MACE_DTYPE_BOOL, 4, shapes[3].a, 3,
                shapes[3].b, 0, 5, NULL, i_lt, -1, 1, 0);
  check_binary ("Equal", MACE_DTYPE_BOOL, MACE_DTYPE_BOOL, 4, shapes[4].a, 3,
                shapes[4].b, 0, 1, NULL, i_eq, -1, 1, 0);
  static const struct {
    const char *op;
    RefI ref;
  } logic[] = { { "And", i_and }, { "Or", i_or }, { "Xor", i_xor } };
  for (size_t o = 0; o < 3; o++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      check_binary (logic[o].op, MACE_DTYPE_BOOL, MACE_DTYPE_BOOL, shapes[s].na,
                    shapes[s].a, shapes[s].nb, shapes[s].b, 0, 1, NULL,
                    logic[o].ref, -1, 1, 0);
  /* BitShift */
  static const MaceDataType ut[] = { MACE_DTYPE_UINT8, MACE_DTYPE_UINT16,
                                     MACE_DTYPE_UINT32, MACE_DTYPE_UINT64 };
  for (int t = 0; t < 4; t++)
    for (int dir = 0; dir < 2; dir++) {
      int64_t d[] = { 3, 5 };
      MaceTensor *in[2] = { rand_tensor (ut[t], 2, d, 0, 255),
                            rand_tensor (ut[t], 1, d + 1, 0, 7) };
      ThNode *node = th_node_new ("BitShift", 2, 1);
      th_attr_string (node, "direction", dir ? "RIGHT" : "LEFT");
      MaceTensor *got = run1 ("BitShift", node, 11, in, 1);
      if (got) {
        MaceTensor *want = th_tensor (ut[t], 2, d);
        for (int64_t i = 0; i < 15; i++) {
          int64_t v
              = (dir ? i_shr : i_shl) (mace_tensor_get_i64 (in[0], i),
                                       mace_tensor_get_i64 (in[1], i % 5));
          set_num (want, i, 0, v, true);
        }
        th_check_close ("BitShift", got, want, 0, 0);
        mace_tensor_free (want);
        mace_tensor_free (got);
      }
      th_node_free (node);
      mace_tensor_free (in[0]);
      mace_tensor_free (in[1]);
    }
  /* Not */
  int64_t d[] = { 4, 7 };
  MaceTensor *x = rand_tensor (MACE_DTYPE_BOOL, 2, d, 0, 1);
  ThNode *node = th_node_new ("Not", 1, 1);
  MaceTensor *got = run1 ("Not", node, 13, &x, 1);
  if (got) {
    for (int64_t i = 0; i < 28; i++)
      if (((uint8_t *)got->data)[i] != !((uint8_t *)x->data)[i])
        th_fail ("Not", "element %lld", (long long)i);
    mace_tensor_free (got);
  }
  th_node_free (node);
  mace_tensor_free (x);
}

/* ---- Unary ------------------------------------------------------------ */

static double
u_neg (double x)
{
  return -x;
}
static double
u_recip (double x)
{
  return 1 / x;
}
static double
u_sign (double x)
{
  return (x > 0) - (x < 0);
}
static double
u_round (double x)
{
  return nearbyint (x);
}

static void
test_unary (void)
{
  static const struct {
    const char *op;
    double (*ref) (double);
    double lo, hi;
  } ops[] = {
    { "Sqrt", sqrt, 0, 10 },     { "Exp", exp, -10, 10 },
    { "Log", log, 0.01, 10 },    { "Neg", u_neg, -5, 5 },
    { "Abs", fabs, -5, 5 },      { "Reciprocal", u_recip, 0.5, 5 },
    { "Ceil", ceil, -5, 5 },     { "Floor", floor, -5, 5 },
    { "Round", u_round, -5, 5 }, { "Sign", u_sign, -5, 5 },
    { "Erf", erf, -3, 3 },       { "Sin", sin, -5, 5 },
    { "Cos", cos, -5, 5 },       { "Tan", tan, -1.5, 1.5 },
    { "Asin", asin, -1, 1 },     { "Acos", acos, -1, 1 },
    { "Atan", atan, -5, 5 },     { "Sinh", sinh, -5, 5 },
    { "Cosh", cosh, -5, 5 },     { "Asinh", asinh, -5, 5 },
    { "Acosh", acosh, 1, 10 },   { "Atanh", atanh, -0.99, 0.99 },
  };
  int64_t d[] = { 3, 7, 11 };
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (int t = 0; t < 2; t++) {
      MaceDataType dt = t ? MACE_DTYPE_FLOAT64 : MACE_DTYPE_FLOAT32;
      MaceTensor *x = rand_tensor (dt, 3, d, ops[o].lo, ops[o].hi);
      if (!strcmp (ops[o].op, "Round")) /* ties go to even */
        set_num (x, 0, 2.5, 0, false), set_num (x, 1, -1.5, 0, false);
      ThNode *node = th_node_new (ops[o].op, 1, 1);
      char what[64];
      snprintf (what, sizeof what, "%s %s", ops[o].op, mace_dtype_name (dt));
      MaceTensor *got = run1 (what, node, 13, &x, 1);
      if (got) {
        MaceTensor *want = th_tensor (dt, 3, d);
        for (int64_t i = 0; i < mace_tensor_numel (x); i++)
          set_num (want, i, ops[o].ref (mace_tensor_get_f64 (x, i)), 0, false);
        th_check_close (what, got, want, t ? 1e-12 : 2e-6, 1e-6);
        mace_tensor_free (want);
        mace_tensor_free (got);
      }
      th_node_free (node);
      mace_tensor_free (x);
    }
  /* Integer Abs / Neg / Sign */
  static const char *const iops[] = { "Abs", "Neg", "Sign" };
  for (int o = 0; o < 3; o++) {
    MaceTensor *x = rand_tensor (MACE_DTYPE_INT32, 3, d, -50, 50);
    ThNode *node = th_node_new (iops[o], 1, 1);
    MaceTensor *got = run1 (iops[o], node, 13, &x, 1);
    if (got) {
      MaceTensor *want = th_tensor (MACE_DTYPE_INT32, 3, d);
      for (int64_t i = 0; i < mace_tensor_numel (x); i++) {
        int32_t v = ((int32_t *)x->data)[i];
        ((int32_t *)want->data)[i] = o == 0   ? abs (v)
                                     : o == 1 ? -v
                                              : (v > 0) - (v < 0);
      }
      th_check_close (iops[o], got, want, 0, 0);
      mace_tensor_free (want);
      mace_tensor_free (got);
    }
    th_node_free (node);
    mace_tensor_free (x);
  }
  /* IsNaN / IsInf */
  float vals[] = { 1.0f, NAN, INFINITY, -INFINITY, -0.0f, 3e38f };
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, 1, (int64_t[]){ 6 });
  memcpy (x->data, vals, sizeof vals);
  static const struct {
    const char *op;
    int neg, pos;
    uint8_t want[6];
  } cases[] = {
    { "IsNaN", -1, -1, { 0, 1, 0, 0, 0, 0 } },
    { "IsInf", -1, -1, { 0, 0, 1, 1, 0, 0 } },
    { "IsInf", 0, 1, { 0, 0, 1, 0, 0, 0 } },
    { "IsInf", 1, 0, { 0, 0, 0, 1, 0, 0 } },
  };
  for (int c = 0; c < 4; c++) {
    ThNode *node = th_node_new (cases[c].op, 1, 1);
    if (cases[c].neg >= 0) {
      th_attr_int (node, "detect_negative", cases[c].neg);
      th_attr_int (node, "detect_positive", cases[c].pos);
    }
    MaceTensor *got = run1 (cases[c].op, node, 20, &x, 1);
    if (got
        && (got->dtype != MACE_DTYPE_BOOL
            || memcmp (got->data, cases[c].want, 6) != 0))
      th_fail (cases[c].op, "case %d wrong", c);
    mace_tensor_free (got);
    th_node_free (node);
  }
  mace_tensor_free (x);
}

/* ---- Variadic, Where -------------------------------------------------- */

static void
test_variadic (void)
{
  static const char *const ops[] = { "Sum", "Mean", "Max", "Min" };
  int64_t d0[] = { 2, 3, 4 }, d1[] = { 3, 1 }, d2[] = { 4 };
  for (int o = 0; o < 4; o++)
    for (int n = 1; n <= 3; n++) {
      MaceTensor *in[3] = {
        rand_tensor (MACE_DTYPE_FLOAT32, n == 1 ? 3 : 2, n == 1 ? d0 : d1, -5,
                     5),
        rand_tensor (MACE_DTYPE_FLOAT32, 3, d0, -5, 5),
        rand_tensor (MACE_DTYPE_FLOAT32, 1, d2, -5, 5),
      };
      ThNode *node = th_node_new (ops[o], n, 1);
      char what[64];
      snprintf (what, sizeof what, "%s of %d", ops[o], n);
      MaceTensor *got = run1 (what, node, 13, in, 1);
      if (got) {
        int nd;
        int64_t dims[MACE_MAX_DIMS];
        out_shape (in, n, &nd, dims);
        MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, nd, dims);
        for (int64_t e = 0; e < mace_tensor_numel (want); e++) {
          double acc = 0;
          for (int k = 0; k < n; k++) {
            double v
                = mace_tensor_get_f64 (in[k], bcast_index (in[k], nd, dims, e));
            if (k == 0 || o < 2)
              acc = k == 0 ? v : acc + v;
            else
              acc = o == 2 ? fmax (acc, v) : fmin (acc, v);
          }
          ((float *)want->data)[e] = (float)(o == 1 ? acc / n : acc);
        }
        th_check_close (what, got, want, 1e-6, 1e-6);
        mace_tensor_free (want);
        mace_tensor_free (got);
      }
      th_node_free (node);
      for (int k = 0; k < 3; k++)
        mace_tensor_free (in[k]);
    }
  /* Integer Max of three. */
  MaceTensor *in[3] = { rand_tensor (MACE_DTYPE_INT64, 3, d0, -100, 100),
                        rand_tensor (MACE_DTYPE_INT64, 2, d1, -100, 100),
                        rand_tensor (MACE_DTYPE_INT64, 1, d2, -100, 100) };
  ThNode *node = th_node_new ("Max", 3, 1);
  MaceTensor *got = run1 ("Max int64", node, 13, in, 1);
  if (got) {
    MaceTensor *want = th_tensor (MACE_DTYPE_INT64, 3, d0);
    for (int64_t e = 0; e < 24; e++) {
      int64_t m = INT64_MIN;
      for (int k = 0; k < 3; k++) {
        int64_t v = mace_tensor_get_i64 (in[k], bcast_index (in[k], 3, d0, e));
        m = v > m ? v : m;
      }
      ((int64_t *)want->data)[e] = m;
    }
    th_check_close ("Max int64", got, want, 0, 0);
    mace_tensor_free (want);
    mace_tensor_free (got);
  }
  th_node_free (node);
  for (int k = 0; k < 3; k++)
    mace_tensor_free (in[k]);
}

static void
test_where (void)
{
  static const MaceDataType types[] = { MACE_DTYPE_FLOAT32, MACE_DTYPE_INT64,
                                        MACE_DTYPE_UINT8, MACE_DTYPE_INT16 };
  struct {
    int n[3];
    int64_t d[3][4];
  } cases[] = {
    { { 3, 3, 3 }, { { 2, 3, 4 }, { 2, 3, 4 }, { 2, 3, 4 } } },
    { { 3, 0, 1 }, { { 2, 3, 4 }, { 0 }, { 4 } } },
    { { 2, 3, 1 }, { { 3, 1 }, { 2, 1, 4 }, { 1 } } },
    { { 1, 2, 3 }, { { 5 }, { 4, 1 }, { 2, 1, 5 } } },
    { { 4, 4, 0 }, { { 2, 16, 32, 40 }, { 2, 16, 32, 40 }, { 0 } } },
  };
  for (size_t t = 0; t < 4; t++)
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      MaceTensor *in[3] = {
        rand_tensor (MACE_DTYPE_BOOL, cases[c].n[0], cases[c].d[0], 0, 1),
        rand_tensor (types[t], cases[c].n[1], cases[c].d[1], 0, 100),
        rand_tensor (types[t], cases[c].n[2], cases[c].d[2], 0, 100),
      };
      ThNode *node = th_node_new ("Where", 3, 1);
      char what[64];
      snprintf (what, sizeof what, "Where %s case %zu",
                mace_dtype_name (types[t]), c);
      MaceTensor *got = run1 (what, node, 16, in, c == 4 ? 2 : 1);
      if (got) {
        int nd;
        int64_t dims[MACE_MAX_DIMS];
        out_shape (in, 3, &nd, dims);
        MaceTensor *want = th_tensor (types[t], nd, dims);
        for (int64_t e = 0; e < mace_tensor_numel (want); e++) {
          bool cv
              = mace_tensor_get_f64 (in[0], bcast_index (in[0], nd, dims, e));
          MaceTensor *src = cv ? in[1] : in[2];
          double v = mace_tensor_get_f64 (src, bcast_index (src, nd, dims, e));
          set_num (want, e, v, (int64_t)v, false);
        }
        th_check_close (what, got, want, 0, 0);
        mace_tensor_free (want);
        mace_tensor_free (got);
      }
      th_node_free (node);
      for (int k = 0; k < 3; k++)
        mace_tensor_free (in[k]);
    }
}

/* ---- Cast, Identity, Dropout, Size, float16 --------------------------- */

static MaceTensor *
run_cast (MaceTensor *x, MaceDataType to)
{
  ThNode *node = th_node_new ("Cast", 1, 1);
  th_attr_int (node, "to", to);
  char what[64];
  snprintf (what, sizeof what, "Cast %s->%s", mace_dtype_name (x->dtype),
            mace_dtype_name (to));
  MaceTensor *got = run1 (what, node, 13, &x, 1);
  th_node_free (node);
  return got;
}

static void
test_cast (void)
{
  int64_t d[] = { 6 };
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, 1, d);
  float xv[] = { -2.75f, -0.5f, 0.0f, 1.5f, 200.9f, 65519.0f };
  memcpy (x->data, xv, sizeof xv);
  struct {
    MaceDataType to;
    double want[6];
  } cases[] = {
    { MACE_DTYPE_INT32, { -2, 0, 0, 1, 200, 65519 } },
    { MACE_DTYPE_INT64, { -2, 0, 0, 1, 200, 65519 } },
    { MACE_DTYPE_INT8, { -2, 0, 0, 1, -56, -17 } },
    { MACE_DTYPE_UINT8, { 254, 0, 0, 1, 200, 239 } },
    { MACE_DTYPE_BOOL, { 1, 1, 0, 1, 1, 1 } },
    { MACE_DTYPE_FLOAT64, { -2.75, -0.5, 0, 1.5, 200.9f, 65519 } },
    { MACE_DTYPE_FLOAT16, { -2.75, -0.5, 0, 1.5, 200.875, 65504 } },
    { MACE_DTYPE_FLOAT32, { -2.75, -0.5, 0, 1.5, 200.9f, 65519 } },
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    MaceTensor *got = run_cast (x, cases[c].to);
    if (!got)
      continue;
    for (int i = 0; i < 6; i++)
      if (mace_tensor_get_f64 (got, i) != cases[c].want[i])
        th_fail ("Cast", "f32->%s element %d: got %.9g want %.9g",
                 mace_dtype_name (cases[c].to), i, mace_tensor_get_f64 (got, i),
                 cases[c].want[i]);
    mace_tensor_free (got);
  }
  /* Round trips: ints -> float -> ints, bool -> f32, f16 -> f32 -> f16. */
  static const MaceDataType its[]
      = { MACE_DTYPE_INT8,   MACE_DTYPE_INT16,  MACE_DTYPE_INT32,
          MACE_DTYPE_INT64,  MACE_DTYPE_UINT8,  MACE_DTYPE_UINT16,
          MACE_DTYPE_UINT32, MACE_DTYPE_UINT64, MACE_DTYPE_BOOL };
  int64_t big[] = { 300, 70 };
  for (size_t t = 0; t < sizeof its / sizeof its[0]; t++) {
    MaceTensor *a = rand_tensor (its[t], 2, big, 0, 100);
    MaceTensor *f = run_cast (a, MACE_DTYPE_FLOAT64);
    MaceTensor *back = f ? run_cast (f, its[t]) : NULL;
    if (back)
      th_check_close ("Cast round trip", back, a, 0, 0);
    MaceTensor *f16 = run_cast (a, MACE_DTYPE_FLOAT16);
    if (f16) {
      for (int64_t i = 0; i < mace_tensor_numel (a); i++)
        if (mace_tensor_get_f64 (f16, i) != mace_tensor_get_f64 (a, i)) {
          th_fail ("Cast int->f16", "%s element %lld", mace_dtype_name (its[t]),
                   (long long)i);
          break;
        }
    }
    mace_tensor_free (a);
    mace_tensor_free (f);
    mace_tensor_free (back);
    mace_tensor_free (f16);
  }
  /* int32 -> int8 wraps; f64 -> f16 rounds once. */
  MaceTensor *i32 = th_tensor (MACE_DTYPE_INT32, 1, (int64_t[]){ 3 });
  int32_t iv[] = { 300, -129, 127 };
  memcpy (i32->data, iv, sizeof iv);
  MaceTensor *i8 = run_cast (i32, MACE_DTYPE_INT8);
  if (i8
      && (((int8_t *)i8->data)[0] != 44 || ((int8_t *)i8->data)[1] != 127
          || ((int8_t *)i8->data)[2] != 127))
    th_fail ("Cast i32->i8", "no wrap");
  mace_tensor_free (i8);
  mace_tensor_free (i32);
  MaceTensor *f64 = th_tensor (MACE_DTYPE_FLOAT64, 1, (int64_t[]){ 2 });
  /* 1 + 2^-11 + 2^-40: just above a half-way point between two halves;
   * going through float32 first would round to 1.0. */
  ((double *)f64->data)[0] = 1.0 + ldexp (1, -11) + ldexp (1, -40);
  ((double *)f64->data)[1] = -(1.0 + ldexp (1, -11) + ldexp (1, -40));
  MaceTensor *h = run_cast (f64, MACE_DTYPE_FLOAT16);
  if (h
      && (((uint16_t *)h->data)[0] != 0x3c01
          || ((uint16_t *)h->data)[1] != 0xbc01))
    th_fail ("Cast f64->f16", "got %04x %04x", ((uint16_t *)h->data)[0],
             ((uint16_t *)h->data)[1]);
  mace_tensor_free (h);
  mace_tensor_free (f64);
  /* CastLike takes the type of its second input. */
  MaceTensor *like = th_tensor (MACE_DTYPE_INT64, 0, NULL);
  MaceTensor *in[2] = { x, like };
  ThNode *node = th_node_new ("CastLike", 2, 1);
  MaceTensor *got = run1 ("CastLike", node, 15, in, 1);
  if (got
      && (got->dtype != MACE_DTYPE_INT64 || ((int64_t *)got->data)[4] != 200))
    th_fail ("CastLike", "wrong result");
  mace_tensor_free (got);
  th_node_free (node);
  mace_tensor_free (like);
  mace_tensor_free (x);
}

static void
test_misc (void)
{
  int64_t d[] = { 3, 0, 2 }, d2[] = { 4, 5 };
  /* Identity on an empty and a non-empty tensor. */
  for (int k = 0; k < 2; k++) {
    MaceTensor *x
        = rand_tensor (MACE_DTYPE_FLOAT32, k ? 2 : 3, k ? d2 : d, -1, 1);
    ThNode *node = th_node_new ("Identity", 1, 1);
    MaceTensor *got = run1 ("Identity", node, 13, &x, 1);
    if (got)
      th_check_close ("Identity", got, x, 0, 0);
    mace_tensor_free (got);
    th_node_free (node);
    mace_tensor_free (x);
  }
  /* Dropout: old (ratio attribute) and new (ratio input, mask output). */
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, 2, d2, -1, 1);
  for (int opset = 7; opset <= 13; opset += 6) {
    ThNode *node = th_node_new ("Dropout", opset >= 12 ? 2 : 1, 2);
    MaceTensor *ratio = th_tensor (MACE_DTYPE_FLOAT32, 0, NULL);
    *(float *)ratio->data = 0.3f;
    if (opset < 12)
      th_attr_float (node, "ratio", 0.3f);
    MaceTensor *in[2] = { x, ratio };
    MaceTensor *out[2] = { NULL, NULL };
    if (th_run_op (node, opset, in, out, 1) != MACE_OK) {
      th_fail ("Dropout", "opset %d failed", opset);
    } else {
      th_check_close ("Dropout", out[0], x, 0, 0);
      for (int64_t i = 0; i < 20; i++)
        if (mace_tensor_get_f64 (out[1], i) != 1) {
          th_fail ("Dropout", "mask element %lld", (long long)i);
          break;
        }
    }
    mace_tensor_free (out[0]);
    mace_tensor_free (out[1]);
    mace_tensor_free (ratio);
    th_node_free (node);
  }
  /* Size */
  ThNode *node = th_node_new ("Size", 1, 1);
  MaceTensor *got = run1 ("Size", node, 13, &x, 1);
  if (got
      && (got->dtype != MACE_DTYPE_INT64 || got->ndim != 0
          || *(int64_t *)got->data != 20))
    th_fail ("Size", "wrong");
  mace_tensor_free (got);
  th_node_free (node);
  mace_tensor_free (x);
  /* float16 arithmetic runs through float32 and rounds back. */
  int64_t dh[] = { 4, 9 }, dc[] = { 9 };
  MaceTensor *in[2] = { rand_tensor (MACE_DTYPE_FLOAT16, 2, dh, -4, 4),
                        rand_tensor (MACE_DTYPE_FLOAT16, 1, dc, -4, 4) };
  static const char *const hops[] = { "Add", "Mul", "Max", "Less" };
  for (int o = 0; o < 4; o++) {
    ThNode *hn = th_node_new (hops[o], 2, 1);
    MaceTensor *g = run1 (hops[o], hn, 13, in, 1);
    if (g) {
      MaceTensor *want
          = th_tensor (o == 3 ? MACE_DTYPE_BOOL : MACE_DTYPE_FLOAT16, 2, dh);
      for (int64_t i = 0; i < 36; i++) {
        float a = (float)mace_tensor_get_f64 (in[0], i);
        float b = (float)mace_tensor_get_f64 (in[1], i % 9);
        float v = o == 0   ? a + b
                  : o == 1 ? a * b
                  : o == 2 ? fmaxf (a, b)
                           : a < b;
        set_num (want, i, v, 0, false);
      }
      th_check_close (hops[o], g, want, 0, 0);
      mace_tensor_free (want);
      mace_tensor_free (g);
    }
    th_node_free (hn);
  }
  mace_tensor_free (in[0]);
  mace_tensor_free (in[1]);
}

/* float -> half conversion against a slow exact one. */
static void
test_half_convert (void)
{
  for (int i = 0; i < 200000; i++) {
    uint32_t bits = th_rand_u32 ();
    float f;
    memcpy (&f, &bits, 4);
    if (isnan (f))
      continue;
    uint16_t h = mace_f32_to_half (f);
    /* The result must be the nearest half (ties to even). */
    float back = mace_half_to_f32 (h);
    if (fabsf (f) >= 65520.0f) {
      if (!isinf (back) || signbit (back) != signbit (f))
        th_fail ("f32_to_half", "%g overflow gave %g", f, back);
      continue;
    }
    uint16_t up = (uint16_t)(h + 1), dn = (uint16_t)(h - 1);
    double err = fabs ((double)back - f);
    double e_up = (h & 0x7fff) == 0x7c00
                      ? INFINITY
                      : fabs ((double)mace_half_to_f32 (up) - f);
    double e_dn = (h & 0x7fff) == 0 ? INFINITY
                                    : fabs ((double)mace_half_to_f32 (dn) - f);
    if (err > e_up || err > e_dn || ((err == e_up || err == e_dn) && (h & 1)))
      th_fail ("f32_to_half", "%.9g -> %04x (%.9g)", f, h, back);
  }
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_float_binary ();
  test_int_binary ();
  test_compare_logic ();
  test_unary ();
  test_variadic ();
  test_where ();
  test_cast ();
  test_misc ();
  test_half_convert ();
  return th_finish ();
}
