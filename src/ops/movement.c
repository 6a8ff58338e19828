/* SPDX-License-Identifier: Apache-2.0
 * Data movement ops: Transpose, Concat, Split, Slice, Pad, Gather,
 * GatherElements, GatherND, ScatterElements (and Scatter), ScatterND, Tile,
 * DepthToSpace, SpaceToDepth, Trilu, OneHot, Compress, TopK,
 * ReverseSequence.
 *
 * Everything is copied by element size, so every dtype works.  Most ops
 * are expressed as one strided copy (dims + source and destination strides)
 * which merges contiguous dimensions, copies contiguous runs with memcpy
 * and runs rows across the thread pool. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Below this many bytes a copy runs on the calling thread. */
#define PARALLEL_MIN_BYTES (256 * 1024)

/* ---- small helpers ---------------------------------------------------- */

static bool
has_input (const MaceOpCtx *ctx, int i)
{
  return i < ctx->n_in && ctx->in[i] != NULL;
}

static MaceStatus
need_input (MaceOpCtx *ctx, int i)
{
  if (!has_input (ctx, i))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "missing input %d", i);
  return MACE_OK;
}

static MaceStatus
need_values (MaceOpCtx *ctx, int i)
{
  MaceStatus st = need_input (ctx, i);
  if (st)
    return st;
  if (!ctx->in[i]->data)
    return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "values of input %d unknown",
                         i);
  return MACE_OK;
}

/* Normalises a possibly negative axis for rank r; false if out of range. */
static bool
norm_axis (int64_t *axis, int r)
{
  if (*axis < 0)
    *axis += r;
  return *axis >= 0 && *axis < r;
}

static void
strides_of (int nd, const int64_t *dims, int64_t *str)
{
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; d--) {
    str[d] = s;
    s *= dims[d];
  }
}

static bool
is_int_dtype (MaceDataType dt)
{
  switch (dt) {
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_UINT16:
    case MACE_DTYPE_INT16:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT32:
    case MACE_DTYPE_UINT64:
    case MACE_DTYPE_BOOL: return true;
    default: return false;
  }
}

/* Fills n elements of size es at dst with the element at val. */
static void
fill_elems (void *dst, const void *val, size_t es, int64_t n)
{
  uint8_t *p = dst;
  bool zero = true;
  for (size_t b = 0; b < es; b++)
    if (((const uint8_t *)val)[b])
      zero = false;
  if (zero) {
    memset (dst, 0, (size_t)n * es);
    return;
  }
  switch (es) {
    case 4: {
      uint32_t v;
      memcpy (&v, val, 4);
      uint32_t *q = dst;
      for (int64_t i = 0; i < n; i++)
        q[i] = v;
      break;
    }
    case 8: {
      uint64_t v;
      memcpy (&v, val, 8);
      uint64_t *q = dst;
      for (int64_t i = 0; i < n; i++)
        q[i] = v;
      break;
    }
    case 2: {
      uint16_t v;
      memcpy (&v, val, 2);
      uint16_t *q = dst;
      for (int64_t i = 0; i < n; i++)
        q[i] = v;
      break;
    }
    case 1: memset (dst, *(const uint8_t *)val, (size_t)n); break;
    default:
      for (int64_t i = 0; i < n; i++)
        memcpy (p + (size_t)i * es, val, es);
  }
}

static inline void
copy_elem (uint8_t *dst, const uint8_t *src, size_t es)
{
  switch (es) {
    case 4: memcpy (dst, src, 4); break;
    case 8: memcpy (dst, src, 8); break;
    case 2: memcpy (dst, src, 2); break;
    case 1: *dst = *src; break;
    default: memcpy (dst, src, es);
  }
}

/* Reads integer values of a 1-D (or scalar) tensor into out (max n).
 * Returns the count. */
static int64_t
read_ints (const MaceTensor *t, int64_t *out, int64_t max)
{
  int64_t n = mace_tensor_numel (t);
  if (n > max)
    n = max;
  for (int64_t i = 0; i < n; i++)
    out[i] = mace_tensor_get_i64 (t, i);
  return n;
}

/* ---- the strided copy ------------------------------------------------- */

#define SC_MAX 16

typedef struct {
  const uint8_t *src;
  uint8_t *dst;
  size_t es;
  int nd;
  int64_t dims[SC_MAX];
  int64_t ss[SC_MAX];     /* source strides in elements (any sign, 0 ok) */
  int64_t ds[SC_MAX];     /* destination strides in elements */
  int64_t tile_a, tile_b; /* tiles over the last two dims (transpose) */
} SCopy;

/* Drops size-1 dims and merges dims that are contiguous in both. */
static void
sc_simplify (SCopy *c)
{
  int n = 0;
  for (int d = 0; d < c->nd; d++) {
    if (c->dims[d] == 1)
      continue;
    if (n > 0 && c->ss[n - 1] == c->ss[d] * c->dims[d]
        && c->ds[n - 1] == c->ds[d] * c->dims[d]) {
      c->dims[n - 1] *= c->dims[d];
      c->ss[n - 1] = c->ss[d];
      c->ds[n - 1] = c->ds[d];
      continue;
    }
    c->dims[n] = c->dims[d];
    c->ss[n] = c->ss[d];
    c->ds[n] = c->ds[d];
    n++;
  }
  if (n == 0) {
    c->dims[0] = 1;
    c->ss[0] = c->ds[0] = 1;
    n = 1;
  }
  c->nd = n;
}

static void
sc_rows (void *arg, int64_t begin, int64_t end)
{
  const SCopy *c = arg;
  int nd = c->nd;
  int64_t idx[SC_MAX] = { 0 };
  int64_t r = begin, so = 0, dof = 0;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = r % c->dims[d];
    r /= c->dims[d];
    so += idx[d] * c->ss[d];
    dof += idx[d] * c->ds[d];
  }
  size_t es = c->es;
  int64_t inner = c->dims[nd - 1], iss = c->ss[nd - 1], ids = c->ds[nd - 1];
  for (int64_t row = begin; row < end; row++) {
    const uint8_t *s = c->src + so * (int64_t)es;
    uint8_t *dp = c->dst + dof * (int64_t)es;
    if (iss == 1 && ids == 1) {
      memcpy (dp, s, (size_t)inner * es);
    } else if (es == 4) {
      const uint32_t *s4 = (const uint32_t *)(const void *)s;
      uint32_t *d4 = (uint32_t *)(void *)dp;
      for (int64_t i = 0; i < inner; i++)
        d4[i * ids] = s4[i * iss];
    } else if (es == 8) {
      const uint64_t *s8 = (const uint64_t *)(const void *)s;
      uint64_t *d8 = (uint64_t *)(void *)dp;
      for (int64_t i = 0; i < inner; i++)
        d8[i * ids] = s8[i * iss];
    } else if (es == 2) {
      const uint16_t *s2 = (const uint16_t *)(const void *)s;
      uint16_t *d2 = (uint16_t *)(void *)dp;
      for (int64_t i = 0; i < inner; i++)
        d2[i * ids] = s2[i * iss];
    } else {
      for (int64_t i = 0; i < inner; i++)
        copy_elem (dp + i * ids * (int64_t)es, s + i * iss * (int64_t)es, es);
    }
    for (int d = nd - 2; d >= 0; d--) {
      so += c->ss[d];
      dof += c->ds[d];
      if (++idx[d] < c->dims[d])
        break;
      so -= idx[d] * c->ss[d];
      dof -= idx[d] * c->ds[d];
      idx[d] = 0;
    }
  }
}

/* Tiles of the last two dims for transposes: TILE_B (the source-strided
 * dim) stays small so its source lines do not overflow one L1 set when the
 * source stride is a power of two. */
#define TILE_A 32
#define TILE_B 8

/* Work item = one TILE_A x TILE_B block of the last two dims of one outer
 * index: reads and writes both stay in cache for transposes. */
