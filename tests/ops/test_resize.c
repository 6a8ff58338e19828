/* SPDX-License-Identifier: Apache-2.0
 * Resize / Upsample against a direct reference written here: for every
 * output element, the textbook coordinate transform of each axis and a
 * loop over the neighbourhood with the interpolation kernel. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "harness.h"

typedef struct {
  const char *mode;    /* nearest / linear / cubic */
  const char *ct;      /* coordinate_transformation_mode */
  const char *nearest; /* nearest_mode */
  double a;            /* cubic_coeff_a */
  bool exclude;
} RefCfg;

static double
ref_coord (const RefCfg *c, double xo, double scale, int64_t in, int64_t out)
{
  if (!strcmp (c->ct, "half_pixel"))
    return (xo + 0.5) / scale - 0.5;
  if (!strcmp (c->ct, "pytorch_half_pixel"))
    return out > 1 ? (xo + 0.5) / scale - 0.5 : 0.0;
  if (!strcmp (c->ct, "align_corners"))
    return out > 1 ? xo * (double)(in - 1) / (double)(out - 1) : 0.0;
  if (!strcmp (c->ct, "tf_half_pixel_for_nn"))
    return (xo + 0.5) / scale;
  return xo / scale; /* asymmetric */
}

static double
cubic_w (double d, double A)
{
  d = fabs (d);
  if (d <= 1)
    return ((A + 2) * d - (A + 3)) * d * d + 1;
  if (d < 2)
    return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
  return 0;
}

/* Taps of one axis for output coordinate o: up to 4 (index, weight). */
static int
ref_taps (const RefCfg *c, int64_t o, double scale, int64_t in, int64_t out,
          int64_t *idx, double *w)
{
  double x = ref_coord (c, (double)o, scale, in, out);
  if (!strcmp (c->mode, "nearest")) {
    double r;
    if (!strcmp (c->nearest, "floor"))
      r = floor (x);
    else if (!strcmp (c->nearest, "ceil"))
      r = ceil (x);
    else if (!strcmp (c->nearest, "round_prefer_ceil"))
      r = floor (x + 0.5);
    else
      r = ceil (x - 0.5); /* round_prefer_floor */
    int64_t i = (int64_t)r;
    idx[0] = i < 0 ? 0 : i >= in ? in - 1 : i;
    w[0] = 1;
    return 1;
  }
  int64_t x0 = (int64_t)floor (x);
  if (!strcmp (c->mode, "linear")) {
    double f = x - (double)x0;
    idx[0] = x0 < 0 ? 0 : x0 >= in ? in - 1 : x0;
    idx[1] = x0 + 1 < 0 ? 0 : x0 + 1 >= in ? in - 1 : x0 + 1;
    w[0] = 1 - f;
    w[1] = f;
    return 2;
  }
  double sum = 0;
  for (int k = 0; k < 4; k++) {
    int64_t i = x0 - 1 + k;
    w[k] = cubic_w (x - (double)i, c->a);
    if (c->exclude && (i < 0 || i >= in))
      w[k] = 0;
    sum += w[k];
    idx[k] = i < 0 ? 0 : i >= in ? in - 1 : i;
  }
  if (c->exclude)
    for (int k = 0; k < 4; k++)
      w[k] /= sum;
  return 4;
}

/* 4-D reference on float32 with per-axis scales. */
static MaceTensor *
ref_resize (const RefCfg *c, const MaceTensor *x, const double *scale,
            const int64_t *od)
{
  MaceTensor *y = th_tensor (MACE_DTYPE_FLOAT32, 4, od);
  const float *s = x->data;
  float *d = y->data;
  const int64_t *id = x->dims;
  for (int64_t n = 0; n < od[0]; n++)
    for (int64_t ch = 0; ch < od[1]; ch++)
      for (int64_t h = 0; h < od[2]; h++)
        for (int64_t w = 0; w < od[3]; w++) {
          int64_t i0[4], i1[4], i2[4], i3[4];
          double w0[4], w1[4], w2[4], w3[4];
          int n0 = ref_taps (c, n, scale[0], id[0], od[0], i0, w0);
          int n1 = ref_taps (c, ch, scale[1], id[1], od[1], i1, w1);
          int n2 = ref_taps (c, h, scale[2], id[2], od[2], i2, w2);
          int n3 = ref_taps (c, w, scale[3], id[3], od[3], i3, w3);
          double acc = 0;
          for (int a = 0; a < n0; a++)
            for (int b = 0; b < n1; b++)
              for (int e = 0; e < n2; e++)
                for (int f = 0; f < n3; f++)
                  acc += w0[a] * w1[b] * w2[e] * w3[f]
                         * s[((i0[a] * id[1] + i1[b]) * id[2] + i2[e]) * id[3]
                             + i3[f]];
          d[((n * od[1] + ch) * od[2] + h) * od[3] + w] = (float)acc;
        }
  return y;
}

