/* SPDX-License-Identifier: Apache-2.0
 * The ONNX importer and .pb tensor I/O: every model and tensor of ONNX's
 * own node test suite, tensor round trips, and malformed files (built
 * here by editing protobuf-c structs of a small model and packing them
 * again), each of which must fail with the right status and a message
 * that names the file. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "harness.h"
#include "onnx.pb-c.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

static char *tmpdir;

/* Checks a failure: expected status and a message that starts with the
 * file name and mentions `needle` (may be NULL). */
static void
expect_fail (const char *test, MaceStatus got, const MaceError *err,
             MaceStatus want, const char *path, const char *needle)
{
  if (got == MACE_OK) {
    th_fail (test, "expected %s, got success", mace_status_to_string (want));
    return;
  }
  if (got != want)
    th_fail (test, "expected %s, got %s: %s", mace_status_to_string (want),
             mace_status_to_string (got), err->message);
  if (err->status != got)
    th_fail (test, "error status %d differs from returned %d", err->status,
             got);
  if (path && strncmp (err->message, path, strlen (path)) != 0)
    th_fail (test, "message does not start with the file name '%s': %s", path,
             err->message);
  if (needle && !strstr (err->message, needle))
    th_fail (test, "message does not mention '%s': %s", needle, err->message);
}

static MaceStatus
load_bytes (const void *data, size_t len, const char *path, MaceGraph **g,
            MaceError *err)
{
  memset (err, 0, sizeof *err);
  *g = mace_onnx_load (data, len, path, err);
  return *g ? MACE_OK : err->status;
}

/* ---- Classifying the ONNX test suite ---------------------------------- */

static bool
io_supported (const Onnx__ValueInfoProto *vi)
{
  const Onnx__TypeProto *t = vi->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    return false;
  int32_t et = t->tensor_type->elem_type;
  return et != MACE_DTYPE_STRING && mace_dtype_size ((MaceDataType)et) > 0;
}

/* Why a test model must be refused by the loader, or NULL if it must
 * load.  Computed from the protobuf independently of the loader. */
static const char *
expected_refusal (const Onnx__ModelProto *mp)
{
  int64_t opset = -1;
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const char *d = mp->opset_import[i]->domain;
    if (!d || !d[0] || strcmp (d, "ai.onnx") == 0)
      opset = mp->opset_import[i]->version;
  }
  if (opset < 7)
    return "opset";
  const Onnx__GraphProto *gp = mp->graph;
  for (size_t i = 0; i < gp->n_input; i++)
    if (!io_supported (gp->input[i]))
      return "type";
  for (size_t i = 0; i < gp->n_output; i++)
    if (!io_supported (gp->output[i]))
      return "type";
  for (size_t i = 0; i < gp->n_initializer; i++)
    if (gp->initializer[i]->data_type == MACE_DTYPE_STRING)
      return "type";
  for (size_t i = 0; i < gp->n_node; i++)
    for (size_t k = 0; k < gp->node[i]->n_attribute; k++) {
      const Onnx__AttributeProto *a = gp->node[i]->attribute[k];
      if (a->t && a->t->data_type == MACE_DTYPE_STRING)
        return "type";
      if (strcmp (gp->node[i]->op_type, "Constant") == 0
          && (strcmp (a->name, "value_string") == 0
              || strcmp (a->name, "value_strings") == 0
              || strcmp (a->name, "sparse_value") == 0))
        return "type";
    }
  return NULL;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of dir matching prefix (NULL-terminated, g_strfreev). */
static char **
list_dir (const char *dir, const char *prefix, const char *suffix)
{
  GPtrArray *a = g_ptr_array_new ();
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d && (e = readdir (d)))
    if (g_str_has_prefix (e->d_name, prefix)
        && (!suffix || g_str_has_suffix (e->d_name, suffix)))
      g_ptr_array_add (a, g_strdup (e->d_name));
  if (d)
    closedir (d);
  qsort (a->pdata, a->len, sizeof (char *), cmp_str);
  g_ptr_array_add (a, NULL);
  return (char **)g_ptr_array_free (a, FALSE);
}

/* One test_data_set .pb against the declared io it belongs to. */
static void
check_pb (const char *path, const Onnx__ValueInfoProto *vi, int *n_ok,
          int *n_refused)
{
  MaceError err = { 0 };
  MaceTensor *t = NULL;
  char *name = NULL;
  MaceStatus st = mace_tensor_load_pb (path, &t, &name, &err);
  const Onnx__TypeProto *type = vi ? vi->type : NULL;
  bool tensor = type && type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  int32_t et = tensor ? type->tensor_type->elem_type : 0;
  if (st == MACE_OK) {
    (*n_ok)++;
    /* Type and shape as protobuf-c reads them (not as the model declares:
     * the suite stores bfloat16 data as uint16, and CastLike's second
     * input with another shape). */
    uint8_t *raw = NULL;
    size_t len = 0;
    mace_read_file (path, &raw, &len, &err);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack (NULL, len, raw);
    if (!tp || (int32_t)t->dtype != tp->data_type
        || (size_t)t->ndim != tp->n_dims
        || (t->ndim
            && memcmp (t->dims, tp->dims, sizeof (int64_t) * tp->n_dims))
        || strcmp (name, tp->name ? tp->name : ""))
      th_fail (path, "type, shape or name differ from the file");
    if (tp)
      onnx__tensor_proto__free_unpacked (tp, NULL);
    g_free (raw);
    if (tensor && !io_supported (vi) && et == MACE_DTYPE_STRING)
      th_fail (path, "a string tensor loaded");
    mace_tensor_free (t);
    g_free (name);
    return;
  }
  (*n_refused)++;
  if (strncmp (err.message, path, strlen (path)) != 0)
    th_fail (path, "message does not name the file: %s", err.message);
  /* Sequences / optionals are other protos: any clear refusal is fine.
   * Supported tensors must load; string tensors must be UNSUPPORTED. */
  if (tensor && io_supported (vi))
    th_fail (path, "should load: %s", err.message);
  else if (tensor && st != MACE_ERROR_UNSUPPORTED)
    th_fail (path, "expected 'unsupported', got %s: %s",
             mace_status_to_string (st), err.message);
  if (t || name)
    th_fail (path, "outputs set on failure");
}

