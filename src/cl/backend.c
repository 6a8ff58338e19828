/* SPDX-License-Identifier: Apache-2.0
 * The OpenCL backend: places nodes (device or CPU fallback), plans one
 * list of kernel launches per device node at prepare time, keeps tensors
 * on the device between nodes, and only moves graph inputs/outputs and
 * the tensors around fallback nodes across. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "frame.h"
#include "cl/device.h"
#include "cl/ops.h"
#include "cl/preprocess.h"
#include "cl/tuner.h"

typedef struct {
  bool on_cpu;
  GArray *launches;  /* MaceClLaunch */
  GPtrArray *params; /* cl_mem owned by the plan */
  /* Layout folds (choose_folds): for a Conv / MaceDwPwConv, what it takes
   * over (MaceClOpCtx's fields; -1 = none); for a Transpose or MaxPool,
   * the node that takes it over (-1 = none). */
  int x_nhwc, res_pool, res_pool_k;
  bool y_nhwc;
  int folded_into;
  bool folds_done; /* the convolution honoured its folds */
} NodePlan;

typedef enum {
  SRC_NONE = 0,
  SRC_CONST,
  SRC_INPUT,
  SRC_CPU,
  SRC_CL,
} ValueSource;

struct MaceBackend {
  MaceClDevice *dev;
  MaceGraph *graph;
  MaceThreadPool *pool;
  MaceClTuner *tuner;
  bool warmed_up;          /* the program cache was written after a first run */
  cl_mem *mem;             /* per value, NULL when not on the device */
  ValueSource *source;     /* who fills each value */
  MaceTensor *host;        /* per value host copies (fallback nodes) */
  bool *host_fresh;        /* host copy valid in this run */
  MaceTensor **cur_inputs; /* per value: this run's input tensor */
  NodePlan *plans;
  int64_t nodes_on_cpu;
  int64_t n_launches;    /* enqueues per run (kernels and copies) */
  bool *input_frame;     /* per graph input: filled by the preprocess
                            kernel, not uploaded by run */
  MaceClPreprocess *pre; /* frame preprocessing, made on first use */
  /* MACE_CL_PROFILE: this run's events, and the totals over runs. */
  GArray *prof_events; /* ProfEvent */
  double prof_span_ns, prof_kernel_ns, prof_host_us;
  int64_t prof_runs;
  gint64 prof_t0; /* host clock at the start of the run being profiled */
};

typedef struct {
  MaceClLaunch *launch;
  cl_event event;
} ProfEvent;

static const MaceClOp *const op_tables[] = {
  mace_cl_ops_elementwise, mace_cl_ops_conv,   mace_cl_ops_pool,
  mace_cl_ops_movement,    mace_cl_ops_reduce, mace_cl_ops_gemm,
  mace_cl_ops_norm,        mace_cl_ops_resize, mace_cl_ops_softmax,
};

const MaceClOp *
mace_cl_op_lookup (const char *op_type)
{
  for (size_t t = 0; t < G_N_ELEMENTS (op_tables); t++)
    for (const MaceClOp *o = op_tables[t]; o->op_type; o++)
      if (strcmp (o->op_type, op_type) == 0)
        return o;
  return NULL;
}

/* ---- Helpers for ops ---- */

MaceStatus
mace_cl_unsupported (MaceClOpCtx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (ctx->why, sizeof ctx->why, fmt, ap);
  va_end (ap);
  return MACE_ERROR_UNSUPPORTED;
}

bool
mace_cl_check_dtypes (MaceClOpCtx *ctx, const MaceDataType *in, int n_in,
                      const MaceDataType *out, int n_out)
{
  for (int k = 0; k < ctx->node->n_in; k++) {
    const MaceValue *v = mace_cl_in (ctx, k);
    if (!v)
      continue;
    if (k >= n_in || v->t.dtype != in[k]) {
      mace_cl_unsupported (ctx, "input '%s' is %s", v->name,
                           mace_dtype_name (v->t.dtype));
      return false;
    }
  }
  for (int k = 0; k < ctx->node->n_out; k++) {
    const MaceValue *v = mace_cl_out (ctx, k);
    if (!v)
      continue;
    if (k >= n_out || v->t.dtype != out[k]) {
      mace_cl_unsupported (ctx, "output '%s' is %s", v->name,
                           mace_dtype_name (v->t.dtype));
      return false;
    }
  }
  return true;
}

const MaceValue *
mace_cl_in (MaceClOpCtx *ctx, int k)
{
  if (k < 0 || k >= ctx->node->n_in || ctx->node->in[k] < 0)
    return NULL;
  return &ctx->graph->values[ctx->node->in[k]];
}

const MaceValue *
mace_cl_out (MaceClOpCtx *ctx, int k)
{
  if (k < 0 || k >= ctx->node->n_out || ctx->node->out[k] < 0)
    return NULL;
  return &ctx->graph->values[ctx->node->out[k]];
}

static size_t
value_bytes (const MaceValue *v)
{
  return (size_t)mace_shape_numel (v->t.ndim, v->t.dims)
         * mace_dtype_size (v->t.dtype);
}

static cl_mem
value_mem (MaceBackend *b, int vi, MaceError *err)
{
  if (b->mem[vi])
    return b->mem[vi];
  MaceValue *v = &b->graph->values[vi];
  size_t bytes = value_bytes (v);
  cl_int rc;
  cl_mem m = clCreateBuffer (b->dev->context, CL_MEM_READ_WRITE,
                             bytes ? bytes : 4, NULL, &rc);
  if (!m) {
    mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY,
                    "OpenCL: cannot allocate %zu bytes for '%s': %s", bytes,
                    v->name, mace_cl_error_string (rc));
    return NULL;
  }
  if (v->is_const && bytes) {
    if (!v->t.data) {
      clReleaseMemObject (m);
      mace_set_error (err, MACE_ERROR_INTERNAL,
                      "OpenCL: constant '%s' has no data", v->name);
      return NULL;
    }
    rc = clEnqueueWriteBuffer (b->dev->queue, m, CL_TRUE, 0, bytes, v->t.data,
                               0, NULL, NULL);
    if (rc != CL_SUCCESS) {
      clReleaseMemObject (m);
      mace_set_error (err, MACE_ERROR_BACKEND,
                      "OpenCL: uploading constant '%s' failed: %s", v->name,
                      mace_cl_error_string (rc));
      return NULL;
    }
  }
  b->mem[vi] = m;
  return m;
}

cl_mem
mace_cl_value_mem (MaceClOpCtx *ctx, int vi)
{
  return value_mem (ctx->backend, vi, ctx->err);
}

