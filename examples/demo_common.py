# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the demos in examples/: find (or build) the build tree,
run GStreamer with the build's plugin, fetch OpenCV's sample video."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
CONFIGS = os.path.join(MODELS, "configs")
BLAZEFACE = {
    "front": (os.path.join(MODELS, "blazeface", "face_detection_front_128x128_barracuda.onnx"),
              os.path.join(CONFIGS, "blazeface-128.json")),
    "back": (os.path.join(MODELS, "blazeface", "face_detection_back_256x256_barracuda.onnx"),
             os.path.join(CONFIGS, "blazeface-256.json")),
}
ESRGAN_X2 = (os.path.join(MODELS, "esrgan-slim", "esrgan-slim-x2.onnx"),
             os.path.join(CONFIGS, "esrgan-slim-x2.json"))
ESRGAN_PSNR_SMALL_X2 = (os.path.join(MODELS, "esrgan-legacy", "esrgan-legacy-psnr-small-x2.onnx"),
                        os.path.join(CONFIGS, "esrgan-legacy-psnr-small-x2.json"))
ASTRONAUT = os.path.join(MODELS, "images", "astronaut.png")


def add_common_args(parser):
    parser.add_argument("--build", default=os.path.join(ROOT, "build"),
                        help="Meson build directory (default: build/)")
    parser.add_argument("--no-build", action="store_true",
                        help="do not run meson/ninja, use the build as it is")
    parser.add_argument("--out", default=os.path.join(ROOT, "demo-out"),
                        help="output directory (default: demo-out/)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "auto", "gpu"],
                        help="macefilter device (default: cpu)")


def ensure_build(args):
    """Configures and builds args.build unless --no-build."""
    if not args.no_build:
        if not os.path.exists(os.path.join(args.build, "build.ninja")):
            subprocess.run(["meson", "setup", args.build, ROOT], check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run(["ninja", "-C", args.build], check=True,
                       stdout=subprocess.DEVNULL)
    plugin = glob.glob(os.path.join(args.build, "gst", "libgstmace*.so"))
    if not plugin:
        sys.exit("no GStreamer plugin in %s/gst (was it built with GStreamer?)" % args.build)


def require(paths, hint="run models/fetch first"):
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        sys.stderr.write("missing: %s (%s)\n" % (", ".join(missing), hint))
        sys.exit(77)


def gst_env(args):
    """Environment in which GStreamer finds the build's plugin."""
    env = dict(os.environ)
    path = os.path.join(os.path.abspath(args.build), "gst")
    old = env.get("GST_PLUGIN_PATH_1_0", env.get("GST_PLUGIN_PATH", ""))
    env["GST_PLUGIN_PATH_1_0"] = path + (":" + old if old else "")
    env.setdefault("GST_REGISTRY_1_0",
                   os.path.join(os.path.abspath(args.build), "demo-registry.bin"))
    return env


def gst_launch(args, pipeline, quiet=True):
    """Runs gst-launch-1.0 on a pipeline string; exits with its error."""
    cmd = ["gst-launch-1.0"] + (["-q"] if quiet else []) + ["-e"]
    r = subprocess.run(" ".join(cmd) + " " + pipeline, shell=True,
                       env=gst_env(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout)
        sys.exit("pipeline failed: gst-launch-1.0 %s" % pipeline)
    return r.stdout


def detect_json(args, pipeline, jsonl):
    """Runs examples/mace-detect-json on a pipeline (its macefilter named
    'mace'); returns (rows, summary) with summary from its last stderr line:
    frames, seconds, fps, inference_ms."""
    exe = os.path.join(args.build, "examples", "mace-detect-json")
    r = subprocess.run([exe, "--pipeline", pipeline, "--output", jsonl],
                       env=gst_env(args), stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit("pipeline failed: %s" % pipeline)
    rows = [json.loads(line) for line in open(jsonl) if line.strip()]
    m = re.search(r"(\d+) frames in ([\d.]+) s \(([\d.]+) frames/s\).*inference ([\d.]+) ms",
                  r.stderr)
    summary = {"frames": len(rows)}
    if m:
        summary.update(seconds=float(m.group(2)), fps=float(m.group(3)),
                       inference_ms=float(m.group(4)))
    return rows, summary


def opencv_sample(name, cache_dir):
    """One file of Debian's opencv-doc examples/data (Megamind.avi, ...),
    taken from the .deb with apt-get download + dpkg-deb, not installed.
    Uses /usr/share/doc/opencv-doc if the package is installed."""
    installed = os.path.join("/usr/share/doc/opencv-doc/examples/data", name)
    if os.path.exists(installed):
        return installed
    dst = os.path.join(cache_dir, name)
    if os.path.exists(dst):
        return dst
    os.makedirs(cache_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print("fetching %s from Debian's opencv-doc (apt-get download, ~95 MB)" % name)
        subprocess.run(["apt-get", "download", "-q", "opencv-doc"], cwd=tmp,
                       check=True, stdout=subprocess.DEVNULL)
        deb = glob.glob(os.path.join(tmp, "opencv-doc_*.deb"))[0]
        member = "./usr/share/doc/opencv-doc/examples/data/" + name
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", tmp, member], stdin=tar.stdout, check=True)
        tar.wait()
        shutil.move(os.path.join(tmp, member), dst)
    return dst
