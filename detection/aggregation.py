"""Video aggregates: frame probabilities -> one probability for the clip, and the clip's logit shift.

``mean`` (the DeepfakeBench convention) and ``confident`` (the DFDC winner's strategy) aggregate the
per-frame maxima; ``track_topk`` (``detection.tracks``) aggregates per-face tracks. ``shift_logit``
moves a clip's aggregate by the model card's calibration shift onto the photo scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

AGGREGATIONS = ("mean", "confident", "track_topk")


def shift_logit(probability: float | None, shift: float) -> float | None:
    """``probability`` moved by ``shift`` on the logit scale (the card's clip calibration)."""
    if probability is None or shift == 0.0:
        return probability
    p = min(max(float(probability), 1e-7), 1.0 - 1e-7)
    return float(1.0 / (1.0 + math.exp(-(math.log(p / (1.0 - p)) + shift))))


def aggregate_mean(probabilities: Sequence[float]) -> float:
    """Mean of frame probabilities (the DeepfakeBench convention)."""
    return float(np.mean(np.asarray(probabilities, dtype=np.float64)))


def aggregate_confident(
    probabilities: Sequence[float],
    high: float = 0.8,
    low: float = 0.2,
    high_share: float = 0.4,
    min_high: int = 11,
    low_share: float = 0.9,
) -> float:
    """The DFDC winner's "confident strategy" (Seferbekov, 2020).

    More than ``floor(0.4·n)`` frames (and more than 11) above 0.8 → mean of those frames:
    a manipulation visible in a good part of the video should not be diluted by frames
    where it is not. Otherwise, more than 90 % of frames below 0.2 → mean of those.
    Otherwise the plain mean. (The absolute floor of 11 comes from its 32-frame budget.)
    """
    p = np.asarray(probabilities, dtype=np.float64)
    n = len(p)
    confident_fake = p[p > high]
    if len(confident_fake) > math.floor(n * high_share) and len(confident_fake) > min_high:
        return float(confident_fake.mean())
    confident_real = p[p < low]
    if len(confident_real) > low_share * n:
        return float(confident_real.mean())
    return float(p.mean())


AGGREGATORS: dict[str, Callable[[Sequence[float]], float]] = {
    "mean": aggregate_mean,
    "confident": aggregate_confident,
}
