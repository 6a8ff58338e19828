/* SPDX-License-Identifier: Apache-2.0
 * The engine: load, check op support, optimise, plan memory, run.  The
 * CPU path is the interpreter here; other backends plug in through
 * backend.h. */
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "internal.h"
#ifdef MACE_HAVE_OPENCL
#include "cl/device.h"
#endif
#include "opt/passes.h"

typedef int64_t EngineDims[MACE_MAX_DIMS];

typedef struct {
  MaceNode *node;
  MaceTensor **in;
  MaceTensor **out;
  bool dynamic; /* outputs re-inferred and allocated at run time */
} ExecNode;

typedef struct {
  char *op_type;
  int count;
} OpCount;

struct MaceEngine {
  char *path;
  uint8_t *bytes; /* the model, kept to re-prepare for new input shapes */
  size_t n_bytes;
  MaceConfig config;
  MaceThreadPool *pool;

  /* Interface facts from the file, stable across re-prepares. */
  int n_inputs, n_outputs;
  char **input_names, **output_names;
  MaceDataType *input_dtypes, *output_dtypes;
  int *input_ndims, *output_ndims;
  int64_t (*input_dims)[MACE_MAX_DIMS];
  int64_t (*output_dims)[MACE_MAX_DIMS];
  OpCount *ops;
  int n_ops;
  MaceModelInfo info;

  MaceTensor **inputs;  /* host copies set by set_input */
  MaceTensor **outputs; /* host results of the last run */

  /* The prepared plan (for the current input shapes). */
  MaceGraph *graph;
  ExecNode *exec;
  int n_exec;
  uint8_t *arena;
  MaceBackend *backend;
  const MaceBackendVtbl *vt;
  bool prepared;

  MaceFrameStats frame_stats; /* mace_engine_set_input_frame */
  /* Runs of mace_engine_run_async not known to be done, oldest first (at
   * most two: the device runs the second right after the first).  Their
   * uploads may still read their host inputs; the next run's inputs go
   * to the other tensor of a pair (inputs[i] and spare[i] swap). */
  struct {
    void *handle;        /* the backend's */
    MaceTensor **inputs; /* n_inputs */
  } flight[2];
  int n_flight;
  MaceTensor **spare;
  /* mace_engine_run_async alternates between two sets of host outputs, so
   * a run's outputs (its fence's) are read while the next one runs. */
  MaceTensor **outputs_b;

  char last_error[1024];
};

/* ---- Config ----------------------------------------------------------- */

MaceConfig *
mace_config_new (void)
{
  MaceConfig *c = g_new0 (MaceConfig, 1);
  c->backend = MACE_BACKEND_CPU;
  c->optimize = 1;
  c->allow_fallback = 1;
  return c;
}

static void
config_clear (MaceConfig *c)
{
  g_free (c->cl_device);
  g_free (c->program_cache);
  g_free (c->program_cache_mode);
  g_free (c->program_cache_base);
  g_free (c->tuning_cache);
  for (int i = 0; i < c->n_shapes; i++)
    g_free (c->shape_names[i]);
  g_free (c->shape_names);
  g_free (c->shape_ndims);
  g_free (c->shape_dims);
}

void
mace_config_free (MaceConfig *c)
{
  if (!c)
    return;
  config_clear (c);
  g_free (c);
}

static void
config_copy (MaceConfig *dst, const MaceConfig *src)
{
  *dst = *src;
  dst->cl_device = g_strdup (src->cl_device);
  dst->program_cache = g_strdup (src->program_cache);
  dst->program_cache_mode = g_strdup (src->program_cache_mode);
  dst->program_cache_base = g_strdup (src->program_cache_base);
  dst->tuning_cache = g_strdup (src->tuning_cache);
  dst->shape_names = g_new0 (char *, src->n_shapes + 1);
  dst->shape_ndims = g_new0 (int, src->n_shapes + 1);
  dst->shape_dims = g_new0 (EngineDims, src->n_shapes + 1);
  for (int i = 0; i < src->n_shapes; i++) {
    dst->shape_names[i] = g_strdup (src->shape_names[i]);
    dst->shape_ndims[i] = src->shape_ndims[i];
    memcpy (dst->shape_dims[i], src->shape_dims[i], sizeof src->shape_dims[i]);
  }
}

void
mace_config_set_backend (MaceConfig *c, MaceBackendType b)
{
  c->backend = b;
}

void
mace_config_set_threads (MaceConfig *c, int threads)
{
  c->threads = threads < 0 ? 0 : threads;
}

void
mace_config_set_optimize (MaceConfig *c, int enable)
{
  c->optimize = enable;
}

void
mace_config_set_cl_device (MaceConfig *c, const char *device)
{
  g_free (c->cl_device);
  c->cl_device = g_strdup (device);
}

void
mace_config_set_allow_fallback (MaceConfig *c, int allow)
{
  c->allow_fallback = allow;
}

int
mace_opencl_device_count (int gpus_only)
{
#ifdef MACE_HAVE_OPENCL
  return mace_cl_count_devices (gpus_only != 0);
#else
  (void)gpus_only;
  return 0;
#endif
}

MaceStatus
mace_config_set_program_cache (MaceConfig *c, const char *path,
                               const char *mode)
{
  if (mode && strcmp (mode, "read-write") != 0
      && strcmp (mode, "read-only") != 0 && strcmp (mode, "off") != 0
      && strcmp (mode, "rebuild") != 0)
    return MACE_ERROR_INVALID_ARG;
  g_free (c->program_cache);
  g_free (c->program_cache_mode);
  c->program_cache = g_strdup (path);
  c->program_cache_mode = g_strdup (mode);
  return MACE_OK;
}

