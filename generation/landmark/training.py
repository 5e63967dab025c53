"""Swaps for detector training: the built-in engine's composite, deliberately without the watermark.

These images are training data that never leave the machine that makes them. They are unmarked so
that the detector learns what a swap looks like rather than what our watermark looks like (every
scan reads the watermark on its own). Nothing in the generation service calls this module: what it
returns to users is always marked (``LandmarkSwapper.swap_image``).
"""

from __future__ import annotations

import numpy as np

from generation.landmark import faces
from generation.landmark.engine import LandmarkSwapper
from generation.landmark.errors import NoFaceInTarget
from generation.landmark.inputs import SourceFace, check_rgb


def training_swap(
    swapper: LandmarkSwapper, source: np.ndarray | SourceFace, target: np.ndarray
) -> np.ndarray:
    """The source's face on the target's largest face, unmarked (training data only).

    Raises the engine's ``no_face_in_source`` / ``several_faces_in_source`` / ``no_face_in_target`` /
    ``pose_mismatch``."""
    src = swapper.prepare_source(source)
    tgt = check_rgb(target, "target image")
    found = faces.detect(tgt, swapper.settings.detect_max_side)
    if not found:
        raise NoFaceInTarget()
    points = faces.landmarks(tgt, found[0])
    return swapper._swap_unmarked(src, tgt, points).image