static void
one_case (const char *what, const RefCfg *c, const int64_t *idims,
          const double *scales, bool use_sizes, int threads)
{
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, 4, idims);
  th_fill_uniform (x, -1, 1);
  int64_t od[4];
  double eff[4];
  for (int d = 0; d < 4; d++) {
    od[d] = (int64_t)floor ((double)idims[d] * (float)scales[d]);
    eff[d] = use_sizes ? (double)od[d] / (double)idims[d]
                       : (double)(float)scales[d];
  }
  MaceTensor *want = ref_resize (c, x, eff, od);
  ThNode *n = th_node_new ("Resize", 4, 1);
  th_attr_string (n, "mode", c->mode);
  th_attr_string (n, "coordinate_transformation_mode", c->ct);
  th_attr_string (n, "nearest_mode", c->nearest);
  th_attr_float (n, "cubic_coeff_a", (float)c->a);
  th_attr_int (n, "exclude_outside", c->exclude);
  MaceTensor *roi = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (0));
  MaceTensor *sc = NULL, *sz = NULL;
  if (use_sizes) {
    sz = th_tensor (MACE_DTYPE_INT64, TH_DIMS (4));
    memcpy (sz->data, od, sizeof od);
  } else {
    sc = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (4));
    for (int d = 0; d < 4; d++)
      ((float *)sc->data)[d] = (float)scales[d];
  }
  MaceTensor *in[4] = { x, roi, sc, sz }, *out[1] = { NULL };
  if (th_run_op (n, 13, in, out, threads) != MACE_OK)
    th_fail (what, "failed");
  else
    th_check_close (what, out[0], want, 1e-4, 1e-5);
  mace_tensor_free (out[0]);
  mace_tensor_free (want);
  mace_tensor_free (roi);
  mace_tensor_free (sc);
  mace_tensor_free (sz);
  mace_tensor_free (x);
  th_node_free (n);
}

static void
test_resize_modes (void)
{
  const RefCfg cfgs[] = {
    { "nearest", "asymmetric", "floor", -0.75, false },
    { "nearest", "half_pixel", "round_prefer_floor", -0.75, false },
    { "nearest", "align_corners", "round_prefer_ceil", -0.75, false },
    { "nearest", "tf_half_pixel_for_nn", "ceil", -0.75, false },
    { "nearest", "pytorch_half_pixel", "round_prefer_floor", -0.75, false },
    { "linear", "half_pixel", "round_prefer_floor", -0.75, false },
    { "linear", "align_corners", "round_prefer_floor", -0.75, false },
    { "linear", "pytorch_half_pixel", "round_prefer_floor", -0.75, false },
    { "linear", "asymmetric", "round_prefer_floor", -0.75, false },
    { "cubic", "half_pixel", "round_prefer_floor", -0.75, false },
    { "cubic", "asymmetric", "round_prefer_floor", -0.5, true },
    { "cubic", "align_corners", "round_prefer_floor", -0.75, false },
  };
  const double scales[][4] = {
    { 1, 1, 2, 2 },
    { 1, 1, 0.5, 0.75 },
    { 1, 1, 3, 1.7 },
    { 1, 1, 1, 0.6 },
  };
  int64_t idims[4] = { 2, 3, 9, 13 };
  for (size_t c = 0; c < G_N_ELEMENTS (cfgs); c++)
    for (size_t s = 0; s < G_N_ELEMENTS (scales); s++)
      for (int sizes = 0; sizes < 2; sizes++) {
        /* align_corners with scales uses in*scale, not the rounded size;
         * the reference uses the rounded size: compare with sizes only. */
        if (!strcmp (cfgs[c].ct, "align_corners") && !sizes)
          continue;
        char what[160];
        snprintf (what, sizeof what, "Resize %s %s %s scale %zu %s",
                  cfgs[c].mode, cfgs[c].ct, cfgs[c].nearest, s,
                  sizes ? "sizes" : "scales");
        one_case (what, &cfgs[c], idims, scales[s], sizes != 0,
                  (int)(1 + s % 3));
      }
  /* Linear over all four axes (n-d linear), big enough for the pool. */
  RefCfg lin = { "linear", "half_pixel", "round_prefer_floor", -0.75, false };
  one_case ("Resize linear 4-d", &lin, (int64_t[]){ 2, 3, 40, 50 },
            (double[]){ 1.5, 2, 1.25, 2 }, false, 2);
  RefCfg nn = { "nearest", "asymmetric", "floor", -0.75, false };
  one_case ("Resize nearest big", &nn, (int64_t[]){ 1, 16, 64, 64 },
            (double[]){ 1, 1, 2, 2 }, false, 2);
}