static void
sc_tiles (void *arg, int64_t begin, int64_t end)
{
  const SCopy *c = arg;
  int nd = c->nd;
  int64_t A = c->dims[nd - 2], B = c->dims[nd - 1];
  int64_t sa = c->ss[nd - 2], sb = c->ss[nd - 1];
  int64_t da = c->ds[nd - 2], db = c->ds[nd - 1];
  int64_t per = c->tile_a * c->tile_b;
  size_t es = c->es;
  for (int64_t w = begin; w < end; w++) {
    int64_t outer = w / per, t = w % per;
    int64_t a0 = (t / c->tile_b) * TILE_A, b0 = (t % c->tile_b) * TILE_B;
    int64_t so = 0, dof = 0, r = outer;
    for (int d = nd - 3; d >= 0; d--) {
      int64_t i = r % c->dims[d];
      r /= c->dims[d];
      so += i * c->ss[d];
      dof += i * c->ds[d];
    }
    int64_t a1 = a0 + TILE_A < A ? a0 + TILE_A : A;
    int64_t b1 = b0 + TILE_B < B ? b0 + TILE_B : B;
    if (es == 4) {
      const uint32_t *s4 = (const uint32_t *)(const void *)c->src + so;
      uint32_t *d4 = (uint32_t *)(void *)c->dst + dof;
      for (int64_t a = a0; a < a1; a++)
        for (int64_t b = b0; b < b1; b++)
          d4[a * da + b * db] = s4[a * sa + b * sb];
    } else {
      for (int64_t a = a0; a < a1; a++)
        for (int64_t b = b0; b < b1; b++)
          copy_elem (c->dst + (dof + a * da + b * db) * (int64_t)es,
                     c->src + (so + a * sa + b * sb) * (int64_t)es, es);
    }
  }
}

static void
sc_run (SCopy *c, MaceThreadPool *pool)
{
  for (int d = 0; d < c->nd; d++)
    if (c->dims[d] == 0)
      return;
  sc_simplify (c);
  int nd = c->nd;
  int64_t total = mace_shape_numel (nd, c->dims);
  bool par = (size_t)total * c->es >= PARALLEL_MIN_BYTES && pool;
  if (nd >= 2 && c->ss[nd - 1] != 1 && c->ss[nd - 2] == 1 && c->ds[nd - 1] == 1
      && c->dims[nd - 1] >= 4 && c->dims[nd - 2] >= 4) {
    c->tile_a = (c->dims[nd - 2] + TILE_A - 1) / TILE_A;
    c->tile_b = (c->dims[nd - 1] + TILE_B - 1) / TILE_B;
    int64_t items
        = total / (c->dims[nd - 2] * c->dims[nd - 1]) * c->tile_a * c->tile_b;
    if (par)
      mace_parallel_for (pool, items, sc_tiles, c);
    else
      sc_tiles (c, 0, items);
    return;
  }
  int64_t rows = total / c->dims[nd - 1];
  if (par)
    mace_parallel_for (pool, rows, sc_rows, c);
  else
    sc_rows (c, 0, rows);
}

/* ---- Transpose -------------------------------------------------------- */

static bool
get_perm (const MaceOpCtx *ctx, int r, int64_t *perm)
{
  int n;
  const int64_t *p = mace_attr_ints (ctx->node, "perm", &n);
  if (!p) {
    for (int i = 0; i < r; i++)
      perm[i] = r - 1 - i;
    return true;
  }
  if (n != r)
    return false;
  bool seen[MACE_MAX_DIMS] = { false };
  for (int i = 0; i < r; i++) {
    int64_t a = p[i];
    if (a < 0)
      a += r;
    if (a < 0 || a >= r || seen[a])
      return false;
    seen[a] = true;
    perm[i] = a;
  }
  return true;
}

static MaceStatus
transpose_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t perm[MACE_MAX_DIMS], dims[MACE_MAX_DIMS];
  if (!get_perm (ctx, x->ndim, perm))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "perm is not a permutation of rank %d", x->ndim);
  for (int i = 0; i < x->ndim; i++)
    dims[i] = x->dims[perm[i]];
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  return MACE_OK;
}

static MaceStatus
transpose_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t perm[MACE_MAX_DIMS], istr[MACE_MAX_DIMS];
  get_perm (ctx, x->ndim, perm);
  strides_of (x->ndim, x->dims, istr);
  SCopy c = { .src = x->data,
              .dst = o->data,
              .es = mace_dtype_size (x->dtype),
              .nd = x->ndim };
  strides_of (o->ndim, o->dims, c.ds);
  for (int i = 0; i < x->ndim; i++) {
    c.dims[i] = o->dims[i];
    c.ss[i] = istr[perm[i]];
  }
  sc_run (&c, ctx->pool);
  return MACE_OK;
}

/* ---- Concat / Split: lists of contiguous segments ---------------------- */

/* Copies, for each outer row and part k, seg[k] bytes between the part and
 * the whole.  to_whole: concat (parts -> whole) or split (whole -> parts).
 * Segments are cut into pieces so that a single big part (batch 1,
 * channel concat) still spreads over the pool. */
typedef struct {
  int n;
  int64_t outer;
  size_t row;      /* bytes per outer row of the whole */
  size_t *seg;     /* bytes per outer row of part k */
  size_t *off;     /* byte offset of part k inside a whole row */
  int64_t *first;  /* first piece index of part k within a row */
  int64_t per_row; /* pieces per row */
  size_t piece;    /* max bytes per piece */
  uint8_t **parts;
  uint8_t *whole;
  bool to_whole;
} SegCopy;

static void
seg_run (void *arg, int64_t begin, int64_t end)
{
  const SegCopy *s = arg;
  for (int64_t w = begin; w < end; w++) {
    int64_t o = w / s->per_row, p = w % s->per_row;
    int k = 0;
    while (k + 1 < s->n && s->first[k + 1] <= p)
      k++;
    size_t start = (size_t)(p - s->first[k]) * s->piece;
    if (start >= s->seg[k])
      continue;
    size_t len = s->seg[k] - start < s->piece ? s->seg[k] - start : s->piece;
    uint8_t *part = s->parts[k] + (size_t)o * s->seg[k] + start;
    uint8_t *whole = s->whole + (size_t)o * s->row + s->off[k] + start;
    if (s->to_whole)
      memcpy (whole, part, len);
    else
      memcpy (part, whole, len);
  }
}

static MaceStatus
seg_copy (MaceOpCtx *ctx, int n, int64_t outer, const size_t *seg,
          uint8_t **parts, uint8_t *whole, bool to_whole)
{
  SegCopy s = {
    .n = n, .outer = outer, .parts = parts, .whole = whole, .to_whole = to_whole
  };
  size_t *buf = malloc (sizeof (size_t) * 2 * (size_t)n);
  int64_t *first = malloc (sizeof (int64_t) * (size_t)n);
  if (!buf || !first) {
    free (buf);
    free (first);
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  s.seg = buf;
  s.off = buf + n;
  s.first = first;
  size_t row = 0;
  for (int k = 0; k < n; k++) {
    s.seg[k] = seg[k];
    s.off[k] = row;
    row += seg[k];
  }
  s.row = row;
  size_t total = row * (size_t)outer;
  int threads = ctx->pool ? mace_threadpool_size (ctx->pool) : 1;
  bool par = threads > 1 && total >= PARALLEL_MIN_BYTES;
  /* Pieces: whole segments normally; cut big ones when rows are few. */
  s.piece = (size_t)-1;
  if (par && outer < 4 * threads) {
    size_t want = total / (size_t)(8 * threads);
    s.piece = want < 65536 ? 65536 : want;
  }
  int64_t pr = 0;
  for (int k = 0; k < n; k++) {
    s.first[k] = pr;
    if (s.seg[k])
      pr += s.piece == (size_t)-1 ? 1 : (int64_t)((s.seg[k] - 1) / s.piece + 1);
  }
  s.per_row = pr;
  if (pr > 0 && total > 0) {
    if (par)
      mace_parallel_for (ctx->pool, outer * pr, seg_run, &s);
    else
      seg_run (&s, 0, outer * pr);
  }
  free (buf);
  free (first);
  return MACE_OK;
}

static MaceStatus
concat_infer (MaceOpCtx *ctx)
{
  if (ctx->n_in < 1)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "no inputs");
  MaceStatus st;
  for (int i = 0; i < ctx->n_in; i++)
    if ((st = need_input (ctx, i)))
      return st;
  const MaceTensor *x = ctx->in[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  if (!norm_axis (&axis, x->ndim))
    return mace_op_fail (
        ctx, MACE_ERROR_INVALID_MODEL, "axis %lld out of range for rank %d",
        (long long)mace_attr_int (ctx->node, "axis", 0), x->ndim);
  int64_t dims[MACE_MAX_DIMS];
  memcpy (dims, x->dims, sizeof (int64_t) * (size_t)x->ndim);
  for (int i = 1; i < ctx->n_in; i++) {
    const MaceTensor *y = ctx->in[i];
    if (y->ndim != x->ndim || y->dtype != x->dtype)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "input %d differs in rank or type", i);
    for (int d = 0; d < x->ndim; d++) {
      if (d == axis)
        dims[d] += y->dims[d];
      else if (y->dims[d] != x->dims[d]) {
        char a[128], b[128];
        return mace_op_fail (
            ctx, MACE_ERROR_SHAPE, "input %d is %s, input 0 is %s (axis %lld)",
            i, mace_shape_str (y->ndim, y->dims, a, sizeof a),
            mace_shape_str (x->ndim, x->dims, b, sizeof b), (long long)axis);
      }
    }
  }
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  return MACE_OK;
}

