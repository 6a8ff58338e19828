/* SPDX-License-Identifier: Apache-2.0
 * Movement ops on seeded random inputs against naive index-math
 * references written here, with several dtypes and the thread pool. */
#include <math.h>
#include <stdlib.h>
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

static MaceTensor *
rand_tensor (MaceDataType dt, int nd, const int64_t *dims)
{
  MaceTensor *t = th_tensor (dt, nd, dims);
  if (dt == MACE_DTYPE_UINT8)
    th_fill_uniform (t, 0, 255);
  else
    th_fill_uniform (t, -100, 100);
  return t;
}

static void
unravel (int64_t i, int nd, const int64_t *dims, int64_t *idx)
{
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = dims[d] ? i % dims[d] : 0;
    i = dims[d] ? i / dims[d] : 0;
  }
}

static int64_t
ravel (int nd, const int64_t *dims, const int64_t *idx)
{
  int64_t o = 0;
  for (int d = 0; d < nd; d++)
    o = o * dims[d] + idx[d];
  return o;
}

static MaceTensor *
run1 (const char *what, ThNode *n, int64_t opset, MaceTensor **in, int threads)
{
  MaceTensor *out[1] = { NULL };
  MaceStatus st = th_run_op (n, opset, in, out, threads);
  if (st != MACE_OK) {
    th_fail (what, "status %s", mace_status_to_string (st));
    mace_tensor_free (out[0]);
    return NULL;
  }
  return out[0];
}

/* Exact comparison (these ops only move bits). */
static void
expect (const char *what, MaceTensor *got, MaceTensor *want)
{
  if (got)
    th_check_close (what, got, want, 0, 0);
  mace_tensor_free (got);
  mace_tensor_free (want);
}

static void
test_transpose (void)
{
  struct {
    MaceDataType dt;
    int nd;
    int64_t dims[5];
    int64_t perm[5];
  } c[] = {
    { MACE_DTYPE_FLOAT32, 4, { 1, 64, 60, 70 }, { 0, 2, 3, 1 } },
    { MACE_DTYPE_FLOAT32, 4, { 1, 60, 70, 64 }, { 0, 3, 1, 2 } },
    { MACE_DTYPE_INT8, 3, { 5, 7, 9 }, { 2, 0, 1 } },
    { MACE_DTYPE_INT64, 5, { 2, 3, 1, 4, 5 }, { 4, 2, 0, 3, 1 } },
    { MACE_DTYPE_FLOAT16, 2, { 33, 65 }, { 1, 0 } },
    { MACE_DTYPE_FLOAT32, 3, { 2, 0, 3 }, { 2, 1, 0 } },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (c); k++) {
    MaceTensor *x = rand_tensor (c[k].dt, c[k].nd, c[k].dims);
    if (c[k].dt == MACE_DTYPE_FLOAT16)
      for (int64_t i = 0; i < mace_tensor_numel (x); i++)
        ((uint16_t *)x->data)[i] = (uint16_t)th_rand_u32 ();
    ThNode *n = th_node_new ("Transpose", 1, 1);
    th_attr_ints (n, "perm", c[k].nd, c[k].perm);
    int64_t od[5];
    for (int d = 0; d < c[k].nd; d++)
      od[d] = c[k].dims[c[k].perm[d]];
    MaceTensor *want = th_tensor (c[k].dt, c[k].nd, od);
    size_t es = mace_dtype_size (c[k].dt);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      int64_t oi[5], ii[5];
      unravel (i, c[k].nd, od, oi);
      for (int d = 0; d < c[k].nd; d++)
        ii[c[k].perm[d]] = oi[d];
      memcpy ((uint8_t *)want->data + i * (int64_t)es,
              (uint8_t *)x->data + ravel (c[k].nd, c[k].dims, ii) * (int64_t)es,
              es);
    }
    MaceTensor *in[1] = { x };
    MaceTensor *got = run1 ("Transpose", n, 13, in, 2);
    if (got && memcmp (got->data, want->data, mace_tensor_nbytes (want)))
      th_fail ("Transpose", "case %zu differs", k);
    mace_tensor_free (got);
    mace_tensor_free (want);
    mace_tensor_free (x);
    th_node_free (n);
  }
}

