#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# examples/mace-infer-image on BlazeFace 128 + astronaut: prints 4 outputs
# with their shapes.  Usage: infer-image.sh EXE SOURCE_ROOT
set -euo pipefail
exe="$1" src="$2"
model="$src/models/blazeface/face_detection_front_128x128_barracuda.onnx"
image="$src/models/images/astronaut.png"
for f in "$model" "$image"; do [ -f "$f" ] || { echo "SKIP: $f missing (models/fetch)"; exit 77; }; done
out="$("$exe" "$model" "$image" --range -1,1 --top 3)"
echo "$out"
for want in "output 0 'Identity:0' float32 [1, 512, 1]" \
            "output 1 'Identity_1:0' float32 [1, 384, 1]" \
            "output 2 'Identity_2:0' float32 [1, 512, 16]" \
            "output 3 'Identity_3:0' float32 [1, 384, 16]" "top 3:" "first:"; do
  grep -qF "$want" <<<"$out" || { echo "FAIL: no '$want' in the output"; exit 1; }
done
# The best face logit on the astronaut is about 2.48 (sigmoid 0.92).
best="$(grep -A4 "'Identity:0'" <<<"$out" | sed -n 's/.*top 3: \[[0-9]*\]=\([-0-9.e]*\).*/\1/p')"
awk -v b="$best" 'BEGIN { exit !(b > 1.5) }' || { echo "FAIL: best score logit $best <= 1.5"; exit 1; }
echo "ok (best logit $best)"
