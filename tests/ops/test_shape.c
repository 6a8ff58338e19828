/* SPDX-License-Identifier: Apache-2.0
 * Shape ops against references written here: Shape, Reshape, Flatten,
 * Squeeze, Unsqueeze, ConstantOfShape, Expand, Range, EyeLike, Constant. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "harness.h"

static MaceTensor *
ints_tensor (int n, const int64_t *v)
{
  int64_t d = n;
  MaceTensor *t = th_tensor (MACE_DTYPE_INT64, 1, &d);
  if (n)
    memcpy (t->data, v, sizeof (int64_t) * (size_t)n);
  return t;
}

static void
attr_tensor (ThNode *n, const char *name, MaceTensor *t)
{
  n->node.attrs = g_renew (MaceAttr, n->node.attrs, n->node.n_attr + 1);
  MaceAttr *a = &n->node.attrs[n->node.n_attr++];
  memset (a, 0, sizeof *a);
  a->name = g_strdup (name);
  a->type = MACE_ATTR_TENSOR;
  a->t = t;
}

static bool
check_shape (const char *what, const MaceTensor *t, int nd, const int64_t *dims)
{
  char a[128], b[128];
  if (!mace_shape_equal (t->ndim, t->dims, nd, dims)) {
    th_fail (what, "shape %s, want %s",
             mace_shape_str (t->ndim, t->dims, a, sizeof a),
             mace_shape_str (nd, dims, b, sizeof b));
    return false;
  }
  return true;
}

/* Runs a one-output op and returns the output (NULL on failure). */
static MaceTensor *
run1 (const char *what, ThNode *n, int64_t opset, MaceTensor **in)
{
  MaceTensor *out[1] = { NULL };
  MaceStatus st = th_run_op (n, opset, in, out, 2);
  if (st != MACE_OK) {
    th_fail (what, "status %s", mace_status_to_string (st));
    mace_tensor_free (out[0]);
    return NULL;
  }
  return out[0];
}

static bool
same_bytes (const char *what, const MaceTensor *a, const MaceTensor *b)
{
  if (mace_tensor_nbytes (a) != mace_tensor_nbytes (b)
      || memcmp (a->data, b->data, mace_tensor_nbytes (a))) {
    th_fail (what, "data differs");
    return false;
  }
  return true;
}