void
mace_config_set_program_cache_base (MaceConfig *c, const char *path)
{
  g_free (c->program_cache_base);
  c->program_cache_base = path && *path ? g_strdup (path) : NULL;
}

void
mace_config_set_tuning_cache (MaceConfig *c, const char *path, int tune)
{
  g_free (c->tuning_cache);
  c->tuning_cache = g_strdup (path);
  c->tune = tune;
}

MaceStatus
mace_config_set_input_shape (MaceConfig *c, const char *name, int ndim,
                             const int64_t *dims)
{
  if (!name || ndim < 0 || ndim > MACE_MAX_DIMS)
    return MACE_ERROR_INVALID_ARG;
  for (int i = 0; i < ndim; i++)
    if (dims[i] < 0)
      return MACE_ERROR_INVALID_ARG;
  c->shape_names = g_renew (char *, c->shape_names, c->n_shapes + 1);
  c->shape_ndims = g_renew (int, c->shape_ndims, c->n_shapes + 1);
  c->shape_dims = g_renew (EngineDims, c->shape_dims, c->n_shapes + 1);
  c->shape_names[c->n_shapes] = g_strdup (name);
  c->shape_ndims[c->n_shapes] = ndim;
  memcpy (c->shape_dims[c->n_shapes], dims, sizeof (int64_t) * (size_t)ndim);
  c->n_shapes++;
  return MACE_OK;
}

/* ---- Preparation ------------------------------------------------------ */

static void
plan_free (MaceEngine *e)
{
  if (e->backend && e->vt)
    e->vt->free (e->backend);
  e->backend = NULL;
  e->vt = NULL;
  for (int i = 0; i < e->n_exec; i++) {
    g_free (e->exec[i].in);
    g_free (e->exec[i].out);
  }
  g_free (e->exec);
  e->exec = NULL;
  e->n_exec = 0;
  if (e->graph) {
    /* Arena-backed tensors do not own their data. */
    mace_graph_free (e->graph);
    e->graph = NULL;
  }
  free (e->arena);
  e->arena = NULL;
  e->prepared = false;
}

/* Resolves op definitions and reports every unsupported op at once. */
static MaceStatus
check_ops (MaceGraph *g, MaceError *err)
{
  GString *bad = g_string_new (NULL);
  int n_bad = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    const MaceOpDef *def = NULL;
    if (!n->domain || !n->domain[0] || strcmp (n->domain, "ai.onnx") == 0)
      def = mace_op_lookup (n->op_type);
    if (!def) {
      if (n->domain && n->domain[0] && strcmp (n->domain, "ai.onnx") != 0)
        g_string_append_printf (bad, "%s%s.%s (node '%s'): op not supported",
                                n_bad ? "; " : "", n->domain, n->op_type,
                                n->name);
      else
        g_string_append_printf (bad, "%s%s (node '%s'): op not supported",
                                n_bad ? "; " : "", n->op_type, n->name);
      n_bad++;
      continue;
    }
    n->def = def;
    if (def->check) {
      char msg[512] = "";
      if (def->check (n, g->opset, msg, sizeof msg) != MACE_OK) {
        g_string_append_printf (bad, "%s%s (node '%s'): %s", n_bad ? "; " : "",
                                n->op_type, n->name,
                                msg[0] ? msg : "attributes not supported");
        n_bad++;
      }
    }
  }
  MaceStatus st = MACE_OK;
  if (n_bad) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: %d unsupported node%s: %s", g->path, n_bad,
                    n_bad > 1 ? "s" : "", bad->str);
    st = MACE_ERROR_UNSUPPORTED;
  }
  g_string_free (bad, TRUE);
  return st;
}

/* Parses the kept bytes and resolves ops; used at load and each prepare. */
static MaceGraph *
parse_graph (MaceEngine *e, MaceError *err)
{
  MaceGraph *g = mace_onnx_load (e->bytes, e->n_bytes, e->path, err);
  if (!g)
    return NULL;
  if (check_ops (g, err) != MACE_OK) {
    mace_graph_free (g);
    return NULL;
  }
  return g;
}

static MaceStatus
build_exec (MaceEngine *e, MaceError *err)
{
  MaceGraph *g = e->graph;
  e->exec = g_new0 (ExecNode, g->n_nodes ? g->n_nodes : 1);
  e->n_exec = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    ExecNode *x = &e->exec[e->n_exec++];
    x->node = n;
    x->in = g_new0 (MaceTensor *, n->n_in + 1);
    x->out = g_new0 (MaceTensor *, n->n_out + 1);
    for (int k = 0; k < n->n_in; k++)
      x->in[k] = n->in[k] >= 0 ? &g->values[n->in[k]].t : NULL;
    for (int k = 0; k < n->n_out; k++) {
      MaceValue *v = &g->values[n->out[k]];
      x->out[k] = &v->t;
      if (v->dynamic)
        x->dynamic = true;
    }
    if (!x->dynamic && n->def->prepare) {
      MaceOpCtx ctx = { .node = n,
                        .graph = g,
                        .opset = g->opset,
                        .n_in = n->n_in,
                        .n_out = n->n_out,
                        .in = x->in,
                        .out = x->out,
                        .pool = e->pool,
                        .err = err };
      MaceStatus st = n->def->prepare (&ctx);
      if (st != MACE_OK)
        return st;
    }
  }
  return MACE_OK;
}

