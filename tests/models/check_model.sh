#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check_model.sh MACE_RUN MODEL WORKDIR [--image] [--device cpu|cl]
#                [--rel-l2 TOL] [--seed N]
#
# Model-level check of the runtime: writes reference data for MODEL with
# tests/models/make_reference.py (OpenCV DNN; random input, or the
# astronaut image with --image), runs
#   MACE_RUN run MODEL --inputs WORKDIR/ref --output-dir WORKDIR/out [--device D]
# and compares with tests/models/compare.py (relative L2, default 1e-4).
# Exit: 0 pass, 1 fail, 77 skip (model, image or Python modules missing:
# run models/fetch).

set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$(dirname "$here")")"
python=/usr/bin/python3

if [ $# -lt 3 ]; then
	sed -n '4,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
mace_run="$1" model="$2" work="$3"
shift 3
ref_args=() run_args=() tol=1e-4
while [ $# -gt 0 ]; do
	case "$1" in
	--image) ref_args+=(--image); shift ;;
	--seed) ref_args+=(--seed "$2"); shift 2 ;;
	--device) run_args+=(--device "$2"); shift 2 ;;
	--rel-l2) tol="$2"; shift 2 ;;
	*) echo "check_model: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

skip() { echo "check_model: SKIP: $*"; exit 77; }

[ -f "$model" ] || skip "$model does not exist (run models/fetch)"
if [ "${ref_args[0]:-}" = --image ] && [ ! -f "$root/models/images/astronaut.png" ]; then
	skip "$root/models/images/astronaut.png does not exist (run models/fetch)"
fi
"$python" -c 'import onnx, cv2, numpy' 2>/dev/null ||
	skip "$python lacks onnx, cv2 or numpy (Debian: python3-onnx python3-opencv python3-numpy)"
[ -x "$mace_run" ] || { echo "check_model: $mace_run is not an executable" >&2; exit 1; }

rm -rf "$work/ref" "$work/out"
mkdir -p "$work/ref" "$work/out" || exit 1

"$python" "$here/make_reference.py" "$model" "$work/ref" "${ref_args[@]}" || {
	echo "check_model: making the reference failed" >&2; exit 1; }

echo "check_model: $mace_run run $model --inputs $work/ref --output-dir $work/out ${run_args[*]}"
"$mace_run" run "$model" --inputs "$work/ref" --output-dir "$work/out" "${run_args[@]}"
rc=$?
if [ $rc -ne 0 ]; then
	echo "check_model: mace-run failed (exit $rc)" >&2
	exit 1
fi

"$python" "$here/compare.py" "$work/ref" "$work/out" --rel-l2 "$tol"
