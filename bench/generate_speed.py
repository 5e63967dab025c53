"""The generation benchmark's timings: the built-in engine's seconds per 1080p image (with a breakdown)
and per second of 720p video, and SimSwap's when the package exists (official checkpoints when given,
else randomly initialised networks)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.common import median_s
from bench.generate_inputs import DATA, KEY, PAYLOAD, hd_frame, read_rgb, video_frames
from generation.landmark import LandmarkSwapper, WatermarkSpec, faces


def builtin_speed(args: argparse.Namespace, swapper: LandmarkSwapper, video: bool = True) -> dict[str, Any]:
    spec = WatermarkSpec(PAYLOAD, KEY)
    ffhq = DATA / "faces-real" / "ffhq-512"
    source = read_rgb(ffhq / "3.jpg")
    targets = [hd_frame(read_rgb(ffhq / f"{n}.jpg")) for n in (4, 11, 21)]
    full = [median_s(lambda t=t: swapper.swap_image(source, t, watermark=spec), args.runs) for t in targets]
    prepared = swapper.prepare_source(source)
    warm = [median_s(lambda t=t: swapper.swap_image(prepared, t, watermark=spec), args.runs) for t in targets]
    t = targets[0]
    boxes = faces.detect(t)
    points = faces.landmarks(t, boxes[0])
    parts = {
        "source face (detect + landmarks, and the mirrored copy's landmarks)": median_s(
            lambda: swapper.prepare_source(source), args.runs
        ),
        "target detect": median_s(lambda: faces.detect(t), args.runs),
        "target landmarks": median_s(lambda: faces.landmarks(t, boxes[0]), args.runs),
        "pose + warp + masks + colour + blend + grain": median_s(
            lambda: swapper._swap_unmarked(prepared, t, points), args.runs
        ),
        "watermark embed": median_s(lambda: spec.mark(t), args.runs),
    }
    out: dict[str, Any] = {"image_s": statistics.median(full), "image_prepared_s": statistics.median(warm)}
    out["parts"] = parts
    frames, fps = video_frames(DATA / "video" / "dfdc-real-lynaeydofd.mp4", args.video_seconds)
    if frames and video:
        list(
            swapper.swap_frames(prepared, frames[: max(2, int(fps // 2))], watermark=spec, fps=fps)
        )  # warm-up
        start = time.perf_counter()
        results = list(swapper.swap_frames(prepared, frames, watermark=spec, fps=fps))
        elapsed = time.perf_counter() - start
        mark = median_s(lambda: spec.mark(frames[0]), args.runs)
        out.update(
            video_s_per_s=elapsed / (len(frames) / fps),
            video_frames=len(frames),
            video_fps=fps,
            video_swapped=sum(r.swapped for r in results),
            video_frame_ms=1000 * elapsed / len(frames),
            video_mark_ms=1000 * mark,
        )
    return out


# ----------------------------------------------------------------------------- SimSwap


@dataclass
class SimSwapRun:
    status: str  # "official weights", "random weights (speed only)" or "n/a: why"
    engine: Any = None
    official: bool = False  # the operator's checkpoints: its identity row is measured too
    image_s: float | None = None
    video_s_per_s: float | None = None


def load_simswap(args: argparse.Namespace) -> SimSwapRun:
    if importlib.util.find_spec("generation.simswap") is None:
        return SimSwapRun("n/a: generation.simswap is not in this checkout")
    try:
        import torch

        from generation import simswap

        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))))
        if args.simswap_generator and args.simswap_arcface:
            engine = simswap.SimSwapEngine.from_paths(
                args.simswap_generator, args.simswap_arcface, args.simswap_size
            )
            return SimSwapRun("official weights", engine, official=True)
        from generation.simswap.arcface import ArcFace
        from generation.simswap.generator import SimSwapGenerator

        torch.manual_seed(0)
        engine = simswap.SimSwapEngine(SimSwapGenerator(size=args.simswap_size), ArcFace())
        return SimSwapRun("random weights (speed only: the official checkpoints were not given)", engine)
    except Exception as exc:  # its API is another team's: report, don't crash the benchmark
        return SimSwapRun(f"n/a: could not set up SimSwap ({type(exc).__name__}: {exc})")


def simswap_speed(run: SimSwapRun, args: argparse.Namespace) -> None:
    if run.engine is None:
        return
    spec = WatermarkSpec(PAYLOAD, KEY)
    ffhq = DATA / "faces-real" / "ffhq-512"
    source = read_rgb(ffhq / "3.jpg")
    try:
        targets = [hd_frame(read_rgb(ffhq / f"{n}.jpg")) for n in (4, 11, 21)]
        runs = min(args.runs, 3)  # seconds per call on CPU: fewer runs
        run.image_s = statistics.median(
            median_s(lambda t=t: run.engine.swap(source, t, watermark=spec.mark), runs) for t in targets
        )
        frames, fps = video_frames(DATA / "video" / "dfdc-real-lynaeydofd.mp4", min(args.video_seconds, 1.0))
        ident = run.engine.identity(source)
        start = time.perf_counter()
        for frame in frames:
            run.engine.swap_identity(ident, frame, watermark=spec.mark)
        run.video_s_per_s = (time.perf_counter() - start) / (len(frames) / fps)
    except Exception as exc:
        run.status = f"n/a: SimSwap failed while timing ({type(exc).__name__}: {exc})"