/* Builds the plan for the shapes of e->inputs (or declared shapes). */
static MaceStatus
prepare (MaceEngine *e, MaceError *err)
{
  plan_free (e);
  MaceGraph *g = parse_graph (e, err);
  if (!g)
    return err->status;
  e->graph = g;
  for (int i = 0; i < g->n_inputs; i++) {
    MaceValue *v = &g->values[g->inputs[i]];
    const MaceTensor *t = e->inputs[i];
    if (t) {
      mace_tensor_init (&v->t, t->dtype, t->ndim, t->dims);
    } else {
      bool found = false;
      for (int s = 0; s < e->config.n_shapes; s++)
        if (strcmp (e->config.shape_names[s], v->name) == 0) {
          mace_tensor_init (&v->t, v->t.dtype, e->config.shape_ndims[s],
                            e->config.shape_dims[s]);
          found = true;
        }
      if (!found) {
        if (v->declared_ndim < 0) {
          mace_set_error (err, MACE_ERROR_INVALID_ARG,
                          "%s: input '%s' has no declared shape; set it",
                          e->path, v->name);
          return MACE_ERROR_INVALID_ARG;
        }
        for (int d = 0; d < v->declared_ndim; d++)
          if (v->declared_dims[d] < 0) {
            mace_set_error (err, MACE_ERROR_INVALID_ARG,
                            "%s: input '%s' has a dynamic dimension %d; "
                            "give an input or mace_config_set_input_shape",
                            e->path, v->name, d);
            return MACE_ERROR_INVALID_ARG;
          }
        mace_tensor_init (&v->t, v->t.dtype, v->declared_ndim,
                          v->declared_dims);
      }
    }
    v->shape_known = true;
  }
  int folded = 0;
  MaceStatus st = mace_pass_shape_infer (g, e->pool, &folded, err);
  if (st != MACE_OK)
    return st;
  mace_pass_dead_nodes (g);
  if (e->config.optimize) {
    mace_pass_remove_transposes (g);
    mace_pass_dead_nodes (g);
    mace_pass_fuse_conv_bn (g);
    mace_pass_fuse_conv_add (g);
    mace_pass_fuse_conv_act (g);
    /* Depthwise + 1x1 as one node: on the CPU ~5% faster on BlazeFace
     * (one pass over the tensors); on OpenCL one launch instead of two.
     * MACE_FUSE_DW_PW=0 keeps them apart (for comparisons). */
    const char *dwpw = g_getenv ("MACE_FUSE_DW_PW");
    if (!dwpw || strcmp (dwpw, "0") != 0)
      mace_pass_fuse_dw_pw (g);
    mace_pass_dead_nodes (g);
  }
  mace_graph_compact (g);
  st = mace_graph_toposort (g, err);
  if (st != MACE_OK)
    return st;
  int64_t arena = mace_pass_memory_plan (g);
  e->info.planned_peak_bytes = arena;
  e->info.num_nodes = g->n_nodes;
  if (arena > 0) {
    void *p = NULL;
    if (posix_memalign (&p, 64, (size_t)arena) != 0) {
      mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY,
                      "%s: cannot allocate a %lld-byte activation arena",
                      e->path, (long long)arena);
      return MACE_ERROR_OUT_OF_MEMORY;
    }
    e->arena = p;
  }
  for (int v = 0; v < g->n_values; v++) {
    MaceValue *val = &g->values[v];
    if (val->arena_offset >= 0) {
      mace_tensor_clear (&val->t);
      val->t.data = e->arena + val->arena_offset;
      val->t.capacity = mace_tensor_nbytes (&val->t);
      val->t.owns_data = false;
    }
  }
  st = build_exec (e, err);
  if (st != MACE_OK)
    return st;
  if (e->config.backend == MACE_BACKEND_OPENCL) {
#ifdef MACE_HAVE_OPENCL
    e->vt = &mace_cl_backend;
    st = e->vt->prepare (&e->backend, g, &e->config, e->pool, err);
    if (st != MACE_OK) {
      e->vt = NULL;
      e->backend = NULL;
      return st;
    }
#else
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: this build of libmace has no OpenCL backend", e->path);
    return MACE_ERROR_UNSUPPORTED;
#endif
  }
  e->prepared = true;
  return MACE_OK;
}

static bool
inputs_match_plan (MaceEngine *e)
{
  if (!e->prepared)
    return false;
  MaceGraph *g = e->graph;
  for (int i = 0; i < g->n_inputs; i++) {
    const MaceTensor *t = e->inputs[i];
    const MaceTensor *p = &g->values[g->inputs[i]].t;
    if (t && !mace_shape_equal (t->ndim, t->dims, p->ndim, p->dims))
      return false;
  }
  return true;
}

/* ---- Load ------------------------------------------------------------- */

static bool
inputs_static (const MaceGraph *g, const MaceConfig *c)
{
  for (int i = 0; i < g->n_inputs; i++) {
    const MaceValue *v = &g->values[g->inputs[i]];
    bool given = false;
    for (int s = 0; s < c->n_shapes; s++)
      if (strcmp (c->shape_names[s], v->name) == 0)
        given = true;
    if (given)
      continue;
    if (v->declared_ndim < 0)
      return false;
    for (int d = 0; d < v->declared_ndim; d++)
      if (v->declared_dims[d] < 0)
        return false;
  }
  return true;
}

static void
count_op (MaceEngine *e, const char *op)
{
  for (int i = 0; i < e->n_ops; i++)
    if (strcmp (e->ops[i].op_type, op) == 0) {
      e->ops[i].count++;
      return;
    }
  e->ops = g_renew (OpCount, e->ops, e->n_ops + 1);
  e->ops[e->n_ops].op_type = g_strdup (op);
  e->ops[e->n_ops].count = 1;
  e->n_ops++;
}