cl_mem
mace_cl_in_mem (MaceClOpCtx *ctx, int k)
{
  if (!mace_cl_in (ctx, k)) {
    mace_set_error (ctx->err, MACE_ERROR_INTERNAL,
                    "OpenCL: node '%s' has no input %d", ctx->node->name, k);
    return NULL;
  }
  return value_mem (ctx->backend, ctx->node->in[k], ctx->err);
}

cl_mem
mace_cl_out_mem (MaceClOpCtx *ctx, int k)
{
  if (!mace_cl_out (ctx, k)) {
    mace_set_error (ctx->err, MACE_ERROR_INTERNAL,
                    "OpenCL: node '%s' has no output %d", ctx->node->name, k);
    return NULL;
  }
  return value_mem (ctx->backend, ctx->node->out[k], ctx->err);
}

int
mace_cl_const_ints (MaceClOpCtx *ctx, int k, int64_t *v, int max)
{
  const MaceValue *val = mace_cl_in (ctx, k);
  if (!val || !val->is_const || !val->t.data)
    return -1;
  int64_t n = mace_shape_numel (val->t.ndim, val->t.dims);
  if (n > max)
    return -1;
  for (int64_t i = 0; i < n; i++)
    v[i] = mace_tensor_get_i64 (&val->t, i);
  return (int)n;
}

int
mace_cl_const_floats (MaceClOpCtx *ctx, int k, float *v, int max)
{
  const MaceValue *val = mace_cl_in (ctx, k);
  if (!val || !val->is_const || !val->t.data)
    return -1;
  int64_t n = mace_shape_numel (val->t.ndim, val->t.dims);
  if (n > max)
    return -1;
  for (int64_t i = 0; i < n; i++)
    v[i] = (float)mace_tensor_get_f64 (&val->t, i);
  return (int)n;
}

MaceClLaunch *
mace_cl_launch (MaceClOpCtx *ctx, const char *family, const char *kernel,
                cl_uint dim, const size_t *gws)
{
  NodePlan *p = ctx->plan;
  MaceClLaunch l;
  memset (&l, 0, sizeof l);
  l.kernel = mace_cl_device_kernel (ctx->dev, family, kernel, ctx->err);
  if (!l.kernel)
    return NULL;
  l.name = g_strdup (kernel);
  l.dim = dim;
  for (cl_uint i = 0; i < dim; i++)
    l.gws[i] = gws[i];
  g_array_append_val (p->launches, l);
  return &g_array_index (p->launches, MaceClLaunch, p->launches->len - 1);
}

void
mace_cl_copy (MaceClOpCtx *ctx, cl_mem src, size_t src_off, cl_mem dst,
              size_t dst_off, size_t bytes)
{
  NodePlan *p = ctx->plan;
  MaceClLaunch l;
  memset (&l, 0, sizeof l);
  l.name = g_strdup ("copy");
  l.src = src;
  l.dst = dst;
  l.src_off = src_off;
  l.dst_off = dst_off;
  l.bytes = bytes;
  g_array_append_val (p->launches, l);
}

static void
set_arg (MaceClLaunch *l, size_t size, const void *v)
{
  cl_int rc = clSetKernelArg (l->kernel, (cl_uint)l->n_args, size, v);
  if (rc != CL_SUCCESS && l->arg_rc == CL_SUCCESS)
    l->arg_rc = rc;
  l->n_args++;
}

void
mace_cl_arg_mem (MaceClLaunch *l, cl_mem m)
{
  set_arg (l, sizeof m, &m);
}

void
mace_cl_arg_int (MaceClLaunch *l, int v)
{
  cl_int x = v;
  set_arg (l, sizeof x, &x);
}

void
mace_cl_arg_float (MaceClLaunch *l, float v)
{
  cl_float x = v;
  set_arg (l, sizeof x, &x);
}

/* A read-only buffer initialised from p; the error code as return value
 * when it fails. */
static cl_int
create_ro_buffer (cl_context context, const void *p, size_t bytes, cl_mem *m)
{
  static const int zero = 0;
  cl_int rc = CL_SUCCESS;
  *m = clCreateBuffer (context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                       bytes ? bytes : sizeof zero, (void *)(bytes ? p : &zero),
                       &rc);
  return *m ? CL_SUCCESS : (rc != CL_SUCCESS ? rc : CL_OUT_OF_RESOURCES);
}

static void
arg_buffer (MaceClOpCtx *ctx, MaceClLaunch *l, const void *p, size_t bytes)
{
  NodePlan *plan = ctx->plan;
  cl_mem m = NULL;
  cl_int rc = create_ro_buffer (ctx->dev->context, p, bytes, &m);
  if (rc != CL_SUCCESS) {
    if (l->arg_rc == CL_SUCCESS)
      l->arg_rc = rc;
    l->n_args++;
    return;
  }
  g_ptr_array_add (plan->params, m);
  mace_cl_arg_mem (l, m);
}

void
mace_cl_arg_ints (MaceClOpCtx *ctx, MaceClLaunch *l, const int *p, int n)
{
  arg_buffer (ctx, l, p, sizeof (int) * (size_t)n);
}

void
mace_cl_arg_floats (MaceClOpCtx *ctx, MaceClLaunch *l, const float *p, int n)
{
  arg_buffer (ctx, l, p, sizeof (float) * (size_t)n);
}