static void
test_shape (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4, 5));
  struct {
    int64_t s, e;
    bool has_s, has_e;
    int n;
    int64_t want[4];
  } c[] = {
    { 0, 0, false, false, 4, { 2, 3, 4, 5 } },
    { 1, 0, true, false, 3, { 3, 4, 5 } },
    { 0, -1, false, true, 3, { 2, 3, 4 } },
    { -10, 10, true, true, 4, { 2, 3, 4, 5 } },
    { 3, 1, true, true, 0, { 0 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (c); i++) {
    ThNode *n = th_node_new ("Shape", 1, 1);
    if (c[i].has_s)
      th_attr_int (n, "start", c[i].s);
    if (c[i].has_e)
      th_attr_int (n, "end", c[i].e);
    MaceTensor *in[1] = { x };
    MaceTensor *o = run1 ("Shape", n, 15, in);
    if (o && check_shape ("Shape", o, 1, (int64_t[]){ c[i].n })) {
      for (int k = 0; k < c[i].n; k++)
        if (((int64_t *)o->data)[k] != c[i].want[k])
          th_fail ("Shape", "case %zu element %d", i, k);
    }
    mace_tensor_free (o);
    th_node_free (n);
  }
  mace_tensor_free (x);
}

static void
test_reshape (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3, 4));
  th_fill_uniform (x, -1, 1);
  struct {
    int n;
    int64_t req[4];
    bool allowzero;
    int nd;
    int64_t want[4];
    bool ok;
  } c[] = {
    { 2, { 0, -1 }, false, 2, { 2, 12 }, true },
    { 3, { 4, 0, 2 }, false, 3, { 4, 3, 2 }, true },
    { 1, { -1 }, false, 1, { 24 }, true },
    { 4, { 2, 2, -1, 3 }, false, 4, { 2, 2, 2, 3 }, true },
    { 2, { 5, -1 }, false, 0, { 0 }, false },
    { 2, { -1, -1 }, false, 0, { 0 }, false },
    { 2, { 0, 4 }, true, 0, { 0 }, false },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (c); i++) {
    ThNode *n = th_node_new ("Reshape", 2, 1);
    if (c[i].allowzero)
      th_attr_int (n, "allowzero", 1);
    MaceTensor *s = ints_tensor (c[i].n, c[i].req);
    MaceTensor *in[2] = { x, s };
    MaceTensor *out[1] = { NULL };
    MaceStatus st = th_run_op (n, 14, in, out, 1);
    if (c[i].ok) {
      if (st != MACE_OK)
        th_fail ("Reshape", "case %zu failed", i);
      else if (check_shape ("Reshape", out[0], c[i].nd, c[i].want))
        same_bytes ("Reshape", out[0], x);
    } else if (st == MACE_OK) {
      th_fail ("Reshape", "case %zu should fail", i);
    }
    mace_tensor_free (out[0]);
    mace_tensor_free (s);
    th_node_free (n);
  }
  /* allowzero with an empty input keeps the 0. */
  MaceTensor *e = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (0, 3));
  MaceTensor *s = ints_tensor (2, (int64_t[]){ 3, 0 });
  ThNode *n = th_node_new ("Reshape", 2, 1);
  th_attr_int (n, "allowzero", 1);
  MaceTensor *in[2] = { e, s };
  MaceTensor *o = run1 ("Reshape allowzero", n, 14, in);
  if (o)
    check_shape ("Reshape allowzero", o, 2, (int64_t[]){ 3, 0 });
  mace_tensor_free (o);
  mace_tensor_free (s);
  mace_tensor_free (e);
  th_node_free (n);
  mace_tensor_free (x);
}

static void
test_flatten (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_UINT8, TH_DIMS (2, 3, 4, 5));
  th_fill_uniform (x, 0, 255);
  int64_t axes[] = { 0, 1, 2, 3, 4, -1, -4 };
  for (size_t i = 0; i < G_N_ELEMENTS (axes); i++) {
    ThNode *n = th_node_new ("Flatten", 1, 1);
    th_attr_int (n, "axis", axes[i]);
    MaceTensor *in[1] = { x };
    MaceTensor *o = run1 ("Flatten", n, 13, in);
    int64_t a = axes[i] < 0 ? axes[i] + 4 : axes[i];
    int64_t want[2] = { mace_shape_numel ((int)a, x->dims),
                        mace_shape_numel (4 - (int)a, x->dims + a) };
    if (o && check_shape ("Flatten", o, 2, want))
      same_bytes ("Flatten", o, x);
    mace_tensor_free (o);
    th_node_free (n);
  }
  mace_tensor_free (x);
}