static MaceEngine *
engine_from_bytes (uint8_t *bytes, size_t n, const char *path,
                   const MaceConfig *config, MaceError *error)
{
  MaceError local = { 0 };
  MaceError *err = error ? error : &local;
  err->status = MACE_OK;
  err->message[0] = '\0';
  MaceEngine *e = g_new0 (MaceEngine, 1);
  e->path = g_strdup (path ? path : "<memory>");
  e->bytes = bytes;
  e->n_bytes = n;
  MaceConfig defaults
      = { .backend = MACE_BACKEND_CPU, .optimize = 1, .allow_fallback = 1 };
  config_copy (&e->config, config ? config : &defaults);

  MaceGraph *g = parse_graph (e, err);
  if (!g) {
    mace_engine_free (e);
    return NULL;
  }
  /* On OpenCL the CPU only preprocesses frames and runs fallback nodes:
   * a few threads do that, and a pool of one per core costs more than it
   * gives (on a 16-core host an H100's BlazeFace run took 0.40 ms instead
   * of 0.30 with 16 threads waking and spinning around it; 4 threads
   * sample a 1080p frame as fast as 16). */
  int threads = e->config.threads;
  if (threads <= 0 && e->config.backend == MACE_BACKEND_OPENCL)
    threads = MIN (4, (int)g_get_num_processors ());
  e->pool = mace_threadpool_new (threads);
  e->n_inputs = g->n_inputs;
  e->n_outputs = g->n_outputs;
  e->input_names = g_new0 (char *, e->n_inputs + 1);
  e->output_names = g_new0 (char *, e->n_outputs + 1);
  e->input_dtypes = g_new0 (MaceDataType, e->n_inputs + 1);
  e->output_dtypes = g_new0 (MaceDataType, e->n_outputs + 1);
  e->input_ndims = g_new0 (int, e->n_inputs + 1);
  e->output_ndims = g_new0 (int, e->n_outputs + 1);
  e->input_dims = g_new0 (EngineDims, e->n_inputs + 1);
  e->output_dims = g_new0 (EngineDims, e->n_outputs + 1);
  for (int i = 0; i < g->n_inputs; i++) {
    const MaceValue *v = &g->values[g->inputs[i]];
    e->input_names[i] = g_strdup (v->name);
    e->input_dtypes[i] = v->t.dtype;
    e->input_ndims[i] = v->declared_ndim;
    if (v->declared_ndim > 0)
      memcpy (e->input_dims[i], v->declared_dims,
              sizeof (int64_t) * (size_t)v->declared_ndim);
  }
  for (int i = 0; i < g->n_outputs; i++) {
    const MaceValue *v = &g->values[g->outputs[i]];
    e->output_names[i] = g_strdup (v->name);
    e->output_dtypes[i] = v->t.dtype;
    e->output_ndims[i] = v->declared_ndim;
    if (v->declared_ndim > 0)
      memcpy (e->output_dims[i], v->declared_dims,
              sizeof (int64_t) * (size_t)v->declared_ndim);
  }
  for (int i = 0; i < g->n_nodes; i++)
    count_op (e, g->nodes[i].op_type);
  e->info.num_nodes_original = g->n_nodes_original;
  e->info.num_nodes = g->n_nodes;
  e->info.num_parameters = g->n_params;
  /* Exporters such as paddle2onnx keep weights in Constant nodes. */
  for (int i = 0; i < g->n_nodes; i++) {
    const MaceAttr *a = strcmp (g->nodes[i].op_type, "Constant") == 0
                            ? mace_node_attr (&g->nodes[i], "value")
                            : NULL;
    if (a && a->t
        && (a->t->dtype == MACE_DTYPE_FLOAT32
            || a->t->dtype == MACE_DTYPE_FLOAT16
            || a->t->dtype == MACE_DTYPE_FLOAT64
            || a->t->dtype == MACE_DTYPE_BFLOAT16))
      e->info.num_parameters += mace_tensor_numel (a->t);
  }
  e->info.opset = g->opset;
  e->inputs = g_new0 (MaceTensor *, e->n_inputs + 1);
  e->outputs = g_new0 (MaceTensor *, e->n_outputs + 1);
  bool can_prepare = inputs_static (g, &e->config);
  mace_graph_free (g);
  /* Static models are fully prepared now, so a bad model or an unusable
   * device fails at load time and not at the first frame. */
  if (can_prepare && prepare (e, err) != MACE_OK) {
    mace_engine_free (e);
    return NULL;
  }
  return e;
}

MaceEngine *
mace_engine_load_memory (const void *data, size_t size, const char *name,
                         const MaceConfig *config, MaceError *error)
{
  if (!data && size) {
    mace_set_error (error, MACE_ERROR_INVALID_ARG, "no model data");
    return NULL;
  }
  uint8_t *copy = g_memdup2 (data, size ? size : 1);
  return engine_from_bytes (copy, size, name, config, error);
}

MaceEngine *
mace_engine_load_file (const char *path, const MaceConfig *config,
                       MaceError *error)
{
  uint8_t *bytes = NULL;
  size_t n = 0;
  if (!path) {
    mace_set_error (error, MACE_ERROR_INVALID_ARG, "no model path given");
    return NULL;
  }
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    mace_set_error (error, MACE_ERROR_IO, "%s: model file does not exist",
                    path);
    return NULL;
  }
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    mace_set_error (error, MACE_ERROR_IO, "%s: is a directory, not a model",
                    path);
    return NULL;
  }
  if (mace_read_file (path, &bytes, &n, error) != MACE_OK)
    return NULL;
  if (n == 0) {
    g_free (bytes);
    mace_set_error (error, MACE_ERROR_PARSE,
                    "%s: empty file (0 bytes), not an ONNX model", path);
    return NULL;
  }
  return engine_from_bytes (bytes, n, path, config, error);
}