static void
test_concat_split (void)
{
  /* Channel concat at batch 1 (one big segment per input), an empty input,
   * then split back with the same sizes. */
  int64_t chans[] = { 16, 0, 48, 8 };
  int axis_cases[] = { 1, -1 };
  for (size_t ac = 0; ac < G_N_ELEMENTS (axis_cases); ac++) {
    int axis = axis_cases[ac];
    int ax = axis < 0 ? axis + 4 : axis;
    MaceTensor *xs[4];
    int64_t total = 0;
    for (int i = 0; i < 4; i++) {
      int64_t d[4] = { 1, 32, 40, 24 };
      d[ax] = chans[i];
      xs[i] = rand_tensor (MACE_DTYPE_FLOAT32, 4, d);
      total += chans[i];
    }
    int64_t od[4] = { 1, 32, 40, 24 };
    od[ax] = total;
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 4, od);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      int64_t idx[4];
      unravel (i, 4, od, idx);
      int k = 0;
      while (idx[ax] >= chans[k]) {
        idx[ax] -= chans[k];
        k++;
      }
      ((float *)want->data)[i]
          = ((float *)xs[k]->data)[ravel (4, xs[k]->dims, idx)];
    }
    ThNode *n = th_node_new ("Concat", 4, 1);
    th_attr_int (n, "axis", axis);
    MaceTensor *cat = run1 ("Concat", n, 13, xs, 2);
    th_node_free (n);
    if (cat) {
      th_check_close ("Concat", cat, want, 0, 0);
      ThNode *s = th_node_new ("Split", 2, 4);
      th_attr_int (s, "axis", axis);
      MaceTensor *sp = ints_tensor (4, chans);
      MaceTensor *in[2] = { cat, sp }, *out[4] = { NULL };
      if (th_run_op (s, 13, in, out, 2) != MACE_OK)
        th_fail ("Split", "failed");
      else
        for (int i = 0; i < 4; i++)
          th_check_close ("Split", out[i], xs[i], 0, 0);
      for (int i = 0; i < 4; i++)
        mace_tensor_free (out[i]);
      mace_tensor_free (sp);
      th_node_free (s);
    }
    mace_tensor_free (cat);
    mace_tensor_free (want);
    for (int i = 0; i < 4; i++)
      mace_tensor_free (xs[i]);
  }
  /* Equal split (attribute-less) and num_outputs with a short last part. */
  MaceTensor *x = rand_tensor (MACE_DTYPE_INT32, TH_DIMS (3, 7));
  ThNode *s = th_node_new ("Split", 1, 3);
  th_attr_int (s, "axis", 1);
  th_attr_int (s, "num_outputs", 3);
  MaceTensor *in[1] = { x }, *out[3] = { NULL };
  if (th_run_op (s, 18, in, out, 1) != MACE_OK) {
    th_fail ("Split num_outputs", "failed");
  } else {
    int64_t widths[3] = { 3, 3, 1 }, off = 0;
    for (int i = 0; i < 3; i++) {
      if (out[i]->dims[1] != widths[i])
        th_fail ("Split num_outputs", "part %d width %lld", i,
                 (long long)out[i]->dims[1]);
      else
        for (int r = 0; r < 3; r++)
          for (int j = 0; j < widths[i]; j++)
            if (((int32_t *)out[i]->data)[r * widths[i] + j]
                != ((int32_t *)x->data)[r * 7 + off + j])
              th_fail ("Split num_outputs", "part %d value", i);
      off += widths[i];
    }
  }
  for (int i = 0; i < 3; i++)
    mace_tensor_free (out[i]);
  th_node_free (s);
  /* 7 does not split in 3 equal parts. */
  s = th_node_new ("Split", 1, 3);
  th_attr_int (s, "axis", 1);
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (s, 13, in, out, 1) == MACE_OK)
    th_fail ("Split", "uneven equal split should fail");
  for (int i = 0; i < 3; i++)
    mace_tensor_free (out[i]);
  th_node_free (s);
  mace_tensor_free (x);
  /* Concat shape mismatch. */
  MaceTensor *a = rand_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 3));
  MaceTensor *b = rand_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 3));
  ThNode *n = th_node_new ("Concat", 2, 1);
  th_attr_int (n, "axis", 1);
  MaceTensor *ab[2] = { a, b }, *o[1] = { NULL };
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 13, ab, o, 1) == MACE_OK)
    th_fail ("Concat", "mismatched shapes should fail");
  mace_tensor_free (o[0]);
  th_node_free (n);
  mace_tensor_free (a);
  mace_tensor_free (b);
}