static MaceStatus
concat_run (MaceOpCtx *ctx)
{
  MaceTensor *o = ctx->out[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  norm_axis (&axis, o->ndim);
  size_t es = mace_dtype_size (o->dtype);
  int64_t outer = mace_shape_numel ((int)axis, o->dims);
  size_t seg[64] = { 0 }, *segp = seg;
  uint8_t *parts[64], **partp = parts;
  if (ctx->n_in > 64) {
    segp = malloc (sizeof (size_t) * (size_t)ctx->n_in);
    partp = malloc (sizeof (uint8_t *) * (size_t)ctx->n_in);
    if (!segp || !partp) {
      free (segp);
      free (partp);
      return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
    }
  }
  for (int i = 0; i < ctx->n_in; i++) {
    const MaceTensor *y = ctx->in[i];
    segp[i]
        = (size_t)mace_shape_numel (y->ndim - (int)axis, y->dims + axis) * es;
    partp[i] = y->data;
  }
  MaceStatus st = seg_copy (ctx, ctx->n_in, outer, segp, partp, o->data, true);
  if (segp != seg) {
    free (segp);
    free (partp);
  }
  return st;
}

static MaceStatus
split_sizes (MaceOpCtx *ctx, int64_t dim, int64_t *sizes)
{
  int n_out = ctx->n_out;
  const int64_t *sp = NULL;
  int64_t buf[256];
  int n = 0;
  if (ctx->opset < 13) {
    sp = mace_attr_ints (ctx->node, "split", &n);
  } else if (has_input (ctx, 1) && mace_tensor_numel (ctx->in[1]) > 0) {
    if (!ctx->in[1]->data)
      return mace_op_fail (ctx, MACE_ERROR_INTERNAL, "split values unknown");
    n = (int)read_ints (ctx->in[1], buf, 256);
    sp = buf;
  }
  if (sp) {
    if (n != n_out)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "split has %d entries for %d outputs", n, n_out);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
      if (sp[i] < 0)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "negative split");
      sizes[i] = sp[i];
      sum += sp[i];
    }
    if (sum != dim)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "split sums to %lld, axis has %lld", (long long)sum,
                           (long long)dim);
    return MACE_OK;
  }
  int64_t num = mace_attr_int (ctx->node, "num_outputs", 0);
  if (num > 0) {
    if (num != n_out)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "num_outputs %lld but %d outputs", (long long)num,
                           n_out);
    int64_t chunk = (dim + num - 1) / num;
    for (int i = 0; i < n_out; i++) {
      int64_t left = dim - chunk * i;
      sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
    }
    return MACE_OK;
  }
  if (dim % n_out)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "axis of %lld does not split in %d equal parts",
                         (long long)dim, n_out);
  for (int i = 0; i < n_out; i++)
    sizes[i] = dim / n_out;
  return MACE_OK;
}

static MaceStatus
split_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  if (ctx->n_out < 1 || ctx->n_out > 256)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "%d outputs", ctx->n_out);
  const MaceTensor *x = ctx->in[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  if (!norm_axis (&axis, x->ndim))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
  int64_t sizes[256];
  if ((st = split_sizes (ctx, x->dims[axis], sizes)))
    return st;
  int64_t dims[MACE_MAX_DIMS];
  memcpy (dims, x->dims, sizeof (int64_t) * (size_t)x->ndim);
  for (int i = 0; i < ctx->n_out; i++) {
    dims[axis] = sizes[i];
    mace_tensor_init (ctx->out[i], x->dtype, x->ndim, dims);
  }
  return MACE_OK;
}

static MaceStatus
split_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  norm_axis (&axis, x->ndim);
  size_t es = mace_dtype_size (x->dtype);
  int64_t outer = mace_shape_numel ((int)axis, x->dims);
  size_t seg[256];
  uint8_t *parts[256];
  for (int i = 0; i < ctx->n_out; i++) {
    const MaceTensor *y = ctx->out[i];
    seg[i]
        = (size_t)mace_shape_numel (y->ndim - (int)axis, y->dims + axis) * es;
    parts[i] = y->data;
  }
  return seg_copy (ctx, ctx->n_out, outer, seg, parts, x->data, false);
}

/* ---- Slice ------------------------------------------------------------ */

typedef struct {
  int64_t start[MACE_MAX_DIMS], step[MACE_MAX_DIMS], count[MACE_MAX_DIMS];
} SliceParams;

static MaceStatus
slice_params (MaceOpCtx *ctx, SliceParams *p)
{
  const MaceTensor *x = ctx->in[0];
  int r = x->ndim;
  int64_t starts[MACE_MAX_DIMS], ends[MACE_MAX_DIMS], axes[MACE_MAX_DIMS],
      steps[MACE_MAX_DIMS];
  int64_t n, na = -1, ns = -1;
  if (ctx->opset < 10) {
    int c1, c2, c3 = -1;
    const int64_t *s = mace_attr_ints (ctx->node, "starts", &c1);
    const int64_t *e = mace_attr_ints (ctx->node, "ends", &c2);
    const int64_t *a = mace_attr_ints (ctx->node, "axes", &c3);
    if (!s || !e || c1 != c2 || c1 > r)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "starts/ends attributes missing or mismatched");
    n = c1;
    memcpy (starts, s, sizeof (int64_t) * (size_t)n);
    memcpy (ends, e, sizeof (int64_t) * (size_t)n);
    if (a) {
      if (c3 != n)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "axes mismatch");
      memcpy (axes, a, sizeof (int64_t) * (size_t)n);
      na = n;
    }
  } else {
    MaceStatus st;
    if ((st = need_values (ctx, 1)) || (st = need_values (ctx, 2)))
      return st;
    n = mace_tensor_numel (ctx->in[1]);
    if (n != mace_tensor_numel (ctx->in[2]) || n > r)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "starts/ends lengths mismatch");
    read_ints (ctx->in[1], starts, n);
    read_ints (ctx->in[2], ends, n);
    if (has_input (ctx, 3)) {
      if ((st = need_values (ctx, 3)))
        return st;
      if (mace_tensor_numel (ctx->in[3]) != n)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "axes mismatch");
      na = read_ints (ctx->in[3], axes, n);
    }
    if (has_input (ctx, 4)) {
      if ((st = need_values (ctx, 4)))
        return st;
      if (mace_tensor_numel (ctx->in[4]) != n)
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "steps mismatch");
      ns = read_ints (ctx->in[4], steps, n);
    }
  }
  for (int d = 0; d < r; d++) {
    p->start[d] = 0;
    p->step[d] = 1;
    p->count[d] = x->dims[d];
  }
  bool seen[MACE_MAX_DIMS] = { false };
  for (int64_t i = 0; i < n; i++) {
    int64_t a = na >= 0 ? axes[i] : i;
    if (!norm_axis (&a, r) || seen[a])
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "bad or repeated axis %lld",
                           (long long)(na >= 0 ? axes[i] : i));
    seen[a] = true;
    int64_t dim = x->dims[a];
    int64_t step = ns >= 0 ? steps[i] : 1;
    if (step == 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "step 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t cnt;
    if (step > 0) {
      s = s < 0 ? 0 : s > dim ? dim : s;
      e = e < 0 ? 0 : e > dim ? dim : e;
      cnt = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      cnt = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    p->start[a] = cnt > 0 ? s : 0;
    p->step[a] = step;
    p->count[a] = cnt;
  }
  return MACE_OK;
}

static MaceStatus
slice_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  SliceParams p;
  if ((st = slice_params (ctx, &p)))
    return st;
  mace_tensor_init (ctx->out[0], ctx->in[0]->dtype, ctx->in[0]->ndim, p.count);
  return MACE_OK;
}

