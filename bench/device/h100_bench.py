#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mace OpenCL on an NVIDIA GPU against PyTorch on the same GPU, in one go.

Run through bench/device/run-h100.sh (which registers the NVIDIA OpenCL ICD
and finds the libraries); it calls

  h100_bench.py --mace-run PATH --out DIR [--cl-device NVIDIA]
                [--torch-device cuda] [--quick] [--esrgan-shape 1x540x960x3]

Steps, each recorded even when another fails (nothing here stops at the
first error; every subprocess has a time limit):
  1. inputs: one seeded input per model as DIR/input_0.pb (BlazeFace in
     [-1, 1], ESRGAN-slim in [0, 255]); the same file feeds every runner.
  2. mace, per model, OpenCL device:
     cold start   an empty program cache file and CUDA_CACHE_DISABLE=1:
                  `mace-run bench --runs 1 --warmup 0 --json` gives load_ms
                  (time to a ready engine) and first_run_ms; load + first
                  run = time to the first output. Repeated, cache removed
                  each time.
     warm start   the cache file the cold runs wrote, driver cache still
                  off (what mace's cache alone buys), then with the driver's
                  own cache on (CUDA_CACHE_PATH primed by one run).
     steady       `mace-run bench --runs N --warmup K --json`: median ms,
                  frames/s.
     check        `mace-run run` on cpu and on cl, tests/models/compare.py
                  (CPU is the reference, 1e-4 relative L2).
  3. PyTorch, per model (bench/torch_onnx.py in a subprocess): eager,
     eager channels-last, CUDA graph (both layouts), CUDA graph host to
     host; its outputs checked against mace's cl and cpu outputs.
  4. optional, last: `mace-run compile --tune` then bench with the tuned
     file (time-limited).
  5. a float64 evaluation of each model (torch on the CPU), the statistics
     of the input and of every runtime's outputs, their relative L2 against
     it and pairwise; the arrays (corners of the big ones) in DIR/diag.npz.
  6. the OpenCL driver's own start-up (bench/device/cl_init_time.c) with
     the driver's JIT cache off and on.
Writes DIR/h100.json (everything) and DIR/h100.md (tables), the log to
DIR/log.txt, and prints the tables.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))

SEED = 20240601

# name -> (file, input name, NHWC shape, range, runs, warmup)
MODELS = {
    "blazeface-128": ("face_detection_front_128x128_barracuda.onnx",
                      "input:0", (1, 128, 128, 3), (-1.0, 1.0), 300, 30),
    "blazeface-256": ("face_detection_back_256x256_barracuda.onnx",
                      "input:0", (1, 256, 256, 3), (-1.0, 1.0), 300, 30),
    "esrgan-slim-x2": ("esrgan-slim-x2.onnx", "LR", (1, 540, 960, 3),
                       (0.0, 255.0), 40, 5),
}

# FLOP per frame (DESIGN.md's model facts); ESRGAN's scales with the input.
FLOPS = {"blazeface-128": 62e6, "blazeface-256": 377e6}

LOG = []


def log(msg):
    line = "[%7.1fs] %s" % (time.time() - T0, msg)
    LOG.append(line)
    print(line, file=sys.stderr, flush=True)


T0 = time.time()


def sh(cmd, env=None, timeout=120, cwd=None):
    """Runs cmd; returns (rc, stdout, stderr, wall_ms). Never raises."""
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=e,
                           timeout=timeout, cwd=cwd)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as x:
        rc = "timeout after %ss" % timeout
        out = x.stdout.decode() if isinstance(x.stdout, bytes) else (
            x.stdout or "")
        err = x.stderr.decode() if isinstance(x.stderr, bytes) else (
            x.stderr or "")
    except OSError as x:
        rc, out, err = "oserror", "", str(x)
    wall = (time.perf_counter() - t0) * 1e3
    short = " ".join(os.path.basename(c) if i == 0 else c
                     for i, c in enumerate(cmd))
    log("%s -> rc %s, %.0f ms%s" % (short[:300], rc, wall,
                                   ("\n    stderr: " + err.strip()[-1500:]
                                    .replace("\n", "\n    "))
                                   if err.strip() else ""))
    return rc, out, err, wall


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


