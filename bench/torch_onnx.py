#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small ONNX-to-PyTorch evaluator: the GPU peer of mace's OpenCL backend.

  torch_onnx.py MODEL [--inputs DIR | --shape NAME=1x540x960x3]
                [--device cuda|cpu] [--runs N] [--warmup K]
                [--modes eager,eager_cl,graph,graph_cl,graph_h2h]
                [--compare DIR [--rel-l2 1e-4]] [--output-dir DIR] [--json]

Runs the ONNX graph node by node with torch ops (no conversion, no tracing):
Conv (groups/depthwise, asymmetric pads via F.pad, fused bias), Relu, Add,
MaxPool, Transpose, Reshape, Concat, ConstantOfShape, Resize (nearest,
asymmetric/floor), plus a few trivial ones (Identity, Sigmoid, Mul, Sub,
Pad with constants). That covers BlazeFace (front/back) and ESRGAN-slim.
Shape-like inputs (Reshape's shape, ConstantOfShape's shape, Resize's
scales/sizes) must be initializers: they are read once at load time, and
ConstantOfShape outputs are folded to constants.

Numerics: fp32, TF32 off for matmul and cuDNN convolutions, cudnn.benchmark
on (the first runs of each mode pick algorithms; they are warm-up).

Modes (each timed with K warm-up then N runs, host clock around a run that
ends in torch.cuda.synchronize(), as mace-run bench times mace_engine_run):
  eager      eager forward, NCHW-contiguous activations and weights
  eager_cl   eager forward, channels-last (NHWC) activations and weights
  graph      the NCHW forward captured once in a torch.cuda.CUDAGraph, then
             replayed (input already on the GPU)
  graph_cl   the same for channels-last
  graph_h2h  host to host, like mace-run bench: copy the input from pinned
             host memory, replay the faster graph, copy every output back
             to pinned host memory, synchronize

Inputs: DIR/input_<i>.pb (ONNX TensorProto, graph-input order), else a
seeded random input ([-1, 1]; --shape fixes dynamic dimensions). --compare
DIR compares the first mode's outputs with DIR/output_*.pb (matched by
tensor name, else by order) by relative L2 and fails (exit 1) above the
tolerance. --output-dir writes output_<i>.pb named after the graph outputs.
--dtype float64 evaluates everything in float64 (use --device cpu --modes
eager --runs 1 for a reference to measure the fp32 runtimes against).

Library use: TorchOnnx(path, device, channels_last, dtype).forward(*tensors).
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

try:
    import onnx
    from onnx import numpy_helper, helper
except ImportError:  # pragma: no cover - the device image has onnx
    onnx = None


def _has(obj, name):
    """hasattr that also survives backends raising AssertionError."""
    try:
        getattr(obj, name)
        return True
    except Exception:
        return False


def _new_precision_api():
    conv = getattr(torch.backends.cudnn, "conv", None)
    return (_has(torch.backends.cuda.matmul, "fp32_precision") and
            conv is not None and _has(conv, "fp32_precision"))


def set_fp32_strict():
    """fp32 with TF32 off for matmuls and cuDNN convolutions, cudnn
    autotuner on. PyTorch 2.9+ has per-backend fp32_precision knobs and
    complains when they are mixed with the legacy allow_tf32 flags, so the
    new API is used where it exists, the legacy one otherwise."""
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.benchmark = True
    mm = torch.backends.cuda.matmul
    if _new_precision_api():
        mm.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
        for obj in (torch.backends, torch.backends.cudnn):
            if _has(obj, "fp32_precision"):
                obj.fp32_precision = "ieee"
    else:
        mm.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def tf32_state():
    """What the backends say now (for the record)."""
    mm = torch.backends.cuda.matmul
    if _new_precision_api():
        return {"api": "fp32_precision", "matmul": mm.fp32_precision,
                "cudnn_conv": torch.backends.cudnn.conv.fp32_precision}
    return {"api": "allow_tf32", "matmul_allow_tf32": mm.allow_tf32,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32}


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def to_str(v):
    return v.decode() if isinstance(v, bytes) else v


