"""Identity embeddings to measure swaps: dlib's ResNet face descriptor (128-d, CC0 model).

Faces are aligned with dlib's 5-point predictor, as the descriptor was trained. Two photos of
one person are typically within Euclidean distance 0.6 (dlib's threshold: 99.38 % on LFW).
"""

from __future__ import annotations

import numpy as np

from generation.landmark import dlib_models, faces
from generation.landmark.errors import NoFaceInTarget
from generation.landmark.faces import Box

SAME_PERSON_DISTANCE = 0.6


def descriptor(rgb: np.ndarray, box: Box | None = None) -> np.ndarray:
    """The 128-d descriptor (float32) of the largest face in ``rgb`` (or of the face in ``box``)."""
    if box is None:
        found = faces.detect(rgb)
        if not found:
            raise NoFaceInTarget("No face was found to describe.")
        box = found[0]
    dlib = dlib_models.dlib_module()
    rect = dlib.rectangle(int(round(box.x1)), int(round(box.y1)), int(round(box.x2)), int(round(box.y2)))
    img = np.ascontiguousarray(rgb)
    shape = dlib_models.load("landmarks5")(img, rect)
    return np.array(dlib_models.load("recognition").compute_face_descriptor(img, shape), dtype=np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two descriptors (1 = same direction)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors (dlib's own measure; < 0.6: same person)."""
    return float(np.linalg.norm(a - b))