/* Reference slice count / start for one axis (spec text). */
static void
ref_slice_axis (int64_t dim, int64_t s, int64_t e, int64_t st, int64_t *start,
                int64_t *count)
{
  if (s < 0)
    s += dim;
  if (e < 0)
    e += dim;
  if (st > 0) {
    s = s < 0 ? 0 : s > dim ? dim : s;
    e = e < 0 ? 0 : e > dim ? dim : e;
  } else {
    s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
    e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
  }
  int64_t c = 0;
  for (int64_t i = s; st > 0 ? i < e : i > e; i += st)
    c++;
  *start = s;
  *count = c;
}

static void
test_slice (void)
{
  int64_t dims[4] = { 3, 10, 8, 50 };
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, 4, dims);
  for (int iter = 0; iter < 40; iter++) {
    int na = 1 + (int)(th_rand_u32 () % 4);
    int64_t axes[4], starts[4], ends[4], steps[4];
    int64_t st[4] = { 0, 0, 0, 0 }, cnt[4], step[4] = { 1, 1, 1, 1 };
    memcpy (cnt, dims, sizeof cnt);
    int perm[4] = { 0, 1, 2, 3 };
    for (int i = 3; i > 0; i--) {
      int j = (int)(th_rand_u32 () % (uint32_t)(i + 1)), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    for (int i = 0; i < na; i++) {
      int a = perm[i];
      axes[i] = th_rand_u32 () % 2 ? a : a - 4;
      int64_t d = dims[a];
      starts[i] = (int64_t)(th_rand_u32 () % (uint32_t)(3 * d)) - d - 2;
      ends[i] = (int64_t)(th_rand_u32 () % (uint32_t)(3 * d)) - d;
      if (th_rand_u32 () % 5 == 0)
        ends[i] = th_rand_u32 () % 2 ? INT64_MAX : INT64_MIN;
      steps[i] = (int64_t)(th_rand_u32 () % 7) - 3;
      if (steps[i] == 0)
        steps[i] = 1;
      ref_slice_axis (d, starts[i], ends[i], steps[i], &st[a], &cnt[a]);
      step[a] = steps[i];
    }
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 4, cnt);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      int64_t idx[4];
      unravel (i, 4, cnt, idx);
      for (int d = 0; d < 4; d++)
        idx[d] = st[d] + idx[d] * step[d];
      ((float *)want->data)[i] = ((float *)x->data)[ravel (4, dims, idx)];
    }
    MaceTensor *in[5] = { x, ints_tensor (na, starts), ints_tensor (na, ends),
                          ints_tensor (na, axes), ints_tensor (na, steps) };
    ThNode *n = th_node_new ("Slice", 5, 1);
    expect ("Slice", run1 ("Slice", n, 13, in, 2), want);
    for (int i = 1; i < 5; i++)
      mace_tensor_free (in[i]);
    th_node_free (n);
  }
  /* Opset 1 attributes, default axes. */
  ThNode *n = th_node_new ("Slice", 1, 1);
  th_attr_ints (n, "starts", 2, (int64_t[]){ 1, -4 });
  th_attr_ints (n, "ends", 2, (int64_t[]){ 1000, -1 });
  MaceTensor *in[1] = { x };
  MaceTensor *got = run1 ("Slice-1", n, 9, in, 1);
  int64_t wd[4] = { 2, 3, 8, 50 };
  if (got && !mace_shape_equal (got->ndim, got->dims, 4, wd))
    th_fail ("Slice-1", "shape");
  else if (got
           && ((float *)got->data)[0]
                  != ((float *)
                          x->data)[ravel (4, dims, (int64_t[]){ 1, 6, 0, 0 })])
    th_fail ("Slice-1", "value");
  mace_tensor_free (got);
  th_node_free (n);
  mace_tensor_free (x);
}

