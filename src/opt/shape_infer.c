/* SPDX-License-Identifier: Apache-2.0
 * Shape inference, folding whatever becomes constant once the input shapes
 * are known (Shape -> Gather -> Concat -> Reshape chains collapse). */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

static bool
is_shape_op (const MaceNode *n)
{
  return strcmp (n->op_type, "Shape") == 0 || strcmp (n->op_type, "Size") == 0;
}

MaceStatus
mace_pass_shape_infer (MaceGraph *g, MaceThreadPool *pool, int *folded,
                       MaceError *err)
{
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    bool all_const = true, any_dynamic = false;
    for (int k = 0; k < n->n_in; k++) {
      if (n->in[k] < 0)
        continue;
      MaceValue *v = &g->values[n->in[k]];
      if (!v->is_const)
        all_const = false;
      if (v->dynamic || !v->shape_known)
        any_dynamic = true;
    }
    /* Shape/Size read only the shape of their input. */
    bool foldable
        = all_const
          || (is_shape_op (n) && n->n_in > 0 && n->in[0] >= 0 && !any_dynamic);
    if (foldable) {
      MaceStatus st = mace_fold_node (g, i, pool, err);
      if (st != MACE_OK)
        return st;
      count++;
      continue;
    }
    /* Value inputs that are not constant make the outputs dynamic. */
    for (int k = 0; k < n->n_in && k < 32; k++)
      if ((n->def->value_inputs & (1u << k)) && n->in[k] >= 0
          && !g->values[n->in[k]].is_const)
        any_dynamic = true;
    if (any_dynamic) {
      for (int k = 0; k < n->n_out; k++) {
        MaceValue *v = &g->values[n->out[k]];
        v->dynamic = true;
        v->shape_known = false;
      }
      continue;
    }
    MaceTensor *in[64], *out[64];
    if (n->n_in > 64 || n->n_out > 64) {
      mace_set_error (err, MACE_ERROR_UNSUPPORTED,
                      "%s: node '%s' (%s) has too many inputs/outputs", g->path,
                      n->name, n->op_type);
      return MACE_ERROR_UNSUPPORTED;
    }
    for (int k = 0; k < n->n_in; k++)
      in[k] = n->in[k] >= 0 ? &g->values[n->in[k]].t : NULL;
    for (int k = 0; k < n->n_out; k++)
      out[k] = &g->values[n->out[k]].t;
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
    if (st != MACE_OK)
      return st;
    for (int k = 0; k < n->n_out; k++) {
      MaceValue *v = &g->values[n->out[k]];
      v->shape_known = true;
      v->dynamic = false;
    }
  }
  if (folded)
    *folded = count;
  mace_graph_link (g);
  return MACE_OK;
}
