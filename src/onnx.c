/* SPDX-License-Identifier: Apache-2.0
 * The ONNX importer: ModelProto bytes -> graph IR, and TensorProto bytes
 * <-> tensors.  The protobuf-c parser is generated at build time from the
 * system's onnx.proto.  Everything read here is untrusted: sizes are
 * checked against the bytes actually present before anything is
 * allocated, and every failure names the file, the node and the reason. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"
#include "onnx.pb-c.h"

#define MIN_OPSET 7

/* Names of TensorProto.DataType values, for messages (ONNX spelling). */
static const char *
onnx_type_name (int32_t t)
{
  static const char *names[] = {
    "undefined",      "float",        "uint8",          "int8",
    "uint16",         "int16",        "int32",          "int64",
    "string",         "bool",         "float16",        "double",
    "uint32",         "uint64",       "complex64",      "complex128",
    "bfloat16",       "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
    "float8e5m2fnuz", "uint4",        "int4",
  };
  if (t >= 0 && t < (int32_t)G_N_ELEMENTS (names))
    return names[t];
  return "unknown";
}

static const char *
safe_str (const char *s)
{
  return s ? s : "";
}

/* A supported element type for tensors in memory, or 0. */
static size_t
elem_size (int32_t t)
{
  if (t == MACE_DTYPE_STRING)
    return 0;
  return mace_dtype_size ((MaceDataType)t);
}

/* ---- TensorProto -> MaceTensor ---------------------------------------- */

/* Copies n little-endian elements of size es from src to dst. */
static void
copy_le (void *dst, const void *src, size_t n, size_t es)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dst, src, n * es);
#else
  const uint8_t *s = src;
  uint8_t *d = dst;
  for (size_t i = 0; i < n; i++)
    for (size_t b = 0; b < es; b++)
      d[i * es + b] = s[i * es + es - 1 - b];
#endif
}

static const char *
external_location (const Onnx__TensorProto *tp)
{
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (e && e->key && strcmp (e->key, "location") == 0 && e->value)
      return e->value;
  }
  return "an unnamed location";
}

/* Fills t (whose struct the caller owns, zeroed or cleared) from tp.
 * `what` says where the tensor is, e.g. "tensor 'w'" or "attribute 'value'
 * of node 'c0' (Constant)". */