static MaceStatus
slice_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  SliceParams p;
  MaceStatus st = slice_params (ctx, &p);
  if (st)
    return st;
  if (mace_tensor_numel (o) == 0)
    return MACE_OK;
  size_t es = mace_dtype_size (x->dtype);
  int64_t istr[MACE_MAX_DIMS], off = 0;
  strides_of (x->ndim, x->dims, istr);
  SCopy c = { .dst = o->data, .es = es, .nd = x->ndim };
  strides_of (o->ndim, o->dims, c.ds);
  for (int d = 0; d < x->ndim; d++) {
    c.dims[d] = p.count[d];
    c.ss[d] = istr[d] * p.step[d];
    off += p.start[d] * istr[d];
  }
  c.src = (const uint8_t *)x->data + off * (int64_t)es;
  if (x->ndim == 0) {
    memcpy (o->data, x->data, es);
    return MACE_OK;
  }
  sc_run (&c, ctx->pool);
  return MACE_OK;
}

/* ---- Pad -------------------------------------------------------------- */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;

static MaceStatus
pad_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *m = mace_attr_string (node, "mode", "constant");
  if (strcmp (m, "constant") && strcmp (m, "reflect") && strcmp (m, "edge")
      && strcmp (m, "wrap")) {
    snprintf (msg, len, "mode '%s' is not supported", m);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static PadMode
pad_mode (const MaceNode *node)
{
  const char *m = mace_attr_string (node, "mode", "constant");
  if (!strcmp (m, "reflect"))
    return PAD_REFLECT;
  if (!strcmp (m, "edge"))
    return PAD_EDGE;
  if (!strcmp (m, "wrap"))
    return PAD_WRAP;
  return PAD_CONSTANT;
}

/* begin[d], end[d] for every axis of rank r. */
static MaceStatus
pad_amounts (MaceOpCtx *ctx, int r, int64_t *pb, int64_t *pe)
{
  int64_t raw[2 * MACE_MAX_DIMS], axes[MACE_MAX_DIMS];
  int64_t n, na = -1;
  if (ctx->opset < 11) {
    int c;
    const int64_t *p
        = mace_attr_ints (ctx->node, ctx->opset < 2 ? "paddings" : "pads", &c);
    if (!p)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "pads missing");
    n = c;
    if (n > 2 * MACE_MAX_DIMS)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "too many pads");
    memcpy (raw, p, sizeof (int64_t) * (size_t)n);
  } else {
    MaceStatus st = need_values (ctx, 1);
    if (st)
      return st;
    n = mace_tensor_numel (ctx->in[1]);
    if (n > 2 * MACE_MAX_DIMS)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "too many pads");
    read_ints (ctx->in[1], raw, n);
    if (has_input (ctx, 3) && mace_tensor_numel (ctx->in[3]) > 0) {
      if ((st = need_values (ctx, 3)))
        return st;
      na = read_ints (ctx->in[3], axes, MACE_MAX_DIMS);
    }
  }
  for (int d = 0; d < r; d++)
    pb[d] = pe[d] = 0;
  if (na >= 0) {
    if (n != 2 * na)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "%lld pads for %lld axes", (long long)n,
                           (long long)na);
    for (int64_t i = 0; i < na; i++) {
      int64_t a = axes[i];
      if (!norm_axis (&a, r))
        return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
      pb[a] = raw[i];
      pe[a] = raw[i + na];
    }
  } else {
    if (n != 2 * r)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "%lld pads for rank %d", (long long)n, r);
    for (int d = 0; d < r; d++) {
      pb[d] = raw[d];
      pe[d] = raw[d + r];
    }
  }
  return MACE_OK;
}

static MaceStatus
pad_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t pb[MACE_MAX_DIMS], pe[MACE_MAX_DIMS], dims[MACE_MAX_DIMS];
  if ((st = pad_amounts (ctx, x->ndim, pb, pe)))
    return st;
  PadMode mode = pad_mode (ctx->node);
  for (int d = 0; d < x->ndim; d++) {
    dims[d] = x->dims[d] + pb[d] + pe[d];
    if (dims[d] < 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "negative output size on axis %d", d);
    if (mode != PAD_CONSTANT && x->dims[d] == 0 && dims[d] > 0)
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "cannot %s-pad an empty axis",
                           mode == PAD_EDGE ? "edge" : "reflect");
  }
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  return MACE_OK;
}

typedef struct {
  const uint8_t *src;
  uint8_t *dst;
  size_t es;
  int nd;
  const int64_t *odims;
  int64_t istr[MACE_MAX_DIMS];
  int64_t *map[MACE_MAX_DIMS]; /* output index -> input index or -1 */
  int64_t lo, hi;              /* last axis: map[o] = o - lo_shift inside */
  int64_t shift;
  uint8_t val[16];
} PadArgs;

static void
pad_rows (void *arg, int64_t begin, int64_t end)
{
  const PadArgs *a = arg;
  int nd = a->nd;
  size_t es = a->es;
  int64_t idx[MACE_MAX_DIMS] = { 0 };
  int64_t r = begin;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = r % a->odims[d];
    r /= a->odims[d];
  }
  int64_t inner = a->odims[nd - 1];
  const int64_t *lmap = a->map[nd - 1];
  for (int64_t row = begin; row < end; row++) {
    uint8_t *dp = a->dst + row * inner * (int64_t)es;
    int64_t so = 0;
    bool valid = true;
    for (int d = 0; d < nd - 1; d++) {
      int64_t m = a->map[d][idx[d]];
      if (m < 0) {
        valid = false;
        break;
      }
      so += m * a->istr[d];
    }
    if (!valid) {
      fill_elems (dp, a->val, es, inner);
    } else {
      const uint8_t *sp = a->src + so * (int64_t)es;
      for (int64_t i = 0; i < a->lo; i++) {
        if (lmap[i] < 0)
          memcpy (dp + i * (int64_t)es, a->val, es);
        else
          copy_elem (dp + i * (int64_t)es, sp + lmap[i] * (int64_t)es, es);
      }
      if (a->hi > a->lo)
        memcpy (dp + a->lo * (int64_t)es, sp + (a->lo - a->shift) * (int64_t)es,
                (size_t)(a->hi - a->lo) * es);
      for (int64_t i = a->hi > a->lo ? a->hi : a->lo; i < inner; i++) {
        if (lmap[i] < 0)
          memcpy (dp + i * (int64_t)es, a->val, es);
        else
          copy_elem (dp + i * (int64_t)es, sp + lmap[i] * (int64_t)es, es);
      }
    }
    for (int d = nd - 2; d >= 0; d--) {
      if (++idx[d] < a->odims[d])
        break;
      idx[d] = 0;
    }
  }
}

static MaceStatus
pad_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t total = mace_tensor_numel (o);
  if (total == 0)
    return MACE_OK;
  size_t es = mace_dtype_size (x->dtype);
  if (x->ndim == 0) {
    memcpy (o->data, x->data, es);
    return MACE_OK;
  }
  int64_t pb[MACE_MAX_DIMS], pe[MACE_MAX_DIMS];
  MaceStatus st = pad_amounts (ctx, x->ndim, pb, pe);
  if (st)
    return st;
  PadMode mode = pad_mode (ctx->node);
  PadArgs a = {
    .src = x->data, .dst = o->data, .es = es, .nd = x->ndim, .odims = o->dims
  };
  strides_of (x->ndim, x->dims, a.istr);
  /* The constant, in the data's type. */
  memset (a.val, 0, sizeof a.val);
  if (ctx->opset < 11) {
    MaceTensor tmp = { .dtype = x->dtype, .data = a.val };
    mace_tensor_set_f64 (&tmp, 0, mace_attr_float (ctx->node, "value", 0.0f));
  } else if (has_input (ctx, 2) && mace_tensor_numel (ctx->in[2]) > 0) {
    if (ctx->in[2]->dtype != x->dtype)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "constant_value type differs from data");
    memcpy (a.val, ctx->in[2]->data, es);
  }
  int64_t msum = 0;
  for (int d = 0; d < x->ndim; d++)
    msum += o->dims[d];
  int64_t *maps = malloc (sizeof (int64_t) * (size_t)(msum ? msum : 1));
  if (!maps)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  int64_t *mp = maps;
  for (int d = 0; d < x->ndim; d++) {
    int64_t n = x->dims[d];
    a.map[d] = mp;
    for (int64_t i = 0; i < o->dims[d]; i++) {
      int64_t s = i - pb[d];
      if (s < 0 || s >= n) {
        switch (mode) {
          case PAD_CONSTANT: s = -1; break;
          case PAD_EDGE: s = s < 0 ? 0 : n - 1; break;
          case PAD_WRAP: s = ((s % n) + n) % n; break;
          case PAD_REFLECT:
            if (n == 1) {
              s = 0;
              break;
            }
            while (s < 0 || s >= n) {
              if (s < 0)
                s = -s;
              if (s >= n)
                s = 2 * (n - 1) - s;
            }
            break;
        }
      }
      mp[i] = s;
    }
    mp += o->dims[d];
  }
  int last = x->ndim - 1;
  a.shift = pb[last];
  a.lo = pb[last] > 0 ? pb[last] : 0;
  a.hi = pb[last] + x->dims[last];
  if (a.hi > o->dims[last])
    a.hi = o->dims[last];
  if (a.hi < a.lo)
    a.hi = a.lo;
  int64_t rows = total / o->dims[last];
  if (ctx->pool && (size_t)total * es >= PARALLEL_MIN_BYTES)
    mace_parallel_for (ctx->pool, rows, pad_rows, &a);
  else
    pad_rows (&a, 0, rows);
  free (maps);
  return MACE_OK;
}

