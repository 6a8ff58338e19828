#!/bin/bash
# SPDX-License-Identifier: MIT
# mace OpenCL on an NVIDIA GPU (H100) against PyTorch on the same GPU.
#
#   bench/device/run-h100.sh [OUTDIR] [h100_bench.py options...]
#
# Meant for the lent GPU machine, from the repository root, with the
# staged binaries and models in .device/h100/ (bench/device/stage.sh makes
# them here; carry .device/h100). OUTDIR defaults to $OUT, else
# /tmp/h100-out. It
#   (a) registers NVIDIA's OpenCL ICD (the image ships the driver but no
#       /etc/OpenCL/vendors entry),
#   (b)-(e) runs bench/device/h100_bench.py: mace-run bench on the OpenCL
#       device (BlazeFace-128/256, ESRGAN-slim x2 at 960x540 input), cold vs
#       warm start, PyTorch eager and CUDA graphs on the same ONNX graphs,
#       mace CPU vs CL outputs,
#   plus a float64 reference of every model (torch on the CPU) with the
#   statistics of every output, and the OpenCL driver's own start-up cost
#   (bench/device/cl_init_time.c),
# and writes h100.json, h100.md, log.txt, nvidia-smi.txt, clinfo.txt,
# ldd.txt and diag-<model>.npz into OUTDIR, then prints the tables.
# Environment: MACE_RUN (mace-run to use), PYTHON (python with torch and
# onnx; default python3), CL_DEVICE (default NVIDIA; empty for any),
# MODELS_DIR.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUTDIR=${1:-${OUT:-/tmp/h100-out}}
[ $# -gt 0 ] && shift
mkdir -p "$OUTDIR"
STAGE=$ROOT/.device/h100

# (a) NVIDIA OpenCL ICD.
if [ -e /usr/lib/libnvidia-opencl.so.1 ] || [ -n "$(ls /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 2>/dev/null)" ]; then
  mkdir -p /etc/OpenCL/vendors
  lib=/usr/lib/libnvidia-opencl.so.1
  [ -e $lib ] || lib=/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1
  [ -w /etc/OpenCL/vendors ] && echo $lib > /etc/OpenCL/vendors/nvidia.icd
fi

MACE_RUN=${MACE_RUN:-}
if [ -z "$MACE_RUN" ]; then
  for c in "$STAGE/build/tools/mace-run" "$ROOT"/build-h100/tools/mace-run "$ROOT"/build/tools/mace-run; do
    [ -x "$c" ] && { MACE_RUN=$c; break; }
  done
fi
if [ -z "$MACE_RUN" ]; then echo "run-h100.sh: no mace-run (stage it with bench/device/stage.sh)" >&2; exit 1; fi

# Libraries the Debian 12 build needs (glib, protobuf-c, the OpenCL ICD
# loader) come staged in .device/h100/lib for machines that lack them.
if ldd "$MACE_RUN" 2>/dev/null | grep -q "not found"; then
  export LD_LIBRARY_PATH=$STAGE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "run-h100.sh: using staged libraries from $STAGE/lib" >&2
fi
ldd "$MACE_RUN" > "$OUTDIR/ldd.txt" 2>&1

{ nvidia-smi 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,pstate --format=csv 2>&1; } > "$OUTDIR/nvidia-smi.txt"
CLINFO=$(command -v clinfo || echo "$STAGE/bin/clinfo")
{ "$CLINFO" -l 2>&1; "$CLINFO" 2>&1 | grep -E "^\s*(Platform Name|Platform Version|Device Name|Device Version|Driver Version|Device OpenCL C Version|Max compute units|Max clock)" | awk '!seen[$0]++' ; } > "$OUTDIR/clinfo.txt" 2>&1
head -12 "$OUTDIR/nvidia-smi.txt" | tail -4
cat "$OUTDIR/clinfo.txt" | head -20

MODELS_DIR=${MODELS_DIR:-$STAGE/models}
[ -d "$MODELS_DIR" ] || MODELS_DIR=$ROOT/models/all
COMMIT=$(cat "$STAGE/COMMIT" 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)
exec ${PYTHON:-python3} "$ROOT/bench/device/h100_bench.py" \
  --mace-run "$MACE_RUN" --models-dir "$MODELS_DIR" --out "$OUTDIR" \
  --cl-device "${CL_DEVICE-NVIDIA}" --commit "$COMMIT" \
  --cl-init-time "$STAGE/bin/cl_init_time" "$@"