static MaceStatus
tensor_from_proto (const Onnx__TensorProto *tp, const char *path,
                   const char *what, MaceTensor *t, MaceError *err)
{
  if (tp->has_data_location
      && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: external data is not supported: %s refers to %s", path,
                    what, external_location (tp));
    return MACE_ERROR_UNSUPPORTED;
  }
  if (tp->segment) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: %s is a segment of a larger tensor, which is not "
                    "supported",
                    path, what);
    return MACE_ERROR_UNSUPPORTED;
  }
  int32_t dt = tp->has_data_type ? tp->data_type : 0;
  if (dt == 0) {
    mace_set_error (err, MACE_ERROR_INVALID_MODEL, "%s: %s has no data type",
                    path, what);
    return MACE_ERROR_INVALID_MODEL;
  }
  size_t es = elem_size (dt);
  if (es == 0) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: %s has type %s (%d), which is not supported", path,
                    what, onnx_type_name (dt), (int)dt);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (tp->n_dims > MACE_MAX_DIMS) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: %s has %zu dimensions; at most %d are supported", path,
                    what, tp->n_dims, MACE_MAX_DIMS);
    return MACE_ERROR_UNSUPPORTED;
  }
  /* Element count with overflow checks; the data must be in the bytes we
   * were given, so anything beyond INT64_MAX / 16 is certainly bogus. */
  int64_t numel = 1;
  for (size_t i = 0; i < tp->n_dims; i++) {
    int64_t d = tp->dims[i];
    if (d < 0) {
      mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                      "%s: %s has a negative dimension (%lld at axis %zu)",
                      path, what, (long long)d, i);
      return MACE_ERROR_INVALID_MODEL;
    }
    if (d > 0 && numel > (INT64_MAX / 16) / d) {
      mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                      "%s: %s has an impossibly large shape", path, what);
      return MACE_ERROR_INVALID_MODEL;
    }
    numel *= d;
  }
  char shape[128];
  int64_t dims[MACE_MAX_DIMS];
  for (size_t i = 0; i < tp->n_dims; i++)
    dims[i] = tp->dims[i];
  mace_shape_str ((int)tp->n_dims, dims, shape, sizeof shape);

  /* Which field holds the data.  The spec allows exactly one typed field
   * per data type; raw_data is allowed for all of them. */
  size_t n_typed = 0;
  const char *typed_name = NULL;
  switch (dt) {
    case MACE_DTYPE_FLOAT32:
      n_typed = tp->n_float_data;
      typed_name = "float_data";
      break;
    case MACE_DTYPE_INT32:
    case MACE_DTYPE_INT16:
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_UINT16:
    case MACE_DTYPE_UINT8:
    case MACE_DTYPE_BOOL:
    case MACE_DTYPE_FLOAT16:
    case MACE_DTYPE_BFLOAT16:
      n_typed = tp->n_int32_data;
      typed_name = "int32_data";
      break;
    case MACE_DTYPE_INT64:
      n_typed = tp->n_int64_data;
      typed_name = "int64_data";
      break;
    case MACE_DTYPE_FLOAT64:
      n_typed = tp->n_double_data;
      typed_name = "double_data";
      break;
    case MACE_DTYPE_UINT32:
    case MACE_DTYPE_UINT64:
      n_typed = tp->n_uint64_data;
      typed_name = "uint64_data";
      break;
    default: break;
  }
  size_t n_other = tp->n_float_data + tp->n_int32_data + tp->n_int64_data
                   + tp->n_double_data + tp->n_uint64_data - n_typed;
  bool use_raw = tp->has_raw_data && (tp->raw_data.len > 0 || n_typed == 0);
  if (!use_raw && n_typed == 0 && n_other > 0) {
    mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                    "%s: %s has type %s but stores its data in a field for "
                    "another type (expected raw_data or %s)",
                    path, what, onnx_type_name (dt), typed_name);
    return MACE_ERROR_INVALID_MODEL;
  }
  size_t need = (size_t)numel * es;
  if (use_raw) {
    if (tp->raw_data.len != need) {
      mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                      "%s: %s has shape %s of %s (%zu bytes) but its "
                      "raw_data holds %zu bytes",
                      path, what, shape, onnx_type_name (dt), need,
                      (size_t)tp->raw_data.len);
      return MACE_ERROR_INVALID_MODEL;
    }
  } else if (n_typed != (size_t)numel) {
    if (n_typed == 0)
      mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                      "%s: %s has shape %s (%lld elements) but holds no data",
                      path, what, shape, (long long)numel);
    else
      mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                      "%s: %s has shape %s (%lld elements) but its %s holds "
                      "%zu",
                      path, what, shape, (long long)numel, typed_name, n_typed);
    return MACE_ERROR_INVALID_MODEL;
  }

  mace_tensor_clear (t);
  mace_tensor_init (t, (MaceDataType)dt, (int)tp->n_dims, dims);
  if (mace_tensor_alloc (t) != MACE_OK) {
    mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY,
                    "%s: out of memory for %s (%zu bytes)", path, what, need);
    return MACE_ERROR_OUT_OF_MEMORY;
  }
  if (numel == 0)
    return MACE_OK;
  if (use_raw) {
    copy_le (t->data, tp->raw_data.data, (size_t)numel, es);
    return MACE_OK;
  }
  size_t n = (size_t)numel;
  switch (dt) {
    case MACE_DTYPE_FLOAT32: memcpy (t->data, tp->float_data, n * 4); break;
    case MACE_DTYPE_INT32: memcpy (t->data, tp->int32_data, n * 4); break;
    case MACE_DTYPE_INT16:
    case MACE_DTYPE_UINT16:
    case MACE_DTYPE_FLOAT16:
    case MACE_DTYPE_BFLOAT16:
      /* 16-bit values (and float16 bit patterns) in the low half. */
      for (size_t i = 0; i < n; i++)
        ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i];
      break;
    case MACE_DTYPE_INT8:
    case MACE_DTYPE_UINT8:
      for (size_t i = 0; i < n; i++)
        ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i];
      break;
    case MACE_DTYPE_BOOL:
      for (size_t i = 0; i < n; i++)
        ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0;
      break;
    case MACE_DTYPE_INT64: memcpy (t->data, tp->int64_data, n * 8); break;
    case MACE_DTYPE_FLOAT64: memcpy (t->data, tp->double_data, n * 8); break;
    case MACE_DTYPE_UINT32:
      for (size_t i = 0; i < n; i++)
        ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
      break;
    case MACE_DTYPE_UINT64: memcpy (t->data, tp->uint64_data, n * 8); break;
    default: break;
  }
  return MACE_OK;
}

static MaceTensor *
tensor_new_from_proto (const Onnx__TensorProto *tp, const char *path,
                       const char *what, MaceStatus *st, MaceError *err)
{
  MaceTensor *t = g_new0 (MaceTensor, 1);
  *st = tensor_from_proto (tp, path, what, t, err);
  if (*st != MACE_OK) {
    mace_tensor_free (t);
    return NULL;
  }
  return t;
}

