#!/bin/bash
# SPDX-License-Identifier: MIT
# macefilter on an OpenCL GPU (issue 4, "Benchmarks"): element throughput
# and the element's overhead over bare inference, on the lent H100 with
# NVIDIA's OpenCL driver, where neither GStreamer nor a package registry is
# installed.  Also runs here (PoCL) with QUICK=1 as a check of the script.
#
#   bench/device/stage-gst.sh              # here: build + .debs -> .device/gst
#   bench/device/element-h100.sh [OUTDIR]  # there (carry .device/gst)
#
# It
#   (a) registers NVIDIA's OpenCL ICD when the driver is there,
#   (b) unpacks the staged Debian 12 .debs (GStreamer, gst-launch-1.0, the
#       plugin scanner, coreelements + videotestsrc, the plugin's libraries)
#       into a prefix ($PREFIX, default /tmp/gst-prefix) and points
#       GStreamer at it and at the staged build's gst/ (registry in the prefix),
#   (c) bare inference: `mace-run bench MODEL --device cl --runs 200
#       --warmup 20 --json` for BlazeFace-128, -256 and ESRGAN-slim x2 at
#       640x480 (LR=1x480x640x3) and 1920x1080,
#   (d) pre-made frames through macefilter device=gpu (element-bench, a
#       GstHarness: no source cost): BlazeFace-128/256 at 640x480 and
#       1920x1080 in I420 and RGBA, ESRGAN-slim x2 at 640x480 RGB
#       (-> 1280x960); frames/s, ms/frame, `copies`,
#   (e) `gst-launch-1.0 videotestsrc num-buffers=300 ! video/x-raw,width=W,
#       height=H ! macefilter model=M device=gpu ! fakesink sync=false`
#       (1920x1080 and 640x480, BlazeFace-128/256, and the source alone),
#       wall time and gst-launch's own "Execution ended after" time,
# and writes element-h100.json, element-h100.md, log.txt and env.txt into
# OUTDIR ($OUT there; default /tmp/element-h100-out).
# Environment: STAGE (default .device/gst), PREFIX, QUICK=1 (few frames and
# runs: a check of the script, not a measurement), FRAMES, WARMUP, RUNS,
# ESR_FRAMES, LAUNCH_BUFFERS, CL_DEVICE (mace-run --cl-device; the
# element takes its default, the first GPU), STEP_TIMEOUT (s, default 150).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUTDIR=${1:-${OUT:-/tmp/element-h100-out}}
mkdir -p "$OUTDIR"
STAGE=$(cd "${STAGE:-$ROOT/.device/gst}" && pwd)
P=${PREFIX:-/tmp/gst-prefix}
W=$P/work
LOG=$OUTDIR/log.txt
ENVF=$OUTDIR/env.txt
ROWS=$W/rows.jsonl
: > "$LOG"
log () { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
T_START=$(date +%s.%N)
elapsed () { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

if [ "${QUICK:-0}" = 1 ]; then
  FRAMES=${FRAMES:-10} WARMUP=${WARMUP:-2} RUNS=${RUNS:-5} ESR_FRAMES=${ESR_FRAMES:-2}
  LAUNCH_BUFFERS=${LAUNCH_BUFFERS:-10} ESR_RUNS=${ESR_RUNS:-2}
fi
FRAMES=${FRAMES:-300} WARMUP=${WARMUP:-20} RUNS=${RUNS:-200} ESR_FRAMES=${ESR_FRAMES:-100}
ESR_RUNS=${ESR_RUNS:-$RUNS} LAUNCH_BUFFERS=${LAUNCH_BUFFERS:-300}
STEP_TIMEOUT=${STEP_TIMEOUT:-150}

# (a) NVIDIA's OpenCL ICD (the image ships the driver, not the registration).
for lib in /usr/lib/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1; do
  if [ -e $lib ]; then
    mkdir -p /etc/OpenCL/vendors 2>/dev/null
    [ -w /etc/OpenCL/vendors ] && [ ! -s /etc/OpenCL/vendors/nvidia.icd ] && echo $lib > /etc/OpenCL/vendors/nvidia.icd
    break
  fi
done

# (b) The .debs into the prefix.
rm -rf "$P"; mkdir -p "$P" "$W"
for d in "$STAGE"/debs/*.deb; do
  if command -v dpkg >/dev/null; then
    dpkg -x "$d" "$P" || { log "dpkg -x $d failed"; exit 1; }
  else  # no dpkg: the ar archive's data.tar.* by hand
    python3 - "$d" "$P" <<'PY' || { log "unpacking $d failed"; exit 1; }
import io, sys, tarfile
b = open(sys.argv[1], "rb").read(); i = 8
while i < len(b):
    name = b[i:i + 16].decode().strip().rstrip("/"); size = int(b[i + 48:i + 58]); i += 60
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(b[i:i + size])).extractall(sys.argv[2])
    i += size + (size & 1)
PY
  fi
done
L=$P/usr/lib/x86_64-linux-gnu
mkdir -p "$P/plugins"
ln -sf "$L/gstreamer-1.0/libgstcoreelements.so" "$L/gstreamer-1.0/libgstvideotestsrc.so" "$P/plugins/"
export LD_LIBRARY_PATH=$L:$P/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$P/usr/bin:$PATH
export GST_PLUGIN_SYSTEM_PATH_1_0=$P/plugins GST_PLUGIN_SYSTEM_PATH=$P/plugins
export GST_PLUGIN_PATH_1_0=$STAGE/build/gst GST_PLUGIN_PATH=$STAGE/build/gst
export GST_PLUGIN_SCANNER_1_0=$L/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
export GST_PLUGIN_SCANNER=$GST_PLUGIN_SCANNER_1_0
export GST_REGISTRY_1_0=$P/registry.bin GST_REGISTRY=$P/registry.bin
export XDG_CACHE_HOME=$P/cache   # the element's default program cache lives here
export MACE_DEBUG=1              # start-up lines: device picked, nodes planned
PCACHE=$XDG_CACHE_HOME/gst-mace/mace-cl-compiled-program.bin
mkdir -p "$(dirname "$PCACHE")"
MR=$STAGE/build/tools/mace-run
EB=$STAGE/build/bench/element/element-bench
M128=$STAGE/models/face_detection_front_128x128_barracuda.onnx
M256=$STAGE/models/face_detection_back_256x256_barracuda.onnx
MX2=$STAGE/models/esrgan-slim-x2.onnx
CX2=$STAGE/models/esrgan-slim-x2.json
log "unpacked $(ls "$STAGE"/debs/*.deb | wc -l) .debs into $P in $(elapsed) s"

{
  echo "== commit"; cat "$STAGE/COMMIT"
  echo "== host"; uname -a; grep -m1 'model name' /proc/cpuinfo; nproc
  echo "== nvidia-smi"
  env -u LD_LIBRARY_PATH nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,pstate --format=csv 2>&1
  echo "== clinfo"
  clinfo -l 2>&1
  clinfo 2>&1 | grep -E "^\s*(Platform Name|Platform Version|Device Name|Device Type|Device Version|Driver Version|Device OpenCL C Version|Max compute units|Max clock)" | awk '!seen[$0]++'
  echo "== /etc/OpenCL/vendors"; ls /etc/OpenCL/vendors 2>&1; cat /etc/OpenCL/vendors/*.icd 2>&1
  for b in "$MR" "$EB" "$STAGE/build/gst/libgstmace.so" "$(command -v gst-launch-1.0)" "$GST_PLUGIN_SCANNER"; do
    echo "== ldd $b"; ldd "$b" 2>&1
  done
} > "$ENVF" 2>&1
if grep -q "=> not found" "$ENVF"; then log "missing libraries:"; grep "=> not found" "$ENVF" | sort -u | tee -a "$LOG" >&2; fi
grep -A3 '^== nvidia-smi' "$ENVF" | tee -a "$LOG" >&2

# Plugin check (also builds the registry, so no run below pays for it).
{ timeout 60 gst-inspect-1.0 macefilter > "$W/inspect.txt" 2>&1 && grep -m2 -E "Long-name|Version" "$W/inspect.txt"; } >> "$LOG" 2>&1 \
  || { log "gst-inspect-1.0 macefilter failed:"; tail -20 "$W/inspect.txt" | tee -a "$LOG" >&2; }
timeout 60 gst-inspect-1.0 videotestsrc > /dev/null 2>> "$LOG" || log "gst-inspect-1.0 videotestsrc failed"

: > "$ROWS"
# Start-up lines of a step's stderr worth keeping with its row.
startup () { grep -E "OpenCL: device|nodes planned|program cache: |offered a pool|negotiated [0-9]|ERROR|error|CRITICAL" "$1" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-300 | awk '!seen[$0]++' | head -8; }
py () { env -u LD_LIBRARY_PATH python3 "$@"; }   # the image's own python, its own libraries
jstr () { py -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }

# (c) bare inference.
macerun () { # label, model, extra args...
  local label=$1 m=$2; shift 2
  local e=$W/$label.mace-run.err
  log "mace-run bench $label"
  if timeout "$STEP_TIMEOUT" "$MR" bench "$m" --device cl ${CL_DEVICE:+--cl-device "$CL_DEVICE"} \
       --program-cache "$PCACHE" --json "$@" > "$W/$label.mace-run.json" 2> "$e"; then
    echo "{\"kind\": \"mace-run\", \"label\": \"$label\", \"args\": $(echo "$*" | jstr), \"startup\": $(startup "$e" | jstr), \"result\": $(cat "$W/$label.mace-run.json")}" >> "$ROWS"
  else
    local rc=$?
    log "mace-run bench $label failed (rc $rc):"; tail -5 "$e" | tee -a "$LOG" >&2
    echo "{\"kind\": \"mace-run\", \"label\": \"$label\", \"failed\": $rc, \"error\": $(tail -5 "$e" | jstr)}" >> "$ROWS"
  fi
}
macerun bf128 "$M128" --runs "$RUNS" --warmup "$WARMUP"
macerun bf256 "$M256" --runs "$RUNS" --warmup "$WARMUP"
macerun esrgan-x2-640x480 "$MX2" --runs "$ESR_RUNS" --warmup "$WARMUP" --shape LR=1x480x640x3
macerun esrgan-x2-1920x1080 "$MX2" --runs "$ESR_FRAMES" --warmup 5 --shape LR=1x1080x1920x3

# (d) pre-made frames through macefilter device=gpu.
harness () { # label, args...
  local label=$1; shift
  local e=$W/$label.harness.err
  log "element-bench $label"
  if timeout "$STEP_TIMEOUT" "$EB" --label "$label" --device gpu "$@" > "$W/$label.harness.json" 2> "$e"; then
    echo "{\"kind\": \"harness\", \"startup\": $(startup "$e" | jstr), $(tail -1 "$W/$label.harness.json" | sed 's/^{//')" >> "$ROWS"
  else
    local rc=$?
    log "element-bench $label failed (rc $rc):"; tail -5 "$e" | tee -a "$LOG" >&2
    echo "{\"kind\": \"harness\", \"label\": \"$label\", \"failed\": $rc, \"error\": $(tail -5 "$e" | jstr)}" >> "$ROWS"
  fi
}
for m in 128 256; do
  eval M=\$M$m
  for s in 640x480 1920x1080; do
    for f in I420 RGBA; do
      harness bf$m-$s-$f --model "$M" --format $f --width ${s%x*} --height ${s#*x} --frames "$FRAMES" --warmup "$WARMUP"
    done
  done
done
harness esrgan-x2-640x480-RGB --model "$MX2" --config "$CX2" --format RGB --width 640 --height 480 \
  --frames "$ESR_FRAMES" --warmup $((WARMUP < 5 ? WARMUP : 5))
harness esrgan-x2-1920x1080-RGB --model "$MX2" --config "$CX2" --format RGB --width 1920 --height 1080 \
  --frames $((ESR_FRAMES / 2)) --warmup $((WARMUP < 5 ? WARMUP : 5))

# (e) gst-launch-1.0 videotestsrc ! macefilter ! fakesink.
launch () { # label, width, height, model or "none", [format]
  local label=$1 w=$2 h=$3 m=$4 fmt=${5:+,format=$5} el
  local e=$W/$label.launch.err
  if [ "$m" = none ]; then el=(); else el=(macefilter "model=$m" device=gpu !); fi
  log "gst-launch $label"
  local t0 t1 rc
  t0=$(date +%s.%N)
  GST_DEBUG=macefilter:5 timeout "$STEP_TIMEOUT" gst-launch-1.0 -v videotestsrc num-buffers="$LAUNCH_BUFFERS" ! \
    video/x-raw$fmt,width=$w,height=$h ! "${el[@]}" fakesink sync=false > "$W/$label.launch.out" 2> "$e"
  rc=$?; t1=$(date +%s.%N)
  local exec_s caps
  exec_s=$(sed -n 's/.*Execution ended after \([0-9]*\):\([0-9]*\):\([0-9.]*\).*/\1 \2 \3/p' "$W/$label.launch.out" | awk '{print $1*3600+$2*60+$3}')
  caps=$(grep -m1 -E "(macefilter0|fakesink0)\.GstPad:sink: caps" "$W/$label.launch.out" | sed 's/.*caps = //')
  [ $rc = 0 ] || { log "gst-launch $label failed (rc $rc):"; tail -5 "$e" "$W/$label.launch.out" | tee -a "$LOG" >&2; }
  py - "$label" "$w" "$h" "$m" "$LAUNCH_BUFFERS" "$t0" "$t1" "${exec_s:-}" "$rc" "$caps" "$(startup "$e")" >> "$ROWS" <<'PY'
import json, os, sys
a = sys.argv
n = int(a[5]); wall = float(a[7]) - float(a[6]); ex = float(a[8]) if a[8] else None
print(json.dumps({"kind": "gst-launch", "label": a[1], "width": int(a[2]), "height": int(a[3]),
                  "model": os.path.basename(a[4]), "buffers": n, "rc": int(a[9]),
                  "wall_s": round(wall, 4), "wall_fps": round(n / wall, 1),
                  "exec_s": ex, "exec_fps": round(n / ex, 1) if ex else None,
                  "caps": a[10], "startup": a[11]}))
PY
}
for s in 1920x1080 640x480; do
  launch bf128-$s ${s%x*} ${s#*x} "$M128"          # the format videotestsrc and macefilter agree on
  launch bf256-$s ${s%x*} ${s#*x} "$M256"
  launch src-only-$s-BGRA ${s%x*} ${s#*x} none BGRA   # that format (BGRA), no macefilter
  launch bf128-$s-I420 ${s%x*} ${s#*x} "$M128" I420
  launch src-only-$s-I420 ${s%x*} ${s#*x} none I420
done

# Summary: JSON + markdown.
py - "$ROWS" "$ENVF" "$OUTDIR" "$(cat "$STAGE/COMMIT" | tr '\n' ' ')" "$(elapsed)" \
  "$FRAMES" "$WARMUP" "$RUNS" "${QUICK:-0}" <<'PY'
import datetime, json, os, re, sys
rows_f, env_f, out, commit, total_s, frames, warmup, runs, quick = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f) if l.strip()]
env = open(env_f).read()
def section(name):
    m = re.search(r"^== %s\n(.*?)(?=^== |\Z)" % re.escape(name), env, re.S | re.M)
    return m.group(1).strip() if m else ""
smi = section("nvidia-smi").splitlines()
gpu = smi[1] if len(smi) > 1 and "," in smi[1] else "(no nvidia-smi)"
cl = [l.strip() for l in section("clinfo").splitlines()
      if re.match(r"\s*(Platform Name|Platform Version|Device Name|Device Version|Driver Version)", l)]
host = section("host").splitlines()
date = datetime.date.today().isoformat()
meta = {"date": date, "commit": commit.strip(), "gpu_nvidia_smi": gpu, "clinfo": cl, "host": host,
        "frames": int(frames), "warmup": int(warmup), "runs": int(runs), "quick": quick == "1",
        "script_seconds": float(total_s)}
json.dump({"meta": meta, "rows": rows}, open(os.path.join(out, "element-h100.json"), "w"), indent=1)

bare = {r["label"]: r["result"] for r in rows if r["kind"] == "mace-run" and "result" in r}
def base_of(label):
    return "-".join(label.split("-")[:3]) if label.startswith("esrgan") else label.split("-")[0]
def first(s, pat):
    for l in (s or "").splitlines():
        if pat in l:
            return l.split("DEBUG: ", 1)[-1].split("INFO ", 1)[-1].strip()
    return ""
o = []
o.append("# macefilter on NVIDIA OpenCL (H100), %s\n" % date)
if quick == "1":
    o.append("**QUICK=1: a check of the script (few frames/runs), not a measurement.**\n")
o.append("GPU (nvidia-smi: name, driver, memory, max SM clock, pstate): %s  " % gpu)
for l in cl:
    o.append("clinfo: %s  " % re.sub(r"\s+", " ", l))
o.append("Host: %s, %s CPUs  " % (host[1].split(":", 1)[-1].strip() if len(host) > 1 else "?",
                                  host[2] if len(host) > 2 else "?"))
o.append("gst-mace %s; GStreamer 1.22 from Debian 12 .debs unpacked into a prefix "
         "(bench/device/stage-gst.sh + element-h100.sh); the whole script took %.0f s.\n"
         % (commit.strip(), float(total_s)))
dev = next((first(r.get("startup"), "OpenCL: device") for r in rows if first(r.get("startup"), "OpenCL: device")), "")
if dev:
    o.append("Device the runs picked (MACE_DEBUG): %s\n" % dev)

o.append("## Bare inference: `mace-run bench MODEL --device cl --runs %s --warmup %s --json`\n" % (runs, warmup))
o.append("Host clock around `mace_engine_run`, random input uploaded and outputs read back each run.\n")
o.append("| model | input | median ms | min | p90 | mean | fps (1/median) | nodes on CPU | load ms | first run ms |")
o.append("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["kind"] != "mace-run":
        continue
    if "result" not in r:
        o.append("| %s | FAILED (rc %s): %s |" % (r["label"], r.get("failed"), r.get("error", "").strip().replace("\n", " / ")[:200]))
        continue
    d = r["result"]
    inp = {"bf128": "1x128x128x3", "bf256": "1x256x256x3",
           "esrgan-x2-1920x1080": "1x1080x1920x3"}.get(r["label"], "1x480x640x3")
    o.append("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.0f | %s | %.0f | %.1f |" % (
        r["label"], inp, d["median_ms"], d["min_ms"], d["p90_ms"], d["mean_ms"], 1000 / d["median_ms"],
        d.get("nodes_on_cpu", "?"), d.get("load_ms", 0), d.get("first_run_ms", 0)))

o.append("\n## Pre-made frames through `macefilter device=gpu` (bench/element/element-bench, GstHarness: no source cost)\n")
o.append("%s frames after %s warm-up (ESRGAN fewer), each a new GstMemory wrapping the same "
         "malloc'd frame (foreign system memory). Overhead = element median ms/frame minus the "
         "bare `mace-run bench` median of the same model. `copies` = the element's counter at "
         "the end (uploads of frames it could not use in place, warm-up included); element-bench "
         "prints no `zero-copy` flag, so it is read off copies (0 = zero-copy).\n" % (frames, warmup))
o.append("| case | frames/s | ms/frame mean | median | p90 | element mean-inference-ms | bare median | overhead (median) | copies / pushed | zero-copy |")
o.append("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["kind"] != "harness":
        continue
    if "fps" not in r:
        o.append("| %s | FAILED (rc %s): %s |" % (r["label"], r.get("failed"), r.get("error", "").strip().replace("\n", " / ")[:200]))
        continue
    b = bare.get(base_of(r["label"]), {}).get("median_ms")
    ovh = "%+.3f ms (%+.0f%%)" % (r["ms_median"] - b, 100 * (r["ms_median"] - b) / b) if b else "-"
    pushed = r["frames"] + (min(int(warmup), 5) if r["label"].startswith("esrgan") else int(warmup))
    o.append("| %s | %.1f | %.3f | %.3f | %.3f | %.3f | %s | %s | %d / %d | %s |" % (
        r["label"], r["fps"], r["ms_mean"], r["ms_median"], r["ms_p90"], r["element_mean_inference_ms"],
        "%.3f" % b if b else "-", ovh, r["copies"], pushed, "yes" if r["copies"] == 0 else "no"))

o.append("\n## `gst-launch-1.0 -v videotestsrc num-buffers=N ! video/x-raw,width=W,height=H ! macefilter model=M device=gpu ! fakesink sync=false`\n")
o.append("wall = the whole process (start-up, registry, OpenCL context, model load and program "
         "cache included); exec = gst-launch's own \"Execution ended after\" (PLAYING to EOS). "
         "src-only = the source alone in the format the element row negotiated (fakesink straight after it). `offered a pool` = macefilter's "
         "propose_allocation gave upstream its OpenCL buffer pool (GST_DEBUG=macefilter:5).\n")
o.append("| pipeline | buffers | wall s | frames/s (wall) | exec s | frames/s (exec) | caps into the element / sink | pool offered | rc |")
o.append("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["kind"] != "gst-launch":
        continue
    o.append("| %s | %d | %.2f | %.1f | %s | %s | %s | %s | %d |" % (
        r["label"], r["buffers"], r["wall_s"], r["wall_fps"], "%.3f" % r["exec_s"] if r["exec_s"] else "-",
        "%.1f" % r["exec_fps"] if r["exec_fps"] else "-", r["caps"].replace("|", "/")[:90],
        "yes" if "offered a pool" in (r["startup"] or "") else "no", r["rc"]))
fails = [r for r in rows if r.get("failed") or r.get("rc")]
o.append("\n%d steps failed%s" % (len(fails), ": " + ", ".join(r["label"] for r in fails) if fails else "."))
open(os.path.join(out, "element-h100.md"), "w").write("\n".join(o) + "\n")
print("\n".join(o))
PY

# (f) In-process comparison (INTERLEAVE_REPS > 0, default 3): element-bench
# --interleave 20 runs a second engine on the same model and device in the
# same process, blocks of 20 bare runs alternating with 20 element frames,
# so process-to-process differences of the bare figure (0.29-0.35 ms for
# BlazeFace-128 on the H100) do not enter the overhead.  Each case runs
# with the element's pipelining off and on (IPIPE, default "off on");
# element-bench also reports the latency (each frame pushed and pulled
# before the next).
IREPS=${INTERLEAVE_REPS:-3}
IPIPE=${IPIPE:-off on}
if [ "$IREPS" -gt 0 ]; then
  IJ=$OUTDIR/interleave.jsonl; : > "$IJ"
  for r in $(seq 1 "$IREPS"); do
    for m in bf128:$M128 bf256:$M256; do
      for sz in 1920x1080 640x480; do
        for fmt in I420 RGB; do
          for pl in $IPIPE; do
            timeout "$STEP_TIMEOUT" "$EB" --model "${m#*:}" --device gpu --format $fmt \
              --width ${sz%x*} --height ${sz#*x} --frames $FRAMES --warmup $WARMUP \
              --interleave 20 --pipelining $pl --label "${m%%:*}-$sz-$fmt-pipelining-$pl" \
              2>/dev/null | tail -1 >> "$IJ"
          done
        done
      done
    done
  done
  py - "$IJ" <<'PY' | tee "$OUTDIR/interleave.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
rows = [r for r in rows if "overhead" in r]  # QUICK: too few frames for a bare block
by = {}
for r in rows:
    by.setdefault(r["label"], []).append(r)
print("## Element vs bare model in one process (element-bench --interleave 20, device=gpu)\n")
print("Per repetition: element median ms/frame (frames streamed as a source pushes them), bare median ms/run, overhead; then the median overhead over repetitions, and the element's latency (median ms from a frame's push to its output, frames one at a time) against the bare run.\n")
print("| case | pipelined | element ms (per rep) | bare ms (per rep) | overhead (per rep) | median overhead | latency ms (per rep) | median latency over bare |")
print("|---|---|---|---|---|---|---|---|")
for k, v in by.items():
    ov = [r["overhead"] for r in v]
    lo = [r["latency_ms_median"] / r["bare_ms_median"] - 1 for r in v if "latency_ms_median" in r]
    print("| %s | %s | %s | %s | %s | %+.1f%% | %s | %s |" % (
        k, "yes" if v[0].get("pipelined") else "no",
        " ".join("%.3f" % r["ms_median"] for r in v),
        " ".join("%.3f" % r["bare_ms_median"] for r in v),
        " ".join("%+.0f%%" % (100 * o) for o in ov), 100 * statistics.median(ov),
        " ".join("%.3f" % r.get("latency_ms_median", float("nan")) for r in v),
        "%+.1f%%" % (100 * statistics.median(lo)) if lo else "-"))
PY
fi
log "done in $(elapsed) s"
