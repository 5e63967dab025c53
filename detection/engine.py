"""The detection engine: media in, a calibrated and explained verdict out.

image → faces (MTCNN) → square ×1.3 crops → classifier ensemble → per-face P(fake);
the image's probability is the maximum over its faces (one fake face makes the image
fake). Video → frames sampled at a fixed rate → the same per frame (max over faces) →
an aggregate over frames (or over per-face tracks, ``detection.tracks``). No face anywhere →
``not_applicable``, never a silent ``real``.

The results it returns are ``detection.results``, the video aggregates ``detection.aggregation``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from detection.aggregation import AGGREGATIONS, AGGREGATORS, aggregate_confident, aggregate_mean, shift_logit
from detection.classifier import Classifier, ModelInfo, WeightsArg, get_classifier
from detection.errors import EmptyInput, UnsupportedMedia
from detection.faces import Face, FaceDetector
from detection.imaging import DEFAULT_MAX_PIXELS, DEFAULT_WORK_PIXELS, load_image_scaled, read_head, sniff
from detection.plots import heatmap_overlay_png
from detection.prefetch import prefetched
from detection.results import (
    FAKE,
    NOT_APPLICABLE,
    REAL,
    AnalysisResult,
    FaceResult,
    FrameResult,
    ImageResult,
    VideoResult,
)
from detection.tracks import aggregate_tracks
from detection.video import VideoReader, temporary_video_file

# The results and aggregates are importable from here, where the engine's callers import them.
__all__ = [
    "AGGREGATIONS",
    "FAKE",
    "NOT_APPLICABLE",
    "REAL",
    "AnalysisResult",
    "Detector",
    "FaceResult",
    "FrameResult",
    "ImageResult",
    "VideoResult",
    "aggregate_confident",
    "aggregate_mean",
    "shift_logit",
]

HEATMAP_METHODS = ("boundary", "gradcam")
MIN_IMAGE_SIDE = 16  # below this no face can be found; skip MTCNN entirely
SMALL_FACE_SIZE = 12  # MTCNN's smallest window: faces found only at this size are "too small"
# In video frames, faces smaller than this share of the shorter side are not searched for:
# MTCNN's cost is set by its smallest face (1080p: ~60 px instead of 40 saves ~30 %), and a
# face that small in a video frame is too blurred to judge.
VIDEO_MIN_FACE_FRACTION = 0.055

ProgressCallback = Callable[[int, int], None]
# Called with each sampled RGB frame, so a caller can use the decode too (the scan's watermark vote).
FrameHook = Callable[[np.ndarray], None]
Media = bytes | str | Path


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous count. (With torch's
    OpenMP backend the count is per calling thread; threads that start meanwhile inherit it.)"""
    before = torch.get_num_threads()
    if not threads or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Detector:
    """Analyses images and videos with one face detector and one (shared) classifier."""

    def __init__(
        self,
        weights: WeightsArg,
        fps: float = 2.0,
        min_face_size: int = 40,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        work_pixels: int = DEFAULT_WORK_PIXELS,
        max_video_seconds: float = 600.0,
        max_frames: int = 300,
        aggregation: str | None = None,
        threshold: float | None = None,
        threads: int | None = None,
        max_faces: int = 20,
        backend: str = "auto",
        cache_dir: str | Path | None = None,
        decode_threads: int = 0,
        prefetch: int = 2,
        video_threads: int | None = 1,
    ) -> None:
        self.classifier: Classifier = get_classifier(
            weights, threshold=threshold, threads=threads, backend=backend, cache_dir=cache_dir
        )
        # Default: the aggregate the model's card names (chosen on its training clips).
        aggregation = aggregation or self.classifier.cards[0].video_aggregation
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {aggregation!r}")
        self.min_face_size = int(min_face_size)
        self.face_detector = FaceDetector(min_face_size=self.min_face_size)
        self._small_face_detector = FaceDetector(min_face_size=SMALL_FACE_SIZE)
        self._video_face_detectors: dict[int, FaceDetector] = {}
        self.fps = float(fps)
        self.max_pixels = int(max_pixels)
        self.work_pixels = int(work_pixels)  # larger images are analysed at reduced size
        self.max_video_seconds = float(max_video_seconds)
        self.max_frames = int(max_frames)
        self.aggregation = aggregation
        self.max_faces = int(max_faces)  # largest faces first; bounds the cost of crowd photos
        self.decode_threads = int(decode_threads)  # FFmpeg threads for video (0: one per core)
        self.prefetch = int(prefetch)  # sampled frames decoded ahead while the models run
        # Torch threads while a video is analysed with decoding in the background: torch's OpenMP
        # threads spin-wait at every barrier, so sharing the cores with FFmpeg's threads makes
        # small-op models (MTCNN) several times slower with 2 threads than with 1. None: unchanged.
        self.video_threads = video_threads

    @classmethod
    def from_settings(cls, config: Mapping[str, Any], **overrides: Any) -> Detector:
        """Build from a ``FAKEME_DETECTOR``-style dict (WEIGHTS, VIDEO_FPS, MAX_VIDEO_SECONDS, ...).

        ``overrides`` are constructor arguments that win over the dict; None values are ignored.
        """
        kwargs: dict[str, Any] = {"weights": config["WEIGHTS"]}
        keys = {
            "VIDEO_FPS": "fps",
            "MIN_FACE_SIZE": "min_face_size",
            "MAX_PIXELS": "max_pixels",
            "WORK_PIXELS": "work_pixels",
            "MAX_VIDEO_SECONDS": "max_video_seconds",
            "MAX_VIDEO_FRAMES": "max_frames",
            "AGGREGATION": "aggregation",
            "THRESHOLD": "threshold",
            "THREADS": "threads",
            "BACKEND": "backend",
            "CACHE_DIR": "cache_dir",
        }
        kwargs.update({arg: config[key] for key, arg in keys.items() if config.get(key) is not None})
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kwargs)

    def warmup(self) -> None:
        """Pay first-call costs (MTCNN construction, first forward) before the first request."""
        size = self.classifier.input_size
        self.classifier.forward([np.full((size, size, 3), 128, np.uint8)], with_heatmaps=True)
        self.face_detector.detect(np.full((64, 64, 3), 128, np.uint8))

    @property
    def model_info(self) -> ModelInfo:
        return self.classifier.info

    @property
    def threshold(self) -> float:
        return self.classifier.threshold

    @property
    def review_threshold(self) -> float | None:
        """The card's lower threshold of the uncertain band (None: the card has none)."""
        return self.classifier.cards[0].review_threshold

    def verdict(self, probability: float | None) -> str:
        if probability is None:
            return NOT_APPLICABLE
        return FAKE if probability >= self.threshold else REAL

    # -- dispatch ---------------------------------------------------------------------
    def analyze(
        self,
        media: Media,
        progress: ProgressCallback | None = None,
        heatmaps: bool = False,
        heatmap_method: str = "boundary",
    ) -> AnalysisResult:
        """Image or video, judged by content (magic bytes), not by name. Heatmaps are for images."""
        kind = self._kind(media)
        if kind == "video":
            return self.analyze_video(media, progress=progress)
        return self.analyze_image(media, heatmaps=heatmaps, heatmap_method=heatmap_method)

    @staticmethod
    def _kind(media: Media) -> str:
        head = read_head(media)
        if not head:
            raise EmptyInput()
        sniffed = sniff(head)
        if sniffed is None:
            raise UnsupportedMedia(
                "The content is not a recognised image (JPEG, PNG, GIF, BMP, TIFF, WebP) "
                "or video (MP4, MOV, WebM, AVI) format."
            )
        return sniffed.kind

    # -- images -----------------------------------------------------------------------
    def analyze_image(
        self, data: Media, heatmaps: bool = False, heatmap_method: str = "boundary"
    ) -> ImageResult:
        if heatmap_method not in HEATMAP_METHODS:
            raise ValueError(f"heatmap_method must be one of {HEATMAP_METHODS}")
        t0 = time.perf_counter()
        decoded = load_image_scaled(data, max_pixels=self.max_pixels, work_pixels=self.work_pixels)
        rgb = decoded.rgb
        t1 = time.perf_counter()
        faces = self._find_faces(rgb)
        # Only when nothing was found: is it "no face" or "faces too small"? (one more MTCNN pass)
        small_faces = 0
        if not faces and min(rgb.shape[:2]) >= MIN_IMAGE_SIDE:
            found = self._small_face_detector.detect_unpadded(rgb)
            small_faces = sum(1 for f in found if f.size < self.min_face_size)
        t2 = time.perf_counter()
        crops = [self.classifier.crop(rgb, face.box) for face in faces]
        out = self.classifier.forward(crops, with_heatmaps=heatmaps and heatmap_method == "boundary")
        t3 = time.perf_counter()
        back = 1.0 / decoded.scale  # boxes and landmarks in pixels of the image as stored
        results = [
            FaceResult(
                tuple(v * back for v in face.box),  # type: ignore[arg-type]
                tuple((x * back, y * back) for x, y in face.landmarks),
                face.confidence,
                p,
            )
            for face, p in zip(faces, out.probabilities, strict=True)
        ]
        timings = {"decode": _ms(t1 - t0), "faces": _ms(t2 - t1), "classify": _ms(t3 - t2)}
        if heatmaps and crops:
            maps = (
                out.heatmaps if heatmap_method == "boundary" else [self.classifier.gradcam(c) for c in crops]
            )
            for result, crop, heat in zip(results, crops, maps or [], strict=True):
                result.heatmap_png = heatmap_overlay_png(crop, heat)
            timings["explain"] = _ms(time.perf_counter() - t3)
        timings["total"] = _ms(time.perf_counter() - t0)
        probability = max(out.probabilities) if results else None
        return ImageResult(
            verdict=self.verdict(probability),
            probability=probability,
            faces=results,
            model=self.model_info,
            timings_ms=timings,
            width=decoded.width,
            height=decoded.height,
            small_faces=small_faces,
        )

    def _find_faces(self, rgb: np.ndarray, video: bool = False) -> list[Face]:
        shorter = min(rgb.shape[:2])
        if shorter < MIN_IMAGE_SIDE:
            return []
        detector = self.face_detector
        if video:
            min_size = max(self.min_face_size, round(shorter * VIDEO_MIN_FACE_FRACTION))
            detector = self._video_face_detectors.setdefault(min_size, FaceDetector(min_face_size=min_size))
        return detector.detect(rgb)[: self.max_faces]

    # -- videos -----------------------------------------------------------------------
    def analyze_video(
        self, video: Media, progress: ProgressCallback | None = None, frame_hook: FrameHook | None = None
    ) -> VideoResult:
        kind = self._kind(video)
        if kind != "video":
            raise UnsupportedMedia(f"Expected a video but got an {kind}.")
        if isinstance(video, bytes | bytearray | memoryview):
            sniffed = sniff(bytes(video[:64]))
            suffix = sniffed.suffix if sniffed else ".mp4"
            with temporary_video_file(bytes(video), suffix) as path:
                return self._analyze_video_file(path, progress, frame_hook)
        return self._analyze_video_file(Path(video), progress, frame_hook)

    def video_reader(self, path: Path) -> VideoReader:
        """A reader of ``path`` with this detector's sampling rate, limits and decoding threads."""
        return VideoReader(
            path,
            fps=self.fps,
            max_seconds=self.max_video_seconds,
            max_frames=self.max_frames,
            max_pixels=self.max_pixels,
            threads=self.decode_threads,
        )

    def _analyze_video_file(
        self, path: Path, progress: ProgressCallback | None, frame_hook: FrameHook | None
    ) -> VideoResult:
        with _torch_threads(self.video_threads if self.prefetch > 0 else None):
            return self._analyze_video_frames(path, progress, frame_hook)

    def _analyze_video_frames(
        self, path: Path, progress: ProgressCallback | None, frame_hook: FrameHook | None
    ) -> VideoResult:
        t0 = time.perf_counter()
        spent_faces = spent_classify = 0.0
        frames: list[FrameResult] = []
        pending: list[tuple[FrameResult, Face, np.ndarray]] = []

        def flush() -> None:
            nonlocal spent_classify
            if not pending:
                return
            tc = time.perf_counter()
            probabilities = self.classifier.predict([crop for _, _, crop in pending])
            for (frame, face, _), p in zip(pending, probabilities, strict=True):
                frame.faces.append(FaceResult(face.box, face.landmarks, face.confidence, p))
            pending.clear()
            spent_classify += time.perf_counter() - tc

        with self.video_reader(path) as reader:
            expected = reader.expected_samples or 0
            # The next samples decode on a background thread while the models run on this one;
            # closing() joins that thread before the reader closes the file under it.
            frames_in = reader.frames()
            samples = closing(prefetched(frames_in, depth=self.prefetch) if self.prefetch > 0 else frames_in)
            with samples as stream:
                for done, (index, timestamp, rgb) in enumerate(stream, start=1):
                    if frame_hook is not None:
                        frame_hook(rgb)
                    tf = time.perf_counter()
                    faces = self._find_faces(rgb, video=True)
                    frame = FrameResult(index, timestamp, None)
                    pending.extend((frame, face, self.classifier.crop(rgb, face.box)) for face in faces)
                    frames.append(frame)
                    spent_faces += time.perf_counter() - tf
                    if len(pending) >= self.classifier.batch_size:  # batch crops across frames
                        flush()
                    if progress is not None:
                        progress(done, max(expected, done))
            flush()
            info, truncated = reader.info, reader.truncated
        if progress is not None and frames and expected != len(frames):
            progress(len(frames), len(frames))

        for frame in frames:
            if frame.faces:
                frame.probability = max(f.probability for f in frame.faces)
        scored = [f.probability for f in frames if f.probability is not None]
        aggregate: dict[str, float | None] = {
            name: (fn(scored) if scored else None) for name, fn in AGGREGATORS.items()
        }
        aggregate["track_topk"] = aggregate_tracks(
            [[(f.box, f.probability) for f in fr.faces] for fr in frames]
        )
        # Clip scores on the photo scale, so one tag threshold serves images and videos alike.
        shift = self.classifier.cards[0].video_logit_shift
        aggregate = {name: shift_logit(value, shift) for name, value in aggregate.items()}
        probability = aggregate[self.aggregation]
        total = time.perf_counter() - t0
        timings = {
            "decode": _ms(total - spent_faces - spent_classify),
            "faces": _ms(spent_faces),
            "classify": _ms(spent_classify),
            "total": _ms(total),
        }
        last_t = frames[-1].timestamp if frames else 0.0
        return VideoResult(
            verdict=self.verdict(probability),
            probability=probability,
            aggregate=aggregate,
            aggregation=self.aggregation,
            frames=frames,
            model=self.model_info,
            timings_ms=timings,
            fps=info.fps,
            duration_s=info.duration_s if info.duration_s is not None else last_t,
            frames_sampled=len(frames),
            sample_fps=self.fps,
            width=info.width,
            height=info.height,
            truncated=truncated,
        )