void
mace_cl_strides (int ndim, const int64_t *dims, int64_t *strides)
{
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

int
mace_cl_axis (int64_t axis, int ndim)
{
  if (axis < 0)
    axis += ndim;
  if (axis < 0 || axis >= ndim)
    return -1;
  return (int)axis;
}

/* ---- Plans ---- */

static void
plan_clear (NodePlan *p)
{
  if (p->launches) {
    for (guint i = 0; i < p->launches->len; i++) {
      MaceClLaunch *l = &g_array_index (p->launches, MaceClLaunch, i);
      if (l->kernel)
        clReleaseKernel (l->kernel);
      g_free (l->name);
    }
    g_array_free (p->launches, TRUE);
    p->launches = NULL;
  }
  if (p->params) {
    for (guint i = 0; i < p->params->len; i++)
      clReleaseMemObject (p->params->pdata[i]);
    g_ptr_array_free (p->params, TRUE);
    p->params = NULL;
  }
}

static bool
default_domain (const MaceNode *n)
{
  return !n->domain || !*n->domain || strcmp (n->domain, "ai.onnx") == 0;
}

/* Why a node cannot run on the device before asking its op (NULL: ask). */
static bool
check_types (MaceBackend *b, MaceNode *n, char *why, size_t len)
{
  for (int k = 0; k < n->n_out; k++) {
    if (n->out[k] < 0)
      continue;
    MaceValue *v = &b->graph->values[n->out[k]];
    if (v->t.dtype != MACE_DTYPE_FLOAT32) {
      snprintf (why, len, "output '%s' is %s (the device runs float32 only)",
                v->name, mace_dtype_name (v->t.dtype));
      return false;
    }
  }
  for (int k = 0; k < n->n_in; k++) {
    if (n->in[k] < 0)
      continue;
    MaceValue *v = &b->graph->values[n->in[k]];
    if (!v->is_const && v->t.dtype != MACE_DTYPE_FLOAT32) {
      snprintf (why, len, "input '%s' is %s (the device runs float32 only)",
                v->name, mace_dtype_name (v->t.dtype));
      return false;
    }
  }
  return true;
}

static MaceStatus
cpu_prepare (MaceBackend *b, MaceNode *n, MaceError *err)
{
  if (!n->def || !n->def->run) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: node '%s' (%s) has neither an OpenCL kernel nor a "
                    "CPU implementation",
                    b->graph->path, n->name, n->op_type);
    return MACE_ERROR_UNSUPPORTED;
  }
  if (!n->def->prepare || n->state)
    return MACE_OK;
  MaceTensor **in = g_new0 (MaceTensor *, n->n_in + 1);
  MaceTensor **out = g_new0 (MaceTensor *, n->n_out + 1);
  for (int k = 0; k < n->n_in; k++)
    in[k] = n->in[k] >= 0 ? &b->graph->values[n->in[k]].t : NULL;
  for (int k = 0; k < n->n_out; k++)
    out[k] = n->out[k] >= 0 ? &b->graph->values[n->out[k]].t : NULL;
  MaceOpCtx ctx = { .node = n,
                    .graph = b->graph,
                    .opset = b->graph->opset,
                    .n_in = n->n_in,
                    .n_out = n->n_out,
                    .in = in,
                    .out = out,
                    .pool = b->pool,
                    .err = err };
  MaceStatus st = n->def->prepare (&ctx);
  g_free (in);
  g_free (out);
  return st;
}

static void prof_report (MaceBackend *b);

static void
cl_free (MaceBackend *b)
{
  if (!b)
    return;
  if (b->prof_events) {
    prof_report (b);
    for (guint i = 0; i < b->prof_events->len; i++)
      clReleaseEvent (g_array_index (b->prof_events, ProfEvent, i).event);
    g_array_free (b->prof_events, TRUE);
  }
  if (b->dev)
    mace_cl_device_flush_program_cache (b->dev);
  if (b->tuner) {
    mace_cl_tuner_flush (b->tuner);
    mace_cl_tuner_free (b->tuner);
  }
  if (b->plans)
    for (int i = 0; i < b->graph->n_nodes; i++)
      plan_clear (&b->plans[i]);
  g_free (b->plans);
  if (b->mem)
    for (int i = 0; i < b->graph->n_values; i++)
      if (b->mem[i])
        clReleaseMemObject (b->mem[i]);
  g_free (b->mem);
  if (b->host)
    for (int i = 0; i < b->graph->n_values; i++)
      mace_tensor_clear (&b->host[i]);
  g_free (b->host);
  g_free (b->host_fresh);
  g_free (b->source);
  g_free (b->cur_inputs);
  g_free (b->input_frame);
  mace_cl_preprocess_free (b->pre);
  mace_cl_device_free (b->dev);
  g_free (b);
}

/* A node planned as one whole copy of its input into its output
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout...) needs no
 * launch: the output shares the input's buffer.  Safe because every
 * value has a buffer of its own that only its producer writes, and the
 * output's buffer is new (its producer is being planned; its consumers
 * come later). */
static void
alias_copy (MaceBackend *b, MaceNode *n, NodePlan *p)
{
  if (p->launches->len != 1 || n->n_in < 1 || n->n_out < 1 || n->in[0] < 0
      || n->out[0] < 0)
    return;
  for (int k = 1; k < n->n_out; k++)
    if (n->out[k] >= 0)
      return;
  MaceClLaunch *l = &g_array_index (p->launches, MaceClLaunch, 0);
  int vi = n->in[0], vo = n->out[0];
  size_t bytes = value_bytes (&b->graph->values[vo]);
  if (l->kernel || !b->mem[vi] || !b->mem[vo] || l->src != b->mem[vi]
      || l->dst != b->mem[vo] || l->src_off || l->dst_off || !bytes
      || l->bytes != bytes || value_bytes (&b->graph->values[vi]) != bytes)
    return;
  clRetainMemObject (b->mem[vi]);
  clReleaseMemObject (b->mem[vo]);
  b->mem[vo] = b->mem[vi];
  g_free (l->name);
  g_array_set_size (p->launches, 0);
}

/* ---- Layout folds ----
 * Launches cost the most on a GPU for small models (about 10 us each on
 * the H100 whatever the kernel does), so a convolution takes over
 *  - a Transpose NHWC->NCHW of its input when the input has at most 4
 *    channels (an image: the NHWC read costs nothing there),
 *  - a Transpose NCHW->NHWC of its output (detection heads),
 *  - a k x k, stride k MaxPool (no pads) feeding its fused residual
 *    (the shortcut of strided blocks),
 * each only when the folded value has no other reader and is not a graph
 * output (and the input Transpose only for outputs under 2^20 elements,
 * which do not take the register-blocked kernels).  MACE_CL_FOLD=0 turns this
 * off (for comparisons). */

static bool
perm_is (const MaceNode *n, const int64_t *want)
{
  int cnt = 0;
  const int64_t *perm = mace_attr_ints (n, "perm", &cnt);
  if (!perm || cnt != 4)
    return false;
  for (int i = 0; i < 4; i++)
    if (perm[i] != want[i])
      return false;
  return true;
}

static bool
is_conv_like (const MaceGraph *g, const MaceNode *n)
{
  if (n->dead || !default_domain (n)
      || (strcmp (n->op_type, "Conv") != 0
          && strcmp (n->op_type, "MaceDwPwConv") != 0)
      || n->n_in < 2 || n->n_out < 1 || n->in[0] < 0 || n->out[0] < 0)
    return false;
  const MaceValue *x = &g->values[n->in[0]], *y = &g->values[n->out[0]];
  return x->t.ndim == 4 && y->t.ndim == 4 && x->t.dtype == MACE_DTYPE_FLOAT32
         && y->t.dtype == MACE_DTYPE_FLOAT32;
}

