#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# examples/enhance_demo.py on the astronaut (image only).  Usage:
# enhance-demo.sh SOURCE_ROOT BUILD_ROOT PYTHON [BASELINE]
# The model must beat BASELINE (default bilinear: ESRGAN-slim x2 does not
# beat OpenCV's bicubic in PSNR on this image, see the demo's output).
set -euo pipefail
src="$1" build="$2" python="$3" baseline="${4:-bilinear}"
[ -f "$src/models/esrgan-slim/esrgan-slim-x2.onnx" ] || { echo "SKIP: models missing"; exit 77; }
out="$(mktemp -d "${TMPDIR:-/tmp}/enhance-demo.XXXXXX")"
trap 'rm -rf "$out"' EXIT
"$python" "$src/examples/enhance_demo.py" --build "$build" --no-build --out "$out" \
  --no-video --expect "$baseline"
[ -s "$out/enhance-astronaut.png" ] || { echo "FAIL: no side-by-side PNG"; exit 1; }
