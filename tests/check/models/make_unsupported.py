#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes two small image models that libmace cannot run, for the
macefilter error tests: OUTDIR/unsupported-einsum.onnx (an Einsum node,
default domain) and OUTDIR/unsupported-msdomain.onnx (a com.microsoft
BiasGelu node).  Both take a 1x64x64x3 float image."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def image_io():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 64, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64, 64, 3])
    return x, y


def einsum_model():
    x, y = image_io()
    relu = helper.make_node("Relu", ["x"], ["r"], name="relu0")
    ein = helper.make_node("Einsum", ["r"], ["y"], name="einsum0", equation="bhwc->bhwc")
    g = helper.make_graph([relu, ein], "unsupported-einsum", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def ms_model():
    x, y = image_io()
    bias = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "bias")
    node = helper.make_node("BiasGelu", ["x", "bias"], ["y"], name="biasgelu0",
                            domain="com.microsoft")
    g = helper.make_graph([node], "unsupported-msdomain", [x], [y], initializer=[bias])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                               helper.make_opsetid("com.microsoft", 1)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    onnx.save(einsum_model(), os.path.join(out, "unsupported-einsum.onnx"))
    onnx.save(ms_model(), os.path.join(out, "unsupported-msdomain.onnx"))
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").close()


if __name__ == "__main__":
    main()
