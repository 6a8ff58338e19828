#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Video enhancement demo: ESRGAN-slim x2 (macefilter) against bicubic.

Takes an original (skimage's astronaut.png, and 24 frames of OpenCV's
Megamind.avi, centre 384x288), downscales it by 2 (2x2 pixel average, cv2.INTER_AREA),
restores it with the model through GStreamer (macefilter
model=esrgan-slim-x2.onnx) and with bicubic (cv2.INTER_CUBIC) and bilinear
scaling, and prints the PSNR of each against the original (RGB, a 4-pixel
border left out).  Writes to demo-out/:

  enhance-astronaut.png    side by side: input (pixels shown 2x), bicubic,
                           model, original; the face 4x below each
  enhance-megamind.webm    the clip restored by the model (vp8enc + webmmux)
  enhance-summary.json     the PSNRs

  examples/enhance_demo.py               image and clip
  examples/enhance_demo.py --no-video    image only (about 3 s here)
  examples/enhance_demo.py --expect bicubic   exit 1 unless the model wins
"""
import argparse
import glob
import json
import os
import sys
import tempfile

import demo_common as dc

BORDER = 4


def mse(a, b):
    import numpy as np
    a = a[BORDER:-BORDER, BORDER:-BORDER].astype(np.float64)
    b = b[BORDER:-BORDER, BORDER:-BORDER].astype(np.float64)
    return float(np.mean((a - b) ** 2))


def psnr_of_mse(m):
    import math
    return float("inf") if m == 0 else 10 * math.log10(255.0 ** 2 / m)


def psnr(a, b):
    return psnr_of_mse(mse(a, b))


def downscale(img):
    import cv2
    h, w = img.shape[:2]
    return cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def model_pipeline(args, source, sinks):
    model, config = dc.ESRGAN_X2
    return ('%s ! videoconvert ! video/x-raw,format=RGB ! macefilter model="%s" '
            'config="%s" device=%s ! %s' % (source, model, config, args.device, sinks))


def label(img, text):
    import cv2
    cv2.rectangle(img, (0, 0), (img.shape[1], 24), (0, 0, 0), -1)
    cv2.putText(img, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                (255, 255, 255), 1, cv2.LINE_AA)
    return img


def run_image(args, tmp):
    import cv2
    import numpy as np
    original = cv2.imread(dc.ASTRONAUT)
    h, w = original.shape[:2]
    small = downscale(original)
    small_png = os.path.join(tmp, "small.png")
    model_png = os.path.join(tmp, "model.png")
    cv2.imwrite(small_png, small)
    dc.gst_launch(args, model_pipeline(
        args, 'filesrc location="%s" ! pngdec' % small_png,
        'videoconvert ! pngenc ! filesink location="%s"' % model_png))
    restored = cv2.imread(model_png)
    if restored is None or restored.shape != original.shape:
        sys.exit("model output %s is not %dx%d" % (model_png, w, h))
    bicubic = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    bilinear = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    nearest = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    res = {"model": psnr(restored, original), "bicubic": psnr(bicubic, original),
           "bilinear": psnr(bilinear, original)}

    panels = [(nearest, "input %dx%d (shown 2x)" % (w // 2, h // 2)),
              (bicubic, "bicubic %.2f dB" % res["bicubic"]),
              (restored, "ESRGAN-slim x2 %.2f dB" % res["model"]),
              (original, "original %dx%d" % (w, h))]
    top = np.hstack([label(p.copy(), t) for p, t in panels])
    # The face, 4x under each panel, so the difference is visible.
    y0, x0, side = 60, 170, 128
    bottom = np.hstack([cv2.resize(p[y0:y0 + side, x0:x0 + side], (w, w),
                                   interpolation=cv2.INTER_NEAREST) for p, _ in panels])
    sheet = os.path.join(args.out, "enhance-astronaut.png")
    cv2.imwrite(sheet, np.vstack([top, bottom]))
    res["image"] = os.path.relpath(sheet, dc.ROOT)
    return res


def run_video(args, tmp):
    import cv2
    import numpy as np
    src = dc.opencv_sample("Megamind.avi", os.path.join(args.out, "downloads"))
    cap = cv2.VideoCapture(src)
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    small_dir, out_dir = os.path.join(tmp, "small"), os.path.join(tmp, "model")
    os.makedirs(small_dir)
    os.makedirs(out_dir)
    originals = []
    cw, ch = args.crop
    for _ in range(args.video_start):
        cap.read()
    while len(originals) < args.video_frames:
        ok, frame = cap.read()
        if not ok:
            break
        fh, fw = frame.shape[:2]
        y, x = max(0, (fh - ch) // 2), max(0, (fw - cw) // 2)
        frame = np.ascontiguousarray(frame[y:y + ch, x:x + cw])
        cv2.imwrite(os.path.join(small_dir, "frame-%05d.png" % len(originals)),
                    downscale(frame))
        originals.append(frame)
    n = len(originals)
    webm = os.path.join(args.out, "enhance-megamind.webm")
    source = ('multifilesrc location="%s/frame-%%05d.png" stop-index=%d '
              'caps="image/png,framerate=%d/1" ! pngdec' % (small_dir, n - 1, round(fps)))
    sinks = ('tee name=t t. ! queue ! videoconvert ! vp8enc deadline=1 threads=2 '
             'target-bitrate=2000000 ! webmmux ! filesink location="%s" '
             't. ! queue ! videoconvert ! pngenc ! multifilesink location="%s/frame-%%05d.png"'
             % (webm, out_dir))
    import time
    t0 = time.monotonic()
    dc.gst_launch(args, model_pipeline(args, source, sinks))
    secs = time.monotonic() - t0
    outs = sorted(glob.glob(os.path.join(out_dir, "*.png")))
    if len(outs) != n:
        sys.exit("the clip gave %d frames, not %d" % (len(outs), n))
    pm, pb, pl = [], [], []
    for i, orig in enumerate(originals):
        small = cv2.imread(os.path.join(small_dir, "frame-%05d.png" % i))
        size = (orig.shape[1], orig.shape[0])
        pm.append(mse(cv2.imread(outs[i]), orig))
        pb.append(mse(cv2.resize(small, size, interpolation=cv2.INTER_CUBIC), orig))
        pl.append(mse(cv2.resize(small, size, interpolation=cv2.INTER_LINEAR), orig))
    return {"frames": n, "size": "%dx%d -> %dx%d" % (cw // 2, ch // 2, cw, ch),
            "frames_per_s": n / secs, "model": psnr_of_mse(np.mean(pm)),
            "bicubic": psnr_of_mse(np.mean(pb)), "bilinear": psnr_of_mse(np.mean(pl)),
            "video": os.path.relpath(webm, dc.ROOT)}


def report(name, r):
    d = r["model"] - r["bicubic"]
    print("%s: PSNR vs original: model %.2f dB, bicubic %.2f dB, bilinear %.2f dB" % (
        name, r["model"], r["bicubic"], r["bilinear"]))
    print("  the model %s bicubic by %.2f dB (and %s bilinear by %.2f dB)" % (
        "beats" if d > 0 else "LOSES to", abs(d),
        "beats" if r["model"] > r["bilinear"] else "loses to", abs(r["model"] - r["bilinear"])))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dc.add_common_args(p)
    p.add_argument("--no-video", action="store_true", help="only the astronaut image")
    p.add_argument("--video-frames", type=int, default=24,
                   help="frames of Megamind.avi to restore (default 24)")
    p.add_argument("--video-start", type=int, default=60,
                   help="first frame of Megamind.avi to use (default 60; it opens black)")
    p.add_argument("--crop", default="384x288",
                   help="centre crop of the clip before downscaling (default 384x288; "
                        "ESRGAN x2 costs ~445 KFLOP per input pixel)")
    p.add_argument("--expect", choices=["none", "bilinear", "bicubic"], default="none",
                   help="exit 1 unless the model beats this baseline on the image")
    args = p.parse_args()
    args.crop = tuple(int(v) // 2 * 2 for v in args.crop.split("x"))

    dc.require([dc.ESRGAN_X2[0], dc.ASTRONAUT])
    dc.ensure_build(args)
    os.makedirs(args.out, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["astronaut"] = run_image(args, tmp)
        report("astronaut 256x256 -> 512x512", results["astronaut"])
        print("  %s" % results["astronaut"]["image"])
        if not args.no_video:
            results["megamind"] = run_video(args, tmp)
            r = results["megamind"]
            report("Megamind.avi, %d frames %s (PSNR of the mean error)" % (r["frames"], r["size"]), r)
            print("  %.2f frames/s; %s" % (r["frames_per_s"], r["video"]))
    with open(os.path.join(args.out, "enhance-summary.json"), "w") as f:
        json.dump(results, f, indent=2)
    r = results["astronaut"]
    if args.expect != "none" and not r["model"] > r[args.expect]:
        print("FAIL: the model does not beat %s" % args.expect)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