void
mace_engine_free (MaceEngine *e)
{
  if (!e)
    return;
  mace_engine_wait (e);
  plan_free (e);
  for (int i = 0; i < e->n_inputs; i++) {
    mace_tensor_free (e->inputs ? e->inputs[i] : NULL);
    mace_tensor_free (e->spare ? e->spare[i] : NULL);
    g_free (e->input_names[i]);
  }
  for (int i = 0; i < e->n_outputs; i++) {
    mace_tensor_free (e->outputs ? e->outputs[i] : NULL);
    mace_tensor_free (e->outputs_b ? e->outputs_b[i] : NULL);
    g_free (e->output_names[i]);
  }
  for (int i = 0; i < e->n_ops; i++)
    g_free (e->ops[i].op_type);
  g_free (e->ops);
  g_free (e->inputs);
  g_free (e->flight[0].inputs);
  g_free (e->flight[1].inputs);
  g_free (e->spare);
  g_free (e->outputs);
  g_free (e->outputs_b);
  g_free (e->input_names);
  g_free (e->output_names);
  g_free (e->input_dtypes);
  g_free (e->output_dtypes);
  g_free (e->input_ndims);
  g_free (e->output_ndims);
  g_free (e->input_dims);
  g_free (e->output_dims);
  mace_threadpool_free (e->pool);
  config_clear (&e->config);
  g_free (e->bytes);
  g_free (e->path);
  g_free (e);
}

/* ---- Queries ---------------------------------------------------------- */

int
mace_engine_num_inputs (const MaceEngine *e)
{
  return e->n_inputs;
}

int
mace_engine_num_outputs (const MaceEngine *e)
{
  return e->n_outputs;
}

const char *
mace_engine_input_name (const MaceEngine *e, int i)
{
  return i >= 0 && i < e->n_inputs ? e->input_names[i] : NULL;
}

const char *
mace_engine_output_name (const MaceEngine *e, int i)
{
  return i >= 0 && i < e->n_outputs ? e->output_names[i] : NULL;
}

int
mace_engine_input_info (const MaceEngine *e, int i, MaceDataType *dtype,
                        int64_t *dims)
{
  if (i < 0 || i >= e->n_inputs)
    return -1;
  if (dtype)
    *dtype = e->input_dtypes[i];
  if (dims && e->input_ndims[i] > 0)
    memcpy (dims, e->input_dims[i],
            sizeof (int64_t) * (size_t)e->input_ndims[i]);
  return e->input_ndims[i];
}

int
mace_engine_output_info (const MaceEngine *e, int i, MaceDataType *dtype,
                         int64_t *dims)
{
  if (i < 0 || i >= e->n_outputs)
    return -1;
  int nd = e->output_ndims[i];
  if (dtype)
    *dtype = e->output_dtypes[i];
  /* After preparation the inferred shape is the better answer. */
  if (e->prepared) {
    const MaceValue *v = &e->graph->values[e->graph->outputs[i]];
    if (v->shape_known && !v->dynamic) {
      if (dtype)
        *dtype = v->t.dtype;
      if (dims)
        memcpy (dims, v->t.dims, sizeof (int64_t) * (size_t)v->t.ndim);
      return v->t.ndim;
    }
  }
  if (dims && nd > 0)
    memcpy (dims, e->output_dims[i], sizeof (int64_t) * (size_t)nd);
  return nd;
}

const char *
mace_engine_last_error (const MaceEngine *e)
{
  return e->last_error;
}

void
mace_engine_get_info (const MaceEngine *e, MaceModelInfo *info)
{
  *info = e->info;
}

void
mace_engine_foreach_op (const MaceEngine *e,
                        void (*func) (const char *, int, void *), void *data)
{
  for (int i = 0; i < e->n_ops; i++)
    func (e->ops[i].op_type, e->ops[i].count, data);
}

void
mace_engine_get_cache_stats (const MaceEngine *e, MaceCacheStats *stats)
{
  memset (stats, 0, sizeof *stats);
  if (e->backend && e->vt && e->vt->get_stats)
    e->vt->get_stats (e->backend, stats);
}

MaceStatus
mace_model_check_file (const char *path, char *unsupported, size_t len,
                       MaceError *error)
{
  uint8_t *bytes = NULL;
  size_t n = 0;
  if (unsupported && len)
    unsupported[0] = '\0';
  MaceStatus st = mace_read_file (path, &bytes, &n, error);
  if (st != MACE_OK)
    return st;
  MaceGraph *g = mace_onnx_load (bytes, n, path, error);
  g_free (bytes);
  if (!g)
    return error ? error->status : MACE_ERROR_PARSE;
  GString *s = g_string_new (NULL);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *nd = &g->nodes[i];
    const MaceOpDef *def = NULL;
    if (!nd->domain || !nd->domain[0] || strcmp (nd->domain, "ai.onnx") == 0)
      def = mace_op_lookup (nd->op_type);
    char msg[256] = "";
    bool bad = !def
               || (def->check
                   && def->check (nd, g->opset, msg, sizeof msg) != MACE_OK);
    if (bad && !strstr (s->str, nd->op_type))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", nd->op_type);
  }
  if (unsupported && len)
    g_strlcpy (unsupported, s->str, len);
  g_string_free (s, TRUE);
  mace_graph_free (g);
  return MACE_OK;
}

/* ---- Run -------------------------------------------------------------- */