/* ---- Gather ----------------------------------------------------------- */

static MaceStatus
gather_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  if (!norm_axis (&axis, x->ndim))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
  int r = x->ndim - 1 + ind->ndim;
  if (r > MACE_MAX_DIMS)
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank %d", r);
  int64_t dims[MACE_MAX_DIMS];
  int n = 0;
  for (int d = 0; d < axis; d++)
    dims[n++] = x->dims[d];
  for (int d = 0; d < ind->ndim; d++)
    dims[n++] = ind->dims[d];
  for (int d = (int)axis + 1; d < x->ndim; d++)
    dims[n++] = x->dims[d];
  mace_tensor_init (ctx->out[0], x->dtype, n, dims);
  return MACE_OK;
}

/* Index i of an index tensor, made non-negative for an axis of n.  Sets
 * *bad when out of range. */
static inline int64_t
get_index (const MaceTensor *t, int64_t i, int64_t n, bool *bad)
{
  int64_t v = t->dtype == MACE_DTYPE_INT64   ? ((const int64_t *)t->data)[i]
              : t->dtype == MACE_DTYPE_INT32 ? ((const int32_t *)t->data)[i]
                                             : mace_tensor_get_i64 (t, i);
  if (v < 0)
    v += n;
  if (v < 0 || v >= n) {
    *bad = true;
    return 0;
  }
  return v;
}

static MaceStatus
gather_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1];
  MaceTensor *o = ctx->out[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  norm_axis (&axis, x->ndim);
  size_t es = mace_dtype_size (x->dtype);
  int64_t outer = mace_shape_numel ((int)axis, x->dims);
  int64_t n = x->dims[axis];
  int64_t inner
      = mace_shape_numel (x->ndim - (int)axis - 1, x->dims + axis + 1);
  int64_t ni = mace_tensor_numel (ind);
  size_t blk = (size_t)inner * es;
  bool bad = false;
  const uint8_t *src = x->data;
  uint8_t *dst = o->data;
  for (int64_t j = 0; j < ni && !bad; j++)
    get_index (ind, j, n, &bad);
  if (bad)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG,
                         "index out of range for axis of %lld", (long long)n);
  for (int64_t b = 0; b < outer; b++)
    for (int64_t j = 0; j < ni; j++) {
      int64_t k = get_index (ind, j, n, &bad);
      if (blk == 4)
        memcpy (dst, src + (b * n + k) * 4, 4);
      else
        memcpy (dst, src + (size_t)(b * n + k) * blk, blk);
      dst += blk;
    }
  return MACE_OK;
}

/* ---- GatherElements / ScatterElements --------------------------------- */

static MaceStatus
gather_elements_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  if (!norm_axis (&axis, x->ndim) || ind->ndim != x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "bad axis or rank mismatch");
  mace_tensor_init (ctx->out[0], x->dtype, ind->ndim, ind->dims);
  return MACE_OK;
}

/* Calls, for every element i of the index tensor (shape dims), the copy
 * between element i and data offset (off with axis replaced by the
 * index).  scatter: writes data[off] from upd[i]; else out[i] = data[off]. */
typedef enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } Reduction;

static MaceStatus
reduction_of (MaceOpCtx *ctx, Reduction *r)
{
  const char *s = mace_attr_string (ctx->node, "reduction", "none");
  if (!strcmp (s, "none"))
    *r = RED_NONE;
  else if (!strcmp (s, "add"))
    *r = RED_ADD;
  else if (!strcmp (s, "mul"))
    *r = RED_MUL;
  else if (!strcmp (s, "max"))
    *r = RED_MAX;
  else if (!strcmp (s, "min"))
    *r = RED_MIN;
  else
    return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "reduction '%s'", s);
  return MACE_OK;
}

static MaceStatus
scatter_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *s = mace_attr_string (node, "reduction", "none");
  if (strcmp (s, "none") && strcmp (s, "add") && strcmp (s, "mul")
      && strcmp (s, "max") && strcmp (s, "min")) {
    snprintf (msg, len, "reduction '%s' is not supported", s);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static void
reduce_elem (MaceTensor *o, int64_t oi, const MaceTensor *u, int64_t ui,
             Reduction r, size_t es)
{
  if (r == RED_NONE) {
    copy_elem ((uint8_t *)o->data + oi * (int64_t)es,
               (const uint8_t *)u->data + ui * (int64_t)es, es);
    return;
  }
  if (o->dtype == MACE_DTYPE_INT64) {
    int64_t *p = (int64_t *)o->data + oi, v = ((const int64_t *)u->data)[ui];
    switch (r) {
      case RED_ADD: *p += v; break;
      case RED_MUL: *p *= v; break;
      case RED_MAX: *p = *p > v ? *p : v; break;
      case RED_MIN: *p = *p < v ? *p : v; break;
      default: break;
    }
    return;
  }
  double a = mace_tensor_get_f64 (o, oi), b = mace_tensor_get_f64 (u, ui);
  switch (r) {
    case RED_ADD: a += b; break;
    case RED_MUL: a *= b; break;
    case RED_MAX: a = a > b ? a : b; break;
    case RED_MIN: a = a < b ? a : b; break;
    default: break;
  }
  mace_tensor_set_f64 (o, oi, a);
}

static MaceStatus
elements_walk (MaceOpCtx *ctx, const MaceTensor *data, const MaceTensor *ind,
               const MaceTensor *upd, MaceTensor *out, bool scatter)
{
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  norm_axis (&axis, data->ndim);
  int nd = ind->ndim;
  size_t es = mace_dtype_size (data->dtype);
  Reduction red = RED_NONE;
  if (scatter) {
    MaceStatus st = reduction_of (ctx, &red);
    if (st)
      return st;
  }
  int64_t dstr[MACE_MAX_DIMS];
  strides_of (data->ndim, data->dims, dstr);
  int64_t total = mace_tensor_numel (ind);
  int64_t idx[MACE_MAX_DIMS] = { 0 };
  int64_t base = 0; /* data offset of idx with the axis coordinate at 0 */
  int64_t n = data->dims[axis];
  bool bad = false;
  for (int d = 0; d < nd; d++)
    if (d != axis && ind->dims[d] > data->dims[d])
      return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                           "indices larger than data on axis %d", d);
  for (int64_t i = 0; i < total; i++) {
    int64_t k = get_index (ind, i, n, &bad);
    if (bad)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG,
                           "index out of range for axis of %lld", (long long)n);
    int64_t off = base + k * dstr[axis];
    if (scatter)
      reduce_elem (out, off, upd, i, red, es);
    else
      copy_elem ((uint8_t *)out->data + i * (int64_t)es,
                 (const uint8_t *)data->data + off * (int64_t)es, es);
    for (int d = nd - 1; d >= 0; d--) {
      if (d != axis)
        base += dstr[d];
      if (++idx[d] < ind->dims[d])
        break;
      if (d != axis)
        base -= idx[d] * dstr[d];
      idx[d] = 0;
    }
  }
  return MACE_OK;
}

static MaceStatus
gather_elements_run (MaceOpCtx *ctx)
{
  return elements_walk (ctx, ctx->in[0], ctx->in[1], NULL, ctx->out[0], false);
}

