"""The built-in face swap: landmarks → swap geometry → triangulated warp → colour → blend → watermark.

Every public entry point takes a ``WatermarkSpec`` (payload + key) as a required argument and
marks each image or frame before returning it (``watermark.embed`` on the full frame after
blending), so no caller — the service layer included — can get an unmarked output from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

import watermark
from detection.errors import DetectionError, ImageTooLarge, VideoTooLong
from detection.imaging import DEFAULT_MAX_PIXELS
from detection.video import VideoReader
from generation.landmark import blend, colour, faces, mesh
from generation.landmark.errors import (
    InvalidImage,
    NoFaceInSource,
    NoFaceInTarget,
    SeveralFacesInSource,
    UnreadableVideo,
    WatermarkRequired,
)
from generation.landmark.faces import Box
from generation.landmark.smoothing import LandmarkSmoother, SmoothingSettings
from generation.landmark.warp import piecewise_affine, region_around
from watermark.codec import payload_to_bytes
from watermark.keys import check_key

# A second face counts in a source photo only if it is at least this large relative to the
# largest one: a stranger far in the background does not make the source ambiguous.
SECOND_FACE_MIN_RATIO = 0.4
MIN_SOURCE_FACE = 40  # px: smaller faces have too little texture to swap
DEFAULT_SMOOTHING = SmoothingSettings()
# Phase-correlation peak below which the picture is taken to have changed (a cut): detect anew.
TRACK_MIN_RESPONSE = 0.3


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


@dataclass(frozen=True)
class SwapSettings:
    inner_shape: float = 0.8  # how far the inner features move to the source's shape (0..1)
    jaw_shape: float = 0.0  # same for the jawline (its edge stays visible around the blend)
    colour_transfer: bool = True
    blend: str = "feather"  # "feather" (alpha blend, fast) or "poisson" (cv2.seamlessClone)
    detect_max_side: int = faces.DETECT_MAX_SIDE


@dataclass(frozen=True)
class SourceFace:
    """A source photo with its one face found: prepare once, swap into many targets/frames."""

    image: np.ndarray
    box: Box
    points: np.ndarray  # (68, 2)
    mesh: np.ndarray  # (78, 2): dense mesh (with forehead points)


@dataclass(frozen=True)
class SwapResult:
    image: np.ndarray  # the swapped RGB frame, watermarked
    payload: bytes
    faces_in_target: int  # in a video, 1 on frames where the face was tracked, not detected
    target_box: Box | None = None  # the face that was swapped (the largest, or the tracked one)
    target_landmarks: np.ndarray | None = None  # (68, 2) as detected (smoothed in videos)
    warped_landmarks: np.ndarray | None = None  # (78, 2) where the source mesh was warped to

    @property
    def swapped(self) -> bool:
        return self.warped_landmarks is not None


@dataclass(frozen=True)
class VideoSwapResult:
    path: Path
    frames: int
    frames_swapped: int
    fps: float
    width: int
    height: int
    payload: bytes


def check_rgb(image: object, what: str, min_side: int = 1) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InvalidImage(f"The {what} must be an RGB image as an (H, W, 3) uint8 array.")
    if min(image.shape[:2]) < min_side:
        raise InvalidImage(f"The {what} is too small: its short side must be at least {min_side} px.")
    return np.ascontiguousarray(image)


def _check_watermark(spec: object) -> WatermarkSpec:
    if not isinstance(spec, WatermarkSpec):
        raise WatermarkRequired()
    return spec


class LandmarkSwapper:
    """The built-in engine. Stateless apart from its settings; models load once per process."""

    def __init__(self, settings: SwapSettings | None = None) -> None:
        self.settings = settings or SwapSettings()
        if self.settings.blend not in ("feather", "poisson"):
            raise ValueError(f"Unknown blend {self.settings.blend!r}.")

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
        return SourceFace(image=rgb, box=found[0], points=points, mesh=mesh.dense(points))

    # ------------------------------------------------------------------ images

    def swap_image(
        self, source: np.ndarray | SourceFace, target: np.ndarray, *, watermark: WatermarkSpec
    ) -> SwapResult:
        """The source's face on the target's largest face, watermarked.

        Raises ``no_face_in_source``, ``several_faces_in_source``, ``no_face_in_target``,
        ``invalid_image`` (including a target too small to carry the watermark)."""
        spec = _check_watermark(watermark)
        src = self.prepare_source(source)
        tgt = check_rgb(target, "target image", watermark_min_side())
        found = faces.detect(tgt, self.settings.detect_max_side)
        if not found:
            raise NoFaceInTarget()
        points = faces.landmarks(tgt, found[0])
        out, warped = self._composite(src, tgt, points)
        return SwapResult(
            image=spec.mark(out),
            payload=spec.payload_bytes,
            faces_in_target=len(found),
            target_box=found[0],
            target_landmarks=points,
            warped_landmarks=warped,
        )

    def _composite(
        self, src: SourceFace, target: np.ndarray, points: np.ndarray, tri: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The unmarked swap and the destination mesh. Private: callers get marked frames only."""
        s = self.settings
        dst68 = mesh.swap_geometry(src.points, points, s.inner_shape, s.jaw_shape)
        dst = mesh.dense(dst68)
        tri = mesh.triangles(dst) if tri is None else tri
        region = region_around(dst, target.shape)
        if region.shape[0] < 4 or region.shape[1] < 4:
            return target.copy(), dst
        warped, covered = piecewise_affine(src.image, src.mesh, dst, tri, region)
        size = mesh.face_scale(dst68)
        alpha = blend.face_mask(dst, region, size) * (covered > 0)
        roi = target[region.slices]
        if s.colour_transfer:
            warped = colour.match_lab(warped, roi, alpha > 0.5)
        merged = (
            blend.poisson(roi, warped, alpha) if s.blend == "poisson" else blend.feather(roi, warped, alpha)
        )
        out = target.copy()
        out[region.slices] = merged
        return out, dst

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
        face is found are returned unswapped, but still watermarked.
        """
        # Checked now, not on the first frame: a bad call fails where it is made.
        spec = _check_watermark(watermark)
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
        track: _Track | None = None
        for index, frame in enumerate(frames):
            rgb = check_rgb(frame, "video frame", watermark_min_side())
            previous = track
            track, found = self._follow(rgb, track, index % max(1, redetect_every) == 0)
            if smoother is not None and track is not previous:
                smoother.reset()  # a new face (or none): its past is not this face's
            if track is None:
                yield SwapResult(image=spec.mark(rgb), payload=spec.payload_bytes, faces_in_target=found)
                continue
            points = track.points
            if smoother is not None:
                points = smoother(points, mesh.face_scale(points))
            if track.triangles is None:
                dst = mesh.dense(mesh.swap_geometry(src.points, points, self.settings.inner_shape, 0.0))
                track.triangles = mesh.triangles(dst)
            out, warped = self._composite(src, rgb, points, track.triangles)
            yield SwapResult(
                image=spec.mark(out),
                payload=spec.payload_bytes,
                faces_in_target=found,
                target_box=track.box,
                target_landmarks=points,
                warped_landmarks=warped,
            )

    def _follow(self, rgb: np.ndarray, track: _Track | None, redetect: bool) -> tuple[_Track | None, int]:
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
        found = faces.detect(rgb, self.settings.detect_max_side)
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
            return _Track(points=points, box=box, frame=rgb), len(found)
        track.points, track.box, track.frame = points, box, rgb
        return track, len(found)

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
        spec = _check_watermark(watermark)
        src = self.prepare_source(source)
        out_path = Path(out_path)
        try:
            reader = VideoReader(video, max_pixels=max_pixels)
        except DetectionError as exc:
            if isinstance(exc, ImageTooLarge | VideoTooLong):
                raise  # a limit, not damage: its own stable code
            raise UnreadableVideo(exc.message) from exc
        fps = reader.info.fps
        writer: cv2.VideoWriter | None = None
        frames = swapped = 0
        width = height = 0
        try:
            for result in self.swap_frames(
                src, _read_frames(reader, max_frames), watermark=spec, fps=fps, smoothing=smoothing
            ):
                if writer is None:
                    height, width = result.image.shape[:2]
                    writer = cv2.VideoWriter(
                        str(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height)
                    )
                    if not writer.isOpened():
                        raise UnreadableVideo(f"Could not open {out_path.name} for writing.")
                writer.write(cv2.cvtColor(result.image, cv2.COLOR_RGB2BGR))
                frames += 1
                swapped += result.swapped
            if frames == 0:
                raise UnreadableVideo("The video has no decodable frames.")
            if swapped == 0:
                raise NoFaceInTarget("No face was found in any frame of the video.")
        except BaseException:
            if writer is not None:
                writer.release()
                writer = None
            out_path.unlink(missing_ok=True)
            raise
        finally:
            reader.close()
            if writer is not None:
                writer.release()
        return VideoSwapResult(out_path, frames, swapped, float(fps), width, height, spec.payload_bytes)


@dataclass
class _Track:
    points: np.ndarray
    box: Box
    frame: np.ndarray  # the previous frame, for phase correlation
    triangles: np.ndarray | None = None


def _read_frames(reader: VideoReader, max_frames: int | None) -> Iterator[np.ndarray]:
    """Every frame (at most ``max_frames``) through the shared frame guard (``detection.video``); a file
    with no decodable frame, or damaged past reading, is ``unreadable_video``."""
    try:
        for _, _, rgb in reader.every_frame(max_frames=max_frames):
            yield rgb
    except DetectionError as exc:
        if isinstance(exc, ImageTooLarge | VideoTooLong):
            raise  # a limit, not damage: its own stable code
        raise UnreadableVideo(exc.message) from exc


def watermark_min_side() -> int:
    return int(watermark.MIN_SIDE)
