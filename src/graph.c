/* SPDX-License-Identifier: Apache-2.0
 * The graph IR: values, nodes, attributes, topological order. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

MaceGraph *
mace_graph_new (const char *path)
{
  MaceGraph *g = g_new0 (MaceGraph, 1);
  g->path = g_strdup (path ? path : "<memory>");
  return g;
}

static void
attr_clear (MaceAttr *a)
{
  g_free (a->name);
  g_free (a->s);
  g_free (a->floats);
  g_free (a->ints);
  if (a->strings)
    for (int i = 0; i < a->n; i++)
      g_free (a->strings[i]);
  g_free (a->strings);
  mace_tensor_free (a->t);
}

void
mace_graph_free (MaceGraph *g)
{
  if (!g)
    return;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    g_free (n->name);
    g_free (n->op_type);
    g_free (n->domain);
    g_free (n->in);
    g_free (n->out);
    for (int a = 0; a < n->n_attr; a++)
      attr_clear (&n->attrs[a]);
    g_free (n->attrs);
    if (n->state && n->state_free)
      n->state_free (n->state);
  }
  for (int i = 0; i < g->n_values; i++) {
    g_free (g->values[i].name);
    mace_tensor_clear (&g->values[i].t);
  }
  g_free (g->values);
  g_free (g->nodes);
  g_free (g->inputs);
  g_free (g->outputs);
  g_free (g->path);
  g_free (g);
}

int
mace_graph_value (MaceGraph *g, const char *name, bool create)
{
  /* Linear search is fine for lookups at load time only through a hash
   * table kept by the loader; this fallback is used by passes. */
  for (int i = 0; i < g->n_values; i++)
    if (strcmp (g->values[i].name, name) == 0)
      return i;
  if (!create)
    return -1;
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
  return g->n_values++;
}

MaceNode *
mace_graph_add_node (MaceGraph *g)
{
  if (g->n_nodes == g->cap_nodes) {
    g->cap_nodes = g->cap_nodes ? g->cap_nodes * 2 : 64;
    g->nodes = g_renew (MaceNode, g->nodes, g->cap_nodes);
  }
  MaceNode *n = &g->nodes[g->n_nodes++];
  memset (n, 0, sizeof *n);
  n->fused_add = -1;
  return n;
}

void
mace_graph_link (MaceGraph *g)
{
  for (int i = 0; i < g->n_values; i++) {
    g->values[i].producer = -1;
    g->values[i].n_consumers = 0;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] >= 0)
        g->values[n->out[k]].producer = i;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0)
        g->values[n->in[k]].n_consumers++;
  }
  for (int i = 0; i < g->n_outputs; i++)
    g->values[g->outputs[i]].n_consumers++;
}

void
mace_graph_compact (MaceGraph *g)
{
  int w = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead) {
      g_free (n->name);
      g_free (n->op_type);
      g_free (n->domain);
      g_free (n->in);
      g_free (n->out);
      for (int a = 0; a < n->n_attr; a++)
        attr_clear (&n->attrs[a]);
      g_free (n->attrs);
      if (n->state && n->state_free)
        n->state_free (n->state);
      continue;
    }
    if (w != i)
      g->nodes[w] = *n;
    w++;
  }
  g->n_nodes = w;
  mace_graph_link (g);
}

MaceStatus
mace_graph_toposort (MaceGraph *g, MaceError *err)
{
  int n = g->n_nodes;
  /* A value is ready when it is a constant, a graph input or produced by
   * an already placed node. */
  bool *ready = g_new0 (bool, (gsize)g->n_values + 1);
  int *producer = g_new (int, (gsize)g->n_values + 1);
  for (int i = 0; i < g->n_values; i++) {
    producer[i] = -1;
    ready[i] = g->values[i].is_const || g->values[i].is_input;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].n_out; k++) {
      int v = g->nodes[i].out[k];
      if (v < 0)
        continue;
      if (producer[v] >= 0 || g->values[v].is_const || g->values[v].is_input) {
        mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                        "%s: value '%s' is produced twice (node '%s')", g->path,
                        g->values[v].name, g->nodes[i].name);
        g_free (ready);
        g_free (producer);
        return MACE_ERROR_INVALID_MODEL;
      }
      producer[v] = i;
    }
  MaceNode *sorted
      = g_new (MaceNode, (gsize)(g->cap_nodes > 0 ? g->cap_nodes : 1));
  bool *placed = g_new0 (bool, (gsize)n + 1);
  int count = 0;
  /* Kahn's algorithm with a min-heap on the file index, so ready nodes keep
   * file order (good for memory reuse, deterministic plans) and a large
   * graph sorts in O(E log N). */
  int *missing = g_new0 (int, (gsize)n + 1); /* inputs not ready yet */
  int *first_use = g_new (int, (gsize)g->n_values + 1);
  int *next_use = NULL;
  int n_uses = 0;
  for (int i = 0; i < n; i++)
    n_uses += g->nodes[i].n_in;
  int *use_node = g_new (int, (gsize)n_uses + 1);
  next_use = g_new (int, (gsize)n_uses + 1);
  for (int v = 0; v < g->n_values; v++)
    first_use[v] = -1;
  int u = 0;
  for (int i = 0; i < n; i++) {
    MaceNode *nd = &g->nodes[i];
    for (int k = 0; k < nd->n_in; k++) {
      int v = nd->in[k];
      if (v < 0 || ready[v])
        continue;
      missing[i]++;
      use_node[u] = i;
      next_use[u] = first_use[v];
      first_use[v] = u++;
    }
  }
  int *heap = g_new (int, (gsize)n + 1);
  int hn = 0;
