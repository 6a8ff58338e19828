/* SPDX-License-Identifier: Apache-2.0
 * Video frame -> model input on the CPU: colour conversion, bilinear
 * resize at pixel centres, normalisation and layout in one pass, rows in
 * parallel.  kernels/preprocess.cl is the same computation on a device. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "frame.h"

/* MACE_FRAME_NO_SIMD: the scalar rows only (tests/test_frame_simd.c). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(MACE_FRAME_NO_SIMD)
#include <immintrin.h>
#define MACE_FRAME_AVX2 1
#endif

void
mace_preprocess_init (MacePreprocess *pp)
{
  memset (pp, 0, sizeof *pp);
  pp->layout = MACE_TENSOR_NHWC;
  for (int k = 0; k < 3; k++)
    pp->scale[k] = 1.0f;
  pp->fit = MACE_FIT_STRETCH;
}

int
mace_frame_n_planes (MaceFrameFormat f)
{
  return f == MACE_FRAME_I420 ? 3 : f == MACE_FRAME_NV12 ? 2 : 1;
}

static int
plane_rows (const MaceFrame *f, int p)
{
  return p == 0 ? f->height : (f->height + 1) / 2;
}

/* Bytes of one row that a plane must hold at least. */
static int64_t
plane_row_bytes (const MaceFrame *f, int p)
{
  switch (f->format) {
    case MACE_FRAME_RGB:
    case MACE_FRAME_BGR: return (int64_t)f->width * 3;
    case MACE_FRAME_I420: return p == 0 ? f->width : (f->width + 1) / 2;
    case MACE_FRAME_NV12: return p == 0 ? f->width : ((f->width + 1) / 2) * 2;
    default: return (int64_t)f->width * 4;
  }
}

size_t
mace_frame_plane_bytes (const MaceFrame *f, int p)
{
  /* The last row need only hold its pixels, not a whole stride. */
  int rows = plane_rows (f, p);
  return (size_t)f->stride[p] * (size_t)(rows - 1)
         + (size_t)plane_row_bytes (f, p);
}

MaceStatus
mace_frame_plan (const MaceFrame *f, const MacePreprocess *pp, int mw, int mh,
                 MaceFramePlan *p, MaceError *err)
{
  memset (p, 0, sizeof *p);
  if ((int)f->format < MACE_FRAME_RGB || f->format > MACE_FRAME_NV12) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG, "frame: unknown format %d",
                    (int)f->format);
    return MACE_ERROR_INVALID_ARG;
  }
  if (f->width <= 0 || f->height <= 0 || mw <= 0 || mh <= 0) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG,
                    "frame: bad size %dx%d for a %dx%d model input", f->width,
                    f->height, mw, mh);
    return MACE_ERROR_INVALID_ARG;
  }
  for (int k = 0; k < mace_frame_n_planes (f->format); k++) {
    if (!f->data[k] && !f->cl_mem[k]) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "frame: plane %d has neither data nor a cl_mem", k);
      return MACE_ERROR_INVALID_ARG;
    }
    if (f->stride[k] < plane_row_bytes (f, k)) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "frame: plane %d stride %d is below its row size %lld", k,
                      f->stride[k], (long long)plane_row_bytes (f, k));
      return MACE_ERROR_INVALID_ARG;
    }
  }
  p->format = f->format;
  p->sw = f->width;
  p->sh = f->height;
  p->crop_x = pp->crop_w > 0 ? pp->crop_x : 0;
  p->crop_y = pp->crop_h > 0 ? pp->crop_y : 0;
  p->crop_w = pp->crop_w > 0 ? pp->crop_w : f->width;
  p->crop_h = pp->crop_h > 0 ? pp->crop_h : f->height;
  if (p->crop_x < 0 || p->crop_y < 0 || p->crop_x + p->crop_w > f->width
      || p->crop_y + p->crop_h > f->height) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG,
                    "frame: crop %dx%d+%d+%d is outside the %dx%d frame",
                    p->crop_w, p->crop_h, p->crop_x, p->crop_y, f->width,
                    f->height);
    return MACE_ERROR_INVALID_ARG;
  }
  p->mw = mw;
  p->mh = mh;
  p->layout = pp->layout;
  for (int k = 0; k < 3; k++) {
    p->mean[k] = pp->mean[k];
    p->scale[k] = pp->scale[k];
  }
  p->ci[0] = pp->bgr ? 2 : 0;
  p->ci[1] = 1;
  p->ci[2] = pp->bgr ? 0 : 2;
  double cx = 0, cy = 0, cw = mw, ch = mh;
  if (pp->fit == MACE_FIT_LETTERBOX) {
    double s = fmin ((double)mw / p->crop_w, (double)mh / p->crop_h);
    cw = p->crop_w * s;
    ch = p->crop_h * s;
    cx = (mw - cw) / 2;
    cy = (mh - ch) / 2;
  } else if (pp->fit == MACE_FIT_NONE) {
    cw = p->crop_w;
    ch = p->crop_h;
  }
  p->content.x = cx;
  p->content.y = cy;
  p->content.w = cw;
  p->content.h = ch;
  p->cx = (float)cx;
  p->cy = (float)cy;
  p->fx = (float)(p->crop_w / cw);
  p->fy = (float)(p->crop_h / ch);
  p->ix0 = (int)CLAMP (ceil (cx), 0, mw);
  p->iy0 = (int)CLAMP (ceil (cy), 0, mh);
  p->ix1 = (int)CLAMP (ceil (cx + cw), 0, mw);
  p->iy1 = (int)CLAMP (ceil (cy + ch), 0, mh);
  p->same = p->fx == 1.0f && p->fy == 1.0f && p->cx == 0.0f && p->cy == 0.0f;
  return MACE_OK;
}

