/* SPDX-License-Identifier: Apache-2.0
 * Depthwise + pointwise fusion: a depthwise Conv (group == C_in == C_out,
 * 2-D, nothing fused into it) whose output only a 1x1 Conv (stride 1, no
 * pads, one group) reads becomes one node of the internal op MaceDwPwConv
 * (src/ops/conv.c, src/cl/ops_conv.c) with the depthwise's attributes and
 * the inputs
 *   [x, W_dw, B_dw | -1, W_pw, B_pw | -1, residual (fused_add = 5)]
 * and the pointwise's activation.  Runs after fuse_conv_add and
 * fuse_conv_act, so the pointwise's residual and activation come along. */
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

static bool
ints_all (const MaceNode *n, const char *name, int64_t v)
{
  int cnt = 0;
  const int64_t *a = mace_attr_ints (n, name, &cnt);
  for (int i = 0; a && i < cnt; i++)
    if (a[i] != v)
      return false;
  return true;
}

static bool
f32_static (const MaceGraph *g, int v, int ndim)
{
  if (v < 0)
    return false;
  const MaceValue *x = &g->values[v];
  return x->shape_known && !x->dynamic && x->t.dtype == MACE_DTYPE_FLOAT32
         && x->t.ndim == ndim;
}

static bool
const_f32 (const MaceGraph *g, int v)
{
  return v >= 0 && g->values[v].is_const && g->values[v].t.data
         && g->values[v].t.dtype == MACE_DTYPE_FLOAT32;
}

/* The bias input of a Conv (-1 when absent or replaced by the residual). */
static int
conv_bias (const MaceNode *n)
{
  return n->n_in > 2 && n->fused_add != 2 ? n->in[2] : -1;
}

static bool
is_pointwise (const MaceGraph *g, const MaceNode *n)
{
  if (n->dead || strcmp (n->op_type, "Conv") != 0 || n->n_in < 2
      || !f32_static (g, n->in[0], 4) || !const_f32 (g, n->in[1])
      || !f32_static (g, n->out[0], 4))
    return false;
  const MaceTensor *w = &g->values[n->in[1]].t;
  const char *ap = mace_attr_string (n, "auto_pad", "NOTSET");
  return w->ndim == 4 && w->dims[2] == 1 && w->dims[3] == 1
         && mace_attr_int (n, "group", 1) == 1 && ints_all (n, "strides", 1)
         && ints_all (n, "pads", 0) && ints_all (n, "dilations", 1)
         && (strcmp (ap, "NOTSET") == 0 || strcmp (ap, "VALID") == 0);
}

static bool
is_depthwise (const MaceGraph *g, const MaceNode *n)
{
  if (n->dead || strcmp (n->op_type, "Conv") != 0 || n->n_in < 2 || n->n_in > 3
      || n->act != MACE_ACT_NONE || n->fused_add >= 0
      || !f32_static (g, n->in[0], 4) || !const_f32 (g, n->in[1])
      || !f32_static (g, n->out[0], 4))
    return false;
  int b = conv_bias (n);
  if (b >= 0 && !const_f32 (g, b))
    return false;
  const MaceTensor *x = &g->values[n->in[0]].t, *w = &g->values[n->in[1]].t;
  const MaceTensor *y = &g->values[n->out[0]].t;
  int64_t C = x->dims[1];
  return C > 1 && mace_attr_int (n, "group", 1) == C && y->dims[1] == C
         && w->ndim == 4 && w->dims[0] == C && w->dims[1] == 1;
}

int
mace_pass_fuse_dw_pw (MaceGraph *g)
{
  int fused = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *p = &g->nodes[i];
    if (!is_pointwise (g, p))
      continue;
    int mid = p->in[0];
    MaceValue *mv = &g->values[mid];
    if (mv->is_output || mv->n_consumers != 1 || mv->producer < 0)
      continue;
    MaceNode *d = &g->nodes[mv->producer];
    if (d == p || !is_depthwise (g, d))
      continue;
    /* The residual must not be the intermediate itself. */
    int res = p->fused_add >= 0 ? p->in[p->fused_add] : -1;
    if (res == mid)
      continue;
    const MaceOpDef *def = mace_op_lookup ("MaceDwPwConv");
    if (!def)
      return fused;
    int *in = g_new (int, 6);
    in[0] = d->in[0];
    in[1] = d->in[1];
    in[2] = conv_bias (d);
    in[3] = p->in[1];
    in[4] = conv_bias (p);
    in[5] = res;
    g_free (p->in);
    p->in = in;
    p->n_in = res >= 0 ? 6 : 5;
    p->fused_add = res >= 0 ? 5 : -1;
    /* The fused node takes the depthwise's attributes (the pointwise's
     * are all defaults); the dead node frees the pointwise's. */
    int na = p->n_attr;
    MaceAttr *attrs = p->attrs;
    p->n_attr = d->n_attr;
    p->attrs = d->attrs;
    d->n_attr = na;
    d->attrs = attrs;
    g_free (p->op_type);
    p->op_type = g_strdup ("MaceDwPwConv");
    p->def = def;
    if (p->state && p->state_free)
      p->state_free (p->state);
    p->state = NULL;
    p->state_free = NULL;
    d->dead = true;
    fused++;
    mace_graph_link (g);
  }
  return fused;
}