static int64_t
ref_pad_index (int64_t i, int64_t n, const char *mode)
{
  if (i >= 0 && i < n)
    return i;
  if (!strcmp (mode, "constant"))
    return -1;
  if (!strcmp (mode, "edge"))
    return i < 0 ? 0 : n - 1;
  /* reflect, assuming |pad| < n */
  if (i < 0)
    return -i;
  return 2 * (n - 1) - i;
}

static void
test_pad (void)
{
  const char *modes[] = { "constant", "reflect", "edge" };
  int64_t dims[4] = { 1, 5, 9, 40 };
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, 4, dims);
  for (int iter = 0; iter < 24; iter++) {
    const char *mode = modes[iter % 3];
    int64_t pads[8], od[4];
    for (int d = 0; d < 4; d++) {
      int64_t lim = dims[d] > 1 ? dims[d] - 1 : 0;
      pads[d] = (int64_t)(th_rand_u32 () % (uint32_t)(lim + 1));
      pads[d + 4] = (int64_t)(th_rand_u32 () % (uint32_t)(lim + 1));
      if (!strcmp (mode, "constant") && th_rand_u32 () % 3 == 0)
        pads[d] = -pads[d] / 2; /* negative pads crop */
      od[d] = dims[d] + pads[d] + pads[d + 4];
    }
    float cv = th_uniform (-1, 1);
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 4, od);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      int64_t idx[4];
      unravel (i, 4, od, idx);
      bool valid = true;
      for (int d = 0; d < 4; d++) {
        idx[d] = ref_pad_index (idx[d] - pads[d], dims[d], mode);
        valid &= idx[d] >= 0;
      }
      ((float *)want->data)[i]
          = valid ? ((float *)x->data)[ravel (4, dims, idx)] : cv;
    }
    MaceTensor *c = th_tensor (MACE_DTYPE_FLOAT32, 0, NULL);
    ((float *)c->data)[0] = cv;
    MaceTensor *in[3] = { x, ints_tensor (8, pads), c };
    ThNode *n = th_node_new ("Pad", 3, 1);
    th_attr_string (n, "mode", mode);
    expect (mode, run1 ("Pad", n, 13, in, 2), want);
    mace_tensor_free (in[1]);
    mace_tensor_free (c);
    th_node_free (n);
  }
  /* Opset 2 attributes on int32. */
  MaceTensor *xi = rand_tensor (MACE_DTYPE_INT32, TH_DIMS (2, 3));
  ThNode *n = th_node_new ("Pad", 1, 1);
  th_attr_ints (n, "pads", 4, (int64_t[]){ 0, 1, 1, 0 });
  th_attr_float (n, "value", 7.0f);
  MaceTensor *in[1] = { xi };
  MaceTensor *got = run1 ("Pad-2", n, 2, in, 1);
  if (got) {
    int32_t *g = got->data, *s = xi->data;
    for (int r = 0; r < 3; r++)
      for (int cc = 0; cc < 4; cc++) {
        int32_t w = (r < 2 && cc > 0) ? s[r * 3 + cc - 1] : 7;
        if (g[r * 4 + cc] != w)
          th_fail ("Pad-2", "at %d,%d", r, cc);
      }
  }
  mace_tensor_free (got);
  th_node_free (n);
  mace_tensor_free (xi);
  mace_tensor_free (x);
}