static inline float
clampf (float v, float lo, float hi)
{
  /* Written as min then max so the compiler emits minss/maxss, not
   * branches (the taps' clamps mispredicted badly). */
  v = v < hi ? v : hi;
  return v > lo ? v : lo;
}

static inline void
yuv_to_rgb (float y, float u, float v, float *rgb)
{
  float c = 1.164383f * (y - 16.0f), d = u - 128.0f, e = v - 128.0f;
  rgb[0] = clampf (c + 1.596027f * e, 0.0f, 255.0f);
  rgb[1] = clampf (c - 0.391762f * d - 0.812968f * e, 0.0f, 255.0f);
  rgb[2] = clampf (c + 2.017232f * d, 0.0f, 255.0f);
}

typedef struct {
  const MaceFrame *f;
  const MaceFramePlan *p;
  float *dst;
  int *x0, *x1; /* source columns (crop applied) per model column */
  int *c0, *c1; /* their byte offsets in a chroma row (YUV formats) */
  float *ax;
  int ps, ro, go, bo; /* packed: pixel size and R/G/B offsets */
  /* The AVX2 rows (vec set): per model column the byte offsets of its
   * taps (packed: b0 = x0 * ps, b1 = x1 * ps; YUV: b0 = x0, b1 = c0,
   * the second taps being ysh = 8 * (x1 - x0) and csh = 8 * (c1 - c0)
   * bits up in the same 4 bytes), and the columns whose 4-byte reads
   * stay inside a row: [ix0, xv). */
  int *b0, *b1, *ysh, *csh;
  int xv;
  bool vec;
} Job;

/* RGB of source pixel (x, y), frame coordinates. */
static inline void
read_rgb (const Job *j, int x, int y, float *rgb)
{
  const MaceFrame *f = j->f;
  if (j->ps) {
    const uint8_t *q = (const uint8_t *)f->data[0]
                       + (size_t)y * (size_t)f->stride[0] + (size_t)x * j->ps;
    rgb[0] = q[j->ro];
    rgb[1] = q[j->go];
    rgb[2] = q[j->bo];
    return;
  }
  float Y = ((const uint8_t *)f->data[0])[(size_t)y * f->stride[0] + x];
  float u, v;
  if (f->format == MACE_FRAME_I420) {
    u = ((const uint8_t *)f->data[1])[(size_t)(y / 2) * f->stride[1] + x / 2];
    v = ((const uint8_t *)f->data[2])[(size_t)(y / 2) * f->stride[2] + x / 2];
  } else {
    const uint8_t *uv = (const uint8_t *)f->data[1]
                        + (size_t)(y / 2) * f->stride[1] + (x / 2) * 2;
    u = uv[0];
    v = uv[1];
  }
  yuv_to_rgb (Y, u, v, rgb);
}

static inline void
store (const Job *j, int ox, int oy, const float *rgb)
{
  const MaceFramePlan *p = j->p;
  float v[3];
  for (int k = 0; k < 3; k++)
    v[k] = (rgb[p->ci[k]] - p->mean[k]) * p->scale[k];
  if (p->layout == MACE_TENSOR_NCHW) {
    size_t plane = (size_t)p->mh * p->mw, i = (size_t)oy * p->mw + ox;
    j->dst[i] = v[0];
    j->dst[plane + i] = v[1];
    j->dst[2 * plane + i] = v[2];
  } else {
    float *d = j->dst + ((size_t)oy * p->mw + ox) * 3;
    d[0] = v[0];
    d[1] = v[1];
    d[2] = v[2];
  }
}

