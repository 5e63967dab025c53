"""The built-in face swap: landmarks → pose → swap geometry → triangulated warp → mask and occluders
→ relight → multi-band blend → grain → watermark.

Every public entry point takes a ``WatermarkSpec`` (payload + key) as a required argument and
marks each image or frame before returning it (``watermark.embed`` on the full frame after
blending), so no caller — the service layer included — can get an unmarked output from it.

``SwapSettings(legacy=True)`` keeps the pipeline as it was before issue 23 (convex-hull mask
feathered by a blur, whole-face Lab transfer, no occlusion, relighting, grain or pose check), so
the benchmark can put both side by side in one run.

Here: ``LandmarkSwapper``, its entry points and the pose decision. The parts: the inputs
(``inputs``), the marking (``marking``), the composite (``compositing``), following a face through a
clip (``tracking``), video files (``video_file``) and what is returned (``results``); their public
names are importable from here too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from detection.imaging import DEFAULT_MAX_PIXELS
from generation.landmark import compositing, faces, mesh, pose, video_file
from generation.landmark.compositing import BLENDS, LEGACY_BLENDS, SwapSettings
from generation.landmark.errors import NoFaceInSource, NoFaceInTarget, PoseMismatch, SeveralFacesInSource
from generation.landmark.inputs import SourceFace, check_rgb, flip_source
from generation.landmark.marking import WatermarkSpec, check_watermark, watermark_min_side
from generation.landmark.results import Composite, SwapResult, VideoSwapResult
from generation.landmark.smoothing import LandmarkSmoother, SmoothingSettings
from generation.landmark.tracking import Track, follow

__all__ = [
    "BLENDS",
    "LEGACY_BLENDS",
    "Composite",
    "LandmarkSwapper",
    "SourceFace",
    "SwapResult",
    "SwapSettings",
    "VideoSwapResult",
    "WatermarkSpec",
    "check_rgb",
    "watermark_min_side",
]

# A second face counts in a source photo only if it is at least this large relative to the
# largest one: a stranger far in the background does not make the source ambiguous.
SECOND_FACE_MIN_RATIO = 0.4
MIN_SOURCE_FACE = 40  # px: smaller faces have too little texture to swap
DEFAULT_SMOOTHING = SmoothingSettings()


class LandmarkSwapper:
    """The built-in engine. Stateless apart from its settings; models load once per process."""

    def __init__(self, settings: SwapSettings | None = None) -> None:
        self.settings = settings or SwapSettings()
        if self.settings.legacy and self.settings.blend == "multiband":  # the legacy default
            self.settings = replace(self.settings, blend="feather")
        allowed = LEGACY_BLENDS if self.settings.legacy else BLENDS
        if self.settings.blend not in allowed:
            raise ValueError(f"Unknown blend {self.settings.blend!r} (one of {', '.join(allowed)}).")

    # ------------------------------------------------------------------ source

    def prepare_source(self, source: np.ndarray | SourceFace) -> SourceFace:
        """The source's one face, or ``no_face_in_source`` / ``several_faces_in_source``."""
        if isinstance(source, SourceFace):
            return source
        rgb = check_rgb(source, "source image")
        found = faces.detect(rgb, self.settings.detect_max_side)
        if not found or found[0].size < MIN_SOURCE_FACE:
            raise NoFaceInSource()
        rivals = [b for b in found[1:] if b.size >= SECOND_FACE_MIN_RATIO * found[0].size]
        if rivals:
            raise SeveralFacesInSource(
                f"The source image shows {len(rivals) + 1} faces; it must show exactly one."
            )
        points = faces.landmarks(rgb, found[0])
        face = SourceFace(image=rgb, box=found[0], points=points, mesh=mesh.dense(points))
        if self.settings.legacy:
            return face
        return SourceFace(face.image, face.box, face.points, face.mesh, mirrored=flip_source(face))

    # ------------------------------------------------------------------ images

    def swap_image(
        self, source: np.ndarray | SourceFace, target: np.ndarray, *, watermark: WatermarkSpec
    ) -> SwapResult:
        """The source's face on the target's largest face, watermarked.

        Raises ``no_face_in_source``, ``several_faces_in_source``, ``no_face_in_target``,
        ``pose_mismatch`` (yaws too far apart even with the source mirrored),
        ``invalid_image`` (including a target too small to carry the watermark)."""
        spec = check_watermark(watermark)
        src = self.prepare_source(source)
        tgt = check_rgb(target, "target image", watermark_min_side())
        found = faces.detect(tgt, self.settings.detect_max_side)
        if not found:
            raise NoFaceInTarget()
        points = faces.landmarks(tgt, found[0])
        composite = self._swap_unmarked(src, tgt, points)
        return SwapResult(
            image=spec.mark(composite.image),
            payload=spec.payload_bytes,
            faces_in_target=len(found),
            target_box=found[0],
            target_landmarks=points,
            warped_landmarks=composite.dst,
            mirrored=composite.mirrored,
        )

    def _posed(
        self, src: SourceFace, points: np.ndarray, mirror: bool | None = None
    ) -> tuple[SourceFace, bool]:
        """The source as it will be swapped onto a face with ``points``: mirrored when that makes the
        yaws agree (or as ``mirror`` says), else ``pose_mismatch``. The legacy pipeline never checks."""
        if self.settings.legacy:
            return src, False
        decision = pose.decide(src.points, points, self.settings.max_yaw_difference)
        if mirror is not None:
            decision = pose.PoseDecision(decision.source_yaw, decision.target_yaw, mirror)
        pose.check(decision, self.settings.max_yaw_difference)
        return (src.flipped(), True) if decision.mirror else (src, False)

    def _swap_unmarked(
        self, src: SourceFace, target: np.ndarray, points: np.ndarray, mirror: bool | None = None
    ) -> Composite:
        """Pose check, then the composite. Private: callers get marked frames only."""
        posed, mirrored = self._posed(src, points, mirror)
        composite = self._composite(posed, target, points)
        return replace(composite, mirrored=mirrored)

    def _composite(
        self, src: SourceFace, target: np.ndarray, points: np.ndarray, tri: np.ndarray | None = None
    ) -> Composite:
        """The unmarked swap (``compositing.composite``). Private: callers get marked frames only."""
        return compositing.composite(self.settings, src, target, points, tri)

    # ------------------------------------------------------------------ video

    def swap_frames(
        self,
        source: np.ndarray | SourceFace,
        frames: Iterable[np.ndarray],
        *,
        watermark: WatermarkSpec,
        fps: float = 25.0,
        smoothing: SmoothingSettings | None = DEFAULT_SMOOTHING,
        redetect_every: int = 10,
    ) -> Iterator[SwapResult]:
        """Swap the source onto one face through a clip, frame by frame, each frame watermarked.

        The face is found by the detector every ``redetect_every`` frames (the one nearest the
        tracked face, else the largest) and tracked in between by phase correlation.
        Landmarks are smoothed over time (``smoothing=None`` turns it off), and the mesh's
        triangles are fixed per track so that the topology cannot flicker. Frames where no
        face is found, or whose face is turned too differently from the source's
        (``pose_refused``), are returned unswapped, but still watermarked. Whether the source is
        mirrored is decided once per track.
        """
        # Checked now, not on the first frame: a bad call fails where it is made.
        spec = check_watermark(watermark)
        src = self.prepare_source(source)
        return self._frames(src, frames, spec, fps, smoothing, redetect_every)

    def _frames(
        self,
        src: SourceFace,
        frames: Iterable[np.ndarray],
        spec: WatermarkSpec,
        fps: float,
        smoothing: SmoothingSettings | None,
        redetect_every: int,
    ) -> Iterator[SwapResult]:
        smoother = LandmarkSmoother(fps, smoothing) if smoothing is not None else None
        track: Track | None = None
        for index, frame in enumerate(frames):
            rgb = check_rgb(frame, "video frame", watermark_min_side())
            previous = track
            redetect = index % max(1, redetect_every) == 0
            track, found = follow(rgb, track, redetect, self.settings.detect_max_side)
            if smoother is not None and track is not previous:
                smoother.reset()  # a new face (or none): its past is not this face's
            if track is None:
                yield SwapResult(image=spec.mark(rgb), payload=spec.payload_bytes, faces_in_target=found)
                continue
            points = track.points
            if smoother is not None:
                points = smoother(points, mesh.face_scale(points))
            try:
                # Mirroring is decided once per track: flipping the source back and forth as the
                # head turns would make the face flicker.
                posed, mirrored = self._posed(src, points, track.mirror)
            except PoseMismatch:
                yield SwapResult(
                    image=spec.mark(rgb),
                    payload=spec.payload_bytes,
                    faces_in_target=found,
                    target_box=track.box,
                    target_landmarks=points,
                    pose_refused=True,
                )
                continue
            track.mirror = mirrored
            if track.triangles is None:
                s = self.settings
                dst = mesh.dense(mesh.swap_geometry(posed.points, points, s.inner_shape, s.jaw_shape))
                track.triangles = mesh.triangles(dst)
            composite = self._composite(posed, rgb, points, track.triangles)
            yield SwapResult(
                image=spec.mark(composite.image),
                payload=spec.payload_bytes,
                faces_in_target=found,
                target_box=track.box,
                target_landmarks=points,
                warped_landmarks=composite.dst,
                mirrored=mirrored,
            )

    def swap_video_file(
        self,
        source: np.ndarray | SourceFace,
        video: str | os.PathLike[str],
        out_path: str | os.PathLike[str],
        *,
        watermark: WatermarkSpec,
        smoothing: SmoothingSettings | None = DEFAULT_SMOOTHING,
        max_frames: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> VideoSwapResult:
        """Swap through a video file and write an MPEG-4 Part 2 (``mp4v``) file, every frame marked.

        ``no_face_in_target`` when no frame has a face, ``unreadable_video`` when the file
        has no decodable frame; on any error the partial output file is removed."""
        return video_file.swap_video_file(
            self,
            source,
            video,
            out_path,
            watermark=watermark,
            smoothing=smoothing,
            max_frames=max_frames,
            max_pixels=max_pixels,
        )
