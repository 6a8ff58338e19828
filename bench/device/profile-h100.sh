#!/bin/bash
# SPDX-License-Identifier: MIT
# A/B runs of mace-run bench on the lent GPU under several settings, each
# as a fresh process, interleaved over ROUNDS rounds, with one profiled
# run (MACE_CL_PROFILE: per-launch device times) per setting.  Run from
# the repository root with .device/h100 carried (bench/device/stage.sh).
#   bench/device/profile-h100.sh [OUTDIR]
# Settings are "label|ENV=V ENV2=V2" lines in $CONFIGS (default below);
# models in $MODELS (file names in .device/h100/models).  Writes
# OUTDIR/summary.txt (medians per process, and their median) and
# OUTDIR/profiles.tar.gz.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
O=${1:-${OUT:-/tmp/profile-out}}
mkdir -p "$O/p"
S=$ROOT/.device/h100
mkdir -p /etc/OpenCL/vendors
echo /usr/lib/libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
R=$S/build/tools/mace-run
ldd "$R" | grep -q "not found" && export LD_LIBRARY_PATH=$S/lib
RUNS=${RUNS:-300}
ROUNDS=${ROUNDS:-3}
MODELS=${MODELS:-"face_detection_front_128x128_barracuda face_detection_back_256x256_barracuda"}
CONFIGS=${CONFIGS:-"default|X=1
nofold|MACE_CL_FOLD=0
nodwpw|MACE_FUSE_DW_PW=0
lws-driver|MACE_CL_LWS=driver
lws-128|MACE_CL_LWS=128"}
for m in $MODELS; do
  M=$S/models/$m.onnx
  $R bench "$M" --device cl --cl-device NVIDIA --runs 20 --warmup 5 >/dev/null 2>&1 # driver JIT cache
  for r in $(seq 1 "$ROUNDS"); do
    while IFS='|' read -r label envs; do
      env $envs $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 --json \
        > "$O/p/$m-$label-$r.json" 2>/dev/null
    done <<< "$CONFIGS"
  done
  while IFS='|' read -r label envs; do
    env $envs MACE_CL_PROFILE=1 $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 \
      > "$O/p/$m-$label-profile.txt" 2>&1
  done <<< "$CONFIGS"
done
# ESRGAN-slim x2 at 960x540 input (ESRGAN=1): default vs no folds.
if [ "${ESRGAN:-1}" = 1 ]; then
  M=$S/models/esrgan-slim-x2.onnx
  for r in $(seq 1 "$ROUNDS"); do
    for c in "default|X=1" "nofold|MACE_CL_FOLD=0"; do
      env ${c#*|} $R bench "$M" --device cl --cl-device NVIDIA --shape LR=1x540x960x3 --runs 30 --warmup 5 --json \
        > "$O/p/esrgan-slim-x2-${c%%|*}-$r.json" 2>/dev/null
    done
  done
fi
python3 - "$O" <<'PY' | tee "$O/summary.txt"
import glob, json, os, re, statistics, sys
o = sys.argv[1]
rows = {}
for f in sorted(glob.glob(o + "/p/*.json")):
    name = os.path.basename(f)[:-5]
    key = name.rsplit("-", 1)[0]
    try:
        j = json.load(open(f))
    except Exception as e:
        rows.setdefault(key, []).append(None); continue
    rows.setdefault(key, []).append((j["median_ms"], j.get("launches_per_run")))
for k, v in rows.items():
    ok = [x for x in v if x]
    meds = [x[0] for x in ok]
    prof = open(o + "/p/" + k + "-profile.txt").read() if os.path.exists(o + "/p/" + k + "-profile.txt") else ""
    m = re.search(r"per run ([0-9.]+) us host.*?, ([0-9.]+) us device span.*?, ([0-9.]+) us in kernels", prof)
    print("%-60s launches %s  medians %s  -> %.4f ms%s" % (
        k, ok[0][1] if ok else "?", " ".join("%.4f" % x for x in meds),
        statistics.median(meds) if meds else float("nan"),
        "  (profiled: host %s us, span %s us, kernels %s us)" % m.groups() if m else ""))
PY
tar czf "$O/profiles.tar.gz" -C "$O" p && rm -rf "$O/p"
