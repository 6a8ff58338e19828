#!/bin/bash
# SPDX-License-Identifier: MIT
# Stages what bench/device/run-h100.sh needs on the GPU machine into
# .device/h100/ (git-ignored; carry it with the device tool):
#   build/tools/mace-run, build/src/libmace.so.0   (mace-run's rpath finds it)
#   lib/   glib, pcre2, protobuf-c, OpenCL ICD loader (used only if missing there)
#   bin/clinfo
#   models/  BlazeFace 128 + 256, ESRGAN-slim x2 (.onnx)
#   COMMIT   the commit the binaries were built from
#
#   bench/device/stage.sh [BUILD_DIR]    (default build-h100)
# The build is made from `git archive HEAD` (the committed tree, not the
# work tree with other people's edits in progress) unless BUILD_DIR exists
# and STAGE_FROM_WORKTREE=1.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
S=.device/h100
rm -rf $S
mkdir -p $S/build/tools $S/build/src $S/lib $S/bin $S/models
if [ "${STAGE_FROM_WORKTREE:-0}" = 1 ]; then
  B=${1:-build-h100}
  [ -d "$B" ] || meson setup "$B" -Dwerror=false -Dgstreamer=disabled
  ninja -C "$B" tools/mace-run
  git rev-parse --short HEAD > $S/COMMIT
  echo "+worktree" >> $S/COMMIT
else
  SRC=/tmp/gst-mace-h100-src
  rm -rf $SRC; mkdir -p $SRC
  git archive HEAD | tar -x -C $SRC
  meson setup $SRC/build $SRC -Dwerror=false -Dgstreamer=disabled -Dtests=false >/dev/null
  ninja -C $SRC/build tools/mace-run >/dev/null
  B=$SRC/build
  git rev-parse --short HEAD > $S/COMMIT
fi
cp "$B/tools/mace-run" $S/build/tools/
cp -L "$B/src/libmace.so.0" $S/build/src/
for l in $(ldd "$B/tools/mace-run" | awk '/=> \//{print $3}' | grep -v -e libmace -e libc.so -e libm.so -e ld-linux); do
  cp -L "$l" $S/lib/
done
cp -L "$(ldd "$(command -v clinfo)" | awk '/libOpenCL/{print $3}')" $S/lib/ 2>/dev/null || true
cp "$(command -v clinfo)" $S/bin/ 2>/dev/null || true
cp models/blazeface/face_detection_front_128x128_barracuda.onnx \
   models/blazeface/face_detection_back_256x256_barracuda.onnx \
   models/esrgan-slim/esrgan-slim-x2.onnx $S/models/
du -sh $S; cat $S/COMMIT
# The driver-only start-up probe.
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o $S/bin/cl_init_time bench/device/cl_init_time.c -lOpenCL
