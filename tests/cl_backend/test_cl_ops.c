/* SPDX-License-Identifier: Apache-2.0
 * Every op the OpenCL backend claims, run as a one-node graph through
 * mace_cl_backend and through the CPU op on the same seeded random inputs
 * (rtol 1e-4, atol 1e-5).  Ops without a kernel (or a CPU reference) print
 * "not supported" instead of failing.  Exit 77 without an OpenCL device.
 * All programs go through one program cache file in the build directory,
 * so only the first run of the suite pays PoCL's compile time. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "harness.h"

#define RTOL 1e-4
#define ATOL 1e-5

static MaceConfig *config;
static int n_passed, n_unsupported;
static const char *only; /* optional filter: argv[1] substring */

/* A value of the test graph: constant (data copied) or a graph input. */
static int
add_value (MaceGraph *g, const char *name, const MaceTensor *t, bool is_const)
{
  int v = mace_graph_value (g, name, true);
  MaceValue *val = &g->values[v];
  mace_tensor_init (&val->t, t->dtype, t->ndim, t->dims);
  val->shape_known = true;
  if (is_const) {
    mace_tensor_copy (&val->t, t);
    val->is_const = true;
  } else {
    val->is_input = true;
    g->inputs = g_renew (int, g->inputs, g->n_inputs + 1);
    g->inputs[g->n_inputs++] = v;
  }
  return v;
}

static void
copy_attrs (MaceNode *dst, const MaceNode *src)
{
  dst->n_attr = src->n_attr;
  dst->attrs = g_new0 (MaceAttr, src->n_attr ? src->n_attr : 1);
  for (int i = 0; i < src->n_attr; i++) {
    const MaceAttr *a = &src->attrs[i];
    MaceAttr *b = &dst->attrs[i];
    b->name = g_strdup (a->name);
    b->type = a->type;
    b->f = a->f;
    b->i = a->i;
    b->n = a->n;
    b->s = g_strdup (a->s);
    if (a->ints)
      b->ints
          = g_memdup2 (a->ints, sizeof (int64_t) * (size_t)(a->n ? a->n : 1));
    if (a->floats)
      b->floats
          = g_memdup2 (a->floats, sizeof (float) * (size_t)(a->n ? a->n : 1));
  }
}

/* Runs node `tn` (inputs in[], const_mask bit k: input k is a constant)
 * on the CPU and on the device and compares every output. */
