/* SPDX-License-Identifier: Apache-2.0
 * Constant folding: nodes whose inputs are all constants run once at
 * prepare time and become constants. */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

MaceStatus
mace_fold_node (MaceGraph *g, int idx, MaceThreadPool *pool, MaceError *err)
{
  MaceNode *n = &g->nodes[idx];
  MaceTensor *in[64], *out[64];
  if (n->n_in > 64 || n->n_out > 64) {
    mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                    "%s: node '%s' (%s) has too many inputs/outputs", g->path,
                    n->name, n->op_type);
    return MACE_ERROR_UNSUPPORTED;
  }
  for (int k = 0; k < n->n_in; k++)
    in[k] = n->in[k] >= 0 ? &g->values[n->in[k]].t : NULL;
  for (int k = 0; k < n->n_out; k++) {
    MaceValue *v = &g->values[n->out[k]];
    mace_tensor_clear (&v->t);
    out[k] = &v->t;
  }
  MaceOpCtx ctx = { .node = n,
                    .graph = g,
                    .opset = g->opset,
                    .n_in = n->n_in,
                    .n_out = n->n_out,
                    .in = in,
                    .out = out,
                    .pool = pool,
                    .err = err };
  MaceStatus st = n->def->infer (&ctx);
  for (int k = 0; st == MACE_OK && k < n->n_out; k++)
    st = mace_tensor_alloc (out[k]);
  if (st == MACE_OK && n->def->prepare)
    st = n->def->prepare (&ctx);
  if (st == MACE_OK)
    st = n->def->run (&ctx);
  if (st != MACE_OK)
    return st;
  for (int k = 0; k < n->n_out; k++) {
    MaceValue *v = &g->values[n->out[k]];
    v->is_const = true;
    v->shape_known = true;
    v->dynamic = false;
  }
  if (n->state && n->state_free)
    n->state_free (n->state);
  n->state = NULL;
  n->dead = true;
  return MACE_OK;
}

static bool
all_inputs_const (const MaceGraph *g, const MaceNode *n)
{
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] >= 0 && !g->values[n->in[k]].is_const)
      return false;
  return true;
}

MaceStatus
mace_pass_fold_constants (MaceGraph *g, MaceThreadPool *pool, int *folded,
                          MaceError *err)
{
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead || !all_inputs_const (g, n))
      continue;
    MaceStatus st = mace_fold_node (g, i, pool, err);
    if (st != MACE_OK)
      return st;
    count++;
  }
  if (folded)
    *folded = count;
  mace_graph_link (g);
  return MACE_OK;
}