static void
test_node_suite (void)
{
  const char *dir = g_getenv ("MACE_ONNX_NODE_DIR");
  if (!dir)
    dir = NODE_DIR;
  char **tests = list_dir (dir, "test_", NULL);
  int n_models = 0, n_loaded = 0, n_refused = 0, pb_ok = 0, pb_refused = 0;
  for (char **tn = tests; *tn; tn++) {
    char *mdir = g_build_filename (dir, *tn, NULL);
    char *path = g_build_filename (mdir, "model.onnx", NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    MaceError err = { 0 };
    if (mace_read_file (path, &data, &len, &err) != MACE_OK) {
      g_free (path);
      g_free (mdir);
      continue;
    }
    n_models++;
    Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, len, data);
    if (!mp) {
      th_fail (path, "protobuf-c cannot parse the test model");
      goto next;
    }
    const char *why = expected_refusal (mp);
    MaceGraph *g = NULL;
    MaceStatus st = load_bytes (data, len, path, &g, &err);
    if (why) {
      n_refused += st != MACE_OK;
      expect_fail (path, st, &err, MACE_ERROR_UNSUPPORTED, path,
                   strcmp (why, "opset") == 0 ? "opset" : NULL);
    } else if (st != MACE_OK) {
      th_fail (path, "should load: %s", err.message);
    } else {
      n_loaded++;
      const Onnx__GraphProto *gp = mp->graph;
      if ((size_t)g->n_outputs != gp->n_output)
        th_fail (path, "%d outputs, file has %zu", g->n_outputs, gp->n_output);
      for (int i = 0; i < g->n_outputs && (size_t)i < gp->n_output; i++)
        if (strcmp (g->values[g->outputs[i]].name, gp->output[i]->name))
          th_fail (path, "output %d is '%s'", i, g->values[g->outputs[i]].name);
      if ((size_t)g->n_nodes != gp->n_node
          || g->n_nodes_original != (int64_t)gp->n_node)
        th_fail (path, "%d nodes, file has %zu", g->n_nodes, gp->n_node);
      for (int i = 0; i < g->n_inputs; i++) {
        const MaceValue *v = &g->values[g->inputs[i]];
        if (!v->is_input || v->is_const || v->t.dtype == 0)
          th_fail (path, "input '%s' badly flagged", v->name);
      }
    }
    /* Data sets: input_K.pb belongs to the K-th non-initializer input. */
    if (mp->graph) {
      const Onnx__GraphProto *gp = mp->graph;
      GPtrArray *ins = g_ptr_array_new ();
      for (size_t i = 0; i < gp->n_input; i++) {
        bool init = false;
        for (size_t k = 0; k < gp->n_initializer && !init; k++)
          init = gp->initializer[k]->name
                 && strcmp (gp->initializer[k]->name, gp->input[i]->name) == 0;
        if (!init)
          g_ptr_array_add (ins, gp->input[i]);
      }
      char **sets = list_dir (mdir, "test_data_set_", NULL);
      for (char **s = sets; *s; s++) {
        char *sdir = g_build_filename (mdir, *s, NULL);
        char **pbs = list_dir (sdir, "", ".pb");
        for (char **p = pbs; *p; p++) {
          char *pb = g_build_filename (sdir, *p, NULL);
          int k = -1;
          const Onnx__ValueInfoProto *vi = NULL;
          if (sscanf (*p, "input_%d.pb", &k) == 1 && k >= 0
              && (guint)k < ins->len)
            vi = ins->pdata[k];
          else if (sscanf (*p, "output_%d.pb", &k) == 1 && k >= 0
                   && (size_t)k < gp->n_output)
            vi = gp->output[k];
          check_pb (pb, vi, &pb_ok, &pb_refused);
          g_free (pb);
        }
        g_strfreev (pbs);
        g_free (sdir);
      }
      g_strfreev (sets);
      g_ptr_array_free (ins, TRUE);
    }
    mace_graph_free (g);
    onnx__model_proto__free_unpacked (mp, NULL);
  next:
    g_free (data);
    g_free (path);
    g_free (mdir);
  }
  g_strfreev (tests);
  printf ("node suite: %d models: %d loaded, %d refused as unsupported; "
          "%d tensors loaded, %d refused\n",
          n_models, n_loaded, n_refused, pb_ok, pb_refused);
  if (n_models == 0)
    printf ("node suite: no models under %s (libonnx-testdata missing?)\n",
            dir);
  else if (n_loaded < n_models / 2)
    th_fail ("node-suite", "only %d of %d models loaded", n_loaded, n_models);
}

/* ---- Tensor round trips ----------------------------------------------- */

