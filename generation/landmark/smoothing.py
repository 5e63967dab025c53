"""Temporal smoothing of landmarks across video frames (the 1€ filter, Casiez et al., CHI 2012).

A fixed moving average either lags behind head turns or lets the landmark detector's
frame-to-frame noise through, which makes a swapped face shimmer. The 1€ filter is a
low-pass filter whose cut-off rises with speed: strong smoothing while the head is still,
little lag while it moves. Speed is measured for the face as a whole (centroid shift plus
change of size, in face sizes per second) so that all points get one cut-off and the face
keeps its shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmoothingSettings:
    min_cutoff_hz: float = 1.0  # cut-off while still: lower is smoother
    beta: float = 10.0  # how fast the cut-off rises with speed (Hz per face size per second)
    derivative_cutoff_hz: float = 1.0


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class LandmarkSmoother:
    """Feed one frame's points (``(N, 2)`` pixels) at a time; get them smoothed back."""

    def __init__(self, fps: float, settings: SmoothingSettings | None = None) -> None:
        self.dt = 1.0 / max(fps, 1e-3)
        self.settings = settings or SmoothingSettings()
        self._value: np.ndarray | None = None
        self._speed = 0.0

    def reset(self) -> None:
        """Forget the past (a new face, or a cut): the next frame is taken as it is."""
        self._value = None
        self._speed = 0.0

    def __call__(self, points: np.ndarray, face_size: float) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        if self._value is None or self._value.shape != points.shape:
            self._value = points.copy()
            self._speed = 0.0
            return points.astype(np.float32)
        s = self.settings
        raw_speed = _face_speed(self._value, points) / max(face_size, 1.0) / self.dt
        a_d = _alpha(s.derivative_cutoff_hz, self.dt)
        self._speed += a_d * (raw_speed - self._speed)
        a = _alpha(s.min_cutoff_hz + s.beta * self._speed, self.dt)
        self._value = self._value + a * (points - self._value)
        return self._value.astype(np.float32)


def _face_speed(before: np.ndarray, after: np.ndarray) -> float:
    """How far the face as a whole moved (pixels): its centroid's shift plus the change of its
    spread (zooming). Both average over all points, so the detector's independent per-point
    noise, which a per-point speed would read as motion, mostly cancels."""
    c0, c1 = before.mean(axis=0), after.mean(axis=0)
    spread0 = np.sqrt(((before - c0) ** 2).sum(axis=1).mean())
    spread1 = np.sqrt(((after - c1) ** 2).sum(axis=1).mean())
    return float(np.linalg.norm(c1 - c0) + abs(spread1 - spread0))