static MaceStatus
scatter_elements_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1))
      || (st = need_input (ctx, 2)))
    return st;
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1], *u = ctx->in[2];
  int64_t axis = mace_attr_int (ctx->node, "axis", 0);
  if (!norm_axis (&axis, x->ndim) || ind->ndim != x->ndim
      || !mace_shape_equal (ind->ndim, ind->dims, u->ndim, u->dims)
      || u->dtype != x->dtype)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "bad axis, or indices/updates do not match");
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
scatter_elements_run (MaceOpCtx *ctx)
{
  MaceTensor *o = ctx->out[0];
  size_t nb = mace_tensor_nbytes (o);
  if (nb)
    memcpy (o->data, ctx->in[0]->data, nb);
  return elements_walk (ctx, ctx->in[0], ctx->in[1], ctx->in[2], o, true);
}

/* ---- GatherND / ScatterND --------------------------------------------- */

static MaceStatus
gathernd_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1];
  int64_t b = mace_attr_int (ctx->node, "batch_dims", 0);
  if (ind->ndim < 1 || b < 0 || b >= ind->ndim || b >= x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad ranks");
  int64_t k = ind->dims[ind->ndim - 1];
  if (k < 1 || b + k > x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "index tuples of %lld for data rank %d", (long long)k,
                         x->ndim);
  for (int d = 0; d < b; d++)
    if (x->dims[d] != ind->dims[d])
      return mace_op_fail (ctx, MACE_ERROR_SHAPE, "batch dims differ");
  int64_t dims[MACE_MAX_DIMS];
  int n = 0;
  for (int d = 0; d < ind->ndim - 1; d++)
    dims[n++] = ind->dims[d];
  for (int d = (int)(b + k); d < x->ndim; d++) {
    if (n >= MACE_MAX_DIMS)
      return mace_op_fail (ctx, MACE_ERROR_UNSUPPORTED, "rank too large");
    dims[n++] = x->dims[d];
  }
  mace_tensor_init (ctx->out[0], x->dtype, n, dims);
  return MACE_OK;
}

/* Data element offset of index tuple t (batch bt), or -1 if out of range. */
static int64_t
nd_offset (const MaceTensor *x, const MaceTensor *ind, int64_t t, int64_t b,
           int64_t k, int64_t bt, const int64_t *xstr)
{
  int64_t off = b > 0 ? bt * xstr[b - 1] : 0;
  bool bad = false;
  for (int64_t j = 0; j < k; j++) {
    int64_t v = get_index (ind, t * k + j, x->dims[b + j], &bad);
    if (bad)
      return -1;
    off += v * xstr[b + j];
  }
  return off;
}

static MaceStatus
gathernd_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1];
  MaceTensor *o = ctx->out[0];
  int64_t b = mace_attr_int (ctx->node, "batch_dims", 0);
  int64_t k = ind->dims[ind->ndim - 1];
  size_t es = mace_dtype_size (x->dtype);
  int64_t xstr[MACE_MAX_DIMS];
  strides_of (x->ndim, x->dims, xstr);
  int64_t slice = mace_shape_numel (x->ndim - (int)(b + k), x->dims + b + k);
  int64_t nb = mace_shape_numel ((int)b, x->dims);
  int64_t tuples = mace_shape_numel (ind->ndim - 1, ind->dims);
  int64_t per = nb ? tuples / nb : 0;
  uint8_t *dst = o->data;
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = nd_offset (x, ind, t, b, k, per ? t / per : 0, xstr);
    if (off < 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG, "index out of range");
    memcpy (dst, (const uint8_t *)x->data + off * (int64_t)es,
            (size_t)slice * es);
    dst += (size_t)slice * es;
  }
  return MACE_OK;
}

static MaceStatus
scatternd_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1))
      || (st = need_input (ctx, 2)))
    return st;
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1], *u = ctx->in[2];
  if (ind->ndim < 1)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "indices rank 0");
  int64_t k = ind->dims[ind->ndim - 1];
  if (k > x->ndim || u->dtype != x->dtype
      || u->ndim != ind->ndim - 1 + x->ndim - k)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "updates do not match data and indices");
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
scatternd_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *ind = ctx->in[1], *u = ctx->in[2];
  MaceTensor *o = ctx->out[0];
  Reduction red;
  MaceStatus st = reduction_of (ctx, &red);
  if (st)
    return st;
  size_t nbytes = mace_tensor_nbytes (o);
  if (nbytes)
    memcpy (o->data, x->data, nbytes);
  int64_t k = ind->dims[ind->ndim - 1];
  size_t es = mace_dtype_size (x->dtype);
  int64_t xstr[MACE_MAX_DIMS];
  strides_of (x->ndim, x->dims, xstr);
  int64_t slice = mace_shape_numel (x->ndim - (int)k, x->dims + k);
  int64_t tuples = mace_shape_numel (ind->ndim - 1, ind->dims);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = nd_offset (x, ind, t, 0, k, 0, xstr);
    if (off < 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG, "index out of range");
    if (red == RED_NONE) {
      memcpy ((uint8_t *)o->data + off * (int64_t)es,
              (const uint8_t *)u->data + t * slice * (int64_t)es,
              (size_t)slice * es);
    } else {
      for (int64_t i = 0; i < slice; i++)
        reduce_elem (o, off + i, u, t * slice + i, red, es);
    }
  }
  return MACE_OK;
}

/* ---- Tile ------------------------------------------------------------- */

static MaceStatus
tile_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_values (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0];
  if (mace_tensor_numel (ctx->in[1]) != x->ndim)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "repeats has %lld entries for rank %d",
                         (long long)mace_tensor_numel (ctx->in[1]), x->ndim);
  int64_t rep[MACE_MAX_DIMS], dims[MACE_MAX_DIMS];
  read_ints (ctx->in[1], rep, MACE_MAX_DIMS);
  for (int d = 0; d < x->ndim; d++) {
    if (rep[d] < 0)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "negative repeat");
    dims[d] = x->dims[d] * rep[d];
  }
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  return MACE_OK;
}

static MaceStatus
tile_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  if (mace_tensor_numel (o) == 0)
    return MACE_OK;
  size_t es = mace_dtype_size (x->dtype);
  if (x->ndim == 0) {
    memcpy (o->data, x->data, es);
    return MACE_OK;
  }
  int64_t istr[MACE_MAX_DIMS], ostr[MACE_MAX_DIMS];
  strides_of (x->ndim, x->dims, istr);
  strides_of (o->ndim, o->dims, ostr);
  /* Output viewed as (rep0, d0, rep1, d1, ...). */
  SCopy c = { .src = x->data, .dst = o->data, .es = es, .nd = 2 * x->ndim };
  for (int d = 0; d < x->ndim; d++) {
    c.dims[2 * d] = x->dims[d] ? o->dims[d] / x->dims[d] : 0;
    c.ss[2 * d] = 0;
    c.ds[2 * d] = x->dims[d] * ostr[d];
    c.dims[2 * d + 1] = x->dims[d];
    c.ss[2 * d + 1] = istr[d];
    c.ds[2 * d + 1] = ostr[d];
  }
  sc_run (&c, ctx->pool);
  return MACE_OK;
}

/* ---- DepthToSpace / SpaceToDepth -------------------------------------- */

static MaceStatus
d2s_check (const MaceNode *node, int64_t opset, char *msg, size_t len)
{
  (void)opset;
  const char *m = mace_attr_string (node, "mode", "DCR");
  if (strcmp (m, "DCR") && strcmp (m, "CRD")) {
    snprintf (msg, len, "mode '%s' is not supported", m);
    return MACE_ERROR_UNSUPPORTED;
  }
  return MACE_OK;
}

static MaceStatus
d2s_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t b = mace_attr_int (ctx->node, "blocksize", 0);
  if (x->ndim != 4 || b < 1 || x->dims[1] % (b * b))
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "needs a 4-D input whose channels divide by "
                         "blocksize^2 (blocksize %lld)",
                         (long long)b);
  int64_t dims[4]
      = { x->dims[0], x->dims[1] / (b * b), x->dims[2] * b, x->dims[3] * b };
  mace_tensor_init (ctx->out[0], x->dtype, 4, dims);
  return MACE_OK;
}

static MaceStatus
d2s_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t b = mace_attr_int (ctx->node, "blocksize", 0);
  bool crd = !strcmp (mace_attr_string (ctx->node, "mode", "DCR"), "CRD");
  int64_t N = x->dims[0], C = o->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t HW = H * W;
  /* Output as (N, C', H, b1, W, b2), contiguous. */
  SCopy c = {
    .src = x->data, .dst = o->data, .es = mace_dtype_size (x->dtype), .nd = 6
  };
  int64_t dims[6] = { N, C, H, b, W, b };
  memcpy (c.dims, dims, sizeof dims);
  strides_of (6, c.dims, c.ds);
  c.ss[0] = x->dims[1] * HW;
  c.ss[2] = W;
  c.ss[4] = 1;
  if (crd) {
    c.ss[1] = b * b * HW;
    c.ss[3] = b * HW;
    c.ss[5] = HW;
  } else {
    c.ss[1] = HW;
    c.ss[3] = b * C * HW;
    c.ss[5] = C * HW;
  }
  sc_run (&c, ctx->pool);
  return MACE_OK;
}