MaceStatus
mace_onnx_parse_tensor (const void *data, size_t size, const char *path,
                        MaceTensor **out, char **name, MaceError *err)
{
  if (!path)
    path = "<memory>";
  *out = NULL;
  if (name)
    *name = NULL;
  if (size == 0) {
    mace_set_error (err, MACE_ERROR_PARSE,
                    "%s: empty file (0 bytes), not an ONNX TensorProto", path);
    return MACE_ERROR_PARSE;
  }
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack (NULL, size, data);
  if (!tp) {
    mace_set_error (err, MACE_ERROR_PARSE,
                    "%s: not a valid ONNX TensorProto (protobuf parse failed "
                    "on %zu bytes)",
                    path, size);
    return MACE_ERROR_PARSE;
  }
  char *what = g_strdup_printf ("tensor '%s'", safe_str (tp->name));
  MaceStatus st;
  MaceTensor *t = tensor_new_from_proto (tp, path, what, &st, err);
  g_free (what);
  if (t) {
    *out = t;
    if (name)
      *name = g_strdup (safe_str (tp->name));
  }
  onnx__tensor_proto__free_unpacked (tp, NULL);
  return st;
}

MaceStatus
mace_onnx_serialize_tensor (const MaceTensor *t, const char *name,
                            uint8_t **out, size_t *len, MaceError *err)
{
  *out = NULL;
  *len = 0;
  if (!t) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG, "no tensor to serialize");
    return MACE_ERROR_INVALID_ARG;
  }
  size_t es = elem_size (t->dtype);
  if (es == 0) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "tensor '%s': type %s cannot be written", safe_str (name),
                    mace_dtype_name (t->dtype));
    return MACE_ERROR_UNSUPPORTED;
  }
  if (t->ndim < 0 || t->ndim > MACE_MAX_DIMS) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG, "tensor '%s': bad rank %d",
                    safe_str (name), t->ndim);
    return MACE_ERROR_INVALID_ARG;
  }
  for (int i = 0; i < t->ndim; i++)
    if (t->dims[i] < 0) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "tensor '%s': negative dimension at axis %d",
                      safe_str (name), i);
      return MACE_ERROR_INVALID_ARG;
    }
  size_t nbytes = mace_tensor_nbytes (t);
  if (nbytes > 0 && !t->data) {
    mace_set_error (err, MACE_ERROR_INVALID_ARG, "tensor '%s' has no data",
                    safe_str (name));
    return MACE_ERROR_INVALID_ARG;
  }
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[MACE_MAX_DIMS];
  for (int i = 0; i < t->ndim; i++)
    dims[i] = t->dims[i];
  tp.n_dims = (size_t)t->ndim;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)t->dtype;
  tp.name = (char *)safe_str (name);
  tp.has_raw_data = 1;
  uint8_t *raw = g_malloc (nbytes ? nbytes : 1);
  if (nbytes)
    copy_le (raw, t->data, nbytes / es, es);
  tp.raw_data.data = raw;
  tp.raw_data.len = nbytes;
  size_t n = onnx__tensor_proto__get_packed_size (&tp);
  uint8_t *buf = g_malloc (n ? n : 1);
  onnx__tensor_proto__pack (&tp, buf);
  g_free (raw);
  *out = buf;
  *len = n;
  return MACE_OK;
}

/* ---- ModelProto -> graph --------------------------------------------- */

typedef struct {
  MaceGraph *g;
  GHashTable *names; /* name -> value index + 1 */
  const char *path;
  MaceError *err;
} Loader;

static int
lookup (Loader *L, const char *name)
{
  gpointer p = g_hash_table_lookup (L->names, name);
  return p ? GPOINTER_TO_INT (p) - 1 : -1;
}

/* Appends a value without mace_graph_value's linear search (models have
 * thousands of values); initialised the same way. */
static int
add_value (Loader *L, const char *name)
{
  MaceGraph *g = L->g;
  if (g->n_values == g->cap_values) {
    g->cap_values = g->cap_values ? g->cap_values * 2 : 64;
    g->values = g_renew (MaceValue, g->values, g->cap_values);
  }
  MaceValue *v = &g->values[g->n_values];
  memset (v, 0, sizeof *v);
  v->name = g_strdup (name);
  v->producer = -1;
  v->arena_offset = -1;
  v->declared_ndim = -1;
  g_hash_table_insert (L->names, v->name, GINT_TO_POINTER (g->n_values + 1));
  return g->n_values++;
}

static MaceStatus fail (Loader *L, MaceStatus st, const char *fmt, ...)
    MACE_PRINTF (3, 4);

static MaceStatus
fail (Loader *L, MaceStatus st, const char *fmt, ...)
{
  char buf[900];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  mace_set_error (L->err, st, "%s: %s", L->path, buf);
  return st;
}

static const char *
kind_name (Onnx__TypeProto__ValueCase c)
{
  switch (c) {
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "a sequence";
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "a map";
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "an optional";
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
    default: return "of no type";
  }
}

/* Declared type and shape of a graph input/output or value_info entry.
 * `strict`: graph inputs and outputs must be dense tensors of a supported
 * type; value_info is only a hint. */
