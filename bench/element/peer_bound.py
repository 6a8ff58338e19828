#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Same-time upper bound on NNStreamer 2.7 + ONNX Runtime for the issue 4
pipelines, next to macefilter's own frames/s.

NNStreamer cannot be installed here, and this shared 2-vCPU host changes
speed from minute to minute, so its figures from the issue (measured at
another time) are a noisy yardstick.  This script measures, in the same
interleaved rounds, for each pipeline:

  ours   gst-launch-1.0 videotestsrc num-buffers=N ! video/x-raw,format=F,
         width=W,height=H ! macefilter model=M device=cpu ! fakesink
         sync=false
         frames/s = N / the "Execution ended after" time (PLAYING to EOS,
         start-up and preroll excluded); whole-process wall frames/s too.
  front  NNStreamer's front half, the same way:
         videotestsrc ... ! videoscale ! videoconvert !
         video/x-raw,format=RGB,width=S,height=S ! fakesink sync=false
         (S: the model's input side; for a source already SxS RGB no
         scale/convert: the plain source), ms per frame.
  ort    bare ONNX Runtime (what NNStreamer's tensor_filter runs) on the
         same model: node bench/ort_bench.js MODEL INPUT.f32 1xSxSx3
         --threads 2 (its best thread count here), median ms.  Input:
         uniform in [-1, 1], numpy seed 20240601.

NNStreamer runs the front half and the filter in one streaming thread
(no queue), so per frame it spends at least front + ort, and

  bound = 1000 / (front_ms + ort_median_ms)  frames/s

is an upper bound on what it could reach at that moment (it leaves out
tensor_converter, the uint8->float32 tensor_transform, tensor_filter's
own overhead and output copies, and ort_bench feeds the same ready input
every run).  ours/bound > 1 means macefilter is faster than NNStreamer
could be at the same time.

Rounds: each round measures every pipeline back to back (ours, front, ort
next to each other); the order of pipelines and of the three measurements
flips every round.  Before each run the script waits (bounded) until this
VM is idle, so other processes here do not skew it; other guests of the
host do not show and are what the rounds are for.

usage: bench/element/peer_bound.py [--build build] [--rounds 5] [--quick]
           [--out bench/results/peer-bound-YYYY-MM-DD]
Writes OUT.json (every raw number, host, versions, load averages) and
OUT.md (tables and the method).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SEED = 20240601
MODELS = {
    "bf128": ("models/blazeface/face_detection_front_128x128_barracuda.onnx",
              128),
    "bf256": ("models/blazeface/face_detection_back_256x256_barracuda.onnx",
              256),
}
# name, model, source format, width, height, frames, NNStreamer fps (issue 4)
PIPELINES = [
    ("bf128-128x128-RGB", "bf128", "RGB", 128, 128, 3000, 1001),
    ("bf128-640x480-I420", "bf128", "I420", 640, 480, 1500, 734),
    ("bf128-1920x1080-I420", "bf128", "I420", 1920, 1080, 600, 272),
    ("bf256-640x480-I420", "bf256", "I420", 640, 480, 600, 215),
]
EXEC_RE = re.compile(r"Execution ended after (\d+):(\d+):(\d+(?:\.\d+)?)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_busy():
    """(busy, total) jiffies of this VM (steal counts as busy)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def wait_quiet(limit, timeout):
    """Waits up to `timeout` s until this VM was at most `limit` busy over
    half a second; returns (seconds waited, last busy fraction)."""
    t_start = time.monotonic()
    while True:
        b0, t0 = cpu_busy()
        time.sleep(0.5)
        b1, t1 = cpu_busy()
        frac = (b1 - b0) / max(1, t1 - t0)
        waited = time.monotonic() - t_start
        if frac <= limit or waited > timeout:
            return round(waited, 2), round(frac, 3)
        time.sleep(2)


def gst_env(build):
    env = dict(os.environ)
    pd = subprocess.run(["pkg-config", "--variable=pluginsdir",
                         "gstreamer-1.0"], capture_output=True, text=True,
                        check=True).stdout.strip()
    env["GST_PLUGIN_SYSTEM_PATH_1_0"] = ""
    env["GST_PLUGIN_PATH_1_0"] = os.path.join(build, "gst") + ":" + pd
    env["GST_REGISTRY_1_0"] = os.path.join(build, "peer-registry.bin")
    return env


def launch(env, frames, fmt, w, h, tail):
    """Runs gst-launch-1.0 videotestsrc ! caps ! TAIL ! fakesink; returns
    (execution seconds, whole-process wall seconds)."""
    cmd = ["gst-launch-1.0", "videotestsrc", "num-buffers=%d" % frames, "!",
           "video/x-raw,format=%s,width=%d,height=%d" % (fmt, w, h)]
    for el in tail:
        cmd += ["!"] + el
    cmd += ["!", "fakesink", "sync=false"]
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    m = EXEC_RE.search(p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError("%s failed (rc %d):\n%s%s"
                           % (" ".join(cmd), p.returncode, p.stdout,
                              p.stderr))
    ex = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return ex, wall


def measure_ours(env, p, model):
    name, _, fmt, w, h, n, _ = p
    ex, wall = launch(env, n, fmt, w, h,
                      [["macefilter", "model=%s" % model, "device=cpu"]])
    return {"frames": n, "exec_s": ex, "wall_s": wall, "fps": n / ex,
            "wall_fps": n / wall}


def measure_front(env, p, side):
    name, _, fmt, w, h, n, _ = p
    if fmt == "RGB" and (w, h) == (side, side):
        tail = []
    else:
        tail = [["videoscale"], ["videoconvert"],
                ["video/x-raw,format=RGB,width=%d,height=%d" % (side, side)]]
    ex, wall = launch(env, n, fmt, w, h, tail)
    return {"frames": n, "exec_s": ex, "wall_s": wall,
            "ms_per_frame": 1000.0 * ex / n,
            "scale_convert": bool(tail)}


def measure_ort(node, model, xfile, side, runs, warmup):
    cmd = [node, os.path.join(ROOT, "bench/ort_bench.js"), model, xfile,
           "1x%dx%dx3" % (side, side), "--runs", str(runs), "--warmup",
           str(warmup), "--threads", "2"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed (rc %d):\n%s"
                           % (" ".join(cmd), p.returncode, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions(node):
    v = {}
    p = subprocess.run(["gst-launch-1.0", "--version"], capture_output=True,
                       text=True)
    v["gst_launch"] = p.stdout.strip().splitlines()
    try:
        with open(os.path.join(ROOT, "bench/node_modules/onnxruntime-node/"
                               "package.json")) as f:
            v["onnxruntime_node"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError) as e:
        v["onnxruntime_node"] = "unknown (%s)" % e
    v["node"] = subprocess.run([node, "--version"], capture_output=True,
                               text=True).stdout.strip()
    return v


def git_rev():
    def git(*a):
        return subprocess.run(["git", "-C", ROOT] + list(a),
                              capture_output=True, text=True).stdout
    changed = git("status", "--porcelain", "--untracked-files=no").rstrip()
    return {"commit": git("rev-parse", "HEAD").strip(),
            "dirty": bool(changed),
            "changed": [x[3:] for x in changed.splitlines()]}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def summarize(rounds):
    """Per pipeline: medians over rounds and the per-round lists."""
    out = []
    for p in PIPELINES:
        name = p[0]
        rs = [r["pipelines"][name] for r in rounds]
        col = {k: [x[k] for x in rs] for k in
               ("ours_fps", "ours_wall_fps", "front_ms", "ort_ms", "bound_fps",
                "ratio")}
        out.append({"pipeline": name, "model": p[1], "frames": p[5],
                    "nnstreamer_issue_fps": p[6],
                    "median": {k: med(v) for k, v in col.items()},
                    "per_round": col,
                    "ours_over_issue": med(col["ours_fps"]) / p[6],
                    "rounds_below_bound": sum(1 for x in col["ratio"]
                                              if x < 1.0)})
    return out


def write_md(path, doc):
    s = doc["summary"]
    L = []
    L.append("# macefilter vs a same-time bound on NNStreamer + ONNX Runtime,"
             " %s" % doc["date"])
    L.append("")
    L.append("`bench/element/peer_bound.py` (%d round(s)%s), %s to %s UTC, "
             "host `%s` (%d CPUs, shared VM), %s, onnxruntime-node %s, "
             "build `%s` at %s%s."
             % (doc["settings"]["rounds"],
                ", --quick" if doc["settings"]["quick"] else "",
                doc["start_utc"][11:19], doc["end_utc"][11:19],
                doc["host"]["cpu_model"], doc["host"]["cpus"],
                doc["versions"]["gst_launch"][0]
                if doc["versions"]["gst_launch"] else "gst-launch-1.0 ?",
                doc["versions"]["onnxruntime_node"],
                doc["settings"]["build"], doc["git"]["commit"][:7],
                " (uncommitted: %s)" % ", ".join(doc["git"]["changed"])
                if doc["git"]["dirty"] else ""))
    L.append("")
    L.append("## Medians over rounds")
    L.append("")
    L.append("| pipeline | ours fps (exec) | ours fps (wall) | front ms/frame "
             "| ORT ms (2 thr) | bound fps | ours/bound | NNStreamer fps "
             "(issue 4) | ours/issue |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for row in s:
        m = row["median"]
        L.append("| %s | %.0f | %.0f | %.3f | %.3f | %.0f | %.2f | %d | %.2f |"
                 % (row["pipeline"], m["ours_fps"], m["ours_wall_fps"],
                    m["front_ms"], m["ort_ms"], m["bound_fps"], m["ratio"],
                    row["nnstreamer_issue_fps"], row["ours_over_issue"]))
    L.append("")
    L.append("ours/bound is the median of the per-round ratios (each round's "
             "ours and bound are measured next to each other); the other "
             "columns are medians of their own.")
    L.append("")
    L.append("## Per round")
    L.append("")
    nr = len(doc["rounds"])
    L.append("| pipeline | value | " + " | ".join(
        "r%d" % (i + 1) for i in range(nr)) + " |")
    L.append("|---|---|" + "---|" * nr)
    for row in s:
        pr = row["per_round"]
        for key, label, fmt in (("ours_fps", "ours fps", "%.0f"),
                                ("bound_fps", "bound fps", "%.0f"),
                                ("ratio", "ours/bound", "%.2f"),
                                ("front_ms", "front ms", "%.3f"),
                                ("ort_ms", "ORT ms", "%.3f")):
            L.append("| %s | %s | %s |" % (
                row["pipeline"], label,
                " | ".join(fmt % x for x in pr[key])))
    L.append("")
    L.append("Load average at the start of each round: " + "; ".join(
        "r%d %s" % (i + 1, r["loadavg_start"])
        for i, r in enumerate(doc["rounds"])) + ".")
    busy = [(i + 1, x["pipeline"], x["kind"]) for i, r in
            enumerate(doc["rounds"]) for x in r["runs"]
            if x["waited_s"] > doc["settings"]["quiet_timeout_s"]]
    if busy:
        L.append("Runs started with this VM still busy after the %d s wait: "
                 % doc["settings"]["quiet_timeout_s"] + "; ".join(
                     "r%d %s %s" % b for b in busy) + ".")
    below = [row for row in s if row["median"]["ratio"] < 1.0]
    L.append("")
    if below:
        L.append("Below the bound in the median: " + "; ".join(
            "%s (%.0f vs %.0f fps, %.2f)" % (
                row["pipeline"], row["median"]["ours_fps"],
                row["median"]["bound_fps"], row["median"]["ratio"])
            for row in below) + ".")
    else:
        L.append("Every pipeline is above its bound in the median.")
    some = [row for row in s if row["rounds_below_bound"]]
    if some:
        L.append("Rounds below the bound: " + "; ".join(
            "%s %d of %d" % (row["pipeline"], row["rounds_below_bound"], nr)
            for row in some) + ".")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(
        "NNStreamer 2.7 is not packaged for Debian 12, so it is not run "
        "here; instead its two parts are measured at the same time as "
        "macefilter.  *ours*: `gst-launch-1.0 videotestsrc num-buffers=N ! "
        "caps ! macefilter model=M device=cpu ! fakesink sync=false`, "
        "N / the time gst-launch reports from PLAYING to EOS (start-up, "
        "model load and preroll excluded; *wall* is the whole process).  "
        "*front*: the same pipeline style with NNStreamer's front half, "
        "`videoscale ! videoconvert ! video/x-raw,format=RGB,width=S,"
        "height=S` instead of macefilter (the plain source for the "
        "128x128 RGB case), execution time / N.  *ORT*: the median of %d "
        "runs (%d warm-up) of `bench/ort_bench.js` on the same model, "
        "2 intra-op threads (ONNX Runtime's best setting on this host), "
        "input uniform in [-1, 1], seed %d.  NNStreamer's pipeline "
        "(`... ! tensor_converter ! tensor_transform ! tensor_filter "
        "framework=onnxruntime ! ...`, no queue) runs the front half and "
        "the inference one after the other in one streaming thread, so "
        "each frame costs it at least front + ORT, and "
        "**bound = 1000 / (front ms + ORT ms)** is an upper bound on its "
        "frames/s at that moment: it leaves out tensor_converter, the "
        "uint8-to-float tensor_transform, tensor_filter's own work and the "
        "copies of the outputs, and ORT's bare loop reuses one ready input.  "
        "ours/bound > 1 means macefilter is faster than NNStreamer could "
        "be at the same time.  Each round runs every pipeline's three "
        "measurements back to back; the order of pipelines and of the "
        "three flips every round; before each run the script waits "
        "(at most %d s) until this VM is idle.  Other guests of the host "
        "do not show in that check, hence the rounds and medians; when "
        "the host changes speed between a pipeline's measurements, that "
        "round's ratio is off in one direction or the other (look at "
        "ORT ms from round to round).  Raw "
        "numbers: `%s`."
        % (doc["settings"]["ort_runs"], doc["settings"]["ort_warmup"],
           SEED, doc["settings"]["quiet_timeout_s"],
           os.path.basename(doc["json"])))
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build",
                    help="meson build dir with gst/ (default build)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ort-runs", type=int, default=300)
    ap.add_argument("--ort-warmup", type=int, default=20)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round, frames / 10, 30 ORT runs")
    ap.add_argument("--quiet-timeout", type=float, default=120.0,
                    help="longest wait (s) for an idle VM before each run")
    ap.add_argument("--out", help="output prefix (default bench/results/"
                    "peer-bound-YYYY-MM-DD, -quick appended with --quick)")
    a = ap.parse_args()

    build = os.path.abspath(a.build)
    if not os.path.isdir(os.path.join(build, "gst")):
        ap.error("%s has no gst/ (build the plugin first)" % build)
    node = shutil.which("node")
    if not node:
        ap.error("node not found (needed for bench/ort_bench.js)")
    scale = 10 if a.quick else 1
    rounds_n = 1 if a.quick else a.rounds
    ort_runs, ort_warmup = (30, 5) if a.quick else (a.ort_runs, a.ort_warmup)
    today = datetime.datetime.utcnow().strftime("%Y-%m-%d")
    out = a.out or os.path.join(ROOT, "bench/results", "peer-bound-%s%s"
                                % (today, "-quick" if a.quick else ""))
    models = {}
    for k, (rel, side) in MODELS.items():
        path = os.path.join(ROOT, rel)
        if not os.path.isfile(path):
            ap.error("%s missing (run models/fetch)" % path)
        models[k] = (path, side)

    env = gst_env(build)
    # Registry scan and plugin check, outside the timed runs.
    p = subprocess.run(["gst-inspect-1.0", "macefilter"], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        ap.error("macefilter not found under %s/gst:\n%s"
                 % (build, p.stderr))

    import numpy as np
    tmp = tempfile.mkdtemp(prefix="peer-bound-")
    inputs = {}
    for k, (path, side) in models.items():
        x = np.random.default_rng(SEED).uniform(
            -1.0, 1.0, size=(1, side, side, 3)).astype("<f4")
        inputs[k] = os.path.join(tmp, "%s.f32" % k)
        x.tofile(inputs[k])

    doc = {"date": today,
           "start_utc": datetime.datetime.utcnow().isoformat(
               timespec="seconds"),
           "host": {"cpu_model": cpu_model(), "cpus": os.cpu_count(),
                    "hostname": platform.node(),
                    "kernel": platform.release()},
           "versions": versions(node), "git": git_rev(),
           "settings": {"build": os.path.relpath(build, ROOT)
                        if build.startswith(ROOT) else build,
                        "rounds": rounds_n, "quick": a.quick,
                        "frames": {p[0]: p[5] // scale for p in PIPELINES},
                        "ort_runs": ort_runs, "ort_warmup": ort_warmup,
                        "ort_threads": 2, "seed": SEED,
                        "input": "uniform [-1, 1] float32 1xSxSx3",
                        "quiet_limit": 0.08,
                        "quiet_timeout_s": a.quiet_timeout},
           "json": out + ".json", "rounds": []}
    try:
        for r in range(rounds_n):
            rec = {"round": r + 1, "loadavg_start": loadavg(),
                   "pipelines": {}, "runs": []}
            order = PIPELINES if r % 2 == 0 else list(reversed(PIPELINES))
            for p in order:
                p = (p[0], p[1], p[2], p[3], p[4], p[5] // scale, p[6])
                path, side = models[p[1]]
                kinds = ["ours", "front", "ort"]
                if r % 2:
                    kinds.reverse()
                got = {}
                for kind in kinds:
                    waited, busy = wait_quiet(0.08, a.quiet_timeout)
                    la = loadavg()
                    t = time.time()
                    if kind == "ours":
                        d = measure_ours(env, p, path)
                    elif kind == "front":
                        d = measure_front(env, p, side)
                    else:
                        d = measure_ort(node, path, inputs[p[1]], side,
                                        ort_runs, ort_warmup)
                    d.update({"pipeline": p[0], "kind": kind,
                              "loadavg": la, "waited_s": waited,
                              "vm_busy_before": busy,
                              "t": datetime.datetime.utcfromtimestamp(t)
                              .isoformat(timespec="seconds")})
                    rec["runs"].append(d)
                    got[kind] = d
                front = got["front"]["ms_per_frame"]
                ortms = got["ort"]["median_ms"]
                bound = 1000.0 / (front + ortms)
                ours = got["ours"]["fps"]
                rec["pipelines"][p[0]] = {
                    "ours_fps": ours, "ours_wall_fps": got["ours"]["wall_fps"],
                    "front_ms": front, "ort_ms": ortms, "bound_fps": bound,
                    "ratio": ours / bound}
                log("round %d %-22s ours %6.0f fps (wall %5.0f)  front "
                    "%.3f ms  ort %.3f ms  bound %6.0f  ours/bound %.2f  "
                    "[load %s]" % (r + 1, p[0], ours,
                                   got["ours"]["wall_fps"], front, ortms,
                                   bound, ours / bound, la))
            rec["loadavg_end"] = loadavg()
            doc["rounds"].append(rec)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc["end_utc"] = datetime.datetime.utcnow().isoformat(timespec="seconds")
    doc["summary"] = summarize(doc["rounds"])
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out + ".json", "w") as f:
        json.dump(doc, f, indent=1)
    write_md(out + ".md", doc)
    with open(out + ".md") as f:
        print(f.read())
    log("wrote %s.json and %s.md" % (out, out))


if __name__ == "__main__":
    main()
