/* SPDX-License-Identifier: Apache-2.0
 * Conv + BatchNormalization folding: y = s * (conv(x) + b - mean) /
 * sqrt(var + eps) + beta becomes a conv with scaled weights and bias. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "opt/passes.h"

static const float *
const_f32 (const MaceGraph *g, const MaceNode *n, int k, int64_t count)
{
  if (k >= n->n_in || n->in[k] < 0)
    return NULL;
  const MaceValue *v = &g->values[n->in[k]];
  if (!v->is_const || v->t.dtype != MACE_DTYPE_FLOAT32
      || mace_tensor_numel (&v->t) != count)
    return NULL;
  return v->t.data;
}

static int
new_const (MaceGraph *g, const char *base, const char *suffix, int ndim,
           const int64_t *dims)
{
  char *name = g_strdup_printf ("%s%s", base, suffix);
  int v = mace_graph_value (g, name, true);
  g_free (name);
  MaceValue *val = &g->values[v];
  mace_tensor_init (&val->t, MACE_DTYPE_FLOAT32, ndim, dims);
  if (mace_tensor_alloc (&val->t) != MACE_OK)
    return -1;
  val->is_const = true;
  val->shape_known = true;
  return v;
}

int
mace_pass_fuse_conv_bn (MaceGraph *g)
{
  int fused = 0;
  mace_graph_link (g);
  for (int i = 0; i < g->n_nodes; i++) {
    MaceNode *c = &g->nodes[i];
    if (c->dead || strcmp (c->op_type, "Conv") != 0 || c->fused_add >= 0
        || c->act != MACE_ACT_NONE || c->n_in < 2 || c->in[1] < 0)
      continue;
    int cv = c->out[0];
    if (g->values[cv].is_output || g->values[cv].n_consumers != 1)
      continue;
    const MaceValue *wv = &g->values[c->in[1]];
    if (!wv->is_const || wv->t.dtype != MACE_DTYPE_FLOAT32 || wv->t.ndim < 3)
      continue;
    int64_t co = wv->t.dims[0];
    const float *bias = NULL;
    if (c->n_in >= 3 && c->in[2] >= 0) {
      bias = const_f32 (g, c, 2, co);
      if (!bias)
        continue;
    }
    int r = -1;
    for (int j = i + 1; j < g->n_nodes && r < 0; j++) {
      MaceNode *n = &g->nodes[j];
      if (!n->dead && n->n_in > 0 && n->in[0] == cv)
        r = j;
    }
    if (r < 0)
      continue;
    MaceNode *bn = &g->nodes[r];
    if (strcmp (bn->op_type, "BatchNormalization") != 0 || bn->n_out != 1
        || mace_attr_int (bn, "training_mode", 0) != 0)
      continue;
    const float *s = const_f32 (g, bn, 1, co), *b = const_f32 (g, bn, 2, co);
    const float *mean = const_f32 (g, bn, 3, co),
                *var = const_f32 (g, bn, 4, co);
    if (!s || !b || !mean || !var)
      continue;
    float eps = mace_attr_float (bn, "epsilon", 1e-5f);
    int64_t per = mace_tensor_numel (&wv->t) / co;
    int nw
        = new_const (g, c->name, "/bn_folded_weight", wv->t.ndim, wv->t.dims);
    int64_t bdim[1] = { co };
    int nb = new_const (g, c->name, "/bn_folded_bias", 1, bdim);
    if (nw < 0 || nb < 0)
      continue;
    /* Re-read pointers: new_const may have moved the values array. */
    wv = &g->values[c->in[1]];
    if (bias)
      bias = g->values[c->in[2]].t.data;
    s = const_f32 (g, bn, 1, co);
    b = const_f32 (g, bn, 2, co);
    mean = const_f32 (g, bn, 3, co);
    var = const_f32 (g, bn, 4, co);
    float *w2 = g->values[nw].t.data, *b2 = g->values[nb].t.data;
    const float *w = wv->t.data;
    for (int64_t o = 0; o < co; o++) {
      float k = s[o] / sqrtf (var[o] + eps);
      for (int64_t e = 0; e < per; e++)
        w2[o * per + e] = w[o * per + e] * k;
      b2[o] = ((bias ? bias[o] : 0.0f) - mean[o]) * k + b[o];
    }
    if (c->n_in < 3) {
      c->in = g_renew (int, c->in, 3);
      c->n_in = 3;
    }
    c->in[1] = nw;
    c->in[2] = nb;
    c->out[0] = bn->out[0];
    bn->dead = true;
    fused++;
    mace_graph_link (g);
  }
  return fused;
}