static void
test_roundtrip (void)
{
  static const MaceDataType types[] = {
    MACE_DTYPE_FLOAT32,  MACE_DTYPE_UINT8,  MACE_DTYPE_INT8,
    MACE_DTYPE_UINT16,   MACE_DTYPE_INT16,  MACE_DTYPE_INT32,
    MACE_DTYPE_INT64,    MACE_DTYPE_BOOL,   MACE_DTYPE_FLOAT16,
    MACE_DTYPE_FLOAT64,  MACE_DTYPE_UINT32, MACE_DTYPE_UINT64,
    MACE_DTYPE_BFLOAT16,
  };
  static const struct {
    int ndim;
    int64_t dims[4];
  } shapes[] = { { 0, { 0 } },
                 { 1, { 7 } },
                 { 3, { 2, 3, 5 } },
                 { 2, { 0, 4 } },
                 { 4, { 1, 3, 2, 2 } } };
  for (size_t ti = 0; ti < G_N_ELEMENTS (types); ti++)
    for (size_t si = 0; si < G_N_ELEMENTS (shapes); si++) {
      MaceTensor *t
          = mace_tensor_new (types[ti], shapes[si].ndim, shapes[si].dims);
      uint8_t *b = t->data;
      for (size_t i = 0; i < mace_tensor_nbytes (t); i++)
        b[i] = (uint8_t)th_rand_u32 ();
      if (types[ti] == MACE_DTYPE_BOOL)
        for (size_t i = 0; i < mace_tensor_nbytes (t); i++)
          b[i] &= 1;
      char *name
          = g_strdup_printf ("t_%s_%zu", mace_dtype_name (types[ti]), si);
      char *path = g_strdup_printf ("%s/%s.pb", tmpdir, name);
      MaceError err = { 0 };
      MaceStatus st = mace_tensor_save_pb (t, name, path, &err);
      if (st != MACE_OK)
        th_fail (name, "save: %s", err.message);
      MaceTensor *back = NULL;
      char *bname = NULL;
      st = mace_tensor_load_pb (path, &back, &bname, &err);
      if (st != MACE_OK) {
        th_fail (name, "load: %s", err.message);
      } else {
        if (back->dtype != t->dtype
            || !mace_shape_equal (back->ndim, back->dims, t->ndim, t->dims)
            || memcmp (back->data, t->data, mace_tensor_nbytes (t)) != 0)
          th_fail (name, "round trip changed the tensor");
        if (strcmp (bname, name) != 0)
          th_fail (name, "name came back as '%s'", bname);
      }
      mace_tensor_free (back);
      mace_free (bname);
      g_free (path);
      g_free (name);
      mace_tensor_free (t);
    }
}

/* Typed fields (not raw_data), packed by protobuf-c and parsed back. */
static void
test_typed_fields (void)
{
  int64_t dims[] = { 2, 2 };
  int32_t i32[] = { -3, 255, 1, 0x3c00 };
  float f32[] = { 1.5f, -2.0f, 0.0f, 3.25f };
  int64_t i64[] = { INT64_MIN, -1, 0, INT64_MAX };
  double f64[] = { 1e300, -0.5, 0.0, 2.0 };
  uint64_t u64[] = { 0, 1, 4000000000u, UINT64_MAX };
  struct {
    MaceDataType dt;
    double want[4];
  } cases[] = {
    { MACE_DTYPE_INT8, { -3, -1, 1, 0 } },
    { MACE_DTYPE_UINT8, { 253, 255, 1, 0 } },
    { MACE_DTYPE_INT16, { -3, 255, 1, 15360 } },
    { MACE_DTYPE_UINT16, { 65533, 255, 1, 15360 } },
    { MACE_DTYPE_INT32, { -3, 255, 1, 15360 } },
    { MACE_DTYPE_BOOL, { 1, 1, 1, 1 } },
    { MACE_DTYPE_FLOAT16, { NAN, 255.0 / 16777216.0, 1.0 / 16777216.0, 1.0 } },
    { MACE_DTYPE_FLOAT32, { 1.5, -2, 0, 3.25 } },
    { MACE_DTYPE_INT64, { (double)INT64_MIN, -1, 0, (double)INT64_MAX } },
    { MACE_DTYPE_FLOAT64, { 1e300, -0.5, 0, 2 } },
    { MACE_DTYPE_UINT32, { 0, 1, 4000000000.0, 4294967295.0 } },
    { MACE_DTYPE_UINT64, { 0, 1, 4000000000.0, (double)UINT64_MAX } },
  };
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++) {
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    tp.n_dims = 2;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = cases[c].dt;
    tp.name = "typed";
    switch (cases[c].dt) {
      case MACE_DTYPE_FLOAT32:
        tp.n_float_data = 4;
        tp.float_data = f32;
        break;
      case MACE_DTYPE_INT64:
        tp.n_int64_data = 4;
        tp.int64_data = i64;
        break;
      case MACE_DTYPE_FLOAT64:
        tp.n_double_data = 4;
        tp.double_data = f64;
        break;
      case MACE_DTYPE_UINT32:
      case MACE_DTYPE_UINT64:
        tp.n_uint64_data = 4;
        tp.uint64_data = u64;
        break;
      default:
        tp.n_int32_data = 4;
        tp.int32_data = i32;
        break;
    }
    size_t len = onnx__tensor_proto__get_packed_size (&tp);
    uint8_t *buf = g_malloc (len);
    onnx__tensor_proto__pack (&tp, buf);
    MaceTensor *t = NULL;
    MaceError err = { 0 };
    const char *what = mace_dtype_name (cases[c].dt);
    if (mace_onnx_parse_tensor (buf, len, "typed.pb", &t, NULL, &err)
        != MACE_OK) {
      th_fail (what, "typed fields: %s", err.message);
    } else {
      for (int i = 0; i < 4; i++) {
        double got = mace_tensor_get_f64 (t, i), want = cases[c].want[i];
        if (cases[c].dt == MACE_DTYPE_FLOAT16 && i == 0)
          continue; /* 0xfffd is a NaN pattern */
        if (got != want && !(isnan (got) && isnan (want)))
          th_fail (what, "element %d: %g, want %g", i, got, want);
      }
      if (cases[c].dt == MACE_DTYPE_INT64
          && ((int64_t *)t->data)[0] != INT64_MIN)
        th_fail (what, "int64 min lost");
      if (cases[c].dt == MACE_DTYPE_UINT64
          && ((uint64_t *)t->data)[3] != UINT64_MAX)
        th_fail (what, "uint64 max lost");
    }
    mace_tensor_free (t);
    /* One element short: a size mismatch naming the tensor. */
    tp.dims = (int64_t[]){ 5 };
    tp.n_dims = 1;
    len = onnx__tensor_proto__pack (&tp, buf);
    MaceStatus st
        = mace_onnx_parse_tensor (buf, len, "short.pb", &t, NULL, &err);
    expect_fail (what, st, &err, MACE_ERROR_INVALID_MODEL, "short.pb",
                 "'typed'");
    g_free (buf);
  }

  /* String tensors, external data, wrong field, bad files. */
  ProtobufCBinaryData sd[1] = { { 2, (uint8_t *)"hi" } };
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  tp.has_data_type = 1;
  tp.data_type = MACE_DTYPE_STRING;
  tp.name = "s";
  tp.n_string_data = 1;
  tp.string_data = sd;
  uint8_t buf[256];
  size_t len = onnx__tensor_proto__pack (&tp, buf);
  MaceTensor *t = NULL;
  MaceError err = { 0 };
  MaceStatus st = mace_onnx_parse_tensor (buf, len, "str.pb", &t, NULL, &err);
  expect_fail ("string-tensor", st, &err, MACE_ERROR_UNSUPPORTED, "str.pb",
               "string");

  Onnx__TensorProto ep = ONNX__TENSOR_PROTO__INIT;
  Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  Onnx__StringStringEntryProto *locs[] = { &loc };
  loc.key = "location";
  loc.value = "weights.bin";
  ep.has_data_type = 1;
  ep.data_type = MACE_DTYPE_FLOAT32;
  ep.name = "w";
  ep.n_dims = 1;
  ep.dims = (int64_t[]){ 4 };
  ep.has_data_location = 1;
  ep.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  ep.n_external_data = 1;
  ep.external_data = locs;
  len = onnx__tensor_proto__pack (&ep, buf);
  st = mace_onnx_parse_tensor (buf, len, "ext.pb", &t, NULL, &err);
  expect_fail ("external-tensor", st, &err, MACE_ERROR_UNSUPPORTED, "ext.pb",
               "external data is not supported: tensor 'w' refers to "
               "weights.bin");

  Onnx__TensorProto wp = ONNX__TENSOR_PROTO__INIT;
  wp.has_data_type = 1;
  wp.data_type = MACE_DTYPE_FLOAT32;
  wp.name = "wrong";
  wp.n_int64_data = 1;
  wp.int64_data = (int64_t[]){ 1 };
  len = onnx__tensor_proto__pack (&wp, buf);
  st = mace_onnx_parse_tensor (buf, len, "wrong.pb", &t, NULL, &err);
  expect_fail ("wrong-field", st, &err, MACE_ERROR_INVALID_MODEL, "wrong.pb",
               "'wrong'");

  char *missing = g_strdup_printf ("%s/does-not-exist.pb", tmpdir);
  st = mace_tensor_load_pb (missing, &t, NULL, &err);
  expect_fail ("missing-pb", st, &err, MACE_ERROR_IO, missing, NULL);
  g_free (missing);
  char *empty = g_strdup_printf ("%s/empty.pb", tmpdir);
  g_file_set_contents (empty, "", 0, NULL);
  st = mace_tensor_load_pb (empty, &t, NULL, &err);
  expect_fail ("empty-pb", st, &err, MACE_ERROR_PARSE, empty, "empty");
  g_free (empty);
  char *bad = g_strdup_printf ("%s/bad.pb", tmpdir);
  g_file_set_contents (bad, "\xff\xff\xff\xff\xff", 5, NULL);
  st = mace_tensor_load_pb (bad, &t, NULL, &err);
  expect_fail ("garbage-pb", st, &err, MACE_ERROR_PARSE, bad, NULL);
  g_free (bad);
  MaceTensor *s8 = mace_tensor_new (MACE_DTYPE_FLOAT32, 1, (int64_t[]){ 2 });
  char *nodir = g_strdup_printf ("%s/no/such/dir/x.pb", tmpdir);
  st = mace_tensor_save_pb (s8, "x", nodir, &err);
  expect_fail ("save-nodir", st, &err, MACE_ERROR_IO, nodir, NULL);
  g_free (nodir);
  mace_tensor_free (s8);
}

