"""The scan API benchmark's measurements: scans from concurrent clients against the service, and the
engine alone, sequentially, in this process."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import percentile


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0


def load(url: str, key: str, image: bytes, total: int, clients: int) -> LoadResult:
    """``total`` scans from ``clients`` threads, each with its own keep-alive session."""
    import requests

    result = LoadResult()
    lock = threading.Lock()
    remaining = iter(range(total))
    start_gate = threading.Barrier(clients)

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        start_gate.wait()
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            t0 = time.perf_counter()
            try:
                response = session.post(
                    url,
                    files={"media": ("photo.jpg", image, "image/jpeg")},
                    data={"hashtags": "#bench"},
                    timeout=120,
                )
                ok = response.status_code == 200 and response.json().get("status") == "completed"
                error = "" if ok else f"HTTP {response.status_code}: {response.text[:200]}"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - t0
            with lock:
                (result.errors.append(error) if error else result.latencies_s.append(elapsed))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - t0
    return result


def engine_sequential(
    weights: Path, image: bytes, runs: int, warmup: int, threads: int | None
) -> dict[str, Any]:
    """Detector.analyze_image in this process, one call after another (``threads`` None: torch's default)."""
    import torch

    from detection.engine import Detector

    default_threads = torch.get_num_threads()
    detector = Detector([weights], threads=threads or default_threads)
    for _ in range(warmup):
        detector.analyze_image(image)
    times = []
    t0 = time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        detector.analyze_image(image)
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    measured = {
        "rps": runs / wall,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "threads": torch.get_num_threads(),
        "runs": runs,
    }
    torch.set_num_threads(default_threads)
    return measured
