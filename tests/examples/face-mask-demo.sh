#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# examples/face_mask_demo.py on 8 frames of the astronaut clip: every frame
# has a face above 0.8, and the video and contact sheet are written.
# Usage: face-mask-demo.sh SOURCE_ROOT BUILD_ROOT PYTHON
set -euo pipefail
src="$1" build="$2" python="$3"
[ -f "$src/models/blazeface/face_detection_front_128x128_barracuda.onnx" ] || { echo "SKIP: models missing"; exit 77; }
out="$(mktemp -d "${TMPDIR:-/tmp}/face-mask-demo.XXXXXX")"
trap 'rm -rf "$out"' EXIT
"$python" "$src/examples/face_mask_demo.py" --build "$build" --no-build --out "$out" \
  --clips astronaut --frames 8
"$python" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
s = json.load(open(os.path.join(out, "face-mask-summary.json")))["astronaut"]
assert s["frames"] == 8, s
assert s["frames_with_face_above_0_8"] == 8, s
for f in ("face-mask-astronaut.webm", "face-mask-astronaut-sheet.png"):
    assert os.path.getsize(os.path.join(out, f)) > 1000, f
print("ok: %d/%d frames with a face above 0.8 (best %.2f)" % (
    s["frames_with_face_above_0_8"], s["frames"], s["max_confidence"]))
PY