static void
test_gathers (void)
{
  /* Gather with negative indices on axis 1. */
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 5, 4));
  MaceTensor *ind = th_tensor (MACE_DTYPE_INT64, TH_DIMS (2, 3));
  int64_t *iv = ind->data;
  for (int i = 0; i < 6; i++)
    iv[i] = (int64_t)(th_rand_u32 () % 10) - 5;
  MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 2, 3, 4));
  for (int a = 0; a < 3; a++)
    for (int j = 0; j < 6; j++)
      for (int c = 0; c < 4; c++) {
        int64_t k = iv[j] < 0 ? iv[j] + 5 : iv[j];
        ((float *)want->data)[(a * 6 + j) * 4 + c]
            = ((float *)x->data)[(a * 5 + k) * 4 + c];
      }
  ThNode *n = th_node_new ("Gather", 2, 1);
  th_attr_int (n, "axis", 1);
  MaceTensor *in[3] = { x, ind, NULL };
  expect ("Gather", run1 ("Gather", n, 13, in, 1), want);
  th_node_free (n);
  iv[0] = 5;
  n = th_node_new ("Gather", 2, 1);
  th_attr_int (n, "axis", 1);
  MaceTensor *out[1] = { NULL };
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 13, in, out, 1) == MACE_OK)
    th_fail ("Gather", "index out of range should fail");
  mace_tensor_free (out[0]);
  th_node_free (n);
  mace_tensor_free (ind);

  /* GatherElements / ScatterElements on axis 2 (round trip through a
   * permutation along the axis). */
  int64_t dims[3] = { 3, 5, 4 };
  MaceTensor *ge = th_tensor (MACE_DTYPE_INT32, 3, dims);
  for (int64_t i = 0; i < 60; i++) {
    int64_t idx[3];
    unravel (i, 3, dims, idx);
    ((int32_t *)ge->data)[i] = (int32_t)((idx[2] + idx[0] + idx[1]) % 4)
                               - (th_rand_u32 () % 2 ? 4 : 0);
  }
  want = th_tensor (MACE_DTYPE_FLOAT32, 3, dims);
  for (int64_t i = 0; i < 60; i++) {
    int64_t idx[3];
    unravel (i, 3, dims, idx);
    int64_t k = ((int32_t *)ge->data)[i];
    idx[2] = k < 0 ? k + 4 : k;
    ((float *)want->data)[i] = ((float *)x->data)[ravel (3, dims, idx)];
  }
  n = th_node_new ("GatherElements", 2, 1);
  th_attr_int (n, "axis", -1);
  in[1] = ge;
  MaceTensor *g = run1 ("GatherElements", n, 13, in, 1);
  th_node_free (n);
  if (g) {
    th_check_close ("GatherElements", g, want, 0, 0);
    /* Scatter the gathered values back: recovers x. */
    n = th_node_new ("ScatterElements", 3, 1);
    th_attr_int (n, "axis", 2);
    MaceTensor *zero = th_tensor (MACE_DTYPE_FLOAT32, 3, dims);
    MaceTensor *sin[3] = { zero, ge, g };
    MaceTensor *back = run1 ("ScatterElements", n, 13, sin, 1);
    if (back)
      th_check_close ("ScatterElements", back, x, 0, 0);
    mace_tensor_free (back);
    mace_tensor_free (zero);
    th_node_free (n);
  }
  mace_tensor_free (g);
  mace_tensor_free (want);
  mace_tensor_free (ge);

  /* GatherND with batch_dims 1 and ScatterND. */
  MaceTensor *gi = th_tensor (MACE_DTYPE_INT64, TH_DIMS (3, 2, 1));
  for (int i = 0; i < 6; i++)
    ((int64_t *)gi->data)[i] = th_rand_u32 () % 5;
  n = th_node_new ("GatherND", 2, 1);
  th_attr_int (n, "batch_dims", 1);
  in[1] = gi;
  want = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 2, 4));
  for (int b = 0; b < 3; b++)
    for (int j = 0; j < 2; j++)
      for (int c = 0; c < 4; c++)
        ((float *)want->data)[(b * 2 + j) * 4 + c]
            = ((float *)
                   x->data)[(b * 5 + ((int64_t *)gi->data)[b * 2 + j]) * 4 + c];
  expect ("GatherND", run1 ("GatherND", n, 13, in, 1), want);
  th_node_free (n);
  mace_tensor_free (gi);

  MaceTensor *si = ints_tensor (4, (int64_t[]){ 2, 0, 1, 4 });
  si->ndim = 3;
  si->dims[0] = 2;
  si->dims[1] = 1;
  si->dims[2] = 2;
  MaceTensor *upd = rand_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 1, 4));
  want = th_tensor (MACE_DTYPE_FLOAT32, 3, dims);
  memcpy (want->data, x->data, 60 * sizeof (float));
  memcpy ((float *)want->data + (2 * 5 + 0) * 4, upd->data, 16);
  memcpy ((float *)want->data + (1 * 5 + 4) * 4, (float *)upd->data + 4, 16);
  n = th_node_new ("ScatterND", 3, 1);
  MaceTensor *sn[3] = { x, si, upd };
  expect ("ScatterND", run1 ("ScatterND", n, 13, sn, 1), want);
  th_node_free (n);
  mace_tensor_free (si);
  mace_tensor_free (upd);
  mace_tensor_free (x);
}