/* One output row from a YUV frame: Y, U and V are interpolated on their
 * planes and converted once per model pixel (kernels/preprocess.cl does
 * the same), with row pointers and column offsets worked out once. */
static void
yuv_row (const Job *j, int oy, int y0, int y1, float ay, int ox0)
{
  const MaceFramePlan *p = j->p;
  const MaceFrame *f = j->f;
  const uint8_t *Y0 = (const uint8_t *)f->data[0] + (size_t)y0 * f->stride[0];
  const uint8_t *Y1 = (const uint8_t *)f->data[0] + (size_t)y1 * f->stride[0];
  const uint8_t *U0
      = (const uint8_t *)f->data[1] + (size_t)(y0 / 2) * f->stride[1];
  const uint8_t *U1
      = (const uint8_t *)f->data[1] + (size_t)(y1 / 2) * f->stride[1];
  const uint8_t *V0, *V1;
  if (f->format == MACE_FRAME_I420) {
    V0 = (const uint8_t *)f->data[2] + (size_t)(y0 / 2) * f->stride[2];
    V1 = (const uint8_t *)f->data[2] + (size_t)(y1 / 2) * f->stride[2];
  } else { /* NV12: interleaved U, V */
    V0 = U0 + 1;
    V1 = U1 + 1;
  }
  const float by = 1.0f - ay;
  for (int ox = ox0; ox < p->ix1; ox++) {
    int x0 = j->x0[ox], x1 = j->x1[ox], c0 = j->c0[ox], c1 = j->c1[ox];
    float ax = j->ax[ox], bx = 1.0f - ax;
    float w00 = bx * by, w01 = ax * by, w10 = bx * ay, w11 = ax * ay;
    float yv = w00 * Y0[x0] + w01 * Y0[x1] + w10 * Y1[x0] + w11 * Y1[x1];
    float uv = w00 * U0[c0] + w01 * U0[c1] + w10 * U1[c0] + w11 * U1[c1];
    float vv = w00 * V0[c0] + w01 * V0[c1] + w10 * V1[c0] + w11 * V1[c1];
    float rgb[3];
    yuv_to_rgb (yv, uv, vv, rgb);
    store (j, ox, oy, rgb);
  }
}

#ifdef MACE_FRAME_AVX2
/* AVX2 rows, 8 model pixels at a time: each tap is read as a 4-byte word
 * (scalar loads put together; gathers are slower on the AMD parts this
 * was measured on) and every lane does the scalar code's arithmetic in
 * the same order (no FMA), so the results are bit for bit those of the
 * scalar rows, which handle the columns left over. */
#define AVX2_FN __attribute__ ((target ("avx2")))
#define AVX2_INLINE __attribute__ ((target ("avx2"), always_inline)) inline

AVX2_INLINE static __m256
byte_at (__m256i w, int shift)
{
  return _mm256_cvtepi32_ps (_mm256_and_si256 (_mm256_srli_epi32 (w, shift),
                                               _mm256_set1_epi32 (0xff)));
}

AVX2_INLINE static __m256
byte_var (__m256i w, __m256i shift)
{
  return _mm256_cvtepi32_ps (_mm256_and_si256 (_mm256_srlv_epi32 (w, shift),
                                               _mm256_set1_epi32 (0xff)));
}

/* The 4 bytes at base + off[i] for 8 columns. */
AVX2_INLINE static __m256i
words8 (const uint8_t *base, const int *off)
{
  uint32_t w[8];
  for (int i = 0; i < 8; i++)
    memcpy (&w[i], base + off[i], 4);
  return _mm256_setr_epi32 ((int)w[0], (int)w[1], (int)w[2], (int)w[3],
                            (int)w[4], (int)w[5], (int)w[6], (int)w[7]);
}

AVX2_INLINE static __m256
clamp8 (__m256 v)
{
  /* clampf: min then max, the same operand order. */
  v = _mm256_min_ps (v, _mm256_set1_ps (255.0f));
  return _mm256_max_ps (v, _mm256_setzero_ps ());
}

/* The source rows of the next model row, whose cache lines are fetched
 * while this row is computed: consecutive model rows read rows far apart
 * in a large frame, which the hardware prefetcher does not foresee, and
 * a frame fresh from a decoder or camera is in memory, not in cache.
 * Rows this row reads anyway are left out, and each line is asked for
 * once (next[r]: the first line not asked for yet).  span[r]: 0 for
 * packed or luma rows (taps b0..b1, or b0 alone for luma), 1 for chroma
 * rows (taps at b1). */
typedef struct {
  const uint8_t *rows[6], *next[6];
  int span[6];
  int n_rows;
} NextRows;