static MaceStatus
read_value_info (Loader *L, const Onnx__ValueInfoProto *vi, int v,
                 const char *role, bool strict, bool set_dtype)
{
  MaceValue *val = &L->g->values[v];
  const Onnx__TypeProto *type = vi->type;
  if (!type || type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || !type->tensor_type) {
    if (!strict || !type)
      return MACE_OK; /* untyped: shape inference decides */
    return fail (L, MACE_ERROR_UNSUPPORTED,
                 "%s '%s' is %s; only tensor inputs and outputs are "
                 "supported",
                 role, val->name, kind_name (type->value_case));
  }
  const Onnx__TypeProto__Tensor *tt = type->tensor_type;
  int32_t et = tt->has_elem_type ? tt->elem_type : 0;
  if (strict && et != 0 && elem_size (et) == 0)
    return fail (L, MACE_ERROR_UNSUPPORTED,
                 "%s '%s' has type %s, which is not supported", role, val->name,
                 onnx_type_name (et));
  if (tt->shape) {
    if (tt->shape->n_dim > MACE_MAX_DIMS) {
      if (strict)
        return fail (L, MACE_ERROR_UNSUPPORTED,
                     "%s '%s' has %zu dimensions; at most %d are supported",
                     role, val->name, tt->shape->n_dim, MACE_MAX_DIMS);
      return MACE_OK;
    }
    val->declared_ndim = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
      bool known
          = d
            && d->value_case
                   == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
            && d->dim_value >= 0;
      val->declared_dims[i] = known ? d->dim_value : -1;
    }
  }
  if (set_dtype && et != 0 && elem_size (et) != 0 && !val->is_const)
    val->t.dtype = (MaceDataType)et;
  return MACE_OK;
}

/* Attribute types that well-known attributes of default-domain ops must
 * have.  Kernels read attributes through helpers that fall back to a
 * default on a type mismatch, so a wrong type would otherwise be silently
 * ignored. */
static const struct {
  const char *name;
  MaceAttrType type;
} known_attrs[] = {
  { "axis", MACE_ATTR_INT },
  { "group", MACE_ATTR_INT },
  { "transA", MACE_ATTR_INT },
  { "transB", MACE_ATTR_INT },
  { "keepdims", MACE_ATTR_INT },
  { "ceil_mode", MACE_ATTR_INT },
  { "count_include_pad", MACE_ATTR_INT },
  { "blocksize", MACE_ATTR_INT },
  { "strides", MACE_ATTR_INTS },
  { "pads", MACE_ATTR_INTS },
  { "kernel_shape", MACE_ATTR_INTS },
  { "dilations", MACE_ATTR_INTS },
  { "perm", MACE_ATTR_INTS },
  { "output_padding", MACE_ATTR_INTS },
  { "epsilon", MACE_ATTR_FLOAT },
  { "momentum", MACE_ATTR_FLOAT },
  { "auto_pad", MACE_ATTR_STRING },
  { "coordinate_transformation_mode", MACE_ATTR_STRING },
  { "nearest_mode", MACE_ATTR_STRING },
};

static const char *
attr_type_name (int t)
{
  switch (t) {
    case MACE_ATTR_FLOAT: return "a float";
    case MACE_ATTR_INT: return "an int";
    case MACE_ATTR_STRING: return "a string";
    case MACE_ATTR_TENSOR: return "a tensor";
    case MACE_ATTR_GRAPH: return "a graph";
    case MACE_ATTR_FLOATS: return "floats";
    case MACE_ATTR_INTS: return "ints";
    case MACE_ATTR_STRINGS: return "strings";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
      return "a sparse tensor";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "tensors";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "graphs";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
      return "sparse tensors";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "a type";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "types";
    default: return "of no type";
  }
}

/* The type an attribute's populated fields say it has (0 if none). */
static int
attr_content_type (const Onnx__AttributeProto *a)
{
  if (a->t)
    return MACE_ATTR_TENSOR;
  if (a->g)
    return MACE_ATTR_GRAPH;
  if (a->sparse_tensor)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR;
  if (a->tp)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO;
  if (a->n_floats)
    return MACE_ATTR_FLOATS;
  if (a->n_ints)
    return MACE_ATTR_INTS;
  if (a->n_strings)
    return MACE_ATTR_STRINGS;
  if (a->n_tensors)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
  if (a->n_graphs)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
  if (a->n_sparse_tensors)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS;
  if (a->n_type_protos)
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS;
  if (a->has_s)
    return MACE_ATTR_STRING;
  if (a->has_f)
    return MACE_ATTR_FLOAT;
  if (a->has_i)
    return MACE_ATTR_INT;
  return 0;
}