static void
test_tile (void)
{
  int64_t dims[3] = { 2, 3, 5 }, rep[3] = { 2, 1, 3 }, od[3] = { 4, 3, 15 };
  MaceTensor *x = rand_tensor (MACE_DTYPE_UINT8, 3, dims);
  MaceTensor *want = th_tensor (MACE_DTYPE_UINT8, 3, od);
  for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
    int64_t idx[3];
    unravel (i, 3, od, idx);
    for (int d = 0; d < 3; d++)
      idx[d] %= dims[d];
    ((uint8_t *)want->data)[i] = ((uint8_t *)x->data)[ravel (3, dims, idx)];
  }
  MaceTensor *in[2] = { x, ints_tensor (3, rep) };
  ThNode *n = th_node_new ("Tile", 2, 1);
  expect ("Tile", run1 ("Tile", n, 13, in, 2), want);
  mace_tensor_free (in[1]);
  th_node_free (n);
  mace_tensor_free (x);
}

static void
test_depth_space (void)
{
  int64_t b = 2, N = 2, C = 3, H = 4, W = 5;
  int64_t idims[4] = { N, C * b * b, H, W }, od[4] = { N, C, H * b, W * b };
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, 4, idims);
  for (int crd = 0; crd < 2; crd++) {
    MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 4, od);
    for (int64_t i = 0; i < mace_tensor_numel (want); i++) {
      int64_t o[4];
      unravel (i, 4, od, o);
      int64_t by = o[2] % b, bx = o[3] % b;
      int64_t c = crd ? o[1] * b * b + by * b + bx : (by * b + bx) * C + o[1];
      ((float *)want->data)[i] = ((float *)x->data)[ravel (
          4, idims, (int64_t[]){ o[0], c, o[2] / b, o[3] / b })];
    }
    ThNode *n = th_node_new ("DepthToSpace", 1, 1);
    th_attr_int (n, "blocksize", b);
    th_attr_string (n, "mode", crd ? "CRD" : "DCR");
    MaceTensor *in[1] = { x };
    MaceTensor *got = run1 ("DepthToSpace", n, 13, in, 1);
    th_node_free (n);
    if (got && !crd) {
      /* SpaceToDepth inverts DCR. */
      th_check_close ("DepthToSpace DCR", got, want, 0, 0);
      n = th_node_new ("SpaceToDepth", 1, 1);
      th_attr_int (n, "blocksize", b);
      in[0] = got;
      MaceTensor *back = run1 ("SpaceToDepth", n, 13, in, 1);
      if (back)
        th_check_close ("SpaceToDepth", back, x, 0, 0);
      mace_tensor_free (back);
      th_node_free (n);
      mace_tensor_free (got);
      mace_tensor_free (want);
    } else {
      expect ("DepthToSpace CRD", got, want);
    }
  }
  mace_tensor_free (x);
}