static inline void
next_rows_add (NextRows *nr, const uint8_t *row, const uint8_t *cur0,
               const uint8_t *cur1, int span)
{
  if (row == cur0 || row == cur1)
    return;
  for (int r = 0; r < nr->n_rows; r++)
    if (nr->rows[r] == row)
      return;
  nr->rows[nr->n_rows] = row;
  nr->next[nr->n_rows] = row;
  nr->span[nr->n_rows++] = span;
}

/* Every `cols` columns from ix0 (a multiple of 8): the lines that
 * columns [ox, ox + cols) will read in the next rows.  Packed frames
 * (two rows) do it every 8 columns, YUV frames (up to six rows) every 32,
 * which measured best. */
AVX2_INLINE static void
prefetch_next (const Job *j, NextRows *nr, int ox, const int cols)
{
  if (!nr->n_rows || (ox - j->p->ix0) % cols)
    return;
  const int last = MIN (ox + cols, j->xv) - 1;
  const int lo0 = j->b0[ox], hi0 = (j->ps ? j->b1 : j->b0)[last] + 3;
  const int lo1 = j->b1[ox], hi1 = j->b1[last] + 3;
  for (int r = 0; r < nr->n_rows; r++) {
    const uint8_t *row = nr->rows[r];
    int lo = nr->span[r] ? lo1 : lo0, hi = nr->span[r] ? hi1 : hi0;
    const uint8_t *a
        = (const uint8_t *)((uintptr_t)(row + lo) & ~(uintptr_t)63);
    if (a < nr->next[r])
      a = nr->next[r];
    for (; a <= row + hi; a += 64)
      _mm_prefetch ((const char *)a, _MM_HINT_T0);
    nr->next[r] = a;
  }
}

/* What a row needs of the plan, in registers (the stores to dst could
 * alias the plan, so the compiler would reload it for every pixel). */
typedef struct {
  __m256 mean[3], scale[3];
  float *dst;
  size_t plane;
  int mw;
  bool nchw;
} Out8;

AVX2_INLINE static void
out8_init (const Job *j, Out8 *o)
{
  const MaceFramePlan *p = j->p;
  for (int k = 0; k < 3; k++) {
    o->mean[k] = _mm256_set1_ps (p->mean[k]);
    o->scale[k] = _mm256_set1_ps (p->scale[k]);
  }
  o->dst = j->dst;
  o->plane = (size_t)p->mh * p->mw;
  o->mw = p->mw;
  o->nchw = p->layout == MACE_TENSOR_NCHW;
}

/* Normalises 8 pixels given in output channel order and stores them at
 * (ox, oy). */
AVX2_INLINE static void
store8 (const Out8 *o, int ox, int oy, __m256 c0, __m256 c1, __m256 c2)
{
  __m256 v0 = _mm256_mul_ps (_mm256_sub_ps (c0, o->mean[0]), o->scale[0]);
  __m256 v1 = _mm256_mul_ps (_mm256_sub_ps (c1, o->mean[1]), o->scale[1]);
  __m256 v2 = _mm256_mul_ps (_mm256_sub_ps (c2, o->mean[2]), o->scale[2]);
  size_t i = (size_t)oy * o->mw + ox;
  if (o->nchw) {
    _mm256_storeu_ps (o->dst + i, v0);
    _mm256_storeu_ps (o->dst + o->plane + i, v1);
    _mm256_storeu_ps (o->dst + 2 * o->plane + i, v2);
    return;
  }
  /* Interleave (c0 c1 c2 of pixel 0, then of pixel 1, ...): output
   * vector n takes lanes idx_n of every channel and blends them. */
  const __m256i i0 = _mm256_setr_epi32 (0, 0, 0, 1, 1, 1, 2, 2);
  const __m256i i1 = _mm256_setr_epi32 (2, 3, 3, 3, 4, 4, 4, 5);
  const __m256i i2 = _mm256_setr_epi32 (5, 5, 6, 6, 6, 7, 7, 7);
  float *d = o->dst + i * 3;
  _mm256_storeu_ps (
      d, _mm256_blend_ps (_mm256_blend_ps (_mm256_permutevar8x32_ps (v0, i0),
                                           _mm256_permutevar8x32_ps (v1, i0),
                                           0x92),
                          _mm256_permutevar8x32_ps (v2, i0), 0x24));
  _mm256_storeu_ps (
      d + 8, _mm256_blend_ps (
                 _mm256_blend_ps (_mm256_permutevar8x32_ps (v0, i1),
                                  _mm256_permutevar8x32_ps (v1, i1), 0x24),
                 _mm256_permutevar8x32_ps (v2, i1), 0x49));
  _mm256_storeu_ps (
      d + 16, _mm256_blend_ps (
                  _mm256_blend_ps (_mm256_permutevar8x32_ps (v0, i2),
                                   _mm256_permutevar8x32_ps (v1, i2), 0x49),
                  _mm256_permutevar8x32_ps (v2, i2), 0x92));
}