/* A value made by a node and read by exactly one input slot, not a graph
 * output (n_consumers from mace_graph_link counts those too). */
static bool
single_use (const MaceGraph *g, int vi)
{
  const MaceValue *v = &g->values[vi];
  return v->producer >= 0 && v->n_consumers == 1 && !v->is_input
         && !v->is_const;
}

/* A k x k, stride k MaxPool without pads, dilation or indices (k, else
 * 0). */
static int
plain_max_pool (const MaceGraph *g, const MaceNode *t)
{
  if (strcmp (t->op_type, "MaxPool") != 0 || (t->n_out > 1 && t->out[1] >= 0))
    return 0;
  const MaceValue *x = &g->values[t->in[0]], *y = &g->values[t->out[0]];
  int nk = 0, ns = 0, np = 0, nd = 0;
  const int64_t *k = mace_attr_ints (t, "kernel_shape", &nk);
  const int64_t *st = mace_attr_ints (t, "strides", &ns);
  const int64_t *pads = mace_attr_ints (t, "pads", &np);
  const int64_t *dil = mace_attr_ints (t, "dilations", &nd);
  const char *ap = mace_attr_string (t, "auto_pad", "NOTSET");
  bool ok = x->t.ndim == 4 && y->t.ndim == 4 && k && nk == 2 && st && ns == 2
            && k[0] == k[1] && st[0] == k[0] && st[1] == k[0] && k[0] >= 1
            && k[0] <= 8 && mace_attr_int (t, "ceil_mode", 0) == 0
            && mace_attr_int (t, "storage_order", 0) == 0
            && (strcmp (ap, "NOTSET") == 0 || strcmp (ap, "VALID") == 0)
            && y->t.dims[2] == x->t.dims[2] / k[0]
            && y->t.dims[3] == x->t.dims[3] / k[0];
  for (int d = 0; ok && pads && d < np; d++)
    ok = pads[d] == 0;
  for (int d = 0; ok && dil && d < nd; d++)
    ok = dil[d] == 1;
  return ok ? (int)k[0] : 0;
}

/* The live float32 node producing value vi when its op is `op` and its
 * value is used once, else NULL. */
static const MaceNode *
single_use_producer (const MaceGraph *g, int vi, const char *op)
{
  if (vi < 0 || !single_use (g, vi))
    return NULL;
  const MaceNode *t = &g->nodes[g->values[vi].producer];
  return default_domain (t) && strcmp (t->op_type, op) == 0 && t->n_in >= 1
                 && t->in[0] >= 0
                 && g->values[t->in[0]].t.dtype == MACE_DTYPE_FLOAT32
             ? t
             : NULL;
}

static void
choose_folds (MaceBackend *b)
{
  MaceGraph *g = b->graph;
  for (int i = 0; i < g->n_nodes; i++) {
    b->plans[i].x_nhwc = b->plans[i].res_pool = -1;
    b->plans[i].folded_into = -1;
  }
  const char *e = g_getenv ("MACE_CL_FOLD");
  if (e && strcmp (e, "0") == 0)
    return;
  mace_graph_link (g);
  static const int64_t to_nchw[4] = { 0, 3, 1, 2 }, to_nhwc[4] = { 0, 2, 3, 1 };
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *c = &g->nodes[i];
    if (!is_conv_like (g, c))
      continue;
    /* Its input from a Transpose to NCHW. */
    const MaceNode *t = single_use_producer (g, c->in[0], "Transpose");
    const MaceValue *x = &g->values[c->in[0]], *y = &g->values[c->out[0]];
    /* Large outputs keep the register-blocked kernels (NCHW only):
     * there the Transpose costs less than the simple kernel would. */
    if (t && perm_is (t, to_nchw) && x->t.dims[1] <= 4
        && mace_shape_numel (y->t.ndim, y->t.dims) < ((int64_t)1 << 20)) {
      b->plans[i].x_nhwc = t->in[0];
      b->plans[t - g->nodes].folded_into = i;
    }
    /* Its residual from a MaxPool. */
    t = c->fused_add >= 1
            ? single_use_producer (g, c->in[c->fused_add], "MaxPool")
            : NULL;
    int k = t ? plain_max_pool (g, t) : 0;
    if (k) {
      b->plans[i].res_pool = t->in[0];
      b->plans[i].res_pool_k = k;
      b->plans[t - g->nodes].folded_into = i;
    }
  }
  /* Transposes to NHWC of a convolution's output. */
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *t = &g->nodes[i];
    if (t->dead || !default_domain (t) || strcmp (t->op_type, "Transpose") != 0
        || !perm_is (t, to_nhwc) || t->n_in < 1 || t->in[0] < 0 || t->out[0] < 0
        || !single_use (g, t->in[0]))
      continue;
    int pi = g->values[t->in[0]].producer;
    if (!is_conv_like (g, &g->nodes[pi]) || g->nodes[pi].out[0] != t->in[0])
      continue;
    b->plans[pi].y_nhwc = true;
    b->plans[i].folded_into = pi;
  }
}

/* Plans a node another one has taken over (choose_folds): an input
 * Transpose or a MaxPool needs nothing (its reader reads its input); an
 * output Transpose shares the buffer its producer wrote as NHWC, unless
 * the producer did not honour the fold, when it is planned as usual
 * (returns false). */
static bool
plan_folded (MaceBackend *b, MaceNode *n, NodePlan *p)
{
  NodePlan *into = &b->plans[p->folded_into];
  MaceGraph *g = b->graph;
  if (into->y_nhwc && g->nodes[p->folded_into].out[0] == n->in[0]) {
    if (!into->folds_done || into->on_cpu || !b->mem[n->in[0]])
      return false;
    b->mem[n->out[0]] = b->mem[n->in[0]];
    clRetainMemObject (b->mem[n->out[0]]);
  }
  p->launches = g_array_new (FALSE, TRUE, sizeof (MaceClLaunch));
  p->params = g_ptr_array_new ();
  return true;
}