def write_pb(path, name, arr):
    from onnx import numpy_helper
    t = numpy_helper.from_array(np.ascontiguousarray(arr), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def med(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def fmt(v, f="%.3f"):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f % v


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.res = {"when": datetime.datetime.now(datetime.timezone.utc)
                    .isoformat(timespec="seconds"),
                    "host": platform.node(), "kernel": platform.release(),
                    "settings": {}, "env": {}, "models": {}, "notes": []}
        self.cl_args = (["--cl-device", args.cl_device]
                        if args.cl_device else [])

    def save(self):
        os.makedirs(self.a.out, exist_ok=True)
        with open(os.path.join(self.a.out, "h100.json"), "w") as f:
            json.dump(self.res, f, indent=1, default=str)
        with open(os.path.join(self.a.out, "log.txt"), "w") as f:
            f.write("\n".join(LOG) + "\n")

    # -- environment -----------------------------------------------------------
    def environment(self):
        env = self.res["env"]
        rc, out, _, _ = sh(["nvidia-smi", "--query-gpu=name,driver_version,"
                            "memory.total,clocks.max.sm,pstate",
                            "--format=csv,noheader"], timeout=30)
        env["nvidia_smi"] = out.strip() if rc == 0 else "nvidia-smi: rc %s" % rc
        rc, out, _, _ = sh(["nvidia-smi"], timeout=30)
        env["nvidia_smi_header"] = "\n".join(out.splitlines()[:4])
        clinfo = shutil.which("clinfo") or os.path.join(
            ROOT, ".device", "h100", "bin", "clinfo")
        if os.path.exists(clinfo):
            rc, out, err, _ = sh([clinfo, "-l"], timeout=30)
            env["clinfo_l"] = (out + err).strip()
            rc, out, err, _ = sh([clinfo], timeout=30)
            keep = []
            for line in out.splitlines():
                if re.search(r"^\s*(Platform Name|Platform Version|Device Name"
                             r"|Device Version|Driver Version|Device OpenCL C "
                             r"Version|Max compute units|Max clock frequency|"
                             r"Global memory size|Max work group size|"
                             r"Preferred work group size multiple|"
                             r"Local memory size)\s", line):
                    keep.append(line.strip())
            env["clinfo"] = keep
        else:
            env["clinfo_l"] = "clinfo not found"
        env["ocl_icd_vendors"] = {}
        vd = "/etc/OpenCL/vendors"
        if os.path.isdir(vd):
            for f in sorted(os.listdir(vd)):
                try:
                    env["ocl_icd_vendors"][f] = open(
                        os.path.join(vd, f)).read().strip()
                except OSError:
                    pass
        env["ld_library_path"] = os.environ.get("LD_LIBRARY_PATH", "")
        env["cpu"] = ""
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    env["cpu"] = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        env["cpus"] = os.cpu_count()
        env["mace_commit"] = self.a.commit
        # Which OpenCL device mace picks, in its own words.
        m = self.model_path("blazeface-128")
        rc, out, err, _ = sh([self.a.mace_run, "bench", m, "--device", "cl"]
                             + self.cl_args +
                             ["--runs", "1", "--warmup", "0",
                              "--program-cache-mode", "off"],
                             env={"MACE_DEBUG": "1"}, timeout=120)
        env["mace_cl_device"] = [l for l in err.splitlines()
                                 if "OpenCL" in l][:6]
        self.save()

    def model_path(self, name):
        return os.path.join(self.a.models_dir, MODELS[name][0])

    # -- inputs -----------------------------------------------------------------
    def inputs(self, name):
        fname, iname, shape, rng_, _, _ = MODELS[name]
        if name.startswith("esrgan"):
            shape = self.a.esrgan_shape
        d = os.path.join(self.work, "in-" + name)
        os.makedirs(d, exist_ok=True)
        rng = np.random.default_rng(SEED)
        x = rng.uniform(rng_[0], rng_[1], shape).astype(np.float32)
        write_pb(os.path.join(d, "input_0.pb"), iname, x)
        return d, shape

    # -- mace ----------------------------------------------------------------
    def mace_bench(self, model, indir, extra, env, runs, warmup, timeout):
        cmd = ([self.a.mace_run, "bench", model, "--device", "cl"]
               + self.cl_args + ["--inputs", indir, "--runs", str(runs),
                                 "--warmup", str(warmup), "--json"] + extra)
        rc, out, err, wall = sh(cmd, env=env, timeout=timeout)
        j = last_json(out)
        if rc != 0 or j is None:
            return {"error": "rc %s: %s" % (rc, (err.strip() or out.strip())
                                              [-800:]), "wall_ms": wall}
        j["wall_ms"] = round(wall, 1)
        if j.get("load_ms") is not None and j.get("first_run_ms") is not None:
            j["first_output_ms"] = round(j["load_ms"] + j["first_run_ms"], 3)
        return j

    def mace_model(self, name):
        r = self.res["models"].setdefault(name, {})
        model = self.model_path(name)
        indir, shape = self.inputs(name)
        r["input_shape"] = list(shape)
        r["model_file"] = os.path.basename(model)
        big = name.startswith("esrgan")
        tlim = 300 if big else 120
        cache = os.path.join(self.work, "pc-%s.bin" % name)
        xdg = os.path.join(self.work, "xdg-" + name)
        nodrv = {"CUDA_CACHE_DISABLE": "1", "XDG_CACHE_HOME": xdg}
        # Cold: no program cache file, driver cache off.
        cold = []
        for i in range(self.a.start_reps):
            for p in (cache, cache + ".lock"):
                if os.path.exists(p):
                    os.remove(p)
            cold.append(self.mace_bench(model, indir,
                                        ["--program-cache", cache], nodrv,
                                        1, 0, tlim))
        r["cold"] = cold
        # Warm, mace cache only (driver JIT cache still off).
        r["warm_nodrv"] = [self.mace_bench(model, indir,
                                           ["--program-cache", cache], nodrv,
                                           1, 0, tlim)
                           for _ in range(self.a.start_reps)]
        # Warm, mace cache + the driver's own cache (primed by one run).
        cpath = os.path.join(self.work, "cuda-cache-" + name)
        drv = {"CUDA_CACHE_PATH": cpath, "XDG_CACHE_HOME": xdg}
        drv_env = dict(drv)
        drv_env.pop("CUDA_CACHE_DISABLE", None)
        os.environ.pop("CUDA_CACHE_DISABLE", None)
        r["warm_drv_prime"] = self.mace_bench(
            model, indir, ["--program-cache", cache], drv_env, 1, 0, tlim)
        r["warm_drv"] = [self.mace_bench(model, indir,
                                         ["--program-cache", cache], drv_env,
                                         1, 0, tlim)
                         for _ in range(self.a.start_reps)]
        # Driver cache on (primed), mace's program cache off: what mace's
        # cache adds where NVIDIA's own cache is in use (the default).
        off = ["--program-cache-mode", "off"]
        self.mace_bench(model, indir, off, drv_env, 1, 0, tlim)  # prime
        r["drv_only"] = [self.mace_bench(model, indir, off, drv_env, 1, 0,
                                         tlim)
                         for _ in range(self.a.start_reps)]
        rc, out, err, _ = sh([self.a.mace_run, "cache", "dump", cache],
                             timeout=30)
        r["cache_dump_head"] = "\n".join((out + err).splitlines()[:40])
        rc, out, err, _ = sh([self.a.mace_run, "cache", "verify", cache],
                             timeout=30)
        r["cache_verify"] = {"rc": rc, "text": (out + err).strip()[-400:]}
        self.save()
        # Steady state.
        runs, warmup = MODELS[name][4], MODELS[name][5]
        if self.a.quick:
            runs, warmup = max(3, runs // 20), 1
        reps = [self.mace_bench(model, indir, ["--program-cache", cache],
                                drv_env, runs, warmup, tlim * 2)
                for _ in range(self.a.steady_reps)]
        good = sorted([x for x in reps if "median_ms" in x],
                      key=lambda x: x["median_ms"])
        steady = good[len(good) // 2] if good else reps[0]
        if "median_ms" in steady:
            steady["fps"] = round(1e3 / steady["median_ms"], 2)
        steady["medians_of_processes_ms"] = [x.get("median_ms") for x in reps]
        r["steady"] = steady
        self.save()
        # Outputs: CPU reference vs CL.
        outs = {}
        for dev in ("cpu", "cl"):
            od = os.path.join(self.work, "out-%s-%s" % (name, dev))
            shutil.rmtree(od, ignore_errors=True)
            cmd = [self.a.mace_run, "run", model, "--inputs", indir,
                   "--output-dir", od, "--device", dev]
            if dev == "cl":
                cmd += self.cl_args + ["--program-cache", cache]
            rc, out, err, wall = sh(cmd, env=drv_env, timeout=tlim * 2)
            outs[dev] = {"rc": rc, "dir": od, "wall_ms": round(wall, 1),
                         "stderr": err.strip()[-600:]}
        r["run"] = outs
        if outs["cpu"]["rc"] == 0 and outs["cl"]["rc"] == 0:
            rc, out, err, _ = sh([sys.executable,
                                  os.path.join(ROOT, "tests", "models",
                                               "compare.py"),
                                  outs["cpu"]["dir"], outs["cl"]["dir"],
                                  "--rel-l2", "1e-4"], timeout=120)
            errs = [float(x) for x in re.findall(r"rel L2 ([0-9.eE+-]+)",
                                                 out)]
            r["cpu_vs_cl"] = {"rc": rc, "pass": rc == 0,
                              "max_rel_l2": max(errs) if errs else None,
                              "text": (out + err).strip()}
        else:
            r["cpu_vs_cl"] = {"pass": False,
                              "text": "mace-run run failed (see run)"}
        self.save()

    # -- torch -------------------------------------------------------------
    def torch_model(self, name):
        r = self.res["models"].setdefault(name, {})
        indir = os.path.join(self.work, "in-" + name)
        runs, warmup = MODELS[name][4], MODELS[name][5]
        if self.a.quick:
            runs, warmup = max(3, runs // 20), 1
        modes = self.a.torch_modes
        cmd = [sys.executable, os.path.join(ROOT, "bench", "torch_onnx.py"),
               self.model_path(name), "--inputs", indir, "--device",
               self.a.torch_device, "--runs", str(runs), "--warmup",
               str(warmup), "--modes", modes, "--json", "--output-dir",
               os.path.join(self.work, "out-%s-torch" % name)]
        for dev in ("cl", "cpu"):
            od = os.path.join(self.work, "out-%s-%s" % (name, dev))
            if os.path.isdir(od) and os.listdir(od):
                cmd += ["--compare", od]
        rc, out, err, wall = sh(cmd, timeout=600 if self.a.quick else 300)
        j = last_json(out)
        if j is None:
            r["torch"] = {"error": "rc %s: %s" % (rc, err.strip()[-1500:])}
        else:
            j["rc"] = rc
            j["wall_ms"] = round(wall, 1)
            r["torch"] = j
        self.save()

    # -- float64 reference and a look at every output ----------------------
    def diag_model(self, name):
        """float64 reference (torch on the CPU), then the statistics of the
        input and of every runtime's outputs, and each one's relative L2
        against the reference and against each other."""
        r = self.res["models"].setdefault(name, {})
        indir = os.path.join(self.work, "in-" + name)
        ref = os.path.join(self.work, "out-%s-ref64" % name)
        cmd = [sys.executable, os.path.join(ROOT, "bench", "torch_onnx.py"),
               self.model_path(name), "--inputs", indir, "--device", "cpu",
               "--dtype", "float64", "--modes", "eager", "--runs", "1",
               "--warmup", "0", "--json", "--output-dir", ref]
        rc, out, err, wall = sh(cmd, timeout=300)
        d = {"ref64_rc": rc, "ref64_wall_ms": round(wall, 1)}
        if rc != 0:
            d["ref64_error"] = err.strip()[-800:]
        from onnx import TensorProto, numpy_helper

        def load_dir(dd):
            got = {}
            for f in sorted(os.listdir(dd)) if os.path.isdir(dd) else []:
                if not f.endswith(".pb"):
                    continue
                t = TensorProto()
                with open(os.path.join(dd, f), "rb") as fh:
                    t.ParseFromString(fh.read())
                a = numpy_helper.to_array(t)
                got[t.name or f] = (a, t)
            return got

        def st(a, t=None):
            a64 = np.asarray(a, np.float64)
            x = {"shape": list(a.shape), "dtype": str(a.dtype),
                 "min": float(a64.min()) if a.size else None,
                 "max": float(a64.max()) if a.size else None,
                 "mean": float(a64.mean()) if a.size else None,
                 "std": float(a64.std()) if a.size else None,
                 "nonzero": int(np.count_nonzero(a)),
                 "finite": bool(np.all(np.isfinite(a64))),
                 "sha1": __import__("hashlib").sha1(
                     np.ascontiguousarray(a).tobytes()).hexdigest()[:16],
                 "first": [float(v) for v in a.reshape(-1)[:4]]}
            if t is not None:
                x["pb"] = {"raw_data_bytes": len(t.raw_data),
                           "float_data": len(t.float_data),
                           "data_type": t.data_type}
            return x
        ins = load_dir(indir)
        d["input"] = {k: st(a, t) for k, (a, t) in ins.items()}
        runs = {k: load_dir(os.path.join(self.work, "out-%s-%s" % (name, k)))
                for k in ("ref64", "cpu", "cl", "torch")}
        d["outputs"] = {k: {n: st(a, t) for n, (a, t) in v.items()}
                        for k, v in runs.items()}
        pairs = {}
        keys = [k for k in ("ref64", "cpu", "cl", "torch") if runs[k]]
        for i, a in enumerate(keys):
            for b_ in keys[i + 1:]:
                worst = None
                for n, (ra, _) in runs[a].items():
                    if n not in runs[b_]:
                        continue
                    rb = runs[b_][n][0]
                    ra64 = np.asarray(ra, np.float64).ravel()
                    rb64 = np.asarray(rb, np.float64).ravel()
                    if ra64.size != rb64.size:
                        e = float("nan")
                    else:
                        e = float(np.linalg.norm(rb64 - ra64) /
                                  max(np.linalg.norm(ra64), 1e-30))
                    worst = e if worst is None or not (e <= worst) else worst
                pairs["%s_vs_%s" % (a, b_)] = worst
        d["max_rel_l2"] = pairs
        r["diag"] = d
        # Small arrays for a look at home: BlazeFace-128 in full, a corner
        # of the others.
        try:
            arrs = self.__dict__.setdefault("diag_arrays", {})
            for n, (a, _) in ins.items():
                arrs[name + "/input"] = (a if a.size < 1e6
                                         else a[..., :64, :64, :])
            for k, v in runs.items():
                for j, (n, (a, _)) in enumerate(sorted(v.items())):
                    arrs["%s/%s_%d" % (name, k, j)] = (
                        a if a.size < 1e6 else a[..., :128, :128, :])
            np.savez_compressed(os.path.join(self.a.out, "diag.npz"), **arrs)
        except Exception as e:
            d["npz_error"] = repr(e)
        self.save()

    def cl_init(self):
        """Driver-only cold start (bench/device/cl_init_time.c)."""
        tool = self.a.cl_init_time
        if not tool or not os.path.exists(tool):
            return
        res = {"nodrv": [], "drv": []}
        cpath = os.path.join(self.work, "cuda-cache-init")
        arg = [self.a.cl_device] if self.a.cl_device else []
        for i in range(3):
            rc, out, err, _ = sh([tool] + arg,
                                 env={"CUDA_CACHE_DISABLE": "1"}, timeout=60)
            res["nodrv"].append(last_json(out) or {"error": (err or out)
                                                   [-400:]})
        for i in range(4):
            rc, out, err, _ = sh([tool] + arg,
                                 env={"CUDA_CACHE_PATH": cpath}, timeout=60)
            if i:  # the first one primes the driver cache
                res["drv"].append(last_json(out) or {"error": (err or out)
                                                     [-400:]})
        self.res["cl_init"] = res
        self.save()

    # -- tuning (optional) ---------------------------------------------------
    def tuned_model(self, name):
        r = self.res["models"].setdefault(name, {})
        model = self.model_path(name)
        indir = os.path.join(self.work, "in-" + name)
        cache = os.path.join(self.work, "pc-%s.bin" % name)
        tune = os.path.join(self.work, "tune-%s.bin" % name)
        xdg = os.path.join(self.work, "xdg-" + name)
        env = {"CUDA_CACHE_PATH": os.path.join(self.work, "cuda-cache-" +
                                               name), "XDG_CACHE_HOME": xdg}
        cmd = [self.a.mace_run, "compile", model, "--device", "cl"] + \
            self.cl_args + ["--program-cache", cache, "--tune",
                            "--tuning-cache", tune, "--json"]
        if name.startswith("esrgan"):
            cmd += ["--shape", "LR=" + "x".join(map(str,
                                                    self.a.esrgan_shape))]
        rc, out, err, wall = sh(cmd, env=env, timeout=self.a.tune_timeout)
        t = {"compile_rc": rc, "compile_wall_ms": round(wall, 1),
             "compile": last_json(out),
             "compile_stderr": err.strip()[-600:]}
        if rc == 0:
            runs, warmup = MODELS[name][4], MODELS[name][5]
            if self.a.quick:
                runs, warmup = max(3, runs // 20), 1
            s = self.mace_bench(model, indir, ["--program-cache", cache,
                                               "--tuning-cache", tune],
                                env, runs, warmup, 300)
            if "median_ms" in s:
                s["fps"] = round(1e3 / s["median_ms"], 2)
            t["steady"] = s
        r["tuned"] = t
        self.save()


# -- report ----------------------------------------------------------------------
def best_graph(t):
    modes = (t or {}).get("modes", {})
    c = [(modes[k]["median_ms"], k) for k in ("graph", "graph_cl")
         if "median_ms" in modes.get(k, {})]
    return min(c) if c else (None, None)


def best_eager(t):
    modes = (t or {}).get("modes", {})
    c = [(modes[k]["median_ms"], k) for k in ("eager", "eager_cl")
         if "median_ms" in modes.get(k, {})]
    return min(c) if c else (None, None)


def summarize(res):
    """Adds res['summary'] and returns the markdown text."""
    env = res["env"]
    lines = []
    lines.append("# mace OpenCL vs PyTorch on %s, %s" % (
        (env.get("nvidia_smi") or "?").split(",")[0], res["when"][:10]))
    lines.append("")
    lines.append("GPU (nvidia-smi: name, driver, memory, max SM clock, "
                 "pstate): %s  " % env.get("nvidia_smi"))
    for l in env.get("clinfo", [])[:14]:
        lines.append("clinfo: %s  " % l)
    if env.get("mace_cl_device"):
        lines.append("mace picked: %s  " % "; ".join(env["mace_cl_device"]))
    lines.append("Host: %s, %s CPUs. mace commit %s.  " % (
        env.get("cpu"), env.get("cpus"), env.get("mace_commit")))
    s = res.get("settings", {})
    lines.append("Settings: %s" % ", ".join("%s=%s" % kv for kv in
                                            sorted(s.items())))
    lines.append("")
    lines.append("## Steady state (batch 1, median of timed runs after "
                 "warm-up; mace: host clock around `mace_engine_run`, "
                 "input upload and output download included)")
    lines.append("")
    lines.append("| model | input NHWC | mace CL median ms | mace fps | mace "
                 "CL min ms | torch eager ms | torch CUDA graph ms | torch "
                 "graph + H2D/D2H ms | mace / torch graph | mace / torch "
                 "graph+copies | CPU vs CL rel L2 | torch vs mace CL rel "
                 "L2 |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    summ = {}
    for name, r in res["models"].items():
        st = r.get("steady", {})
        t = r.get("torch", {})
        ge, gk = best_graph(t)
        ee, ek = best_eager(t)
        h2h = t.get("modes", {}).get("graph_h2h", {}).get("median_ms")
        mm = st.get("median_ms")
        cmp_cl = None
        for c in t.get("compare", []) or []:
            if c["dir"].endswith("-cl"):
                vals = [o.get("rel_l2") for o in c["outputs"]
                        if o.get("rel_l2") is not None]
                cmp_cl = max(vals) if vals else None
        cvc = r.get("cpu_vs_cl", {})
        summ[name] = {
            "mace_cl_median_ms": mm, "mace_cl_min_ms": st.get("min_ms"),
            "mace_cl_fps": st.get("fps"),
            "mace_error": st.get("error"),
            "torch_eager_ms": ee, "torch_eager_mode": ek,
            "torch_graph_ms": ge, "torch_graph_mode": gk,
            "torch_graph_h2h_ms": h2h,
            "ratio_mace_over_torch_graph": (mm / ge if mm and ge else None),
            "ratio_mace_over_torch_graph_h2h": (mm / h2h if mm and h2h
                                                else None),
            "ratio_mace_over_torch_eager": (mm / ee if mm and ee else None),
            "cpu_vs_cl_max_rel_l2": cvc.get("max_rel_l2"),
            "cpu_vs_cl_pass": cvc.get("pass"),
            "torch_vs_mace_cl_max_rel_l2": cmp_cl,
            "cold_load_ms": med([c.get("load_ms") for c in r.get("cold", [])]),
            "cold_first_output_ms": med([c.get("first_output_ms")
                                         for c in r.get("cold", [])]),
            "warm_nodrv_load_ms": med([c.get("load_ms")
                                       for c in r.get("warm_nodrv", [])]),
            "warm_nodrv_first_output_ms": med(
                [c.get("first_output_ms") for c in r.get("warm_nodrv", [])]),
            "warm_drv_load_ms": med([c.get("load_ms")
                                     for c in r.get("warm_drv", [])]),
            "warm_drv_first_output_ms": med(
                [c.get("first_output_ms") for c in r.get("warm_drv", [])]),
            "drv_only_first_output_ms": med(
                [c.get("first_output_ms") for c in r.get("drv_only", [])]),
            "mace_cl_medians_ms": st.get("medians_of_processes_ms"),
            "tuned_median_ms": r.get("tuned", {}).get("steady", {})
            .get("median_ms"),
        }
        x = summ[name]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                     "| %s |" % (
                         name, "x".join(map(str, r.get("input_shape", []))),
                         fmt(mm, "%.3f") if mm else ("FAILED" if st.get(
                             "error") else "-"),
                         fmt(st.get("fps"), "%.1f"),
                         fmt(st.get("min_ms")),
                         fmt(ee) + (" (%s)" % ek if ek else ""),
                         fmt(ge) + (" (%s)" % gk if gk else ""),
                         fmt(h2h),
                         fmt(x["ratio_mace_over_torch_graph"], "%.2f"),
                         fmt(x["ratio_mace_over_torch_graph_h2h"], "%.2f"),
                         fmt(cvc.get("max_rel_l2"), "%.2g") +
                         ("" if cvc.get("pass") else " FAIL"),
                         fmt(cmp_cl, "%.2g")))
    lines.append("")
    for name, r in res["models"].items():
        x = summ[name]
        gf = FLOPS.get(name)
        if name.startswith("esrgan") and r.get("input_shape"):
            gf = 445e3 * r["input_shape"][1] * r["input_shape"][2]
        rate = lambda ms: ("%.0f GFLOP/s" % (gf / ms / 1e6)  # noqa
                           if gf and ms else "-")
        lines.append("- %s: mace CL medians of the %s bench processes: %s ms;"
                     " achieved %s (mace) vs %s (torch CUDA graph), %.3g "
                     "GFLOP per frame" % (
                         name, len(x["mace_cl_medians_ms"] or []),
                         ", ".join(fmt(v) for v in
                                   x["mace_cl_medians_ms"] or []),
                         rate(x["mace_cl_median_ms"]),
                         rate(x["torch_graph_ms"]), (gf or 0) / 1e9))
    lines.append("")
    lines.append("## Cold vs warm start (mace-run bench --runs 1 --warmup 0; "
                 "medians of %s runs; ms)" % s.get("start_reps"))
    lines.append("")
    lines.append("cold: no program cache file, `CUDA_CACHE_DISABLE=1`. warm "
                 "(mace cache): the file the cold run wrote, driver cache "
                 "still off. warm (both): plus NVIDIA's own JIT cache, "
                 "primed by one run. load = time to a ready engine; first "
                 "output = load + first run.")
    lines.append("")
    lines.append("| model | cold load | cold first output | programs built "
                 "(cold) | compile ms (cold) | warm (mace cache) load | "
                 "warm (mace cache) first output | warm (both) load | warm "
                 "(both) first output | driver cache only (mace cache off) "
                 "first output | cold / warm (mace cache) first output |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in res["models"].items():
        x = summ[name]
        c0 = (r.get("cold") or [{}])[0]
        ratio = (x["cold_first_output_ms"] / x["warm_nodrv_first_output_ms"]
                 if x["cold_first_output_ms"] and
                 x["warm_nodrv_first_output_ms"] else None)
        x["cold_over_warm_first_output"] = ratio
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                     "|" % (
            name, fmt(x["cold_load_ms"], "%.1f"),
            fmt(x["cold_first_output_ms"], "%.1f"),
            fmt(c0.get("programs_built"), "%s"),
            fmt(c0.get("compile_ms"), "%.1f"),
            fmt(x["warm_nodrv_load_ms"], "%.1f"),
            fmt(x["warm_nodrv_first_output_ms"], "%.1f"),
            fmt(x["warm_drv_load_ms"], "%.1f"),
            fmt(x["warm_drv_first_output_ms"], "%.1f"),
            fmt(x["drv_only_first_output_ms"], "%.1f"),
            fmt(ratio, "%.2fx")))
    diags = [(n, r["diag"]) for n, r in res["models"].items()
             if r.get("diag", {}).get("max_rel_l2")]
    if diags:
        lines.append("")
        lines.append("## Accuracy: max relative L2 over the outputs, against "
                     "a float64 evaluation (torch on the CPU) and pairwise")
        lines.append("")
        lines.append("| model | mace CPU vs fp64 | mace CL vs fp64 | torch "
                     "CUDA fp32 vs fp64 | CPU vs CL | CL vs torch | input "
                     "mean/std | CL output[0] mean/std |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for n, d in diags:
            p_ = d["max_rel_l2"]
            inp = next(iter(d.get("input", {}).values()), {})
            o = d.get("outputs", {}).get("cl", {})
            o0 = o[sorted(o)[0]] if o else {}
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, fmt(p_.get("ref64_vs_cpu"), "%.2g"),
                fmt(p_.get("ref64_vs_cl"), "%.2g"),
                fmt(p_.get("ref64_vs_torch"), "%.2g"),
                fmt(p_.get("cpu_vs_cl"), "%.2g"),
                fmt(p_.get("cl_vs_torch"), "%.2g"),
                "%s / %s" % (fmt(inp.get("mean"), "%.4g"),
                             fmt(inp.get("std"), "%.4g")),
                "%s / %s" % (fmt(o0.get("mean"), "%.4g"),
                             fmt(o0.get("std"), "%.4g"))))
    ci = res.get("cl_init")
    if ci:
        lines.append("")
        lines.append("## The OpenCL driver alone (bench/device/cl_init_time:"
                     " platform, context, a 2-kernel program from source, "
                     "its binary reloaded, first launch; medians of runs, ms)")
        lines.append("")
        lines.append("| driver cache | platforms | context | build from "
                     "source | build from binary | binary | first launch | "
                     "100 launches, 1 finish | 100 x (launch + finish) | "
                     "total |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for k, label in (("nodrv", "off (CUDA_CACHE_DISABLE=1)"),
                         ("drv", "on, primed")):
            rows = [x for x in ci.get(k, []) if "total_ms" in x]
            if not rows:
                errs_ = [x.get("error") for x in ci.get(k, [])]
                lines.append("| %s | %s |" % (label, errs_[:1]))
                continue
            m_ = lambda f: med([x.get(f) for x in rows])  # noqa
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                         % (label, fmt(m_("platforms_ms"), "%.1f"),
                            fmt(m_("context_ms"), "%.1f"),
                            fmt(m_("build_src_ms"), "%.1f"),
                            fmt(m_("build_bin_ms"), "%.1f"),
                            "%s, %s bytes" % (rows[0].get("binary_kind"),
                                              rows[0].get("binary_bytes")),
                            fmt(m_("first_launch_ms"), "%.2f"),
                            fmt(m_("launch_x100_one_finish_ms"), "%.2f"),
                            fmt(m_("launch_finish_x100_ms"), "%.2f"),
                            fmt(m_("total_ms"), "%.1f")))
    tuned = [(n, r["tuned"]) for n, r in res["models"].items()
             if "tuned" in r]
    if tuned:
        lines.append("")
        lines.append("## With a tuned work-group file (`mace-run compile "
                     "--tune`)")
        lines.append("")
        lines.append("| model | tune rc | tune wall ms | tuned median ms | "
                     "untuned median ms |")
        lines.append("|---|---|---|---|---|")
        for n, t in tuned:
            lines.append("| %s | %s | %s | %s | %s |" % (
                n, t.get("compile_rc"), fmt(t.get("compile_wall_ms"), "%.0f"),
                fmt(t.get("steady", {}).get("median_ms")),
                fmt(summ[n]["mace_cl_median_ms"])))
    lines.append("")
    lines.append("## Targets (issue 3)")
    lines.append("")
    b = summ.get("blazeface-128", {})
    e = summ.get("esrgan-slim-x2", {})
    if b.get("mace_cl_median_ms"):
        v = b["mace_cl_median_ms"]
        lines.append("- BlazeFace-128 steady latency %.3f ms: %s 0.5 ms "
                     "(goal 0.25 ms)" % (v, "under" if v < 0.5 else
                                         "NOT under"))
    if e.get("mace_cl_fps"):
        lines.append("- ESRGAN-slim x2 %s input: %.1f frames/s: %s 60" % (
            "x".join(map(str, res["models"]["esrgan-slim-x2"]
                         ["input_shape"][1:3])), e["mace_cl_fps"],
            "at least" if e["mace_cl_fps"] >= 60 else "NOT at least"))
    for n, x in summ.items():
        if x.get("cpu_vs_cl_pass") is not None:
            lines.append("- %s mace CPU vs OpenCL outputs: max rel L2 %s (%s)" % (
                n, fmt(x["cpu_vs_cl_max_rel_l2"], "%.2g"),
                "within 1e-4" if x["cpu_vs_cl_pass"] else "FAILED 1e-4"))
    errs = [(n, r.get("steady", {}).get("error")) for n, r in
            res["models"].items() if r.get("steady", {}).get("error")]
    for n, r in res["models"].items():
        for k in ("cold", "warm_nodrv", "warm_drv"):
            for c in r.get(k, []) or []:
                if c.get("error"):
                    errs.append((n + " " + k, c["error"]))
        if r.get("torch", {}).get("error"):
            errs.append((n + " torch", r["torch"]["error"]))
        for k, v in (r.get("torch", {}).get("modes", {}) or {}).items():
            if isinstance(v, dict) and v.get("error"):
                errs.append((n + " torch " + k, v["error"]))
    if errs:
        lines.append("")
        lines.append("## Errors")
        lines.append("")
        for n, e_ in errs:
            lines.append("- %s: `%s`" % (n, e_.replace("\n", " ")[:600]))
    if res.get("notes"):
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        for n in res["notes"]:
            lines.append("- " + n)
    res["summary"] = summ
    # One flat row per model (what bench/plot_results.py reads).
    res["results"] = [dict(model=n, input_shape=res["models"][n].get(
        "input_shape"), mace_cl_median_ms=x["mace_cl_median_ms"],
        mace_cl_fps=x["mace_cl_fps"],
        torch_eager_median_ms=x["torch_eager_ms"],
        torch_graph_median_ms=x["torch_graph_ms"],
        torch_graph_h2h_median_ms=x["torch_graph_h2h_ms"],
        ratio_mace_over_torch_graph=x["ratio_mace_over_torch_graph"],
        cold_first_output_ms=x["cold_first_output_ms"],
        warm_first_output_ms=x["warm_nodrv_first_output_ms"],
        warm_both_caches_first_output_ms=x["warm_drv_first_output_ms"],
        cpu_vs_cl_max_rel_l2=x["cpu_vs_cl_max_rel_l2"])
        for n, x in summ.items()]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mace-run", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/h100-work")
    ap.add_argument("--cl-device", default="")
    ap.add_argument("--torch-device", default="cuda")
    ap.add_argument("--torch-modes",
                    default="eager,eager_cl,graph,graph_cl,graph_h2h")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--esrgan-shape", default="1x540x960x3")
    ap.add_argument("--start-reps", type=int, default=3)
    ap.add_argument("--steady-reps", type=int, default=3,
                    help="mace-run bench processes per model (the middle "
                         "one by median is reported, all are kept)")
    ap.add_argument("--quick", action="store_true",
                    help="few runs (local check of the script)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--tune", action="store_true",
                    help="also tune work-group sizes and bench with them")
    ap.add_argument("--tune-timeout", type=int, default=120)
    ap.add_argument("--commit", default="")
    ap.add_argument("--cl-init-time", default="",
                    help="path of the cl_init_time tool (driver-only start)")
    ap.add_argument("--no-diag", action="store_true")
    args = ap.parse_args()
    args.esrgan_shape = [int(d) for d in args.esrgan_shape.split("x")]
    args.mace_run = os.path.abspath(args.mace_run)
    shutil.rmtree(args.work, ignore_errors=True)
    b = Bench(args)
    models = [m for m in args.models.split(",") if m]
    b.res["settings"] = {
        "cl_device": args.cl_device or "(default: GPU first)",
        "start_reps": args.start_reps, "quick": args.quick,
        "esrgan_shape": "x".join(map(str, args.esrgan_shape)),
        "runs_warmup": {m: "%d/%d" % MODELS[m][4:6] for m in models},
        "torch_device": args.torch_device, "seed": SEED}
    try:
        b.environment()
    except Exception as e:  # keep going
        b.res["notes"].append("environment step failed: %r" % e)
    for m in models:
        try:
            b.mace_model(m)
        except Exception as e:
            b.res["models"].setdefault(m, {})["mace_exception"] = repr(e)
            log("mace %s: exception %r" % (m, e))
    if not args.no_torch:
        for m in models:
            try:
                b.torch_model(m)
            except Exception as e:
                b.res["models"].setdefault(m, {})["torch"] = {
                    "error": repr(e)}
    if not args.no_diag:
        for m in models:
            try:
                b.diag_model(m)
            except Exception as e:
                b.res["models"].setdefault(m, {})["diag"] = {
                    "error": repr(e)}
                log("diag %s: exception %r" % (m, e))
    try:
        b.cl_init()
    except Exception as e:
        b.res["notes"].append("cl_init step failed: %r" % e)
    if args.tune:
        for m in models:
            try:
                b.tuned_model(m)
            except Exception as e:
                b.res["models"][m]["tuned"] = {"error": repr(e)}
    md = summarize(b.res)
    b.res["total_s"] = round(time.time() - T0, 1)
    b.save()
    with open(os.path.join(args.out, "h100.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