static void
test_trilu_onehot_compress (void)
{
  int64_t dims[3] = { 2, 4, 6 };
  MaceTensor *x = rand_tensor (MACE_DTYPE_FLOAT32, 3, dims);
  for (int up = 0; up < 2; up++)
    for (int64_t k = -5; k <= 7; k += 3) {
      MaceTensor *want = th_tensor (MACE_DTYPE_FLOAT32, 3, dims);
      for (int64_t i = 0; i < 48; i++) {
        int64_t idx[3];
        unravel (i, 3, dims, idx);
        bool keep = up ? idx[2] - idx[1] >= k : idx[2] - idx[1] <= k;
        ((float *)want->data)[i] = keep ? ((float *)x->data)[i] : 0.0f;
      }
      MaceTensor *kt = th_tensor (MACE_DTYPE_INT64, 0, NULL);
      ((int64_t *)kt->data)[0] = k;
      MaceTensor *in[2] = { x, kt };
      ThNode *n = th_node_new ("Trilu", 2, 1);
      th_attr_int (n, "upper", up);
      expect ("Trilu", run1 ("Trilu", n, 14, in, 1), want);
      th_node_free (n);
      mace_tensor_free (kt);
    }

  /* OneHot, axis 1, negative indices, float depth, out-of-range -> off. */
  MaceTensor *ind = th_tensor (MACE_DTYPE_INT64, TH_DIMS (2, 3));
  int64_t iv[6] = { 0, -1, 4, 2, -4, 9 };
  memcpy (ind->data, iv, sizeof iv);
  MaceTensor *depth = th_tensor (MACE_DTYPE_FLOAT32, 0, NULL);
  ((float *)depth->data)[0] = 4.0f;
  MaceTensor *vals = th_tensor (MACE_DTYPE_INT32, TH_DIMS (2));
  ((int32_t *)vals->data)[0] = -1;
  ((int32_t *)vals->data)[1] = 5;
  MaceTensor *want = th_tensor (MACE_DTYPE_INT32, TH_DIMS (2, 4, 3));
  for (int a = 0; a < 2; a++)
    for (int d = 0; d < 4; d++)
      for (int j = 0; j < 3; j++) {
        int64_t v = iv[a * 3 + j];
        v = v < 0 ? v + 4 : v;
        ((int32_t *)want->data)[(a * 4 + d) * 3 + j] = v == d ? 5 : -1;
      }
  MaceTensor *oin[3] = { ind, depth, vals };
  ThNode *n = th_node_new ("OneHot", 3, 1);
  th_attr_int (n, "axis", 1);
  expect ("OneHot", run1 ("OneHot", n, 11, oin, 1), want);
  th_node_free (n);
  mace_tensor_free (ind);
  mace_tensor_free (depth);
  mace_tensor_free (vals);

  /* Compress on axis 2 with a short condition, and flattened. */
  MaceTensor *cond = th_tensor (MACE_DTYPE_BOOL, TH_DIMS (4));
  uint8_t cv[4] = { 1, 0, 1, 1 };
  memcpy (cond->data, cv, 4);
  want = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (2, 4, 3));
  for (int a = 0; a < 8; a++) {
    int j = 0;
    for (int c = 0; c < 4; c++)
      if (cv[c])
        ((float *)want->data)[a * 3 + j++] = ((float *)x->data)[a * 6 + c];
  }
  MaceTensor *cin[2] = { x, cond };
  n = th_node_new ("Compress", 2, 1);
  th_attr_int (n, "axis", -1);
  expect ("Compress", run1 ("Compress", n, 11, cin, 1), want);
  th_node_free (n);
  n = th_node_new ("Compress", 2, 1);
  MaceTensor *got = run1 ("Compress flat", n, 11, cin, 1);
  if (got
      && (got->ndim != 1 || got->dims[0] != 3
          || ((float *)got->data)[2] != ((float *)x->data)[3]))
    th_fail ("Compress flat", "wrong result");
  mace_tensor_free (got);
  th_node_free (n);
  mace_tensor_free (cond);
  mace_tensor_free (x);
}