static MaceStatus
cl_prepare (MaceBackend **out, MaceGraph *g, const MaceConfig *config,
            MaceThreadPool *pool, MaceError *err)
{
  *out = NULL;
  for (int i = 0; i < g->n_values; i++) {
    MaceValue *v = &g->values[i];
    if (v->dynamic) {
      mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                      "%s: value '%s' has a shape known only at run time; "
                      "the OpenCL backend needs static shapes (fix input "
                      "shapes or make shape inputs constant)",
                      g->path, v->name);
      return MACE_ERROR_UNSUPPORTED;
    }
  }
  MaceBackend *b = g_new0 (MaceBackend, 1);
  b->graph = g;
  b->pool = pool;
  MaceStatus st
      = mace_cl_device_open (config ? config->cl_device : NULL, &b->dev, err);
  if (st != MACE_OK) {
    g_free (b);
    return st;
  }
  if (b->dev->profile)
    b->prof_events = g_array_new (FALSE, FALSE, sizeof (ProfEvent));
  mace_cl_device_open_program_cache (
      b->dev, config ? config->program_cache : NULL,
      config ? config->program_cache_mode : NULL,
      config ? config->program_cache_base : NULL);
  b->tuner = mace_cl_tuner_new (b->dev, config ? config->tuning_cache : NULL,
                                config ? config->tune : 0);
  b->mem = g_new0 (cl_mem, g->n_values);
  b->source = g_new0 (ValueSource, g->n_values);
  b->host = g_new0 (MaceTensor, g->n_values);
  b->host_fresh = g_new0 (bool, g->n_values);
  b->cur_inputs = g_new0 (MaceTensor *, g->n_values);
  b->plans = g_new0 (NodePlan, g->n_nodes);
  for (int i = 0; i < g->n_values; i++) {
    if (g->values[i].is_const)
      b->source[i] = SRC_CONST;
  }
  for (int i = 0; i < g->n_inputs; i++)
    b->source[g->inputs[i]] = SRC_INPUT;

  bool allow = config ? config->allow_fallback != 0 : true;
  GString *refused = g_string_new ("");
  int n_refused = 0;
  choose_folds (b);
  for (int i = 0; i < g->n_nodes && st == MACE_OK; i++) {
    MaceNode *n = &g->nodes[i];
    NodePlan *p = &b->plans[i];
    if (n->dead)
      continue;
    if (p->folded_into >= 0 && plan_folded (b, n, p)) {
      for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
          b->source[n->out[k]] = SRC_CL;
      continue;
    }
    char why[300] = "";
    const MaceClOp *op
        = default_domain (n) ? mace_cl_op_lookup (n->op_type) : NULL;
    if (!op) {
      snprintf (why, sizeof why, "no OpenCL kernel for %s", n->op_type);
    } else if (op->typed || check_types (b, n, why, sizeof why)) {
      p->launches = g_array_new (FALSE, TRUE, sizeof (MaceClLaunch));
      p->params = g_ptr_array_new ();
      MaceClOpCtx ctx;
      memset (&ctx, 0, sizeof ctx);
      ctx.dev = b->dev;
      ctx.graph = g;
      ctx.node = n;
      ctx.opset = g->opset;
      ctx.err = err;
      ctx.backend = b;
      ctx.plan = p;
      ctx.x_nhwc = p->x_nhwc;
      ctx.y_nhwc = p->y_nhwc;
      ctx.res_pool = p->res_pool;
      ctx.res_pool_k = p->res_pool_k;
      MaceStatus ps = op->plan (&ctx);
      p->folds_done = ps == MACE_OK && ctx.folds_done;
      if ((p->x_nhwc >= 0 || p->res_pool >= 0) && !p->folds_done
          && ps != MACE_ERROR_BACKEND && ps != MACE_ERROR_OUT_OF_MEMORY) {
        /* The folded Transpose / MaxPool made nothing for it to read. */
        mace_set_error (err, MACE_ERROR_INTERNAL,
                        "%s: node '%s' (%s) did not take over the layout "
                        "change chosen for it: %s (MACE_CL_FOLD=0 avoids "
                        "this)",
                        g->path, n->name, n->op_type,
                        ctx.why[0] ? ctx.why : "not supported");
        ps = MACE_ERROR_INTERNAL;
      }
      if (ps == MACE_OK) {
        for (guint k = 0; k < p->launches->len; k++) {
          MaceClLaunch *l = &g_array_index (p->launches, MaceClLaunch, k);
          if (l->arg_rc != CL_SUCCESS) {
            mace_set_error (err, MACE_ERROR_BACKEND,
                            "%s: node '%s' (%s): setting the arguments of "
                            "kernel '%s' failed: %s",
                            g->path, n->name, n->op_type, l->name,
                            mace_cl_error_string (l->arg_rc));
            ps = MACE_ERROR_BACKEND;
            break;
          }
        }
      }
      if (ps == MACE_OK)
        alias_copy (b, n, p);
      if (ps == MACE_ERROR_UNSUPPORTED) {
        g_strlcpy (why, ctx.why[0] ? ctx.why : "not supported", sizeof why);
        plan_clear (p);
      } else if (ps != MACE_OK) {
        st = ps;
        break;
      }
    }
    if (why[0]) {
      p->on_cpu = true;
      b->nodes_on_cpu++;
      g_string_append_printf (refused, "%snode '%s' (%s): %s",
                              n_refused ? "; " : "", n->name, n->op_type, why);
      n_refused++;
      for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
          b->source[n->out[k]] = SRC_CPU;
      if (allow)
        mace_log (MACE_LOG_INFO, "OpenCL: node '%s' (%s) runs on the CPU: %s",
                  n->name, n->op_type, why);
    } else {
      for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
          b->source[n->out[k]] = SRC_CL;
    }
  }
  if (st == MACE_OK && n_refused && !allow) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: %d node%s cannot run on OpenCL device '%s' and CPU "
                    "fallback is off: %s",
                    g->path, n_refused, n_refused > 1 ? "s" : "", b->dev->name,
                    refused->str);
    st = MACE_ERROR_UNSUPPORTED;
  }
  g_string_free (refused, TRUE);
  for (int i = 0; i < g->n_nodes && st == MACE_OK; i++)
    if (!g->nodes[i].dead && b->plans[i].on_cpu)
      st = cpu_prepare (b, &g->nodes[i], err);
  /* Graph outputs made by the device need a buffer even when nothing
   * else reads them; so do values a fallback node makes for the device. */
  for (int i = 0; i < g->n_nodes && st == MACE_OK; i++) {
    NodePlan *p = &b->plans[i];
    if (g->nodes[i].dead || p->on_cpu || !p->launches)
      continue;
    for (guint k = 0; k < p->launches->len; k++)
      mace_cl_tuner_choose (b->tuner,
                            &g_array_index (p->launches, MaceClLaunch, k));
  }
  if (st == MACE_OK) {
    mace_cl_tuner_flush (b->tuner);
    /* The program cache is written after the first run (warm-up), when
     * drivers that finish compiling at the first launch have done so. */
    for (int i = 0; i < g->n_nodes; i++)
      if (b->plans[i].launches)
        b->n_launches += (int64_t)b->plans[i].launches->len;
    mace_log (MACE_LOG_DEBUG,
              "OpenCL: %d nodes planned, %lld on the CPU, %lld launches per "
              "run",
              g->n_nodes, (long long)b->nodes_on_cpu, (long long)b->n_launches);
    *out = b;
  } else {
    cl_free (b);
  }
  return st;
}