static MaceStatus
engine_fail (MaceEngine *e, MaceError *err)
{
  g_strlcpy (e->last_error, err->message, sizeof e->last_error);
  return err->status;
}

static MaceStatus retire_oldest (MaceEngine *e);

/* Whether a run in flight reads host tensor t as input `index`. */
static bool
input_in_flight (const MaceEngine *e, int index, const MaceTensor *t)
{
  for (int k = 0; k < e->n_flight; k++)
    if (e->flight[k].inputs[index] == t)
      return true;
  return false;
}

/* Input `index`'s host tensor for the next run: while a run in flight
 * may still read the current one, its spare (after the older run in
 * flight is done, if that one reads the spare). */
static MaceTensor *
input_slot (MaceEngine *e, int index)
{
  if (e->inputs[index] && input_in_flight (e, index, e->inputs[index])) {
    if (!e->spare)
      e->spare = g_new0 (MaceTensor *, e->n_inputs);
    while (e->spare[index] && input_in_flight (e, index, e->spare[index]))
      if (retire_oldest (e) != MACE_OK)
        break; /* failed: the run is gone either way */
    MaceTensor *t = e->spare[index];
    e->spare[index] = e->inputs[index];
    e->inputs[index] = t;
  }
  if (!e->inputs[index])
    e->inputs[index] = g_new0 (MaceTensor, 1);
  return e->inputs[index];
}

MaceStatus
mace_engine_set_input (MaceEngine *e, int index, const MaceTensor *t)
{
  MaceError err = { 0 };
  if (index < 0 || index >= e->n_inputs) {
    mace_set_error (&err, MACE_ERROR_INVALID_ARG,
                    "%s: input index %d out of range (model has %d)", e->path,
                    index, e->n_inputs);
    return engine_fail (e, &err);
  }
  if (t->dtype != e->input_dtypes[index]) {
    mace_set_error (
        &err, MACE_ERROR_INVALID_ARG, "%s: input '%s' wants %s, got %s",
        e->path, e->input_names[index],
        mace_dtype_name (e->input_dtypes[index]), mace_dtype_name (t->dtype));
    return engine_fail (e, &err);
  }
  int nd = e->input_ndims[index];
  if (nd >= 0) {
    bool ok = nd == t->ndim;
    for (int d = 0; ok && d < nd; d++)
      if (e->input_dims[index][d] >= 0 && e->input_dims[index][d] != t->dims[d])
        ok = false;
    if (!ok) {
      char a[128], b[128];
      mace_set_error (&err, MACE_ERROR_SHAPE,
                      "%s: input '%s' wants shape %s, got %s", e->path,
                      e->input_names[index],
                      mace_shape_str (nd, e->input_dims[index], a, sizeof a),
                      mace_shape_str (t->ndim, t->dims, b, sizeof b));
      return engine_fail (e, &err);
    }
  }
  if (e->vt && e->vt->forget_input_frame)
    e->vt->forget_input_frame (e->backend, index);
  if (mace_tensor_copy (input_slot (e, index), t) != MACE_OK) {
    mace_set_error (&err, MACE_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                    e->path);
    return engine_fail (e, &err);
  }
  return MACE_OK;
}

static MaceStatus
run_cpu (MaceEngine *e, MaceError *err)
{
  MaceGraph *g = e->graph;
  for (int i = 0; i < e->n_exec; i++) {
    ExecNode *x = &e->exec[i];
    MaceNode *n = x->node;
    MaceOpCtx ctx = { .node = n,
                      .graph = g,
                      .opset = g->opset,
                      .n_in = n->n_in,
                      .n_out = n->n_out,
                      .in = x->in,
                      .out = x->out,
                      .pool = e->pool,
                      .err = err };
    MaceStatus st;
    if (x->dynamic) {
      /* Shapes depend on values computed in this run. */
      st = n->def->infer (&ctx);
      for (int k = 0; st == MACE_OK && k < n->n_out; k++)
        st = mace_tensor_alloc (x->out[k]);
      if (st == MACE_OK && n->def->prepare) {
        if (n->state && n->state_free)
          n->state_free (n->state);
        n->state = NULL;
        st = n->def->prepare (&ctx);
      }
      if (st != MACE_OK)
        return st;
    }
    st = n->def->run (&ctx);
    if (st != MACE_OK)
      return st;
  }
  return MACE_OK;
}

/* Checks the inputs, prepares for their shapes and shapes the backend's
 * host outputs. */
static MaceStatus
run_begin (MaceEngine *e, MaceError *err)
{
  for (int i = 0; i < e->n_inputs; i++)
    if (!e->inputs[i]) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG, "%s: input '%s' was not set",
                      e->path, e->input_names[i]);
      return err->status;
    }
  if (!inputs_match_plan (e)) {
    MaceStatus st = prepare (e, err);
    if (st != MACE_OK) {
      plan_free (e);
      return st;
    }
  }
  if (!e->vt)
    return MACE_OK;
  MaceGraph *g = e->graph;
  for (int i = 0; i < g->n_outputs; i++) {
    const MaceValue *v = &g->values[g->outputs[i]];
    if (!e->outputs[i])
      e->outputs[i] = g_new0 (MaceTensor, 1);
    mace_tensor_init (e->outputs[i], v->t.dtype, v->t.ndim, v->t.dims);
    if (mace_tensor_alloc (e->outputs[i]) != MACE_OK) {
      mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                      e->path);
      return err->status;
    }
  }
  return MACE_OK;
}

struct MaceFence {
  const MaceBackendVtbl *vt;
  void *handle; /* the backend's; NULL: the run is done */
  int n_outputs;
  MaceTensor **outputs; /* the run's host outputs (the engine's) */
};