static void
test_squeeze_unsqueeze (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (1, 3, 1, 5));
  th_fill_uniform (x, -1, 1);
  /* Squeeze: all ones, attribute axes (opset 11), input axes (13). */
  ThNode *n = th_node_new ("Squeeze", 1, 1);
  MaceTensor *in[2] = { x, NULL };
  MaceTensor *o = run1 ("Squeeze all", n, 13, in);
  if (o && check_shape ("Squeeze all", o, 2, (int64_t[]){ 3, 5 }))
    same_bytes ("Squeeze all", o, x);
  mace_tensor_free (o);
  th_node_free (n);

  n = th_node_new ("Squeeze", 1, 1);
  th_attr_ints (n, "axes", 1, (int64_t[]){ -2 });
  o = run1 ("Squeeze attr", n, 11, in);
  if (o)
    check_shape ("Squeeze attr", o, 3, (int64_t[]){ 1, 3, 5 });
  mace_tensor_free (o);
  th_node_free (n);

  n = th_node_new ("Squeeze", 2, 1);
  in[1] = ints_tensor (1, (int64_t[]){ 0 });
  o = run1 ("Squeeze input", n, 13, in);
  if (o)
    check_shape ("Squeeze input", o, 3, (int64_t[]){ 3, 1, 5 });
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (in[1]);

  /* Squeezing a non-1 axis fails. */
  n = th_node_new ("Squeeze", 2, 1);
  in[1] = ints_tensor (1, (int64_t[]){ 1 });
  MaceTensor *out[1] = { NULL };
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 13, in, out, 1) == MACE_OK)
    th_fail ("Squeeze", "squeezing a dim of 3 should fail");
  mace_tensor_free (out[0]);
  th_node_free (n);
  mace_tensor_free (in[1]);

  /* Unsqueeze: unsorted and negative axes. */
  n = th_node_new ("Unsqueeze", 2, 1);
  in[1] = ints_tensor (3, (int64_t[]){ 6, 0, -3 });
  o = run1 ("Unsqueeze", n, 13, in);
  if (o && check_shape ("Unsqueeze", o, 7, (int64_t[]){ 1, 1, 3, 1, 1, 5, 1 }))
    same_bytes ("Unsqueeze", o, x);
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (in[1]);

  n = th_node_new ("Unsqueeze", 1, 1);
  th_attr_ints (n, "axes", 2, (int64_t[]){ 4, 1 });
  o = run1 ("Unsqueeze attr", n, 11, in);
  if (o)
    check_shape ("Unsqueeze attr", o, 6, (int64_t[]){ 1, 1, 3, 1, 1, 5 });
  mace_tensor_free (o);
  th_node_free (n);

  /* Scalar to 1-D. */
  MaceTensor *sc = th_tensor (MACE_DTYPE_INT64, 0, NULL);
  ((int64_t *)sc->data)[0] = 42;
  n = th_node_new ("Unsqueeze", 2, 1);
  MaceTensor *in2[2] = { sc, ints_tensor (1, (int64_t[]){ 0 }) };
  o = run1 ("Unsqueeze scalar", n, 13, in2);
  if (o && check_shape ("Unsqueeze scalar", o, 1, (int64_t[]){ 1 })
      && ((int64_t *)o->data)[0] != 42)
    th_fail ("Unsqueeze scalar", "value");
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (in2[1]);
  mace_tensor_free (sc);
  mace_tensor_free (x);
}

static void
test_constant_of_shape (void)
{
  MaceTensor *s = ints_tensor (3, (int64_t[]){ 2, 3, 4 });
  ThNode *n = th_node_new ("ConstantOfShape", 1, 1);
  MaceTensor *in[1] = { s };
  MaceTensor *o = run1 ("ConstantOfShape default", n, 9, in);
  if (o && check_shape ("ConstantOfShape", o, 3, (int64_t[]){ 2, 3, 4 })) {
    if (o->dtype != MACE_DTYPE_FLOAT32)
      th_fail ("ConstantOfShape", "default dtype");
    for (int i = 0; i < 24; i++)
      if (((float *)o->data)[i] != 0.0f)
        th_fail ("ConstantOfShape", "default value");
  }
  mace_tensor_free (o);
  th_node_free (n);

  n = th_node_new ("ConstantOfShape", 1, 1);
  MaceTensor *v = th_tensor (MACE_DTYPE_INT32, TH_DIMS (1));
  ((int32_t *)v->data)[0] = -7;
  attr_tensor (n, "value", v);
  o = run1 ("ConstantOfShape int", n, 9, in);
  if (o) {
    if (o->dtype != MACE_DTYPE_INT32)
      th_fail ("ConstantOfShape", "dtype from value");
    for (int i = 0; i < 24; i++)
      if (((int32_t *)o->data)[i] != -7)
        th_fail ("ConstantOfShape", "value -7");
  }
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (s);

  /* Empty shape -> scalar; a zero dim -> empty. */
  s = ints_tensor (0, NULL);
  n = th_node_new ("ConstantOfShape", 1, 1);
  in[0] = s;
  o = run1 ("ConstantOfShape scalar", n, 9, in);
  if (o)
    check_shape ("ConstantOfShape scalar", o, 0, NULL);
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (s);
  s = ints_tensor (2, (int64_t[]){ 0, 5 });
  n = th_node_new ("ConstantOfShape", 1, 1);
  in[0] = s;
  o = run1 ("ConstantOfShape empty", n, 9, in);
  if (o)
    check_shape ("ConstantOfShape empty", o, 2, (int64_t[]){ 0, 5 });
  mace_tensor_free (o);
  th_node_free (n);
  mace_tensor_free (s);
}