/* ---- A small model built here, and broken in many ways ---------------- */

/* Y = (X + W) * B, Z = Conv (X4, K), C = Constant; all the parts are
 * static storage so a test can edit one field, pack, and restore. */
typedef struct {
  Onnx__ModelProto model;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  Onnx__GraphProto graph;
  Onnx__TensorProto w, b;
  Onnx__TensorProto *inits[2];
  float w_raw[2], b_data[2];
  int64_t w_dims[1];
  Onnx__StringStringEntryProto loc;
  Onnx__StringStringEntryProto *locs[1];
  Onnx__NodeProto add, mul, conv, cst;
  Onnx__NodeProto *nodes[4];
  char *add_in[2], *add_out[1], *mul_in[2], *mul_out[1];
  char *conv_in[2], *conv_out[1], *cst_out[1];
  Onnx__AttributeProto strides, pads, cval;
  Onnx__AttributeProto *conv_attrs[2], *cst_attrs[1];
  int64_t strides_v[2], pads_v[4];
  Onnx__ValueInfoProto x, x4, k, y, z, c;
  Onnx__ValueInfoProto *ins[3], *outs[3];
  Onnx__TypeProto tx, tx4, tk, ty, tz, tc;
  Onnx__TypeProto__Tensor ttx, ttx4, ttk, tty, ttz, ttc;
  Onnx__TensorShapeProto sx;
  Onnx__TensorShapeProto__Dimension dx0, dx1;
  Onnx__TensorShapeProto__Dimension *dxs[2];
} Model;

static void
vi_init (Onnx__ValueInfoProto *vi, Onnx__TypeProto *tp,
         Onnx__TypeProto__Tensor *tt, const char *name)
{
  *vi = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
  *tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
  *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
  vi->name = (char *)name;
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = 1;
  tt->elem_type = MACE_DTYPE_FLOAT32;
}

static void
node_init (Onnx__NodeProto *n, const char *name, const char *op, char **in,
           size_t n_in, char **out)
{
  *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
  n->name = (char *)name;
  n->op_type = (char *)op;
  n->input = in;
  n->n_input = n_in;
  n->output = out;
  n->n_output = 1;
}

