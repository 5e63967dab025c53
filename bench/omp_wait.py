"""Photo scans on shared cores: torch's default OpenMP wait policy against the passive one that
FakeME sets (``detection/__init__.py``).

A scanning process seldom has the machine to itself (a web worker beside a Celery worker, FFmpeg's
decoding threads). This times the 1080p one-face photo of ``bench/detect.py`` (JPEG bytes in,
verdict out, the whole engine) in fresh processes, on an idle machine and with one core kept busy by
another process, under each policy, and writes the ratios to ``docs/benchmarks.md``.

    python -m bench.omp_wait [--runs 20] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_OUT, Section, StealMeter, command_line, machine_info, pct, time_calls
from bench.detect_inputs import (
    DEFAULT_CACHE,
    DEFAULT_FACES,
    DEFAULT_WEIGHTS,
    build_photos,
    encode_jpeg,
    load_sources,
)

SECTION = Section("omp_wait")
POLICIES = ("default", "PASSIVE")  # torch as it loads by itself; FakeME's setting


def measure(policy: str, photo: str, runs: int, warmup: int) -> dict[str, Any]:
    """In a fresh process: p50/p95 of ``analyze_image`` on the photo under one wait policy."""
    os.environ.pop("OMP_WAIT_POLICY", None)
    if policy != "default":
        os.environ["OMP_WAIT_POLICY"] = policy
    # torch loads libgomp now, with the policy as it stands; for "default", before `detection` can
    # set its own: torch's behaviour by itself.
    import torch  # noqa: F401

    seen = os.environ.get("OMP_WAIT_POLICY", "unset")
    from detection.engine import Detector

    detector = Detector(weights=[str(DEFAULT_WEIGHTS)])
    data = Path(photo).read_bytes()
    stages: list[dict[str, float]] = []
    times = time_calls(lambda: stages.append(dict(detector.analyze_image(data).timings_ms)), runs, warmup)
    faces_ms = float(np.median([s["faces"] for s in stages[warmup:]]))
    return {**pct(times), "faces_ms": faces_ms, "seen_policy": seen}


def _spin(stop: Any) -> None:
    """Keep one core busy until told to stop (another process's work, as far as the scan can tell)."""
    while not stop.is_set():
        sum(range(10_000))


def run(policy: str, photo: str, runs: int, warmup: int, busy: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    spinner = ctx.Process(target=_spin, args=(stop,), daemon=True) if busy else None
    if spinner is not None:
        spinner.start()
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            return pool.submit(measure, policy, photo, runs, warmup).result()
    finally:
        if spinner is not None:
            stop.set()
            spinner.join(timeout=10)


def photo_path(cache: Path) -> str:
    path = cache / "photo-one-face.jpg"
    if not path.is_file():  # the same photo bench/detect.py builds
        sources, background, _, _ = load_sources(DEFAULT_FACES, 5)
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_jpeg(build_photos(sources, background)["one_face"]))
    return str(path)


def report(
    results: dict[tuple[str, bool], dict[str, Any]], args: argparse.Namespace, notes: list[str]
) -> str:
    machine = machine_info("torch")
    lines = [
        "## Photo scans on shared cores (`bench/omp_wait.py`)",
        "",
        f"- Command: `{command_line('omp_wait', sys.argv[1:])}`",
        f"- Machine: {machine['cpu']}, {machine['usable_cores']} usable cores, "
        f"{machine['ram_gib']:.1f} GiB, torch {machine['torch']}",
        f"- Date: {dt.date.today().isoformat()}",
        f"- The 1080p one-face photo of `bench/detect.py`, JPEG bytes → verdict, {args.runs} timed runs "
        f"after {args.warmup} warm-up in a fresh process per cell, torch's default thread count. "
        '"One core busy": another process spins on one of the cores for the whole cell.',
        "- `default`: torch loaded before anything set `OMP_WAIT_POLICY` (waiting threads spin); "
        "`PASSIVE`: FakeME's setting (`detection/__init__.py`; waiting threads sleep).",
        "",
        "| machine | default: p50 · p95 (MTCNN p50) | PASSIVE: p50 · p95 (MTCNN p50) "
        "| default ÷ PASSIVE (p50) |",
        "|---|---|---|---|",
    ]
    for busy, label in ((False, "idle"), (True, "one core busy")):
        d, p = results[("default", busy)], results[("PASSIVE", busy)]
        lines.append(
            f"| {label} | {d['p50']:.0f} · {d['p95']:.0f} ms ({d['faces_ms']:.0f}) "
            f"| {p['p50']:.0f} · {p['p95']:.0f} ms ({p['faces_ms']:.0f}) | {d['p50'] / p['p50']:.2f}× |"
        )
    if notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.omp_wait", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--no-write", action="store_true", help="print only; do not update --out")
    args = p.parse_args(argv)
    if "OMP_WAIT_POLICY" in os.environ:
        p.error("unset OMP_WAIT_POLICY first: each cell sets its own")
    steal = StealMeter()
    photo = photo_path(args.cache)
    results = {}
    for busy in (False, True):
        for policy in POLICIES:
            r = run(policy, photo, args.runs, args.warmup, busy)
            results[(policy, busy)] = r
            print(
                f"{'one core busy' if busy else 'idle':>13}  {policy:>7} (seen {r['seen_policy']}): "
                f"p50 {r['p50']:.0f} ms  p95 {r['p95']:.0f} ms  MTCNN {r['faces_ms']:.0f} ms",
                flush=True,
            )
    notes = [n for n in [steal.note()] if n is not None]
    SECTION.publish(args.out, report(results, args, notes), not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
