/* SPDX-License-Identifier: Apache-2.0
 * Dense tensors: shapes, storage, broadcasting helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

const char *
mace_dtype_name (MaceDataType dtype)
{
  switch (dtype) {
    case MACE_DTYPE_FLOAT32: return "float32";
    case MACE_DTYPE_UINT8: return "uint8";
    case MACE_DTYPE_INT8: return "int8";
    case MACE_DTYPE_UINT16: return "uint16";
    case MACE_DTYPE_INT16: return "int16";
    case MACE_DTYPE_INT32: return "int32";
    case MACE_DTYPE_INT64: return "int64";
    case MACE_DTYPE_STRING: return "string";
    case MACE_DTYPE_BOOL: return "bool";
    case MACE_DTYPE_FLOAT16: return "float16";
    case MACE_DTYPE_FLOAT64: return "float64";
    case MACE_DTYPE_UINT32: return "uint32";
    case MACE_DTYPE_UINT64: return "uint64";
    case MACE_DTYPE_BFLOAT16: return "bfloat16";
    default: return "unknown";
  }
}

size_t
mace_dtype_size (MaceDataType dtype)
{
  switch (dtype) {
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_BOOL: return 1;
    case MACE_DTYPE_UINT16:
    case MACE_DTYPE_INT16:
    case MACE_DTYPE_FLOAT16:
    case MACE_DTYPE_BFLOAT16: return 2;
    case MACE_DTYPE_FLOAT32:
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_UINT32: return 4;
    case MACE_DTYPE_INT64:
    case MACE_DTYPE_UINT64:
    case MACE_DTYPE_FLOAT64: return 8;
    default: return 0;
  }
}

int64_t
mace_shape_numel (int ndim, const int64_t *dims)
{
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= dims[i];
  return n;
}

const char *
mace_shape_str (int ndim, const int64_t *dims, char *buf, size_t len)
{
  size_t off = 0;
  buf[0] = '\0';
  if (ndim == 0) {
    snprintf (buf, len, "scalar");
    return buf;
  }
  for (int i = 0; i < ndim && off < len; i++)
    off += (size_t)snprintf (buf + off, len - off, i ? "x%lld" : "%lld",
                             (long long)dims[i]);
  return buf;
}

bool
mace_shape_equal (int na, const int64_t *a, int nb, const int64_t *b)
{
  if (na != nb)
    return false;
  for (int i = 0; i < na; i++)
    if (a[i] != b[i])
      return false;
  return true;
}

bool
mace_broadcast_shape (int na, const int64_t *a, int nb, const int64_t *b,
                      int *nout, int64_t *out)
{
  int n = na > nb ? na : nb;
  if (n > MACE_MAX_DIMS)
    return false;
  int64_t tmp[MACE_MAX_DIMS];
  for (int i = 0; i < n; i++) {
    int ia = i - (n - na), ib = i - (n - nb);
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da == db || db == 1)
      tmp[i] = da;
    else if (da == 1)
      tmp[i] = db;
    else
      return false;
  }
  memcpy (out, tmp, sizeof (int64_t) * (size_t)n);
  *nout = n;
  return true;
}

void
mace_tensor_init (MaceTensor *t, MaceDataType dtype, int ndim,
                  const int64_t *dims)
{
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->dims[i] = dims[i];
}

MaceStatus
mace_tensor_alloc (MaceTensor *t)
{
  size_t need = mace_tensor_nbytes (t);
  if (need == 0)
    need = 1; /* keep data non-NULL for empty tensors */
  if (t->data && t->capacity >= need)
    return MACE_OK;
  if (t->data && !t->owns_data)
    return MACE_ERROR_INTERNAL; /* borrowed storage is too small */
  /* 64-byte alignment for vector loads. */
  void *p = NULL;
  if (posix_memalign (&p, 64, (need + 63) & ~(size_t)63) != 0)
    return MACE_ERROR_OUT_OF_MEMORY;
  if (t->data && t->owns_data)
    free (t->data);
  memset (p, 0, need);
  t->data = p;
  t->capacity = need;
  t->owns_data = true;
  return MACE_OK;
}

void
mace_tensor_clear (MaceTensor *t)
{
  if (t->owns_data)
    free (t->data);
  t->data = NULL;
  t->capacity = 0;
  t->owns_data = false;
}

MaceStatus
mace_tensor_copy (MaceTensor *dst, const MaceTensor *src)
{
  mace_tensor_init (dst, src->dtype, src->ndim, src->dims);
  MaceStatus st = mace_tensor_alloc (dst);
  if (st != MACE_OK)
    return st;
  size_t n = mace_tensor_nbytes (src);
  if (n)
    memcpy (dst->data, src->data, n);
  return MACE_OK;
}

MaceTensor *
mace_tensor_new (MaceDataType dtype, int ndim, const int64_t *dims)
{
  if (ndim < 0 || ndim > MACE_MAX_DIMS || mace_dtype_size (dtype) == 0)
    return NULL;
  for (int i = 0; i < ndim; i++)
    if (dims[i] < 0)
      return NULL;
  MaceTensor *t = g_new0 (MaceTensor, 1);
  mace_tensor_init (t, dtype, ndim, dims);
  if (mace_tensor_alloc (t) != MACE_OK) {
    g_free (t);
    return NULL;
  }
  return t;
}

