#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run_conformance.sh MACE_RUN MIN_PASSED [mace-run options...] DIR
# Runs `mace-run conformance` and fails if any test fails or fewer than
# MIN_PASSED pass.  Exit 77 (skip) when the test data is not installed.
set -u
mace_run="$1" min="$2"
shift 2
dir="${*: -1}"
[ -d "$dir" ] || { echo "SKIP: $dir missing (apt-get install libonnx-testdata)"; exit 77; }
out=$("$mace_run" conformance "$@")
rc=$?
echo "$out"
last=$(echo "$out" | tail -1)
if echo "$last" | grep -q "No OpenCL"; then exit 77; fi
passed=$(echo "$last" | awk '{print $1}')
[ "$rc" = 0 ] || { echo "conformance: failures above"; exit 1; }
[ "${passed:-0}" -ge "$min" ] || { echo "conformance: only $passed passed, want >= $min"; exit 1; }
exit 0
