#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Element benchmark: (a) gst-launch `videotestsrc ! macefilter ! fakesink
# sync=false` frames/s, (b) bench/element/element-bench (pre-made frames in
# a GstHarness, no source cost), (c) bare `mace-run bench` on the same
# models, for the element's overhead.  Writes JSON lines to OUT.
# usage: bench/element/run.sh BUILD_DIR OUT.jsonl [--quick]
set -eu
B=${1:-build}
OUT=${2:-element-bench.jsonl}
Q=${3:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M128=$ROOT/models/blazeface/face_detection_front_128x128_barracuda.onnx
M256=$ROOT/models/blazeface/face_detection_back_256x256_barracuda.onnx
MX2=$ROOT/models/esrgan-slim/esrgan-slim-x2.onnx
CX2=$ROOT/models/configs/esrgan-slim-x2.json
export GST_PLUGIN_SYSTEM_PATH_1_0=
export GST_PLUGIN_PATH_1_0=$B/gst:$(pkg-config --variable=pluginsdir gstreamer-1.0)
export GST_REGISTRY_1_0=$B/bench-element-registry.bin
N=300; [ "$Q" = --quick ] && N=60
: > "$OUT"

launch () { # label, frames, caps, element...
  label=$1; n=$2; caps=$3; shift 3
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  t=$(/usr/bin/python3 - "$n" "$caps" "$@" <<'PY'
import subprocess, sys, time
n = int(sys.argv[1]); caps = sys.argv[2]; el = sys.argv[3:]
cmd = ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=%d" % n, "!", caps]
if el and el != ["none"]:
    cmd += ["!"] + el
cmd += ["!", "fakesink", "sync=false"]
t0 = time.monotonic(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL); dt = time.monotonic() - t0
print("%.4f" % dt)
PY
)
  printf '{"kind": "gst-launch", "label": "%s", "frames": %d, "seconds": %s, "fps": %s, "loadavg": "%s"}\n' \
    "$label" "$n" "$t" "$(echo "$n / $t" | bc -l | cut -c1-7)" "$load" >> "$OUT"
}

harness () { # label, args...  (CPU BlazeFace cases: the bare model
  # interleaved in the same process too, see element-bench.c)
  label=$1; shift
  "$B/bench/element/element-bench" --label "$label" --frames $N "$@" | sed 's/^{/{"kind": "harness", /' >> "$OUT"
}
IL="--interleave 20"

macerun () { # label, model, extra
  label=$1; m=$2; shift 2
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  "$B/tools/mace-run" bench "$m" --runs $N --warmup 20 --json "$@" > /tmp/mace-run-bench.$$.json
  /usr/bin/python3 - "$label" "$load" /tmp/mace-run-bench.$$.json >> "$OUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[3]))
d = {"kind": "mace-run", "label": sys.argv[1], "loadavg": sys.argv[2], "result": d}
print(json.dumps(d))
PY
  rm -f /tmp/mace-run-bench.$$.json
}

# (c) bare model
macerun bf128 "$M128" --device cpu
macerun bf256 "$M256" --device cpu
macerun esrgan-x2-128x96 "$MX2" --device cpu --shape LR=1x96x128x3

# (b) harness
for fmt in RGB I420; do
  harness bf128-640x480-$fmt --model "$M128" --format $fmt --width 640 --height 480 $IL
  harness bf128-1920x1080-$fmt --model "$M128" --format $fmt --width 1920 --height 1080 $IL
  harness bf256-640x480-$fmt --model "$M256" --format $fmt --width 640 --height 480 $IL
  harness bf256-1920x1080-$fmt --model "$M256" --format $fmt --width 1920 --height 1080 $IL
done
harness bf128-128x128-RGB --model "$M128" --format RGB --width 128 --height 128 $IL
harness esrgan-x2-128x96-RGB --model "$MX2" --config "$CX2" --format RGB --width 128 --height 96 --frames 30 --warmup 3
harness bf128-640x480-I420-opencl --model "$M128" --device gpu --format I420 --width 640 --height 480

# (a) gst-launch with videotestsrc (source cost included; baseline rows
# without macefilter give the source's own cost)
NL=$((N * 3))
launch src-only-128x128-RGB $NL video/x-raw,format=RGB,width=128,height=128 none
launch bf128-128x128-RGB $NL video/x-raw,format=RGB,width=128,height=128 macefilter model="$M128" device=cpu
launch src-only-640x480-I420 $NL video/x-raw,format=I420,width=640,height=480 none
launch bf128-640x480-I420 $NL video/x-raw,format=I420,width=640,height=480 macefilter model="$M128" device=cpu
launch bf256-640x480-I420 $N video/x-raw,format=I420,width=640,height=480 macefilter model="$M256" device=cpu
launch src-only-1920x1080-I420 $N video/x-raw,format=I420,width=1920,height=1080 none
launch bf128-1920x1080-I420 $N video/x-raw,format=I420,width=1920,height=1080 macefilter model="$M128" device=cpu