static void
check_op (const char *label, ThNode *tn, int64_t opset, MaceTensor **in,
          uint32_t const_mask)
{
  if (only && !strstr (label, only)) {
    th_node_free (tn);
    return;
  }
  int n_in = tn->node.n_in, n_out = tn->node.n_out;
  MaceTensor *want[8] = { NULL };
  MaceStatus st = th_run_op (tn, opset, in, want, 1);
  if (st != MACE_OK) {
    printf ("%-28s not supported (no CPU reference: %s)\n", label,
            mace_status_to_string (st));
    n_unsupported++;
    goto out;
  }
  MaceGraph *g = mace_graph_new (label);
  g->opset = opset;
  MaceNode *n = mace_graph_add_node (g);
  n->name = g_strdup (label);
  n->op_type = g_strdup (tn->node.op_type);
  n->domain = g_strdup ("");
  n->n_in = n_in;
  n->n_out = n_out;
  n->in = g_new (int, n_in ? n_in : 1);
  n->out = g_new (int, n_out);
  n->act = tn->node.act;
  n->act_alpha = tn->node.act_alpha;
  n->act_beta = tn->node.act_beta;
  n->fused_add = tn->node.fused_add;
  copy_attrs (n, &tn->node);
  n->def = tn->node.def;
  MaceTensor *run_in[8];
  int n_run_in = 0;
  for (int k = 0; k < n_in; k++) {
    char name[32];
    snprintf (name, sizeof name, "in%d", k);
    if (!in[k]) {
      n->in[k] = -1;
      continue;
    }
    bool c = (const_mask >> k) & 1;
    n->in[k] = add_value (g, name, in[k], c);
    if (!c)
      run_in[n_run_in++] = in[k];
  }
  g->outputs = g_new (int, n_out);
  MaceTensor *got[8];
  for (int k = 0; k < n_out; k++) {
    char name[32];
    snprintf (name, sizeof name, "out%d", k);
    int v = mace_graph_value (g, name, true);
    /* Re-read the node: adding values never moves nodes. */
    g->nodes[0].out[k] = v;
    mace_tensor_init (&g->values[v].t, want[k]->dtype, want[k]->ndim,
                      want[k]->dims);
    g->values[v].shape_known = true;
    g->values[v].is_output = true;
    g->outputs[g->n_outputs++] = v;
    got[k] = mace_tensor_new (want[k]->dtype, want[k]->ndim, want[k]->dims);
  }
  mace_graph_link (g);
  MaceError err = { 0 };
  MaceBackend *b = NULL;
  st = mace_cl_backend.prepare (&b, g, config, NULL, &err);
  if (st == MACE_ERROR_UNSUPPORTED) {
    printf ("%-28s not supported (%s)\n", label, err.message);
    n_unsupported++;
  } else if (st != MACE_OK) {
    th_fail (label, "prepare: %s", err.message);
  } else {
    st = mace_cl_backend.run (b, run_in, got, &err);
    /* Twice: the second run must not depend on state of the first. */
    if (st == MACE_OK)
      st = mace_cl_backend.run (b, run_in, got, &err);
    if (st != MACE_OK) {
      th_fail (label, "run: %s", err.message);
    } else {
      bool ok = true;
      for (int k = 0; k < n_out; k++) {
        char what[96];
        snprintf (what, sizeof what, "%s output %d", label, k);
        ok = th_check_close (what, got[k], want[k], RTOL, ATOL) && ok;
      }
      if (ok) {
        printf ("%-28s ok\n", label);
        n_passed++;
      }
    }
    mace_cl_backend.free (b);
  }
  for (int k = 0; k < n_out; k++)
    mace_tensor_free (got[k]);
  mace_graph_free (g);
out:
  for (int k = 0; k < n_out; k++)
    mace_tensor_free (want[k]);
  for (int k = 0; k < n_in; k++)
    mace_tensor_free (in[k]);
  th_node_free (tn);
}

static MaceTensor *
rnd (float lo, float hi, int ndim, const int64_t *dims)
{
  MaceTensor *t = th_tensor (MACE_DTYPE_FLOAT32, ndim, dims);
  th_fill_uniform (t, lo, hi);
  return t;
}
#define RND(lo, hi, ...) rnd (lo, hi, TH_DIMS (__VA_ARGS__))

static MaceTensor *
ints (int n, const int64_t *v)
{
  int64_t d[1] = { n };
  MaceTensor *t = th_tensor (MACE_DTYPE_INT64, 1, d);
  memcpy (mace_tensor_data (t), v, sizeof (int64_t) * (size_t)n);
  return t;
}
#define INTS(...) ints (TH_DIMS (__VA_ARGS__))

static MaceTensor *
scalar (float v)
{
  MaceTensor *t = th_tensor (MACE_DTYPE_FLOAT32, 0, NULL);
  *(float *)mace_tensor_data (t) = v;
  return t;
}

