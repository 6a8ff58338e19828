#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""CPU benchmark of mace-run against peer runtimes on the same models, the
same input and the same thread count.

  bench/run_peers.py [--mace-run PATH] [--runs N] [--warmup K] [--threads T]
                     [--models a,b] [--peers mace,ort,opencv] [--no-write]

Peers:
  mace    <mace-run> bench MODEL --inputs DIR --runs N --warmup K
          --threads T --json   (DIR holds input_0.pb, the shared input)
  ort     ONNX Runtime for Node.js (bench/ort_bench.js; intra-op T,
          inter-op 1, sequential, all graph optimisations)
  opencv  OpenCV DNN (cv2.dnn, OpenCV backend, cv2.setNumThreads(T))

Each peer gets the same random input (fixed seed), K warm-up runs, then N
timed runs; the median, p90 (nearest rank) and min are reported. ORT's and
mace's outputs are compared with OpenCV's (relative L2) so a fast wrong
answer shows. Writes bench/results/cpu-<date>.json and .md unless
--no-write.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 20240601

# name -> (path under models/, input shape NHWC, input range)
MODELS = {
    "blazeface-128": ("blazeface/face_detection_front_128x128_barracuda.onnx",
                      (1, 128, 128, 3), (-1.0, 1.0)),
    "blazeface-256": ("blazeface/face_detection_back_256x256_barracuda.onnx",
                      (1, 256, 256, 3), (-1.0, 1.0)),
    "esrgan-slim-x2-320x180": ("esrgan-slim/esrgan-slim-x2.onnx",
                               (1, 180, 320, 3), (0.0, 255.0)),
}
PEERS = ("mace", "ort", "opencv")


def log(msg):
    print("run_peers: %s" % msg, file=sys.stderr, flush=True)


