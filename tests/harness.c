/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

static uint64_t seed, state;
static int failures;

void
th_init (int argc, char **argv)
{
  (void)argc;
  (void)argv;
  const char *s = getenv ("MACE_TEST_SEED");
  seed = s ? strtoull (s, NULL, 0) : (uint64_t)time (NULL);
  state = seed * 0x9E3779B97F4A7C15ull + 1;
  printf ("seed %llu (set MACE_TEST_SEED to repeat)\n",
          (unsigned long long)seed);
}

uint64_t
th_seed (void)
{
  return seed;
}

uint32_t
th_rand_u32 (void)
{
  /* xorshift64* */
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return (uint32_t)((state * 2685821657736338717ull) >> 32);
}

float
th_uniform (float lo, float hi)
{
  return lo + (hi - lo) * (float)(th_rand_u32 () >> 8) * (1.0f / 16777216.0f);
}

void
th_fill_uniform (MaceTensor *t, float lo, float hi)
{
  int64_t n = mace_tensor_numel (t);
  for (int64_t i = 0; i < n; i++) {
    double v = th_uniform (lo, hi);
    switch (t->dtype) {
      case MACE_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
      case MACE_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
      case MACE_DTYPE_INT32:
        ((int32_t *)t->data)[i] = (int32_t)floor (v);
        break;
      case MACE_DTYPE_INT64:
        ((int64_t *)t->data)[i] = (int64_t)floor (v);
        break;
      case MACE_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
      case MACE_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)floor (v); break;
      case MACE_DTYPE_BOOL: ((uint8_t *)t->data)[i] = v > (lo + hi) / 2; break;
      default: break;
    }
  }
}

void
th_fail (const char *test, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "FAIL %s (seed %llu): ", test, (unsigned long long)seed);
  vfprintf (stderr, fmt, ap);
  fprintf (stderr, "\n");
  va_end (ap);
  failures++;
}

int
th_finish (void)
{
  if (failures) {
    fprintf (stderr, "%d failure(s); rerun with MACE_TEST_SEED=%llu\n",
             failures, (unsigned long long)seed);
    return 1;
  }
  printf ("all checks passed\n");
  return 0;
}

ThNode *
th_node_new (const char *op_type, int n_in, int n_out)
{
  ThNode *n = g_new0 (ThNode, 1);
  n->graph = mace_graph_new ("test");
  n->node.name = g_strdup_printf ("test_%s", op_type);
  n->node.op_type = g_strdup (op_type);
  n->node.domain = g_strdup ("");
  n->node.n_in = n_in;
  n->node.n_out = n_out;
  n->node.in = g_new0 (int, n_in > 0 ? n_in : 1);
  n->node.out = g_new0 (int, n_out);
  n->node.fused_add = -1;
  return n;
}

void
th_node_free (ThNode *n)
{
  if (!n)
    return;
  /* Hand the node to the graph so one free path releases it. */
  MaceNode *slot = mace_graph_add_node (n->graph);
  *slot = n->node;
  mace_graph_free (n->graph);
  g_free (n);
}

static MaceAttr *
add_attr (ThNode *n, const char *name, MaceAttrType type)
{
  n->node.attrs = g_renew (MaceAttr, n->node.attrs, n->node.n_attr + 1);
  MaceAttr *a = &n->node.attrs[n->node.n_attr++];
  memset (a, 0, sizeof *a);
  a->name = g_strdup (name);
  a->type = type;
  return a;
}

void
th_attr_int (ThNode *n, const char *name, int64_t v)
{
  add_attr (n, name, MACE_ATTR_INT)->i = v;
}

void
th_attr_float (ThNode *n, const char *name, float v)
{
  add_attr (n, name, MACE_ATTR_FLOAT)->f = v;
}

void
th_attr_string (ThNode *n, const char *name, const char *v)
{
  add_attr (n, name, MACE_ATTR_STRING)->s = g_strdup (v);
}