static void
unary_ops (void)
{
  static const struct {
    const char *op;
    float lo, hi;
  } u[] = {
    { "Relu", -2, 2 },         { "Sigmoid", -6, 6 },
    { "Tanh", -3, 3 },         { "Elu", -2, 2 },
    { "Selu", -2, 2 },         { "HardSigmoid", -4, 4 },
    { "HardSwish", -4, 4 },    { "Abs", -2, 2 },
    { "Neg", -2, 2 },          { "Exp", -3, 3 },
    { "Log", 0.1f, 5 },        { "Sqrt", 0.01f, 5 },
    { "Reciprocal", 0.5f, 3 }, { "Floor", -5, 5 },
    { "Ceil", -5, 5 },         { "Softplus", -5, 5 },
    { "Softsign", -5, 5 },     { "Sin", -4, 4 },
    { "Cos", -4, 4 },          { "Tan", -1, 1 },
    { "Asin", -0.9f, 0.9f },   { "Acos", -0.9f, 0.9f },
    { "Atan", -3, 3 },         { "Sinh", -3, 3 },
    { "Cosh", -3, 3 },         { "Asinh", -3, 3 },
    { "Acosh", 1.1f, 4 },      { "Atanh", -0.9f, 0.9f },
    { "Erf", -3, 3 },          { "Round", -5, 5 },
    { "Sign", -2, 2 },         { "ThresholdedRelu", -3, 3 },
    { "Celu", -2, 2 },         { "Shrink", -2, 2 },
    { "Mish", -4, 4 },         { "Identity", -1, 1 },
    { "LeakyRelu", -2, 2 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (u); i++) {
    ThNode *n = th_node_new (u[i].op, 1, 1);
    if (strcmp (u[i].op, "LeakyRelu") == 0)
      th_attr_float (n, "alpha", 0.2f);
    MaceTensor *in[1] = { RND (u[i].lo, u[i].hi, 2, 3, 17) };
    check_op (u[i].op, n, 17, in, 0);
  }
  ThNode *n = th_node_new ("Clip", 3, 1);
  MaceTensor *in[3] = { RND (-2, 2, 4, 33), scalar (-0.5f), scalar (0.7f) };
  check_op ("Clip const bounds", n, 13, in, 6);
  n = th_node_new ("Clip", 3, 1);
  MaceTensor *in2[3] = { RND (-2, 2, 4, 33), scalar (-0.5f), scalar (0.7f) };
  check_op ("Clip runtime bounds", n, 13, in2, 0);
}

static void
binary_ops (void)
{
  static const char *const ops[]
      = { "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min" };
  for (size_t i = 0; i < G_N_ELEMENTS (ops); i++) {
    char label[64];
    bool pos = strcmp (ops[i], "Pow") == 0 || strcmp (ops[i], "Div") == 0;
    ThNode *n = th_node_new (ops[i], 2, 1);
    MaceTensor *in[2] = { RND (pos ? 0.5f : -2, 2, 2, 3, 4),
                          RND (pos ? 0.5f : -2, 2, 2, 3, 4) };
    snprintf (label, sizeof label, "%s same", ops[i]);
    check_op (label, n, 14, in, 0);
    n = th_node_new (ops[i], 2, 1);
    MaceTensor *in2[2] = { RND (pos ? 0.5f : -2, 2, 2, 1, 4, 5),
                           RND (pos ? 0.5f : -2, 2, 3, 1, 5) };
    snprintf (label, sizeof label, "%s broadcast", ops[i]);
    check_op (label, n, 14, in2, 0);
  }
  ThNode *n = th_node_new ("Add", 2, 1);
  MaceTensor *in[2] = { RND (-1, 1, 2, 3, 4), scalar (0.25f) };
  check_op ("Add scalar", n, 14, in, 2);
  n = th_node_new ("PRelu", 2, 1);
  MaceTensor *in2[2] = { RND (-1, 1, 1, 3, 4, 4), RND (0, 1, 3, 1, 1) };
  check_op ("PRelu", n, 16, in2, 2);
  n = th_node_new ("Sum", 3, 1);
  MaceTensor *in3[3] = { RND (-1, 1, 2, 3), RND (-1, 1, 3), RND (-1, 1, 2, 1) };
  check_op ("Sum variadic", n, 13, in3, 0);
  n = th_node_new ("Mean", 3, 1);
  MaceTensor *in4[3] = { RND (-1, 1, 2, 3), RND (-1, 1, 3), RND (-1, 1, 2, 3) };
  check_op ("Mean variadic", n, 13, in4, 0);
}

static void
conv_ops (void)
{
  struct {
    const char *label;
    int64_t c, m, k, s, p, d, g;
    bool bias;
    int act;
  } cs[] = {
    { "Conv general 5x5", 3, 4, 5, 1, 2, 1, 1, true, MACE_ACT_NONE },
    { "Conv 3x3 s2 relu", 4, 6, 3, 2, 1, 1, 1, true, MACE_ACT_RELU },
    { "Conv 1x1", 8, 5, 1, 1, 0, 1, 1, true, MACE_ACT_NONE },
    { "Conv depthwise", 6, 6, 3, 1, 1, 1, 6, true, MACE_ACT_CLIP },
    { "Conv groups dilation", 4, 6, 3, 1, 2, 2, 2, false, MACE_ACT_LEAKYRELU },
    { "Conv 3x3 hardswish", 3, 4, 3, 1, 1, 1, 1, true, MACE_ACT_HARDSWISH },
    { "Conv 1x1 sigmoid", 3, 4, 1, 1, 0, 1, 1, false, MACE_ACT_SIGMOID },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cs); i++) {
    ThNode *n = th_node_new ("Conv", 3, 1);
    int64_t pads[4] = { cs[i].p, cs[i].p, cs[i].p, cs[i].p };
    int64_t st[2] = { cs[i].s, cs[i].s }, dl[2] = { cs[i].d, cs[i].d };
    int64_t ks[2] = { cs[i].k, cs[i].k };
    th_attr_ints (n, "pads", 4, pads);
    th_attr_ints (n, "strides", 2, st);
    th_attr_ints (n, "dilations", 2, dl);
    th_attr_ints (n, "kernel_shape", 2, ks);
    th_attr_int (n, "group", cs[i].g);
    n->node.act = cs[i].act;
    n->node.act_alpha = cs[i].act == MACE_ACT_CLIP ? 0.0f : 0.1f;
    n->node.act_beta = 0.5f;
    MaceTensor *in[3] = {
      RND (-1, 1, 1, cs[i].c, 11, 9),
      RND (-1, 1, cs[i].m, cs[i].c / cs[i].g, cs[i].k, cs[i].k),
      cs[i].bias ? RND (-1, 1, cs[i].m) : NULL,
    };
    check_op (cs[i].label, n, 13, in, 6);
  }
  /* Conv + fused residual. */
  ThNode *n = th_node_new ("Conv", 4, 1);
  int64_t pads[4] = { 1, 1, 1, 1 };
  th_attr_ints (n, "pads", 4, pads);
  n->node.fused_add = 3;
  n->node.act = MACE_ACT_RELU;
  MaceTensor *in[4] = { RND (-1, 1, 1, 3, 8, 8), RND (-1, 1, 4, 3, 3, 3),
                        RND (-1, 1, 4), RND (-1, 1, 1, 4, 8, 8) };
  check_op ("Conv fused add", n, 13, in, 6);
  n = th_node_new ("ConvTranspose", 3, 1);
  int64_t st[2] = { 2, 2 };
  th_attr_ints (n, "strides", 2, st);
  th_attr_ints (n, "pads", 4, pads);
  MaceTensor *in2[3]
      = { RND (-1, 1, 1, 4, 5, 6), RND (-1, 1, 4, 3, 3, 3), RND (-1, 1, 3) };
  check_op ("ConvTranspose", n, 13, in2, 6);
}

