#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# examples/enhance_demo.py on the astronaut (image only).  Usage:
# enhance-demo.sh SOURCE_ROOT BUILD_ROOT PYTHON [BASELINE]
# The demo's enhancement model (RDN psnr-small x2) must beat BASELINE
# (default bicubic) in PSNR on the astronaut downscaled as the models were
# trained; ESRGAN-slim x2 runs beside it for comparison.
set -euo pipefail
src="$1" build="$2" python="$3" baseline="${4:-bicubic}"
for m in esrgan-slim/esrgan-slim-x2.onnx esrgan-legacy/esrgan-legacy-psnr-small-x2.onnx; do
  [ -f "$src/models/$m" ] || { echo "SKIP: models/$m missing (run models/fetch)"; exit 77; }
done
out="$(mktemp -d "${TMPDIR:-/tmp}/enhance-demo.XXXXXX")"
trap 'rm -rf "$out"' EXIT
"$python" "$src/examples/enhance_demo.py" --build "$build" --no-build --out "$out" \
  --no-video --expect "$baseline"
[ -s "$out/enhance-astronaut.png" ] || { echo "FAIL: no side-by-side PNG"; exit 1; }
