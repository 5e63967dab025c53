"""Face finding (MTCNN: facenet-pytorch's networks, our driver in ``detection.mtcnn``) and the square
crop every model input goes through."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detection.mtcnn import MTCNN

_MTCNN = MTCNN()  # stateless; its networks (weights shipped in the facenet-pytorch wheel) load on first use


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    confidence: float
    landmarks: tuple[tuple[float, float], ...]  # left eye, right eye, nose, mouth left, mouth right

    @property
    def size(self) -> float:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])


class FaceDetector:
    """Finds faces in RGB uint8 arrays.

    Large frames are searched on a downscaled copy (MTCNN cost grows with pixels) and the
    boxes mapped back. A tight crop (selfie, avatar, aligned chip) often has no margin
    around the face for MTCNN's pyramid to see it, so when nothing is found the image is
    searched again padded with a reflected border.
    """

    def __init__(
        self,
        min_face_size: int = 40,
        min_confidence: float = 0.9,
        max_side: int = 960,
        pad_ratio: float = 0.4,
    ) -> None:
        self.min_face_size = min_face_size
        self.min_confidence = min_confidence
        self.max_side = max_side
        self.pad_ratio = pad_ratio

    def detect(self, rgb: np.ndarray) -> list[Face]:
        faces = self._detect_scaled(rgb)
        if faces:
            return faces
        h, w = rgb.shape[:2]
        pad = int(round(max(h, w) * self.pad_ratio))
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        faces = self._detect_scaled(padded, shift=float(pad))
        # Reflection creates mirrored ghost faces; keep only faces centred inside the original.
        return [f for f in (self._clip(f, w, h) for f in faces) if f is not None]

    def detect_unpadded(self, rgb: np.ndarray) -> list[Face]:
        """One search, without the padded retry (a count, not faces to crop)."""
        return self._detect_scaled(rgb)

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Face]]:
        return [self.detect(frame) for frame in frames]

    def _detect_scaled(self, rgb: np.ndarray, shift: float = 0.0) -> list[Face]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = (
            cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            if scale < 1
            else rgb
        )
        min_size = max(12, int(self.min_face_size * scale))
        found = _MTCNN.detect(np.ascontiguousarray(small), min_size)
        if not len(found.boxes):
            return []
        boxes = found.boxes / scale - shift
        points = found.landmarks / scale - shift
        probs = found.scores
        faces = []
        for box, prob, pts in zip(boxes, probs, points, strict=True):
            face = Face(
                tuple(float(v) for v in box), float(prob), tuple((float(x), float(y)) for x, y in pts)
            )
            if face.confidence >= self.min_confidence and face.size >= self.min_face_size * 0.8:
                faces.append(face)
        faces.sort(key=lambda f: -f.size)
        return faces

    @staticmethod
    def _clip(face: Face, w: int, h: int) -> Face | None:
        x1, y1, x2, y2 = face.box
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        if not (0 <= cx < w and 0 <= cy < h):
            return None
        return Face(
            (max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)),
            face.confidence,
            face.landmarks,
        )


def square_box(box: tuple[float, float, float, float], margin: float = 1.3) -> tuple[int, int, int, int]:
    """Square box around ``box`` with side ``margin`` × its longer side (FaceForensics++ convention)."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * margin
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = side / 2
    return int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))


def crop_face(
    rgb: np.ndarray, box: tuple[float, float, float, float], size: int, margin: float = 1.3
) -> np.ndarray:
    """Square ``margin`` crop resized to ``size``; parts outside the image are filled by edge replication."""
    x1, y1, x2, y2 = square_box(box, margin)
    h, w = rgb.shape[:2]
    pad = max(0, -x1, -y1, x2 - w, y2 - h)
    if pad:
        rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x1, y1, x2, y2 = x1 + pad, y1 + pad, x2 + pad, y2 + pad
    crop = rgb[y1:y2, x1:x2]
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)