AVX2_INLINE static void
yuv_to_rgb8 (__m256 y, __m256 u, __m256 v, __m256 *rgb)
{
  __m256 c = _mm256_mul_ps (_mm256_set1_ps (1.164383f),
                            _mm256_sub_ps (y, _mm256_set1_ps (16.0f)));
  __m256 d = _mm256_sub_ps (u, _mm256_set1_ps (128.0f));
  __m256 e = _mm256_sub_ps (v, _mm256_set1_ps (128.0f));
  rgb[0] = clamp8 (
      _mm256_add_ps (c, _mm256_mul_ps (_mm256_set1_ps (1.596027f), e)));
  rgb[1] = clamp8 (_mm256_sub_ps (
      _mm256_sub_ps (c, _mm256_mul_ps (_mm256_set1_ps (0.391762f), d)),
      _mm256_mul_ps (_mm256_set1_ps (0.812968f), e)));
  rgb[2] = clamp8 (
      _mm256_add_ps (c, _mm256_mul_ps (_mm256_set1_ps (2.017232f), d)));
}

/* Packed rows; sh0 and sh2: bit offsets in a pixel's word of the bytes
 * that become output channels 0 and 2 (constants after inlining). */
AVX2_INLINE static int
packed_rows8 (const Job *j, int oy, const uint8_t *r0, const uint8_t *r1,
              float ay, bool same, NextRows *nr, const int sh0, const int sh2)
{
  Out8 o;
  out8_init (j, &o);
  const int *b0 = j->b0, *b1 = j->b1;
  const float *axp = j->ax;
  const int xv = j->xv;
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 vay = _mm256_set1_ps (ay), vby = _mm256_set1_ps (1.0f - ay);
  const int sh[3] = { sh0, 8, sh2 };
  int ox = j->p->ix0;
  if (same) {
    for (; ox + 8 <= xv; ox += 8) {
      __m256i g = words8 (r0, b0 + ox);
      store8 (&o, ox, oy, byte_at (g, sh0), byte_at (g, 8), byte_at (g, sh2));
    }
    return ox;
  }
  for (; ox + 8 <= xv; ox += 8) {
    prefetch_next (j, nr, ox, 8);
    __m256i g00 = words8 (r0, b0 + ox), g01 = words8 (r0, b1 + ox);
    __m256i g10 = words8 (r1, b0 + ox), g11 = words8 (r1, b1 + ox);
    __m256 ax = _mm256_loadu_ps (axp + ox);
    __m256 bx = _mm256_sub_ps (one, ax);
    __m256 c[3];
    for (int k = 0; k < 3; k++) {
      __m256 t0 = _mm256_add_ps (_mm256_mul_ps (byte_at (g00, sh[k]), bx),
                                 _mm256_mul_ps (byte_at (g01, sh[k]), ax));
      __m256 t1 = _mm256_add_ps (_mm256_mul_ps (byte_at (g10, sh[k]), bx),
                                 _mm256_mul_ps (byte_at (g11, sh[k]), ax));
      c[k] = _mm256_add_ps (_mm256_mul_ps (t0, vby), _mm256_mul_ps (t1, vay));
    }
    store8 (&o, ox, oy, c[0], c[1], c[2]);
  }
  return ox;
}

/* YUV rows; nv12: U and V interleaved (V one byte up); swap: output
 * channel 0 is blue. */
