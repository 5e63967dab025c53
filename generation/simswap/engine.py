"""The SimSwap face-swap pipeline, for operators who supply the official checkpoints.

    ok, reason = simswap_availability(SimSwapConfig(generator_path, arcface_path, size=224))
    engine = SimSwapEngine.from_paths(generator_path, arcface_path, size=224)
    result = engine.swap(source_rgb, target_rgb, watermark=lambda rgb: watermark.embed(rgb, payload, key))

Steps: detect faces and their 5 landmarks (``detection.faces.FaceDetector``, MTCNN); align the
source's largest face to the model's template and compute its identity (aligned crop → ImageNet
normalisation → 112×112 → ArcFace → L2-normalised 512-d); align the target's largest face (or
every face with ``all_faces=True``) the same way, run the generator on it, and paste the result
back under a soft face mask with a feathered border (``blending.py``).

Watermarking: the engine returns the frame UNWATERMARKED unless ``watermark`` is given: a callback
taking and returning the full RGB frame, or an object with such a ``mark`` method (the landmark
engine's ``WatermarkSpec`` fits), applied last (after blending, on the whole frame, as the design
requires). Whoever stores or returns an image must either pass that callback or watermark
the result itself; ``SwapResult.watermarked`` says which happened.

The official weights are CC BY-NC and are not shipped: ``simswap_availability`` says plainly
what is missing or wrong, so the service can list the engine as unavailable with that reason.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from detection.faces import Face, FaceDetector
from generation.simswap.alignment import alignment_matrix, transform_points, warp_to_crop
from generation.simswap.arcface import ArcFace, identity_embedding
from generation.simswap.blending import face_mask, paste_back
from generation.simswap.checkpoints import load_arcface, load_generator, verify_arcface, verify_generator
from generation.simswap.errors import InvalidImage, NoFaceInSource, NoFaceInTarget, SimSwapError
from generation.simswap.generator import SIZES, SimSwapGenerator
from generation.simswap.inference import prepare_for_cpu

ENGINE_NAME = "simswap"
OFFICIAL_FILES = {
    224: "checkpoints/people/latest_net_G.pth",
    512: "checkpoints/512/550000_net_G.pth",
}
OFFICIAL_ARCFACE = "arcface_model/arcface_checkpoint.tar"
MIN_SIDE = 32

Watermarker = Callable[[np.ndarray], np.ndarray]


class MarksImages(Protocol):
    """Anything with ``mark(rgb) -> rgb``, e.g. the landmark engine's ``WatermarkSpec``."""

    def mark(self, rgb: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class SimSwapConfig:
    """Where the operator put the official checkpoints, and which model (224 or 512) they are."""

    generator_path: str | os.PathLike[str] | None = None
    arcface_path: str | os.PathLike[str] | None = None
    size: int = 224

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SimSwapConfig:
        """From a settings dict: keys ``generator_path``, ``arcface_path``, ``size`` (any case, with
        or without a ``simswap_`` prefix, so ``SIMSWAP_GENERATOR_PATH`` works too)."""
        lowered = {str(k).lower().removeprefix("simswap_"): v for k, v in values.items()}
        size = lowered.get("size") or 224
        return cls(lowered.get("generator_path") or None, lowered.get("arcface_path") or None, int(size))


@dataclass(frozen=True)
class Identity:
    """A source face's SimSwap identity: the L2-normalised ArcFace embedding, shape (1, 512)."""

    embedding: torch.Tensor
    face: Face


@dataclass(frozen=True)
class SwapResult:
    image: np.ndarray  # full frame, uint8 RGB; watermarked only if ``watermarked``
    source_face: Face
    target_faces: tuple[Face, ...]
    size: int
    watermarked: bool
    timings_ms: dict[str, float] = field(default_factory=dict)


def simswap_availability(
    config: SimSwapConfig | Mapping[str, Any], *, verify: bool = True
) -> tuple[bool, str]:
    """``(available, reason)``: whether the configured checkpoints are there and have the official layout.

    With ``verify`` each file is opened and its keys and shapes checked (tensor data is memory-mapped
    when the file is in the zip format, so that is cheap; the pre-1.6 format is read in full, a
    second or two); verdicts are cached per file version (path, size, modification time).
    """
    if not isinstance(config, SimSwapConfig):
        try:
            config = SimSwapConfig.from_mapping(config)
        except (TypeError, ValueError) as exc:
            return False, f"The SimSwap settings are invalid ({exc}): size must be 224 or 512."
    if config.size not in SIZES:
        return False, f"SimSwap size must be 224 or 512, not {config.size}."
    missing = []
    if not config.generator_path:
        missing.append(f"the generator ({OFFICIAL_FILES[config.size]})")
    if not config.arcface_path:
        missing.append(f"ArcFace ({OFFICIAL_ARCFACE})")
    if missing:
        return False, (
            f"SimSwap is not configured: set the path of {' and of '.join(missing)}. The official "
            "SimSwap weights are licensed CC BY-NC and are not bundled; an operator must obtain them."
        )
    for path, what in ((config.generator_path, "generator"), (config.arcface_path, "ArcFace")):
        if not Path(path).is_file():
            return False, f"SimSwap {what} checkpoint not found at {path}."
    if verify:
        problem = _verified(Path(config.generator_path), config.size) or _verified(
            Path(config.arcface_path), None
        )
        if problem:
            return False, problem
    return True, f"SimSwap {config.size} model ready ({config.generator_path}, {config.arcface_path})."


_VERDICTS: dict[tuple[str, int | None, int, int], str] = {}
_VERDICTS_LOCK = threading.Lock()


def _verified(path: Path, size: int | None) -> str:
    """'' when ``path`` checks out as the ``size`` generator (``None``: ArcFace), else the reason."""
    stat = path.stat()
    key = (str(path.resolve()), size, stat.st_mtime_ns, stat.st_size)
    with _VERDICTS_LOCK:
        if key in _VERDICTS:
            return _VERDICTS[key]
    try:
        if size is None:
            verify_arcface(path)
        else:
            verify_generator(path, size)
        verdict = ""
    except SimSwapError as exc:
        verdict = exc.message
    with _VERDICTS_LOCK:
        _VERDICTS[key] = verdict
    return verdict


class SimSwapEngine:
    """SimSwap's generator and ArcFace with the detection, alignment and blending around them."""

    name = ENGINE_NAME

    def __init__(
        self,
        generator: SimSwapGenerator,
        arcface: ArcFace,
        *,
        detector: FaceDetector | None = None,
        optimize: bool = True,
        bfloat16: bool = False,
    ) -> None:
        """``optimize`` folds BatchNorm and switches to channels_last in place (same outputs to
        float rounding); ``bfloat16`` runs both networks under bf16 autocast (faster on CPUs with
        AMX/AVX-512 BF16, outputs differ by about 1/255: see bench/generate_simswap.py)."""
        self.generator = prepare_for_cpu(generator, fold=optimize, channels_last=optimize)
        self.arcface = prepare_for_cpu(arcface, fold=optimize, channels_last=optimize)
        self.size = generator.size
        self.detector = detector or FaceDetector()
        self.bfloat16 = bfloat16

    @classmethod
    def from_paths(
        cls,
        generator_path: str | os.PathLike[str],
        arcface_path: str | os.PathLike[str],
        size: int = 224,
        **options: Any,
    ) -> SimSwapEngine:
        """Load the official checkpoints (raises ``CheckpointMissing`` / ``CheckpointRejected``).

        ``options`` go to the constructor (``detector``, ``optimize``, ``bfloat16``)."""
        return cls(load_generator(generator_path, size), load_arcface(arcface_path), **options)

    @classmethod
    def from_config(cls, config: SimSwapConfig | Mapping[str, Any], **options: Any) -> SimSwapEngine:
        if not isinstance(config, SimSwapConfig):
            config = SimSwapConfig.from_mapping(config)
        return cls.from_paths(config.generator_path, config.arcface_path, config.size, **options)

    # -- network level: aligned crops in, tensors/crops out ------------------------------------

    @torch.inference_mode()
    def embed_aligned(self, crops: np.ndarray) -> torch.Tensor:
        """Identity embeddings (N, 512) of aligned uint8 RGB crops (N, size, size, 3)."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            embedding = identity_embedding(self.arcface, _to_tensor(crops))
        return torch.nn.functional.normalize(embedding.float(), dim=1)

    @torch.inference_mode()
    def generate_aligned(self, crops: np.ndarray, embedding: torch.Tensor) -> np.ndarray:
        """The generator's output for aligned uint8 RGB crops (N, size, size, 3), as uint8 crops."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            out = self.generator(_to_tensor(crops), embedding.expand(len(crops), -1))
        return (out.float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()

    # -- image level -------------------------------------------------------------------------

    def align(self, rgb: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
        """``(crop, matrix)``: the face aligned to this model's template, and the frame→crop map."""
        matrix = alignment_matrix(np.array(face.landmarks), self.size)
        return warp_to_crop(rgb, matrix, self.size), matrix

    def identity(self, source_rgb: np.ndarray) -> Identity:
        """The identity of the largest face in ``source_rgb`` (raises ``NoFaceFound``)."""
        _check_rgb(source_rgb, "source")
        faces = self.detector.detect(source_rgb)
        if not faces:
            raise NoFaceInSource()
        crop, _ = self.align(source_rgb, faces[0])
        return Identity(self.embed_aligned(crop[None]), faces[0])

    def swap(
        self,
        source_rgb: np.ndarray,
        target_rgb: np.ndarray,
        *,
        all_faces: bool = False,
        watermark: Watermarker | MarksImages | None = None,
    ) -> SwapResult:
        """Put the source's face identity on the target's largest face (or on all its faces)."""
        clock = time.perf_counter()
        identity = self.identity(source_rgb)
        identity_ms = _lap(clock)
        result = self.swap_identity(identity, target_rgb, all_faces=all_faces, watermark=watermark)
        result.timings_ms["identity"] = identity_ms
        return result

    def swap_identity(
        self,
        identity: Identity,
        target_rgb: np.ndarray,
        *,
        all_faces: bool = False,
        watermark: Watermarker | MarksImages | None = None,
    ) -> SwapResult:
        """Like ``swap`` with a precomputed source identity (e.g. one source, many frames)."""
        _check_rgb(target_rgb, "target")
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        faces = self.detector.detect(target_rgb)
        if not faces:
            raise NoFaceInTarget()
        targets = tuple(faces if all_faces else faces[:1])
        timings["detect"] = _lap(clock)
        frame = target_rgb
        network = 0.0
        for face in targets:
            crop, matrix = self.align(target_rgb, face)
            clock = time.perf_counter()
            swapped = self.generate_aligned(crop[None], identity.embedding)[0]
            network += _lap(clock)
            mask = face_mask(transform_points(np.array(face.landmarks), matrix), self.size)
            frame = paste_back(frame, swapped, matrix, mask)
        timings["generator"] = round(network, 1)
        if watermark is not None:
            clock = time.perf_counter()
            frame = watermark.mark(frame) if hasattr(watermark, "mark") else watermark(frame)
            timings["watermark"] = _lap(clock)
        return SwapResult(
            image=frame,
            source_face=identity.face,
            target_faces=targets,
            size=self.size,
            watermarked=watermark is not None,
            timings_ms=timings,
        )


def _to_tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div(255.0)


def _check_rgb(image: Any, role: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InvalidImage(f"The {role} image must be an RGB uint8 array of shape (height, width, 3).")
    if min(image.shape[:2]) < MIN_SIDE:
        raise InvalidImage(f"The {role} image is smaller than {MIN_SIDE} pixels on a side.")


def _lap(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
