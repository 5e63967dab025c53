"""Per-face tracks through a video and the track aggregate: a few strongly fake frames of one face count.

The mean over frames missed every fake clip of detector 1.3.0's evaluation: a swap or a lip-sync
shows in some frames of one face (when it turns, when the mouth moves) and averaging it with the
clean frames, and with other people's faces, washes it out. Here faces are linked frame to frame by
box overlap, each track is scored by the mean of its top ``share`` of frame probabilities, and the
video takes its most suspicious track. Tracks seen in too few frames (a passer-by, a false
detection) do not decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

Box = tuple[float, float, float, float]


@dataclass
class Track:
    boxes: list[Box] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    last_frame: int = -1

    def topk_mean(self, share: float) -> float:
        k = max(1, math.ceil(share * len(self.probabilities)))
        return float(sum(sorted(self.probabilities, reverse=True)[:k]) / k)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(
    frames: Sequence[Sequence[tuple[Box, float]]], min_iou: float = 0.3, max_gap: int = 2
) -> list[Track]:
    """Tracks from per-frame ``(box, probability)`` lists, greedily by best overlap; a track
    survives up to ``max_gap`` sampled frames without its face (a blink of the detector)."""
    tracks: list[Track] = []
    for index, faces in enumerate(frames):
        alive = [t for t in tracks if index - t.last_frame <= max_gap + 1]
        pairs = sorted(
            (
                (iou(t.boxes[-1], box), ti, fi)
                for ti, t in enumerate(alive)
                for fi, (box, _p) in enumerate(faces)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_f: set[int] = set()
        for overlap, ti, fi in pairs:
            if overlap < min_iou:
                break
            if ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            box, p = faces[fi]
            alive[ti].boxes.append(box)
            alive[ti].probabilities.append(p)
            alive[ti].last_frame = index
        for fi, (box, p) in enumerate(faces):
            if fi not in used_f:
                tracks.append(Track([box], [p], index))
    return tracks


def aggregate_tracks(
    frames: Sequence[Sequence[tuple[Box, float]]], share: float = 0.25, min_presence: float = 0.3
) -> float | None:
    """The highest top-``share`` mean over tracks present in at least ``min_presence`` of the
    frames that have a face (at least 2 frames when there are several). None: no face at all."""
    tracks = link_tracks(frames)
    if not tracks:
        return None
    with_faces = sum(1 for faces in frames if faces)
    needed = max(1, min(2, with_faces), math.ceil(min_presence * with_faces))
    steady = [t for t in tracks if len(t.probabilities) >= needed]
    if not steady:  # faces found but never the same one twice: fall back on the longest track
        steady = [max(tracks, key=lambda t: len(t.probabilities))]
    return max(t.topk_mean(share) for t in steady)