AVX2_INLINE static int
yuv_rows8 (const Job *j, int oy, int y0, int y1, float ay, bool same,
           NextRows *nr, const bool nv12, const bool swap)
{
  const MaceFrame *f = j->f;
  Out8 o;
  out8_init (j, &o);
  const int *b0 = j->b0, *b1 = j->b1, *ysh = j->ysh, *csh = j->csh;
  const float *axp = j->ax;
  const int xv = j->xv;
  const uint8_t *Y0 = (const uint8_t *)f->data[0] + (size_t)y0 * f->stride[0];
  const uint8_t *Y1 = (const uint8_t *)f->data[0] + (size_t)y1 * f->stride[0];
  const uint8_t *U0
      = (const uint8_t *)f->data[1] + (size_t)(y0 / 2) * f->stride[1];
  const uint8_t *U1
      = (const uint8_t *)f->data[1] + (size_t)(y1 / 2) * f->stride[1];
  const uint8_t *V0 = U0, *V1 = U1;
  if (!nv12) {
    V0 = (const uint8_t *)f->data[2] + (size_t)(y0 / 2) * f->stride[2];
    V1 = (const uint8_t *)f->data[2] + (size_t)(y1 / 2) * f->stride[2];
  }
  const int vsh = nv12 ? 8 : 0;
  const __m256i v8 = _mm256_set1_epi32 (vsh);
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256 vay = _mm256_set1_ps (ay), vby = _mm256_set1_ps (1.0f - ay);
  int ox = j->p->ix0;
  __m256 rgb[3];
  if (same) {
    for (; ox + 8 <= xv; ox += 8) {
      __m256i gy = words8 (Y0, b0 + ox), gu = words8 (U0, b1 + ox);
      __m256i gv = nv12 ? gu : words8 (V0, b1 + ox);
      yuv_to_rgb8 (byte_at (gy, 0), byte_at (gu, 0), byte_at (gv, vsh), rgb);
      store8 (&o, ox, oy, rgb[swap ? 2 : 0], rgb[1], rgb[swap ? 0 : 2]);
    }
    return ox;
  }
  for (; ox + 8 <= xv; ox += 8) {
    prefetch_next (j, nr, ox, 32);
    __m256 ax = _mm256_loadu_ps (axp + ox);
    __m256 bx = _mm256_sub_ps (one, ax);
    __m256 w00 = _mm256_mul_ps (bx, vby), w01 = _mm256_mul_ps (ax, vby);
    __m256 w10 = _mm256_mul_ps (bx, vay), w11 = _mm256_mul_ps (ax, vay);
    __m256i ys = _mm256_loadu_si256 ((const __m256i *)(const void *)(ysh + ox));
    __m256i cs = _mm256_loadu_si256 ((const __m256i *)(const void *)(csh + ox));
    __m256i vs = _mm256_add_epi32 (cs, v8);
    __m256i gy0 = words8 (Y0, b0 + ox), gy1 = words8 (Y1, b0 + ox);
    __m256i gu0 = words8 (U0, b1 + ox), gu1 = words8 (U1, b1 + ox);
    __m256i gv0 = gu0, gv1 = gu1;
    if (!nv12) {
      gv0 = words8 (V0, b1 + ox);
      gv1 = words8 (V1, b1 + ox);
    }
    __m256 yv = _mm256_add_ps (
        _mm256_add_ps (_mm256_add_ps (_mm256_mul_ps (w00, byte_at (gy0, 0)),
                                      _mm256_mul_ps (w01, byte_var (gy0, ys))),
                       _mm256_mul_ps (w10, byte_at (gy1, 0))),
        _mm256_mul_ps (w11, byte_var (gy1, ys)));
    __m256 uv = _mm256_add_ps (
        _mm256_add_ps (_mm256_add_ps (_mm256_mul_ps (w00, byte_at (gu0, 0)),
                                      _mm256_mul_ps (w01, byte_var (gu0, cs))),
                       _mm256_mul_ps (w10, byte_at (gu1, 0))),
        _mm256_mul_ps (w11, byte_var (gu1, cs)));
    __m256 vv = _mm256_add_ps (
        _mm256_add_ps (_mm256_add_ps (_mm256_mul_ps (w00, byte_at (gv0, vsh)),
                                      _mm256_mul_ps (w01, byte_var (gv0, vs))),
                       _mm256_mul_ps (w10, byte_at (gv1, vsh))),
        _mm256_mul_ps (w11, byte_var (gv1, vs)));
    yuv_to_rgb8 (yv, uv, vv, rgb);
    store8 (&o, ox, oy, rgb[swap ? 2 : 0], rgb[1], rgb[swap ? 0 : 2]);
  }
  return ox;
}

/* One row from [ix0, xv) in steps of 8 (same: 1:1, source row y0);
 * returns the first column not done.  y0, y1 in frame coordinates; ny0,
 * ny1: the next model row's (-1: none). */
