/* SPDX-License-Identifier: Apache-2.0
 * Internal types shared by the runtime: tensors, the graph IR, op
 * definitions, the thread pool and error helpers.  Not installed. */
#ifndef MACE_INTERNAL_H
#define MACE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mace.h"

#if defined(__GNUC__)
#define MACE_PRINTF(a, b) __attribute__ ((format (printf, a, b)))
#else
#define MACE_PRINTF(a, b)
#endif

/* ---- Tensor ---------------------------------------------------------- */

struct MaceTensor {
  MaceDataType dtype;
  int ndim;
  int64_t dims[MACE_MAX_DIMS];
  void *data;      /* NULL until allocated */
  size_t capacity; /* bytes available at data */
  bool owns_data;  /* data was malloc'ed by this tensor */
};

/* Initialises t in place (no allocation). */
void mace_tensor_init (MaceTensor *t, MaceDataType dtype, int ndim,
                       const int64_t *dims);
/* Makes sure t->data holds at least nbytes(t); reallocates owned storage
 * or allocates when data is NULL.  Returns MACE_OK or OUT_OF_MEMORY. */
MaceStatus mace_tensor_alloc (MaceTensor *t);
/* Frees owned storage and resets data (the struct itself is not freed). */
void mace_tensor_clear (MaceTensor *t);
/* Deep copy of shape, type and data into dst (dst's storage reused). */
MaceStatus mace_tensor_copy (MaceTensor *dst, const MaceTensor *src);
int64_t mace_shape_numel (int ndim, const int64_t *dims);
/* "1x3x224x224" into buf. */
const char *mace_shape_str (int ndim, const int64_t *dims, char *buf,
                            size_t len);
bool mace_shape_equal (int na, const int64_t *a, int nb, const int64_t *b);
/* Multidirectional (numpy) broadcast of a and b into out; false if
 * incompatible. */
bool mace_broadcast_shape (int na, const int64_t *a, int nb, const int64_t *b,
                           int *nout, int64_t *out);
/* float16 / bfloat16 <-> float32, round to nearest even, NaN kept. */
static inline float
mace_half_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        exp--;
      }
      man &= 0x3ff;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Round to nearest even; overflow gives infinity, NaN stays NaN. */
static inline uint16_t
mace_f32_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000)
    return (uint16_t)(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
  if (ax >= 0x477ff000) /* rounds to >= 65520: infinity */
    return (uint16_t)(sign | 0x7c00);
  if (ax < 0x38800000) { /* below the smallest normal half: subnormal */
    if (ax < 0x33000000) /* below half of the smallest subnormal */
      return (uint16_t)sign;
    uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1)))
      r++;
    return (uint16_t)(sign | r);
  }
  uint32_t r = ax - 0x38000000; /* rebias 127 -> 15 (in place) */
  uint32_t h = r >> 13, rem = r & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    h++;
  return (uint16_t)(sign | h);
}