/* Whether the field of attribute type t is filled in. */
static bool
attr_has (const Onnx__AttributeProto *a, int t)
{
  switch (t) {
    case MACE_ATTR_FLOAT: return a->has_f;
    case MACE_ATTR_INT: return a->has_i;
    case MACE_ATTR_STRING: return a->has_s;
    case MACE_ATTR_TENSOR: return a->t != NULL;
    case MACE_ATTR_GRAPH: return a->g != NULL;
    case MACE_ATTR_FLOATS: return a->n_floats > 0;
    case MACE_ATTR_INTS: return a->n_ints > 0;
    case MACE_ATTR_STRINGS: return a->n_strings > 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
      return a->sparse_tensor != NULL;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
      return a->n_tensors > 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return a->n_graphs > 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
      return a->n_sparse_tensors > 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
      return a->tp != NULL;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
      return a->n_type_protos > 0;
    default: return false;
  }
}

static void *
memdup (const void *p, size_t n)
{
  void *q = g_malloc (n ? n : 1);
  if (n)
    memcpy (q, p, n);
  return q;
}

static MaceStatus
read_attr (Loader *L, const MaceNode *n, const Onnx__AttributeProto *a,
           MaceAttr *out)
{
  if (!a->name || !a->name[0])
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s) has an attribute without a name", n->name,
                 n->op_type);
  if (a->ref_attr_name && a->ref_attr_name[0])
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s): attribute '%s' refers to a function "
                 "attribute outside a function",
                 n->name, n->op_type, a->name);
  int declared = a->has_type ? (int)a->type : 0;
  int content = attr_content_type (a);
  if (declared == 0)
    declared = content; /* IR version 1 files may omit the type */
  if (declared == 0)
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s): attribute '%s' has no type and no value",
                 n->name, n->op_type, a->name);
  if (declared < 1
      || declared > ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS)
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s): attribute '%s' has unknown type %d", n->name,
                 n->op_type, a->name, declared);
  /* The declared type's field must hold the value; nothing at all (an
   * empty list, a scalar left at its default) is fine, another field
   * filled in instead is not. */
  if (content != 0 && !attr_has (a, declared))
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s): attribute '%s' is declared as %s but "
                 "holds %s",
                 n->name, n->op_type, a->name, attr_type_name (declared),
                 attr_type_name (content));
  if ((declared == MACE_ATTR_TENSOR && !a->t)
      || (declared == MACE_ATTR_GRAPH && !a->g))
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (%s): attribute '%s' is declared as %s but "
                 "holds none",
                 n->name, n->op_type, a->name, attr_type_name (declared));
  if (!n->domain[0] || strcmp (n->domain, "ai.onnx") == 0)
    for (size_t k = 0; k < G_N_ELEMENTS (known_attrs); k++)
      if (strcmp (known_attrs[k].name, a->name) == 0
          && (int)known_attrs[k].type != declared)
        return fail (L, MACE_ERROR_INVALID_MODEL,
                     "node '%s' (%s): attribute '%s' must be %s, but it is "
                     "%s",
                     n->name, n->op_type, a->name,
                     attr_type_name (known_attrs[k].type),
                     attr_type_name (declared));

  out->name = g_strdup (a->name);
  switch (declared) {
    case MACE_ATTR_FLOAT:
      out->type = MACE_ATTR_FLOAT;
      out->f = a->f;
      break;
    case MACE_ATTR_INT:
      out->type = MACE_ATTR_INT;
      out->i = a->i;
      break;
    case MACE_ATTR_STRING:
      out->type = MACE_ATTR_STRING;
      out->s = g_strndup ((const char *)a->s.data, a->s.len);
      break;
    case MACE_ATTR_TENSOR: {
      out->type = MACE_ATTR_TENSOR;
      char *what = g_strdup_printf ("attribute '%s' of node '%s' (%s)", a->name,
                                    n->name, n->op_type);
      MaceStatus st;
      out->t = tensor_new_from_proto (a->t, L->path, what, &st, L->err);
      g_free (what);
      if (!out->t)
        return st;
      break;
    }
    case MACE_ATTR_GRAPH:
      /* Subgraphs (If, Loop, Scan) are not executed: kept as a marker so
       * the op check can say so. */
      out->type = MACE_ATTR_GRAPH;
      break;
    case MACE_ATTR_FLOATS:
      if (a->n_floats > INT_MAX)
        return fail (L, MACE_ERROR_INVALID_MODEL, "attribute too large");
      out->type = MACE_ATTR_FLOATS;
      out->n = (int)a->n_floats;
      out->floats = memdup (a->floats, a->n_floats * sizeof (float));
      break;
    case MACE_ATTR_INTS:
      if (a->n_ints > INT_MAX)
        return fail (L, MACE_ERROR_INVALID_MODEL, "attribute too large");
      out->type = MACE_ATTR_INTS;
      out->n = (int)a->n_ints;
      out->ints = memdup (a->ints, a->n_ints * sizeof (int64_t));
      break;
    case MACE_ATTR_STRINGS:
      if (a->n_strings > INT_MAX)
        return fail (L, MACE_ERROR_INVALID_MODEL, "attribute too large");
      out->type = MACE_ATTR_STRINGS;
      out->n = (int)a->n_strings;
      out->strings = g_new0 (char *, a->n_strings ? a->n_strings : 1);
      for (size_t k = 0; k < a->n_strings; k++)
        out->strings[k]
            = g_strndup ((const char *)a->strings[k].data, a->strings[k].len);
      break;
    default:
      /* Sparse tensors, lists of tensors/graphs, type protos: no ops we
       * run use them; kept by name so the op check reports them. */
      out->type = MACE_ATTR_UNDEFINED;
      break;
  }
  return MACE_OK;
}