static void
model_init (Model *m)
{
  memset (m, 0, sizeof *m);
  m->model = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
  m->model.has_ir_version = 1;
  m->model.ir_version = 8;
  m->opset = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
  m->opset.domain = "";
  m->opset.has_version = 1;
  m->opset.version = 13;
  m->opsets[0] = &m->opset;
  m->model.n_opset_import = 1;
  m->model.opset_import = m->opsets;
  m->model.graph = &m->graph;
  m->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
  m->graph.name = "small";

  m->w = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
  m->w.name = "W";
  m->w.has_data_type = 1;
  m->w.data_type = MACE_DTYPE_FLOAT32;
  m->w.n_dims = 1;
  m->w_dims[0] = 2;
  m->w.dims = m->w_dims;
  m->w_raw[0] = 1.0f;
  m->w_raw[1] = 2.0f;
  m->w.has_raw_data = 1;
  m->w.raw_data.data = (uint8_t *)m->w_raw;
  m->w.raw_data.len = sizeof m->w_raw;
  m->b = m->w;
  m->b.name = "B";
  m->b.has_raw_data = 0;
  m->b.raw_data.len = 0;
  m->b.raw_data.data = NULL;
  m->b_data[0] = 3.0f;
  m->b_data[1] = 4.0f;
  m->b.n_float_data = 2;
  m->b.float_data = m->b_data;
  m->inits[0] = &m->w;
  m->inits[1] = &m->b;
  m->graph.n_initializer = 2;
  m->graph.initializer = m->inits;
  m->loc = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  m->loc.key = "location";
  m->loc.value = "weights.bin";
  m->locs[0] = &m->loc;

  m->add_in[0] = "X";
  m->add_in[1] = "W";
  m->add_out[0] = "T";
  m->mul_in[0] = "T";
  m->mul_in[1] = "B";
  m->mul_out[0] = "Y";
  m->conv_in[0] = "X4";
  m->conv_in[1] = "K";
  m->conv_out[0] = "Z";
  m->cst_out[0] = "C";
  /* File order puts Mul before Add: the loader must sort. */
  node_init (&m->mul, "mul0", "Mul", m->mul_in, 2, m->mul_out);
  node_init (&m->add, "add0", "Add", m->add_in, 2, m->add_out);
  node_init (&m->conv, "", "Conv", m->conv_in, 2, m->conv_out);
  node_init (&m->cst, "cst0", "Constant", NULL, 0, m->cst_out);
  m->strides = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
  m->strides.name = "strides";
  m->strides.has_type = 1;
  m->strides.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  m->strides_v[0] = m->strides_v[1] = 1;
  m->strides.n_ints = 2;
  m->strides.ints = m->strides_v;
  m->pads = m->strides;
  m->pads.name = "pads";
  m->pads.n_ints = 4;
  m->pads.ints = m->pads_v;
  m->conv_attrs[0] = &m->strides;
  m->conv_attrs[1] = &m->pads;
  m->conv.n_attribute = 2;
  m->conv.attribute = m->conv_attrs;
  m->cval = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
  m->cval.name = "value_float";
  m->cval.has_type = 1;
  m->cval.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  m->cval.has_f = 1;
  m->cval.f = 0.5f;
  m->cst_attrs[0] = &m->cval;
  m->cst.n_attribute = 1;
  m->cst.attribute = m->cst_attrs;
  m->nodes[0] = &m->mul;
  m->nodes[1] = &m->add;
  m->nodes[2] = &m->conv;
  m->nodes[3] = &m->cst;
  m->graph.n_node = 4;
  m->graph.node = m->nodes;

  vi_init (&m->x, &m->tx, &m->ttx, "X");
  vi_init (&m->x4, &m->tx4, &m->ttx4, "X4");
  vi_init (&m->k, &m->tk, &m->ttk, "K");
  vi_init (&m->y, &m->ty, &m->tty, "Y");
  vi_init (&m->z, &m->tz, &m->ttz, "Z");
  vi_init (&m->c, &m->tc, &m->ttc, "C");
  m->sx = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
  m->dx0 = (Onnx__TensorShapeProto__Dimension)
      ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
  m->dx1 = m->dx0;
  m->dx0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  m->dx0.dim_param = "batch";
  m->dx1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  m->dx1.dim_value = 2;
  m->dxs[0] = &m->dx0;
  m->dxs[1] = &m->dx1;
  m->sx.n_dim = 2;
  m->sx.dim = m->dxs;
  m->ttx.shape = &m->sx;
  m->ins[0] = &m->x;
  m->ins[1] = &m->x4;
  m->ins[2] = &m->k;
  m->graph.n_input = 3;
  m->graph.input = m->ins;
  m->outs[0] = &m->y;
  m->outs[1] = &m->z;
  m->outs[2] = &m->c;
  m->graph.n_output = 3;
  m->graph.output = m->outs;
}

static uint8_t *
model_pack (const Model *m, size_t *len)
{
  *len = onnx__model_proto__get_packed_size (&m->model);
  uint8_t *buf = g_malloc (*len ? *len : 1);
  onnx__model_proto__pack (&m->model, buf);
  return buf;
}

/* Packs m and loads it; expects `want` (MACE_OK or an error). */
static MaceGraph *
try_model (const char *test, const Model *m, MaceStatus want,
           const char *needle)
{
  size_t len;
  uint8_t *buf = model_pack (m, &len);
  char *path = g_strdup_printf ("%s.onnx", test);
  MaceGraph *g = NULL;
  MaceError err = { 0 };
  MaceStatus st = load_bytes (buf, len, path, &g, &err);
  if (want == MACE_OK) {
    if (st != MACE_OK)
      th_fail (test, "should load: %s", err.message);
  } else {
    expect_fail (test, st, &err, want, path, needle);
    if (g)
      th_fail (test, "graph returned on failure");
  }
  if (st != MACE_OK)
    printf ("  %-22s -> %s\n", test, err.message);
  g_free (path);
  g_free (buf);
  if (want != MACE_OK) {
    mace_graph_free (g);
    g = NULL;
  }
  return g;
}

