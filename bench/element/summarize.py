#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns bench/element/run.sh output (JSON lines) into
bench/results/element-<date>.json and .md, with the NNStreamer 2.7 + ONNX
Runtime figures measured on this machine for comparison.
usage: summarize.py IN.jsonl OUT_PREFIX  (OUT_PREFIX.json, OUT_PREFIX.md)"""
import json
import platform
import subprocess
import sys

NNS = {  # frames/s, NNStreamer 2.7 + ONNX Runtime, fakesink sync=false
    "bf128-128x128-RGB": 1001,
    "bf128-640x480-I420": 734,
    "bf128-1920x1080-I420": 272,
    "bf256-640x480-I420": 215,
}


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    prefix = sys.argv[2]
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                         text=True).stdout.strip()
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    meta = {"git": rev, "cpu": cpu, "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
            "kernel": platform.release()}
    json.dump({"meta": meta, "rows": rows, "nnstreamer_ort_fps": NNS}, open(prefix + ".json", "w"), indent=1)
    mr = {r["label"]: r["result"] for r in rows if r["kind"] == "mace-run"}
    h = [r for r in rows if r["kind"] == "harness"]
    g = {r["label"]: r for r in rows if r["kind"] == "gst-launch"}
    out = []
    out.append("# macefilter element benchmark\n")
    out.append("Machine: %s, %s cores, Linux %s; gst-mace %s. CPU backend unless "
               "noted, threads 0 (one per core)." % (cpu, meta["nproc"], meta["kernel"], rev))
    out.append("The machine is shared: the load average (1, 5, 15 min) is given per row.\n")
    out.append("## (b) pre-made frames through macefilter (GstHarness, no source cost)\n")
    out.append("Overhead against the model alone two ways: `mace-run bench` run as its own process (at "
               "another time), and the bare model interleaved with the element in the same process "
               "(element-bench --interleave: blocks of 20 runs and 20 frames alternate), which a shared "
               "machine whose speed drifts cannot skew.\n")
    out.append("| case | frames/s | ms/frame mean | median | p90 | mace-run median | overhead | "
               "bare, same process | overhead, same process | load |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in h:
        m = r["label"].split("-")[0]
        if r["label"].startswith("esrgan"):
            m = "esrgan-x2-128x96"
        base = mr.get(m, {}).get("median_ms") if r["device"] == "cpu" else None
        ovh = "%.2f ms (%.0f%%)" % (r["ms_median"] - base, 100 * (r["ms_median"] - base) / base) if base else "-"
        ib = r.get("bare_ms_median")
        iovh = "%.3f ms (%.1f%%)" % (r["ms_median"] - ib, 100 * r["overhead"]) if ib else "-"
        out.append("| %s%s | %.0f | %.2f | %.3f | %.2f | %s | %s | %s | %s | %s |" % (
            r["label"], " (OpenCL, PoCL)" if r["device"] != "cpu" else "", r["fps"], r["ms_mean"],
            r["ms_median"], r["ms_p90"], "%.3f" % base if base else "-", ovh,
            "%.3f" % ib if ib else "-", iovh, " ".join(r["loadavg"].split()[:3])))
    out.append("\n## (c) bare model: `mace-run bench --runs N --warmup 20`\n")
    out.append("| model | median ms | min ms | p90 ms | load |")
    out.append("|---|---|---|---|---|")
    for r in rows:
        if r["kind"] == "mace-run":
            d = r["result"]
            out.append("| %s | %.3f | %.3f | %.3f | %s |" % (r["label"], d["median_ms"], d["min_ms"],
                                                          d["p90_ms"], r["loadavg"]))
    out.append("\n## (a) `videotestsrc num-buffers=N ! caps ! macefilter ! fakesink sync=false`\n")
    out.append("Whole gst-launch run (start-up, model load and the source included).\n")
    out.append("| pipeline | frames | s | frames/s | NNStreamer 2.7 + ORT frames/s | load |")
    out.append("|---|---|---|---|---|---|")
    for k, r in g.items():
        out.append("| %s | %d | %.2f | %.0f | %s | %s |" % (k, r["frames"], float(r["seconds"]),
                                                         float(r["fps"]), NNS.get(k, "-"), r["loadavg"]))
    out.append("\n## Against NNStreamer 2.7 + ONNX Runtime (same machine, figures given)\n")
    out.append("| case | NNStreamer frames/s | macefilter, gst-launch | macefilter, harness |")
    out.append("|---|---|---|---|")
    hh = {r["label"]: r for r in h}
    for k, v in NNS.items():
        gl = g.get(k)
        hr = hh.get(k)
        out.append("| %s | %d | %s | %s |" % (k, v, "%.0f" % float(gl["fps"]) if gl else "-",
                                            "%.0f" % hr["fps"] if hr else "-"))
    open(prefix + ".md", "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