static void
test_upsample (void)
{
  int64_t idims[4] = { 1, 2, 3, 4 };
  MaceTensor *x = th_tensor (MACE_DTYPE_FLOAT32, 4, idims);
  th_fill_uniform (x, -1, 1);
  double sc[4] = { 1, 1, 2, 3 };
  int64_t od[4] = { 1, 2, 6, 12 };
  const char *modes[] = { "nearest", "linear" };
  for (int m = 0; m < 2; m++) {
    RefCfg c = { modes[m], "asymmetric", "floor", -0.75, false };
    MaceTensor *want = ref_resize (&c, x, sc, od);
    for (int opset = 7; opset <= 9; opset += 2) {
      ThNode *n = th_node_new ("Upsample", opset == 7 ? 1 : 2, 1);
      th_attr_string (n, "mode", modes[m]);
      MaceTensor *s = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (4));
      for (int d = 0; d < 4; d++)
        ((float *)s->data)[d] = (float)sc[d];
      if (opset == 7)
        th_attr_floats (n, "scales", 4, s->data);
      MaceTensor *in[2] = { x, s }, *out[1] = { NULL };
      if (th_run_op (n, opset, in, out, 1) != MACE_OK)
        th_fail ("Upsample", "opset %d %s failed", opset, modes[m]);
      else
        th_check_close ("Upsample", out[0], want, 1e-5, 1e-6);
      mace_tensor_free (out[0]);
      mace_tensor_free (s);
      th_node_free (n);
    }
    mace_tensor_free (want);
  }
  mace_tensor_free (x);
}

static void
test_edge_cases (void)
{
  /* uint8 nearest keeps exact bytes. */
  MaceTensor *x = th_tensor (MACE_DTYPE_UINT8, TH_DIMS (1, 1, 2, 2));
  uint8_t v[4] = { 10, 200, 30, 255 };
  memcpy (x->data, v, 4);
  MaceTensor *sz = th_tensor (MACE_DTYPE_INT64, TH_DIMS (4));
  int64_t od[4] = { 1, 1, 4, 4 };
  memcpy (sz->data, od, sizeof od);
  ThNode *n = th_node_new ("Resize", 4, 1);
  th_attr_string (n, "mode", "nearest");
  th_attr_string (n, "coordinate_transformation_mode", "asymmetric");
  th_attr_string (n, "nearest_mode", "floor");
  MaceTensor *in[4] = { x, NULL, NULL, sz }, *out[1] = { NULL };
  if (th_run_op (n, 13, in, out, 1) != MACE_OK) {
    th_fail ("Resize uint8", "failed");
  } else {
    const uint8_t *o = out[0]->data;
    for (int i = 0; i < 16; i++)
      if (o[i] != v[(i / 8) * 2 + (i % 4) / 2])
        th_fail ("Resize uint8", "element %d", i);
  }
  mace_tensor_free (out[0]);
  th_node_free (n);

  /* tf_crop_and_resize: outside the crop is extrapolation_value. */
  MaceTensor *xf = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (1, 1, 2, 2));
  float fv[4] = { 1, 2, 3, 4 };
  memcpy (xf->data, fv, sizeof fv);
  MaceTensor *roi = th_tensor (MACE_DTYPE_FLOAT32, TH_DIMS (8));
  float rv[8] = { 0, 0, 0, 0, 1, 1, 1, 2 };
  memcpy (roi->data, rv, sizeof rv);
  n = th_node_new ("Resize", 4, 1);
  th_attr_string (n, "mode", "linear");
  th_attr_string (n, "coordinate_transformation_mode", "tf_crop_and_resize");
  th_attr_float (n, "extrapolation_value", -9.0f);
  MaceTensor *in2[4] = { xf, roi, NULL, sz };
  if (th_run_op (n, 13, in2, out, 1) != MACE_OK) {
    th_fail ("Resize crop", "failed");
  } else {
    /* W: x = j * 2 / 3 -> 0, 0.667, 1.333 (out), 2 (out). */
    const float *o = out[0]->data;
    float want_r0[4] = { 1, 1 + 2.0f / 3, -9, -9 };
    for (int j = 0; j < 4; j++)
      if (fabsf (o[j] - want_r0[j]) > 1e-5f)
        th_fail ("Resize crop", "row 0 col %d: %g vs %g", j, o[j], want_r0[j]);
  }
  mace_tensor_free (out[0]);
  th_node_free (n);
  mace_tensor_free (roi);
  mace_tensor_free (xf);

  /* Neither scales nor sizes: an error. */
  n = th_node_new ("Resize", 4, 1);
  MaceTensor *in3[4] = { x, NULL, NULL, NULL };
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 13, in3, out, 1) == MACE_OK)
    th_fail ("Resize", "missing scales and sizes should fail");
  mace_tensor_free (out[0]);
  th_node_free (n);
  /* antialias is declared unsupported. */
  n = th_node_new ("Resize", 4, 1);
  th_attr_int (n, "antialias", 1);
  out[0] = NULL;
  fprintf (stderr, "(an error message is expected next)\n");
  if (th_run_op (n, 18, in, out, 1) != MACE_ERROR_UNSUPPORTED)
    th_fail ("Resize", "antialias should be unsupported");
  mace_tensor_free (out[0]);
  th_node_free (n);
  mace_tensor_free (sz);
  mace_tensor_free (x);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  test_resize_modes ();
  test_upsample ();
  test_edge_cases ();
  return th_finish ();
}