class TorchOnnx:
    """Evaluates an ONNX graph with torch ops on one device."""

    def __init__(self, path, device="cuda", channels_last=False,
                 dtype=torch.float32):
        if onnx is None:
            raise RuntimeError("the 'onnx' Python package is needed")
        self.path = path
        self.device = torch.device(device)
        self.fdtype = dtype  # floating-point constants are cast to this
        self.channels_last = channels_last
        model = onnx.load(path)
        g = model.graph
        self.opset = max([o.version for o in model.opset_import
                          if o.domain in ("", "ai.onnx")] or [0])
        self.np_consts = {}
        for init in g.initializer:
            self.np_consts[init.name] = numpy_helper.to_array(init)
        for n in g.node:
            if n.op_type == "Constant":
                a = attrs_of(n)
                if "value" in a:
                    self.np_consts[n.output[0]] = numpy_helper.to_array(
                        a["value"])
        init_names = set(self.np_consts)
        self.inputs = [i for i in g.input if i.name not in init_names]
        self.input_names = [i.name for i in self.inputs]
        self.output_names = [o.name for o in g.output]
        self.input_shapes = []
        for i in self.inputs:
            dims = []
            for d in i.type.tensor_type.shape.dim:
                dims.append(d.dim_value if d.HasField("dim_value") else -1)
            self.input_shapes.append(dims)
        self.consts = {}   # name -> torch tensor on device
        self.steps = []    # (fn, input names, output names)
        self.op_counts = {}
        self._conv_weights = set()
        for n in g.node:
            self.op_counts[n.op_type] = self.op_counts.get(n.op_type, 0) + 1
            if n.op_type == "Constant":
                continue
            self._compile(n)
        self._conv_weight_format()
        # Last use of every value, so the eager forward frees early.
        last = {}
        for k, (_, ins, _) in enumerate(self.steps):
            for x in ins:
                last[x] = k
        self.free_after = [[x for x in ins if last.get(x) == k
                            and x not in self.output_names]
                           for k, (_, ins, _) in enumerate(self.steps)]

    # -- helpers -----------------------------------------------------------
    def _const(self, name):
        if name not in self.consts:
            t = torch.from_numpy(
                np.array(self.np_consts[name], copy=True, order="C"))
            if t.is_floating_point():
                t = t.to(self.fdtype)
            self.consts[name] = t.to(self.device)
        return self.consts[name]

    def _static(self, name, what):
        if name not in self.np_consts:
            raise NotImplementedError(
                "%s: %s '%s' must be an initializer" % (self.path, what, name))
        return self.np_consts[name]

    def _layout(self, t):
        if t.dim() == 4:
            fmt = (torch.channels_last if self.channels_last
                   else torch.contiguous_format)
            return t.contiguous(memory_format=fmt)
        return t

    def _conv_weight_format(self):
        for name, t in list(self.consts.items()):
            if name in self._conv_weights:
                self.consts[name] = self._layout(t)

    # -- node compilation --------------------------------------------------
    def _compile(self, n):
        op = n.op_type
        a = attrs_of(n)
        ins = [x for x in n.input]
        outs = list(n.output)
        add = lambda fn, i, o=outs: self.steps.append((fn, i, o))  # noqa

        if op == "Conv":
            w = self._const(ins[1]) if ins[1] in self.np_consts else None
            if w is None:
                raise NotImplementedError("Conv weight must be an initializer")
            self._conv_weights.add(ins[1])
            nsp = w.dim() - 2
            if nsp != 2:
                raise NotImplementedError("only 2-D Conv (got %d-D)" % nsp)
            group = int(a.get("group", 1))
            strides = tuple(a.get("strides", [1] * nsp))
            dil = tuple(a.get("dilations", [1] * nsp))
            pads = list(a.get("pads", [0] * (2 * nsp)))
            auto_pad = to_str(a.get("auto_pad", "NOTSET"))
            if auto_pad not in ("NOTSET", "VALID"):
                raise NotImplementedError("Conv auto_pad=%s" % auto_pad)
            if auto_pad == "VALID":
                pads = [0] * (2 * nsp)
            bias_name = ins[2] if len(ins) > 2 and ins[2] else None
            sym = pads[:nsp] == pads[nsp:]
            # ONNX pads: [h_begin, w_begin, h_end, w_end]; F.pad wants
            # (w_begin, w_end, h_begin, h_end).
            fpad = (pads[1], pads[3], pads[0], pads[2])
            padding = tuple(pads[:nsp]) if sym else 0
            wname = ins[1]

            def conv(x, _wn=wname, _bn=bias_name, _s=strides, _d=dil,
                     _g=group, _p=padding, _sym=sym, _fp=fpad):
                if not _sym:
                    x = F.pad(x, _fp)
                b = self.consts[_bn] if _bn else None
                return F.conv2d(x, self.consts[_wn], b, _s, _p, _d, _g)
            if bias_name:
                self._const(bias_name)
            add(conv, [ins[0]])
        elif op == "Relu":
            add(lambda x: torch.relu(x), ins)
        elif op == "Sigmoid":
            add(lambda x: torch.sigmoid(x), ins)
        elif op in ("Add", "Mul", "Sub", "Div"):
            fn = {"Add": torch.add, "Mul": torch.mul, "Sub": torch.sub,
                  "Div": torch.div}[op]
            cin = []
            for x in ins:
                if x in self.np_consts:
                    self._const(x)
                cin.append(x)
            add(lambda x, y, _f=fn: _f(x, y), cin)
        elif op == "Identity":
            add(lambda x: x, ins)
        elif op == "MaxPool":
            k = tuple(a["kernel_shape"])
            s = tuple(a.get("strides", [1] * len(k)))
            pads = list(a.get("pads", [0] * (2 * len(k))))
            if to_str(a.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID"):
                raise NotImplementedError("MaxPool auto_pad")
            if a.get("ceil_mode", 0) or len(outs) > 1 or len(k) != 2:
                raise NotImplementedError("MaxPool ceil_mode/Indices/non-2D")
            d = tuple(a.get("dilations", [1] * len(k)))
            sym = pads[:2] == pads[2:] and all(
                pads[i] <= k[i] // 2 for i in range(2))
            fpad = (pads[1], pads[3], pads[0], pads[2])

            def maxpool(x, _k=k, _s=s, _d=d, _sym=sym, _p=tuple(pads[:2]),
                        _fp=fpad):
                if not _sym:
                    x = F.pad(x, _fp, value=float("-inf"))
                    return F.max_pool2d(x, _k, _s, 0, _d)
                return F.max_pool2d(x, _k, _s, _p, _d)
            add(maxpool, ins)
        elif op == "Transpose":
            perm = a.get("perm")

            def transpose(x, _p=perm):
                p = _p if _p is not None else list(range(x.dim()))[::-1]
                return self._layout(x.permute(*p))
            add(transpose, ins)
        elif op == "Reshape":
            shape = [int(v) for v in self._static(ins[1], "Reshape shape")]
            allowzero = int(a.get("allowzero", 0))

            def reshape(x, _sh=shape, _az=allowzero):
                sh = [x.shape[i] if (v == 0 and not _az) else v
                      for i, v in enumerate(_sh)]
                return x.reshape(sh)
            add(reshape, [ins[0]])
        elif op == "Flatten":
            axis = int(a.get("axis", 1))
            add(lambda x, _a=axis: x.reshape(
                int(np.prod(x.shape[:_a % max(x.dim(), 1)] or [1])), -1),
                ins)
        elif op == "Concat":
            axis = int(a["axis"])
            for x in ins:
                if x in self.np_consts:
                    self._const(x)
            add(lambda *xs, _a=axis: torch.cat(xs, _a), ins)
        elif op == "ConstantOfShape":
            shape = [int(v) for v in self._static(ins[0],
                                                  "ConstantOfShape shape")]
            val = a.get("value")
            arr = (numpy_helper.to_array(val).reshape(-1)[:1] if val is not None
                   else np.zeros(1, np.float32))
            full = np.full(shape, arr[0], dtype=arr.dtype)
            self.np_consts[outs[0]] = full
            t = torch.from_numpy(full)
            if t.is_floating_point():
                t = t.to(self.fdtype)
            self.consts[outs[0]] = self._layout(t.to(self.device))
        elif op == "Resize" or op == "Upsample":
            mode = to_str(a.get("mode", "nearest"))
            if mode != "nearest":
                raise NotImplementedError("Resize mode=%s" % mode)
            ctm = to_str(a.get("coordinate_transformation_mode",
                               "asymmetric" if op == "Upsample"
                               else "half_pixel"))
            nm = to_str(a.get("nearest_mode", "round_prefer_floor"))
            scales = sizes = None
            if op == "Upsample":
                scales = self._static(ins[1], "Upsample scales")
            elif self.opset >= 11 or len(ins) > 2:
                if len(ins) > 2 and ins[2]:
                    scales = self._static(ins[2], "Resize scales")
                if len(ins) > 3 and ins[3]:
                    sizes = self._static(ins[3], "Resize sizes")
                if scales is not None and scales.size == 0:
                    scales = None
            else:
                scales = self._static(ins[1], "Resize scales")
            if scales is not None:
                scales = [float(v) for v in scales]
            if sizes is not None:
                sizes = [int(v) for v in sizes]
            simple = (ctm == "asymmetric" and nm == "floor" and
                      scales is not None and scales[:2] == [1.0, 1.0] and
                      all(float(s).is_integer() for s in scales[2:]))

            # Index tensors per shape, made in the warm-up runs, so that a
            # CUDA graph capture does no host-to-device copy.
            def resize(x, _sc=scales, _sz=sizes, _ctm=ctm, _nm=nm,
                       _simple=simple, _cache={}):
                if _simple:
                    return F.interpolate(
                        x, scale_factor=tuple(_sc[2:]), mode="nearest")
                out = x
                for ax in range(2, x.dim()):
                    n_in = x.shape[ax]
                    if _sz is not None:
                        n_out = _sz[ax]
                        sc = n_out / n_in
                    else:
                        sc = _sc[ax]
                        n_out = int(np.floor(n_in * sc))
                    if n_out == n_in and sc == 1.0:
                        continue
                    o = np.arange(n_out, dtype=np.float64)
                    if _ctm == "asymmetric":
                        src = o / sc
                    elif _ctm == "half_pixel":
                        src = (o + 0.5) / sc - 0.5
                    elif _ctm == "align_corners":
                        src = (o * (n_in - 1) / (n_out - 1)
                               if n_out > 1 else o * 0)
                    else:
                        raise NotImplementedError("Resize ctm=%s" % _ctm)
                    if _nm == "floor":
                        idx = np.floor(src)
                    elif _nm == "ceil":
                        idx = np.ceil(src)
                    elif _nm == "round_prefer_ceil":
                        idx = np.floor(src + 0.5)
                    else:
                        idx = np.ceil(src - 0.5)
                    key = (ax, n_in, n_out, str(x.device))
                    t = _cache.get(key)
                    if t is None:
                        idx = np.clip(idx, 0, n_in - 1).astype(np.int64)
                        t = _cache[key] = torch.from_numpy(idx).to(x.device)
                    out = out.index_select(ax, t)
                return out
            add(resize, [ins[0]])
        elif op == "Pad":
            mode = to_str(a.get("mode", "constant"))
            if mode != "constant":
                raise NotImplementedError("Pad mode=%s" % mode)
            if "pads" in a:
                pads = list(a["pads"])
                val = float(a.get("value", 0.0))
            else:
                pads = [int(v) for v in self._static(ins[1], "Pad pads")]
                val = (float(self._static(ins[2], "Pad value").reshape(-1)[0])
                       if len(ins) > 2 and ins[2] else 0.0)
            nd = len(pads) // 2
            fp = []
            for ax in range(nd - 1, -1, -1):
                fp += [pads[ax], pads[ax + nd]]
            add(lambda x, _fp=tuple(fp), _v=val: F.pad(x, _fp, value=_v),
                [ins[0]])
        else:
            raise NotImplementedError("%s: op %s is not supported by "
                                      "torch_onnx.py" % (self.path, op))

    # -- running -------------------------------------------------------------
    def forward(self, *xs):
        env = dict(self.consts)
        for name, x in zip(self.input_names, xs):
            env[name] = x
        for k, (fn, ins, outs) in enumerate(self.steps):
            r = fn(*[env[i] for i in ins])
            env[outs[0]] = r
            for x in self.free_after[k]:
                if x not in self.consts:
                    env.pop(x, None)
        return [env[o] for o in self.output_names]

    __call__ = forward


# -- tensors on disk ---------------------------------------------------------
def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def write_pb(path, name, arr):
    t = numpy_helper.from_array(np.ascontiguousarray(arr), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def rel_l2(ref, got):
    ref = np.asarray(ref, np.float64).ravel()
    got = np.asarray(got, np.float64).ravel()
    if ref.size != got.size:
        return float("nan")
    if not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def stats(times_ms):
    s = sorted(times_ms)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p90 = s[min(n - 1, max(0, -(-9 * n // 10) - 1))]
    return {"median_ms": med, "min_ms": s[0], "p90_ms": p90,
            "max_ms": s[-1], "mean_ms": sum(s) / n, "runs": n}


def parse_shape(spec):
    name, dims = spec.rsplit("=", 1)
    return name, [int(d) for d in dims.lower().split("x")]


# -- benchmarking --------------------------------------------------------------
def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def time_loop(fn, dev, runs, warmup):
    for _ in range(warmup):
        fn()
    sync(dev)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync(dev)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def capture_graph(model, static_in, dev, warmup=3):
    """Captures model.forward(*static_in) in a CUDA graph."""
    s = torch.cuda.Stream(dev)
    s.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(s):
        for _ in range(warmup):
            model.forward(*static_in)
    torch.cuda.current_stream(dev).wait_stream(s)
    sync(dev)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_out = model.forward(*static_in)
    sync(dev)
    return g, static_out


def run_modes(path, host_inputs, dev, modes, runs, warmup, log=None,
              dtype=torch.float32):
    """host_inputs: list of numpy arrays. Returns (results, first outputs).
    dtype: the floating-point type of the whole evaluation (float64 gives a
    reference)."""
    def to_dev(x):
        t = torch.from_numpy(np.array(x, copy=True))
        return (t.to(dev, dtype) if t.is_floating_point() else t.to(dev))
    res = {}
    first_outs = None
    models = {}
    graphs = {}

    def get_model(cl):
        if cl not in models:
            t0 = time.perf_counter()
            models[cl] = TorchOnnx(path, dev, channels_last=cl, dtype=dtype)
            models[cl]._load_ms = (time.perf_counter() - t0) * 1e3
        return models[cl]

    for mode in modes:
        t0 = time.perf_counter()
        try:
            with torch.no_grad():
                if mode in ("eager", "eager_cl"):
                    m = get_model(mode == "eager_cl")
                    xs = [to_dev(x) for x in host_inputs]
                    outs = m.forward(*xs)
                    sync(dev)
                    times = time_loop(lambda: m.forward(*xs), dev, runs,
                                      warmup)
                elif mode in ("graph", "graph_cl"):
                    if dev.type != "cuda":
                        raise RuntimeError("CUDA graphs need a CUDA device")
                    m = get_model(mode == "graph_cl")
                    xs = [to_dev(x) for x in host_inputs]
                    g, outs = capture_graph(m, xs, dev)
                    graphs[mode] = (g, xs, outs)
                    times = time_loop(g.replay, dev, runs, warmup)
                elif mode == "graph_h2h":
                    if dev.type != "cuda":
                        raise RuntimeError("CUDA graphs need a CUDA device")
                    cands = [k for k in ("graph", "graph_cl") if k in res
                             and "median_ms" in res[k]]
                    if not cands:
                        g, xs, outs = None, None, None
                        m = get_model(False)
                        xs = [to_dev(x) for x in host_inputs]
                        g, outs = capture_graph(m, xs, dev)
                        src = "graph"
                    else:
                        src = min(cands, key=lambda k: res[k]["median_ms"])
                        g, xs, outs = graphs[src]
                    hin = [to_dev(x).cpu().pin_memory() for x in host_inputs]
                    hout = [torch.empty(o.shape, dtype=o.dtype,
                                        pin_memory=True) for o in outs]

                    def h2h():
                        for d, h in zip(xs, hin):
                            d.copy_(h, non_blocking=True)
                        g.replay()
                        for h, o in zip(hout, outs):
                            h.copy_(o, non_blocking=True)
                    times = time_loop(h2h, dev, runs, warmup)
                    res.setdefault("graph_h2h_source", src)
                else:
                    raise ValueError("unknown mode %s" % mode)
                if first_outs is None:
                    first_outs = [o.detach().cpu().numpy().copy()
                                  for o in outs]
            r = stats(times)
            r["setup_and_run_s"] = round(time.perf_counter() - t0, 3)
            res[mode] = r
            if log:
                log("%s: median %.4f ms, min %.4f ms"
                    % (mode, r["median_ms"], r["min_ms"]))
        except Exception as e:  # record and go on with the other modes
            res[mode] = {"error": "%s: %s" % (type(e).__name__, e)}
            if log:
                log("%s: FAILED %s" % (mode, res[mode]["error"]))
    for cl, m in models.items():
        res.setdefault("load_ms", {})["channels_last" if cl else "nchw"] = \
            round(m._load_ms, 3)
    return res, first_outs


def compare_dir(model, outs, ref_dir, tol):
    refs = sorted(glob.glob(os.path.join(ref_dir, "*.pb")))
    by_name, by_order = {}, []
    for p in refs:
        try:
            name, arr = read_pb(p)
        except Exception:
            continue
        by_order.append(arr)
        if name:
            by_name[name] = arr
    rows = []
    ok = True
    for i, (name, o) in enumerate(zip(model.output_names, outs)):
        ref = by_name.get(name)
        if ref is None and i < len(by_order):
            ref = by_order[i]
        if ref is None:
            rows.append({"output": name, "error": "missing in %s" % ref_dir})
            ok = False
            continue
        e = rel_l2(ref, o)
        good = e <= tol and ref.size == o.size
        ok = ok and good
        rows.append({"output": name, "shape": list(o.shape),
                     "rel_l2": e, "ok": bool(good)})
    return ok, rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--inputs", help="DIR with input_<i>.pb")
    ap.add_argument("--shape", action="append", default=[],
                    help="NAME=AxBxC for dynamic dimensions")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--modes", default="eager,eager_cl,graph,graph_cl,"
                                       "graph_h2h")
    ap.add_argument("--compare", action="append", default=[],
                    help="DIR of reference output .pb files (repeatable)")
    ap.add_argument("--rel-l2", type=float, default=1e-4)
    ap.add_argument("--output-dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", choices=("float32", "float64"),
                    default="float32",
                    help="float64: a reference evaluation (outputs written "
                         "as float64)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    set_fp32_strict()
    dev = torch.device(args.device)
    log = lambda m: print("torch_onnx: %s" % m, file=sys.stderr,  # noqa
                          flush=True)
    probe = TorchOnnx(args.model, "cpu")
    host_inputs = []
    if args.inputs:
        for i in range(len(probe.input_names)):
            _, arr = read_pb(os.path.join(args.inputs, "input_%d.pb" % i))
            host_inputs.append(np.ascontiguousarray(arr))
    else:
        shapes = dict(parse_shape(s) for s in args.shape)
        rng = np.random.default_rng(args.seed)
        for name, dims in zip(probe.input_names, probe.input_shapes):
            dims = shapes.get(name, dims)
            if any(d < 0 for d in dims):
                ap.error("input %s has a dynamic dimension: give --shape"
                         % name)
            host_inputs.append(rng.uniform(-1, 1, dims).astype(np.float32))
    modes = [m for m in args.modes.split(",") if m]
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    res, outs = run_modes(args.model, host_inputs, dev, modes, args.runs,
                          args.warmup, log, dtype)
    info = {"model": args.model, "device": str(dev), "dtype": args.dtype,
            "torch": torch.__version__,
            "cudnn": (torch.backends.cudnn.version()
                      if torch.backends.cudnn.is_available() else None),
            "tf32": tf32_state(),
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "gpu": (torch.cuda.get_device_name(dev) if dev.type == "cuda"
                    else None),
            "inputs": {n: list(x.shape) for n, x in
                       zip(probe.input_names, host_inputs)},
            "ops": probe.op_counts,
            "runs": args.runs, "warmup": args.warmup, "modes": res}
    rc = 0
    if outs is None:
        rc = 1
    if outs is not None and args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
        for i, (n, o) in enumerate(zip(probe.output_names, outs)):
            write_pb(os.path.join(args.output_dir, "output_%d.pb" % i), n, o)
    info["compare"] = []
    for cdir in (args.compare if outs is not None else []):
        ok, rows = compare_dir(probe, outs, cdir, args.rel_l2)
        info["compare"].append({"dir": cdir, "tolerance": args.rel_l2,
                                "ok": ok, "outputs": rows})
        if not ok:
            rc = 1
    if args.json:
        print(json.dumps(info))
    else:
        for m in modes:
            r = res.get(m, {})
            if "median_ms" in r:
                print("%-10s median %9.4f ms  min %9.4f ms  p90 %9.4f ms"
                      % (m, r["median_ms"], r["min_ms"], r["p90_ms"]))
            else:
                print("%-10s %s" % (m, r.get("error")))
        for c in info["compare"]:
            for row in c["outputs"]:
                print("vs %s: %-16s rel L2 %s %s"
                      % (c["dir"], row["output"], row.get("rel_l2", "-"),
                         "ok" if row.get("ok") else "FAILED"))
    return rc


if __name__ == "__main__":
    sys.exit(main())