/* Waits for the oldest run in flight and lets the backend complete it. */
static MaceStatus
retire_oldest (MaceEngine *e)
{
  if (!e->n_flight)
    return MACE_OK;
  MaceStatus st = e->vt->fence_wait (e->flight[0].handle);
  e->vt->fence_free (e->flight[0].handle);
  MaceTensor **in = e->flight[0].inputs;
  e->flight[0] = e->flight[1];
  e->flight[1].inputs = in;
  e->flight[1].handle = NULL;
  e->n_flight--;
  MaceError err = { 0 };
  if (st != MACE_OK) {
    mace_set_error (&err, st, "%s: the device failed a run", e->path);
    return engine_fail (e, &err);
  }
  if (e->vt->retire && e->vt->retire (e->backend, &err) != MACE_OK)
    return engine_fail (e, &err);
  return MACE_OK;
}

/* Forgets the runs in flight and lets the backend finish them all. */
static MaceStatus
finish_all (MaceEngine *e, MaceError *err)
{
  for (int k = 0; k < e->n_flight; k++) {
    e->vt->fence_free (e->flight[k].handle);
    e->flight[k].handle = NULL;
  }
  e->n_flight = 0;
  return e->vt->finish (e->backend, err);
}

MaceStatus
mace_engine_wait (MaceEngine *e)
{
  if (!e->n_flight)
    return MACE_OK;
  MaceError err = { 0 };
  if (finish_all (e, &err) != MACE_OK)
    return engine_fail (e, &err);
  return MACE_OK;
}

MaceStatus
mace_engine_run_async (MaceEngine *e, MaceFence **fence)
{
  if (fence)
    *fence = NULL;
  MaceStatus st = MACE_OK;
  /* New shapes re-plan, which needs the device idle; a third run waits
   * for the first. */
  if (!inputs_match_plan (e))
    st = mace_engine_wait (e);
  else if (e->n_flight == 2)
    st = retire_oldest (e);
  if (st != MACE_OK)
    return st;
  /* The other set of outputs: the last run's stay as they are. */
  if (!e->outputs_b)
    e->outputs_b = g_new0 (MaceTensor *, e->n_outputs + 1);
  MaceTensor **t = e->outputs;
  e->outputs = e->outputs_b;
  e->outputs_b = t;
  void *handle = NULL;
  if (e->vt && e->vt->submit) {
    MaceError err = { 0 };
    if (run_begin (e, &err) != MACE_OK)
      return engine_fail (e, &err);
    st = e->vt->submit (e->backend, e->inputs, e->outputs, &handle, &err);
    if (st != MACE_OK) {
      /* Whatever was enqueued is finished; the error is the submit's. */
      MaceError ignored = { 0 };
      finish_all (e, &ignored);
      return engine_fail (e, &err);
    }
    int k = e->n_flight++;
    if (!e->flight[k].inputs)
      e->flight[k].inputs = g_new0 (MaceTensor *, e->n_inputs + 1);
    memcpy (e->flight[k].inputs, e->inputs,
            sizeof (MaceTensor *) * (size_t)e->n_inputs);
    e->flight[k].handle = handle;
  } else {
    st = mace_engine_run (e);
    if (st != MACE_OK)
      return st;
  }
  if (fence) {
    *fence = g_new0 (MaceFence, 1);
    (*fence)->vt = e->vt;
    (*fence)->handle = handle ? e->vt->fence_ref (handle) : NULL;
    (*fence)->n_outputs = e->n_outputs;
    (*fence)->outputs
        = g_memdup2 (e->outputs, sizeof (MaceTensor *) * (size_t)e->n_outputs);
  }
  return MACE_OK;
}

MaceStatus
mace_fence_wait (MaceFence *f)
{
  if (!f || !f->handle)
    return MACE_OK;
  return f->vt->fence_wait (f->handle);
}

void
mace_fence_free (MaceFence *f)
{
  if (!f)
    return;
  if (f->handle)
    f->vt->fence_free (f->handle);
  g_free (f->outputs);
  g_free (f);
}

const MaceTensor *
mace_fence_get_output (const MaceFence *f, int index)
{
  if (!f || index < 0 || index >= f->n_outputs)
    return NULL;
  return f->outputs[index];
}

MaceStatus
mace_engine_run (MaceEngine *e)
{
  MaceError err = { 0 };
  MaceStatus st = mace_engine_wait (e);
  if (st != MACE_OK)
    return st;
  if (run_begin (e, &err) != MACE_OK)
    return engine_fail (e, &err);
  MaceGraph *g = e->graph;
  if (e->vt) {
    st = e->vt->run (e->backend, e->inputs, e->outputs, &err);
    if (st != MACE_OK)
      return engine_fail (e, &err);
    return MACE_OK;
  }
  /* Graph inputs borrow the host copies. */
  for (int i = 0; i < g->n_inputs; i++) {
    MaceTensor *t = &g->values[g->inputs[i]].t;
    mace_tensor_clear (t);
    t->data = e->inputs[i]->data;
    t->capacity = e->inputs[i]->capacity;
    t->owns_data = false;
  }
  st = run_cpu (e, &err);
  if (st != MACE_OK)
    return engine_fail (e, &err);
  for (int i = 0; i < g->n_outputs; i++) {
    const MaceTensor *src = &g->values[g->outputs[i]].t;
    if (!e->outputs[i])
      e->outputs[i] = g_new0 (MaceTensor, 1);
    if (mace_tensor_copy (e->outputs[i], src) != MACE_OK) {
      mace_set_error (&err, MACE_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                      e->path);
      return engine_fail (e, &err);
    }
  }
  return MACE_OK;
}