static void
pool_ops (void)
{
  int64_t k[2] = { 3, 3 }, s[2] = { 2, 2 }, p[4] = { 1, 1, 1, 1 };
  static const char *const ops[] = { "MaxPool", "AveragePool" };
  for (int i = 0; i < 2; i++) {
    ThNode *n = th_node_new (ops[i], 1, 1);
    th_attr_ints (n, "kernel_shape", 2, k);
    th_attr_ints (n, "strides", 2, s);
    th_attr_ints (n, "pads", 4, p);
    MaceTensor *in[1] = { RND (-1, 1, 2, 3, 10, 11) };
    check_op (ops[i], n, 13, in, 0);
  }
  ThNode *n = th_node_new ("AveragePool", 1, 1);
  th_attr_ints (n, "kernel_shape", 2, k);
  th_attr_ints (n, "pads", 4, p);
  th_attr_int (n, "count_include_pad", 1);
  MaceTensor *in[1] = { RND (-1, 1, 1, 2, 7, 7) };
  check_op ("AveragePool include pad", n, 13, in, 0);
  n = th_node_new ("GlobalAveragePool", 1, 1);
  MaceTensor *in2[1] = { RND (-1, 1, 2, 5, 6, 7) };
  check_op ("GlobalAveragePool", n, 13, in2, 0);
  n = th_node_new ("GlobalMaxPool", 1, 1);
  MaceTensor *in3[1] = { RND (-1, 1, 2, 5, 6, 7) };
  check_op ("GlobalMaxPool", n, 13, in3, 0);
}

