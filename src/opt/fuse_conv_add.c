/* SPDX-License-Identifier: Apache-2.0
 * Conv + Add fusion: a residual Add of a same-shaped tensor becomes an
 * extra Conv input added in the epilogue (before any activation, so this
 * pass runs before fuse_conv_act). */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

int
mace_pass_fuse_conv_add (MaceGraph *g)
{
  int fused = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *c = &g->nodes[i];
    if (c->dead || strcmp (c->op_type, "Conv") != 0 || c->fused_add >= 0 ||
        c->act != MACE_ACT_NONE)
      continue;
    int cv = c->out[0];
    MaceValue *cval = &g->values[cv];
    if (cval->is_output || cval->n_consumers != 1 || !cval->shape_known ||
        cval->t.dtype != MACE_DTYPE_FLOAT32)
      continue;
    int r = -1;
    for (int j = i + 1; j < g->n_nodes && r < 0; j++) {
      MaceNode *n = &g->nodes[j];
      if (n->dead)
        continue;
      for (int k = 0; k < n->n_in; k++)
        if (n->in[k] == cv)
          r = j;
    }
    if (r < 0)
      continue;
    MaceNode *a = &g->nodes[r];
    if (strcmp (a->op_type, "Add") != 0 || a->n_in != 2)
      continue;
    int other = a->in[0] == cv ? a->in[1] : a->in[0];
    if (other == cv || other < 0)
      continue;
    MaceValue *ov = &g->values[other];
    if (!ov->shape_known || ov->dynamic || ov->t.dtype != MACE_DTYPE_FLOAT32 ||
        !mace_shape_equal (ov->t.ndim, ov->t.dims, cval->t.ndim,
                           cval->t.dims))
      continue;
    /* Keep the optional bias slot at index 2 so kernels find it. */
    int base = c->n_in < 3 ? 3 : c->n_in;
    c->in = g_renew (int, c->in, base + 1);
    for (int k = c->n_in; k < base; k++)
      c->in[k] = -1;
    c->n_in = base;
    c->in[c->n_in] = other;
    c->fused_add = c->n_in;
    c->n_in++;
    c->out[0] = a->out[0];
    a->dead = true;
    fused++;
    mace_graph_link (g);
  }
  return fused;
}