static inline float
mace_bf16_to_f32 (uint16_t h)
{
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Round to nearest even; NaN stays NaN. */
static inline uint16_t
mace_f32_to_bf16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

/* Writes v into element i of any numeric tensor (float16 and bfloat16
 * rounded to nearest even, integers converted as C does). */
void mace_tensor_set_f64 (MaceTensor *t, int64_t i, double v);
/* Reads element i of any numeric tensor as double / int64. */
double mace_tensor_get_f64 (const MaceTensor *t, int64_t i);
int64_t mace_tensor_get_i64 (const MaceTensor *t, int64_t i);

/* ---- Graph IR -------------------------------------------------------- */

/* Attribute types use ONNX AttributeProto.AttributeType numbering. */
typedef enum {
  MACE_ATTR_UNDEFINED = 0,
  MACE_ATTR_FLOAT = 1,
  MACE_ATTR_INT = 2,
  MACE_ATTR_STRING = 3,
  MACE_ATTR_TENSOR = 4,
  MACE_ATTR_GRAPH = 5,
  MACE_ATTR_FLOATS = 6,
  MACE_ATTR_INTS = 7,
  MACE_ATTR_STRINGS = 8,
} MaceAttrType;

typedef struct {
  char *name;
  MaceAttrType type;
  float f;
  int64_t i;
  char *s; /* NUL terminated copy */
  int n;   /* element count of floats / ints / strings */
  float *floats;
  int64_t *ints;
  char **strings;
  MaceTensor *t;
} MaceAttr;

/* Activation fused into a producer (Conv, Gemm...). */
typedef enum {
  MACE_ACT_NONE = 0,
  MACE_ACT_RELU,
  MACE_ACT_CLIP,      /* alpha = min, beta = max */
  MACE_ACT_LEAKYRELU, /* alpha */
  MACE_ACT_HARDSWISH,
  MACE_ACT_SIGMOID,
} MaceActivation;

/* Applies act to n floats in place (src/ops/activation.c); for kernels
 * with a fused activation.  alpha / beta as in MaceNode.act_alpha/beta. */
void mace_apply_activation_f32 (float *x, int64_t n, MaceActivation act,
                                float alpha, float beta);

typedef struct MaceOpDef MaceOpDef;

typedef struct {
  char *name;
  char *op_type;
  char *domain;
  int n_in, n_out;
  int *in;  /* value indices; -1 = optional input left out */
  int *out; /* value indices */
  int n_attr;
  MaceAttr *attrs;
  const MaceOpDef *def; /* resolved at load time */
  bool dead;            /* removed by an optimiser pass */
  /* Fusion results, read by kernels that support them (Conv). */
  MaceActivation act;
  float act_alpha, act_beta;
  int fused_add; /* index into in[] of a residual added before act, or -1 */
  void *state;   /* op-private prepared data (packed weights...) */
  void (*state_free) (void *state);
} MaceNode;

typedef struct {
  char *name;
  MaceTensor t;         /* dtype + shape; data for constants */
  bool is_const;        /* initializer, Constant, or folded */
  bool is_input;        /* graph input (not an initializer) */
  bool is_output;       /* graph output */
  bool shape_known;     /* dtype + shape set by shape inference */
  bool dynamic;         /* shape only known at run time */
  int producer;         /* node index or -1 */
  int n_consumers;      /* live consumer count, maintained by passes */
  int64_t arena_offset; /* from the memory plan, -1 = not in the arena */
  int64_t declared_dims[MACE_MAX_DIMS]; /* from value_info / io, -1 = dyn */
  int declared_ndim;                    /* -1 = unknown */
} MaceValue;

typedef struct {
  char *path; /* for messages */
  int64_t opset;
  int64_t ir_version;
  int n_values, cap_values;
  MaceValue *values;
  int n_nodes, cap_nodes;
  MaceNode *nodes; /* topologically sorted after load */
  int n_inputs, n_outputs;
  int *inputs;  /* value indices of real inputs (initializers excluded) */
  int *outputs; /* value indices */
  int64_t n_nodes_original;
  int64_t n_params;
} MaceGraph;

MaceGraph *mace_graph_new (const char *path);
void mace_graph_free (MaceGraph *g);
/* Index of the value called name, creating it when create is true. */
int mace_graph_value (MaceGraph *g, const char *name, bool create);
/* Appends a node (copies nothing: takes ownership of the arrays). */
MaceNode *mace_graph_add_node (MaceGraph *g);
/* Recomputes producers / consumer counts from the live nodes. */
void mace_graph_link (MaceGraph *g);
/* Sorts live nodes topologically; fails with a message on a cycle or a
 * value that nothing produces. */
MaceStatus mace_graph_toposort (MaceGraph *g, MaceError *err);
/* Drops dead nodes from the array (indices change). */
void mace_graph_compact (MaceGraph *g);

/* Attribute lookup helpers; `def` when missing. */
const MaceAttr *mace_node_attr (const MaceNode *n, const char *name);
int64_t mace_attr_int (const MaceNode *n, const char *name, int64_t def);
float mace_attr_float (const MaceNode *n, const char *name, float def);
/* NULL when missing. */
const char *mace_attr_string (const MaceNode *n, const char *name,
                              const char *def);
/* Returns the array and sets *count, or NULL with *count = 0. */
const int64_t *mace_attr_ints (const MaceNode *n, const char *name, int *count);
const float *mace_attr_floats (const MaceNode *n, const char *name, int *count);

/* ---- ONNX import ----------------------------------------------------- */

/* Parses ONNX bytes into a graph (not yet checked against op support).
 * `path` is used in messages only. */
MaceGraph *mace_onnx_load (const void *data, size_t size, const char *path,
                           MaceError *err);
/* TensorProto bytes <-> tensor. */
MaceStatus mace_onnx_parse_tensor (const void *data, size_t size,
                                   const char *path, MaceTensor **out,
                                   char **name, MaceError *err);
MaceStatus mace_onnx_serialize_tensor (const MaceTensor *t, const char *name,
                                       uint8_t **out, size_t *len,
                                       MaceError *err);

/* ---- Thread pool ----------------------------------------------------- */

typedef struct MaceThreadPool MaceThreadPool;

/* n_threads <= 0 means number of online cores.  A pool of 1 runs
 * everything on the calling thread. */
MaceThreadPool *mace_threadpool_new (int n_threads);
void mace_threadpool_free (MaceThreadPool *pool);
int mace_threadpool_size (const MaceThreadPool *pool);
/* Calls fn(arg, begin, end) over [0, n) split in chunks across the pool
 * (the caller participates) and waits for all of them.  pool may be NULL
 * (serial).  Not reentrant: fn must not call parallel_for itself. */
typedef void (*MaceRangeFunc) (void *arg, int64_t begin, int64_t end);
void mace_parallel_for (MaceThreadPool *pool, int64_t n, MaceRangeFunc fn,
                        void *arg);

/* ---- Ops ------------------------------------------------------------- */

typedef struct {
  MaceNode *node;
  const MaceGraph *graph;
  int64_t opset;
  int n_in, n_out;
  MaceTensor **in;  /* NULL entries for absent optional inputs */
  MaceTensor **out; /* infer sets dtype/ndim/dims; run writes data */
  MaceThreadPool *pool;
  MaceError *err;
} MaceOpCtx;

/* Sets ctx->err to a message prefixed with the node's name and op type.
 * Returns `status` for `return mace_op_fail (...)`. */
MaceStatus mace_op_fail (MaceOpCtx *ctx, MaceStatus status, const char *fmt,
                         ...) MACE_PRINTF (3, 4);

struct MaceOpDef {
  const char *op_type; /* ONNX op_type, default domain */
  /* Load-time check of attributes, input count and opset.  Returns MACE_OK
   * or MACE_ERROR_UNSUPPORTED with a reason in msg.  Optional. */
  MaceStatus (*check) (const MaceNode *node, int64_t opset, char *msg,
                       size_t len);
  /* Sets dtype and shape of every output from the inputs' dtypes/shapes.
   * Inputs listed in value_inputs have data; others may have data == NULL.
   * Required. */
  MaceStatus (*infer) (MaceOpCtx *ctx);
  /* Computes outputs (already allocated with the inferred shapes). */
  MaceStatus (*run) (MaceOpCtx *ctx);
  /* Bit i set: the *values* of input i are needed to infer output shapes
   * (e.g. Reshape's shape).  If such an input is not constant, the node's
   * outputs are dynamic and shapes are inferred at run time. */
  uint32_t value_inputs;
  /* Optional: called once after shapes are known, with constant inputs
   * available, to prepare node->state (packed weights...). */
  MaceStatus (*prepare) (MaceOpCtx *ctx);
};

/* Looks an op up by type; NULL when unsupported. */
const MaceOpDef *mace_op_lookup (const char *op_type);
/* Calls func for every registered op type (for docs / `info`). */
void mace_op_foreach (void (*func) (const MaceOpDef *def, void *data),
                      void *data);

/* Op tables, one per file in src/ops/, each ending with a {NULL} entry. */
extern const MaceOpDef mace_ops_elementwise[];
extern const MaceOpDef mace_ops_activation[];
extern const MaceOpDef mace_ops_reduce[];
extern const MaceOpDef mace_ops_shape[];
extern const MaceOpDef mace_ops_movement[];
extern const MaceOpDef mace_ops_conv[];
extern const MaceOpDef mace_ops_pool[];
extern const MaceOpDef mace_ops_norm[];
extern const MaceOpDef mace_ops_gemm[];
extern const MaceOpDef mace_ops_resize[];

/* Shared infer helper: output 0 = input 0's dtype and shape. */
MaceStatus mace_infer_same_as_input0 (MaceOpCtx *ctx);

/* ---- Errors and logging ---------------------------------------------- */

void mace_set_error (MaceError *err, MaceStatus status, const char *fmt, ...)
    MACE_PRINTF (3, 4);
void mace_log (MaceLogLevel level, const char *fmt, ...) MACE_PRINTF (2, 3);

/* Reads a whole file; *data is g_malloc'ed (free with g_free). */
MaceStatus mace_read_file (const char *path, uint8_t **data, size_t *len,
                           MaceError *err);
/* Atomic write: temp file in the same dir, fsync, rename, fsync dir. */
MaceStatus mace_write_file_atomic (const char *path, const void *data,
                                   size_t len, MaceError *err);

#endif /* MACE_INTERNAL_H */
