/* SPDX-License-Identifier: Apache-2.0
 * Resize (opset 10, 11-13, 18 without antialias) and Upsample (7, 9).
 *
 * Separable: every output index of every axis gets up to four taps (input
 * index + weight) from the coordinate transformation and the
 * interpolation mode; an output element is the sum over the product of
 * its axes' taps.  Axes that are not resized get one tap of weight 1, so
 * an N-d linear/cubic resize of any axes is one code path.  Nearest is a
 * gather per row (rows that read the same input row are copied). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PARALLEL_MIN_ELEMS 16384

typedef enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } RMode;

typedef enum {
  CT_HALF_PIXEL,
  CT_PYTORCH_HALF_PIXEL,
  CT_ALIGN_CORNERS,
  CT_ASYMMETRIC,
  CT_TF_HALF_PIXEL_FOR_NN,
  CT_TF_CROP_AND_RESIZE,
  CT_HALF_PIXEL_SYMMETRIC,
} RCoord;

typedef enum {
  NM_ROUND_PREFER_FLOOR,
  NM_ROUND_PREFER_CEIL,
  NM_FLOOR,
  NM_CEIL,
  NM_SIMPLE, /* opset < 11 and Upsample: floor, ceil when downsampling */
} RNearest;

typedef struct {
  RMode mode;
  RCoord ct;
  RNearest nm;
  double cubic_a;
  bool exclude_outside;
  float extrapolation;
  int nd;
  int64_t out[MACE_MAX_DIMS];
  double scale[MACE_MAX_DIMS];
  double len[MACE_MAX_DIMS]; /* resized length: in * scale, or the size */
  double roi_start[MACE_MAX_DIMS], roi_end[MACE_MAX_DIMS];
} RParams;

/* ---- helpers ---------------------------------------------------------- */

static bool
has_input (const MaceOpCtx *ctx, int i)
{
  return i < ctx->n_in && ctx->in[i] != NULL;
}

/* Present and non-empty. */
static bool
has_values (const MaceOpCtx *ctx, int i)
{
  return has_input (ctx, i) && mace_tensor_numel (ctx->in[i]) > 0;
}

/* Writes v into element i of data of type dt (integers round to nearest,
 * saturating, as interpolated integer images expect). */
