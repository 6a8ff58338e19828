#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-launch OpenCL profile of BlazeFace on the lent GPU (MACE_CL_PROFILE),
# for several local-size policies, the tuner's choices and the fused
# depthwise+1x1 kernel.  Run from the repository root with .device/h100
# carried (bench/device/stage.sh).  Writes OUTDIR/profile-*.txt and a
# summary of medians to OUTDIR/profile-summary.txt.
#   bench/device/profile-h100.sh [OUTDIR]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
O=${1:-${OUT:-/tmp/profile-out}}
mkdir -p "$O"
S=$ROOT/.device/h100
mkdir -p /etc/OpenCL/vendors
echo /usr/lib/libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
R=$S/build/tools/mace-run
ldd "$R" | grep -q "not found" && export LD_LIBRARY_PATH=$S/lib
RUNS=${RUNS:-400}
summ () { grep -E "median|OpenCL profile" "$1" | tr '\n' ' '; echo; }
for m in face_detection_front_128x128_barracuda face_detection_back_256x256_barracuda; do
  M=$S/models/$m.onnx
  $R bench "$M" --device cl --cl-device NVIDIA --runs 50 --warmup 10 >/dev/null 2>&1 # driver JIT cache
  for v in driver 32 64 128 256; do
    f=$O/profile-$m-lws-$v.txt
    MACE_CL_LWS=$v $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 > "$f" 2>&1
    echo "$m lws=$v (no profiling): $(grep median "$f")" >> "$O/profile-summary.txt"
    MACE_CL_PROFILE=1 MACE_CL_LWS=$v $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 >> "$f" 2>&1
    echo "$m lws=$v profiled: $(summ "$f")" >> "$O/profile-summary.txt"
  done
  for v in driver 64; do
    f=$O/profile-$m-dwpw-lws-$v.txt
    MACE_FUSE_DW_PW=1 MACE_CL_LWS=$v $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 > "$f" 2>&1
    MACE_FUSE_DW_PW=1 MACE_CL_PROFILE=1 MACE_CL_LWS=$v $R bench "$M" --device cl --cl-device NVIDIA --runs $RUNS --warmup 30 >> "$f" 2>&1
    echo "$m dwpw lws=$v: $(summ "$f")" >> "$O/profile-summary.txt"
  done
  T=$O/tuned-$m.bin
  MACE_DEBUG=1 $R compile "$M" --device cl --cl-device NVIDIA --tune --tuning-cache "$T" > "$O/tune-$m.txt" 2>&1
  f=$O/profile-$m-tuned.txt
  $R bench "$M" --device cl --cl-device NVIDIA --tuning-cache "$T" --runs $RUNS --warmup 30 > "$f" 2>&1
  MACE_CL_PROFILE=1 $R bench "$M" --device cl --cl-device NVIDIA --tuning-cache "$T" --runs $RUNS --warmup 30 >> "$f" 2>&1
  echo "$m tuned: $(summ "$f")" >> "$O/profile-summary.txt"
done
cat "$O/profile-summary.txt"