MaceTensor *
mace_tensor_new_wrap (MaceDataType dtype, int ndim, const int64_t *dims,
                      void *data)
{
  if (ndim < 0 || ndim > MACE_MAX_DIMS || mace_dtype_size (dtype) == 0)
    return NULL;
  MaceTensor *t = g_new0 (MaceTensor, 1);
  mace_tensor_init (t, dtype, ndim, dims);
  t->data = data;
  t->capacity = mace_tensor_nbytes (t);
  t->owns_data = false;
  return t;
}

void
mace_tensor_free (MaceTensor *t)
{
  if (!t)
    return;
  mace_tensor_clear (t);
  g_free (t);
}

MaceDataType
mace_tensor_dtype (const MaceTensor *t)
{
  return t->dtype;
}

int
mace_tensor_ndim (const MaceTensor *t)
{
  return t->ndim;
}

int64_t
mace_tensor_dim (const MaceTensor *t, int axis)
{
  if (axis < 0)
    axis += t->ndim;
  if (axis < 0 || axis >= t->ndim)
    return -1;
  return t->dims[axis];
}

int64_t
mace_tensor_numel (const MaceTensor *t)
{
  return mace_shape_numel (t->ndim, t->dims);
}

size_t
mace_tensor_nbytes (const MaceTensor *t)
{
  return (size_t)mace_tensor_numel (t) * mace_dtype_size (t->dtype);
}

void *
mace_tensor_data (MaceTensor *t)
{
  return t->data;
}

const void *
mace_tensor_data_const (const MaceTensor *t)
{
  return t->data;
}

double
mace_tensor_get_f64 (const MaceTensor *t, int64_t i)
{
  const void *d = t->data;
  switch (t->dtype) {
    case MACE_DTYPE_FLOAT32: return ((const float *)d)[i];
    case MACE_DTYPE_FLOAT64: return ((const double *)d)[i];
    case MACE_DTYPE_UINT8: return ((const uint8_t *)d)[i];
    case MACE_DTYPE_INT8: return ((const int8_t *)d)[i];
    case MACE_DTYPE_UINT16: return ((const uint16_t *)d)[i];
    case MACE_DTYPE_INT16: return ((const int16_t *)d)[i];
    case MACE_DTYPE_INT32: return ((const int32_t *)d)[i];
    case MACE_DTYPE_INT64: return (double)((const int64_t *)d)[i];
    case MACE_DTYPE_UINT32: return ((const uint32_t *)d)[i];
    case MACE_DTYPE_UINT64: return (double)((const uint64_t *)d)[i];
    case MACE_DTYPE_BOOL: return ((const uint8_t *)d)[i] ? 1.0 : 0.0;
    case MACE_DTYPE_FLOAT16: return mace_half_to_f32 (((const uint16_t *)d)[i]);
    case MACE_DTYPE_BFLOAT16: {
      uint32_t bits = (uint32_t)((const uint16_t *)d)[i] << 16;
      float f;
      memcpy (&f, &bits, 4);
      return f;
    }
    default: return NAN;
  }
}

int64_t
mace_tensor_get_i64 (const MaceTensor *t, int64_t i)
{
  const void *d = t->data;
  switch (t->dtype) {
    case MACE_DTYPE_INT64: return ((const int64_t *)d)[i];
    case MACE_DTYPE_INT32: return ((const int32_t *)d)[i];
    case MACE_DTYPE_UINT64: return (int64_t)((const uint64_t *)d)[i];
    default: return (int64_t)mace_tensor_get_f64 (t, i);
  }
}

void
mace_tensor_set_f64 (MaceTensor *t, int64_t i, double v)
{
  void *d = t->data;
  switch (t->dtype) {
    case MACE_DTYPE_FLOAT32: ((float *)d)[i] = (float)v; break;
    case MACE_DTYPE_FLOAT64: ((double *)d)[i] = v; break;
    case MACE_DTYPE_UINT8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case MACE_DTYPE_INT8: ((int8_t *)d)[i] = (int8_t)v; break;
    case MACE_DTYPE_UINT16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case MACE_DTYPE_INT16: ((int16_t *)d)[i] = (int16_t)v; break;
    case MACE_DTYPE_INT32: ((int32_t *)d)[i] = (int32_t)v; break;
    case MACE_DTYPE_INT64: ((int64_t *)d)[i] = (int64_t)v; break;
    case MACE_DTYPE_UINT32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case MACE_DTYPE_UINT64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case MACE_DTYPE_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    case MACE_DTYPE_FLOAT16:
      ((uint16_t *)d)[i] = mace_f32_to_half ((float)v);
      break;
    case MACE_DTYPE_BFLOAT16:
      ((uint16_t *)d)[i] = mace_f32_to_bf16 ((float)v);
      break;
    default: break;
  }
}
