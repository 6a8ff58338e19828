/* SPDX-License-Identifier: Apache-2.0
 * Test helpers: seeded random numbers (the seed is printed on failure),
 * running one op outside a graph, and tolerant comparisons. */
#ifndef MACE_TEST_HARNESS_H
#define MACE_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

/* Seed from MACE_TEST_SEED or the time; printed by th_fail(). */
void th_init (int argc, char **argv);
uint64_t th_seed (void);
uint32_t th_rand_u32 (void);
/* Uniform in [lo, hi). */
float th_uniform (float lo, float hi);
void th_fill_uniform (MaceTensor *t, float lo, float hi);

/* Records a failure with the seed and the test name; tests continue. */
void th_fail (const char *test, const char *fmt, ...) MACE_PRINTF (2, 3);
/* Returns the exit status: 0 if no failure, 1 otherwise. */
int th_finish (void);

/* A node under construction for th_run_op(). */
typedef struct {
  MaceNode node;
  MaceGraph *graph;
} ThNode;

/* Starts a node of op_type with n_in inputs and n_out outputs. */
ThNode *th_node_new (const char *op_type, int n_in, int n_out);
void th_node_free (ThNode *n);
void th_attr_int (ThNode *n, const char *name, int64_t v);
void th_attr_float (ThNode *n, const char *name, float v);
void th_attr_string (ThNode *n, const char *name, const char *v);
void th_attr_ints (ThNode *n, const char *name, int count, const int64_t *v);
void th_attr_floats (ThNode *n, const char *name, int count, const float *v);

/* Runs the op: check, infer, allocate outputs, prepare, run.  inputs may
 * hold NULL for absent optional inputs; outputs receive new tensors.
 * threads: pool size (1 = serial).  Returns the status; the message goes
 * to stderr on failure. */
MaceStatus th_run_op (ThNode *n, int64_t opset, MaceTensor **inputs,
                      MaceTensor **outputs, int threads);

/* Max |a-b| <= atol + rtol*|b| elementwise, shapes equal.  Prints the first
 * mismatch (index, values) via th_fail with `what`. */
bool th_check_close (const char *what, const MaceTensor *got,
                     const MaceTensor *want, double rtol, double atol);
/* Relative L2 error ||a-b|| / ||b||. */
double th_rel_l2 (const MaceTensor *a, const MaceTensor *b);

MaceTensor *th_tensor (MaceDataType dt, int ndim, const int64_t *dims);
#define TH_DIMS(...)                                                           \
  (sizeof ((int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)), (int64_t[])        \
  {                                                                            \
    __VA_ARGS__                                                                \
  }

#endif