static void
test_expand (void)
{
  struct {
    int nx;
    int64_t x[4];
    int ns;
    int64_t s[4];
  } c[] = {
    { 2, { 3, 1 }, 3, { 2, 1, 6 } },
    { 1, { 4 }, 2, { 3, 1 } },
    { 3, { 2, 1, 3 }, 3, { 2, 50, 3 } },
    { 3, { 1, 70, 1 }, 4, { 2, 3, 70, 500 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (c); i++) {
    MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, c[i].nx, c[i].x);
    th_fill_uniform (x, -5, 5);
    MaceTensor *s = ints_tensor (c[i].ns, c[i].s);
    ThNode *n = th_node_new ("Expand", 2, 1);
    MaceTensor *in[2] = { x, s };
    MaceTensor *o = run1 ("Expand", n, 13, in);
    if (o) {
      int64_t dims[MACE_MAX_DIMS];
      int nd;
      mace_broadcast_shape (c[i].nx, c[i].x, c[i].ns, c[i].s, &nd, dims);
      if (check_shape ("Expand", o, nd, dims)) {
        int64_t tot = mace_tensor_numel (o);
        for (int64_t e = 0; e < tot; e++) {
          int64_t r = e, src = 0, mul = 1;
          for (int d = nd - 1; d >= 0; d--) {
            int64_t id = r % dims[d];
            r /= dims[d];
            int xd = d - (nd - c[i].nx);
            if (xd >= 0) {
              src += (c[i].x[xd] == 1 ? 0 : id) * mul;
              mul *= c[i].x[xd];
            }
          }
          if (((float *)o->data)[e] != ((float *)x->data)[src]) {
            th_fail ("Expand", "case %zu element %lld", i, (long long)e);
            break;
          }
        }
      }
    }
    mace_tensor_free (o);
    mace_tensor_free (s);
    mace_tensor_free (x);
    th_node_free (n);
  }
}

static void
test_range (void)
{
  struct {
    MaceDataType dt;
    double s, l, d;
    int64_t n;
  } c[] = {
    { MACE_DTYPE_INT32, 10, 4, -3, 2 },
    { MACE_DTYPE_INT64, 0, 10, 3, 4 },
    { MACE_DTYPE_INT64, 5, 5, 1, 0 },
    { MACE_DTYPE_INT64, 5, 1, 1, 0 },
    { MACE_DTYPE_FLOAT32, 1, 5, 2, 2 },
    { MACE_DTYPE_FLOAT32, 0.5, 2.75, 0.5, 5 },
    { MACE_DTYPE_FLOAT64, -1, 1, 0.25, 8 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (c); i++) {
    MaceTensor *in[3];
    double v[3] = { c[i].s, c[i].l, c[i].d };
    for (int k = 0; k < 3; k++) {
      in[k] = th_tensor (c[i].dt, 0, NULL);
      switch (c[i].dt) {
        case MACE_DTYPE_INT32:
          ((int32_t *)in[k]->data)[0] = (int32_t)v[k];
          break;
        case MACE_DTYPE_INT64:
          ((int64_t *)in[k]->data)[0] = (int64_t)v[k];
          break;
        case MACE_DTYPE_FLOAT32: ((float *)in[k]->data)[0] = (float)v[k]; break;
        default: ((double *)in[k]->data)[0] = v[k]; break;
      }
    }
    ThNode *n = th_node_new ("Range", 3, 1);
    MaceTensor *o = run1 ("Range", n, 11, in);
    if (o && check_shape ("Range", o, 1, &c[i].n)) {
      for (int64_t k = 0; k < c[i].n; k++)
        if (fabs (mace_tensor_get_f64 (o, k) - (c[i].s + (double)k * c[i].d))
            > 1e-6)
          th_fail ("Range", "case %zu element %lld", i, (long long)k);
    }
    mace_tensor_free (o);
    for (int k = 0; k < 3; k++)
      mace_tensor_free (in[k]);
    th_node_free (n);
  }
}

static void
test_eyelike (void)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_INT32, TH_DIMS (4, 6));
  int64_t ks[] = { 0, 2, -1, 7, -5 };
  for (size_t i = 0; i < G_N_ELEMENTS (ks); i++) {
    ThNode *n = th_node_new ("EyeLike", 1, 1);
    th_attr_int (n, "k", ks[i]);
    if (i % 2)
      th_attr_int (n, "dtype", MACE_DTYPE_FLOAT64);
    MaceTensor *in[1] = { x };
    MaceTensor *o = run1 ("EyeLike", n, 9, in);
    if (o) {
      if (o->dtype != (i % 2 ? MACE_DTYPE_FLOAT64 : MACE_DTYPE_INT32))
        th_fail ("EyeLike", "dtype");
      for (int r = 0; r < 4; r++)
        for (int cc = 0; cc < 6; cc++)
          if (mace_tensor_get_f64 (o, r * 6 + cc) != (cc - r == ks[i]))
            th_fail ("EyeLike", "k %lld at %d,%d", (long long)ks[i], r, cc);
    }
    mace_tensor_free (o);
    th_node_free (n);
  }
  mace_tensor_free (x);
}

