#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# examples/mace-detect-json on the astronaut: JSON lines whose best face is
# on the face (centre x 175..300, y 40..215 of 512x512), confidence > 0.8.
# Usage: detect-json.sh EXE SOURCE_ROOT PYTHON  (GST_PLUGIN_PATH set by meson)
set -euo pipefail
exe="$1" src="$2" python="$3"
model="$src/models/blazeface/face_detection_front_128x128_barracuda.onnx"
image="$src/models/images/astronaut.png"
for f in "$model" "$image"; do [ -f "$f" ] || { echo "SKIP: $f missing (models/fetch)"; exit 77; }; done
out="$("$exe" --pipeline "filesrc location=\"$image\" ! pngdec ! imagefreeze num-buffers=3 ! videoconvert ! macefilter device=cpu model=\"$model\" ! fakesink")"
echo "$out"
"$python" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
assert len(rows) == 3, "want 3 JSON lines, got %d" % len(rows)
for r in rows:
    assert (r["width"], r["height"]) == (512, 512), r
    assert r["detections"], "no detection in frame %d" % r["frame"]
    best = max(r["detections"], key=lambda d: d["confidence"])
    x, y, w, h = best["box"]
    cx, cy = x + w / 2, y + h / 2
    assert best["confidence"] > 0.8, best
    assert 175 <= cx <= 300 and 40 <= cy <= 215, "face centre (%.1f, %.1f)" % (cx, cy)
    assert len(best["landmarks"]) == 6, best
print("ok: best face centre (%.1f, %.1f), confidence %.3f" % (cx, cy, best["confidence"]))
PY