typedef struct {
  float v;
  int64_t i;
} Pair;

static int
cmp_desc (const void *a, const void *b)
{
  const Pair *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->i < y->i ? -1 : 1;
}

static void
test_topk (void)
{
  int64_t dims[3] = { 3, 17, 4 };
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, 3, dims);
  /* Few distinct values: plenty of ties. */
  for (int i = 0; i < 3 * 17 * 4; i++)
    ((float *)x->data)[i] = (float)(th_rand_u32 () % 6);
  int64_t K = 5;
  MaceTensor *wv = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (3, 5, 4));
  MaceTensor *wi = th_tensor (MACE_DTYPE_INT64, TH_DIMS (3, 5, 4));
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 4; c++) {
      Pair p[17];
      for (int j = 0; j < 17; j++) {
        p[j].v = ((float *)x->data)[(a * 17 + j) * 4 + c];
        p[j].i = j;
      }
      qsort (p, 17, sizeof *p, cmp_desc);
      for (int j = 0; j < K; j++) {
        ((float *)wv->data)[(a * 5 + j) * 4 + c] = p[j].v;
        ((int64_t *)wi->data)[(a * 5 + j) * 4 + c] = p[j].i;
      }
    }
  MaceTensor *in[2] = { x, ints_tensor (1, &K) }, *out[2] = { NULL, NULL };
  ThNode *n = th_node_new ("TopK", 2, 2);
  th_attr_int (n, "axis", 1);
  if (th_run_op (n, 11, in, out, 1) != MACE_OK) {
    th_fail ("TopK", "failed");
  } else {
    th_check_close ("TopK values", out[0], wv, 0, 0);
    th_check_close ("TopK indices", out[1], wi, 0, 0);
  }
  mace_tensor_free (out[0]);
  mace_tensor_free (out[1]);
  mace_tensor_free (in[1]);
  mace_tensor_free (wv);
  mace_tensor_free (wi);
  th_node_free (n);
  mace_tensor_free (x);
}

static void
test_reverse_sequence (void)
{
  int64_t dims[3] = { 4, 3, 2 }; /* time, batch, feature */
  MaceTensor *x = rand_tensor (MACE_DTYPE_INT64, 3, dims);
  int64_t lens[3] = { 4, 1, 3 };
  MaceTensor *want = th_tensor (MACE_DTYPE_INT64, 3, dims);
  for (int64_t i = 0; i < 24; i++) {
    int64_t idx[3];
    unravel (i, 3, dims, idx);
    if (idx[0] < lens[idx[1]])
      idx[0] = lens[idx[1]] - 1 - idx[0];
    ((int64_t *)want->data)[i] = ((int64_t *)x->data)[ravel (3, dims, idx)];
  }
  MaceTensor *in[2] = { x, ints_tensor (3, lens) };
  ThNode *n = th_node_new ("ReverseSequence", 2, 1);
  th_attr_int (n, "time_axis", 0);
  th_attr_int (n, "batch_axis", 1);
  expect ("ReverseSequence", run1 ("ReverseSequence", n, 10, in, 1), want);
  mace_tensor_free (in[1]);
  th_node_free (n);
  mace_tensor_free (x);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_transpose ();
  test_concat_split ();
  test_slice ();
  test_pad ();
  test_gathers ();
  test_tile ();
  test_depth_space ();
  test_trilu_onehot_compress ();
  test_topk ();
  test_reverse_sequence ();
  return th_finish ();
}
