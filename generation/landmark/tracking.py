"""Following one face through a clip: detected every few frames, carried by phase correlation between.

Between detections the box moves with the picture (``faces.shift_between``); a weak correlation (a
cut, the face gone) calls the detector at once. A detection replaces the tracked box only when it
frames the face differently enough (``faces.same_face``): swapping in every new HOG box would make
the landmarks jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generation.landmark import faces
from generation.landmark.faces import Box

# Phase-correlation peak below which the picture is taken to have changed (a cut): detect anew.
TRACK_MIN_RESPONSE = 0.3


@dataclass
class Track:
    """One face followed through a clip: where it is, its landmarks, the mesh fixed for it."""

    points: np.ndarray
    box: Box
    frame: np.ndarray  # the previous frame, for phase correlation
    triangles: np.ndarray | None = None
    mirror: bool | None = None  # whether the source is mirrored on this track (decided on its first swap)


def follow(
    rgb: np.ndarray, track: Track | None, redetect: bool, detect_max_side: int
) -> tuple[Track | None, int]:
    """Update the track on a new frame; returns it (None: no face) and the faces detected.

    Between detections the box moves with the picture (``faces.shift_between``); a weak
    correlation (a cut, the face gone) calls the detector at once. A
    detection replaces the tracked box only when it frames the face differently enough
    (``faces.same_face``): swapping in every new HOG box would make the landmarks jump."""
    carried = None
    if track is not None:
        dx, dy, response = faces.shift_between(track.frame, rgb, track.box)
        carried = faces.moved(track.box, dx, dy)
        if not redetect and response >= TRACK_MIN_RESPONSE:
            track.box, track.frame = carried, rgb
            track.points = faces.landmarks(rgb, carried)
            return track, 1
    found = faces.detect(rgb, detect_max_side)
    if not found:
        return None, 0
    box = found[0]
    if track is not None and carried is not None:  # stay on the same person when several are in view
        cx, cy = (carried.x1 + carried.x2) / 2, (carried.y1 + carried.y2) / 2
        box = min(found, key=lambda b: ((b.x1 + b.x2) / 2 - cx) ** 2 + ((b.y1 + b.y2) / 2 - cy) ** 2)
        if faces.same_face(carried, box):
            box = carried
        elif np.hypot((box.x1 + box.x2) / 2 - cx, (box.y1 + box.y2) / 2 - cy) > carried.size:
            track = None  # the tracked face is gone: this is someone else, start afresh
    points = faces.landmarks(rgb, box)
    if track is None:
        return Track(points=points, box=box, frame=rgb), len(found)
    track.points, track.box, track.frame = points, box, rgb
    return track, len(found)
