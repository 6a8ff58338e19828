/* SPDX-License-Identifier: Apache-2.0
 * Memory plan: every static intermediate value gets an offset in one
 * arena; values whose lifetimes do not overlap share bytes.  Greedy
 * placement by decreasing size (the usual best-fit heuristic). */
#include <stdlib.h>

#include <glib.h>

#include "opt/passes.h"

typedef struct {
  int value;
  int first, last; /* node index range in which the value is alive */
  int64_t size;
  int64_t offset;
} Interval;

static int
by_size_desc (const void *a, const void *b)
{
  const Interval *x = a, *y = b;
  if (x->size != y->size)
    return x->size > y->size ? -1 : 1;
  return x->first - y->first;
}

int64_t
mace_pass_memory_plan (MaceGraph *g)
{
  int nv = g->n_values;
  int *first = g_new (int, nv), *last = g_new (int, nv);
  for (int v = 0; v < nv; v++) {
    first[v] = -1;
    last[v] = -1;
    g->values[v].arena_offset = -1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] >= 0 && first[n->out[k]] < 0)
        first[n->out[k]] = i;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0)
        last[n->in[k]] = i;
  }
  Interval *iv = g_new (Interval, nv);
  int count = 0;
  for (int v = 0; v < nv; v++) {
    MaceValue *val = &g->values[v];
    if (first[v] < 0 || val->is_const || val->is_input || val->dynamic
        || !val->shape_known)
      continue;
    int l = last[v] < first[v] ? first[v] : last[v];
    if (val->is_output)
      l = g->n_nodes; /* read back after the run */
    iv[count].value = v;
    iv[count].first = first[v];
    iv[count].last = l;
    iv[count].size = ((int64_t)mace_tensor_nbytes (&val->t) + 63) & ~63;
    if (iv[count].size == 0)
      iv[count].size = 64;
    count++;
  }
  qsort (iv, (size_t)count, sizeof *iv, by_size_desc);
  int64_t peak = 0;
  for (int a = 0; a < count; a++) {
    /* Lowest offset that does not collide with an overlapping placed one. */
    int64_t off = 0;
    bool moved = true;
    while (moved) {
      moved = false;
      for (int b = 0; b < a; b++) {
        if (iv[b].last < iv[a].first || iv[a].last < iv[b].first)
          continue;
        if (off < iv[b].offset + iv[b].size
            && iv[b].offset < off + iv[a].size) {
          off = iv[b].offset + iv[b].size;
          moved = true;
        }
      }
    }
    iv[a].offset = off;
    g->values[iv[a].value].arena_offset = off;
    if (off + iv[a].size > peak)
      peak = off + iv[a].size;
  }
  g_free (iv);
  g_free (first);
  g_free (last);
  return peak;
}