static void
store_f64 (void *d, MaceDataType dt, int64_t i, double v)
{
  switch (dt) {
    case MACE_DTYPE_FLOAT32: ((float *)d)[i] = (float)v; return;
    case MACE_DTYPE_FLOAT64: ((double *)d)[i] = v; return;
    case MACE_DTYPE_FLOAT16:
      ((uint16_t *)d)[i] = mace_f32_to_half ((float)v);
      return;
    case MACE_DTYPE_BFLOAT16:
      ((uint16_t *)d)[i] = mace_f32_to_bf16 ((float)v);
      return;
    default: break;
  }
  double r = nearbyint (v);
  switch (dt) {
    case MACE_DTYPE_UINT8:
      ((uint8_t *)d)[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
      break;
    case MACE_DTYPE_INT8:
      ((int8_t *)d)[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
      break;
    case MACE_DTYPE_UINT16:
      ((uint16_t *)d)[i] = (uint16_t)(r < 0 ? 0 : r > 65535 ? 65535 : r);
      break;
    case MACE_DTYPE_INT16:
      ((int16_t *)d)[i] = (int16_t)(r < -32768  ? -32768
                                    : r > 32767 ? 32767
                                                : r);
      break;
    case MACE_DTYPE_INT32: ((int32_t *)d)[i] = (int32_t)r; break;
    case MACE_DTYPE_UINT32: ((uint32_t *)d)[i] = (uint32_t)r; break;
    case MACE_DTYPE_INT64: ((int64_t *)d)[i] = (int64_t)r; break;
    case MACE_DTYPE_UINT64: ((uint64_t *)d)[i] = (uint64_t)r; break;
    case MACE_DTYPE_BOOL: ((uint8_t *)d)[i] = r != 0; break;
    default: break;
  }
}

static inline void
copy_elem (uint8_t *dst, const uint8_t *src, size_t es)
{
  switch (es) {
    case 4: memcpy (dst, src, 4); break;
    case 8: memcpy (dst, src, 8); break;
    case 2: memcpy (dst, src, 2); break;
    default: memcpy (dst, src, es);
  }
}

/* ---- attributes ------------------------------------------------------- */

static bool
parse_mode (const char *s, RMode *m)
{
  if (!strcmp (s, "nearest"))
    *m = MODE_NEAREST;
  else if (!strcmp (s, "linear") || !strcmp (s, "bilinear"))
    *m = MODE_LINEAR;
  else if (!strcmp (s, "cubic") || !strcmp (s, "bicubic"))
    *m = MODE_CUBIC;
  else
    return false;
  return true;
}

static bool
parse_ct (const char *s, RCoord *c)
{
  static const char *const names[] = {
    "half_pixel",           "pytorch_half_pixel",   "align_corners",
    "asymmetric",           "tf_half_pixel_for_nn", "tf_crop_and_resize",
    "half_pixel_symmetric",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp (s, names[i])) {
      *c = (RCoord)i;
      return true;
    }
  return false;
}

static bool
parse_nm (const char *s, RNearest *n)
{
  static const char *const names[] = {
    "round_prefer_floor",
    "round_prefer_ceil",
    "floor",
    "ceil",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp (s, names[i])) {
      *n = (RNearest)i;
      return true;
    }
  return false;
}

static bool
is_upsample (const MaceNode *node)
{
  return !strcmp (node->op_type, "Upsample");
}

static MaceStatus
resize_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  RMode m;
  RCoord c;
  RNearest n;
  const char *s = mace_attr_string (node, "mode", "nearest");
  if (!parse_mode (s, &m)
      || (m == MODE_CUBIC && (opset < 11 || is_upsample (node)))) {
    snprintf (msg, len, "mode '%s' is not supported", s);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (is_upsample (node)) {
    if (opset < 9 && !mace_node_attr (node, "scales")) {
      snprintf (msg, len, "Upsample-7 needs a 'scales' attribute");
      return MACE_ERROR_UNSUPPORTED;
    }
    return MACE_OK;
  }
  if (opset < 11)
    return MACE_OK;
  s = mace_attr_string (node, "coordinate_transformation_mode", "half_pixel");
  if (!parse_ct (s, &c) || c == CT_HALF_PIXEL_SYMMETRIC) {
    snprintf (msg, len,
              "coordinate_transformation_mode '%s' is not "
              "supported",
              s);
    return MACE_ERROR_UNSUPPORTED;
  }
  s = mace_attr_string (node, "nearest_mode", "round_prefer_floor");
  if (!parse_nm (s, &n)) {
    snprintf (msg, len, "nearest_mode '%s' is not supported", s);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (mace_attr_int (node, "antialias", 0) != 0) {
    snprintf (msg, len, "antialias is not supported");
    return MACE_ERROR_UNSUPPORTED;
  }
  s = mace_attr_string (node, "keep_aspect_ratio_policy", "stretch");
  if (strcmp (s, "stretch") && strcmp (s, "not_larger")
      && strcmp (s, "not_smaller")) {
    snprintf (msg, len, "keep_aspect_ratio_policy '%s' is not supported", s);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus resize_shape (MaceOpCtx *ctx, RParams *p);

/* Everything but the taps: modes, scales, output shape, roi. */
static MaceStatus
resize_params (MaceOpCtx *ctx, RParams *p)
{
  const MaceNode *node = ctx->node;
  if (!has_input (ctx, 0))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "missing input 0");
  const MaceTensor *x = ctx->in[0];
  int r = x->ndim;
  p->nd = r;
  if (!parse_mode (mace_attr_string (node, "mode", "nearest"), &p->mode))
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "unknown mode");
  p->cubic_a = -0.75;
  p->exclude_outside = false;
  p->extrapolation = 0.0f;
  for (int d = 0; d < r; d++) {
    p->roi_start[d] = 0.0;
    p->roi_end[d] = 1.0;
    p->scale[d] = 1.0;
    p->out[d] = x->dims[d];
  }
  MaceStatus st = resize_shape (ctx, p);
  for (int d = 0; d < r; d++)
    if (p->len[d] < 0)
      p->len[d] = (double)x->dims[d] * p->scale[d];
  return st;
}

static MaceStatus
resize_shape (MaceOpCtx *ctx, RParams *p)
{
  const MaceNode *node = ctx->node;
  const MaceTensor *x = ctx->in[0];
  int r = x->ndim;
  for (int d = 0; d < r; d++)
    p->len[d] = -1.0;
  bool legacy = is_upsample (node) || ctx->opset < 11;
  const MaceTensor *scales = NULL, *sizes = NULL;
  if (legacy) {
    p->ct = CT_ASYMMETRIC;
    p->nm = NM_SIMPLE;
    if (is_upsample (node) && ctx->opset < 9) {
      int n;
      const float *f = mace_attr_floats (node, "scales", &n);
      if (!f || n != r)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                             "scales has %d entries for rank %d", n, r);
      for (int d = 0; d < r; d++) {
        p->scale[d] = f[d];
        p->out[d] = (int64_t)floor ((double)x->dims[d] * f[d]);
      }
      return MACE_OK;
    }
    if (has_values (ctx, 1))
      scales = ctx->in[1];
  } else {
    if (!parse_ct (mace_attr_string (node, "coordinate_transformation_mode",
                                     "half_pixel"),
                   &p->ct)
        || !parse_nm (
            mace_attr_string (node, "nearest_mode", "round_prefer_floor"),
            &p->nm))
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "unknown mode");
    p->cubic_a = mace_attr_float (node, "cubic_coeff_a", -0.75f);
    p->exclude_outside = mace_attr_int (node, "exclude_outside", 0) != 0;
    p->extrapolation = mace_attr_float (node, "extrapolation_value", 0.0f);
    if (has_values (ctx, 2))
      scales = ctx->in[2];
    if (has_values (ctx, 3))
      sizes = ctx->in[3];
  }
  /* Axes (opset 18): scales / sizes / roi cover only these. */
  int64_t axes[MACE_MAX_DIMS];
  int na = r;
  int ac;
  const int64_t *aa = legacy ? NULL : mace_attr_ints (node, "axes", &ac);
  if (aa) {
    if (ac > r)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "too many axes");
    na = ac;
    for (int i = 0; i < na; i++) {
      axes[i] = aa[i] < 0 ? aa[i] + r : aa[i];
      if (axes[i] < 0 || axes[i] >= r)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
    }
  } else {
    for (int i = 0; i < r; i++)
      axes[i] = i;
  }
  if (!legacy && p->ct == CT_TF_CROP_AND_RESIZE && has_values (ctx, 1)) {
    const MaceTensor *roi = ctx->in[1];
    if (!roi->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "roi values unknown");
    if (mace_tensor_numel (roi) != 2 * na)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "roi has %lld entries for %d axes",
                           (long long)mace_tensor_numel (roi), na);
    for (int i = 0; i < na; i++) {
      p->roi_start[axes[i]] = mace_tensor_get_f64 (roi, i);
      p->roi_end[axes[i]] = mace_tensor_get_f64 (roi, na + i);
    }
  }
  if (sizes) {
    if (scales)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "both scales and sizes are given");
    if (!sizes->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "sizes values unknown");
    if (mace_tensor_numel (sizes) != na)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "sizes has %lld entries for %d axes",
                           (long long)mace_tensor_numel (sizes), na);
    const char *pol
        = mace_attr_string (node, "keep_aspect_ratio_policy", "stretch");
    if (!strcmp (pol, "stretch")) {
      for (int i = 0; i < na; i++) {
        int64_t d = axes[i], s = mace_tensor_get_i64 (sizes, i);
        if (s < 0)
          return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "negative size");
        p->out[d] = s;
        p->len[d] = (double)s;
        p->scale[d] = x->dims[d] ? (double)s / (double)x->dims[d] : 1.0;
      }
    } else {
      bool larger = !strcmp (pol, "not_smaller");
      double sc = larger ? 0.0 : INFINITY;
      for (int i = 0; i < na; i++) {
        int64_t d = axes[i];
        double s = x->dims[d] ? (double)mace_tensor_get_i64 (sizes, i)
                                    / (double)x->dims[d]
                              : 1.0;
        sc = larger ? fmax (sc, s) : fmin (sc, s);
      }
      for (int i = 0; i < na; i++) {
        int64_t d = axes[i];
        p->scale[d] = sc;
        p->out[d] = (int64_t)floor ((double)x->dims[d] * sc + 0.5);
      }
    }
  } else if (scales) {
    if (!scales->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "scales values unknown");
    if (mace_tensor_numel (scales) != na)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "scales has %lld entries for %d axes",
                           (long long)mace_tensor_numel (scales), na);
    for (int i = 0; i < na; i++) {
      int64_t d = axes[i];
      double s = mace_tensor_get_f64 (scales, i);
      if (!(s > 0))
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                             "scale %g is not positive", s);
      p->scale[d] = s;
      p->out[d] = (int64_t)floor ((double)x->dims[d] * s);
    }
  } else {
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "neither scales nor sizes is given");
  }
  return MACE_OK;
}

