/* SPDX-License-Identifier: Apache-2.0
 * Dead-node removal: nodes whose outputs nobody reads are dropped. */
#include "opt/passes.h"

int
mace_value_readers (const MaceGraph *g, int v)
{
  return g->values[v].n_consumers;
}

void
mace_graph_replace_uses (MaceGraph *g, int from, int to)
{
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == from)
        n->in[k] = to;
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == from)
      g->outputs[i] = to;
}

int
mace_pass_dead_nodes (MaceGraph *g)
{
  int removed = 0;
  mace_graph_link (g);
  /* Walk backwards so a chain of dead nodes goes in one sweep. */
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    bool used = false;
    for (int k = 0; k < n->n_out && !used; k++)
      if (n->out[k] >= 0 && g->values[n->out[k]].n_consumers > 0)
        used = true;
    if (used)
      continue;
    n->dead = true;
    removed++;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0)
        g->values[n->in[k]].n_consumers--;
  }
  mace_graph_link (g);
  return removed;
}
