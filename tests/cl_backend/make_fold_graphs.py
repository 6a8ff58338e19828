#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes small ONNX graphs for the OpenCL backend's launch-saving plans
into OUTDIR: depthwise + 1x1 in one kernel, and the layout folds of
src/cl/backend.c (an NHWC->NCHW Transpose read by a convolution, an
NCHW->NHWC Transpose after one, a MaxPool feeding a fused residual).

Each graph has one float input `x`; <name>.expect holds the launches per
run the OpenCL plan must reach with every fold on.  tests/cl_backend/
test_cl_folds.c runs each on OpenCL and compares with the unoptimised CPU
run, and again with the folds off (more launches, same outputs)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(4321)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save(name, nodes, inits, in_shape, outs, launches):
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, s) for o, s in outs],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, f"{out}/{name}.onnx")
    with open(f"{out}/{name}.expect", "w") as f:
        f.write(f"{launches}\n")


# An NHWC image read by a strided 5x5 convolution (BlazeFace's stem): the
# Transpose folds into the convolution.
save("nhwc_input_conv", [
    helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
    helper.make_node("Conv", ["t", "w", "b"], ["c"], strides=[2, 2],
                     pads=[1, 1, 2, 2]),
    helper.make_node("Relu", ["c"], ["y"]),
], [const("w", rand(8, 3, 5, 5)), const("b", rand(8))],
    [1, 21, 18, 3], [("y", [1, 8, 10, 9])], 1)

# Detection heads: 1x1 convolutions whose outputs go to NHWC and are
# reshaped; two heads read the same input.
save("conv_nhwc_heads", [
    helper.make_node("Conv", ["x", "w1", "b1"], ["h1"]),
    helper.make_node("Transpose", ["h1"], ["t1"], perm=[0, 2, 3, 1]),
    helper.make_node("Reshape", ["t1", "s1"], ["y1"]),
    helper.make_node("Conv", ["x", "w2", "b2"], ["h2"]),
    helper.make_node("Transpose", ["h2"], ["t2"], perm=[0, 2, 3, 1]),
    helper.make_node("Reshape", ["t2", "s2"], ["y2"]),
], [const("w1", rand(6, 5, 1, 1)), const("b1", rand(6)),
    const("w2", rand(32, 5, 1, 1)), const("b2", rand(32)),
    const("s1", np.array([1, 7 * 9 * 3, 2], np.int64)),
    const("s2", np.array([1, 7 * 9 * 2, 16], np.int64))],
    [1, 5, 7, 9], [("y1", [1, 189, 2]), ("y2", [1, 126, 16])], 2)

# A BlazeFace strided block: depthwise 3x3 stride 2 + 1x1 + residual of
# the max-pooled input with its channels zero-padded, then Relu; odd
# sizes (the pool drops the last row and column).
save("dw_s2_pool_residual", [
    helper.make_node("Conv", ["x", "wd"], ["d"], group=6, strides=[2, 2],
                     pads=[0, 0, 1, 1]),
    helper.make_node("Conv", ["d", "wp", "bp"], ["p"]),
    helper.make_node("MaxPool", ["x"], ["mp"], kernel_shape=[2, 2],
                     strides=[2, 2]),
    helper.make_node("ConstantOfShape", ["zs"], ["z"],
                     value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
    helper.make_node("Concat", ["mp", "z"], ["r"], axis=1),
    helper.make_node("Add", ["p", "r"], ["a"]),
    helper.make_node("Relu", ["a"], ["y"]),
], [const("wd", rand(6, 1, 3, 3)), const("wp", rand(10, 6, 1, 1)),
    const("bp", rand(10)), const("zs", np.array([2, 4, 5, 6], np.int64))],
    [2, 6, 11, 13], [("y", [2, 10, 5, 6])], 1)

# Depthwise (with bias) + 1x1 + identity residual, many channels (fewer
# pixels per work-group) and a clipped activation.
save("dw_pw_wide", [
    helper.make_node("Conv", ["x", "wd", "bd"], ["d"], group=300,
                     pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["d", "wp", "bp"], ["p"]),
    helper.make_node("Add", ["p", "x"], ["a"]),
    helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
], [const("wd", rand(300, 1, 3, 3)), const("bd", rand(300)),
    const("wp", rand(300, 300, 1, 1) * 0.1), const("bp", rand(300)),
    const("lo", np.float32(-2)), const("hi", np.float32(2))],
    [1, 300, 6, 5], [("y", [1, 300, 6, 5])], 1)

# Depthwise 5x5 with dilation 2 + 1x1 (the general fused kernel).
save("dw5_dilated_pw", [
    helper.make_node("Conv", ["x", "wd"], ["d"], group=4, dilations=[2, 2],
                     pads=[4, 4, 4, 4]),
    helper.make_node("Conv", ["d", "wp"], ["y"]),
], [const("wd", rand(4, 1, 5, 5)), const("wp", rand(12, 4, 1, 1))],
    [1, 4, 9, 10], [("y", [1, 12, 9, 10])], 1)

# Nothing to fold: the transposed input and the pooled value have other
# readers (and are graph outputs), so each op keeps its launch.
save("no_fold_shared", [
    helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
    helper.make_node("Conv", ["t", "w"], ["c"], pads=[1, 1, 1, 1]),
    helper.make_node("MaxPool", ["c"], ["mp"], kernel_shape=[2, 2],
                     strides=[2, 2]),
    helper.make_node("Conv", ["mp", "w2"], ["y"]),
], [const("w", rand(4, 3, 3, 3)), const("w2", rand(4, 4, 1, 1))],
    [1, 8, 8, 3], [("y", [1, 4, 4, 4]), ("t", [1, 3, 8, 8]),
                   ("mp", [1, 4, 4, 4])], 4)