static MaceStatus
resize_infer (MaceOpCtx *ctx)
{
  RParams p;
  MaceStatus st = resize_params (ctx, &p);
  if (st)
    return st;
  mace_tensor_init (ctx->out[0], ctx->in[0]->dtype, p.nd, p.out);
  return MACE_OK;
}

/* ---- taps ------------------------------------------------------------- */

typedef struct {
  int64_t idx[4];
  float w[4];
  int n;
  bool ext; /* outside the crop: extrapolation value */
} Tap;

static double
original_coord (const RParams *p, int d, int64_t xo, int64_t in)
{
  double x = (double)xo, s = p->scale[d];
  int64_t out = p->out[d];
  switch (p->ct) {
    case CT_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case CT_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: {
      /* The resized length is in * scale, not rounded (as in ONNX's
       * reference): it differs from `out` for fractional scales. */
      double len = p->len[d];
      return len == 1.0 ? 0.0 : x * (double)(in - 1) / (len - 1.0);
    }
    case CT_ASYMMETRIC: return x / s;
    case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
      double a = p->roi_start[d], b = p->roi_end[d];
      if (out > 1)
        return a * (double)(in - 1)
               + x * (b - a) * (double)(in - 1) / (double)(out - 1);
      return 0.5 * (a + b) * (double)(in - 1);
    }
    default: return x / s;
  }
}

