#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Element overhead over bare inference on a shared machine.

For each case, element-bench runs with --interleave: the bare model
(mace_engine_run on a ready input, what `mace-run bench` times) and the
element alternate in blocks inside one process, with the same threads
setting and warm-up, so both see the same machine; `mace-run bench` runs
too, as a separate process, for the figure the issue names.  Cases and
builds are measured round after round (the order flips every round), each
run once the machine looks idle; the figures are medians over rounds of
per-run medians, the in-process overhead of each run is paired.

usage: bench/element/overhead.py [--build build] [--baseline OTHER_BUILD]
           [--rounds 5] [--runs 300] [--threads 0] [--interleave 20]
           [--cases bf128-1080-I420,...] [--json OUT]
With --baseline, OTHER_BUILD's plugin and libmace are measured too (the
element-bench of --build, its libmace taken from OTHER_BUILD through
LD_LIBRARY_PATH), in the same rounds, for before/after tables.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MODELS = {
    "bf128": "models/blazeface/face_detection_front_128x128_barracuda.onnx",
    "bf256": "models/blazeface/face_detection_back_256x256_barracuda.onnx",
}
SIZES = {"1080": (1920, 1080), "480": (640, 480), "128": (128, 128),
         "256": (256, 256)}
DEFAULT_CASES = ("bf128-1080-I420,bf128-1080-RGB,bf128-128-RGB,"
                 "bf256-1080-I420,bf256-1080-RGB")


def cpu_busy():
    """(busy, total) jiffies of the whole machine (steal counts as busy)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def wait_quiet(limit=0.08, timeout=600):
    """Waits (up to timeout s) until the machine was at most `limit`
    busy over half a second.  Other guests of the host do not show here;
    that is what the in-process interleaving is for."""
    t_end = time.monotonic() + timeout
    while True:
        b0, t0 = cpu_busy()
        time.sleep(0.5)
        b1, t1 = cpu_busy()
        if (b1 - b0) / max(1, t1 - t0) <= limit or time.monotonic() > t_end:
            return
        time.sleep(2)


def gst_env(build, libdir=None):
    env = dict(os.environ)
    pd = subprocess.run(["pkg-config", "--variable=pluginsdir",
                         "gstreamer-1.0"], capture_output=True,
                        text=True).stdout.strip()
    env["GST_PLUGIN_SYSTEM_PATH_1_0"] = ""
    env["GST_PLUGIN_PATH_1_0"] = os.path.join(build, "gst") + ":" + pd
    env["GST_REGISTRY_1_0"] = os.path.join(build, "overhead-registry.bin")
    if libdir:
        env["LD_LIBRARY_PATH"] = libdir
    return env


def run_json(cmd, env):
    wait_quiet()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--baseline")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--interleave", type=int, default=20)
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--json")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    bench = os.path.join(build, "bench/element/element-bench")
    envs = {"after": gst_env(build)}
    if a.baseline:
        base = os.path.abspath(a.baseline)
        envs["before"] = gst_env(base, os.path.join(base, "src"))
    cases = a.cases.split(",")
    res = {c: {"mace_run": []} for c in cases}
    for c in cases:
        for k in envs:
            res[c][k] = {"element": [], "bare": [], "overhead": []}
    for r in range(a.rounds):
        for c in cases:
            mname, size, fmt = c.split("-")
            model = os.path.join(ROOT, MODELS[mname])
            w, h = SIZES[size]
            jobs = [("mace_run", [os.path.join(build, "tools/mace-run"),
                                  "bench", model, "--runs", str(a.runs),
                                  "--warmup", "20", "--threads",
                                  str(a.threads), "--json"], envs["after"])]
            for k, env in envs.items():
                jobs.append((k, [bench, "--model", model, "--format", fmt,
                                 "--width", str(w), "--height", str(h),
                                 "--frames", str(a.runs), "--warmup", "20",
                                 "--threads", str(a.threads), "--interleave",
                                 str(a.interleave), "--label", c], env))
            if r % 2:
                jobs.reverse()
            line = []
            for kind, cmd, env in jobs:
                d = run_json(cmd, env)
                if kind == "mace_run":
                    res[c]["mace_run"].append(d["median_ms"])
                    line.append("mace-run %.3f" % d["median_ms"])
                else:
                    res[c][kind]["element"].append(d["ms_median"])
                    res[c][kind]["bare"].append(d["bare_ms_median"])
                    res[c][kind]["overhead"].append(d["overhead"])
                    line.append("%s %.3f/%.3f (%+.1f%%)" % (
                        kind, d["ms_median"], d["bare_ms_median"],
                        100 * d["overhead"]))
            print("round %d %s: %s" % (r, c, ", ".join(line)),
                  file=sys.stderr, flush=True)
    rows = []
    for c in cases:
        mr = statistics.median(res[c]["mace_run"])
        row = {"case": c, "mace_run_ms": mr,
               "mace_run_all": res[c]["mace_run"]}
        for k in envs:
            d = res[c][k]
            el = statistics.median(d["element"])
            row[k] = {"element_ms": el,
                      "bare_ms": statistics.median(d["bare"]),
                      "overhead": statistics.median(d["overhead"]),
                      "overhead_vs_mace_run": (el - mr) / mr,
                      "element_all": d["element"], "bare_all": d["bare"],
                      "overhead_all": d["overhead"]}
        rows.append(row)
    hdr = "| case | mace-run ms |"
    sep = "|---|---|"
    for k in envs:
        hdr += (" %s: element ms | bare ms (same process) | overhead | "
                "overhead vs mace-run |" % k)
        sep += "---|---|---|---|"
    print(hdr)
    print(sep)
    for row in rows:
        line = "| %s | %.3f |" % (row["case"], row["mace_run_ms"])
        for k in envs:
            d = row[k]
            line += " %.3f | %.3f | %+.1f%% | %+.1f%% |" % (
                d["element_ms"], d["bare_ms"], 100 * d["overhead"],
                100 * d["overhead_vs_mace_run"])
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "runs": a.runs,
                       "interleave": a.interleave, "rounds": a.rounds,
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
