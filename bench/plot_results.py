#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Draws bench/results/chart.png from the newest results in bench/results/:
CPU peers (cpu-*.json: mace vs ONNX Runtime vs OpenCV DNN, median and min
latency per model) and, when present, the H100 run (h100-*.json: mace on
NVIDIA OpenCL vs PyTorch).

  bench/plot_results.py [--out bench/results/chart.png]
"""
import argparse
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "results")


def newest(pattern):
    files = sorted(glob.glob(os.path.join(RES, pattern)))
    return files[-1] if files else None


def cpu_panel(ax, path):
    d = json.load(open(path))
    rows = [r for r in d["results"] if r.get("median_ms")]
    models = []
    for r in rows:
        if r["model"] not in models:
            models.append(r["model"])
    peers = ["mace", "ort", "opencv"]
    names = {"mace": "gst-mace (libmace)", "ort": "ONNX Runtime", "opencv": "OpenCV DNN"}
    colors = {"mace": "#2a7", "ort": "#47c", "opencv": "#c84"}
    w = 0.26
    for k, p in enumerate(peers):
        xs, med, mins = [], [], []
        for i, m in enumerate(models):
            r = next((r for r in rows if r["model"] == m and r["peer"] == p), None)
            if not r:
                continue
            # normalise per model to ONNX Runtime's median so models of very
            # different cost share one axis
            ref = next((q for q in rows if q["model"] == m and q["peer"] == "ort"), None)
            base = ref["median_ms"] if ref else 1.0
            xs.append(i + (k - 1) * w)
            med.append(r["median_ms"] / base)
            mins.append(r["min_ms"] / base)
        ax.bar(xs, med, w, color=colors[p], label=names[p] + " (median)")
        ax.scatter(xs, mins, color="k", s=12, zorder=3,
                   label="min" if k == 0 else None)
    ax.axhline(1.0, color="#47c", lw=0.8, ls="--")
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, fontsize=8)
    ax.set_ylabel("latency / ONNX Runtime median")
    la = d["host"].get("loadavg_at_start", ["?"])[0]
    ax.set_title("CPU, %d cores, %d threads (%s, load %s)" % (
        d["host"]["cores"], d["settings"]["threads_intra_op"], d["date"][:10], la),
        fontsize=9)
    ax.legend(fontsize=7)


def h100_panel(ax, path):
    d = json.load(open(path))
    rows = d.get("results") or d.get("models") or []
    labels, mace, torch_eager, torch_graph = [], [], [], []
    for r in rows:
        name = r.get("model")
        m = r.get("mace_cl_median_ms") or (r.get("mace") or {}).get("median_ms")
        te = r.get("torch_eager_median_ms") or (r.get("torch_eager") or {}).get("median_ms")
        tg = r.get("torch_graph_median_ms") or (r.get("torch_cuda_graph") or {}).get("median_ms")
        if name and m:
            labels.append(name)
            mace.append(m)
            torch_eager.append(te or 0)
            torch_graph.append(tg or 0)
    if not labels:
        ax.text(0.5, 0.5, "no H100 data in %s" % os.path.basename(path),
                ha="center", transform=ax.transAxes)
        return
    w = 0.26
    xs = range(len(labels))
    ax.bar([x - w for x in xs], mace, w, color="#2a7", label="gst-mace, NVIDIA OpenCL")
    ax.bar(list(xs), torch_graph, w, color="#47c", label="PyTorch, CUDA graphs")
    ax.bar([x + w for x in xs], torch_eager, w, color="#c84", label="PyTorch, eager")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("median ms per frame (log)")
    ax.set_title("NVIDIA H100, fp32 (%s)" % os.path.basename(path), fontsize=9)
    ax.legend(fontsize=7)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(RES, "chart.png"))
    a = ap.parse_args()
    cpu = newest("cpu-*.json")
    h100 = newest("h100-*.json")
    if not cpu and not h100:
        sys.exit("no results in %s" % RES)
    n = (1 if cpu else 0) + (1 if h100 else 0)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.2))
    axes = axes if n > 1 else [axes]
    i = 0
    if cpu:
        cpu_panel(axes[i], cpu)
        i += 1
    if h100:
        h100_panel(axes[i], h100)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print("wrote %s" % a.out)


if __name__ == "__main__":
    main()