static MaceStatus
enqueue (MaceBackend *b, MaceNode *n, MaceClLaunch *l, MaceError *err)
{
  cl_int rc;
  cl_event ev = NULL, *evp = b->prof_events ? &ev : NULL;
  if (!l->kernel) {
    if (l->bytes == 0)
      return MACE_OK;
    rc = clEnqueueCopyBuffer (b->dev->queue, l->src, l->dst, l->src_off,
                              l->dst_off, l->bytes, 0, NULL, evp);
  } else {
    for (cl_uint d = 0; d < l->dim; d++)
      if (l->gws[d] == 0)
        return MACE_OK;
    rc = clEnqueueNDRangeKernel (b->dev->queue, l->kernel, l->dim, NULL, l->gws,
                                 l->lws[0] ? l->lws : NULL, 0, NULL, evp);
  }
  if (ev) {
    ProfEvent pe = { l, ev };
    g_array_append_val (b->prof_events, pe);
  }
  if (rc != CL_SUCCESS) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "%s: node '%s' (%s): enqueueing '%s' failed: %s",
                    b->graph->path, n->name, n->op_type, l->name,
                    mace_cl_error_string (rc));
    return MACE_ERROR_BACKEND;
  }
  return MACE_OK;
}

/* blocking false: dst is filled by the time the queue is finished. */
static MaceStatus
read_value_async (MaceBackend *b, int vi, void *dst, bool blocking,
                  MaceError *err)
{
  size_t bytes = value_bytes (&b->graph->values[vi]);
  if (!bytes)
    return MACE_OK;
  cl_int rc = clEnqueueReadBuffer (b->dev->queue, b->mem[vi],
                                   blocking ? CL_TRUE : CL_FALSE, 0, bytes, dst,
                                   0, NULL, NULL);
  if (rc != CL_SUCCESS) {
    mace_set_error (
        err, MACE_ERROR_BACKEND, "%s: reading '%s' from the device failed: %s",
        b->graph->path, b->graph->values[vi].name, mace_cl_error_string (rc));
    return MACE_ERROR_BACKEND;
  }
  return MACE_OK;
}

static MaceStatus
read_value (MaceBackend *b, int vi, void *dst, MaceError *err)
{
  return read_value_async (b, vi, dst, true, err);
}

/* blocking false: src must stay as it is until the queue is finished. */
static MaceStatus
write_value_async (MaceBackend *b, int vi, const void *src, bool blocking,
                   MaceError *err)
{
  size_t bytes = value_bytes (&b->graph->values[vi]);
  if (!bytes)
    return MACE_OK;
  cl_int rc = clEnqueueWriteBuffer (b->dev->queue, b->mem[vi],
                                    blocking ? CL_TRUE : CL_FALSE, 0, bytes,
                                    src, 0, NULL, NULL);
  if (rc != CL_SUCCESS) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "%s: writing '%s' to the device failed: %s", b->graph->path,
                    b->graph->values[vi].name, mace_cl_error_string (rc));
    return MACE_ERROR_BACKEND;
  }
  return MACE_OK;
}

static MaceStatus
write_value (MaceBackend *b, int vi, const void *src, MaceError *err)
{
  /* Blocking: the host copy may change before the queue runs. */
  return write_value_async (b, vi, src, true, err);
}

/* The host tensor of value vi for a fallback node (downloaded if the
 * device made it). */
static MaceTensor *
host_value (MaceBackend *b, int vi, MaceError *err)
{
  MaceValue *v = &b->graph->values[vi];
  switch (b->source[vi]) {
    case SRC_CONST: return &v->t;
    case SRC_INPUT: return b->cur_inputs[vi];
    case SRC_CPU: return &b->host[vi];
    case SRC_CL:
      if (!b->host_fresh[vi]) {
        MaceTensor *h = &b->host[vi];
        mace_tensor_init (h, v->t.dtype, v->t.ndim, v->t.dims);
        if (mace_tensor_alloc (h) != MACE_OK) {
          mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY,
                          "out of memory for '%s'", v->name);
          return NULL;
        }
        if (read_value (b, vi, h->data, err) != MACE_OK)
          return NULL;
        b->host_fresh[vi] = true;
      }
      return &b->host[vi];
    default:
      mace_set_error (err, MACE_ERROR_INTERNAL, "value '%s' has no producer",
                      v->name);
      return NULL;
  }
}

static MaceStatus
run_cpu_node (MaceBackend *b, MaceNode *n, MaceError *err)
{
  MaceTensor *inb[16], *outb[16];
  MaceTensor **in = n->n_in <= 16 ? inb : g_new0 (MaceTensor *, n->n_in);
  MaceTensor **out = n->n_out <= 16 ? outb : g_new0 (MaceTensor *, n->n_out);
  MaceStatus st = MACE_OK;
  for (int k = 0; k < n->n_in && st == MACE_OK; k++) {
    in[k] = NULL;
    if (n->in[k] >= 0 && !(in[k] = host_value (b, n->in[k], err)))
      st = err ? err->status : MACE_ERROR_BACKEND;
  }
  for (int k = 0; k < n->n_out && st == MACE_OK; k++) {
    out[k] = NULL;
    if (n->out[k] < 0)
      continue;
    MaceValue *v = &b->graph->values[n->out[k]];
    out[k] = &b->host[n->out[k]];
    mace_tensor_init (out[k], v->t.dtype, v->t.ndim, v->t.dims);
    if (mace_tensor_alloc (out[k]) != MACE_OK) {
      mace_set_error (err, MACE_ERROR_OUT_OF_MEMORY, "out of memory for '%s'",
                      v->name);
      st = MACE_ERROR_OUT_OF_MEMORY;
    }
  }
  if (st == MACE_OK) {
    MaceOpCtx ctx = { .node = n,
                      .graph = b->graph,
                      .opset = b->graph->opset,
                      .n_in = n->n_in,
                      .n_out = n->n_out,
                      .in = in,
                      .out = out,
                      .pool = b->pool,
                      .err = err };
    st = n->def->run (&ctx);
  }
  for (int k = 0; k < n->n_out && st == MACE_OK; k++)
    if (n->out[k] >= 0 && b->mem[n->out[k]])
      st = write_value (b, n->out[k], out[k]->data, err);
  if (in != inb)
    g_free (in);
  if (out != outb)
    g_free (out);
  return st;
}

