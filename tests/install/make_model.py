#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a tiny ONNX model for the install test: y = Relu(x + b), with x a
float32 [1, 4] input and b = [1, 1, 1, 1] an initializer."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

b = numpy_helper.from_array(np.ones((1, 4), np.float32), name="b")
graph = helper.make_graph(
    [helper.make_node("Add", ["x", "b"], ["s"]),
     helper.make_node("Relu", ["s"], ["y"])],
    "install_test",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    [b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
