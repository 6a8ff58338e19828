#!/bin/bash
# SPDX-License-Identifier: MIT
# Stages what bench/device/element-h100.sh needs on the GPU machine (no
# GStreamer and no package registry there) into .device/gst/ (git-ignored;
# carry it with the device tool):
#   build/src/libmace.so.0, build/gst/libgstmace.so, build/tools/mace-run,
#   build/bench/element/element-bench     (RUNPATH $ORIGIN/../src kept)
#   debs/     Debian 12 packages of GStreamer, gst-launch-1.0, the plugin
#             scanner, coreelements + videotestsrc and every library they,
#             the plugin and element-bench need (libc6 aside); the device
#             script `dpkg -x`es them into a prefix
#   models/   BlazeFace 128 + 256, ESRGAN-slim x2 (.onnx) + the x2 config
#   COMMIT    the commit built, plus "+worktree" and the files with
#             uncommitted changes in src/, gst/, kernels/ when there are some
#
#   bench/device/stage-gst.sh [BUILD_DIR]     (default build-h100gst)
# BUILD_DIR is built from the current work tree (meson setup
# -Dwerror=false if it does not exist, then ninja).  Needs apt-get
# (download only, no root) and the models fetched (models/fetch).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
B=${1:-build-h100gst}
S=.device/gst
[ -d "$B" ] || meson setup "$B" -Dwerror=false
ninja -C "$B" src/libmace.so.0.1.0 gst/libgstmace.so tools/mace-run bench/element/element-bench bench/micro/frame-bench

rm -rf $S
mkdir -p $S/build/src $S/build/gst $S/build/tools $S/build/bench/element $S/debs $S/models
cp -L "$B/src/libmace.so.0" $S/build/src/
cp "$B/gst/libgstmace.so" $S/build/gst/
cp "$B/tools/mace-run" $S/build/tools/
cp "$B/bench/element/element-bench" $S/build/bench/element/
mkdir -p $S/build/bench/micro && cp "$B/bench/micro/frame-bench" $S/build/bench/micro/
strip --strip-debug $S/build/src/libmace.so.0 $S/build/gst/libgstmace.so \
  $S/build/tools/mace-run $S/build/bench/element/element-bench 2>/dev/null || true

{
  git rev-parse --short HEAD
  dirty=$(git status --porcelain -- src gst kernels tools bench/element | awk '{print $2}' | tr '\n' ' ')
  [ -n "$dirty" ] && echo "+worktree (uncommitted: $dirty; diff sha256 $(git diff -- src gst kernels tools bench/element | sha256sum | cut -c1-12))"
  true
} > $S/COMMIT

# Packages: those owning every library the staged binaries and the GStreamer
# tools/plugins used there resolve to here, plus the tools and plugins.
L=/usr/lib/x86_64-linux-gnu
bins="$B/gst/libgstmace.so $B/src/libmace.so.0 $B/tools/mace-run $B/bench/element/element-bench
  $(command -v gst-launch-1.0) $L/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
  $L/gstreamer-1.0/libgstcoreelements.so $L/gstreamer-1.0/libgstvideotestsrc.so"
pkgs="clinfo gstreamer1.0-tools gstreamer1.0-plugins-base libgstreamer1.0-0 libgstreamer-plugins-base1.0-0"
for b in $bins; do
  for l in $(ldd "$b" | awk '/=> \//{print $3}'); do
    case $l in *libmace.so*) continue ;; esac
    r=$(readlink -f "$l")
    p=$(dpkg -S "$r" 2>/dev/null || dpkg -S "${r#/usr}" 2>/dev/null || true)
    [ -n "$p" ] || { echo "stage-gst: no package owns $l" >&2; exit 1; }
    pkgs="$pkgs ${p%%:*}"
  done
done
pkgs=$(echo $pkgs | tr ' ' '\n' | grep -v -x -e libc6 -e libgcc-s1 | sort -u)
(cd $S/debs && apt-get download $pkgs >/dev/null 2>&1 && for f in *%3a*; do [ -e "$f" ] && mv "$f" "${f//%3a/_}"; done; true)
ls $S/debs > $S/debs/PACKAGES

cp models/blazeface/face_detection_front_128x128_barracuda.onnx \
   models/blazeface/face_detection_back_256x256_barracuda.onnx \
   models/esrgan-slim/esrgan-slim-x2.onnx models/configs/esrgan-slim-x2.json $S/models/
echo "packages: $(echo $pkgs | wc -w)"; du -sh $S $S/debs; cat $S/COMMIT