static void
movement_ops (void)
{
  ThNode *n = th_node_new ("Transpose", 1, 1);
  int64_t perm[4] = { 0, 2, 3, 1 };
  th_attr_ints (n, "perm", 4, perm);
  MaceTensor *in[1] = { RND (-1, 1, 2, 3, 4, 5) };
  check_op ("Transpose", n, 13, in, 0);

  n = th_node_new ("Concat", 3, 1);
  th_attr_int (n, "axis", 1);
  MaceTensor *in2[3]
      = { RND (-1, 1, 2, 3, 4), RND (-1, 1, 2, 1, 4), RND (-1, 1, 2, 2, 4) };
  check_op ("Concat", n, 13, in2, 0);

  n = th_node_new ("Split", 2, 2);
  th_attr_int (n, "axis", 1);
  MaceTensor *in3[2] = { RND (-1, 1, 2, 5, 3), INTS (2, 3) };
  check_op ("Split", n, 13, in3, 2);

  n = th_node_new ("Slice", 5, 1);
  MaceTensor *in4[5] = { RND (-1, 1, 6, 7, 8), INTS (1, -1), INTS (5, -7),
                         INTS (0, 2), INTS (2, -2) };
  check_op ("Slice steps", n, 13, in4, 30);

  static const char *const modes[] = { "constant", "reflect", "edge" };
  for (int i = 0; i < 3; i++) {
    char label[64];
    snprintf (label, sizeof label, "Pad %s", modes[i]);
    n = th_node_new ("Pad", 3, 1);
    th_attr_string (n, "mode", modes[i]);
    MaceTensor *in5[3] = { RND (-1, 1, 1, 2, 5, 6),
                           INTS (0, 0, 2, 1, 0, 0, 1, 3), scalar (0.5f) };
    check_op (label, n, 13, in5, 6);
  }
  static const char *const reshapes[] = { "Flatten", "Reshape" };
  for (int i = 0; i < 2; i++) {
    n = th_node_new (reshapes[i], i ? 2 : 1, 1);
    MaceTensor *in6[2] = { RND (-1, 1, 2, 3, 4), i ? INTS (4, -1) : NULL };
    check_op (reshapes[i], n, 13, in6, 2);
  }
  n = th_node_new ("Unsqueeze", 2, 1);
  MaceTensor *in6b[2] = { RND (-1, 1, 3, 4), INTS (0) };
  check_op ("Unsqueeze", n, 13, in6b, 2);
  n = th_node_new ("Squeeze", 2, 1);
  MaceTensor *in6c[2] = { RND (-1, 1, 3, 1, 4), INTS (1) };
  check_op ("Squeeze", n, 13, in6c, 2);
  n = th_node_new ("DepthToSpace", 1, 1);
  th_attr_int (n, "blocksize", 2);
  th_attr_string (n, "mode", "CRD");
  MaceTensor *in7[1] = { RND (-1, 1, 1, 8, 3, 4) };
  check_op ("DepthToSpace CRD", n, 13, in7, 0);
  n = th_node_new ("DepthToSpace", 1, 1);
  th_attr_int (n, "blocksize", 2);
  MaceTensor *in7b[1] = { RND (-1, 1, 1, 8, 3, 4) };
  check_op ("DepthToSpace DCR", n, 13, in7b, 0);
  n = th_node_new ("SpaceToDepth", 1, 1);
  th_attr_int (n, "blocksize", 2);
  MaceTensor *in8[1] = { RND (-1, 1, 1, 2, 4, 6) };
  check_op ("SpaceToDepth", n, 13, in8, 0);
  n = th_node_new ("Expand", 2, 1);
  MaceTensor *in9[2] = { RND (-1, 1, 3, 1), INTS (2, 3, 4) };
  check_op ("Expand", n, 13, in9, 2);
  n = th_node_new ("Tile", 2, 1);
  MaceTensor *in10[2] = { RND (-1, 1, 2, 3), INTS (2, 3) };
  check_op ("Tile", n, 13, in10, 2);
}