static MaceStatus
s2d_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t b = mace_attr_int (ctx->node, "blocksize", 0);
  if (x->ndim != 4 || b < 1 || x->dims[2] % b || x->dims[3] % b)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE,
                         "needs a 4-D input whose height and width divide "
                         "by blocksize %lld",
                         (long long)b);
  int64_t dims[4]
      = { x->dims[0], x->dims[1] * b * b, x->dims[2] / b, x->dims[3] / b };
  mace_tensor_init (ctx->out[0], x->dtype, 4, dims);
  return MACE_OK;
}

static MaceStatus
s2d_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t b = mace_attr_int (ctx->node, "blocksize", 0);
  int64_t N = x->dims[0], C = x->dims[1], W = x->dims[3];
  int64_t Ho = o->dims[2], Wo = o->dims[3];
  /* Output as (N, b1, b2, C, H', W'), contiguous. */
  SCopy c = {
    .src = x->data, .dst = o->data, .es = mace_dtype_size (x->dtype), .nd = 6
  };
  int64_t dims[6] = { N, b, b, C, Ho, Wo };
  memcpy (c.dims, dims, sizeof dims);
  strides_of (6, c.dims, c.ds);
  c.ss[0] = C * x->dims[2] * W;
  c.ss[1] = W;
  c.ss[2] = 1;
  c.ss[3] = x->dims[2] * W;
  c.ss[4] = b * W;
  c.ss[5] = b;
  sc_run (&c, ctx->pool);
  return MACE_OK;
}

/* ---- Trilu ------------------------------------------------------------ */

static MaceStatus
trilu_infer (MaceOpCtx *ctx)
{
  MaceStatus st = need_input (ctx, 0);
  if (st)
    return st;
  if (ctx->in[0]->ndim < 2)
    return mace_op_fail (ctx, MACE_ERROR_SHAPE, "input rank below 2");
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
trilu_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *o = ctx->out[0];
  int64_t k = 0;
  if (has_input (ctx, 1) && mace_tensor_numel (ctx->in[1]) > 0)
    k = mace_tensor_get_i64 (ctx->in[1], 0);
  bool upper = mace_attr_int (ctx->node, "upper", 1) != 0;
  size_t es = mace_dtype_size (x->dtype);
  int64_t R = x->dims[x->ndim - 2], C = x->dims[x->ndim - 1];
  int64_t mats = mace_shape_numel (x->ndim - 2, x->dims);
  const uint8_t *src = x->data;
  uint8_t *dst = o->data;
  for (int64_t m = 0; m < mats; m++)
    for (int64_t i = 0; i < R; i++) {
      size_t row = (size_t)((m * R + i) * C) * es;
      /* Kept columns: upper j >= i + k, lower j <= i + k. */
      int64_t lo = upper ? i + k : 0, hi = upper ? C : i + k + 1;
      lo = lo < 0 ? 0 : lo > C ? C : lo;
      hi = hi < 0 ? 0 : hi > C ? C : hi;
      if (hi < lo)
        hi = lo;
      memset (dst + row, 0, (size_t)lo * es);
      memcpy (dst + row + (size_t)lo * es, src + row + (size_t)lo * es,
              (size_t)(hi - lo) * es);
      memset (dst + row + (size_t)hi * es, 0, (size_t)(C - hi) * es);
    }
  return MACE_OK;
}

/* ---- OneHot ----------------------------------------------------------- */

static MaceStatus
onehot_depth (MaceOpCtx *ctx, int64_t *depth)
{
  MaceStatus st = need_values (ctx, 1);
  if (st)
    return st;
  if (mace_tensor_numel (ctx->in[1]) != 1)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "depth is not a scalar");
  *depth = (int64_t)mace_tensor_get_f64 (ctx->in[1], 0);
  if (*depth < 1)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "depth below 1");
  return MACE_OK;
}

static MaceStatus
onehot_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  int64_t depth = 0;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 2))
      || (st = onehot_depth (ctx, &depth)))
    return st;
  const MaceTensor *ind = ctx->in[0], *val = ctx->in[2];
  int r = ind->ndim + 1;
  int64_t axis = mace_attr_int (ctx->node, "axis", -1);
  if (r > MACE_MAX_DIMS || !norm_axis (&axis, r))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis or rank");
  if (mace_tensor_numel (val) != 2)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "values must hold [off, on]");
  int64_t dims[MACE_MAX_DIMS];
  int n = 0;
  for (int d = 0; d < r; d++)
    dims[d] = d == axis ? depth : ind->dims[n++];
  mace_tensor_init (ctx->out[0], val->dtype, r, dims);
  return MACE_OK;
}

static MaceStatus
onehot_run (MaceOpCtx *ctx)
{
  const MaceTensor *ind = ctx->in[0], *val = ctx->in[2];
  MaceTensor *o = ctx->out[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", -1);
  norm_axis (&axis, o->ndim);
  int64_t depth = o->dims[axis];
  size_t es = mace_dtype_size (o->dtype);
  const uint8_t *off = val->data, *on = off + es;
  int64_t outer = mace_shape_numel ((int)axis, ind->dims);
  int64_t inner = mace_shape_numel (ind->ndim - (int)axis, ind->dims + axis);
  fill_elems (o->data, off, es, mace_tensor_numel (o));
  uint8_t *dst = o->data;
  for (int64_t a = 0; a < outer; a++)
    for (int64_t i = 0; i < inner; i++) {
      double v = mace_tensor_get_f64 (ind, a * inner + i);
      int64_t k = (int64_t)v;
      if (k < 0)
        k += depth;
      if (k < 0 || k >= depth)
        continue;
      copy_elem (dst + ((a * depth + k) * inner + i) * (int64_t)es, on, es);
    }
  return MACE_OK;
}

/* ---- Compress --------------------------------------------------------- */

static MaceStatus
compress_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_values (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0], *cond = ctx->in[1];
  const MaceAttr *a = mace_node_attr (ctx->node, "axis");
  int64_t dim = mace_tensor_numel (x);
  int64_t axis = a ? a->i : 0;
  if (a) {
    if (!norm_axis (&axis, x->ndim))
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
    dim = x->dims[axis];
  }
  int64_t nc = mace_tensor_numel (cond), cnt = 0;
  if (nc > dim)
    nc = dim;
  for (int64_t i = 0; i < nc; i++)
    cnt += mace_tensor_get_f64 (cond, i) != 0;
  if (!a) {
    mace_tensor_init (ctx->out[0], x->dtype, 1, &cnt);
    return MACE_OK;
  }
  int64_t dims[MACE_MAX_DIMS];
  memcpy (dims, x->dims, sizeof (int64_t) * (size_t)x->ndim);
  dims[axis] = cnt;
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  return MACE_OK;
}

static MaceStatus
compress_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *cond = ctx->in[1];
  const MaceAttr *a = mace_node_attr (ctx->node, "axis");
  size_t es = mace_dtype_size (x->dtype);
  int64_t outer = 1, dim = mace_tensor_numel (x), inner = 1;
  if (a) {
    int64_t axis = a->i;
    norm_axis (&axis, x->ndim);
    outer = mace_shape_numel ((int)axis, x->dims);
    dim = x->dims[axis];
    inner = mace_shape_numel (x->ndim - (int)axis - 1, x->dims + axis + 1);
  }
  int64_t nc = mace_tensor_numel (cond);
  if (nc > dim)
    nc = dim;
  size_t blk = (size_t)inner * es;
  uint8_t *dst = ctx->out[0]->data;
  const uint8_t *src = x->data;
  for (int64_t b = 0; b < outer; b++)
    for (int64_t i = 0; i < nc; i++)
      if (mace_tensor_get_f64 (cond, i) != 0) {
        memcpy (dst, src + (size_t)(b * dim + i) * blk, blk);
        dst += blk;
      }
  return MACE_OK;
}

/* ---- TopK ------------------------------------------------------------- */