void
th_attr_ints (ThNode *n, const char *name, int count, const int64_t *v)
{
  MaceAttr *a = add_attr (n, name, MACE_ATTR_INTS);
  a->n = count;
  a->ints = g_memdup2 (v, sizeof (int64_t) * (size_t)(count ? count : 1));
}

void
th_attr_floats (ThNode *n, const char *name, int count, const float *v)
{
  MaceAttr *a = add_attr (n, name, MACE_ATTR_FLOATS);
  a->n = count;
  a->floats = g_memdup2 (v, sizeof (float) * (size_t)(count ? count : 1));
}

MaceStatus
th_run_op (ThNode *n, int64_t opset, MaceTensor **inputs, MaceTensor **outputs,
           int threads)
{
  MaceError err = { 0 };
  const MaceOpDef *def = mace_op_lookup (n->node.op_type);
  if (!def) {
    fprintf (stderr, "op %s is not registered\n", n->node.op_type);
    return MACE_ERROR_UNSUPPORTED;
  }
  n->node.def = def;
  for (int i = 0; i < n->node.n_in; i++)
    n->node.in[i] = inputs[i] ? i : -1;
  if (def->check) {
    char msg[512] = "";
    MaceStatus st = def->check (&n->node, opset, msg, sizeof msg);
    if (st != MACE_OK) {
      fprintf (stderr, "check: %s\n", msg);
      return st;
    }
  }
  for (int i = 0; i < n->node.n_out; i++)
    outputs[i] = g_new0 (MaceTensor, 1);
  MaceThreadPool *pool = threads > 1 ? mace_threadpool_new (threads) : NULL;
  MaceOpCtx ctx = { .node = &n->node,
                    .graph = n->graph,
                    .opset = opset,
                    .n_in = n->node.n_in,
                    .n_out = n->node.n_out,
                    .in = inputs,
                    .out = outputs,
                    .pool = pool,
                    .err = &err };
  MaceStatus st = def->infer (&ctx);
  for (int i = 0; st == MACE_OK && i < n->node.n_out; i++)
    st = mace_tensor_alloc (outputs[i]);
  if (st == MACE_OK && def->prepare)
    st = def->prepare (&ctx);
  if (st == MACE_OK)
    st = def->run (&ctx);
  if (st != MACE_OK)
    fprintf (stderr, "%s: %s\n", mace_status_to_string (st), err.message);
  mace_threadpool_free (pool);
  return st;
}

bool
th_check_close (const char *what, const MaceTensor *got, const MaceTensor *want,
                double rtol, double atol)
{
  char a[128], b[128];
  if (got->dtype != want->dtype
      || !mace_shape_equal (got->ndim, got->dims, want->ndim, want->dims)) {
    th_fail (what, "got %s %s, want %s %s", mace_dtype_name (got->dtype),
             mace_shape_str (got->ndim, got->dims, a, sizeof a),
             mace_dtype_name (want->dtype),
             mace_shape_str (want->ndim, want->dims, b, sizeof b));
    return false;
  }
  int64_t n = mace_tensor_numel (want);
  for (int64_t i = 0; i < n; i++) {
    double g = mace_tensor_get_f64 (got, i), w = mace_tensor_get_f64 (want, i);
    if (isnan (w) && isnan (g))
      continue;
    if (isinf (w) && g == w)
      continue;
    if (!(fabs (g - w) <= atol + rtol * fabs (w))) {
      th_fail (what, "element %lld: got %.9g, want %.9g (rtol %g, atol %g)",
               (long long)i, g, w, rtol, atol);
      return false;
    }
  }
  return true;
}

double
th_rel_l2 (const MaceTensor *a, const MaceTensor *b)
{
  int64_t n = mace_tensor_numel (b);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = mace_tensor_get_f64 (a, i), y = mace_tensor_get_f64 (b, i);
    num += (x - y) * (x - y);
    den += y * y;
  }
  return den > 0 ? sqrt (num / den) : sqrt (num);
}

MaceTensor *
th_tensor (MaceDataType dt, int ndim, const int64_t *dims)
{
  return mace_tensor_new (dt, ndim, dims);
}
