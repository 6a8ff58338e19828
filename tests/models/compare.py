#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compare a runtime's outputs with reference outputs (ONNX TensorProto .pb).

  compare.py REF_DIR OUT_DIR [--rel-l2 1e-4]

Every REF_DIR/output_*.pb must have a counterpart in OUT_DIR, matched by
tensor name (the TensorProto's name), else by file name. Prints shape,
relative L2 error (||out - ref|| / ||ref||) and max abs difference per
output; exits 1 if any output is missing, has another shape or size, holds
a NaN/Inf, or is above the tolerance; 2 on bad usage.
"""

import argparse
import glob
import os
import sys

import numpy as np
from onnx import TensorProto, numpy_helper


def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ref_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--rel-l2", type=float, default=1e-4)
    args = ap.parse_args()

    refs = sorted(glob.glob(os.path.join(args.ref_dir, "output_*.pb")))
    if not refs:
        print("compare: no output_*.pb in %s" % args.ref_dir, file=sys.stderr)
        return 2
    outs_by_name, outs_by_file = {}, {}
    for p in sorted(glob.glob(os.path.join(args.out_dir, "*.pb"))):
        try:
            name, arr = load(p)
        except Exception as e:  # not a TensorProto
            print("compare: %s: cannot read (%s)" % (p, e), file=sys.stderr)
            continue
        outs_by_file[os.path.basename(p)] = (p, arr)
        if name:
            outs_by_name[name] = (p, arr)

    ok = True
    for rp in refs:
        name, ref = load(rp)
        got = outs_by_name.get(name) or outs_by_file.get(os.path.basename(rp))
        label = "%s (%s)" % (os.path.basename(rp), name)
        if got is None:
            print("%-36s MISSING in %s" % (label, args.out_dir))
            ok = False
            continue
        gp, out = got
        if out.shape != ref.shape:
            if out.size == ref.size:
                print("%-36s shape %s, reference %s (same size; compared "
                      "flat) FAILED" % (label, out.shape, ref.shape))
            else:
                print("%-36s shape %s, reference %s FAILED"
                      % (label, out.shape, ref.shape))
            ok = False
            continue
        r = ref.astype(np.float64)
        o = out.astype(np.float64)
        if not np.all(np.isfinite(o)):
            print("%-36s %d non-finite values FAILED"
                  % (label, int(np.sum(~np.isfinite(o)))))
            ok = False
            continue
        err = np.linalg.norm(o - r) / max(np.linalg.norm(r), 1e-30)
        mad = float(np.max(np.abs(o - r))) if r.size else 0.0
        good = err <= args.rel_l2
        ok = ok and good
        print("%-36s shape %-14s rel L2 %.3g  max abs %.3g  %s"
              % (label, "x".join(map(str, ref.shape)), err, mad,
                 "ok" if good else "FAILED (tol %g)" % args.rel_l2))
    print("compare: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
