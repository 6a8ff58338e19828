/* SPDX-License-Identifier: Apache-2.0
 * Conv + Add fusion: a residual Add of a same-shaped tensor becomes an
 * extra Conv input added in the epilogue (before any activation, so this
 * pass runs before fuse_conv_act). */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

static bool
all_zero (const MaceValue *v)
{
  if (!v->is_const || v->t.dtype != MACE_DTYPE_FLOAT32 || !v->t.data)
    return false;
  const float *d = v->t.data;
  for (int64_t i = 0; i < mace_tensor_numel (&v->t); i++)
    if (d[i] != 0.0f)
      return false;
  return true;
}

/* If value v is Concat(x, zeros) along axis 1 and matches the conv output
 * `c` in every other dim, returns x; else -1. */
static int
channel_pad_source (MaceGraph *g, int v, const MaceValue *c)
{
  int p = g->values[v].producer;
  if (p < 0)
    return -1;
  MaceNode *n = &g->nodes[p];
  if (n->dead || strcmp (n->op_type, "Concat") != 0 || n->n_in != 2
      || n->in[0] < 0 || n->in[1] < 0 || c->t.ndim < 2)
    return -1;
  int64_t axis = mace_attr_int (n, "axis", 0);
  if (axis < 0)
    axis += c->t.ndim;
  const MaceValue *x = &g->values[n->in[0]], *z = &g->values[n->in[1]];
  if (axis != 1 || !all_zero (z) || !x->shape_known || x->dynamic
      || x->t.dtype != MACE_DTYPE_FLOAT32 || x->t.ndim != c->t.ndim)
    return -1;
  for (int d = 0; d < c->t.ndim; d++)
    if (d != 1 && x->t.dims[d] != c->t.dims[d])
      return -1;
  if (x->t.dims[1] >= c->t.dims[1])
    return -1;
  return n->in[0];
}

int
mace_pass_fuse_conv_add (MaceGraph *g)
{
  int fused = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *c = &g->nodes[i];
    if (c->dead || strcmp (c->op_type, "Conv") != 0 || c->fused_add >= 0
        || c->act != MACE_ACT_NONE)
      continue;
    int cv = c->out[0];
    MaceValue *cval = &g->values[cv];
    if (cval->is_output || cval->n_consumers != 1 || !cval->shape_known
        || cval->t.dtype != MACE_DTYPE_FLOAT32)
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
    /* Add(conv, Concat(x, zeros)) on channels (BlazeFace's channel
     * padding): x alone is the residual, for the first channels. */
    int narrow = channel_pad_source (g, other, cval);
    if (narrow >= 0)
      other = narrow;
    MaceValue *ov = &g->values[other];
    if (narrow < 0
        && (!ov->shape_known || ov->dynamic || ov->t.dtype != MACE_DTYPE_FLOAT32
            || !mace_shape_equal (ov->t.ndim, ov->t.dims, cval->t.ndim,
                                  cval->t.dims)))
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