const MaceTensor *
mace_engine_get_output (MaceEngine *e, int index)
{
  if (index < 0 || index >= e->n_outputs)
    return NULL;
  return e->outputs[index];
}

/* ---- Frames ----------------------------------------------------------- */

MaceStatus
mace_engine_set_input_frame (MaceEngine *e, int index, const MaceFrame *frame,
                             const MacePreprocess *pp, MaceRect *content)
{
  MaceError err = { 0 };
  MacePreprocess defaults;
  if (!pp) {
    mace_preprocess_init (&defaults);
    pp = &defaults;
  }
  if (index < 0 || index >= e->n_inputs || !frame) {
    mace_set_error (&err, MACE_ERROR_INVALID_ARG,
                    "%s: input index %d out of range (model has %d) or no "
                    "frame",
                    e->path, index, e->n_inputs);
    return engine_fail (e, &err);
  }
  const char *name = e->input_names[index];
  const int64_t *dd = e->input_dims[index];
  bool nchw = pp->layout == MACE_TENSOR_NCHW;
  if (e->input_dtypes[index] != MACE_DTYPE_FLOAT32 || e->input_ndims[index] != 4
      || (dd[0] > 1) || (nchw ? dd[1] : dd[3]) > 3
      || ((nchw ? dd[1] : dd[3]) >= 0 && (nchw ? dd[1] : dd[3]) != 3)) {
    char a[128];
    mace_set_error (&err, MACE_ERROR_INVALID_ARG,
                    "%s: input '%s' (%s %s) is not a float32 image input "
                    "with 3 channels in %s layout",
                    e->path, name, mace_dtype_name (e->input_dtypes[index]),
                    mace_shape_str (e->input_ndims[index], dd, a, sizeof a),
                    nchw ? "NCHW" : "NHWC");
    return engine_fail (e, &err);
  }
  int crop_w = pp->crop_w > 0 ? pp->crop_w : frame->width;
  int crop_h = pp->crop_h > 0 ? pp->crop_h : frame->height;
  int64_t h = nchw ? dd[2] : dd[1], w = nchw ? dd[3] : dd[2];
  /* Dynamic sizes follow the source region. */
  if (h < 0)
    h = crop_h;
  if (w < 0)
    w = crop_w;
  MaceFramePlan plan;
  if (mace_frame_plan (frame, pp, (int)w, (int)h, &plan, &err) != MACE_OK) {
    char msg[sizeof err.message];
    g_strlcpy (msg, err.message, sizeof msg);
    mace_set_error (&err, err.status, "%s: input '%s': %s", e->path, name, msg);
    return engine_fail (e, &err);
  }
  int64_t dims[4] = { 1, h, w, 3 };
  if (nchw) {
    dims[1] = 3;
    dims[2] = h;
    dims[3] = w;
  }
  MaceTensor *t = input_slot (e, index);
  if (t->dtype != MACE_DTYPE_FLOAT32 || !t->data
      || !mace_shape_equal (t->ndim, t->dims, 4, dims)) {
    mace_tensor_init (t, MACE_DTYPE_FLOAT32, 4, dims);
    if (mace_tensor_alloc (t) != MACE_OK) {
      mace_set_error (&err, MACE_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                      e->path);
      return engine_fail (e, &err);
    }
  }
  bool device = e->config.backend == MACE_BACKEND_OPENCL;
  if (device && !inputs_match_plan (e)) {
    /* New input shape: re-prepare now so the kernel writes the buffer
     * of the plan that runs (after the run in flight, which uses the
     * plan's buffers). */
    MaceStatus wst = mace_engine_wait (e);
    if (wst != MACE_OK)
      return wst;
    if (prepare (e, &err) != MACE_OK) {
      plan_free (e);
      return engine_fail (e, &err);
    }
  }
  if (device && e->vt && e->vt->set_input_frame) {
    MaceStatus st = e->vt->set_input_frame (e->backend, index, frame, &plan, t,
                                            &e->frame_stats, &err);
    if (st != MACE_OK)
      return engine_fail (e, &err);
  } else {
    for (int p = 0; p < mace_frame_n_planes (frame->format); p++)
      if (!frame->data[p]) {
        mace_set_error (&err, MACE_ERROR_INVALID_ARG,
                        "%s: input '%s': frame plane %d is a cl_mem, which "
                        "needs the OpenCL backend",
                        e->path, name, p);
        return engine_fail (e, &err);
      }
    if (e->vt && e->vt->forget_input_frame)
      e->vt->forget_input_frame (e->backend, index);
    /* Written in place: the CPU graph reads this tensor directly. */
    mace_frame_preprocess_cpu (frame, &plan, t->data, e->pool);
    e->frame_stats.last_zero_copy = 1;
  }
  e->frame_stats.frames++;
  if (content)
    *content = plan.content;
  return MACE_OK;
}

void
mace_engine_get_frame_stats (const MaceEngine *e, MaceFrameStats *stats)
{
  *stats = e->frame_stats;
}

MaceStatus
mace_engine_get_cl_handles (MaceEngine *e, void **context, void **device,
                            void **queue)
{
  if (!e->backend || !e->vt || !e->vt->get_cl_handles) {
    MaceError err = { 0 };
    mace_set_error (&err, MACE_ERROR_UNSUPPORTED,
                    "%s: the engine does not run on an OpenCL device", e->path);
    return engine_fail (e, &err);
  }
  return e->vt->get_cl_handles (e->backend, context, device, queue);
}
