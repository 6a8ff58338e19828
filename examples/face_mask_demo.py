#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Face-mask overlay demo: BlazeFace (macefilter) + maceoverlay's AR mask on

  astronaut  a clip made from skimage's astronaut.png, panned and zoomed with
             GStreamer's own elements (pngdec ! videocrop ! videoscale ! pngenc,
             one crop per frame), and
  megamind   OpenCV's sample Megamind.avi (Debian opencv-doc; its Xvid is
             re-wrapped as MJPEG with OpenCV because Debian's GStreamer
             without -libav has no MPEG-4 decoder).

For each clip it writes to demo-out/:
  face-mask-<clip>.webm        the video with masks (vp8enc + webmmux)
  face-mask-<clip>-sheet.png   a contact sheet of frames with masks drawn
  face-mask-<clip>.jsonl       detections per frame (examples/mace-detect-json)
and face-mask-summary.json; prints the faces found per frame and frames/s.

  examples/face_mask_demo.py                 both clips
  examples/face_mask_demo.py --clips astronaut --frames 12
  examples/face_mask_demo.py --live          camera (v4l2src) to a window
"""
import argparse
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import demo_common as dc


def smooth(u):
    return u * u * (3 - 2 * u)


def astronaut_crops(n, size=512):
    """(left, top, width, height) per frame: zoom from the whole picture in
    on the face, then pan right and down while widening a little.  4:3."""
    crops = []
    for i in range(n):
        t = i / max(1, n - 1)
        if t < 0.5:
            u = smooth(t / 0.5)
            w, cx, cy = 512 + (256 - 512) * u, 256 + (226 - 256) * u, 192 + (128 - 192) * u
        else:
            u = smooth((t - 0.5) / 0.5)
            w, cx, cy = 256 + (320 - 256) * u, 226 + (290 - 226) * u, 128 + (165 - 128) * u
        h = w * 3 / 4
        left = int(round(min(max(cx - w / 2, 0), size - w)))
        top = int(round(min(max(cy - h / 2, 0), size - h)))
        crops.append((left, top, int(round(w)), int(round(h))))
    return crops


def make_astronaut_clip(args, n, frames_dir):
    """Renders the pan/zoom clip as PNG frames, one GStreamer crop each."""
    os.makedirs(frames_dir, exist_ok=True)
    for i, (left, top, w, h) in enumerate(astronaut_crops(n)):
        right, bottom = 512 - left - w, 512 - top - h
        dc.gst_launch(args,
            'filesrc location="%s" ! pngdec ! videoconvert ! '
            "videocrop left=%d top=%d right=%d bottom=%d ! videoscale ! "
            "video/x-raw,width=640,height=480 ! pngenc ! "
            'filesink location="%s/frame-%05d.png"'
            % (dc.ASTRONAUT, left, top, right, bottom, frames_dir, i))
    return ('multifilesrc location="%s/frame-%%05d.png" stop-index=%d '
            'caps="image/png,framerate=24/1" ! pngdec' % (frames_dir, n - 1))


def make_megamind_source(args, n, tmp):
    """Megamind.avi is Xvid; re-wraps it as MJPEG (OpenCV) for avidemux ! jpegdec."""
    import cv2
    src = dc.opencv_sample("Megamind.avi", os.path.join(args.out, "downloads"))
    cap = cv2.VideoCapture(src)
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    dst = os.path.join(tmp, "megamind-mjpeg.avi")
    out = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    out.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    count = 0
    while n <= 0 or count < n:
        ok, frame = cap.read()
        if not ok:
            break
        out.write(frame)
        count += 1
    out.release()
    return 'filesrc location="%s" ! avidemux ! jpegdec' % dst


def contact_sheet(frames_dir, rows, path, cols=4, count=12, width=320):
    """Tiles `count` evenly spaced frames, each captioned with its faces."""
    import cv2
    import numpy as np
    files = sorted(glob.glob(os.path.join(frames_dir, "*.jpg")))
    if not files:
        return
    picks = sorted(set(int(round(k * (len(files) - 1) / max(1, count - 1)))
                       for k in range(min(count, len(files)))))
    tiles = []
    for i in picks:
        img = cv2.imread(files[i])
        h = int(round(img.shape[0] * width / img.shape[1]))
        img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
        dets = rows[i]["detections"] if i < len(rows) else []
        best = max((d.get("confidence", 0) for d in dets), default=0)
        text = "frame %d: %d face%s" % (i, len(dets), "" if len(dets) == 1 else "s")
        if dets:
            text += " (%.2f)" % best
        cv2.rectangle(img, (0, 0), (width, 22), (0, 0, 0), -1)
        cv2.putText(img, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    th = max(t.shape[0] for t in tiles)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    grid = [np.hstack([cv2.copyMakeBorder(t, 0, th - t.shape[0], 0, 0, cv2.BORDER_CONSTANT)
                       for t in tiles[r:r + cols]]) for r in range(0, len(tiles), cols)]
    cv2.imwrite(path, np.vstack(grid))


def print_per_frame(name, rows, per_line=24):
    print("faces per frame (%s, %d per line):" % (name, per_line))
    for start in range(0, len(rows), per_line):
        counts = " ".join(str(len(r["detections"])) for r in rows[start:start + per_line])
        print("  %4d: %s" % (start, counts))


def run_clip(args, name, source, tmp):
    model, config = dc.BLAZEFACE[args.model]
    webm = os.path.join(args.out, "face-mask-%s.webm" % name)
    jsonl = os.path.join(args.out, "face-mask-%s.jsonl" % name)
    sheet = os.path.join(args.out, "face-mask-%s-sheet.png" % name)
    frames_dir = os.path.join(tmp, name + "-out")
    os.makedirs(frames_dir, exist_ok=True)
    pipeline = (
        '%s ! videoconvert ! macefilter name=mace model="%s" config="%s" device=%s '
        "! maceoverlay ! tee name=t "
        't. ! queue ! videoconvert ! vp8enc deadline=1 cpu-used=4 threads=2 '
        'target-bitrate=2000000 ! webmmux ! filesink location="%s" '
        't. ! queue ! videoconvert ! jpegenc quality=92 ! '
        'multifilesink location="%s/frame-%%05d.jpg"'
        % (source, model, config, args.device, webm, frames_dir))
    rows, summary = dc.detect_json(args, pipeline, jsonl)
    contact_sheet(frames_dir, rows, sheet)
    best = [max((d.get("confidence", 0) for d in r["detections"]), default=0) for r in rows]
    summary.update(
        clip=name, model=os.path.relpath(model, dc.ROOT),
        frames_with_faces=sum(1 for r in rows if r["detections"]),
        faces=sum(len(r["detections"]) for r in rows),
        frames_with_face_above_0_8=sum(1 for b in best if b > 0.8),
        max_confidence=round(max(best, default=0), 4),
        video=os.path.relpath(webm, dc.ROOT), sheet=os.path.relpath(sheet, dc.ROOT),
        detections=os.path.relpath(jsonl, dc.ROOT))
    print_per_frame(name, rows)
    print("%s: %d frames, faces in %d (%d above 0.8, best %.2f); %.1f frames/s "
          "for the whole pipeline (decode, detect, overlay, encode), "
          "model %.1f ms/frame" % (
              name, summary["frames"], summary["frames_with_faces"],
              summary["frames_with_face_above_0_8"], summary["max_confidence"],
              summary.get("fps", 0), summary.get("inference_ms", 0)))
    print("  %s\n  %s" % (summary["video"], summary["sheet"]))
    return summary


def live(args):
    model, config = dc.BLAZEFACE[args.model]
    pipeline = ('v4l2src ! videoconvert ! macefilter model="%s" config="%s" device=%s '
                "! maceoverlay ! videoconvert ! autovideosink" % (model, config, args.device))
    print("gst-launch-1.0 " + pipeline)
    return subprocess.call("gst-launch-1.0 " + pipeline, shell=True, env=dc.gst_env(args))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dc.add_common_args(p)
    p.add_argument("--clips", default="astronaut,megamind",
                   help="comma separated: astronaut, megamind (default: both)")
    p.add_argument("--frames", type=int, default=48,
                   help="frames of the astronaut clip (default 48)")
    p.add_argument("--megamind-frames", type=int, default=0,
                   help="first N frames of Megamind.avi (default: all 270)")
    p.add_argument("--model", default="front", choices=["front", "back"],
                   help="BlazeFace front 128x128 (default) or back 256x256")
    p.add_argument("--live", action="store_true",
                   help="run on a camera (v4l2src) into a window instead")
    args = p.parse_args()

    dc.require([dc.BLAZEFACE[args.model][0], dc.ASTRONAUT])
    dc.ensure_build(args)
    if args.live:
        return live(args)
    os.makedirs(args.out, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in [c.strip() for c in args.clips.split(",") if c.strip()]:
            if clip == "astronaut":
                source = make_astronaut_clip(args, args.frames, os.path.join(tmp, "astronaut"))
            elif clip == "megamind":
                source = make_megamind_source(args, args.megamind_frames, tmp)
            else:
                sys.exit("unknown clip '%s' (astronaut, megamind)" % clip)
            results[clip] = run_clip(args, clip, source, tmp)
    summary = os.path.join(args.out, "face-mask-summary.json")
    with open(summary, "w") as f:
        json.dump(results, f, indent=2)
    print("summary: %s" % os.path.relpath(summary, dc.ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
