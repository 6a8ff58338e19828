#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Video enhancement demo: x2 super-resolution (macefilter) against bicubic.

Takes an original (skimage's astronaut.png, and 24 frames of OpenCV's
Megamind.avi, centre 384x288), downscales it by 2 the way super-resolution
models are trained and benchmarked (MATLAB's imresize: bicubic with
antialiasing, as DIV2K's low-resolution images are made; --degrade area
uses a 2x2 average instead), restores it with a model through GStreamer
(macefilter) and with bicubic (cv2.INTER_CUBIC) and bilinear scaling, and
prints the PSNR of each against the original (RGB, a 4-pixel border left
out).  Models (all ONNX converted from UpscalerJS packages by
tools/esrgan_to_onnx.py):

  psnr-small   idealo ISR RDN trained for PSNR (@upscalerjs/esrgan-legacy),
               2.6 M parameters: the demo's enhancement model
  esrgan-slim  ESRGAN-slim x2 (@upscalerjs/esrgan-slim), 0.22 M parameters,
               12x cheaper; shown beside it for comparison (it does not
               beat bicubic: its output is close to bicubic)

Writes to demo-out/:

  enhance-astronaut.png    side by side: input (pixels shown 2x), bicubic,
                           each model, original; the face 4x below each
  enhance-megamind.webm    the clip restored by the model (vp8enc + webmmux)
  enhance-summary.json     the PSNRs

  examples/enhance_demo.py               image and clip
  examples/enhance_demo.py --no-video    image only (a few seconds)
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
MODELS = {
    "psnr-small": dc.ESRGAN_PSNR_SMALL_X2,
    "esrgan-slim": dc.ESRGAN_X2,
}
TITLES = {"psnr-small": "RDN psnr-small x2", "esrgan-slim": "ESRGAN-slim x2"}


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


def _cubic(x):
    import numpy as np
    x = np.abs(x)
    return np.where(x <= 1, 1.5 * x ** 3 - 2.5 * x ** 2 + 1,
                    np.where(x < 2, -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2, 0.0))


def _imresize_axis(a, axis, out_len):
    """MATLAB imresize along one axis (bicubic, antialiased when
    shrinking: the kernel is stretched by 1/scale), symmetric padding."""
    import numpy as np
    n = a.shape[axis]
    scale = out_len / n
    kscale = min(scale, 1.0)
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    width = 4.0 / kscale
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    w = kscale * _cubic(kscale * (u[:, None] - idx))
    w /= w.sum(axis=1, keepdims=True)
    idx = idx.astype(np.int64) - 1                      # 0-based
    idx = np.where(idx < 0, -idx - 1, idx)              # symmetric
    idx = np.where(idx >= n, 2 * n - idx - 1, idx)
    a = np.moveaxis(a, axis, 0)
    r = np.einsum("ot,ot...->o...", w, a[idx])
    return np.moveaxis(r, 0, axis)


