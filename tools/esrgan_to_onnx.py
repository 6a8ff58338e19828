#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Convert an UpscalerJS ESRGAN Keras "layers-model" (TensorFlow.js
model.json + group1-shard*.bin) into an ONNX model (opset 13).

Handles the RDN models (esrgan-slim, esrgan-medium: Conv2D, relu,
Concatenate, Add, UpSampling2D; also the idealo ISR models of
esrgan-legacy such as psnr-small, whose weights are uint8-quantized and are
dequantized here) and the RRDN models (esrgan-thick: also the
UpscalerJS custom layers MultiplyBeta, a multiplication by 0.2, and
PixelShuffle<s>x, tf.depthToSpace(x, s, 'NHWC')), as defined in the
packages' dist/*/packages/shared/src/esrgan/esrgan.js.

The ONNX model always has the interface of the RDN models: input ``LR``
NHWC [1, H, W, 3] float RGB in [0, 255] (H and W dynamic), output ``SR``
NHWC [1, s*H, s*W, 3] in [0, 255]. esrgan.js gives the RDN models
inputRange/outputRange [0, 255] and every other architecture (the ones that
need the custom layers) [0, 1]; for those the /255 and *255 are folded into
the weights of the convolutions that read the input and of the output
convolution (or become a Mul where a layer other than Conv2D is there), so
one element config fits all. Inside it is NCHW: Transpose in, Conv / Relu /
Concat / Add / Mul / Resize(nearest) / DepthToSpace(DCR), Transpose out.

Usage:
  esrgan_to_onnx.py MODEL_JSON [-o OUT.onnx] [--name NAME] [--check]
  esrgan_to_onnx.py --check-only OUT.onnx MODEL_JSON