static void
test_small_model (void)
{
  Model m;
  model_init (&m);
  MaceGraph *g = try_model ("small", &m, MACE_OK, NULL);
  if (!g)
    return;
  if (g->opset != 13 || g->ir_version != 8)
    th_fail ("small", "opset %lld ir %lld", (long long)g->opset,
             (long long)g->ir_version);
  if (g->n_params != 4)
    th_fail ("small", "n_params %lld, want 4", (long long)g->n_params);
  if (g->n_inputs != 3 || g->n_outputs != 3 || g->n_nodes != 4
      || g->n_nodes_original != 4)
    th_fail ("small", "%d inputs %d outputs %d nodes", g->n_inputs,
             g->n_outputs, g->n_nodes);
  const MaceValue *x = &g->values[g->inputs[0]];
  if (strcmp (x->name, "X") || x->t.dtype != MACE_DTYPE_FLOAT32
      || x->declared_ndim != 2 || x->declared_dims[0] != -1
      || x->declared_dims[1] != 2)
    th_fail ("small", "input X: '%s' dtype %d ndim %d dims %lld,%lld", x->name,
             x->t.dtype, x->declared_ndim, (long long)x->declared_dims[0],
             (long long)x->declared_dims[1]);
  /* Add must come before Mul after sorting. */
  int add = -1, mul = -1, conv = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    if (!strcmp (g->nodes[i].op_type, "Add"))
      add = i;
    if (!strcmp (g->nodes[i].op_type, "Mul"))
      mul = i;
    if (!strcmp (g->nodes[i].op_type, "Conv"))
      conv = i;
  }
  if (add < 0 || mul < 0 || add > mul)
    th_fail ("small", "nodes not sorted (add %d, mul %d)", add, mul);
  if (conv >= 0) {
    int n;
    const int64_t *s = mace_attr_ints (&g->nodes[conv], "strides", &n);
    if (!s || n != 2 || strcmp (g->nodes[conv].name, "Conv_2"))
      th_fail ("small", "conv node '%s' strides %d", g->nodes[conv].name, n);
  }
  int w = mace_graph_value (g, "W", false),
      b = mace_graph_value (g, "B", false);
  if (w < 0 || b < 0 || !g->values[w].is_const
      || ((float *)g->values[b].t.data)[1] != 4.0f
      || ((float *)g->values[w].t.data)[1] != 2.0f)
    th_fail ("small", "initializers wrong");
  mace_graph_free (g);

  /* An initializer also listed as an input (IR 3 style) stays a constant. */
  Onnx__ValueInfoProto wvi;
  Onnx__TypeProto wt;
  Onnx__TypeProto__Tensor wtt;
  vi_init (&wvi, &wt, &wtt, "W");
  Onnx__ValueInfoProto *ins4[] = { &m.x, &wvi, &m.x4, &m.k };
  m.graph.input = ins4;
  m.graph.n_input = 4;
  g = try_model ("init-as-input", &m, MACE_OK, NULL);
  if (g && g->n_inputs != 3)
    th_fail ("init-as-input", "%d inputs, want 3", g->n_inputs);
  mace_graph_free (g);
  model_init (&m);

  /* Optional inputs left out become -1. */
  char *opt_in[] = { "X4", "K", "" };
  m.conv.input = opt_in;
  m.conv.n_input = 3;
  g = try_model ("optional-input", &m, MACE_OK, NULL);
  for (int i = 0; g && i < g->n_nodes; i++)
    if (!strcmp (g->nodes[i].op_type, "Conv")
        && (g->nodes[i].n_in != 3 || g->nodes[i].in[2] != -1))
      th_fail ("optional-input", "absent input not -1");
  mace_graph_free (g);
  model_init (&m);

  /* Optional outputs left out: trailing ones dropped, others anonymous. */
  char *opt_out[] = { "", "Z", "" };
  m.conv.output = opt_out;
  m.conv.n_output = 3;
  g = try_model ("optional-output", &m, MACE_OK, NULL);
  for (int i = 0; g && i < g->n_nodes; i++)
    if (!strcmp (g->nodes[i].op_type, "Conv")
        && (g->nodes[i].n_out != 2 || g->nodes[i].out[0] < 0
            || strcmp (g->values[g->nodes[i].out[1]].name, "Z")
            || g->values[g->nodes[i].out[0]].producer != i))
      th_fail ("optional-output", "outputs not as expected");
  mace_graph_free (g);
  model_init (&m);

  /* A non-default domain is kept (the engine reports it). */
  m.conv.domain = "com.microsoft";
  m.conv.op_type = "FusedConv";
  g = try_model ("custom-domain", &m, MACE_OK, NULL);
  mace_graph_free (g);
  model_init (&m);
}