static inline int64_t
clampi (int64_t v, int64_t n)
{
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}

static void
cubic_coeffs (double t, double A, double c[4])
{
  double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
  c[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
  c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  c[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
  c[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

static void
make_taps (const RParams *p, int d, int64_t in, Tap *taps)
{
  for (int64_t o = 0; o < p->out[d]; o++) {
    Tap *t = &taps[o];
    double x = original_coord (p, d, o, in);
    t->ext = false;
    t->n = 1;
    t->w[0] = 1.0f;
    if (p->ct == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1))) {
      t->ext = true;
      t->idx[0] = 0;
      continue;
    }
    double fl = floor (x), fr = x - fl;
    if (p->mode == MODE_NEAREST) {
      double v;
      switch (p->nm) {
        case NM_ROUND_PREFER_FLOOR: v = fr == 0.5 ? fl : floor (x + 0.5); break;
        case NM_ROUND_PREFER_CEIL: v = floor (x + 0.5); break;
        case NM_FLOOR: v = fl; break;
        case NM_CEIL: v = ceil (x); break;
        default: v = p->scale[d] < 1.0 ? ceil (x) : fl; break;
      }
      t->idx[0] = clampi ((int64_t)v, in);
      continue;
    }
    int64_t x0 = (int64_t)fl;
    if (p->mode == MODE_LINEAR) {
      t->idx[0] = clampi (x0, in);
      t->w[0] = (float)(1.0 - fr);
      t->idx[1] = clampi (x0 + 1, in);
      t->w[1] = (float)fr;
      t->n = 2;
    } else {
      double c[4], sum = 0;
      cubic_coeffs (fr, p->cubic_a, c);
      for (int k = 0; k < 4; k++) {
        int64_t i = x0 - 1 + k;
        if (p->exclude_outside && (i < 0 || i >= in))
          c[k] = 0;
        sum += c[k];
      }
      for (int k = 0; k < 4; k++) {
        t->idx[k] = clampi (x0 - 1 + k, in);
        t->w[k] = (float)(p->exclude_outside && sum != 0 ? c[k] / sum : c[k]);
      }
      t->n = 4;
    }
    /* Drop zero weights and merge taps that clamp to the same index. */
    int n = 0;
    for (int k = 0; k < t->n; k++) {
      if (t->w[k] == 0.0f)
        continue;
      int j;
      for (j = 0; j < n; j++)
        if (t->idx[j] == t->idx[k])
          break;
      if (j < n) {
        t->w[j] += t->w[k];
      } else {
        t->idx[n] = t->idx[k];
        t->w[n] = t->w[k];
        n++;
      }
    }
    if (n == 0) {
      t->idx[0] = clampi (x0, in);
      t->w[0] = 0.0f;
      n = 1;
    }
    t->n = n;
  }
}

/* ---- run -------------------------------------------------------------- */

typedef struct {
  const MaceTensor *x;
  MaceTensor *o;
  size_t es;
  int nd;
  bool nearest;
  Tap *taps[MACE_MAX_DIMS];
  int64_t *lidx; /* nearest: last axis source index, compact */
  bool lext_any; /* some last-axis output is extrapolated */
  /* Linear on float32: last axis as two compact taps (the second may have
   * weight 0), or NULL when some output has more taps. */
  int64_t *l2i0, *l2i1;
  float *l2w0, *l2w1;
  int64_t istr[MACE_MAX_DIMS];
  uint8_t ext_val[16];
  float ext_f;
  bool oom;
} RArgs;

static void
resize_rows (void *arg, int64_t begin, int64_t end)
{
  RArgs *a = arg;
  const MaceTensor *x = a->x;
  MaceTensor *o = a->o;
  int nd = a->nd;
  size_t es = a->es;
  int64_t W = o->dims[nd - 1];
  const Tap *lt = a->taps[nd - 1];
  const uint8_t *src = x->data;
  uint8_t *dst = o->data;
  int64_t idx[MACE_MAX_DIMS] = { 0 };
  int64_t r = begin;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = r % o->dims[d];
    r /= o->dims[d];
  }
  bool f32 = x->dtype == MACE_DTYPE_FLOAT32;
  float *accf = NULL;
  double *accd = NULL;
  if (!a->nearest) {
    if (f32)
      accf = malloc (sizeof (float) * (size_t)W);
    else
      accd = malloc (sizeof (double) * (size_t)W);
    if (!accf && !accd) {
      a->oom = true;
      return;
    }
  }
  int64_t prev_off = -1;
  for (int64_t row = begin; row < end; row++) {
    uint8_t *drow = dst + row * W * (int64_t)es;
    bool ext = false;
    for (int d = 0; d < nd - 1; d++)
      ext |= a->taps[d][idx[d]].ext;
    if (ext) {
      for (int64_t i = 0; i < W; i++)
        memcpy (drow + i * (int64_t)es, a->ext_val, es);
      prev_off = -1;
    } else if (a->nearest) {
      int64_t off = 0;
      for (int d = 0; d < nd - 1; d++)
        off += a->taps[d][idx[d]].idx[0] * a->istr[d];
      if (off == prev_off) {
        memcpy (drow, drow - W * (int64_t)es, (size_t)W * es);
      } else {
        const uint8_t *srow = src + off * (int64_t)es;
        if (es == 4 && !a->lext_any) {
          const uint32_t *s4 = (const uint32_t *)(const void *)srow;
          uint32_t *d4 = (uint32_t *)(void *)drow;
          const int64_t *li = a->lidx;
          for (int64_t i = 0; i < W; i++)
            d4[i] = s4[li[i]];
        } else if (es == 4) {
          const uint32_t *s4 = (const uint32_t *)(const void *)srow;
          uint32_t *d4 = (uint32_t *)(void *)drow;
          for (int64_t i = 0; i < W; i++)
            d4[i] = lt[i].ext ? *(const uint32_t *)(const void *)a->ext_val
                              : s4[lt[i].idx[0]];
        } else {
          for (int64_t i = 0; i < W; i++)
            copy_elem (
                drow + i * (int64_t)es,
                lt[i].ext ? a->ext_val : srow + lt[i].idx[0] * (int64_t)es, es);
        }
      }
      prev_off = off;
    } else {
      if (f32)
        memset (accf, 0, sizeof (float) * (size_t)W);
      else
        memset (accd, 0, sizeof (double) * (size_t)W);
      /* Enumerate the combinations of the leading axes' taps. */
      int c[MACE_MAX_DIMS] = { 0 };
      for (;;) {
        int64_t off = 0;
        double w = 1.0;
        for (int d = 0; d < nd - 1; d++) {
          const Tap *t = &a->taps[d][idx[d]];
          off += t->idx[c[d]] * a->istr[d];
          w *= t->w[c[d]];
        }
        if (w != 0.0) {
          if (f32 && a->l2i0) {
            const float *s = (const float *)x->data + off;
            float wf = (float)w;
            const int64_t *i0 = a->l2i0, *i1 = a->l2i1;
            const float *w0 = a->l2w0, *w1 = a->l2w1;
            for (int64_t i = 0; i < W; i++)
              accf[i] += wf * (w0[i] * s[i0[i]] + w1[i] * s[i1[i]]);
          } else if (f32) {
            const float *s = (const float *)x->data + off;
            float wf = (float)w;
            for (int64_t i = 0; i < W; i++) {
              const Tap *t = &lt[i];
              float v = t->w[0] * s[t->idx[0]];
              for (int k = 1; k < t->n; k++)
                v += t->w[k] * s[t->idx[k]];
              accf[i] += wf * v;
            }
          } else {
            for (int64_t i = 0; i < W; i++) {
              const Tap *t = &lt[i];
              double v = 0;
              for (int k = 0; k < t->n; k++)
                v += t->w[k] * mace_tensor_get_f64 (x, off + t->idx[k]);
              accd[i] += w * v;
            }
          }
        }
        int d = nd - 2;
        for (; d >= 0; d--) {
          if (++c[d] < a->taps[d][idx[d]].n)
            break;
          c[d] = 0;
        }
        if (d < 0)
          break;
      }
      for (int64_t i = 0; i < W; i++) {
        if (lt[i].ext) {
          memcpy (drow + i * (int64_t)es, a->ext_val, es);
        } else if (f32) {
          ((float *)(void *)drow)[i] = accf[i];
        } else {
          store_f64 (o->data, o->dtype, row * W + i, accd[i]);
        }
      }
    }
    for (int d = nd - 2; d >= 0; d--) {
      if (++idx[d] < o->dims[d])
        break;
      idx[d] = 0;
    }
  }
  free (accf);
  free (accd);
}

static MaceStatus
resize_run (MaceOpCtx *ctx)
{
  RParams p;
  MaceStatus st = resize_params (ctx, &p);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t total = mace_tensor_numel (o);
  if (total == 0)
    return MACE_OK;
  size_t es = mace_dtype_size (x->dtype);
  if (mace_tensor_numel (x) == 0)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "cannot resize an empty tensor to a non-empty one");
  if (x->ndim == 0) {
    memcpy (o->data, x->data, es);
    return MACE_OK;
  }
  RArgs a = {
    .x = x, .o = o, .es = es, .nd = x->ndim, .nearest = p.mode == MODE_NEAREST
  };
  memset (a.ext_val, 0, sizeof a.ext_val);
  store_f64 (a.ext_val, x->dtype, 0, p.extrapolation);
  int64_t ntaps = 0;
  for (int d = 0; d < x->ndim; d++)
    ntaps += o->dims[d];
  Tap *buf = malloc (sizeof (Tap) * (size_t)ntaps);
  if (!buf)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  Tap *tp = buf;
  int64_t s = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    a.istr[d] = s;
    s *= x->dims[d];
  }
  for (int d = 0; d < x->ndim; d++) {
    a.taps[d] = tp;
    make_taps (&p, d, x->dims[d], tp);
    tp += o->dims[d];
  }
  int last = x->ndim - 1;
  int64_t *lidx = malloc (sizeof (int64_t) * (size_t)o->dims[last]);
  if (!lidx) {
    free (buf);
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  for (int64_t i = 0; i < o->dims[last]; i++) {
    lidx[i] = a.taps[last][i].idx[0];
    a.lext_any |= a.taps[last][i].ext;
  }
  a.lidx = lidx;
  void *l2 = NULL;
  bool two = !a.nearest && x->dtype == MACE_DTYPE_FLOAT32;
  for (int64_t i = 0; two && i < o->dims[last]; i++)
    two = a.taps[last][i].n <= 2;
  if (two
      && (l2 = malloc ((2 * sizeof (int64_t) + 2 * sizeof (float))
                       * (size_t)o->dims[last]))) {
    int64_t W = o->dims[last];
    a.l2i0 = l2;
    a.l2i1 = a.l2i0 + W;
    a.l2w0 = (float *)(void *)(a.l2i1 + W);
    a.l2w1 = a.l2w0 + W;
    for (int64_t i = 0; i < W; i++) {
      const Tap *t = &a.taps[last][i];
      a.l2i0[i] = t->idx[0];
      a.l2w0[i] = t->w[0];
      a.l2i1[i] = t->n > 1 ? t->idx[1] : t->idx[0];
      a.l2w1[i] = t->n > 1 ? t->w[1] : 0.0f;
    }
  }
  int64_t rows = total / o->dims[last];
  if (ctx->pool && total >= PARALLEL_MIN_ELEMS)
    mace_parallel_for (ctx->pool, rows, resize_rows, &a);
  else
    resize_rows (&a, 0, rows);
  free (l2);
  free (lidx);
  free (buf);
  if (a.oom)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  return MACE_OK;
}

/* ---- table ------------------------------------------------------------ */

const MaceOpDef mace_ops_resize[] = {
  { "Resize", resize_check, resize_infer, resize_run, 0xeu, NULL },
  { "Upsample", resize_check, resize_infer, resize_run, 1u << 1, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
