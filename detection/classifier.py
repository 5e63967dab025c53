"""The face classifier: one or several FakeMENet weight files behind one calibrated score.

Several files form an ensemble (a platform's fine-tuned model beside the default one):
each member's logit is calibrated by its own card (z / T + b), the calibrated logits are
averaged, and the sigmoid of the mean is P(fake). Averaging calibrated logits rather than
probabilities keeps one over-confident member from saturating the ensemble.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from detection import onnx_backend
from detection.errors import ModelUnavailable
from detection.faces import crop_face
from detection.model import FakeMENet, ModelCard, card_path_for, load_detector

WeightsArg = str | Path | Sequence[str | Path]
BACKENDS = ("auto", "onnxruntime", "torch")


@dataclass
class ModelInfo:
    """What produced a verdict; echoed with every result."""

    name: str
    version: str
    threshold: float
    temperatures: list[float]
    members: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "threshold": self.threshold,
            "temperatures": list(self.temperatures),
            "members": [dict(m) for m in self.members],
        }


@dataclass
class ClassifierOutput:
    probabilities: list[float]
    logits: list[float]  # ensemble mean of calibrated logits (logit / T)
    heatmaps: list[np.ndarray] | None = None  # (S, S) float32 in [0, 1], S = crop size


def _as_paths(weights: WeightsArg) -> list[Path]:
    items = [weights] if isinstance(weights, str | Path) else list(weights)
    if not items:
        raise ModelUnavailable("No detector weights are configured.")
    return [Path(p).expanduser() for p in items]


class Classifier:
    """Scores face crops (RGB uint8, as cut by :meth:`crop`) with a calibrated ensemble.

    ``backend``: ``"auto"`` runs each member in ONNX Runtime when it is installed (exported
    from the safetensors into ``cache_dir`` on first use, see :mod:`detection.onnx_backend`)
    and in torch otherwise; ``"onnxruntime"`` insists on it; ``"torch"`` never uses it.
    Grad-CAM always runs in torch (it needs gradients).
    """

    def __init__(
        self,
        weights: WeightsArg,
        threshold: float | None = None,
        threads: int | None = None,
        batch_size: int = 16,
        backend: str = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if threads:
            torch.set_num_threads(int(threads))  # process-wide: the worker owns its cores
        self.paths = _as_paths(weights)
        self.models: list[FakeMENet] = []
        self.cards: list[ModelCard] = []
        self.runtimes: list[onnx_backend.OrtModel | None] = []
        for path in self.paths:
            try:
                model, card = load_detector(path)
            except FileNotFoundError as exc:
                raise ModelUnavailable(str(exc)) from exc
            except Exception as exc:  # a corrupt or mismatched file: say which one
                raise ModelUnavailable(f"Could not load detector weights {path}: {exc}") from exc
            model.requires_grad_(False)
            self.models.append(model)
            self.cards.append(card)
            runtime = None
            if backend != "torch":
                runtime = onnx_backend.load(
                    model, card, path, int(threads or torch.get_num_threads()), cache_dir
                )
                if runtime is None and backend == "onnxruntime":
                    raise ModelUnavailable(f"ONNX Runtime could not run detector weights {path}.")
            self.runtimes.append(runtime)
        margins = {round(card.crop_margin, 6) for card in self.cards}
        if len(margins) > 1:
            # One crop serves every member; members trained on other margins would be fed off-pipeline.
            raise ModelUnavailable(f"Ensemble members use different crop margins: {sorted(margins)}.")
        primary = self.cards[0]
        self.input_size = primary.input_size
        self.crop_margin = primary.crop_margin
        self.threshold = float(primary.threshold if threshold is None else threshold)
        self.batch_size = batch_size
        self._gradcam_lock = threading.Lock()

    @property
    def backend(self) -> str:
        """What scores crops: ``onnxruntime``, ``torch``, or ``mixed`` when members differ."""
        kinds = {"torch" if r is None else "onnxruntime" for r in self.runtimes}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    # -- description ------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name="+".join(card.name for card in self.cards),
            version="+".join(card.version for card in self.cards),
            threshold=self.threshold,
            temperatures=[float(card.temperature) for card in self.cards],
            members=[
                {"name": card.name, "version": card.version, "file": path.name}
                for card, path in zip(self.cards, self.paths, strict=True)
            ],
        )

    # -- input ------------------------------------------------------------------------
    def crop(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """The training pipeline's crop: square box × card margin, resized to the input size."""
        return crop_face(rgb, box, self.input_size, self.crop_margin)

    def _tensor(self, crops: Sequence[np.ndarray], card: ModelCard) -> torch.Tensor:
        size = card.input_size
        batch = np.stack(
            [
                c
                if c.shape[:2] == (size, size)
                else cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
                for c in crops
            ]
        )
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(card.mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(card.std, dtype=torch.float32).view(1, 3, 1, 1)
        return ((x - mean) / std).contiguous(memory_format=torch.channels_last)

    def _run(self, index: int, chunk: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Member ``index`` on a chunk of crops: (logits[N], boundary logits[N, 1, S/8, S/8])."""
        card = self.cards[index]
        x = self._tensor(chunk, card)
        if card.test_time_flip:  # one pass over the crops and their mirror images
            x = torch.cat([x, x.flip(3)]).contiguous(memory_format=torch.channels_last)
        runtime = self.runtimes[index]
        if runtime is None:
            logit, boundary = self.models[index](x)
        else:
            out = runtime(x.contiguous().numpy())
            logit, boundary = torch.from_numpy(out[0]), torch.from_numpy(out[1])
        if card.test_time_flip:
            n = len(chunk)
            logit = (logit[:n] + logit[n:]) / 2
            boundary = (boundary[:n] + boundary[n:].flip(3)) / 2
        return logit, boundary

    # -- inference --------------------------------------------------------------------
    def forward(self, crops: Sequence[np.ndarray], with_heatmaps: bool = False) -> ClassifierOutput:
        """One pass over all crops (in chunks of ``batch_size``) of every ensemble member."""
        if not crops:
            return ClassifierOutput([], [], [] if with_heatmaps else None)
        out_size = crops[0].shape[0]
        logits = np.zeros(len(crops), dtype=np.float64)
        maps = np.zeros((len(crops), out_size, out_size), dtype=np.float32) if with_heatmaps else None
        with torch.inference_mode():
            for index, card in enumerate(self.cards):
                for start in range(0, len(crops), self.batch_size):
                    chunk = crops[start : start + self.batch_size]
                    logit, boundary = self._run(index, chunk)
                    logits[start : start + len(chunk)] += card.calibrate(logit.double().numpy())
                    if maps is not None:
                        up = F.interpolate(
                            boundary.float(), size=(out_size, out_size), mode="bilinear", align_corners=False
                        )
                        maps[start : start + len(chunk)] += torch.sigmoid(up)[:, 0].numpy()
        logits /= len(self.models)
        probabilities = np.exp(-np.logaddexp(0.0, -logits))  # sigmoid without overflow
        heatmaps = None
        if maps is not None:
            maps /= len(self.models)
            heatmaps = [np.clip(m, 0.0, 1.0) for m in maps]
        return ClassifierOutput([float(p) for p in probabilities], [float(v) for v in logits], heatmaps)

    def predict(self, crops: Sequence[np.ndarray]) -> list[float]:
        """P(fake) per crop."""
        return self.forward(crops).probabilities

    def logits(self, crops: Sequence[np.ndarray]) -> list[float]:
        """Ensemble-mean calibrated logit per crop (``sigmoid`` of it is :meth:`predict`)."""
        return self.forward(crops).logits

    def heatmaps(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Predicted blending-boundary map per crop, in [0, 1] at crop size (ensemble mean).

        The boundary head is trained to draw where a face was blended in, so its map is
        the model's own account of *where* it sees manipulation.
        """
        heatmaps = self.forward(crops, with_heatmaps=True).heatmaps
        return heatmaps if heatmaps is not None else []

    def gradcam(self, crop: np.ndarray) -> np.ndarray:
        """Grad-CAM of the fake logit on the backbone's last conv stage, in [0, 1] at crop size."""
        size = crop.shape[0]
        total = np.zeros((size, size), dtype=np.float32)
        with self._gradcam_lock, torch.enable_grad():
            for model, card in zip(self.models, self.cards, strict=True):
                x = self._tensor([crop], card).requires_grad_(True)
                features, _ = model.forward_features(x)
                logit = model.backbone.forward_head(features).sum()
                (grads,) = torch.autograd.grad(logit, features)
                weights = grads.mean(dim=(2, 3), keepdim=True)
                cam = F.relu((weights * features).sum(dim=1, keepdim=True)).detach()
                cam = F.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)[0, 0]
                peak = float(cam.max())
                if peak > 0:
                    total += (cam / peak).numpy()
        return np.clip(total / len(self.models), 0.0, 1.0)


_CACHE: dict[tuple[object, ...], tuple[tuple[tuple[int, int], ...], Classifier]] = {}
_CACHE_LOCK = threading.Lock()


def get_classifier(
    weights: WeightsArg,
    threshold: float | None = None,
    threads: int | None = None,
    backend: str = "auto",
    cache_dir: str | Path | None = None,
) -> Classifier:
    """The process-wide classifier for these weights, loaded on first use and then shared.

    Every request in a worker reuses the loaded model; replacing a weights file or its card (a
    newer modification time: a recalibration rewrites only the card) loads the new one in its place.
    """
    paths = _as_paths(weights)
    try:
        resolved = tuple(str(p.resolve()) for p in paths)
        mtimes = tuple(
            (p.stat().st_mtime_ns, card.stat().st_mtime_ns if (card := card_path_for(p)).is_file() else 0)
            for p in paths
        )
    except OSError as exc:
        raise ModelUnavailable(f"Detector weights not found: {exc.filename}") from exc
    key = (resolved, threshold, backend, None if cache_dir is None else str(cache_dir))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == mtimes:
            if threads:
                torch.set_num_threads(int(threads))
            return cached[1]
        classifier = Classifier(
            paths, threshold=threshold, threads=threads, backend=backend, cache_dir=cache_dir
        )
        _CACHE[key] = (mtimes, classifier)
        return classifier


def clear_classifier_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