/* Constant must carry exactly one value attribute of a kind we hold. */
static MaceStatus
check_constant (Loader *L, const MaceNode *n)
{
  static const char *ok[]
      = { "value", "value_float", "value_int", "value_floats", "value_ints" };
  int found = 0;
  for (int a = 0; a < n->n_attr; a++) {
    const char *an = n->attrs[a].name;
    bool known = false;
    for (size_t k = 0; k < G_N_ELEMENTS (ok); k++)
      known |= strcmp (an, ok[k]) == 0;
    if (!known) {
      if (strcmp (an, "sparse_value") == 0 || strcmp (an, "value_string") == 0
          || strcmp (an, "value_strings") == 0)
        return fail (L, MACE_ERROR_UNSUPPORTED,
                     "node '%s' (Constant): attribute '%s' is not supported",
                     n->name, an);
      return fail (L, MACE_ERROR_INVALID_MODEL,
                   "node '%s' (Constant): unexpected attribute '%s'", n->name,
                   an);
    }
    found++;
  }
  if (found != 1)
    return fail (L, MACE_ERROR_INVALID_MODEL,
                 "node '%s' (Constant) must have exactly one value attribute, "
                 "it has %d",
                 n->name, found);
  return MACE_OK;
}

static bool
is_float_type (MaceDataType t)
{
  return t == MACE_DTYPE_FLOAT32 || t == MACE_DTYPE_FLOAT16
         || t == MACE_DTYPE_FLOAT64 || t == MACE_DTYPE_BFLOAT16;
}

