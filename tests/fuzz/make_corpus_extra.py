#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes the hand-made seeds of tests/fuzz/corpus_onnx/ (the others are
# copies of libonnx-testdata models and prefixes of them): a model with
# raw and typed initializers, a Constant with a tensor value and a
# dynamic input.  Run with Debian's /usr/bin/python3 (python3-onnx).
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "corpus_onnx")
w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "W")
b = helper.make_tensor("B", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0])
h = helper.make_tensor("H", TensorProto.FLOAT16, [3], [1, 2, 3])
i8 = helper.make_tensor("I8", TensorProto.INT8, [2], [-1, 7])
c = helper.make_tensor("cval", TensorProto.INT64, [2], [1, 3])
nodes = [
    helper.make_node("MatMul", ["X", "W"], ["T"], name="mm"),
    helper.make_node("Add", ["T", "B"], ["U"]),
    helper.make_node("Constant", [], ["S"], value=c),
    helper.make_node("Reshape", ["U", "S"], ["Y"]),
    helper.make_node("Cast", ["H"], ["HF"], to=TensorProto.FLOAT),
    helper.make_node("Cast", ["I8"], ["IF"], to=TensorProto.FLOAT),
]
g = helper.make_graph(
    nodes, "seed",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 2])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 3]),
     helper.make_tensor_value_info("HF", TensorProto.FLOAT, [3]),
     helper.make_tensor_value_info("IF", TensorProto.FLOAT, [2])],
    [w, b, h, i8])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
with open(os.path.join(out, "seed_initializers.onnx"), "wb") as f:
    f.write(m.SerializeToString())


# A graph input typed as a sequence of a sequence of ... 150 deep: the
# loader refuses it before protobuf-c recurses (a stack overflow when
# thousands of levels deep).
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


t = b""
for _ in range(150):
    t = field(4, field(1, t))
deep = field(7, field(11, field(1, b"x") + field(2, t)))
with open(os.path.join(out, "deep_nesting.onnx"), "wb") as f:
    f.write(deep)
