#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the current build into a temporary DESTDIR, then builds a small
# program against the installed libmace.pc, runs it on a tiny ONNX model and
# checks what else `meson install` put there (plugin, mace-run).
# Usage: test-install.sh BUILD_ROOT PYTHON CC
set -euo pipefail
build="$1" python="$2" cc="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$(mktemp -d "${TMPDIR:-/tmp}/mace-install.XXXXXX")"
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1 || {
  cat "$dest.log"; rm -f "$dest.log"; echo "FAIL: meson install"; exit 1; }
rm -f "$dest.log"

fail=0
pc="$(find "$dest" -name libmace.pc | head -n1)"
[ -n "$pc" ] || { echo "FAIL: no libmace.pc installed"; exit 1; }
echo "pkg-config file: ${pc#$dest}"
header="$(find "$dest" -name mace.h | head -n1)"
[ -n "$header" ] && echo "header: ${header#$dest}" || { echo "FAIL: mace.h not installed"; fail=1; }
runner="$(find "$dest" -name mace-run -type f | head -n1)"
[ -n "$runner" ] && echo "mace-run: ${runner#$dest}" || { echo "FAIL: mace-run not installed"; fail=1; }
plugin="$(find "$dest" -name libgstmace.so | head -n1)"
if [ -n "$plugin" ]; then
  echo "plugin: ${plugin#$dest}"
  case "$plugin" in */gstreamer-1.0/*) ;; *) echo "FAIL: plugin not in a gstreamer-1.0 dir"; fail=1 ;; esac
elif [ -d "$build/gst" ] && [ -n "$(find "$build/gst" -name 'libgstmace.so' 2>/dev/null)" ]; then
  echo "FAIL: the plugin was built but not installed"; fail=1
else
  echo "plugin: not built (no GStreamer), not checked"
fi

# Compile against the installed .pc, its paths rewritten into DESTDIR
# (PKG_CONFIG_PATH only prepends: glib and friends still come from the system).
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
cflags="$(pkg-config --cflags libmace)"
libs="$(pkg-config --libs libmace)"
echo "pkg-config --cflags --libs libmace: $cflags $libs"
"$cc" -std=c11 -Wall -Wextra -Werror -o "$dest/hello" "$here/hello.c" $cflags $libs -lm
"$python" "$here/make_model.py" "$dest/add_relu.onnx"
libdir="$(dirname "$(dirname "$pc")")"
# The program must find the installed library, not the build tree's.
LD_LIBRARY_PATH="$libdir" "$dest/hello" "$dest/add_relu.onnx"
resolved="$(LD_LIBRARY_PATH="$libdir" ldd "$dest/hello" | awk '/libmace/ {print $3}')"
case "$resolved" in
  "$dest"/*) echo "libmace resolved to ${resolved#$dest}" ;;
  *) echo "FAIL: libmace resolved to '$resolved', not the installed one"; fail=1 ;;
esac
if [ -n "$runner" ]; then
  LD_LIBRARY_PATH="$libdir" "$runner" info "$dest/add_relu.onnx" >/dev/null ||
    { echo "FAIL: installed mace-run info"; fail=1; }
fi
[ "$fail" = 0 ] && echo "install: ok"
exit "$fail"