/* MACE_CL_PROFILE: adds the finished run's kernel times to the launches'
 * totals. */
static void
prof_collect (MaceBackend *b, gint64 host_t0, gint64 host_t1)
{
  cl_ulong first = 0, last = 0;
  for (guint i = 0; i < b->prof_events->len; i++) {
    ProfEvent *pe = &g_array_index (b->prof_events, ProfEvent, i);
    cl_ulong t0 = 0, t1 = 0;
    if (clGetEventProfilingInfo (pe->event, CL_PROFILING_COMMAND_START,
                                 sizeof t0, &t0, NULL)
            == CL_SUCCESS
        && clGetEventProfilingInfo (pe->event, CL_PROFILING_COMMAND_END,
                                    sizeof t1, &t1, NULL)
               == CL_SUCCESS
        && t1 >= t0) {
      pe->launch->prof_ns += (double)(t1 - t0);
      pe->launch->prof_n++;
      b->prof_kernel_ns += (double)(t1 - t0);
      if (!first || t0 < first)
        first = t0;
      if (t1 > last)
        last = t1;
    }
    clReleaseEvent (pe->event);
  }
  g_array_set_size (b->prof_events, 0);
  b->prof_span_ns += (double)(last - first);
  b->prof_host_us += (double)(host_t1 - host_t0);
  b->prof_runs++;
}

/* MACE_CL_PROFILE: the per-launch table, printed to stderr when the backend is
 * freed. */
static void
prof_report (MaceBackend *b)
{
  if (!b->prof_runs || !b->plans)
    return;
  GString *s = g_string_new ("");
  double runs = (double)b->prof_runs;
  int n = 0;
  g_string_append_printf (
      s,
      "OpenCL profile over %lld runs: per run %.1f us host (enqueue to "
      "finish), %.1f us device span (first kernel start to last end), "
      "%.1f us in kernels\n",
      (long long)b->prof_runs, b->prof_host_us / runs,
      b->prof_span_ns / runs / 1000.0, b->prof_kernel_ns / runs / 1000.0);
  g_string_append (s, "  #  node  kernel  gws  lws  mean_us\n");
  for (int i = 0; i < b->graph->n_nodes; i++) {
    NodePlan *p = &b->plans[i];
    if (!p->launches)
      continue;
    for (guint k = 0; k < p->launches->len; k++) {
      MaceClLaunch *l = &g_array_index (p->launches, MaceClLaunch, k);
      if (!l->prof_n)
        continue;
      g_string_append_printf (
          s, "  %d  %s  %s  %zux%zux%zu  %zux%zux%zu  %.2f\n", n++,
          b->graph->nodes[i].name, l->name, l->gws[0],
          l->dim > 1 ? l->gws[1] : 1, l->dim > 2 ? l->gws[2] : 1, l->lws[0],
          l->lws[1], l->lws[2], l->prof_ns / (double)l->prof_n / 1000.0);
    }
  }
  /* Asked for explicitly, so printed whatever the log level. */
  fputs (s->str, stderr);
  g_string_free (s, TRUE);
}

/* Enqueues a run: input uploads, every launch (fallback nodes run here,
 * on the host), output downloads.  The inputs' host memory is read until
 * the run finishes (the engine gives a run set up while another is in
 * flight other host tensors).  fence set: *fence is an event that
 * completes after the downloads, and the queue is flushed so that the
 * device starts now. */
static MaceStatus
cl_enqueue_run (MaceBackend *b, MaceTensor **inputs, MaceTensor **outputs,
                void **fence, MaceError *err)
{
  b->prof_t0 = b->prof_events ? g_get_monotonic_time () : 0;
  MaceGraph *g = b->graph;
  MaceStatus st = MACE_OK;
  memset (b->host_fresh, 0, sizeof (bool) * (size_t)g->n_values);
  for (int i = 0; i < g->n_inputs && st == MACE_OK; i++) {
    int vi = g->inputs[i];
    MaceValue *v = &g->values[vi];
    if (inputs[i]->dtype != v->t.dtype
        || !mace_shape_equal (inputs[i]->ndim, inputs[i]->dims, v->t.ndim,
                              v->t.dims)) {
      char a[128], c[128];
      mace_set_error (
          err, MACE_ERROR_INVALID_ARG,
          "%s: input '%s' is %s %s, the prepared graph expects "
          "%s %s",
          g->path, v->name, mace_dtype_name (inputs[i]->dtype),
          mace_shape_str (inputs[i]->ndim, inputs[i]->dims, a, sizeof a),
          mace_dtype_name (v->t.dtype),
          mace_shape_str (v->t.ndim, v->t.dims, c, sizeof c));
      return MACE_ERROR_INVALID_ARG;
    }
    b->cur_inputs[vi] = inputs[i];
    if (b->input_frame && b->input_frame[i]) {
      b->input_frame[i] = false; /* already on the device */
    } else if (b->mem[vi]) {
      st = write_value_async (b, vi, inputs[i]->data, false, err);
    }
  }
  for (int i = 0; i < g->n_nodes && st == MACE_OK; i++) {
    MaceNode *n = &g->nodes[i];
    NodePlan *p = &b->plans[i];
    if (n->dead)
      continue;
    if (p->on_cpu) {
      st = run_cpu_node (b, n, err);
      continue;
    }
    for (guint k = 0; k < p->launches->len && st == MACE_OK; k++)
      st = enqueue (b, n, &g_array_index (p->launches, MaceClLaunch, k), err);
  }
  for (int i = 0; i < g->n_outputs && st == MACE_OK; i++) {
    int vi = g->outputs[i];
    MaceValue *v = &g->values[vi];
    size_t bytes = value_bytes (v);
    if (!bytes)
      continue;
    if (mace_tensor_nbytes (outputs[i]) < bytes || !outputs[i]->data) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "%s: output '%s' buffer too small", g->path, v->name);
      st = MACE_ERROR_INVALID_ARG;
      break;
    }
    if (b->source[vi] == SRC_CL) {
      /* Done when the queue is (cl_run's clFinish, or the fence). */
      st = read_value_async (b, vi, outputs[i]->data, false, err);
    } else {
      MaceTensor *h = host_value (b, vi, err);
      if (!h)
        st = err ? err->status : MACE_ERROR_INTERNAL;
      else
        memcpy (outputs[i]->data, h->data, bytes);
    }
  }
  if (fence) {
    cl_event marker = NULL;
    cl_int rc = CL_SUCCESS;
    if (st == MACE_OK)
      rc = clEnqueueMarkerWithWaitList (b->dev->queue, 0, NULL, &marker);
    cl_int frc = clFlush (b->dev->queue);
    if (rc == CL_SUCCESS)
      rc = frc;
    if (st == MACE_OK && rc != CL_SUCCESS) {
      mace_set_error (err, MACE_ERROR_BACKEND,
                      "%s: starting the run failed: %s", g->path,
                      mace_cl_error_string (rc));
      st = MACE_ERROR_BACKEND;
    }
    if (st != MACE_OK && marker) {
      clReleaseEvent (marker);
      marker = NULL;
    }
    *fence = marker;
  }
  return st;
}