static MaceStatus
load_graph (Loader *L, const Onnx__GraphProto *gp)
{
  MaceGraph *g = L->g;
  MaceStatus st;

  /* Initializers: constants with owned data. */
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    const char *name = safe_str (tp->name);
    if (!name[0])
      return fail (L, MACE_ERROR_INVALID_MODEL, "initializer #%zu has no name",
                   i);
    if (lookup (L, name) >= 0)
      return fail (L, MACE_ERROR_INVALID_MODEL,
                   "initializer '%s' is defined twice", name);
    int v = add_value (L, name);
    char *what = g_strdup_printf ("tensor '%s'", name);
    st = tensor_from_proto (tp, L->path, what, &g->values[v].t, L->err);
    g_free (what);
    if (st != MACE_OK)
      return st;
    MaceValue *val = &g->values[v];
    val->is_const = true;
    val->shape_known = true;
    val->declared_ndim = val->t.ndim;
    for (int k = 0; k < val->t.ndim; k++)
      val->declared_dims[k] = val->t.dims[k];
    if (is_float_type (val->t.dtype))
      g->n_params += mace_tensor_numel (&val->t);
  }
  if (gp->n_sparse_initializer > 0)
    return fail (L, MACE_ERROR_UNSUPPORTED,
                 "sparse initializers are not supported ('%s')",
                 gp->sparse_initializer[0]->values
                     ? safe_str (gp->sparse_initializer[0]->values->name)
                     : "");

  /* Graph inputs; those with an initializer are constants (IR < 4 lists
   * every initializer as an input too). */
  g->inputs = g_new (int, gp->n_input ? gp->n_input : 1);
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = safe_str (vi->name);
    if (!name[0])
      return fail (L, MACE_ERROR_INVALID_MODEL, "graph input #%zu has no name",
                   i);
    int v = lookup (L, name);
    if (v >= 0 && g->values[v].is_input)
      return fail (L, MACE_ERROR_INVALID_MODEL,
                   "graph input '%s' is listed twice", name);
    if (v >= 0) /* an initializer */
      continue;
    v = add_value (L, name);
    g->values[v].is_input = true;
    st = read_value_info (L, vi, v, "graph input", true, true);
    if (st != MACE_OK)
      return st;
    g->inputs[g->n_inputs++] = v;
  }

  /* Node outputs first, so inputs can be checked in one pass whatever
   * the order of nodes in the file. */
  if (gp->n_node > INT_MAX / 2)
    return fail (L, MACE_ERROR_INVALID_MODEL, "too many nodes");
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    MaceNode *n = mace_graph_add_node (g);
    n->op_type = g_strdup (safe_str (np->op_type));
    n->domain = g_strdup (safe_str (np->domain));
    if (np->name && np->name[0])
      n->name = g_strdup (np->name);
    else
      n->name = g_strdup_printf ("%s_%zu", n->op_type, i);
    if (!n->op_type[0])
      return fail (L, MACE_ERROR_INVALID_MODEL, "node '%s' has no op_type",
                   n->name);
    if (np->n_input > INT_MAX / 2 || np->n_output > INT_MAX / 2)
      return fail (L, MACE_ERROR_INVALID_MODEL, "node '%s' is too large",
                   n->name);
    /* Optional outputs left out ("") at the end are dropped, as if not
     * listed (the spec treats both alike); one left out before a present
     * output gets an anonymous value, so out[] always holds real values
     * and kernels need no special case. */
    size_t n_output = np->n_output;
    while (n_output > 0 && !safe_str (np->output[n_output - 1])[0])
      n_output--;
    n->n_out = (int)n_output;
    n->out = g_new (int, n_output ? n_output : 1);
    for (size_t k = 0; k < n_output; k++) {
      const char *oname = safe_str (np->output[k]);
      n->out[k] = -1;
      if (!oname[0]) {
        n->out[k] = -2; /* named below, once every real name is known */
        continue;
      }
      int v = lookup (L, oname);
      if (v >= 0) {
        MaceValue *val = &g->values[v];
        if (val->producer >= 0)
          return fail (L, MACE_ERROR_INVALID_MODEL,
                       "value '%s' is produced twice: by node '%s' (%s) and "
                       "by node '%s' (%s)",
                       oname, g->nodes[val->producer].name,
                       g->nodes[val->producer].op_type, n->name, n->op_type);
        return fail (L, MACE_ERROR_INVALID_MODEL,
                     "node '%s' (%s) writes '%s', which is already %s", n->name,
                     n->op_type, oname,
                     val->is_const ? "an initializer" : "a graph input");
      }
      v = add_value (L, oname);
      g->values[v].producer = g->n_nodes - 1;
      n->out[k] = v;
    }
  }
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    for (int k = 0; k < n->n_out; k++) {
      if (n->out[k] != -2)
        continue;
      char *anon = g_strdup_printf ("%s:unused_output_%d", n->name, k);
      while (lookup (L, anon) >= 0) {
        char *longer = g_strconcat (anon, "_", NULL);
        g_free (anon);
        anon = longer;
      }
      n->out[k] = add_value (L, anon);
      g->values[n->out[k]].producer = i;
      g_free (anon);
    }
  }
  /* Inputs and attributes. */
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    MaceNode *n = &g->nodes[i];
    n->n_in = (int)np->n_input;
    n->in = g_new (int, np->n_input ? np->n_input : 1);
    for (size_t k = 0; k < np->n_input; k++) {
      const char *iname = safe_str (np->input[k]);
      n->in[k] = -1;
      if (!iname[0]) /* optional input left out */
        continue;
      int v = lookup (L, iname);
      if (v < 0)
        return fail (L, MACE_ERROR_INVALID_MODEL,
                     "node '%s' (%s) reads '%s' (input %zu), which is not a "
                     "graph input, an initializer or any node's output",
                     n->name, n->op_type, iname, k);
      n->in[k] = v;
    }
    if (np->n_attribute > INT_MAX / 2)
      return fail (L, MACE_ERROR_INVALID_MODEL, "node '%s' is too large",
                   n->name);
    n->attrs = g_new0 (MaceAttr, np->n_attribute ? np->n_attribute : 1);
    for (size_t k = 0; k < np->n_attribute; k++) {
      const Onnx__AttributeProto *a = np->attribute[k];
      for (int j = 0; j < n->n_attr; j++)
        if (a->name && strcmp (n->attrs[j].name, a->name) == 0)
          return fail (L, MACE_ERROR_INVALID_MODEL,
                       "node '%s' (%s): attribute '%s' is given twice", n->name,
                       n->op_type, a->name);
      st = read_attr (L, n, a, &n->attrs[n->n_attr]);
      if (n->attrs[n->n_attr].name)
        n->n_attr++; /* so that graph_free releases partial contents */
      if (st != MACE_OK)
        return st;
    }
    if (strcmp (n->op_type, "Constant") == 0 && !n->domain[0]) {
      st = check_constant (L, n);
      if (st != MACE_OK)
        return st;
    }
  }
  g->n_nodes_original = g->n_nodes;

  /* Graph outputs. */
  g->outputs = g_new (int, gp->n_output ? gp->n_output : 1);
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    const char *name = safe_str (vi->name);
    int v = lookup (L, name);
    if (v < 0)
      return fail (L, MACE_ERROR_INVALID_MODEL,
                   "graph output '%s' is not a graph input, an initializer "
                   "or any node's output",
                   name);
    if (g->values[v].is_output)
      return fail (L, MACE_ERROR_INVALID_MODEL,
                   "graph output '%s' is listed twice", name);
    g->values[v].is_output = true;
    st = read_value_info (L, vi, v, "graph output", true, true);
    if (st != MACE_OK)
      return st;
    g->outputs[g->n_outputs++] = v;
  }
  if (g->n_outputs == 0)
    return fail (L, MACE_ERROR_INVALID_MODEL, "the graph has no outputs");

  /* value_info: declared shapes of intermediate values, a hint only. */
  for (size_t i = 0; i < gp->n_value_info; i++) {
    const Onnx__ValueInfoProto *vi = gp->value_info[i];
    int v = lookup (L, safe_str (vi->name));
    if (v >= 0 && !g->values[v].is_const && !g->values[v].is_input
        && !g->values[v].is_output)
      read_value_info (L, vi, v, "value", false, false);
  }

  /* Producers were set while loading for messages; toposort redoes it. */
  return mace_graph_toposort (g, L->err);
}