--check evaluates the Keras graph directly with NumPy (float64, from the
JSON and the weights; shares no code with the ONNX builder; for a [0, 1]
model it scales the input by 1/255 and the output by 255 itself) on a random
1x24x20x3 input (seed 1234) and runs the converted ONNX with OpenCV DNN
(or, when OpenCV cannot run it, a small NumPy interpreter of the ONNX
graph); it fails when the relative L2 error is above 1e-5.
"""

import argparse
import json
import os
import re
import sys

import numpy as np

OPSET = 13
CHECK_SEED = 1234
CHECK_SHAPE = (1, 24, 20, 3)
CHECK_TOL = 1e-5

HANDLED = ("InputLayer", "Conv2D", "Activation", "ReLU", "Concatenate",
           "Add", "UpSampling2D", "MultiplyBeta", "PixelShuffle<s>x")

# UpscalerJS custom layers (esrgan.js): MultiplyBeta multiplies by the
# constant BETA = 0.2 (its config is not read); PixelShuffle<s>x is
# tf.depthToSpace(x, s, 'NHWC') with s the model's scale.
BETA = 0.2
PIXEL_SHUFFLE = re.compile(r"PixelShuffle([0-9]+)x$")
CUSTOM = ("MultiplyBeta", "PixelShuffle")


class ConvertError(Exception):
    pass


# ---------------------------------------------------------------- loading


# TensorFlow.js weight quantization (tfjs-core io_utils decodeWeights):
# uint8/uint16 are affine, value = q * scale + min (computed in double and
# stored as float32, as a Float32Array does); float16 is a plain half.
QUANT = {"uint8": "<u1", "uint16": "<u2", "float16": "<f2"}


def decode_weight(model_json, w, blob, off):
    """Return (float32 array, bytes used) for one weightsManifest entry."""
    if w.get("dtype", "float32") != "float32":
        raise ConvertError("%s: weight %s has dtype %s; only float32 (plain "
                           "or quantized) is handled"
                           % (model_json, w["name"], w.get("dtype")))
    n = int(np.prod(w["shape"])) if w["shape"] else 1
    q = w.get("quantization")
    dt = np.dtype(QUANT[q["dtype"]] if q and q.get("dtype") in QUANT
                  else "<f4")
    if q and q.get("dtype") not in QUANT:
        raise ConvertError("%s: weight %s has quantization %r; not handled"
                           % (model_json, w["name"], q.get("dtype")))
    if off + dt.itemsize * n > len(blob):
        raise ConvertError("%s: weights file too short for %s"
                           % (model_json, w["name"]))
    a = np.frombuffer(blob, dtype=dt, count=n, offset=off)
    if q and q["dtype"] != "float16":
        if "min" not in q or "scale" not in q:
            raise ConvertError("%s: weight %s: %s quantization without "
                               "min/scale" % (model_json, w["name"],
                                              q["dtype"]))
        a = a.astype(np.float64) * q["scale"] + q["min"]
    return a.reshape(w["shape"]).astype(np.float32), dt.itemsize * n


def load_keras(model_json):
    """Return (layers, inputs, outputs, weights) from a layers-model JSON.

    layers: list of dicts {name, cls, cfg, inbound: [names]} in file order.
    weights: dict name -> np.float32 array, read in manifest order.
    """
    with open(model_json) as f:
        m = json.load(f)
    if m.get("format") not in (None, "layers-model"):
        raise ConvertError("%s: format %r is not a layers-model"
                           % (model_json, m.get("format")))
    topo = m["modelTopology"]
    mc = topo.get("model_config", topo)
    if mc.get("class_name") not in ("Functional", "Model"):
        raise ConvertError("%s: model class %r is not handled (want a "
                           "functional model)" % (model_json,
                                                  mc.get("class_name")))
    cfg = mc["config"]
    layers = []
    for l in cfg["layers"]:
        cls = l["class_name"]
        if cls not in HANDLED and not PIXEL_SHUFFLE.match(cls):
            raise ConvertError(
                "%s: layer %r has class %s, which this converter does not "
                "handle (handled: %s)" % (model_json, l["name"], cls,
                                          ", ".join(HANDLED)))
        nodes = l.get("inbound_nodes", [])
        if len(nodes) > 1:
            raise ConvertError("%s: layer %r is shared (%d inbound nodes); "
                               "not handled" % (model_json, l["name"],
                                                len(nodes)))
        inbound = []
        for n in (nodes[0] if nodes else []):
            if n[1] != 0 or n[2] != 0:
                raise ConvertError("%s: layer %r takes a non-first node/"
                                   "tensor of %r; not handled"
                                   % (model_json, l["name"], n[0]))
            inbound.append(n[0])
        layers.append({"name": l["name"], "cls": cls, "cfg": l["config"],
                       "inbound": inbound})
    inputs = [x[0] for x in cfg["input_layers"]]
    outputs = [x[0] for x in cfg["output_layers"]]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConvertError("%s: want one input and one output, got %s / %s"
                           % (model_json, inputs, outputs))

    base = os.path.dirname(os.path.abspath(model_json))
    weights = {}
    for group in m["weightsManifest"]:
        blob = b"".join(open(os.path.join(base, p), "rb").read()
                        for p in group["paths"])
        off = 0
        for w in group["weights"]:
            a, nbytes = decode_weight(model_json, w, blob, off)
            weights[w["name"]] = a
            off += nbytes
        if off != len(blob):
            raise ConvertError("%s: %d bytes of weights left over after the "
                               "manifest" % (model_json, len(blob) - off))
    return layers, inputs[0], outputs[0], weights


def conv_params(layer, weights):
    """Validate a Conv2D config and return (kernel HWIO, bias or None, pads)."""
    c = layer["cfg"]
    name = layer["name"]
    if c.get("data_format", "channels_last") != "channels_last":
        raise ConvertError("Conv2D %s: data_format %s not handled"
                           % (name, c["data_format"]))
    if list(c.get("strides", [1, 1])) != [1, 1]:
        raise ConvertError("Conv2D %s: strides %s not handled"
                           % (name, c["strides"]))
    if list(c.get("dilation_rate", [1, 1])) != [1, 1]:
        raise ConvertError("Conv2D %s: dilation %s not handled"
                           % (name, c["dilation_rate"]))
    if c.get("groups", 1) != 1:
        raise ConvertError("Conv2D %s: groups %s not handled"
                           % (name, c["groups"]))
    if c.get("activation", "linear") not in ("linear", "relu"):
        raise ConvertError("Conv2D %s: activation %s not handled"
                           % (name, c["activation"]))
    k = weights.get(name + "/kernel")
    if k is None:
        raise ConvertError("Conv2D %s: no weight %s/kernel" % (name, name))
    kh, kw = c["kernel_size"]
    if k.shape[:2] != (kh, kw) or k.shape[3] != c["filters"]:
        raise ConvertError("Conv2D %s: kernel shape %s does not match config"
                           % (name, k.shape))
    b = weights.get(name + "/bias") if c.get("use_bias", True) else None
    if c.get("padding") == "same":
        # TF "same" at stride 1: total k-1, the odd pixel goes at the end.
        pads = ((kh - 1) // 2, (kw - 1) // 2, kh - 1 - (kh - 1) // 2,
                kw - 1 - (kw - 1) // 2)
    elif c.get("padding") == "valid":
        pads = (0, 0, 0, 0)
    else:
        raise ConvertError("Conv2D %s: padding %s not handled"
                           % (name, c.get("padding")))
    return k, b, pads


def upsample_size(layer):
    c = layer["cfg"]
    if c.get("interpolation", "nearest") != "nearest":
        raise ConvertError("UpSampling2D %s: interpolation %s not handled"
                           % (layer["name"], c["interpolation"]))
    if c.get("data_format", "channels_last") != "channels_last":
        raise ConvertError("UpSampling2D %s: data_format not handled"
                           % layer["name"])
    return tuple(int(v) for v in c["size"])


def nhwc_axis_to_nchw(axis, layer):
    a = {-1: 1, 3: 1, 1: 2, 2: 3, -3: 2, -2: 3}.get(axis)
    if a is None:
        raise ConvertError("Concatenate %s: axis %s not handled"
                           % (layer["name"], axis))
    return a


def activation(layer):
    if layer["cls"] == "ReLU":
        c = layer["cfg"]
        if c.get("max_value") is not None or c.get("negative_slope", 0) \
                or c.get("threshold", 0):
            raise ConvertError("ReLU %s: max_value/negative_slope/threshold "
                               "not handled" % layer["name"])
        return "relu"
    a = layer["cfg"]["activation"]
    if a not in ("relu", "linear"):
        raise ConvertError("Activation %s: %s not handled"
                           % (layer["name"], a))
    return a


def multiply_beta(layer):
    b = layer["cfg"].get("beta", BETA)
    if b != BETA:
        raise ConvertError("MultiplyBeta %s: beta %s in the config, but "
                           "UpscalerJS multiplies by %s regardless"
                           % (layer["name"], b, BETA))
    return BETA


def pixel_shuffle_size(layer):
    m = PIXEL_SHUFFLE.match(layer["cls"])
    s = int(m.group(1))
    if layer["cfg"].get("scale", s) != s:
        raise ConvertError("%s %s: config scale %s differs from the class "
                           "name" % (layer["cls"], layer["name"],
                                     layer["cfg"]["scale"]))
    return s


def is_custom(layer):
    return layer["cls"].startswith(CUSTOM)


def model_range(layers):
    """255.0 or 1.0: the Keras model's input and output range, as esrgan.js
    decides it (RDN: [0, 255]; the architectures with custom layers,
    RRDN: [0, 1])."""
    return 1.0 if any(is_custom(l) for l in layers) else 255.0


def model_scale(layers):
    s = 1
    for l in layers:
        if l["cls"] == "UpSampling2D":
            sh, sw = upsample_size(l)
            if sh != sw:
                raise ConvertError("UpSampling2D %s: unequal size %s"
                                   % (l["name"], (sh, sw)))
            s *= sh
        elif PIXEL_SHUFFLE.match(l["cls"]):
            s *= pixel_shuffle_size(l)
    return s


# ------------------------------------------------- Keras graph in NumPy


def keras_conv_nhwc(x, k, b, pads):
    """Direct convolution, NHWC x HWIO, float64, stride 1."""
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw = k.shape[:2]
    n, hp, wp, _ = xp.shape
    ho, wo = hp - kh + 1, wp - kw + 1
    out = np.zeros((n, ho, wo, k.shape[3]), dtype=np.float64)
    for dy in range(kh):
        for dx in range(kw):
            out += np.tensordot(xp[:, dy:dy + ho, dx:dx + wo, :],
                                k[dy, dx].astype(np.float64), axes=([3], [0]))
    if b is not None:
        out += b.astype(np.float64)
    return out


def keras_eval(layers, inp, outp, weights, x):
    """Evaluate the Keras graph on x (NHWC), in float64."""
    vals = {}
    for l in layers:
        ins = [vals[n] for n in l["inbound"]]
        cls = l["cls"]
        if cls == "InputLayer":
            y = x.astype(np.float64)
        elif cls == "Conv2D":
            k, b, pads = conv_params(l, weights)
            y = keras_conv_nhwc(ins[0], k, b, pads)
            if l["cfg"].get("activation") == "relu":
                y = np.maximum(y, 0)
        elif cls in ("Activation", "ReLU"):
            y = np.maximum(ins[0], 0) if activation(l) == "relu" else ins[0]
        elif cls == "Concatenate":
            y = np.concatenate(ins, axis=l["cfg"].get("axis", -1))
        elif cls == "Add":
            y = ins[0]
            for t in ins[1:]:
                y = y + t
        elif cls == "UpSampling2D":
            sh, sw = upsample_size(l)
            y = np.repeat(np.repeat(ins[0], sh, axis=1), sw, axis=2)
        elif cls == "MultiplyBeta":
            y = ins[0] * multiply_beta(l)
        elif PIXEL_SHUFFLE.match(cls):
            # tf.depthToSpace NHWC, by its definition:
            # out[n, h*b + i, w*b + j, c] = in[n, h, w, (i*b + j)*C + c]
            b = pixel_shuffle_size(l)
            t = ins[0]
            n, h, w, cb = t.shape
            if cb % (b * b):
                raise ConvertError("%s %s: %d channels, not a multiple of "
                                   "%d" % (cls, l["name"], cb, b * b))
            c = cb // (b * b)
            y = np.zeros((n, h * b, w * b, c), dtype=t.dtype)
            for i in range(b):
                for j in range(b):
                    y[:, i::b, j::b, :] = t[..., (i * b + j) * c:
                                            (i * b + j + 1) * c]
        else:
            raise ConvertError("Keras evaluation: layer class %s" % cls)
        vals[l["name"]] = y
    return vals[outp]


# ----------------------------------------------------------- ONNX builder


def build_onnx(layers, inp, outp, weights, scale, doc="", in_gain=1.0,
               out_gain=1.0, graph_name=None):
    """in_gain / out_gain: factors applied to the model's input and output
    (ONNX input * in_gain is the Keras input; Keras output * out_gain is the
    ONNX output). They are folded into the weights of the Conv2D layers that
    read the input and of an output Conv2D; elsewhere they become a Mul."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    names = {}  # Keras layer name -> NCHW tensor name

    def nchw(name):
        return names[name]

    readers = [l for l in layers if inp in l["inbound"]]
    reader_names = set(l["name"] for l in readers)
    fold_in = in_gain != 1.0 and all(
        l["cls"] == "Conv2D" and l["inbound"] == [inp] for l in readers)
    out_layer = [l for l in layers if l["name"] == outp][0]
    fold_out = out_gain != 1.0 and out_layer["cls"] == "Conv2D" \
        and out_gain > 0  # a positive factor commutes with a relu

    def gain_node(x, gain, name):
        inits.append(numpy_helper.from_array(np.array(gain, np.float32),
                                             name + "/gain"))
        nodes.append(helper.make_node("Mul", [x, name + "/gain"], [name],
                                      name=name))
        return name

    for l in layers:
        cls, name = l["cls"], l["name"]
        ins = [nchw(n) for n in l["inbound"]]
        if cls == "InputLayer":
            nodes.append(helper.make_node("Transpose", [name], [name + "_nchw"],
                                          name=name + "_to_nchw",
                                          perm=[0, 3, 1, 2]))
            names[name] = name + "_nchw"
            if in_gain != 1.0 and not fold_in:
                names[name] = gain_node(name + "_nchw", in_gain,
                                        name + "_scaled")
            continue
        out = name if name != outp else name + "_nchw"
        if cls == "Conv2D":
            k, b, pads = conv_params(l, weights)
            if fold_in and name in reader_names:
                k = (k.astype(np.float64) * in_gain).astype(np.float32)
            if fold_out and name == outp:
                k = (k.astype(np.float64) * out_gain).astype(np.float32)
                if b is not None:
                    b = (b.astype(np.float64) * out_gain).astype(np.float32)
            w = np.ascontiguousarray(k.transpose(3, 2, 0, 1))  # HWIO -> OIHW
            inits.append(numpy_helper.from_array(w, name + "/kernel"))
            cin = [ins[0], name + "/kernel"]
            if b is not None:
                inits.append(numpy_helper.from_array(b, name + "/bias"))
                cin.append(name + "/bias")
            relu = l["cfg"].get("activation") == "relu"
            cout = out + "_pre" if relu else out
            nodes.append(helper.make_node(
                "Conv", cin, [cout], name=name,
                kernel_shape=list(k.shape[:2]), strides=[1, 1],
                dilations=[1, 1], group=1,
                pads=[pads[0], pads[1], pads[2], pads[3]]))
            if relu:
                nodes.append(helper.make_node("Relu", [cout], [out],
                                              name=name + "_relu"))
        elif cls in ("Activation", "ReLU"):
            if activation(l) == "relu":
                nodes.append(helper.make_node("Relu", ins, [out], name=name))
            else:
                nodes.append(helper.make_node("Identity", ins, [out],
                                              name=name))
        elif cls == "Concatenate":
            axis = nhwc_axis_to_nchw(l["cfg"].get("axis", -1), l)
            nodes.append(helper.make_node("Concat", ins, [out], name=name,
                                          axis=axis))
        elif cls == "Add":
            if len(ins) == 2:
                nodes.append(helper.make_node("Add", ins, [out], name=name))
            else:
                nodes.append(helper.make_node("Sum", ins, [out], name=name))
        elif cls == "UpSampling2D":
            sh, sw = upsample_size(l)
            sname = name + "/scales"
            inits.append(numpy_helper.from_array(
                np.array([1, 1, sh, sw], dtype=np.float32), sname))
            nodes.append(helper.make_node(
                "Resize", [ins[0], "", sname], [out], name=name,
                mode="nearest", coordinate_transformation_mode="asymmetric",
                nearest_mode="floor"))
        elif cls == "MultiplyBeta":
            bname = name + "/beta"
            inits.append(numpy_helper.from_array(
                np.array(multiply_beta(l), dtype=np.float32), bname))
            nodes.append(helper.make_node("Mul", [ins[0], bname], [out],
                                          name=name))
        elif PIXEL_SHUFFLE.match(cls):
            # TF depth_to_space (NHWC) takes the channel as (i, j, c) with c
            # fastest: ONNX DepthToSpace mode DCR on NCHW.
            nodes.append(helper.make_node(
                "DepthToSpace", ins, [out], name=name,
                blocksize=pixel_shuffle_size(l), mode="DCR"))
        else:
            raise ConvertError("ONNX builder: layer class %s" % cls)
        names[name] = out
    if out_gain != 1.0 and not fold_out:
        names[outp] = gain_node(names[outp], out_gain, outp + "_scaled")
    nodes.append(helper.make_node("Transpose", [names[outp]], [outp],
                                  name=outp + "_to_nhwc", perm=[0, 2, 3, 1]))

    vi_in = helper.make_tensor_value_info(inp, TensorProto.FLOAT,
                                          [1, "H", "W", 3])
    vi_out = helper.make_tensor_value_info(
        outp, TensorProto.FLOAT, [1, "%d*H" % scale, "%d*W" % scale, 3])
    graph = helper.make_graph(nodes, graph_name or "esrgan_slim_x%d" % scale,
                              [vi_in], [vi_out], initializer=inits)
    model = helper.make_model(
        graph, producer_name="gst-mace esrgan_to_onnx.py",
        producer_version="1", doc_string=doc,
        opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7  # opset 13 needs IR 7; older readers accept it
    onnx.checker.check_model(model)
    return model


# --------------------------------------------- running the ONNX (checks)


def run_opencv(path, x):
    """Run with OpenCV DNN. OpenCV 4.6 imports DepthToSpace only with a known
    input shape, so when the import fails the input H and W are pinned to
    x's (in a copy in memory) and the import tried again."""
    import cv2
    level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # silent: the failed import logs an ERROR
    try:
        net = cv2.dnn.readNetFromONNX(path)
    except cv2.error:
        import onnx
        m = onnx.load(path)
        dims = m.graph.input[0].type.tensor_type.shape.dim
        for d, v in zip(dims, x.shape):
            d.dim_value = v
        net = cv2.dnn.readNetFromONNX(
            np.frombuffer(m.SerializeToString(), dtype=np.uint8))
    finally:
        cv2.setLogLevel(level)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(np.ascontiguousarray(x, dtype=np.float32))
    return net.forward()


def run_numpy_onnx(model, x):
    """Tiny interpreter of the ONNX ops this converter emits (fallback)."""
    from onnx import numpy_helper
    g = model.graph
    vals = {i.name: numpy_helper.to_array(i).astype(np.float64)
            for i in g.initializer}
    vals[g.input[0].name] = x.astype(np.float64)
    for n in g.node:
        a = {at.name: at for at in n.attribute}
        ins = [vals[i] if i else None for i in n.input]
        if n.op_type == "Transpose":
            y = ins[0].transpose(list(a["perm"].ints))
        elif n.op_type == "Conv":
            w = ins[1]
            pads = list(a["pads"].ints)
            xp = np.pad(ins[0], ((0, 0), (0, 0), (pads[0], pads[2]),
                                 (pads[1], pads[3])))
            kh, kw = w.shape[2:]
            ho, wo = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
            y = np.zeros((xp.shape[0], w.shape[0], ho, wo))
            for dy in range(kh):
                for dx in range(kw):
                    y += np.einsum("nchw,oc->nohw",
                                   xp[:, :, dy:dy + ho, dx:dx + wo],
                                   w[:, :, dy, dx])
            if len(ins) > 2:
                y += ins[2][None, :, None, None]
        elif n.op_type == "Relu":
            y = np.maximum(ins[0], 0)
        elif n.op_type == "Identity":
            y = ins[0]
        elif n.op_type == "Concat":
            y = np.concatenate(ins, axis=a["axis"].i)
        elif n.op_type in ("Add", "Sum"):
            y = sum(ins[1:], ins[0])
        elif n.op_type == "Resize":
            s = ins[2].astype(int)
            y = ins[0]
            for ax in range(4):
                y = np.repeat(y, s[ax], axis=ax)
        elif n.op_type == "Mul":
            y = ins[0] * ins[1]
        elif n.op_type == "DepthToSpace" and \
                a["mode"].s.decode() == "DCR":  # as in the ONNX spec
            b = a["blocksize"].i
            nn, c, h, w = ins[0].shape
            y = ins[0].reshape(nn, b, b, c // (b * b), h, w)
            y = y.transpose(0, 3, 4, 1, 5, 2).reshape(nn, c // (b * b),
                                                       h * b, w * b)
        else:
            raise ConvertError("numpy interpreter: op %s" % n.op_type)
        vals[n.output[0]] = y
    return vals[g.output[0].name]


def rel_l2(ref, got):
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def check(onnx_path, model_json, quiet=False):
    import onnx
    layers, inp, outp, weights = load_keras(model_json)
    scale = model_scale(layers)
    rng = np.random.default_rng(CHECK_SEED)
    x = rng.uniform(0, 255, CHECK_SHAPE).astype(np.float32)
    rng_k = model_range(layers)  # the Keras model's range: 255 or 1
    ref = keras_eval(layers, inp, outp, weights,
                     x.astype(np.float64) / 255.0 * rng_k) / rng_k * 255.0
    want = (1, CHECK_SHAPE[1] * scale, CHECK_SHAPE[2] * scale, 3)
    if ref.shape != want:
        raise ConvertError("Keras evaluation gave shape %s, expected %s"
                           % (ref.shape, want))
    try:
        got = run_opencv(onnx_path, x)
        how = "OpenCV DNN"
    except Exception as e:  # OpenCV missing or unable to run it
        print("check: OpenCV DNN could not run %s (%s); using the NumPy ONNX "
              "interpreter" % (onnx_path, str(e).strip().splitlines()[-1]),
              file=sys.stderr)
        got = run_numpy_onnx(onnx.load(onnx_path), x)
        how = "NumPy ONNX interpreter"
    if tuple(got.shape) != want:
        raise ConvertError("%s output shape %s, expected %s"
                           % (how, tuple(got.shape), want))
    err = rel_l2(ref, got)
    ok = err <= CHECK_TOL
    print("check %s: x%d, input %s seed %d, Keras(NumPy%s) vs %s: rel L2 "
          "%.3g (tol %g) %s" % (os.path.basename(onnx_path), scale,
                                "x".join(map(str, CHECK_SHAPE)), CHECK_SEED,
                                "" if rng_k == 255 else ", [0,1] scaled",
                                how, err, CHECK_TOL,
                                "OK" if ok else "FAILED"))
    if not ok:
        raise ConvertError("check failed for %s" % onnx_path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json", help="UpscalerJS models/xN/model.json")
    ap.add_argument("-o", "--output", help="output .onnx (default: "
                    "NAME-xN.onnx next to the model directory)")
    ap.add_argument("--name", help="model name for the default output and "
                    "the ONNX doc string (default: the name of the directory "
                    "above xN/, e.g. esrgan-slim)")
    ap.add_argument("--check", action="store_true",
                    help="after converting, compare with a NumPy Keras "
                    "evaluation")
    ap.add_argument("--check-only", metavar="ONNX",
                    help="only check an existing ONNX against model_json")
    args = ap.parse_args(argv)
    try:
        if args.check_only:
            check(args.check_only, args.model_json)
            return 0
        layers, inp, outp, weights = load_keras(args.model_json)
        scale = model_scale(layers)
        top = os.path.dirname(os.path.dirname(os.path.abspath(
            args.model_json)))
        name = args.name or os.path.basename(top)
        out = args.output or os.path.join(top, "%s-x%d.onnx" % (name, scale))
        rng_k = model_range(layers)
        used = set()
        for l in layers:
            if l["cls"] == "Conv2D":
                used.update((l["name"] + "/kernel", l["name"] + "/bias"))
        extra = set(weights) - used
        if extra:
            raise ConvertError("weights not used by any layer: %s"
                               % sorted(extra))
        pretty = re.sub(r"^esrgan", "ESRGAN", name)
        doc = ("UpscalerJS %s x%d (%s, MIT licence), converted from"
               " the Keras layers model by tools/esrgan_to_onnx.py. Input LR"
               " NHWC RGB float [0,255]; output SR NHWC [0,255] (not "
               "clipped)." % (pretty, scale,
                              "RDN" if rng_k == 255 else "RRDN"))
        if rng_k != 255:
            doc += (" The Keras model works in [0,1]; the /255 and *255 are"
                    " folded into the weights of the convolutions that read"
                    " the input and of the output convolution.")
        model = build_onnx(layers, inp, outp, weights, scale, doc,
                           in_gain=rng_k / 255.0, out_gain=255.0 / rng_k,
                           graph_name=re.sub(r"[^A-Za-z0-9]", "_", name)
                           + "_x%d" % scale)
        import onnx
        tmp = out + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, out)
        nparams = sum(int(np.prod(w.shape)) for w in weights.values())
        print("wrote %s: x%d, %d nodes, %d parameters" %
              (out, scale, len(model.graph.node), nparams))
        if args.check:
            check(out, args.model_json)
    except ConvertError as e:
        print("esrgan_to_onnx: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
