#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes small ONNX graphs that exercise each optimiser pass into OUTDIR.

Each graph has one float input `x` and is written as <name>.onnx; the test
(tests/test_optimizer.c) runs it with and without optimisation and compares
the outputs, and checks the node count the pass should reach."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(1234)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def save(name, nodes, inits, in_shape, out_shape, expect_nodes):
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, f"{out}/{name}.onnx")
    with open(f"{out}/{name}.expect", "w") as f:
        f.write(f"{expect_nodes}\n")


w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
b = rng.standard_normal(8).astype(np.float32)
# Conv + BatchNormalization + Relu -> 1 node
save("conv_bn_relu", [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-3),
    helper.make_node("Relu", ["n"], ["y"]),
], [const("w", w), const("b", b),
    const("s", rng.uniform(0.5, 2, 8).astype(np.float32)),
    const("bb", rng.standard_normal(8).astype(np.float32)),
    const("m", rng.standard_normal(8).astype(np.float32)),
    const("v", rng.uniform(0.5, 2, 8).astype(np.float32))],
    [1, 4, 10, 12], [1, 8, 10, 12], 1)

# Conv + Add(residual) + Clip -> conv fused; x itself is the residual
w2 = rng.standard_normal((4, 4, 1, 1)).astype(np.float32)
save("conv_add_clip", [
    helper.make_node("Conv", ["x", "w2"], ["c"]),
    helper.make_node("Add", ["x", "c"], ["a"]),
    helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
], [const("w2", w2), const("lo", np.float32(-0.5)), const("hi", np.float32(0.7))],
    [1, 4, 6, 5], [1, 4, 6, 5], 1)

# Depthwise conv + HardSwish, then LeakyRelu on a second conv
wd = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
save("dw_hardswish_leaky", [
    helper.make_node("Conv", ["x", "wd"], ["c"], group=4, pads=[1, 1, 1, 1]),
    helper.make_node("HardSwish", ["c"], ["h"]),
    helper.make_node("Conv", ["h", "w2"], ["d"]),
    helper.make_node("LeakyRelu", ["d"], ["y"], alpha=0.2),
], [const("wd", wd), const("w2", w2)], [1, 4, 7, 9], [1, 4, 7, 9], 2)

# Depthwise 3x3 (bias) -> 1x1 (bias, 4 -> 6 channels) + Add(Concat(x,
# zeros)) (BlazeFace's partial residual) + Relu -> one MaceDwPwConv node
wdb = rng.standard_normal(4).astype(np.float32)
wp = rng.standard_normal((6, 4, 1, 1)).astype(np.float32)
bp = rng.standard_normal(6).astype(np.float32)
save("dw_pw_residual", [
    helper.make_node("Conv", ["x", "wd", "wdb"], ["c"], group=4, pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["c", "wp", "bp"], ["d"]),
    helper.make_node("Concat", ["x", "z"], ["xz"], axis=1),
    helper.make_node("Add", ["d", "xz"], ["a"]),
    helper.make_node("Relu", ["a"], ["y"]),
], [const("wd", wd), const("wdb", wdb), const("wp", wp), const("bp", bp),
    const("z", np.zeros((1, 2, 7, 9), np.float32))],
    [1, 4, 7, 9], [1, 6, 7, 9], 1)

# Depthwise 5x5 stride 2 (SAME_UPPER, no bias) -> 1x1 (no bias) + Clip:
# one node; a second 1x1 reading the same depthwise output keeps it apart
wd5 = rng.standard_normal((5, 1, 5, 5)).astype(np.float32)
wp5 = rng.standard_normal((3, 5, 1, 1)).astype(np.float32)
save("dw_s2_pw_clip", [
    helper.make_node("Conv", ["x", "wd5"], ["c"], group=5, strides=[2, 2],
                     auto_pad="SAME_UPPER"),
    helper.make_node("Conv", ["c", "wp5"], ["d"]),
    helper.make_node("Clip", ["d", "lo", "hi"], ["y"]),
], [const("wd5", wd5), const("wp5", wp5), const("lo", np.float32(-0.5)),
    const("hi", np.float32(0.7))], [1, 5, 11, 13], [1, 3, 6, 7], 1)
save("dw_pw_shared", [
    helper.make_node("Conv", ["x", "wd5"], ["c"], group=5, pads=[2, 2, 2, 2]),
    helper.make_node("Conv", ["c", "wp5"], ["d"]),
    helper.make_node("Conv", ["c", "wp5"], ["e"]),
    helper.make_node("Add", ["d", "e"], ["y"]),
], [const("wd5", wd5), const("wp5", wp5)], [1, 5, 6, 7], [1, 3, 6, 7], 3)

# Transposes that cancel, around a Relu
save("transpose_pair", [
    helper.make_node("Transpose", ["x"], ["t1"], perm=[0, 2, 3, 1]),
    helper.make_node("Transpose", ["t1"], ["t2"], perm=[0, 3, 1, 2]),
    helper.make_node("Relu", ["t2"], ["y"]),
], [], [1, 3, 5, 7], [1, 3, 5, 7], 1)

# Shape -> Gather -> Unsqueeze -> Concat -> Reshape folds to one Reshape
save("shape_chain", [
    helper.make_node("Shape", ["x"], ["s"]),
    helper.make_node("Gather", ["s", "i0"], ["g0"], axis=0),
    helper.make_node("Unsqueeze", ["g0", "ax"], ["u0"]),
    helper.make_node("Concat", ["u0", "minus1"], ["shape"], axis=0),
    helper.make_node("Reshape", ["x", "shape"], ["y"]),
], [const("i0", np.int64(0)), const("ax", np.array([0], np.int64)),
    const("minus1", np.array([-1], np.int64))],
    [2, 3, 4], [2, 12], 1)

# ConstantOfShape + Concat channel padding (the BlazeFace pattern): the
# zero block is folded into a constant
save("constant_of_shape_pad", [
    helper.make_node("ConstantOfShape", ["shp"], ["z"],
                     value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
    helper.make_node("Concat", ["x", "z"], ["y"], axis=1),
], [const("shp", np.array([1, 2, 4, 4], np.int64))], [1, 3, 4, 4], [1, 5, 4, 4], 1)

# A dead branch is removed
save("dead_branch", [
    helper.make_node("Relu", ["x"], ["y"]),
    helper.make_node("Sigmoid", ["x"], ["unused"]),
], [], [2, 5], [2, 5], 1)