static MaceStatus
topk_k (MaceOpCtx *ctx, int64_t *k)
{
  if (ctx->opset < 10) {
    *k = mace_attr_int (ctx->node, "k", -1);
  } else {
    MaceStatus st = need_values (ctx, 1);
    if (st)
      return st;
    if (mace_tensor_numel (ctx->in[1]) != 1)
      return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                           "K must hold one value");
    *k = mace_tensor_get_i64 (ctx->in[1], 0);
  }
  if (*k < 0)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "K is negative");
  return MACE_OK;
}

static MaceStatus
topk_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  int64_t k = 0;
  if ((st = need_input (ctx, 0)) || (st = topk_k (ctx, &k)))
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t axis = mace_attr_int (ctx->node, "axis", -1);
  if (!norm_axis (&axis, x->ndim))
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "bad axis");
  if (k > x->dims[axis])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_ARG,
                         "K %lld exceeds axis size %lld", (long long)k,
                         (long long)x->dims[axis]);
  if (ctx->n_out != 2)
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "needs 2 outputs");
  int64_t dims[MACE_MAX_DIMS];
  memcpy (dims, x->dims, sizeof (int64_t) * (size_t)x->ndim);
  dims[axis] = k;
  mace_tensor_init (ctx->out[0], x->dtype, x->ndim, dims);
  mace_tensor_init (ctx->out[1], MACE_DTYPE_INT64, x->ndim, dims);
  return MACE_OK;
}

typedef struct {
  double f;
  int64_t i;
  int64_t idx;
} TopKItem;

/* Largest first; NaN counts as largest; ties by lower index. */
static int
cmp_largest_f (const void *pa, const void *pb)
{
  const TopKItem *a = pa, *b = pb;
  bool na = isnan (a->f), nb = isnan (b->f);
  if (na != nb)
    return na ? -1 : 1;
  if (!na && a->f != b->f)
    return a->f > b->f ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
cmp_smallest_f (const void *pa, const void *pb)
{
  const TopKItem *a = pa, *b = pb;
  bool na = isnan (a->f), nb = isnan (b->f);
  if (na != nb)
    return na ? 1 : -1;
  if (!na && a->f != b->f)
    return a->f < b->f ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
cmp_largest_i (const void *pa, const void *pb)
{
  const TopKItem *a = pa, *b = pb;
  if (a->i != b->i)
    return a->i > b->i ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
cmp_smallest_i (const void *pa, const void *pb)
{
  const TopKItem *a = pa, *b = pb;
  if (a->i != b->i)
    return a->i < b->i ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static MaceStatus
topk_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0];
  MaceTensor *vo = ctx->out[0], *io = ctx->out[1];
  int64_t axis = mace_attr_int (ctx->node, "axis", -1);
  norm_axis (&axis, x->ndim);
  int64_t k = vo->dims[axis], n = x->dims[axis];
  bool largest = mace_attr_int (ctx->node, "largest", 1) != 0;
  bool ints = is_int_dtype (x->dtype);
  int (*cmp) (const void *, const void *)
      = ints ? (largest ? cmp_largest_i : cmp_smallest_i)
             : (largest ? cmp_largest_f : cmp_smallest_f);
  int64_t outer = mace_shape_numel ((int)axis, x->dims);
  int64_t inner
      = mace_shape_numel (x->ndim - (int)axis - 1, x->dims + axis + 1);
  if (k == 0 || outer * inner == 0)
    return MACE_OK;
  size_t es = mace_dtype_size (x->dtype);
  TopKItem *items = malloc (sizeof (TopKItem) * (size_t)n);
  if (!items)
    return mace_op_fail (ctx, MACE_ERROR_OUT_OF_MEMORY, "out of memory");
  int64_t *oi = io->data;
  for (int64_t a = 0; a < outer; a++)
    for (int64_t b = 0; b < inner; b++) {
      int64_t base = a * n * inner + b;
      for (int64_t j = 0; j < n; j++) {
        int64_t e = base + j * inner;
        items[j].idx = j;
        if (ints)
          items[j].i = mace_tensor_get_i64 (x, e);
        else
          items[j].f = mace_tensor_get_f64 (x, e);
      }
      qsort (items, (size_t)n, sizeof *items, cmp);
      int64_t obase = a * k * inner + b;
      for (int64_t j = 0; j < k; j++) {
        int64_t e = obase + j * inner;
        oi[e] = items[j].idx;
        copy_elem ((uint8_t *)vo->data + e * (int64_t)es,
                   (const uint8_t *)x->data
                       + (base + items[j].idx * inner) * (int64_t)es,
                   es);
      }
    }
  free (items);
  return MACE_OK;
}

/* ---- ReverseSequence -------------------------------------------------- */

static MaceStatus
revseq_infer (MaceOpCtx *ctx)
{
  MaceStatus st;
  if ((st = need_input (ctx, 0)) || (st = need_input (ctx, 1)))
    return st;
  const MaceTensor *x = ctx->in[0];
  int64_t ba = mace_attr_int (ctx->node, "batch_axis", 1);
  int64_t ta = mace_attr_int (ctx->node, "time_axis", 0);
  if (x->ndim < 2 || !norm_axis (&ba, x->ndim) || !norm_axis (&ta, x->ndim)
      || ba == ta || mace_tensor_numel (ctx->in[1]) != x->dims[ba])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL,
                         "bad axes or sequence_lens");
  return mace_infer_same_as_input0 (ctx);
}

static MaceStatus
revseq_run (MaceOpCtx *ctx)
{
  const MaceTensor *x = ctx->in[0], *lens = ctx->in[1];
  MaceTensor *o = ctx->out[0];
  int64_t ba = mace_attr_int (ctx->node, "batch_axis", 1);
  int64_t ta = mace_attr_int (ctx->node, "time_axis", 0);
  norm_axis (&ba, x->ndim);
  norm_axis (&ta, x->ndim);
  size_t es = mace_dtype_size (x->dtype);
  int64_t str[MACE_MAX_DIMS], idx[MACE_MAX_DIMS] = { 0 };
  strides_of (x->ndim, x->dims, str);
  int64_t total = mace_tensor_numel (x), T = x->dims[ta];
  for (int64_t i = 0; i < total; i++) {
    int64_t len = mace_tensor_get_i64 (lens, idx[ba]);
    if (len > T)
      len = T;
    int64_t t = idx[ta], src = i;
    if (t < len)
      src = i + (len - 1 - 2 * t) * str[ta];
    copy_elem ((uint8_t *)o->data + i * (int64_t)es,
               (const uint8_t *)x->data + src * (int64_t)es, es);
    for (int d = x->ndim - 1; d >= 0; d--) {
      if (++idx[d] < x->dims[d])
        break;
      idx[d] = 0;
    }
  }
  return MACE_OK;
}

/* ---- table ------------------------------------------------------------ */

const MaceOpDef mace_ops_movement[] = {
  { "Transpose", NULL, transpose_infer, transpose_run, 0, NULL },
  { "Concat", NULL, concat_infer, concat_run, 0, NULL },
  { "Split", NULL, split_infer, split_run, 1u << 1, NULL },
  { "Slice", NULL, slice_infer, slice_run, 0x1eu, NULL },
  { "Pad", pad_check, pad_infer, pad_run, (1u << 1) | (1u << 3), NULL },
  { "Gather", NULL, gather_infer, gather_run, 0, NULL },
  { "GatherElements", NULL, gather_elements_infer, gather_elements_run, 0,
    NULL },
  { "GatherND", NULL, gathernd_infer, gathernd_run, 0, NULL },
  { "ScatterElements", scatter_check, scatter_elements_infer,
    scatter_elements_run, 0, NULL },
  { "Scatter", scatter_check, scatter_elements_infer, scatter_elements_run, 0,
    NULL },
  { "ScatterND", scatter_check, scatternd_infer, scatternd_run, 0, NULL },
  { "Tile", NULL, tile_infer, tile_run, 1u << 1, NULL },
  { "DepthToSpace", d2s_check, d2s_infer, d2s_run, 0, NULL },
  { "SpaceToDepth", NULL, s2d_infer, s2d_run, 0, NULL },
  { "Trilu", NULL, trilu_infer, trilu_run, 0, NULL },
  { "OneHot", NULL, onehot_infer, onehot_run, 1u << 1, NULL },
  { "Compress", NULL, compress_infer, compress_run, 1u << 1, NULL },
  { "TopK", NULL, topk_infer, topk_run, 1u << 1, NULL },
  { "ReverseSequence", NULL, revseq_infer, revseq_run, 0, NULL },
  { NULL, NULL, NULL, NULL, 0, NULL },
};
