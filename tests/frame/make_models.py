#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small models for the frame-input and macefilter tests.

Usage: make_models.py OUTDIR

identity-nhwc.onnx   [1,24,32,3] -> Identity
identity-nchw.onnx   [1,3,24,32] -> Identity
identity-dyn.onnx    [1,H,W,3]  -> Identity (dynamic height and width)
tile-fixed.onnx      [1,3,16,16] -> 2x nearest Resize -> 3x3 Conv (known
                     weights, pad 1) -> [1,3,32,32]: a fixed-input image
                     model for tiling
tile-dyn.onnx        the same with dynamic height and width: the
                     whole-frame reference for the tiles
tensor-two.onnx      [1,3,8,8] -> ReduceMean over H,W ([1,3]) and Relu
                     ([1,3,8,8]): two outputs for the tensor decoder
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path):
    model.opset_import[0].version = 13
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def identity(path, shape):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, shape)
    g = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])],
                          'identity', [x], [y])
    save(helper.make_model(g), path)


def tile(path, h, w):
    oh = h * 2 if isinstance(h, int) else 'OH'
    ow = w * 2 if isinstance(w, int) else 'OW'
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, h, w])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 3, oh, ow])
    # Known weights: each output channel mixes a 3x3 neighbourhood of all
    # inputs with small fixed coefficients, so any tiling error shows.
    rng = np.random.RandomState(1234)
    wt = (rng.rand(3, 3, 3, 3).astype(np.float32) - 0.3) * 0.15
    b = np.array([4.0, -3.0, 2.0], dtype=np.float32)
    scales = np.array([1, 1, 2, 2], dtype=np.float32)
    inits = [numpy_helper.from_array(wt, 'w'), numpy_helper.from_array(b, 'b'),
             numpy_helper.from_array(scales, 'scales'),
             numpy_helper.from_array(np.zeros(0, dtype=np.float32), 'roi')]
    nodes = [
        helper.make_node('Resize', ['x', 'roi', 'scales'], ['up'],
                         mode='nearest'),
        helper.make_node('Conv', ['up', 'w', 'b'], ['y'], pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
    ]
    g = helper.make_graph(nodes, 'tile', [x], [y], inits)
    save(helper.make_model(g), path)


def tensor_two(path):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 8, 8])
    m = helper.make_tensor_value_info('mean', TensorProto.FLOAT, [1, 3])
    r = helper.make_tensor_value_info('relu', TensorProto.FLOAT, [1, 3, 8, 8])
    nodes = [helper.make_node('ReduceMean', ['x'], ['mean'], axes=[2, 3],
                              keepdims=0),
             helper.make_node('Relu', ['x'], ['relu'])]
    g = helper.make_graph(nodes, 'tensor_two', [x], [m, r])
    save(helper.make_model(g), path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    identity(os.path.join(out, 'identity-nhwc.onnx'), [1, 24, 32, 3])
    identity(os.path.join(out, 'identity-nchw.onnx'), [1, 3, 24, 32])
    identity(os.path.join(out, 'identity-dyn.onnx'), [1, 'H', 'W', 3])
    tile(os.path.join(out, 'tile-fixed.onnx'), 16, 16)
    tile(os.path.join(out, 'tile-dyn.onnx'), 'H', 'W')
    tensor_two(os.path.join(out, 'tensor-two.onnx'))


if __name__ == '__main__':
    main()
