/* SPDX-License-Identifier: Apache-2.0
 * Conv + activation fusion: Relu, Clip (constant bounds), LeakyRelu,
 * HardSwish and Sigmoid move into the Conv's epilogue. */
#include <float.h>
#include <string.h>

#include "opt/passes.h"

/* The only live reader of value v, or -1. */
static int
single_reader (const MaceGraph *g, int v)
{
  if (g->values[v].is_output || g->values[v].n_consumers != 1)
    return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const MaceNode *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == v)
        return i;
  }
  return -1;
}

static bool
const_scalar (const MaceGraph *g, const MaceNode *n, int k, float *out)
{
  if (k >= n->n_in || n->in[k] < 0)
    return true; /* absent: keep the default */
  const MaceValue *v = &g->values[n->in[k]];
  if (!v->is_const || mace_tensor_numel (&v->t) != 1
      || v->t.dtype != MACE_DTYPE_FLOAT32)
    return false;
  *out = ((const float *)v->t.data)[0];
  return true;
}

int
mace_pass_fuse_conv_act (MaceGraph *g)
{
  int fused = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *c = &g->nodes[i];
    if (c->dead || strcmp (c->op_type, "Conv") != 0 || c->act != MACE_ACT_NONE)
      continue;
    if (g->values[c->out[0]].t.dtype != MACE_DTYPE_FLOAT32)
      continue;
    int r = single_reader (g, c->out[0]);
    if (r < 0)
      continue;
    MaceNode *a = &g->nodes[r];
    if (a->n_in < 1 || a->in[0] != c->out[0])
      continue;
    MaceActivation act = MACE_ACT_NONE;
    float alpha = 0, beta = 0;
    if (strcmp (a->op_type, "Relu") == 0) {
      act = MACE_ACT_RELU;
    } else if (strcmp (a->op_type, "LeakyRelu") == 0) {
      act = MACE_ACT_LEAKYRELU;
      alpha = mace_attr_float (a, "alpha", 0.01f);
    } else if (strcmp (a->op_type, "HardSwish") == 0) {
      act = MACE_ACT_HARDSWISH;
    } else if (strcmp (a->op_type, "Sigmoid") == 0) {
      act = MACE_ACT_SIGMOID;
    } else if (strcmp (a->op_type, "Clip") == 0) {
      alpha = -FLT_MAX;
      beta = FLT_MAX;
      if (g->opset < 11) {
        alpha = mace_attr_float (a, "min", -FLT_MAX);
        beta = mace_attr_float (a, "max", FLT_MAX);
      } else if (!const_scalar (g, a, 1, &alpha)
                 || !const_scalar (g, a, 2, &beta)) {
        continue;
      }
      act = MACE_ACT_CLIP;
    } else {
      continue;
    }
    c->act = act;
    c->act_alpha = alpha;
    c->act_beta = beta;
    c->out[0] = a->out[0];
    a->dead = true;
    fused++;
    mace_graph_link (g);
  }
  return fused;
}
