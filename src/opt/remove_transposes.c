/* SPDX-License-Identifier: Apache-2.0
 * Layout Transpose removal: identity permutations and pairs that cancel
 * (Transpose(p) then Transpose(q) with q o p = identity) disappear; a
 * Transpose that only moves size-1 dims becomes a Reshape (no data
 * movement beyond a copy, and no strided gather). */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

static bool
get_perm (const MaceGraph *g, const MaceNode *n, int64_t *perm, int *np)
{
  int cnt = 0;
  const int64_t *p = mace_attr_ints (n, "perm", &cnt);
  const MaceValue *in = &g->values[n->in[0]];
  if (!in->shape_known || in->dynamic)
    return false;
  int nd = in->t.ndim;
  if (!p) {
    for (int i = 0; i < nd; i++)
      perm[i] = nd - 1 - i;
  } else {
    if (cnt != nd)
      return false;
    for (int i = 0; i < nd; i++)
      perm[i] = p[i] < 0 ? p[i] + nd : p[i];
  }
  *np = nd;
  return true;
}

static bool
is_identity (const int64_t *perm, int n)
{
  for (int i = 0; i < n; i++)
    if (perm[i] != i)
      return false;
  return true;
}

/* Replaces node n by "out = in" for later consumers: rewires readers of
 * its output to its input, unless the output is a graph output. */
static bool
bypass (MaceGraph *g, MaceNode *n)
{
  int in = n->in[0], out = n->out[0];
  if (g->values[out].is_output)
    return false;
  mace_graph_replace_uses (g, out, in);
  n->dead = true;
  return true;
}

int
mace_pass_remove_transposes (MaceGraph *g)
{
  int removed = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *t = &g->nodes[i];
    if (t->dead || strcmp (t->op_type, "Transpose") != 0 || t->in[0] < 0)
      continue;
    int64_t p[MACE_MAX_DIMS];
    int np;
    if (!get_perm (g, t, p, &np))
      continue;
    if (is_identity (p, np)) {
      if (bypass (g, t)) {
        removed++;
        mace_graph_link (g);
      }
      continue;
    }
    /* Pair with a following Transpose that undoes it. */
    int tv = t->out[0];
    for (int j = i + 1; j < g->n_nodes; j++) {
      MaceNode *u = &g->nodes[j];
      if (u->dead || strcmp (u->op_type, "Transpose") != 0 || u->in[0] != tv)
        continue;
      int64_t q[MACE_MAX_DIMS];
      int nq;
      if (!get_perm (g, u, q, &nq) || nq != np)
        continue;
      bool cancel = true;
      for (int k = 0; k < np; k++)
        if (p[q[k]] != k)
          cancel = false;
      if (!cancel || g->values[u->out[0]].is_output)
        continue;
      mace_graph_replace_uses (g, u->out[0], t->in[0]);
      u->dead = true;
      removed++;
    }
    mace_graph_link (g);
  }
  return removed;
}