static void
test_constant (void)
{
  ThNode *n = th_node_new ("Constant", 0, 1);
  th_attr_ints (n, "value_ints", 3, (int64_t[]){ 4, -5, 6 });
  MaceTensor *in[1] = { NULL };
  MaceTensor *o = run1 ("Constant ints", n, 13, in);
  if (o && check_shape ("Constant ints", o, 1, (int64_t[]){ 3 })
      && ((int64_t *)o->data)[1] != -5)
    th_fail ("Constant ints", "value");
  mace_tensor_free (o);
  th_node_free (n);

  n = th_node_new ("Constant", 0, 1);
  th_attr_float (n, "value_float", 2.5f);
  o = run1 ("Constant float", n, 13, in);
  if (o && check_shape ("Constant float", o, 0, NULL)
      && ((float *)o->data)[0] != 2.5f)
    th_fail ("Constant float", "value");
  mace_tensor_free (o);
  th_node_free (n);

  n = th_node_new ("Constant", 0, 1);
  MaceTensor *v = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3));
  th_fill_uniform (v, -1, 1);
  MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3));
  memcpy (want->data, v->data, 24);
  attr_tensor (n, "value", v);
  o = run1 ("Constant tensor", n, 13, in);
  if (o)
    th_check_close ("Constant tensor", o, want, 0, 0);
  mace_tensor_free (o);
  mace_tensor_free (want);
  th_node_free (n);

  /* No value at all: unsupported at check time. */
  n = th_node_new ("Constant", 0, 1);
  MaceTensor *out[1] = { NULL };
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 13, in, out, 1) != MACE_ERROR_UNSUPPORTED)
    th_fail ("Constant", "missing value should be unsupported");
  mace_tensor_free (out[0]);
  th_node_free (n);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_shape ();
  test_reshape ();
  test_flatten ();
  test_squeeze_unsqueeze ();
  test_constant_of_shape ();
  test_expand ();
  test_range ();
  test_eyelike ();
  test_constant ();
  return th_finish ();
}
