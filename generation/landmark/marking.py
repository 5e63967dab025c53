"""What every output of the built-in engine is marked with, and the checks that it is.

Every public entry point of ``LandmarkSwapper`` takes a ``WatermarkSpec`` and marks each image or
frame before returning it (``watermark.embed`` on the full frame after blending).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import watermark
from generation.landmark.errors import WatermarkRequired
from watermark.codec import payload_to_bytes
from watermark.keys import check_key


@dataclass(frozen=True)
class WatermarkSpec:
    """What every output is marked with: the payload (the generation record's id) and the key."""

    payload: int | bytes
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        payload_to_bytes(self.payload)  # watermark.InvalidPayload / InvalidKey, with their codes
        check_key(self.key)

    @property
    def payload_bytes(self) -> bytes:
        return payload_to_bytes(self.payload)

    def mark(self, rgb: np.ndarray) -> np.ndarray:
        return watermark.embed(rgb, self.payload, self.key)


def check_watermark(spec: object) -> WatermarkSpec:
    if not isinstance(spec, WatermarkSpec):
        raise WatermarkRequired()
    return spec


def watermark_min_side() -> int:
    return int(watermark.MIN_SIDE)