#define HEAP_PUSH(x)                                                           \
  do {                                                                         \
    int _c = hn++;                                                             \
    heap[_c] = (x);                                                            \
    while (_c > 0 && heap[(_c - 1) / 2] > heap[_c]) {                          \
      int _t = heap[_c];                                                       \
      heap[_c] = heap[(_c - 1) / 2];                                           \
      heap[(_c - 1) / 2] = _t;                                                 \
      _c = (_c - 1) / 2;                                                       \
    }                                                                          \
  } while (0)
  for (int i = 0; i < n; i++)
    if (missing[i] == 0)
      HEAP_PUSH (i);
  while (hn > 0) {
    int i = heap[0];
    heap[0] = heap[--hn];
    for (int c = 0;;) {
      int l = 2 * c + 1, r = l + 1, m = c;
      if (l < hn && heap[l] < heap[m])
        m = l;
      if (r < hn && heap[r] < heap[m])
        m = r;
      if (m == c)
        break;
      int t = heap[c];
      heap[c] = heap[m];
      heap[m] = t;
      c = m;
    }
    MaceNode *nd = &g->nodes[i];
    placed[i] = true;
    sorted[count++] = *nd;
    for (int k = 0; k < nd->n_out; k++) {
      int v = nd->out[k];
      if (v < 0 || ready[v])
        continue;
      ready[v] = true;
      for (int e = first_use[v]; e >= 0; e = next_use[e])
        if (--missing[use_node[e]] == 0)
          HEAP_PUSH (use_node[e]);
    }
  }
#undef HEAP_PUSH
  g_free (heap);
  g_free (missing);
  g_free (first_use);
  g_free (next_use);
  g_free (use_node);
  MaceStatus st = MACE_OK;
  if (count < n) {
    /* Name the first stuck node and its missing input. */
    for (int i = 0; i < n; i++) {
      if (placed[i])
        continue;
      MaceNode *nd = &g->nodes[i];
      for (int k = 0; k < nd->n_in; k++) {
        int v = nd->in[k];
        if (v >= 0 && !ready[v]) {
          if (producer[v] < 0)
            mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                            "%s: node '%s' (%s) reads '%s', which is not an "
                            "input, an initializer or any node's output",
                            g->path, nd->name, nd->op_type, g->values[v].name);
          else
            mace_set_error (err, MACE_ERROR_INVALID_MODEL,
                            "%s: the graph has a cycle through node '%s' "
                            "(%s), input '%s'",
                            g->path, nd->name, nd->op_type, g->values[v].name);
          break;
        }
      }
      break;
    }
    st = MACE_ERROR_INVALID_MODEL;
    g_free (sorted);
  } else {
    g_free (g->nodes);
    g->nodes = sorted;
  }
  g_free (placed);
  g_free (ready);
  g_free (producer);
  if (st == MACE_OK)
    mace_graph_link (g);
  return st;
}

const MaceAttr *
mace_node_attr (const MaceNode *n, const char *name)
{
  for (int i = 0; i < n->n_attr; i++)
    if (strcmp (n->attrs[i].name, name) == 0)
      return &n->attrs[i];
  return NULL;
}

int64_t
mace_attr_int (const MaceNode *n, const char *name, int64_t def)
{
  const MaceAttr *a = mace_node_attr (n, name);
  if (!a)
    return def;
  if (a->type == MACE_ATTR_INT)
    return a->i;
  if (a->type == MACE_ATTR_FLOAT)
    return (int64_t)a->f;
  return def;
}

float
mace_attr_float (const MaceNode *n, const char *name, float def)
{
  const MaceAttr *a = mace_node_attr (n, name);
  if (!a)
    return def;
  if (a->type == MACE_ATTR_FLOAT)
    return a->f;
  if (a->type == MACE_ATTR_INT)
    return (float)a->i;
  return def;
}

const char *
mace_attr_string (const MaceNode *n, const char *name, const char *def)
{
  const MaceAttr *a = mace_node_attr (n, name);
  if (!a || a->type != MACE_ATTR_STRING)
    return def;
  return a->s;
}

const int64_t *
mace_attr_ints (const MaceNode *n, const char *name, int *count)
{
  const MaceAttr *a = mace_node_attr (n, name);
  if (!a || a->type != MACE_ATTR_INTS) {
    *count = 0;
    return NULL;
  }
  *count = a->n;
  return a->ints;
}

const float *
mace_attr_floats (const MaceNode *n, const char *name, int *count)
{
  const MaceAttr *a = mace_node_attr (n, name);
  if (!a || a->type != MACE_ATTR_FLOATS) {
    *count = 0;
    return NULL;
  }
  *count = a->n;
  return a->floats;
}