static void
reduce_ops (void)
{
  static const char *const ops[]
      = { "ReduceSum",       "ReduceMean",     "ReduceMax", "ReduceMin",
          "ReduceProd",      "ReduceL1",       "ReduceL2",  "ReduceLogSum",
          "ReduceLogSumExp", "ReduceSumSquare" };
  for (size_t i = 0; i < G_N_ELEMENTS (ops); i++) {
    ThNode *n = th_node_new (ops[i], 2, 1);
    th_attr_int (n, "keepdims", (int64_t)(i % 2));
    MaceTensor *in[2] = { RND (0.5f, 1.5f, 3, 4, 5), INTS (0, 2) };
    check_op (ops[i], n, 18, in, 2);
  }
}

static void
other_ops (void)
{
  static const char *const sm[] = { "Softmax", "LogSoftmax", "Hardmax" };
  for (int i = 0; i < 3; i++) {
    ThNode *n = th_node_new (sm[i], 1, 1);
    th_attr_int (n, "axis", 1);
    MaceTensor *in[1] = { RND (-3, 3, 2, 7, 3) };
    check_op (sm[i], n, 13, in, 0);
  }
  ThNode *n = th_node_new ("Gemm", 3, 1);
  th_attr_int (n, "transB", 1);
  th_attr_float (n, "alpha", 0.5f);
  MaceTensor *in[3]
      = { RND (-1, 1, 20, 33), RND (-1, 1, 18, 33), RND (-1, 1, 18) };
  check_op ("Gemm transB bias", n, 13, in, 0);
  n = th_node_new ("MatMul", 2, 1);
  MaceTensor *in2[2] = { RND (-1, 1, 2, 1, 17, 19), RND (-1, 1, 3, 19, 21) };
  check_op ("MatMul batched", n, 13, in2, 0);
  n = th_node_new ("MatMul", 2, 1);
  MaceTensor *in3[2] = { RND (-1, 1, 3, 4), RND (-1, 1, 4, 5) };
  check_op ("MatMul small", n, 13, in3, 0);
  n = th_node_new ("BatchNormalization", 5, 1);
  MaceTensor *in4[5] = { RND (-1, 1, 2, 3, 4, 5), RND (0.5f, 1.5f, 3),
                         RND (-1, 1, 3), RND (-1, 1, 3), RND (0.5f, 2, 3) };
  check_op ("BatchNormalization", n, 15, in4, 30);
  n = th_node_new ("InstanceNormalization", 3, 1);
  MaceTensor *in5[3]
      = { RND (-1, 1, 2, 3, 4, 5), RND (0.5f, 1.5f, 3), RND (-1, 1, 3) };
  check_op ("InstanceNormalization", n, 13, in5, 6);
  n = th_node_new ("LayerNormalization", 3, 1);
  th_attr_int (n, "axis", -2);
  MaceTensor *in6[3]
      = { RND (-1, 1, 2, 3, 4, 5), RND (0.5f, 1.5f, 4, 5), RND (-1, 1, 4, 5) };
  check_op ("LayerNormalization", n, 17, in6, 0);
  n = th_node_new ("LRN", 1, 1);
  th_attr_int (n, "size", 3);
  MaceTensor *in7[1] = { RND (-1, 1, 1, 6, 3, 3) };
  check_op ("LRN", n, 13, in7, 0);
  static const char *const modes[] = { "nearest", "linear", "cubic" };
  for (int i = 0; i < 3; i++) {
    char label[64];
    snprintf (label, sizeof label, "Resize %s", modes[i]);
    n = th_node_new ("Resize", 3, 1);
    th_attr_string (n, "mode", modes[i]);
    float sc[4] = { 1, 1, 2.0f, 1.5f };
    int64_t d4[1] = { 4 };
    MaceTensor *s = th_tensor (MACE_DTYPE_FLOAT32, 1, d4);
    memcpy (mace_tensor_data (s), sc, sizeof sc);
    MaceTensor *in8[3] = { RND (-1, 1, 1, 2, 5, 6), NULL, s };
    check_op (label, n, 13, in8, 4);
  }
}