AVX2_FN static int
row_avx2 (const Job *j, int oy, int y0, int y1, float ay, bool same, int ny0,
          int ny1)
{
  const MaceFrame *f = j->f;
  const uint8_t *p0 = f->data[0], *p1 = f->data[1], *p2 = f->data[2];
  const size_t s0 = (size_t)f->stride[0], s1 = (size_t)f->stride[1];
  const size_t s2 = (size_t)f->stride[2];
  NextRows nr = { .n_rows = 0 };
  if (ny0 >= 0) {
    const uint8_t *c0 = p0 + (size_t)y0 * s0, *c1 = p0 + (size_t)y1 * s0;
    next_rows_add (&nr, p0 + (size_t)ny0 * s0, c0, c1, 0);
    next_rows_add (&nr, p0 + (size_t)ny1 * s0, c0, c1, 0);
    if (!j->ps) {
      for (int k = 1; k <= (f->format == MACE_FRAME_I420 ? 2 : 1); k++) {
        const uint8_t *pk = k == 1 ? p1 : p2;
        size_t sk = k == 1 ? s1 : s2;
        c0 = pk + (size_t)(y0 / 2) * sk;
        c1 = pk + (size_t)(y1 / 2) * sk;
        next_rows_add (&nr, pk + (size_t)(ny0 / 2) * sk, c0, c1, 1);
        next_rows_add (&nr, pk + (size_t)(ny1 / 2) * sk, c0, c1, 1);
      }
    }
  }
  /* Output channel k is source channel ci[k]; ci[0] is 0 or 2. */
  const bool swap = j->p->ci[0] == 2;
  if (j->ps) {
    const uint8_t *r0 = p0 + (size_t)y0 * s0, *r1 = p0 + (size_t)y1 * s0;
    /* Bytes of R and B in a pixel: 0 and 2, or 2 and 0 (BGR). */
    if ((j->ro == 0) != swap)
      return packed_rows8 (j, oy, r0, r1, ay, same, &nr, 0, 16);
    return packed_rows8 (j, oy, r0, r1, ay, same, &nr, 16, 0);
  }
  if (f->format == MACE_FRAME_NV12)
    return swap ? yuv_rows8 (j, oy, y0, y1, ay, same, &nr, true, true)
                : yuv_rows8 (j, oy, y0, y1, ay, same, &nr, true, false);
  return swap ? yuv_rows8 (j, oy, y0, y1, ay, same, &nr, false, true)
              : yuv_rows8 (j, oy, y0, y1, ay, same, &nr, false, false);
}
#endif /* MACE_FRAME_AVX2 */

/* Source rows (frame coordinates) and weight of model row oy. */
static inline void
src_rows (const MaceFramePlan *p, int oy, int *y0p, int *y1p, float *ayp)
{
  float sy = ((float)oy - p->cy + 0.5f) * p->fy - 0.5f;
  sy = sy > 0.0f ? sy : 0.0f;
  int y0 = (int)sy;
  int y1 = MIN (y0 + 1, p->crop_h - 1);
  y0 = MIN (y0, p->crop_h - 1);
  *ayp = sy - (float)y0;
  *y0p = y0 + p->crop_y;
  *y1p = y1 + p->crop_y;
}

static void
rows_fn (void *arg, int64_t begin, int64_t end)
{
  const Job *j = arg;
  const MaceFramePlan *p = j->p;
  static const float black[3] = { 0, 0, 0 };
  for (int oy = (int)begin; oy < (int)end; oy++) {
    bool row_in = oy >= p->iy0 && oy < p->iy1;
    if (!row_in) {
      for (int ox = 0; ox < p->mw; ox++)
        store (j, ox, oy, black);
      continue;
    }
    for (int ox = 0; ox < p->ix0; ox++)
      store (j, ox, oy, black);
    for (int ox = p->ix1; ox < p->mw; ox++)
      store (j, ox, oy, black);
    int start = p->ix0;
    if (p->same) {
      int sy = p->crop_y + oy;
#ifdef MACE_FRAME_AVX2
      if (j->vec)
        start = row_avx2 (j, oy, sy, sy, 0.0f, true, -1, -1);
#endif
      for (int ox = start; ox < p->ix1; ox++) {
        float rgb[3];
        read_rgb (j, p->crop_x + ox, sy, rgb);
        store (j, ox, oy, rgb);
      }
      continue;
    }
    int y0, y1;
    float ay;
    src_rows (p, oy, &y0, &y1, &ay);
#ifdef MACE_FRAME_AVX2
    if (j->vec) {
      /* The next row of this range, if resampled too. */
      int ny0 = -1, ny1 = -1;
      float nay;
      if (oy + 1 < end && oy + 1 < p->iy1)
        src_rows (p, oy + 1, &ny0, &ny1, &nay);
      start = row_avx2 (j, oy, y0, y1, ay, false, ny0, ny1);
    }
#endif
    if (!j->ps) {
      yuv_row (j, oy, y0, y1, ay, start);
      continue;
    }
    for (int ox = start; ox < p->ix1; ox++) {
      float q00[3], q01[3], q10[3], q11[3], rgb[3];
      float ax = j->ax[ox];
      read_rgb (j, j->x0[ox], y0, q00);
      read_rgb (j, j->x1[ox], y0, q01);
      read_rgb (j, j->x0[ox], y1, q10);
      read_rgb (j, j->x1[ox], y1, q11);
      for (int k = 0; k < 3; k++)
        rgb[k] = (q00[k] * (1.0f - ax) + q01[k] * ax) * (1.0f - ay)
                 + (q10[k] * (1.0f - ax) + q11[k] * ax) * ay;
      store (j, ox, oy, rgb);
    }
  }
}

