"""The built-in face swap: landmarks → pose → swap geometry → triangulated warp → mask and occluders
→ relight → multi-band blend → grain → watermark.

Every public entry point takes a ``WatermarkSpec`` (payload + key) as a required argument and
marks each image or frame before returning it (``watermark.embed`` on the full frame after
blending), so no caller — the service layer included — can get an unmarked output from it.

``SwapSettings(legacy=True)`` keeps the pipeline as it was before issue 23 (convex-hull mask
feathered by a blur, whole-face Lab transfer, no occlusion, relighting, grain or pose check), so
the benchmark can put both side by side in one run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

import watermark
from detection.errors import DetectionError, ImageTooLarge, VideoTooLong
from detection.imaging import DEFAULT_MAX_PIXELS
from detection.video import VideoReader
from generation.landmark import blend, colour, faces, grain, mask, mesh, occlusion, pose
from generation.landmark.errors import (
    InvalidImage,
    NoFaceInSource,
    NoFaceInTarget,
    PoseMismatch,
    SeveralFacesInSource,
    UnreadableVideo,
    WatermarkRequired,
)
from generation.landmark.faces import Box
from generation.landmark.smoothing import LandmarkSmoother, SmoothingSettings
from generation.landmark.warp import Region, piecewise_affine, region_around
from watermark.codec import payload_to_bytes
from watermark.keys import check_key

# A second face counts in a source photo only if it is at least this large relative to the
# largest one: a stranger far in the background does not make the source ambiguous.
SECOND_FACE_MIN_RATIO = 0.4
MIN_SOURCE_FACE = 40  # px: smaller faces have too little texture to swap
DEFAULT_SMOOTHING = SmoothingSettings()
# Phase-correlation peak below which the picture is taken to have changed (a cut): detect anew.
TRACK_MIN_RESPONSE = 0.3
BLENDS = ("multiband", "poisson", "feather")
LEGACY_BLENDS = ("feather", "poisson")


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
    colour_transfer: bool = True  # relight the source to the target (legacy: whole-face Lab transfer)
    # "multiband" (Laplacian pyramid), "poisson" (cv2.seamlessClone) or "feather" (alpha blend)
    blend: str = "multiband"
    legacy: bool = False  # the pre-issue-23 pipeline, for comparison (blend "feather" or "poisson")
    max_yaw_difference: float = pose.MAX_YAW_DIFFERENCE  # degrees; larger: pose_mismatch
    grain: bool = True  # match the frame's fine grain (noise where the swap is smoother, blur where sharper)
    detect_max_side: int = faces.DETECT_MAX_SIDE


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
        return _flip(self)


@dataclass(frozen=True)
class SwapResult:
    image: np.ndarray  # the swapped RGB frame, watermarked
    payload: bytes
    faces_in_target: int  # in a video, 1 on frames where the face was tracked, not detected
    target_box: Box | None = None  # the face that was swapped (the largest, or the tracked one)
    target_landmarks: np.ndarray | None = None  # (68, 2) as detected (smoothed in videos)
    warped_landmarks: np.ndarray | None = None  # (78, 2) where the source mesh was warped to
    mirrored: bool = False  # the source was flipped to match the target's pose
    pose_refused: bool = False  # a face was found but its pose was too far from the source's

    @property
    def swapped(self) -> bool:
        return self.warped_landmarks is not None


@dataclass(frozen=True)
class Composite:
    """An unmarked swap (private to the engine, its benchmark and training swaps)."""

    image: np.ndarray
    dst: np.ndarray  # (78, 2) where the source mesh was warped to
    alpha: np.ndarray | None  # the blend mask over ``region`` (float32 in [0, 1]); None: no swap
    region: Region
    mirrored: bool = False


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
        return SourceFace(face.image, face.box, face.points, face.mesh, mirrored=_flip(face))

    # ------------------------------------------------------------------ images

    def swap_image(
        self, source: np.ndarray | SourceFace, target: np.ndarray, *, watermark: WatermarkSpec
    ) -> SwapResult:
        """The source's face on the target's largest face, watermarked.

        Raises ``no_face_in_source``, ``several_faces_in_source``, ``no_face_in_target``,
        ``pose_mismatch`` (yaws too far apart even with the source mirrored),
        ``invalid_image`` (including a target too small to carry the watermark)."""
        spec = _check_watermark(watermark)
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
        """The unmarked swap, its destination mesh and blend mask. Private: callers get marked frames only."""
        s = self.settings
        dst68 = mesh.swap_geometry(src.points, points, s.inner_shape, s.jaw_shape)
        dst = mesh.dense(dst68)
        tri = mesh.triangles(dst) if tri is None else tri
        region = region_around(dst, target.shape)
        if region.shape[0] < 4 or region.shape[1] < 4:
            return Composite(target.copy(), dst, None, region)
        warped, covered = piecewise_affine(src.image, src.mesh, dst, tri, region, fill_slivers=not s.legacy)
        roi = target[region.slices]
        if s.legacy:
            merged, alpha = self._legacy_blend(roi, warped, covered, dst, dst68, region)
        else:
            merged, alpha = self._seamless_blend(roi, warped, covered, points, dst68, dst, region)
        out = target.copy()
        out[region.slices] = merged
        return Composite(out, dst, alpha, region)

    def _legacy_blend(
        self,
        roi: np.ndarray,
        warped: np.ndarray,
        covered: np.ndarray,
        dst: np.ndarray,
        dst68: np.ndarray,
        region: Region,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pipeline before issue 23: hull mask cut by the warp's coverage, whole-face Lab."""
        alpha = blend.face_mask(dst, region, mesh.face_scale(dst68)) * (covered > 0)
        if self.settings.colour_transfer:
            warped = colour.match_lab(warped, roi, alpha > 0.5)
        if self.settings.blend == "poisson":
            return blend.poisson(roi, warped, alpha), alpha
        return blend.feather(roi, warped, alpha), alpha

    def _seamless_blend(
        self,
        roi: np.ndarray,
        warped: np.ndarray,
        covered: np.ndarray,
        points: np.ndarray,
        dst68: np.ndarray,
        dst: np.ndarray,
        region: Region,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Contour mask minus occluders, relit source, multi-band blend, matched grain."""
        s = self.settings
        scale = mesh.face_scale(dst68)
        grid = mask.Grid.around(region, scale)
        roi_w, warped_w = grid.down(roi), grid.down(warped)
        inside = mask.face_region(grid, mesh.dense(points), dst)
        inside &= np.where(grid.down(covered) >= 250, 255, 0).astype(np.uint8)  # only warped pixels
        zones = mask.feature_zones(grid, points, dst68)
        eyes = mask.eye_zones(grid, points, dst68)
        occluded = occlusion.occluders(roi_w, inside, zones, grid.local(points), grid, eyes=eyes)
        # The source's own occluders (its glasses, a cap's brim, a hand, long hair) are not pasted in.
        pasted = occlusion.occluders(warped_w, inside, zones, grid.local(dst68), grid, eyes=eyes)
        ramp = mask.feathered(inside, grid)
        alpha_w = ramp * (1.0 - occluded) * (1.0 - pasted)
        skin_t = occlusion.skin_pixels(roi_w, inside, zones, grid) & (occluded < 0.5)
        if s.colour_transfer:
            skin = skin_t & occlusion.skin_pixels(warped_w, inside, zones, grid) & (pasted < 0.5)
            band = skin & (inside > 0) & (ramp < 1.0)  # the eroded rim and the ramp: what borders the seam
            tone_from = band if band.sum() >= colour.MIN_BAND_PIXELS else skin
            where = grid.up(tone_from.astype(np.uint8), nearest=True) > 0
            toned = colour.match_lab(warped, roi, where, colour.BAND_STD_RATIO)
            # Skin takes the target's tone, near-neutral features (teeth, eyes) little of it.
            likeness = grid.up(colour.tone_weight(warped_w, skin))[..., None]
            base_w = warped.astype(np.float32)
            lit = base_w + likeness * (toned.astype(np.float32) - base_w)
            sigma = colour.RELIGHT_SIGMA * grid.face_scale
            shading = colour.shading_gain(roi_w, grid.down(lit), skin, sigma)
            lit *= grid.up(shading)[..., None]
        else:
            lit = warped.astype(np.float32)
        alpha = grid.up(alpha_w)
        keep = grid.up(occluded)[..., None]
        base = roi.astype(np.float32)
        # Outside the mask the warp is never shown, but a pyramid's coarse bands would carry it
        # across the seam: the target stands in for it there.
        lit = np.where(alpha[..., None] > 0, lit, base)
        if s.blend == "multiband":
            merged = blend.multiband(base, lit, alpha, blend.pyramid_levels(mask.feather_px(scale)))
        elif s.blend == "poisson":
            lit8 = np.clip(lit + 0.5, 0, 255).astype(np.uint8)
            merged = blend.poisson(roi, lit8, alpha).astype(np.float32)
        else:
            merged = blend.feather(roi, np.clip(lit + 0.5, 0, 255).astype(np.uint8), alpha).astype(np.float32)
        # Occluders stay the target's exactly: coarse bands blurred some of the face over them.
        merged = merged * (1.0 - keep) + base * keep
        if s.grain:
            merged = grain.match(merged, roi, alpha, grid.up(skin_t.astype(np.uint8), nearest=True) > 0)
        return np.clip(merged + 0.5, 0, 255).astype(np.uint8), alpha

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
        frames = swapped = refused = 0
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
                refused += result.pose_refused
            if frames == 0:
                raise UnreadableVideo("The video has no decodable frames.")
            if swapped == 0 and refused:
                raise PoseMismatch(
                    f"The face in the video is turned too differently from the source's on every frame "
                    f"where it was found ({refused}); use a source photo turned like the target."
                )
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
    mirror: bool | None = None  # whether the source is mirrored on this track (decided on its first swap)


def _flip(face: SourceFace) -> SourceFace:
    image = np.ascontiguousarray(face.image[:, ::-1])
    w = image.shape[1]
    box = Box(w - face.box.x2, face.box.y1, w - face.box.x1, face.box.y2, face.box.score)
    points = faces.landmarks(image, box)
    return SourceFace(image=image, box=box, points=points, mesh=mesh.dense(points))


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
