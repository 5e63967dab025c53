"""Watermark benchmark: robustness, invisibility and speed of ``watermark/``, on this machine.

Measures, in one run:
  1. for each attack (``watermark.attacks``), over N photos of at least 512 px (the shared FFHQ
     faces and scikit-image's astronaut): raw bit accuracy (before error correction) and the
     detection rate (payload recovered), for our method and for invisible-watermark's
     ``dwtDctSvd`` carrying the same 40 payload bits (no error correction of its own, so
     "detected" there means all 40 bits right);
  2. PSNR and SSIM against the original, for both;
  3. the same attacks on photos upscaled to 1920 × 1080 (ours only), and embed and recover
     latency at that size (median of ``--runs``), for both;
  4. false detections on the clean photos (and on the marked ones with a wrong key).

invisible-watermark is a benchmark-only dependency, not in any requirements file (its metadata
pulls opencv-python and an unpinned torch). Install it with
    pip install --no-deps invisible-watermark==0.2.0 PyWavelets==1.9.0
or the comparison columns are left out (the run says so).

    python -m bench.watermark                  # full run, updates docs/benchmarks.md
    python -m bench.watermark --quick --no-write

Its parts: ``watermark_baseline`` (invisible-watermark's dwtDctSvd), ``watermark_measure`` (robustness,
invisibility, latency) and ``watermark_report`` (the section of ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.common import DEFAULT_OUT, ROOT, Section, command_line, machine_info
from bench.watermark_baseline import DwtDctSvd, load_baseline
from bench.watermark_measure import robustness, robustness_hd, timings
from bench.watermark_report import report
from watermark import attacks

DEFAULT_FACES = ROOT.parent / "shared" / "data" / "faces-real" / "ffhq-512"
SECTION = Section("watermark")


def photos(faces: Path, count: int) -> list[tuple[str, np.ndarray]]:
    """``count`` photos of ≥ 512 px: scikit-image's astronaut, then FFHQ faces spread over the folder."""
    from skimage import data

    out = [("astronaut", np.ascontiguousarray(data.astronaut()))]
    files = sorted(faces.glob("*.jpg")) if faces.is_dir() else []
    if not files:
        print(f"! no FFHQ faces at {faces}: only the astronaut is used", flush=True)
    step = max(1, len(files) // max(1, count - 1))
    for path in files[::step][: count - 1]:
        with Image.open(path) as im:
            out.append((path.name, np.asarray(im.convert("RGB"))))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.watermark",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--images", type=int, default=None, help="photos in the robustness table (default 100)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per latency (default 20)")
    p.add_argument("--hd-images", type=int, default=None, help="photos in the 1080p table (default 10)")
    p.add_argument("--quick", action="store_true", help="smoke test: 8 photos, 3 timed runs; no write")
    p.add_argument("--no-write", action="store_true", help="print the section instead of updating --out")
    p.add_argument("--no-baseline", action="store_true", help="leave out invisible-watermark")
    p.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's choice)")
    p.add_argument("--faces", type=Path, default=DEFAULT_FACES, help="folder of 512 px photos")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    args = p.parse_args(argv)
    args.images = args.images or (8 if args.quick else 100)
    args.runs = args.runs or (3 if args.quick else 20)
    args.hd_images = args.hd_images if args.hd_images is not None else (2 if args.quick else 10)
    args.no_write = args.no_write or args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        cv2.setNumThreads(args.threads)
    notes: list[str] = []
    baseline, why = (None, "left out (--no-baseline)") if args.no_baseline else load_baseline()
    if why:
        print(f"! {why}", flush=True)
        notes.append(why)
    load_start = os.getloadavg()
    if load_start[0] > 0.5 * (os.cpu_count() or 1):
        notes.append(f"the machine was busy at start (load {load_start[0]:.2f}): timings may be inflated")
    images = photos(args.faces, args.images)
    print(f"- robustness over {len(images)} photos, {len(attacks.ATTACKS)} attacks ...", flush=True)
    start = time.perf_counter()
    ours, theirs, quality, false_hits = robustness(images, baseline)
    print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"- robustness at 1080p over {args.hd_images} photos ...", flush=True)
    hd = robustness_hd(images[1 : 1 + args.hd_images] or images[: args.hd_images])
    print(f"- latency at 1080p, {args.runs} runs ...", flush=True)
    times = timings(images[min(1, len(images) - 1)][1], args.runs, baseline)
    if baseline is not None and baseline.refused:
        notes.append(
            f"dwtDctSvd refused to decode {baseline.refused} attacked images smaller than 256 px "
            "(the combined attacks leave 229 px): counted as bit accuracy 0.5, not detected."
        )
    machine = {**machine_info("numpy", "opencv"), "opencv_threads": cv2.getNumThreads()}
    ctx = {
        "command": command_line("watermark", argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "images": len(images),
        "runs": args.runs,
        "baseline": f"{DwtDctSvd.name} 0.2.0, 40 bits" if baseline else "not measured",
        "notes": notes,
    }
    body, status = report(ctx, ours, theirs, quality, times, false_hits, hd)
    print()
    print(body)
    print("\n".join(status))
    if not args.no_write:
        print()
        SECTION.write(args.out, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
