"""The detection benchmark's FakeME run (in a fresh child process): the whole engine on the photos
(JPEG bytes in, ``ImageResult`` out), the classifier alone at batch 16, and the video, with the
peak RSS and the time decoding alone takes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import pct, time_calls
from bench.detect_process import RssSampler, max_rss_bytes, set_threads, vm_rss_bytes


def _median_timings(timings: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for t in timings for k in t}
    return {k: float(np.median([t[k] for t in timings if k in t])) for k in sorted(keys)}


def run_fakeme(cfg: dict[str, Any]) -> dict[str, Any]:
    threads = set_threads(cfg["threads"])
    from detection.engine import Detector

    out: dict[str, Any] = {"threads": threads, "rss_start": vm_rss_bytes()}
    start = time.perf_counter()
    detector = Detector(weights=cfg["weights"], fps=cfg["fps"], threads=cfg["threads"])
    out["load_s"] = time.perf_counter() - start
    out["rss_loaded"] = vm_rss_bytes()

    # Photos: JPEG bytes in -> ImageResult out, the whole engine path (decode, MTCNN, crops, classifier).
    for key, path in cfg["photos"].items():
        data = Path(path).read_bytes()
        timings: list[dict[str, float]] = []

        def call(data: bytes = data, timings: list[dict[str, float]] = timings) -> None:
            timings.append(dict(detector.analyze_image(data).timings_ms))

        first = detector.analyze_image(data)
        times = time_calls(call, cfg["runs"], cfg["warmup"])
        out[key] = {
            **pct(times),
            "faces": len(first.faces),
            "verdict": first.verdict,
            "stages_ms": _median_timings(timings[cfg["warmup"] :]),
        }

    # Classifier alone: 16 crops of the model's input size in one predict() (its batch size is 16).
    clf = detector.classifier
    batch = list(np.load(cfg["crops"]))
    times = time_calls(lambda: clf.predict(batch), cfg["runs"], cfg["warmup"])
    out["batch16"] = {**pct(times), "batch": len(batch), "ips": len(batch) * 1000 / float(np.median(times))}

    sampler = RssSampler()
    sampler.start()
    walls = []
    for _ in range(cfg["video_runs"]):
        start = time.perf_counter()
        result = detector.analyze_video(cfg["video"]["path"])
        walls.append(time.perf_counter() - start)
    out["video"] = {
        "wall_s": float(np.median(walls)),
        "walls_s": walls,
        "frames_sampled": result.frames_sampled,
        "frames_with_faces": result.frames_with_faces,
        "truncated": result.truncated,
        "stages_ms": dict(result.timings_ms),
        "verdict": result.verdict,
        "rss_peak_sampled": sampler.stop(),
    }
    out["video"]["decode_only_s"] = decode_only_s(detector, cfg["video"]["path"])
    out["model"] = f"{detector.model_info.name} {detector.model_info.version}"
    out["backend"] = detector.classifier.backend
    out["ru_maxrss"] = max_rss_bytes()
    return out


def decode_only_s(detector: Any, path: str) -> float:
    """Seconds to walk the video with the engine's own reader and settings and no models: the floor
    under the video time on this machine (the models run beside decoding, never instead of it)."""
    start = time.perf_counter()
    with detector.video_reader(Path(path)) as reader:
        for _ in reader.frames():
            pass
    return time.perf_counter() - start