static void
test_malformed_models (void)
{
  Model m;

  /* A node reading an initializer that is not there. */
  model_init (&m);
  m.graph.n_initializer = 1; /* drops B */
  try_model ("missing-initializer", &m, MACE_ERROR_INVALID_MODEL,
             "node 'mul0' (Mul) reads 'B'");

  /* A cycle: Add reads Y, which Mul computes from Add's T. */
  model_init (&m);
  m.add_in[0] = "Y";
  try_model ("cycle", &m, MACE_ERROR_INVALID_MODEL, "cycle");

  /* Two nodes writing T. */
  model_init (&m);
  m.mul_out[0] = "T";
  m.outs[0] = &m.z;
  m.outs[1] = &m.c;
  m.graph.n_output = 2;
  try_model ("duplicate-output", &m, MACE_ERROR_INVALID_MODEL,
             "produced twice");

  /* A node writing a graph input. */
  model_init (&m);
  m.cst_out[0] = "X";
  m.graph.n_output = 2;
  try_model ("writes-input", &m, MACE_ERROR_INVALID_MODEL, "'X'");

  /* External data. */
  model_init (&m);
  m.w.has_raw_data = 0;
  m.w.has_data_location = 1;
  m.w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  m.w.n_external_data = 1;
  m.w.external_data = m.locs;
  try_model ("external-data", &m, MACE_ERROR_UNSUPPORTED,
             "external data is not supported: tensor 'W' refers to "
             "weights.bin");

  /* Shape and data disagree. */
  model_init (&m);
  m.w.dims = (int64_t[]){ 3 };
  try_model ("raw-size-mismatch", &m, MACE_ERROR_INVALID_MODEL, "'W'");
  model_init (&m);
  m.b.dims = (int64_t[]){ 1, 3 };
  m.b.n_dims = 2;
  try_model ("typed-size-mismatch", &m, MACE_ERROR_INVALID_MODEL, "'B'");
  model_init (&m);
  m.w.dims = (int64_t[]){ -2 };
  try_model ("negative-dim", &m, MACE_ERROR_INVALID_MODEL, "'W'");
  model_init (&m);
  m.w.dims = (int64_t[]){ INT64_MAX, INT64_MAX };
  m.w.n_dims = 2;
  try_model ("huge-dims", &m, MACE_ERROR_INVALID_MODEL, "'W'");
  model_init (&m);
  m.w.data_type = MACE_DTYPE_STRING;
  try_model ("string-initializer", &m, MACE_ERROR_UNSUPPORTED, "string");
  model_init (&m);
  m.w.data_type = 14; /* complex64 */
  try_model ("complex-initializer", &m, MACE_ERROR_UNSUPPORTED, "complex64");

  /* Wrong attribute types. */
  model_init (&m);
  m.strides.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  m.strides.n_ints = 0;
  m.strides.has_f = 1;
  m.strides.f = 1.0f;
  try_model ("attr-strides-float", &m, MACE_ERROR_INVALID_MODEL,
             "attribute 'strides' must be ints");
  model_init (&m);
  m.pads.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  try_model ("attr-declared-floats", &m, MACE_ERROR_INVALID_MODEL,
             "'pads' is declared as floats but holds ints");
  model_init (&m);
  m.cval.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  try_model ("attr-tensor-missing", &m, MACE_ERROR_INVALID_MODEL,
             "'value_float'");
  model_init (&m);
  m.cval.type = (Onnx__AttributeProto__AttributeType)99;
  try_model ("attr-unknown-type", &m, MACE_ERROR_INVALID_MODEL,
             "unknown type 99");
  model_init (&m);
  m.cval.has_type = 0;
  m.cval.has_f = 0;
  try_model ("attr-empty", &m, MACE_ERROR_INVALID_MODEL, "no type");
  model_init (&m);
  m.cval.name = "value_string";
  m.cval.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  m.cval.has_f = 0;
  m.cval.has_s = 1;
  m.cval.s.data = (uint8_t *)"x";
  m.cval.s.len = 1;
  try_model ("constant-string", &m, MACE_ERROR_UNSUPPORTED, "value_string");
  model_init (&m);
  m.cst.n_attribute = 0;
  try_model ("constant-no-value", &m, MACE_ERROR_INVALID_MODEL, "cst0");
  model_init (&m);
  m.conv_attrs[1] = &m.strides;
  try_model ("attr-twice", &m, MACE_ERROR_INVALID_MODEL, "twice");

  /* Opsets. */
  model_init (&m);
  m.opset.version = 6;
  try_model ("opset-6", &m, MACE_ERROR_UNSUPPORTED, "opset 6");
  model_init (&m);
  m.opset.domain = "ai.onnx.ml";
  try_model ("opset-missing", &m, MACE_ERROR_UNSUPPORTED, "opset");
  model_init (&m);
  m.opset.domain = "ai.onnx";
  mace_graph_free (try_model ("opset-ai.onnx", &m, MACE_OK, NULL));

  /* Graph structure. */
  model_init (&m);
  m.model.graph = NULL;
  try_model ("no-graph", &m, MACE_ERROR_PARSE, "no graph");
  model_init (&m);
  m.y.name = "nowhere";
  try_model ("output-unknown", &m, MACE_ERROR_INVALID_MODEL, "'nowhere'");
  model_init (&m);
  m.graph.n_output = 0;
  try_model ("no-outputs", &m, MACE_ERROR_INVALID_MODEL, "no outputs");
  model_init (&m);
  m.ins[1] = &m.x;
  try_model ("input-twice", &m, MACE_ERROR_INVALID_MODEL, "'X'");
  model_init (&m);
  m.inits[1] = &m.w;
  try_model ("initializer-twice", &m, MACE_ERROR_INVALID_MODEL, "'W'");
  model_init (&m);
  Onnx__TypeProto__Sequence seq = ONNX__TYPE_PROTO__SEQUENCE__INIT;
  m.tx.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  m.tx.sequence_type = &seq;
  try_model ("sequence-input", &m, MACE_ERROR_UNSUPPORTED, "sequence");
  model_init (&m);
  m.ttx.elem_type = MACE_DTYPE_STRING;
  try_model ("string-input", &m, MACE_ERROR_UNSUPPORTED, "string");
  model_init (&m);
  m.mul.op_type = "";
  try_model ("no-op-type", &m, MACE_ERROR_INVALID_MODEL, "mul0");
}

/* Prepends a length-delimited field header for `len` payload bytes that
 * start at buf + *pos (the buffer is filled from its end). */
static void
prepend_field (uint8_t *buf, size_t *pos, int field, size_t len)
{
  uint8_t tmp[20];
  int n = 0;
  uint64_t vals[2] = { ((uint64_t)field << 3) | 2, len };
  for (int k = 0; k < 2; k++) {
    uint64_t v = vals[k];
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      tmp[n++] = b | (v ? 0x80 : 0);
    } while (v);
  }
  *pos -= (size_t)n;
  memcpy (buf + *pos, tmp, (size_t)n);
}

/* A graph input whose type is a sequence of a sequence of ... `levels`
 * deep.  protobuf-c would recurse once per level. */
static uint8_t *
deep_model (int levels, size_t *len)
{
  size_t cap = (size_t)levels * 12 + 64, pos = cap;
  uint8_t *buf = g_malloc (cap);
  for (int i = 0; i < levels; i++) {
    prepend_field (buf, &pos, 1, cap - pos); /* Sequence.elem_type */
    prepend_field (buf, &pos, 4, cap - pos); /* TypeProto.sequence_type */
  }
  prepend_field (buf, &pos, 2, cap - pos); /* ValueInfo.type */
  pos -= 1;
  buf[pos] = 'x';
  prepend_field (buf, &pos, 1, 1);          /* ValueInfo.name */
  prepend_field (buf, &pos, 11, cap - pos); /* Graph.input */
  prepend_field (buf, &pos, 7, cap - pos);  /* Model.graph */
  *len = cap - pos;
  memmove (buf, buf + pos, *len);
  return buf;
}

