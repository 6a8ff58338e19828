#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Cold vs warm start of the OpenCL backend: time to a ready engine (load_ms)
# and to the first output (load_ms + first_run_ms), with an empty program
# cache (cold) and with the cache the cold run wrote (warm).  The driver's
# own caches are off (POCL_KERNEL_CACHE=0, CUDA_CACHE_DISABLE=1) so only
# mace-cl-compiled-program.bin makes the difference.
#
#   bench/cold_warm.sh [MACE_RUN] [REPEATS]   (default build/tools/mace-run, 3)
# Prints a markdown table and writes bench/results/cold-warm-<device>-<date>.{json,md}.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="${1:-$here/build/tools/mace-run}"
reps="${2:-3}"
export POCL_KERNEL_CACHE=0 CUDA_CACHE_DISABLE=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models=(
  "blazeface-128|$here/models/blazeface/face_detection_front_128x128_barracuda.onnx|"
  "esrgan-slim-x2-320x180|$here/models/esrgan-slim/esrgan-slim-x2.onnx|--shape LR=1x180x320x3"
)
json="["
md="| model | start | load ms (median) | first output ms (median) |\n|---|---|---|---|\n"
summary=""
for m in "${models[@]}"; do
  IFS='|' read -r name path extra <<<"$m"
  [ -f "$path" ] || { echo "skip $name: $path missing (models/fetch)"; continue; }
  for kind in cold warm; do
    loads=() firsts=()
    for r in $(seq "$reps"); do
      cache="$tmp/$name.bin"
      if [ "$kind" = cold ]; then rm -f "$cache" "$cache".*; fi
      # shellcheck disable=SC2086
      out=$("$run" bench "$path" --device cl --runs 1 --warmup 0 --json --program-cache "$cache" $extra)
      l=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["load_ms"], d["load_ms"]+d["first_run_ms"], d["programs_built"], d["cache_hits"])')
      read -r lm fm built hits <<<"$l"
      loads+=("$lm"); firsts+=("$fm")
    done
    med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
    ml=$(med "${loads[@]}"); mf=$(med "${firsts[@]}")
    md+="| $name | $kind (built $built, hits $hits) | $ml | $mf |\n"
    json+="{\"model\": \"$name\", \"start\": \"$kind\", \"load_ms\": $ml, \"first_output_ms\": $mf, \"programs_built\": $built, \"cache_hits\": $hits, \"runs\": $reps},"
    if [ "$kind" = cold ]; then cold_first=$mf; else
      summary+="$name: cold $cold_first ms, warm $mf ms to first output, $(/usr/bin/python3 -c "print('%.1f' % ($cold_first/$mf))")x\n"
    fi
  done
done
json="${json%,}]"
echo -e "$md"
echo -e "$summary"
date=$(date +%Y-%m-%d)
tag=$(clinfo -l 2>/dev/null | grep -m1 Device | sed 's/.*Device #0: //; s/[^A-Za-z0-9]\+/-/g' | cut -c1-40)
tag=${tag:-opencl}
mkdir -p "$here/bench/results"
echo "$json" > "$here/bench/results/cold-warm-$tag-$date.json"
{ echo "# OpenCL cold vs warm start, $date"; echo; echo "Device: $(clinfo -l 2>/dev/null | grep -m1 Device | sed 's/^ *//')  "; echo "POCL_KERNEL_CACHE=0, CUDA_CACHE_DISABLE=1; median of $reps runs each; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."; echo; echo -e "$md"; echo -e "$summary"; } > "$here/bench/results/cold-warm-$tag-$date.md"