/* Waits for the run in the queue and completes it. */
static MaceStatus
cl_finish (MaceBackend *b, MaceError *err)
{
  cl_int rc = clFinish (b->dev->queue);
  if (b->prof_events)
    prof_collect (b, b->prof_t0, g_get_monotonic_time ());
  if (rc != CL_SUCCESS) {
    mace_set_error (err, MACE_ERROR_BACKEND, "%s: OpenCL queue failed: %s",
                    b->graph->path, mace_cl_error_string (rc));
    return MACE_ERROR_BACKEND;
  }
  if (!b->warmed_up) {
    b->warmed_up = true;
    mace_cl_device_flush_program_cache (b->dev);
  }
  return MACE_OK;
}

static MaceStatus
cl_run (MaceBackend *b, MaceTensor **inputs, MaceTensor **outputs,
        MaceError *err)
{
  MaceStatus st = cl_enqueue_run (b, inputs, outputs, NULL, err);
  if (st != MACE_OK) {
    /* Nothing enqueued may still use the buffers afterwards. */
    clFinish (b->dev->queue);
    return st;
  }
  return cl_finish (b, err);
}

static MaceStatus
cl_submit (MaceBackend *b, MaceTensor **inputs, MaceTensor **outputs,
           void **fence, MaceError *err)
{
  *fence = NULL;
  return cl_enqueue_run (b, inputs, outputs, fence, err);
}

/* A run seen done by its fence: the program cache is written after the
 * first (the binaries exist then); profiling finishes the queue and
 * collects. */
static MaceStatus
cl_retire (MaceBackend *b, MaceError *err)
{
  if (b->warmed_up && !b->prof_events)
    return MACE_OK;
  return cl_finish (b, err);
}

static void *
cl_fence_ref (void *fence)
{
  clRetainEvent ((cl_event)fence);
  return fence;
}

static MaceStatus
cl_fence_wait (void *fence)
{
  cl_event ev = fence;
  return clWaitForEvents (1, &ev) == CL_SUCCESS ? MACE_OK : MACE_ERROR_BACKEND;
}

static void
cl_fence_free (void *fence)
{
  if (fence)
    clReleaseEvent ((cl_event)fence);
}

static void
cl_get_stats (MaceBackend *b, MaceCacheStats *stats)
{
  mace_cl_device_get_stats (b->dev, stats);
  stats->nodes_on_cpu = b->nodes_on_cpu;
  stats->launches_per_run = b->n_launches;
}

/* ---- Frames ---- */

static MaceStatus
cl_set_input_frame (MaceBackend *b, int index, const MaceFrame *frame,
                    const MaceFramePlan *plan, MaceTensor *host,
                    MaceFrameStats *stats, MaceError *err)
{
  MaceGraph *g = b->graph;
  int vi = g->inputs[index];
  cl_mem dst = value_mem (b, vi, err);
  if (!dst)
    return err ? err->status : MACE_ERROR_BACKEND;
  if (!b->pre)
    b->pre = mace_cl_preprocess_new (b->dev);
  if (!b->input_frame)
    b->input_frame = g_new0 (bool, g->n_inputs + 1);
  /* A discrete device with a host frame much larger than the model's input
   * (a 1080p frame for a 128x128 detector): sampling on the CPU and
   * uploading the small input beats sending the whole frame over the bus.
   * The frame itself is not copied; the input goes up like any input. */
  size_t frame_bytes = 0;
  bool host_frame = true;
  for (int p = 0; p < mace_frame_n_planes (frame->format); p++) {
    frame_bytes += mace_frame_plane_bytes (frame, p);
    if (frame->cl_mem[p])
      host_frame = false;
  }
  if (host_frame && !mace_cl_preprocess_host_unified (b->pre)
      && frame_bytes > 2 * mace_tensor_nbytes (host)) {
    mace_frame_preprocess_cpu (frame, plan, host->data, b->pool);
    b->input_frame[index] = false;
    stats->last_zero_copy = 1;
    return MACE_OK;
  }
  MaceStatus st = mace_cl_preprocess_run (b->pre, frame, plan, dst, stats, err);
  if (st != MACE_OK)
    return st;
  b->input_frame[index] = true;
  /* A CPU fallback node reading the input needs it on the host too. */
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead || !b->plans[i].on_cpu)
      continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == vi) {
        st = read_value (b, vi, host->data, err);
        if (st == MACE_OK) {
          stats->copies++;
          stats->bytes_copied += (int64_t)value_bytes (&g->values[vi]);
          stats->last_zero_copy = 0;
        }
        return st;
      }
  }
  return MACE_OK;
}

static void
cl_forget_input_frame (MaceBackend *b, int index)
{
  if (b->input_frame)
    b->input_frame[index] = false;
}

static MaceStatus
cl_get_cl_handles (MaceBackend *b, void **context, void **device, void **queue)
{
  if (context)
    *context = b->dev->context;
  if (device)
    *device = b->dev->device;
  if (queue)
    *queue = b->dev->queue;
  return MACE_OK;
}

const MaceBackendVtbl mace_cl_backend = {
  .name = "opencl",
  .prepare = cl_prepare,
  .run = cl_run,
  .submit = cl_submit,
  .retire = cl_retire,
  .finish = cl_finish,
  .fence_wait = cl_fence_wait,
  .fence_ref = cl_fence_ref,
  .fence_free = cl_fence_free,
  .get_stats = cl_get_stats,
  .free = cl_free,
  .set_input_frame = cl_set_input_frame,
  .forget_input_frame = cl_forget_input_frame,
  .get_cl_handles = cl_get_cl_handles,
};
