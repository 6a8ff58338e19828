#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write model-level reference data for mace-run: input_0.pb and
output_<i>.pb (ONNX TensorProto, the layout of ONNX's own test data sets),
with outputs computed by OpenCV DNN.

  make_reference.py MODEL OUTDIR [--seed N] [--shape 1xHxWx3] [--image PNG]
                    [--range LO,HI] [--keras MODEL_JSON]

Input: random uniform in the model's range (fixed seed, default 1), or with
--image a real picture prepared the way the model wants it:
  BlazeFace: the whole image resized to the input size, RGB, scaled to
             [-1, 1], NHWC.
  ESRGAN:    a crop of the image (the face of skimage's astronaut.png),
             area-downscaled by 4 to the input size, RGB in [0, 255], NHWC.
Models are told apart by file name (esrgan* or anything else = BlazeFace);
--range and --shape override the defaults.

For ESRGAN models converted by tools/esrgan_to_onnx.py, the OpenCV output is
also checked against a NumPy evaluation of the original Keras graph
(models/esrgan-slim/xN/model.json, found beside the ONNX or given with
--keras); a relative L2 error above 1e-5 fails.
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_IMAGE = os.path.join(ROOT, "models", "images", "astronaut.png")
ESRGAN_SHAPE = (1, 48, 64, 3)
# Region of astronaut.png (512x512) with the face: y, x, h, w (h, w = 4 x input)
ESRGAN_CROP = (24, 128, 192, 256)
KERAS_TOL = 1e-5


def fail(msg):
    print("make_reference: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


def is_esrgan(path):
    return "esrgan" in os.path.basename(path).lower()


def static_shape(vi):
    dims = vi.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else None for d in dims]


def load_image_rgb(path):
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        fail("cannot read image %s (run models/fetch to get it)" % path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def make_input(args, shape, esrgan):
    import cv2
    n, h, w, c = shape
    if args.image:
        rgb = load_image_rgb(args.image)
        if esrgan:
            y, x, ch, cw = ESRGAN_CROP
            if (ch, cw) != (4 * h, 4 * w):
                # other input sizes: a crop of the same centre, 4x the size
                cy, cx = y + ch // 2, x + cw // 2
                ch, cw = 4 * h, 4 * w
                y = min(max(cy - ch // 2, 0), rgb.shape[0] - ch)
                x = min(max(cx - cw // 2, 0), rgb.shape[1] - cw)
                if y < 0 or x < 0:
                    fail("input %dx%d is too large for a 4x crop of %s"
                         % (h, w, args.image))
            crop = rgb[y:y + ch, x:x + cw]
            small = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
            x = small.astype(np.float32)
        else:
            small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
            x = small.astype(np.float32) / 127.5 - 1.0
        return x.reshape(shape).astype(np.float32), "image %s" % \
            os.path.basename(args.image)
    lo, hi = args.range
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(lo, hi, size=shape).astype(np.float32)
    return x, "uniform [%g, %g] seed %d" % (lo, hi, args.seed)


def run_opencv(model_path, inp_name, x, out_names):
    import cv2
    net = cv2.dnn.readNetFromONNX(model_path)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(x)
    # OpenCV names outputs after the ONNX output tensors.
    layer_names = net.getUnconnectedOutLayersNames()
    outs = net.forward(list(layer_names))
    by_name = dict(zip(layer_names, outs))
    res = []
    for name in out_names:
        if name not in by_name:
            fail("OpenCV DNN has no output %r (it has %s)"
                 % (name, list(layer_names)))
        res.append(by_name[name])
    return res


def keras_check(keras_json, x, y):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import esrgan_to_onnx as conv
    layers, inp, outp, weights = conv.load_keras(keras_json)
    ref = conv.keras_eval(layers, inp, outp, weights, x)
    err = conv.rel_l2(ref, y)
    print("make_reference: OpenCV DNN vs NumPy Keras (%s): rel L2 %.3g "
          "(tol %g)" % (os.path.relpath(keras_json, ROOT), err, KERAS_TOL))
    if not (err <= KERAS_TOL):
        fail("OpenCV DNN disagrees with the Keras evaluation")
    return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", help="input shape NxHxWxC (ESRGAN default "
                    "1x48x64x3; BlazeFace: from the model)")
    ap.add_argument("--image", nargs="?", const=DEFAULT_IMAGE,
                    help="use a real image (default %s)" %
                    os.path.relpath(DEFAULT_IMAGE, ROOT))
    ap.add_argument("--range", help="LO,HI for random input (ESRGAN 0,255; "
                    "BlazeFace -1,1)")
    ap.add_argument("--keras", help="Keras model.json to check ESRGAN "
                    "outputs against")
    args = ap.parse_args()

    import onnx
    from onnx import numpy_helper

    if not os.path.isfile(args.model):
        fail("%s does not exist (run models/fetch)" % args.model)
    esrgan = is_esrgan(args.model)
    model = onnx.load(args.model)
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        fail("want a model with one input, %s has %d" % (args.model,
                                                        len(inputs)))
    inp = inputs[0]
    out_names = [o.name for o in model.graph.output]

    if args.shape:
        shape = tuple(int(v) for v in args.shape.lower().split("x"))
    else:
        shape = static_shape(inp)
        if None in shape or not shape:
            if esrgan:
                shape = ESRGAN_SHAPE
            else:
                fail("%s: input %s has dynamic dims %s; give --shape"
                     % (args.model, inp.name, shape))
        shape = tuple(shape)
    if args.range:
        args.range = tuple(float(v) for v in args.range.split(","))
    else:
        args.range = (0.0, 255.0) if esrgan else (-1.0, 1.0)

    x, how = make_input(args, shape, esrgan)
    outs = run_opencv(args.model, inp.name, x, out_names)
    # OpenCV may drop or merge unit dims: restore the declared shapes.
    for i, o in enumerate(model.graph.output):
        want = static_shape(o)
        if None not in want and want and list(outs[i].shape) != want:
            if int(np.prod(want)) != outs[i].size:
                fail("output %s: OpenCV gave shape %s, model says %s"
                     % (o.name, outs[i].shape, want))
            outs[i] = outs[i].reshape(want)

    keras_err = None
    if esrgan:
        kj = args.keras
        if not kj:
            base = os.path.splitext(os.path.basename(args.model))[0]
            scale = base.rsplit("-x", 1)[-1]
            kj = os.path.join(os.path.dirname(os.path.abspath(args.model)),
                              "x" + scale, "model.json")
        if os.path.isfile(kj):
            keras_err = keras_check(kj, x, outs[0])
        else:
            print("make_reference: no Keras model at %s; skipping the Keras "
                  "check" % kj)

    os.makedirs(args.outdir, exist_ok=True)
    t = numpy_helper.from_array(np.ascontiguousarray(x, dtype=np.float32),
                                inp.name)
    with open(os.path.join(args.outdir, "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())
    for i, (name, y) in enumerate(zip(out_names, outs)):
        t = numpy_helper.from_array(np.ascontiguousarray(y, np.float32), name)
        with open(os.path.join(args.outdir, "output_%d.pb" % i), "wb") as f:
            f.write(t.SerializeToString())
    meta = {"model": os.path.abspath(args.model), "input": inp.name,
            "input_shape": list(shape), "input_source": how,
            "outputs": {n: list(o.shape) for n, o in zip(out_names, outs)},
            "reference": "OpenCV DNN %s" % __import__("cv2").__version__,
            "keras_rel_l2": keras_err}
    with open(os.path.join(args.outdir, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("make_reference: %s: input %s %s (%s) -> %s" % (
        os.path.basename(args.model), inp.name,
        "x".join(map(str, shape)), how,
        ", ".join("%s %s" % (n, "x".join(map(str, o.shape)))
                  for n, o in zip(out_names, outs))))
    if not esrgan and len(outs) >= 2 and args.image:
        logit = np.concatenate([outs[0].ravel(), outs[1].ravel()])
        s = 1 / (1 + np.exp(-np.clip(logit, -80, 80)))
        print("make_reference: best face score (sigmoid) %.3f" % s.max())
    return 0


if __name__ == "__main__":
    sys.exit(main())
