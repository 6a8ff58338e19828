/* SPDX-License-Identifier: Apache-2.0
 * Graph optimiser passes.  Each pass is one file and can run alone; all
 * work on a linked, topologically sorted graph and leave it that way. */
#ifndef MACE_PASSES_H
#define MACE_PASSES_H

#include "internal.h"

/* Shape inference with constant folding: walks the nodes in order, runs
 * every node whose inputs are all constant (and Shape/Size whose input
 * shape is known) and marks it dead; infers output shapes of the others,
 * marking outputs `dynamic` when a value-input is not constant.  Graph
 * inputs must have their shapes set.  Returns the number of folded nodes
 * through *folded (may be NULL). */
MaceStatus mace_pass_shape_infer (MaceGraph *g, MaceThreadPool *pool,
                                  int *folded, MaceError *err);
/* Constant folding only (no shapes needed): folds nodes whose inputs are
 * all constants.  Used before shapes are known. */
MaceStatus mace_pass_fold_constants (MaceGraph *g, MaceThreadPool *pool,
                                     int *folded, MaceError *err);
/* Removes nodes whose outputs nobody reads. */
int mace_pass_dead_nodes (MaceGraph *g);
/* Conv followed by BatchNormalization with constant parameters: folds the
 * scale and shift into new weights and bias. */
int mace_pass_fuse_conv_bn (MaceGraph *g);
/* Conv followed by Add of a same-shaped tensor: the Add moves into the
 * Conv as node->fused_add. */
int mace_pass_fuse_conv_add (MaceGraph *g);
/* Conv followed by Relu, Clip (constant bounds), LeakyRelu, HardSwish or
 * Sigmoid: the activation moves into node->act. */
int mace_pass_fuse_conv_act (MaceGraph *g);
/* Depthwise Conv read only by a 1x1 Conv (stride 1, no pads, one group):
 * one MaceDwPwConv node (runs after fuse_conv_add / fuse_conv_act). */
int mace_pass_fuse_dw_pw (MaceGraph *g);
/* Transposes that cancel (or identity perms) are removed. */
int mace_pass_remove_transposes (MaceGraph *g);
/* Assigns arena offsets to static intermediate values by liveness.
 * Returns the arena size in bytes. */
int64_t mace_pass_memory_plan (MaceGraph *g);

/* Helpers shared by passes. */
/* Number of live nodes reading value v (graph outputs count as readers). */
int mace_value_readers (const MaceGraph *g, int v);
/* Replaces every read of value `from` (by live nodes and graph outputs)
 * with value `to`. */
void mace_graph_replace_uses (MaceGraph *g, int from, int to);
/* Runs one node on constant inputs, producing constant outputs. */
MaceStatus mace_fold_node (MaceGraph *g, int idx, MaceThreadPool *pool,
                           MaceError *err);

#endif