/* protobuf-c unpacks nested messages recursively without a depth limit, so
 * a small file of deeply nested subgraphs or types would overflow the
 * stack.  This scan walks the wire format with the generated descriptors
 * (iteratively within a message, one level of recursion per nesting) and
 * refuses anything deeper than real models go.  Malformed bytes are left
 * for protobuf-c to report. */
#define MAX_NESTING 100

static bool
read_varint (const uint8_t *p, size_t len, size_t *i, uint64_t *out)
{
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *i < len; shift += 7) {
    uint8_t b = p[(*i)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

static bool
nesting_ok (const uint8_t *p, size_t len,
            const ProtobufCMessageDescriptor *desc, int depth)
{
  if (depth > MAX_NESTING)
    return false;
  size_t i = 0;
  while (i < len) {
    uint64_t key, x;
    if (!read_varint (p, len, &i, &key))
      return true;
    switch (key & 7) {
      case 0:
        if (!read_varint (p, len, &i, &x))
          return true;
        break;
      case 1:
        if (len - i < 8)
          return true;
        i += 8;
        break;
      case 5:
        if (len - i < 4)
          return true;
        i += 4;
        break;
      case 2: {
        if (!read_varint (p, len, &i, &x) || x > len - i)
          return true;
        uint64_t num = key >> 3;
        const ProtobufCFieldDescriptor *f
            = num <= UINT_MAX ? protobuf_c_message_descriptor_get_field (
                  desc, (unsigned)num)
                              : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE
            && !nesting_ok (p + i, (size_t)x, f->descriptor, depth + 1))
          return false;
        i += (size_t)x;
        break;
      }
      default: return true;
    }
  }
  return true;
}

MaceGraph *
mace_onnx_load (const void *data, size_t size, const char *path, MaceError *err)
{
  if (!path)
    path = "<memory>";
  if (size == 0) {
    mace_set_error (err, MACE_ERROR_PARSE,
                    "%s: empty file (0 bytes), not an ONNX model", path);
    return NULL;
  }
  if (!nesting_ok (data, size, &onnx__model_proto__descriptor, 0)) {
    mace_set_error (err, MACE_ERROR_PARSE,
                    "%s: not a valid ONNX model (messages nested more than "
                    "%d deep)",
                    path, MAX_NESTING);
    return NULL;
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, size, data);
  if (!mp) {
    mace_set_error (err, MACE_ERROR_PARSE,
                    "%s: not a valid ONNX model (protobuf parse failed on "
                    "%zu bytes: truncated or not a model file)",
                    path, size);
    return NULL;
  }
  MaceGraph *g = mace_graph_new (path);
  Loader L = { g, g_hash_table_new (g_str_hash, g_str_equal), g->path, err };
  MaceStatus st = MACE_OK;

  g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
  bool have_default = false;
  g->opset = 1;
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
    const char *dom = safe_str (os->domain);
    if (dom[0] && strcmp (dom, "ai.onnx") != 0)
      continue;
    int64_t v = os->has_version ? os->version : 1;
    if (!have_default || v > g->opset)
      g->opset = v;
    have_default = true;
  }
  if (!mp->graph) {
    st = fail (&L, MACE_ERROR_PARSE,
               "not a valid ONNX model (no graph; truncated or not a model "
               "file)");
    goto out;
  }
  if (g->opset < MIN_OPSET) {
    if (have_default)
      st = fail (&L, MACE_ERROR_UNSUPPORTED,
                 "the model uses opset %lld of the default ONNX domain; "
                 "opsets %d and up are supported (convert it with "
                 "onnx.version_converter)",
                 (long long)g->opset, MIN_OPSET);
    else
      st = fail (&L, MACE_ERROR_UNSUPPORTED,
                 "the model imports no opset of the default ONNX domain "
                 "(taken as opset 1); opsets %d and up are supported",
                 MIN_OPSET);
    goto out;
  }
  st = load_graph (&L, mp->graph);

out:
  g_hash_table_destroy (L.names);
  onnx__model_proto__free_unpacked (mp, NULL);
  if (st != MACE_OK) {
    if (err && err->status == MACE_OK)
      mace_set_error (err, st, "%s: invalid model", path);
    mace_graph_free (g);
    return NULL;
  }
  return g;
}
