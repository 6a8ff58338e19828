/* SPDX-License-Identifier: Apache-2.0
 * The interface between the OpenCL backend (backend.c) and its op
 * families (ops_*.c).  At prepare time an op turns one node into a list of
 * launches with every kernel argument set; run() only enqueues them. */
#ifndef MACE_CL_OPS_H
#define MACE_CL_OPS_H

#include "cl/device.h"
#include "../../kernels/opcodes.h"

/* One enqueue: a kernel over an NDRange, or a buffer copy. */
typedef struct {
  cl_kernel kernel; /* NULL: buffer copy */
  char *name;       /* kernel name, for tuning keys and messages */
  cl_uint dim;
  size_t gws[3];
  size_t lws[3];  /* chosen at prepare (tuner); 0 = driver's choice */
  bool fixed_lws; /* the kernel needs exactly lws (tiled kernels) */
  int n_args;
  cl_int arg_rc;   /* first clSetKernelArg failure */
  cl_mem src, dst; /* buffer copy */
  size_t src_off, dst_off, bytes;
  /* MACE_CL_PROFILE: summed device time and count of this launch. */
  double prof_ns;
  int64_t prof_n;
} MaceClLaunch;

typedef struct MaceClOpCtx MaceClOpCtx;
struct MaceClOpCtx {
  MaceClDevice *dev;
  MaceGraph *graph;
  MaceNode *node;
  int64_t opset;
  MaceError *err;
  char why[256]; /* why the node cannot run here (UNSUPPORTED) */
  /* Owned by backend.c. */
  void *backend;
  void *plan;
  /* Layout folds the backend chose for this node (Conv and MaceDwPwConv
   * only; backend.c choose_folds): x_nhwc >= 0: read input 0 from that
   * value, stored NHWC (a Transpose to NCHW folded in); y_nhwc: store
   * output 0 as NHWC (a Transpose to NHWC folded in); res_pool >= 0: the
   * residual is the res_pool_k x res_pool_k, stride res_pool_k max pool of
   * that value (a MaxPool folded in).  An op that honours them sets
   * folds_done; the backend treats a refusal as an internal error. */
  int x_nhwc;
  bool y_nhwc;
  int res_pool, res_pool_k;
  bool folds_done;
};

/* The device buffer of value vi (created on first use). */
cl_mem mace_cl_value_mem (MaceClOpCtx *ctx, int vi);

/* Plans one node; returns MACE_OK, MACE_ERROR_UNSUPPORTED (with ctx->why:
 * the node goes to the CPU) or another error (with ctx->err). */
typedef MaceStatus (*MaceClPlanFunc) (MaceClOpCtx *ctx);
typedef struct {
  const char *op_type;
  MaceClPlanFunc plan;
  /* false: the backend only offers float32 tensors (constants excepted);
   * true: the op takes other types (int64 indices, bool) and checks its
   * inputs' and outputs' types itself. */
  bool typed;
} MaceClOp;

/* Op tables, one per ops_*.c, each ending with {NULL}. */
extern const MaceClOp mace_cl_ops_elementwise[];
extern const MaceClOp mace_cl_ops_conv[];
extern const MaceClOp mace_cl_ops_pool[];
extern const MaceClOp mace_cl_ops_movement[];
extern const MaceClOp mace_cl_ops_reduce[];
extern const MaceClOp mace_cl_ops_gemm[];
extern const MaceClOp mace_cl_ops_norm[];
extern const MaceClOp mace_cl_ops_resize[];
extern const MaceClOp mace_cl_ops_softmax[];

/* The entry of an op type, NULL when there is no kernel. */
const MaceClOp *mace_cl_op_lookup (const char *op_type);

/* ---- Helpers for ops (backend.c) ---- */

/* Fills ctx->why; returns MACE_ERROR_UNSUPPORTED. */
MaceStatus mace_cl_unsupported (MaceClOpCtx *ctx, const char *fmt, ...)
    MACE_PRINTF (2, 3);
/* For typed ops: true when every present input k has dtype in[k] and
 * every output k out[k]; else fills ctx->why and returns false. */
bool mace_cl_check_dtypes (MaceClOpCtx *ctx, const MaceDataType *in, int n_in,
                           const MaceDataType *out, int n_out);
/* Input/output k of the node: value (NULL when absent). */
const MaceValue *mace_cl_in (MaceClOpCtx *ctx, int k);
const MaceValue *mace_cl_out (MaceClOpCtx *ctx, int k);
/* Device buffer of input / output k (created on first use; constants are
 * uploaded).  NULL with ctx->err set on failure. */
cl_mem mace_cl_in_mem (MaceClOpCtx *ctx, int k);
cl_mem mace_cl_out_mem (MaceClOpCtx *ctx, int k);
/* Reads the integer values of constant input k into v (at most max).
 * Returns the count, or -1 when the input is absent or not constant. */
int mace_cl_const_ints (MaceClOpCtx *ctx, int k, int64_t *v, int max);
/* Same for floats. */
int mace_cl_const_floats (MaceClOpCtx *ctx, int k, float *v, int max);

/* Appends a launch of kernel `kernel` from program `family` (dim 1-3,
 * gws given; lws left to the tuner).  NULL with ctx->err on failure. */
MaceClLaunch *mace_cl_launch (MaceClOpCtx *ctx, const char *family,
                              const char *kernel, cl_uint dim,
                              const size_t *gws);
/* Appends a device-to-device copy. */
void mace_cl_copy (MaceClOpCtx *ctx, cl_mem src, size_t src_off, cl_mem dst,
                   size_t dst_off, size_t bytes);
/* Kernel arguments, in order. */
void mace_cl_arg_mem (MaceClLaunch *l, cl_mem m);
void mace_cl_arg_int (MaceClLaunch *l, int v);
void mace_cl_arg_float (MaceClLaunch *l, float v);
/* A read-only int buffer holding p[0..n) as the next argument (owned by
 * the node's plan). */
void mace_cl_arg_ints (MaceClOpCtx *ctx, MaceClLaunch *l, const int *p, int n);
/* A read-only float buffer (scale tables...) as the next argument. */
void mace_cl_arg_floats (MaceClOpCtx *ctx, MaceClLaunch *l, const float *p,
                         int n);

/* Plans y = reduce(x) over the axes marked in `reduced` (x's rank); op
 * is a ROP_* code (ops_reduce.c, used by the global pools too). */
MaceStatus mace_cl_plan_reduce (MaceClOpCtx *ctx, cl_mem x, cl_mem y,
                                const MaceTensor *xt, const bool *reduced,
                                int op);

/* Row-major strides of dims (elements). */
void mace_cl_strides (int ndim, const int64_t *dims, int64_t *strides);
/* Normalises a possibly negative axis; -1 when out of range. */
int mace_cl_axis (int64_t axis, int ndim);

#endif
