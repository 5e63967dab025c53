"""Face boxes (dlib's HOG detector) and 68 landmarks (dlib's shape predictor) in RGB arrays."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generation.landmark import dlib_models

DETECT_MAX_SIDE = 640  # HOG cost grows with pixels: search a copy this large first
TRACK_WINDOW_PX = 128  # long side of the grey window phase correlation tracks a face on
PAD_RATIO = 0.35  # reflected border added for tight crops (aligned chips) when nothing is found


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float
    score: float = 0.0

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    @property
    def size(self) -> float:
        return max(self.x2 - self.x1, self.y2 - self.y1)

    def scaled(self, factor: float, shift: float = 0.0) -> Box:
        return Box(
            self.x1 / factor - shift,
            self.y1 / factor - shift,
            self.x2 / factor - shift,
            self.y2 / factor - shift,
            self.score,
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


def detect(rgb: np.ndarray, max_side: int = DETECT_MAX_SIDE) -> list[Box]:
    """Faces in ``rgb``, largest first.

    Searched on a copy whose long side is at most ``max_side``; if that finds nothing, at
    twice that size (small faces in large frames), then upsampled when the image is small,
    then padded with a reflected border (a tight crop leaves HOG no margin to see the face).
    """
    h, w = rgb.shape[:2]
    for side in (max_side, 2 * max_side):
        boxes = _detect_at(rgb, min(1.0, side / max(h, w)))
        if boxes or max(h, w) <= side:
            break
    if not boxes and max(h, w) < 2 * max_side:
        boxes = _detect_at(rgb, 1.0, upsample=1)
    if not boxes:
        pad = int(round(max(h, w) * PAD_RATIO))
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        found = _detect_at(padded, min(1.0, 2 * max_side / max(padded.shape[:2])), shift=pad)
        # Reflection makes mirrored ghost faces: keep faces centred inside the original image.
        boxes = [b for b in found if 0 <= (b.x1 + b.x2) / 2 < w and 0 <= (b.y1 + b.y2) / 2 < h]
    return sorted(boxes, key=lambda b: b.area, reverse=True)


def _detect_at(rgb: np.ndarray, scale: float, upsample: int = 0, shift: float = 0.0) -> list[Box]:
    h, w = rgb.shape[:2]
    img = rgb
    if scale < 1.0:
        img = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    rects, scores, _ = dlib_models.load("detector").run(np.ascontiguousarray(img), upsample, 0.0)
    return [
        Box(r.left(), r.top(), r.right() + 1, r.bottom() + 1, float(s)).scaled(scale, shift)
        for r, s in zip(rects, scores, strict=True)
    ]


def landmarks(rgb: np.ndarray, box: Box) -> np.ndarray:
    """The 68 iBUG landmarks (float32, (68, 2), x/y pixels) of the face in ``box``."""
    dlib = dlib_models.dlib_module()
    rect = dlib.rectangle(int(round(box.x1)), int(round(box.y1)), int(round(box.x2)), int(round(box.y2)))
    shape = dlib_models.load("landmarks68")(np.ascontiguousarray(rgb), rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def moved(box: Box, dx: float, dy: float) -> Box:
    return Box(box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy, box.score)


def shift_between(previous: np.ndarray, current: np.ndarray, box: Box) -> tuple[float, float, float]:
    """How far the content of ``box`` moved from ``previous`` to ``current`` (dx, dy in pixels),
    and the phase correlation's peak response (≈ 0.95 between consecutive frames of one shot,
    ≈ 0.05 across a cut), from the two grey windows (a few milliseconds on a ~128 px copy).

    Tracking moves the box with the picture rather than re-detecting it: HOG boxes snap to
    pyramid scales and dlib's landmarks follow the box, so per-frame detections make the
    landmarks jump by several percent of the face; feeding landmarks back into their own box
    drifts. Phase correlation depends on neither."""
    h, w = current.shape[:2]
    pad = 0.15 * box.size
    x0, y0 = max(0, int(box.x1 - pad)), max(0, int(box.y1 - pad))
    x1, y1 = min(w, int(box.x2 + pad) + 1), min(h, int(box.y2 + pad) + 1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return 0.0, 0.0, 0.0
    scale = min(1.0, TRACK_WINDOW_PX / max(x1 - x0, y1 - y0))
    size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))

    def grey(rgb: np.ndarray) -> np.ndarray:
        small = cv2.resize(rgb[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)

    window = cv2.createHanningWindow(size, cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(grey(previous), grey(current), window)
    return dx / scale, dy / scale, float(response)


def same_face(a: Box, b: Box) -> bool:
    """Whether two boxes frame the same face closely enough to keep the tracked one."""
    dist = np.hypot((a.x1 + a.x2 - b.x1 - b.x2) / 2, (a.y1 + a.y2 - b.y1 - b.y2) / 2)
    return bool(dist < 0.2 * a.size and 0.8 < b.size / max(a.size, 1e-6) < 1.25)
