"""The engine's inputs: RGB images checked, and the source photo with its one face found."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from generation.landmark import faces, mesh
from generation.landmark.errors import InvalidImage
from generation.landmark.faces import Box


def check_rgb(image: object, what: str, min_side: int = 1) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidImage(f"The {what} must be an RGB image as an (H, W, 3) uint8 array.")
    if min(image.shape[:2]) < min_side:
        raise InvalidImage(f"The {what} is too small: its short side must be at least {min_side} px.")
    return np.ascontiguousarray(image)


@dataclass(frozen=True)
class SourceFace:
    """A source photo with its one face found: prepare once, swap into many targets/frames."""

    image: np.ndarray
    box: Box
    points: np.ndarray  # (68, 2)
    mesh: np.ndarray  # (78, 2): dense mesh (with forehead points)
    mirrored: SourceFace | None = field(default=None, repr=False, compare=False)  # flipped copy

    def flipped(self) -> SourceFace:
        """The source mirrored left-right, with landmarks found anew on the flipped photo (a
        mirrored point set would need its left and right labels swapped; the predictor does it)."""
        if self.mirrored is not None:
            return self.mirrored
        return flip_source(self)


def flip_source(face: SourceFace) -> SourceFace:
    """``face`` mirrored left-right, its landmarks found anew on the flipped photo."""
    image = np.ascontiguousarray(face.image[:, ::-1])
    w = image.shape[1]
    box = Box(w - face.box.x2, face.box.y1, w - face.box.x1, face.box.y2, face.box.score)
    points = faces.landmarks(image, box)
    return SourceFace(image=image, box=box, points=points, mesh=mesh.dense(points))