def downscale(img, how="bicubic-aa"):
    import cv2
    import numpy as np
    h, w = img.shape[:2]
    if how == "area":
        return cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    f = _imresize_axis(img.astype(np.float64), 0, h // 2)
    f = _imresize_axis(f, 1, w // 2)
    return np.clip(np.round(f), 0, 255).astype(np.uint8)


def model_pipeline(args, model, source, sinks):
    onnx, config = MODELS[model]
    return ('%s ! videoconvert ! video/x-raw,format=RGB ! macefilter model="%s" '
            'config="%s" device=%s ! %s' % (source, onnx, config, args.device, sinks))


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
    small = downscale(original, args.degrade)
    small_png = os.path.join(tmp, "small.png")
    cv2.imwrite(small_png, small)
    bicubic = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    bilinear = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    nearest = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    res = {"degrade": args.degrade, "bicubic": psnr(bicubic, original),
           "bilinear": psnr(bilinear, original), "models": {}}
    panels = [(nearest, "input %dx%d (shown 2x)" % (w // 2, h // 2)),
              (bicubic, "bicubic %.2f dB" % res["bicubic"])]
    for name in args.models:
        model_png = os.path.join(tmp, "model-%s.png" % name)
        dc.gst_launch(args, model_pipeline(
            args, name, 'filesrc location="%s" ! pngdec' % small_png,
            'videoconvert ! pngenc ! filesink location="%s"' % model_png))
        restored = cv2.imread(model_png)
        if restored is None or restored.shape != original.shape:
            sys.exit("model output %s is not %dx%d" % (model_png, w, h))
        res["models"][name] = psnr(restored, original)
        panels.append((restored, "%s %.2f dB" % (TITLES[name], res["models"][name])))
    res["model"] = res["models"][args.model]
    panels.append((original, "original %dx%d" % (w, h)))
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
                    downscale(frame, args.degrade))
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
    dc.gst_launch(args, model_pipeline(args, args.model, source, sinks))
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
            "model_name": args.model, "degrade": args.degrade,
            "frames_per_s": n / secs, "model": psnr_of_mse(np.mean(pm)),
            "bicubic": psnr_of_mse(np.mean(pb)), "bilinear": psnr_of_mse(np.mean(pl)),
            "video": os.path.relpath(webm, dc.ROOT)}


def report(name, r, model):
    print("%s: PSNR vs original: %s %.2f dB, bicubic %.2f dB, bilinear %.2f dB" % (
        name, TITLES[model], r["model"], r["bicubic"], r["bilinear"]))
    d = r["model"] - r["bicubic"]
    print("  %s %s bicubic by %.2f dB (and %s bilinear by %.2f dB)" % (
        TITLES[model], "beats" if d > 0 else "LOSES to", abs(d),
        "beats" if r["model"] > r["bilinear"] else "loses to", abs(r["model"] - r["bilinear"])))
    for other, v in r.get("models", {}).items():
        if other != model:
            d = v - r["bicubic"]
            print("  %s: %.2f dB, %s bicubic by %.2f dB" % (
                TITLES[other], v, "beats" if d > 0 else "loses to", abs(d)))


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
    p.add_argument("--model", choices=sorted(MODELS), default="psnr-small",
                   help="the enhancement model (default psnr-small)")
    p.add_argument("--no-compare", action="store_true",
                   help="only the enhancement model on the image (by default the "
                        "other model runs on it too, for comparison)")
    p.add_argument("--degrade", choices=["bicubic-aa", "area"], default="bicubic-aa",
                   help="how the original is downscaled: MATLAB-style antialiased "
                        "bicubic (default; how the models were trained) or a 2x2 average")
    p.add_argument("--expect", choices=["none", "bilinear", "bicubic"], default="none",
                   help="exit 1 unless the model beats this baseline on the image "
                        "(and on the clip, when it runs)")
    args = p.parse_args()
    args.models = [args.model] + ([] if args.no_compare else
                                  [m for m in sorted(MODELS) if m != args.model])
    args.crop = tuple(int(v) // 2 * 2 for v in args.crop.split("x"))

    dc.require([MODELS[m][0] for m in args.models] + [dc.ASTRONAUT])
    dc.ensure_build(args)
    os.makedirs(args.out, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["astronaut"] = run_image(args, tmp)
        report("astronaut 256x256 -> 512x512 (%s downscale)" % args.degrade,
               results["astronaut"], args.model)
        print("  %s" % results["astronaut"]["image"])
        if not args.no_video:
            results["megamind"] = run_video(args, tmp)
            r = results["megamind"]
            report("Megamind.avi, %d frames %s (PSNR of the mean error)" % (
                r["frames"], r["size"]), r, args.model)
            print("  %.2f frames/s; %s" % (r["frames_per_s"], r["video"]))
    with open(os.path.join(args.out, "enhance-summary.json"), "w") as f:
        json.dump(results, f, indent=2)
    for name, r in results.items():
        if args.expect != "none" and not r["model"] > r[args.expect]:
            print("FAIL: %s does not beat %s on %s" % (TITLES[args.model], args.expect, name))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
