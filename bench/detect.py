"""Detection benchmark: FakeME's engine against the naive whole-frame pipeline, on this machine.

Measures, in one run:
  1. end-to-end latency (JPEG bytes in -> ImageResult) of 1080p photos with one and five faces;
  2. classifier throughput at batch 16 on face crops of the model's input size;
  3. a 60 s 1920x1080 30 fps video analysed at 2 fps;
  4. peak RSS of the scanning process;
  5. the naive pipeline of simple deepfake web apps on the same inputs (decode every frame, write
     it to disk as JPEG and read it back, whole-frame ResNet-50 at 224, batch 1), and the ratios.

FakeME and the naive pipeline each run in a fresh child process, so each peak RSS belongs to that
pipeline alone (not to this script's input building). Inputs are built deterministically from
``../shared/data/faces-real/ffhq-512`` (or scikit-image's astronaut) and cached in ``.cache/bench``.

    python -m bench.detect                 # full run, updates docs/benchmarks.md (`make bench`)
    python -m bench.detect --quick --no-write

Its parts: ``detect_inputs`` (the synthetic photos and video), ``detect_engine`` (FakeME's run),
``detect_naive`` (the baseline's), ``detect_process`` (fresh processes, threads, memory) and
``detect_report`` (the section of ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bench.common import DEFAULT_OUT, ROOT, Section, StealMeter, command_line, machine_info
from bench.detect_engine import run_fakeme
from bench.detect_inputs import (
    DEFAULT_CACHE,
    DEFAULT_FACES,
    DEFAULT_WEIGHTS,
    build_crops,
    build_photos,
    encode_jpeg,
    ensure_video,
    load_sources,
    random_weights,
    weights_desc,
)
from bench.detect_naive import run_naive
from bench.detect_process import in_child
from bench.detect_report import TARGET_VIDEO_LEN_S, build_report, gib

SECTION = Section("detect")


@contextmanager
def step(label: str) -> Iterator[None]:
    print(f"- {label} ...", flush=True)
    start = time.perf_counter()
    yield
    print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.detect",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--runs", type=int, default=None, help="timed runs per latency/throughput measurement (default 30)"
    )
    p.add_argument("--warmup", type=int, default=None, help="untimed warm-up runs (default 3)")
    p.add_argument(
        "--video-runs", type=int, default=1, help="timed analyze_video runs; the median is reported"
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke test: 3 runs, 10 s video, naive capped at 2 s; no write"
    )
    p.add_argument(
        "--threads", type=int, default=None, help="torch/OpenCV threads (default: torch's default)"
    )
    p.add_argument("--fps", type=float, default=2.0, help="FakeME video sampling rate (default 2)")
    p.add_argument(
        "--weights", type=Path, action="append", help=f"weights file(s) (default {DEFAULT_WEIGHTS.name})"
    )
    p.add_argument(
        "--faces-dir", type=Path, default=DEFAULT_FACES, help="folder of real face photos to build inputs"
    )
    p.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where the built photos and videos are cached"
    )
    p.add_argument(
        "--naive-max-seconds",
        type=float,
        default=None,
        help="cap the naive video run to the first N seconds and extrapolate (labelled); default: full video",
    )
    p.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="markdown file to update (default docs/benchmarks.md)"
    )
    p.add_argument("--no-write", action="store_true", help="print only; do not update --out")
    args = p.parse_args(argv)
    if (args.runs is not None and args.runs < 1) or args.video_runs < 1 or (args.warmup or 0) < 0:
        p.error("--runs and --video-runs must be at least 1, --warmup at least 0")
    if args.quick:
        args.runs = args.runs or 3
        args.warmup = 1 if args.warmup is None else args.warmup
        if args.naive_max_seconds is None:
            args.naive_max_seconds = 2.0
    args.runs = args.runs or 30
    args.warmup = 3 if args.warmup is None else args.warmup
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    notes: list[str] = []
    steal = StealMeter()
    machine = machine_info("torch", "opencv", "onnxruntime", "pyav")
    load1 = machine["loadavg"][0]
    print(
        f"FakeME detection benchmark — {machine['cpu']}, {machine['usable_cores']} usable cores, "
        f"{machine['ram_gib']:.1f} GiB, torch {machine['torch']}",
        flush=True,
    )
    if load1 > 0.3 * machine["usable_cores"]:
        warn = (
            f"machine busy before the run (1-min load {load1:.2f} on {machine['usable_cores']} cores): "
            "timings unreliable"
        )
        print(f"WARNING: {warn}", flush=True)
        notes.append(f"WARNING: {warn}.")
    if args.quick:
        notes.append("Quick smoke run (--quick): few runs, 10 s video; not a measurement.")

    with tempfile.TemporaryDirectory(prefix="fakeme-bench-") as tmp_name:
        tmp = Path(tmp_name)
        random_init = False
        weights = [w.resolve() for w in args.weights] if args.weights else []
        if not weights:
            if DEFAULT_WEIGHTS.is_file():
                weights = [DEFAULT_WEIGHTS]
            else:
                with step(f"{DEFAULT_WEIGHTS.relative_to(ROOT)} absent: creating random-init weights"):
                    weights = [random_weights(tmp)]
                random_init = True
                print("  NOTE: random-init weights (verdicts meaningless; timing is the same)", flush=True)
        desc, input_size, margin = weights_desc(weights, random_init)

        with step("building inputs"):
            sources, background, src_desc, fallback = load_sources(args.faces_dir, 5)
            if fallback:
                print(f"  NOTE: inputs built from {src_desc}", flush=True)
                notes.append(f"Inputs built from {src_desc}.")
            args.cache.mkdir(parents=True, exist_ok=True)
            photos = {}
            for key, rgb in build_photos(sources, background).items():
                path = args.cache / f"photo-{key.replace('_', '-')}.jpg"
                path.write_bytes(encode_jpeg(rgb))
                photos[key] = str(path)
            crops_path = tmp / "crops.npy"
            np.save(crops_path, build_crops(sources, input_size, margin))
            tag = "astronaut" if fallback else "ffhq"
            video = ensure_video(
                args.cache, 10 if args.quick else TARGET_VIDEO_LEN_S, sources[0], background, tag
            )
            print(f"  photos: {', '.join(photos.values())}", flush=True)
            print(
                f"  video: {video['path']} ({'cached' if video['cached'] else 'new'}; "
                f"{video['frames']} frames, "
                f"{video['codec']})",
                flush=True,
            )
            if not video["codec"].startswith("H.264"):
                notes.append(
                    "Test video is MPEG-4 Part 2 (mp4v), not H.264: imageio-ffmpeg was not installed."
                )

        cfg = {
            "threads": args.threads,
            "weights": [str(w) for w in weights],
            "fps": args.fps,
            "photos": photos,
            "crops": str(crops_path),
            "video": video,
            "runs": args.runs,
            "warmup": args.warmup,
            "video_runs": args.video_runs,
            "naive_max_seconds": args.naive_max_seconds,
        }
        with step("FakeME engine (fresh process)"):
            ours = in_child(run_fakeme, cfg)
        print(
            f"  1 face p50 {ours['one_face']['p50']:.0f} ms · "
            f"5 faces p50 {ours['five_faces']['p50']:.0f} ms · "
            f"batch16 {ours['batch16']['ips']:.1f} img/s · video {ours['video']['wall_s']:.2f} s · "
            f"peak RSS {gib(ours['ru_maxrss'])}",
            flush=True,
        )
        naive = None
        if not args.no_naive:
            with step("naive baseline: every frame to disk + whole-frame ResNet-50 (fresh process)"):
                naive = in_child(run_naive, cfg)
            if naive["video"]["extrapolated"]:
                notes.append(
                    "Naive video time extrapolated linearly from its first "
                    f"{naive['video']['frames_processed']} "
                    f"frames (--naive-max-seconds {args.naive_max_seconds:g})."
                )

    steal_note = steal.note()
    if steal_note is not None:
        if steal_note.startswith("WARNING"):
            print(steal_note, flush=True)
        notes.append(steal_note)
    ctx = {
        "command": command_line("detect", sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "weights": desc,
        "sources": src_desc,
        "video": video,
        "fps": args.fps,
        "runs": args.runs,
        "warmup": args.warmup,
        "input_size": input_size,
        "notes": notes,
    }
    body, status = build_report(ctx, ours, naive)
    print()
    print(body)
    print("\n".join(status))
    if args.no_write or args.quick:
        print(f"\n({args.out} not updated: {'--no-write' if args.no_write else '--quick runs never write'})")
    else:
        print()
        SECTION.write(args.out, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