def stats(times_ms):
    s = sorted(times_ms)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p90 = s[min(n - 1, max(0, -(-9 * n // 10) - 1))]
    return {"median_ms": med, "p90_ms": p90, "min_ms": s[0], "runs": n}


def rel_l2(ref, got):
    ref = np.asarray(ref, np.float64).ravel()
    got = np.asarray(got, np.float64).ravel()
    if ref.size != got.size:
        return float("nan")
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def find_mace_run(arg):
    if arg:
        return arg
    if os.environ.get("MACE_RUN"):
        return os.environ["MACE_RUN"]
    cands = sorted(glob.glob(os.path.join(ROOT, "build*", "tools",
                                          "mace-run")),
                   key=lambda p: (os.path.basename(os.path.dirname(
                       os.path.dirname(p))) != "build", p))
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    return os.path.join(ROOT, "build", "tools", "mace-run")


# ------------------------------------------------------------------ peers


def run_opencv(model, x, args):
    import cv2
    cv2.setNumThreads(args.threads)
    net = cv2.dnn.readNetFromONNX(model)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    names = list(net.getUnconnectedOutLayersNames())
    out = None
    for _ in range(args.warmup):
        net.setInput(x)
        out = net.forward(names)
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        net.setInput(x)
        out = net.forward(names)
        times.append((time.perf_counter() - t0) * 1e3)
    r = stats(times)
    r["version"] = "OpenCV %s" % cv2.__version__
    return r, [np.array(o) for o in out]


def run_ort(model, xfile, shape, args, tmp):
    node = shutil.which("node")
    script = os.path.join(HERE, "ort_bench.js")
    if not node:
        return None, None, "node not found"
    if not os.path.isdir(os.path.join(HERE, "node_modules",
                                      "onnxruntime-node")):
        return None, None, ("bench/node_modules/onnxruntime-node missing "
                            "(cd bench && npm install --ignore-scripts)")
    dump = os.path.join(tmp, "ort-out")
    shutil.rmtree(dump, ignore_errors=True)
    cmd = [node, script, model, xfile, "x".join(map(str, shape)),
           "--runs", str(args.runs), "--warmup", str(args.warmup),
           "--threads", str(args.threads), "--dump", dump]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if p.returncode != 0:
        return None, None, "ort_bench.js failed: %s" % p.stderr.strip()[-500:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["version"] = "onnxruntime-node %s" % r.get("ort_version")
    meta = json.load(open(os.path.join(dump, "outputs.json")))
    outs = [np.fromfile(os.path.join(dump, "%d.f32" % i), "<f4")
            .reshape(m["dims"]) for i, m in enumerate(meta)]
    return r, outs, None


def run_mace(mace_run, model, indir, args, tmp):
    if not (os.path.isfile(mace_run) and os.access(mace_run, os.X_OK)):
        return None, None, ("mace-run not found at %s (build it: meson "
                            "setup build && ninja -C build, or pass "
                            "--mace-run)" % mace_run)
    base = [mace_run, "bench", model, "--runs", str(args.runs), "--warmup",
            str(args.warmup), "--threads", str(args.threads), "--json"]
    p = subprocess.run(base[:3] + ["--inputs", indir] + base[3:],
                       capture_output=True, text=True)
    note = None
    if p.returncode != 0:
        # An older mace-run without --inputs: let it make its own input.
        p2 = subprocess.run(base, capture_output=True, text=True)
        if p2.returncode != 0:
            return None, None, ("mace-run bench failed (exit %d): %s" % (
                p.returncode, (p.stderr or p.stdout).strip()[-400:]))
        p = p2
        note = "mace-run bench does not take --inputs; it used its own input"
    try:
        txt = p.stdout.strip()
        r = json.loads(txt[txt.index("{"):txt.rindex("}") + 1])
    except ValueError:
        return None, None, ("mace-run bench --json printed no JSON (is "
                            "'bench' implemented?): %r" % p.stdout[-200:])
    for k in ("median_ms", "p90_ms", "min_ms"):
        if k not in r:
            return None, None, "mace-run bench JSON lacks %s" % k
    r["version"] = "mace-run"
    if note:
        r["note"] = note
    # Outputs for the agreement check, where `mace-run run` works.
    outs = None
    od = os.path.join(tmp, "mace-out")
    shutil.rmtree(od, ignore_errors=True)
    os.makedirs(od)
    q = subprocess.run([mace_run, "run", model, "--inputs", indir,
                        "--output-dir", od, "--threads", str(args.threads)],
                       capture_output=True, text=True)
    if q.returncode == 0:
        from onnx import TensorProto, numpy_helper
        outs = []
        for f in sorted(glob.glob(os.path.join(od, "output_*.pb")),
                        key=lambda s: int(s.rsplit("_", 1)[1][:-3])):
            t = TensorProto()
            t.ParseFromString(open(f, "rb").read())
            outs.append(numpy_helper.to_array(t))
    return r, outs or None, None


# ----------------------------------------------------------------- report


def host_info():
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "loadavg_at_start": load}


def fmt(v, f="%.2f"):
    return "" if v is None else f % v


def table(rows):
    head = ["model", "input WxH", "peer", "median ms", "p90 ms", "min ms",
            "mace/peer", "rel L2 vs opencv"]
    lines = [head]
    for r in rows:
        lines.append([r["model"], r["input"], r["peer"],
                      fmt(r.get("median_ms")), fmt(r.get("p90_ms")),
                      fmt(r.get("min_ms")), fmt(r.get("ratio_mace_over_peer"),
                                                "%.2f"),
                      fmt(r.get("rel_l2_vs_opencv"), "%.1e")
                      if r.get("rel_l2_vs_opencv") is not None else
                      ("not run (see notes)" if r.get("error") else "")])
    w = [max(len(l[i]) for l in lines) for i in range(len(head))]
    txt = ["  ".join(c.ljust(w[i]) for i, c in enumerate(l)).rstrip()
           for l in lines]
    txt.insert(1, "  ".join("-" * x for x in w))
    md = ["| " + " | ".join(lines[0]) + " |",
          "|" + "|".join("---" for _ in head) + "|"]
    md += ["| " + " | ".join(l) + " |" for l in lines[1:]]
    return "\n".join(txt), "\n".join(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mace-run", help="path of mace-run (default: $MACE_RUN"
                    " or build*/tools/mace-run)")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma list of %s" % ", ".join(MODELS))
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    host = host_info()  # load average before we add our own load
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            ap.error("unknown peer %s (have %s)" % (p, ", ".join(PEERS)))
    mace_run = find_mace_run(args.mace_run)
    from onnx import numpy_helper
    import onnx

    rows, notes = [], []
    tmp = tempfile.mkdtemp(prefix="mace-bench-")
    try:
        for name in args.models.split(","):
            if name not in MODELS:
                ap.error("unknown model %s (have %s)"
                         % (name, ", ".join(MODELS)))
            rel, shape, (lo, hi) = MODELS[name]
            model = os.path.join(args.models_dir, rel)
            inp = "%dx%d" % (shape[2], shape[1])  # W x H
            if not os.path.isfile(model):
                log("%s: %s missing (run models/fetch); skipped"
                    % (name, model))
                notes.append("%s skipped: model missing" % name)
                continue
            rng = np.random.default_rng(args.seed)
            x = rng.uniform(lo, hi, size=shape).astype(np.float32)
            xfile = os.path.join(tmp, "input.f32")
            x.astype("<f4").tofile(xfile)
            indir = os.path.join(tmp, "inputs")
            os.makedirs(indir, exist_ok=True)
            in_name = onnx.load(model, load_external_data=False) \
                .graph.input[0].name
            with open(os.path.join(indir, "input_0.pb"), "wb") as f:
                f.write(numpy_helper.from_array(x, in_name)
                        .SerializeToString())

            res, outs = {}, {}
            for peer in peers:
                log("%s: %s (%d warm-up, %d runs, %d threads)"
                    % (name, peer, args.warmup, args.runs, args.threads))
                err = None
                if peer == "opencv":
                    try:
                        r, o = run_opencv(model, x, args)
                    except Exception as e:
                        r, o, err = None, None, "OpenCV: %s" % e
                elif peer == "ort":
                    r, o, err = run_ort(model, xfile, shape, args, tmp)
                else:
                    r, o, err = run_mace(mace_run, model, indir, args, tmp)
                if err:
                    log("%s: %s: %s" % (name, peer, err))
                    notes.append("%s, %s not run: %s" % (name, peer, err))
                res[peer] = r if r else {"error": err}
                outs[peer] = o
            mace_med = (res.get("mace") or {}).get("median_ms")
            for peer in peers:
                r = dict(res[peer])
                row = {"model": name, "input": inp, "peer": peer,
                       "model_file": rel, "input_shape": list(shape)}
                row.update(r)
                row["model"] = name  # mace-run's JSON has its own "model"
                if mace_med and r.get("median_ms"):
                    row["ratio_mace_over_peer"] = mace_med / r["median_ms"]
                if peer != "opencv" and outs.get(peer) and \
                        outs.get("opencv"):
                    errs = [rel_l2(a, b) for a, b in
                            zip(outs["opencv"], outs[peer])]
                    row["rel_l2_vs_opencv"] = max(errs) if errs else None
                rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    txt, md = table(rows)
    print(txt)
    for n in notes:
        print("note: %s" % n)

    if args.no_write:
        return 0
    h = host
    load = [float(v) for v in (h["loadavg_at_start"] or [])]
    try:
        load_end = [float(v) for v in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        load_end = []
    busy = max(load[:1] + load_end[:1] or [0]) > 0.5 * (os.cpu_count() or 1)
    if busy:
        notes.append("machine busy (1-min load average %s at start, %s at "
                     "end, %d cores): times are inflated and noisy; compare "
                     "min_ms, or rerun on a quiet machine"
                     % (load[:1], load_end[:1], os.cpu_count() or 0))
        print("note: %s" % notes[-1])
    now = datetime.datetime.now()
    stamp = now.strftime("%Y-%m-%d")
    os.makedirs(args.out_dir, exist_ok=True)
    versions = sorted({r.get("version") for r in rows if r.get("version")})
    node = shutil.which("node")
    meta = {
        "date": now.isoformat(timespec="seconds"),
        "host": dict(h, loadavg_at_end=load_end),
        "settings": {"runs": args.runs, "warmup": args.warmup,
                     "threads_intra_op": args.threads,
                     "threads_inter_op": 1, "seed": args.seed,
                     "input": "uniform random in the model's input range"},
        "versions": versions + ([subprocess.run(
            [node, "--version"], capture_output=True, text=True)
            .stdout.strip().join(["node ", ""])] if node else []),
        "mace_run": mace_run,
        "results": rows,
        "notes": notes,
    }
    jpath = os.path.join(args.out_dir, "cpu-%s.json" % stamp)
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(args.out_dir, "cpu-%s.md" % stamp), "w") as f:
        f.write("# CPU peer benchmark, %s\n\n" % meta["date"])
        h = meta["host"]
        f.write("Host: %s, %s cores, Linux %s, load average at start %s.  \n"
                % (h["cpu"], h["cores"], h["kernel"],
                   " ".join(h["loadavg_at_start"] or [])))
        f.write("Settings: %d warm-up + %d timed runs, %d intra-op threads, "
                "1 inter-op; same random input (seed %d) for every peer.  \n"
                % (args.warmup, args.runs, args.threads, args.seed))
        f.write("Versions: %s.\n\n" % ", ".join(meta["versions"]))
        f.write(md + "\n")
        if notes:
            f.write("\n" + "".join("- %s\n" % n for n in notes))
        f.write("\nProduced by `bench/run_peers.py`; raw numbers in "
                "`%s`.\n" % os.path.basename(jpath))
    log("wrote %s and .md" % jpath)
    return 0


if __name__ == "__main__":
    sys.exit(main())