/* Zero-length, missing, truncated and random files. */
static void
test_bad_bytes (void)
{
  MaceGraph *g;
  MaceError err;
  size_t len = 0;
  MaceStatus st = load_bytes ("", 0, "empty.onnx", &g, &err);
  expect_fail ("zero-length", st, &err, MACE_ERROR_PARSE, "empty.onnx",
               "empty");

  /* Deep nesting: refused before protobuf-c could overflow the stack. */
  uint8_t *deep = deep_model (200000, &len);
  st = load_bytes (deep, len, "deep.onnx", &g, &err);
  expect_fail ("deep-nesting", st, &err, MACE_ERROR_PARSE, "deep.onnx",
               "nested");
  g_free (deep);
  deep = deep_model (30, &len);
  st = load_bytes (deep, len, "deep30.onnx", &g, &err);
  expect_fail ("nesting-30", st, &err, MACE_ERROR_UNSUPPORTED, "deep30.onnx",
               "opset");
  g_free (deep);

  char *missing = g_strdup_printf ("%s/missing.onnx", tmpdir);
  uint8_t *data = NULL;
  memset (&err, 0, sizeof err);
  st = mace_read_file (missing, &data, &len, &err);
  expect_fail ("missing-file", st, &err, MACE_ERROR_IO, missing, NULL);
  g_free (missing);

  /* Every prefix of the small model and of a few suite models fails:
   * protobuf sees a cut field, or the graph / opset is missing. */
  Model m;
  model_init (&m);
  uint8_t *buf = model_pack (&m, &len);
  int accepted = 0;
  for (size_t cut = 0; cut < len; cut++) {
    st = load_bytes (buf, cut, "cut.onnx", &g, &err);
    if (st == MACE_OK) {
      accepted++;
      mace_graph_free (g);
      th_fail ("truncated", "a model cut at byte %zu of %zu loaded", cut, len);
    } else if (strncmp (err.message, "cut.onnx: ", 10) != 0) {
      th_fail ("truncated", "cut at %zu: message without file name: %s", cut,
               err.message);
    }
  }
  printf ("truncated small model: %zu cuts, %d accepted\n", len, accepted);
  /* No error struct: still a clean failure. */
  if (mace_onnx_load (buf, len / 2, NULL, NULL) != NULL)
    th_fail ("null-err", "half a model loaded");
  MaceTensor *nt = NULL;
  if (mace_onnx_parse_tensor ("\xff", 1, NULL, &nt, NULL, NULL) == MACE_OK)
    th_fail ("null-err", "garbage tensor parsed");

  static const char *suite[] = { "test_conv_with_strides_padding",
                                 "test_resize_upsample_scales_linear",
                                 "test_gemm_all_attributes", "test_constant" };
  for (size_t s = 0; s < G_N_ELEMENTS (suite); s++) {
    char *path = g_build_filename (NODE_DIR, suite[s], "model.onnx", NULL);
    uint8_t *mdata = NULL;
    size_t mlen = 0;
    if (mace_read_file (path, &mdata, &mlen, &err) == MACE_OK) {
      for (size_t cut = 0; cut < mlen; cut++) {
        st = load_bytes (mdata, cut, path, &g, &err);
        if (st == MACE_OK) {
          mace_graph_free (g);
          th_fail (path, "cut at byte %zu of %zu loaded", cut, mlen);
        } else if (strncmp (err.message, path, strlen (path)) != 0) {
          th_fail (path, "cut at %zu: message without file name: %s", cut,
                   err.message);
        }
      }
    }
    g_free (mdata);
    g_free (path);
  }

  /* Random bytes, and the small model with random bytes changed: never a
   * crash; a failure always names the file. */
  printf ("random inputs from seed %llu\n", (unsigned long long)th_seed ());
  int loaded = 0;
  for (int it = 0; it < 4000; it++) {
    size_t n;
    uint8_t *r;
    if (it % 2 == 0) {
      n = th_rand_u32 () % 600;
      r = g_malloc (n + 1);
      for (size_t i = 0; i < n; i++)
        r[i] = (uint8_t)th_rand_u32 ();
    } else {
      n = len;
      r = g_memdup2 (buf, len);
      int flips = 1 + (int)(th_rand_u32 () % 4);
      for (int f = 0; f < flips; f++)
        r[th_rand_u32 () % len] = (uint8_t)th_rand_u32 ();
    }
    st = load_bytes (r, n, "random.onnx", &g, &err);
    if (st == MACE_OK) {
      loaded++;
      mace_graph_free (g);
    } else if (strncmp (err.message, "random.onnx: ", 13) != 0
               || st != err.status) {
      th_fail ("random", "iteration %d: bad failure report (%d): %s", it, st,
               err.message);
    }
    MaceTensor *t = NULL;
    memset (&err, 0, sizeof err);
    st = mace_onnx_parse_tensor (r, n, "random.pb", &t, NULL, &err);
    if (st == MACE_OK)
      mace_tensor_free (t);
    else if (strncmp (err.message, "random.pb: ", 11) != 0)
      th_fail ("random", "iteration %d: tensor failure report: %s", it,
               err.message);
    g_free (r);
  }
  printf ("random inputs: 4000, %d still loaded as models\n", loaded);
  g_free (buf);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  tmpdir = g_dir_make_tmp ("mace-loader-XXXXXX", NULL);
  test_roundtrip ();
  test_typed_fields ();
  test_small_model ();
  test_malformed_models ();
  test_bad_bytes ();
  test_node_suite ();
  /* Remove what the round trips wrote. */
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const char *e;
  while (d && (e = g_dir_read_name (d))) {
    char *p = g_build_filename (tmpdir, e, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return th_finish ();
}