static void
typed_ops (void)
{
  static const char *const arg[] = { "ArgMax", "ArgMin" };
  for (int i = 0; i < 2; i++) {
    ThNode *n = th_node_new (arg[i], 1, 1);
    th_attr_int (n, "axis", 1);
    th_attr_int (n, "keepdims", i);
    MaceTensor *in[1] = { RND (-1, 1, 3, 7, 4) };
    check_op (arg[i], n, 13, in, 0);
  }
  static const char *const cmp[]
      = { "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual" };
  for (int i = 0; i < 5; i++) {
    ThNode *n = th_node_new (cmp[i], 2, 1);
    MaceTensor *in[2] = { RND (-1, 1, 2, 3, 4), RND (-1, 1, 4) };
    if (i == 0) /* make some elements equal */
      ((float *)mace_tensor_data (in[0]))[1]
          = ((float *)mace_tensor_data (in[1]))[1];
    check_op (cmp[i], n, 16, in, 0);
  }
  ThNode *n = th_node_new ("IsNaN", 1, 1);
  MaceTensor *in[1] = { RND (-1, 1, 10) };
  ((float *)mace_tensor_data (in[0]))[3] = NAN;
  check_op ("IsNaN", n, 13, in, 0);
  n = th_node_new ("IsInf", 1, 1);
  MaceTensor *in1[1] = { RND (-1, 1, 10) };
  ((float *)mace_tensor_data (in1[0]))[2] = INFINITY;
  ((float *)mace_tensor_data (in1[0]))[5] = -INFINITY;
  check_op ("IsInf", n, 13, in1, 0);
  n = th_node_new ("Where", 3, 1);
  int64_t cd[2] = { 3, 1 };
  MaceTensor *c = th_tensor (MACE_DTYPE_BOOL, 2, cd);
  ((uint8_t *)mace_tensor_data (c))[0] = 1;
  ((uint8_t *)mace_tensor_data (c))[2] = 1;
  MaceTensor *in2[3] = { c, RND (-1, 1, 3, 4), RND (-1, 1, 4) };
  check_op ("Where", n, 16, in2, 0);
  n = th_node_new ("Gather", 2, 1);
  th_attr_int (n, "axis", 1);
  MaceTensor *in3[2] = { RND (-1, 1, 3, 5, 2), INTS (4, 0, -1, 2) };
  check_op ("Gather", n, 13, in3, 0);
  n = th_node_new ("GatherElements", 2, 1);
  th_attr_int (n, "axis", 0);
  int64_t id[2] = { 2, 3 };
  MaceTensor *ix = th_tensor (MACE_DTYPE_INT64, 2, id);
  int64_t iv[6] = { 0, 2, 1, -1, 0, 2 };
  memcpy (mace_tensor_data (ix), iv, sizeof iv);
  MaceTensor *in4[2] = { RND (-1, 1, 3, 3), ix };
  check_op ("GatherElements", n, 13, in4, 0);
}

static bool
have_device (void)
{
  cl_uint np = 0;
  if (clGetPlatformIDs (0, NULL, &np) != CL_SUCCESS || np == 0)
    return false;
  cl_platform_id p[8];
  clGetPlatformIDs (np > 8 ? 8 : np, p, NULL);
  for (cl_uint i = 0; i < np && i < 8; i++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs (p[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) == CL_SUCCESS
        && nd > 0)
      return true;
  }
  return false;
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  if (!have_device ()) {
    printf ("no OpenCL device: skipped\n");
    return 77;
  }
  only = argc > 1 ? argv[1] : NULL;
  const char *build = getenv ("MACE_BUILD_ROOT");
  char *cache = g_build_filename (build ? build : ".", "tests",
                                  "cl-test-programs.bin", NULL);
  char *tuning = g_build_filename (build ? build : ".", "tests",
                                   "cl-test-tuning.bin", NULL);
  config = mace_config_new ();
  mace_config_set_backend (config, MACE_BACKEND_OPENCL);
  mace_config_set_allow_fallback (config, 0);
  mace_config_set_program_cache (config, cache, "read-write");
  mace_config_set_tuning_cache (config, tuning, 0);
  unary_ops ();
  binary_ops ();
  conv_ops ();
  pool_ops ();
  movement_ops ();
  reduce_ops ();
  other_ops ();
  typed_ops ();
  printf ("%d ok, %d not supported\n", n_passed, n_unsupported);
  mace_config_free (config);
  g_free (cache);
  g_free (tuning);
  return th_finish ();
}