#ifdef MACE_FRAME_AVX2
static bool
have_avx2 (void)
{
  static int cached; /* 0 unknown, 1 no, 2 yes; a benign race */
  int c = __atomic_load_n (&cached, __ATOMIC_RELAXED);
  if (!c) {
    __builtin_cpu_init ();
    c = __builtin_cpu_supports ("avx2") ? 2 : 1;
    __atomic_store_n (&cached, c, __ATOMIC_RELAXED);
  }
  return c == 2;
}
#endif

/* Column tables of up to this many model columns live on the stack. */
#define STACK_COLUMNS 512

void
mace_frame_preprocess_cpu (const MaceFrame *f, const MaceFramePlan *p,
                           float *dst, MaceThreadPool *pool)
{
  Job j = { .f = f, .p = p, .dst = dst };
  switch (f->format) {
    case MACE_FRAME_RGB:
      j.ps = 3;
      j.ro = 0;
      j.go = 1;
      j.bo = 2;
      break;
    case MACE_FRAME_BGR:
      j.ps = 3;
      j.ro = 2;
      j.go = 1;
      j.bo = 0;
      break;
    case MACE_FRAME_RGBA:
    case MACE_FRAME_RGBX:
      j.ps = 4;
      j.ro = 0;
      j.go = 1;
      j.bo = 2;
      break;
    case MACE_FRAME_BGRA:
    case MACE_FRAME_BGRX:
      j.ps = 4;
      j.ro = 2;
      j.go = 1;
      j.bo = 0;
      break;
    default: break;
  }
  /* Source columns and weights depend on the output column only: nine
   * tables of mw entries (+ 8 so that the vector rows may load a whole
   * vector), in one block, no allocation for common input sizes. */
  const size_t cols = (size_t)p->mw + 8;
  int32_t stack_tab[9 * (STACK_COLUMNS + 8)];
  int32_t *tab = p->mw <= STACK_COLUMNS ? stack_tab : g_new (int32_t, 9 * cols);
  j.x0 = tab;
  j.x1 = tab + cols;
  j.c0 = tab + 2 * cols;
  j.c1 = tab + 3 * cols;
  j.b0 = tab + 4 * cols;
  j.b1 = tab + 5 * cols;
  j.ysh = tab + 6 * cols;
  j.csh = tab + 7 * cols;
  j.ax = (float *)(void *)(tab + 8 * cols);
  const int cstep = f->format == MACE_FRAME_NV12 ? 2 : 1;
  /* Bytes a 4-byte read may start below and stay inside a row. */
  const int row_bytes = j.ps ? f->width * j.ps : f->width;
  const int crow_bytes = ((f->width + 1) / 2) * cstep;
  j.xv = p->ix0;
  for (int ox = 0; ox < p->mw; ox++) {
    float sx = ((float)ox - p->cx + 0.5f) * p->fx - 0.5f;
    sx = sx > 0.0f ? sx : 0.0f;
    int x0 = (int)sx;
    int x1 = MIN (x0 + 1, p->crop_w - 1);
    x0 = MIN (x0, p->crop_w - 1);
    j.ax[ox] = sx - (float)x0;
    j.x0[ox] = p->crop_x + x0;
    j.x1[ox] = p->crop_x + x1;
    j.c0[ox] = (j.x0[ox] / 2) * cstep;
    j.c1[ox] = (j.x1[ox] / 2) * cstep;
    if (j.ps) {
      j.b0[ox] = j.x0[ox] * j.ps;
      j.b1[ox] = j.x1[ox] * j.ps;
    } else {
      j.b0[ox] = j.x0[ox];
      j.b1[ox] = j.c0[ox];
    }
    j.ysh[ox] = 8 * (j.x1[ox] - j.x0[ox]);
    j.csh[ox] = 8 * (j.c1[ox] - j.c0[ox]);
    /* Columns only move right, so the safe ones are a prefix. */
    bool safe = j.ps ? j.b1[ox] + 4 <= row_bytes
                     : j.x0[ox] + 4 <= row_bytes && j.c0[ox] + 4 <= crow_bytes;
    if (ox >= p->ix0 && ox < p->ix1 && safe && j.xv == ox)
      j.xv = ox + 1;
  }
#ifdef MACE_FRAME_AVX2
  j.vec = have_avx2 ();
#endif
  /* Small inputs are not worth waking the pool. */
  if ((int64_t)p->mw * p->mh < 4096)
    rows_fn (&j, 0, p->mh);
  else
    mace_parallel_for (pool, p->mh, rows_fn, &j);
  if (tab != stack_tab)
    g_free (tab);
}
