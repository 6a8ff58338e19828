#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Face detection with libmace's CLI: prepares an image for BlazeFace,
runs `mace-run run`, decodes the boxes (MediaPipe anchors, sigmoid scores,
weighted NMS) and draws them into a PNG.

  blazeface_demo.py MACE_RUN MODEL IMAGE OUT_PNG [--device cpu|cl]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import onnx
from onnx import numpy_helper


def anchors(size):
    # MediaPipe BlazeFace front model: 16x16 grid x 2 anchors, 8x8 x 6.
    out = []
    for grid, per in ((size // 8, 2), (size // 16, 6)):
        for y in range(grid):
            for x in range(grid):
                for _ in range(per):
                    out.append(((x + 0.5) / grid, (y + 0.5) / grid))
    return np.array(out, np.float32)


def decode(scores, regs, size, thresh=0.5, iou=0.3):
    anc = anchors(size)
    s = 1.0 / (1.0 + np.exp(-np.clip(scores, -80, 80)))
    keep = np.where(s > thresh)[0]
    dets = []
    for i in keep:
        r = regs[i] / size
        cx, cy = anc[i, 0] + r[0], anc[i, 1] + r[1]
        w, h = r[2], r[3]
        kps = [(anc[i, 0] + r[4 + 2 * k], anc[i, 1] + r[5 + 2 * k]) for k in range(6)]
        dets.append((float(s[i]), [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], kps))
    dets.sort(key=lambda d: -d[0])
    # weighted NMS: overlapping boxes are averaged by score
    out = []
    used = [False] * len(dets)
    for a in range(len(dets)):
        if used[a]:
            continue
        group = []
        for b in range(a, len(dets)):
            if used[b]:
                continue
            if iou_of(dets[a][1], dets[b][1]) > iou:
                used[b] = True
                group.append(dets[b])
        ws = np.array([g[0] for g in group])
        box = np.average([g[1] for g in group], axis=0, weights=ws)
        kps = np.average([g[2] for g in group], axis=0, weights=ws)
        out.append((dets[a][0], box.tolist(), kps.tolist()))
    return out


def iou_of(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mace_run")
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("out_png")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    m = onnx.load(a.model, load_external_data=False)
    size = m.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    bgr = cv2.imread(a.image)
    if bgr is None:
        sys.exit("cannot read %s" % a.image)
    rgb = cv2.cvtColor(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    x = (rgb.astype(np.float32) / 127.5 - 1.0)[None]
    with tempfile.TemporaryDirectory() as tmp:
        t = numpy_helper.from_array(x, m.graph.input[0].name)
        with open(os.path.join(tmp, "input_0.pb"), "wb") as f:
            f.write(t.SerializeToString())
        subprocess.run([a.mace_run, "run", a.model, "--inputs", tmp, "--output-dir", tmp,
                        "--device", a.device], check=True, stdout=subprocess.DEVNULL)
        outs = [numpy_helper.to_array(onnx.load_tensor(os.path.join(tmp, "output_%d.pb" % i)))
                for i in range(4)]
    by_name = {o.name: i for i, o in enumerate(m.graph.output)}
    scores = np.concatenate([outs[by_name["Identity:0"]].reshape(-1), outs[by_name["Identity_1:0"]].reshape(-1)])
    regs = np.concatenate([outs[by_name["Identity_2:0"]].reshape(-1, 16), outs[by_name["Identity_3:0"]].reshape(-1, 16)])
    faces = decode(scores, regs, size)
    H, W = bgr.shape[:2]
    for score, box, kps in faces:
        x0, y0, x1, y1 = int(box[0] * W), int(box[1] * H), int(box[2] * W), int(box[3] * H)
        cv2.rectangle(bgr, (x0, y0), (x1, y1), (0, 255, 0), 2)
        cv2.putText(bgr, "%.2f" % score, (x0, max(0, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
        for kx, ky in kps:
            cv2.circle(bgr, (int(kx * W), int(ky * H)), 3, (0, 0, 255), -1)
        print("face: score %.3f box x %d..%d y %d..%d (pixels of %dx%d)" % (score, x0, x1, y0, y1, W, H))
    if not faces:
        print("no face above 0.5")
    cv2.imwrite(a.out_png, bgr)
    print("wrote %s" % a.out_png)


if __name__ == "__main__":
    main()
