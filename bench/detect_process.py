"""The detection benchmark's processes: each pipeline runs in a fresh spawned child (so its peak RSS is
its own), with the thread count the run asks for; the RSS is read from /proc and ``getrusage``."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import re
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2


def set_threads(threads: int | None) -> int:
    # detection before torch, as in the service: importing it sets the OpenMP wait policy torch reads
    importlib.import_module("detection")
    import torch

    if threads:
        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
    return torch.get_num_threads()


def vm_rss_bytes() -> int:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) * 1024 if match else 0


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


class RssSampler(threading.Thread):
    """Samples this process's VmRSS every few ms; ``peak`` is the highest value seen."""

    def __init__(self, interval_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak = vm_rss_bytes()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.peak = max(self.peak, vm_rss_bytes())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, vm_rss_bytes())
        return self.peak


def in_child(fn: Callable[[dict[str, Any]], dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
    """Run ``fn(cfg)`` in a fresh spawned process (so its peak RSS is its own) and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, cfg).result()
