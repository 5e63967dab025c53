"""The watermark benchmark's measurements: bit accuracy and detection under each attack (ours and the
baseline's), PSNR and SSIM, the same at 1080p (ours only), false detections, and embed and recover
latency at 1080p."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from bench.common import time_calls
from bench.watermark_baseline import DwtDctSvd
from watermark import attacks, embed, recover
from watermark.codec import PAYLOAD_BITS
from watermark.evaluation import psnr, read, ssim

KEY = b"bench-watermark-key-7d41c0"
HD = (1920, 1080)


@dataclass
class Tally:
    accuracy: list[float] = field(default_factory=list)
    detected: list[bool] = field(default_factory=list)

    def add(self, accuracy: float, detected: bool) -> None:
        self.accuracy.append(accuracy)
        self.detected.append(detected)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracy)) if self.accuracy else float("nan")

    @property
    def low(self) -> float:
        return float(np.min(self.accuracy)) if self.accuracy else float("nan")

    @property
    def rate(self) -> float:
        return float(np.mean(self.detected)) if self.detected else float("nan")


def robustness(
    images: list[tuple[str, np.ndarray]], baseline: DwtDctSvd | None
) -> tuple[dict[str, Tally], dict[str, Tally], dict[str, list[float]], list[str]]:
    ours = {name: Tally() for name in attacks.ATTACKS}
    theirs = {name: Tally() for name in attacks.ATTACKS}
    quality: dict[str, list[float]] = {k: [] for k in ("psnr", "ssim", "base_psnr", "base_ssim")}
    false_hits: list[str] = []
    rng = np.random.default_rng(2026)
    for i, (name, image) in enumerate(images):
        payload = int(rng.integers(0, 2**PAYLOAD_BITS))
        marked = embed(image, payload, KEY)
        quality["psnr"].append(psnr(image, marked))
        quality["ssim"].append(ssim(image, marked))
        if recover(image, KEY).found:
            false_hits.append(f"{name} (clean)")
        if recover(marked, b"not-the-key").found:
            false_hits.append(f"{name} (wrong key)")
        base_marked = None
        if baseline is not None:
            base_marked = baseline.embed(image, payload)
            quality["base_psnr"].append(psnr(image, base_marked))
            quality["base_ssim"].append(ssim(image, base_marked))
        for attack, transform in attacks.ATTACKS.items():
            reading = read(transform(marked), payload, KEY)
            ours[attack].add(reading.bit_accuracy, reading.correct)
            if baseline is not None and base_marked is not None:
                theirs[attack].add(*baseline.read(transform(base_marked), payload))
        if (i + 1) % 10 == 0 or i + 1 == len(images):
            print(f"  {i + 1}/{len(images)} photos", flush=True)
    return ours, theirs, quality, false_hits


def robustness_hd(images: list[tuple[str, np.ndarray]]) -> tuple[dict[str, Tally], list[float], list[float]]:
    """Ours only (dwtDctSvd takes seconds per 1080p image): photos upscaled to 1920 × 1080."""
    ours = {name: Tally() for name in attacks.ATTACKS}
    psnrs, ssims = [], []
    rng = np.random.default_rng(1080)
    for _, image in images:
        hd = cv2.resize(image, HD, interpolation=cv2.INTER_CUBIC)
        payload = int(rng.integers(0, 2**PAYLOAD_BITS))
        marked = embed(hd, payload, KEY)
        psnrs.append(psnr(hd, marked))
        ssims.append(ssim(hd, marked))
        for attack, transform in attacks.ATTACKS.items():
            reading = read(transform(marked), payload, KEY)
            ours[attack].add(reading.bit_accuracy, reading.correct)
    return ours, psnrs, ssims


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    return statistics.median(time_calls(fn, runs, warmup))


def timings(image: np.ndarray, runs: int, baseline: DwtDctSvd | None) -> dict[str, float]:
    hd = cv2.resize(image, HD, interpolation=cv2.INTER_CUBIC)
    marked = embed(hd, 1, KEY)
    assert recover(marked, KEY).found, "the 1080p timing image must round-trip"
    attacked = attacks.combined(marked)
    out = {
        "embed": median_ms(lambda: embed(hd, 1, KEY), runs),
        "recover (marked)": median_ms(lambda: recover(marked, KEY), runs),
        "recover (clean)": median_ms(lambda: recover(hd, KEY), runs),
        "recover (two keys, clean)": median_ms(lambda: recover(hd, [KEY, b"previous-key"]), runs),
        "recover (after combined attack)": median_ms(lambda: recover(attacked, KEY), runs),
    }
    if baseline is not None:
        base_marked = baseline.embed(hd, 1)
        out["baseline embed"] = median_ms(lambda: baseline.embed(hd, 1), runs)
        out["baseline decode"] = median_ms(lambda: baseline.read(base_marked, 1), runs)
    return out
