"""Validation sets and metrics: AUC, accuracy, F1, calibration (ECE), temperature fitting."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, f1_score, roc_auc_score, roc_curve

from detection.model import IMAGENET_MEAN, IMAGENET_STD, FakeMENet, ModelCard
from detection.training.data import FaceCrop, ItemFactory, to_tensors


@dataclass
class EvalSet:
    """``reals`` vs fakes: the reals' own self-blends (``blend=True``) or ``fakes`` as they are."""

    name: str
    reals: list[FaceCrop]
    fakes: list[FaceCrop] = field(default_factory=list)
    blend: bool = False
    seed: int = 0
    _cache: dict[tuple, tuple[torch.Tensor, np.ndarray, list[FaceCrop]]] = field(
        default_factory=dict, repr=False
    )

    def tensors(
        self,
        size: int,
        limit: int = 0,
        mean: tuple[float, ...] = IMAGENET_MEAN,
        std: tuple[float, ...] = IMAGENET_STD,
    ) -> tuple[torch.Tensor, np.ndarray, list[FaceCrop]]:
        """Deterministic items (fixed blends, fixed JPEG qualities), built once per size and
        normalisation (a model's card's ``mean``/``std``)."""
        key = (size, limit, tuple(mean), tuple(std))
        if key not in self._cache:
            reals = self.reals[:limit] if limit else self.reals
            fakes = reals if self.blend else (self.fakes[:limit] if limit else self.fakes)
            factory = ItemFactory(size)
            items, sources = [], []
            for i, crop in enumerate(reals):
                items.append(
                    factory.build(
                        crop,
                        np.random.default_rng([self.seed, i, 0]),
                        blend=False,
                        hardness=1.0,
                        augment=False,
                    )
                )
                sources.append(crop)
            for i, crop in enumerate(fakes):
                items.append(
                    factory.build(
                        crop,
                        np.random.default_rng([self.seed, i, 1]),
                        blend=self.blend,
                        hardness=1.0,
                        augment=False,
                    )
                )
                sources.append(crop)
            batch = to_tensors(items, mean, std)
            self._cache[key] = (batch["x"], batch["y"].numpy(), sources)
        return self._cache[key]


def build_eval_sets(crops: list[FaceCrop], seed: int) -> list[EvalSet]:
    rng = np.random.default_rng(seed)
    reals = [c for c in crops if c.sample.label == 0]
    order = rng.permutation(len(reals))
    reals = [reals[i] for i in order]  # shuffled so a limited prefix still mixes sources and subgroups
    sets = [EvalSet("sbi", reals, blend=True, seed=seed)]
    gan = [c for c in crops if c.sample.kind == "gan"]
    if gan:
        photo_reals = [c for c in reals if "utkface" not in c.sample.path.lower()]
        sets.append(EvalSet("gan", photo_reals, gan, seed=seed))
    other = [c for c in crops if c.sample.kind == "fake"]
    if other:
        sets.append(EvalSet("labelled", reals, other, seed=seed))
    return sets


@torch.inference_mode()
def predict_logits(
    model: FakeMENet,
    x: torch.Tensor,
    batch_size: int = 64,
    *,
    flip: bool = False,
    device: torch.device | None = None,
) -> np.ndarray:
    """Raw logits; with ``flip`` the mean over each image and its mirror (the card's
    ``test_time_flip``, as the service scores)."""
    model.eval()
    device = device or next(model.parameters()).device
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        logit = model(xb)[0].float()
        if flip:
            logit = (logit + model(xb.flip(3))[0].float()) / 2
        out.append(logit.cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def evaluate(
    model: FakeMENet,
    sets: list[EvalSet],
    size: int,
    limit: int = 0,
    threads: int = 2,
    card: ModelCard | None = None,
    device: torch.device | None = None,
) -> dict[str, float]:
    torch.set_num_threads(threads)
    norm = {"mean": tuple(card.mean), "std": tuple(card.std)} if card is not None else {}
    metrics: dict[str, float] = {}
    for s in sets:
        x, y, _ = s.tensors(size, limit, **norm)
        if len(set(y.tolist())) < 2:
            continue
        logits = predict_logits(model, x, device=device)
        metrics[f"{s.name}_auc"] = float(roc_auc_score(y, logits))
        metrics[f"{s.name}_acc"] = float(((logits > 0) == (y > 0.5)).mean())
    return metrics


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _ece_per_row(probs: np.ndarray, labels: np.ndarray, bins: int) -> np.ndarray:
    """ECE of the same scores against each row of ``labels`` (shape: rows × samples)."""
    idx = np.clip(np.digitize(probs, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    total = np.zeros(labels.shape[0])
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * np.abs(probs[sel].mean() - labels[:, sel].mean(axis=1))
    return total


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of P(fake), equal-width bins; NaN for no samples (not a perfect 0)."""
    if len(probs) == 0:
        return float("nan")
    return float(_ece_per_row(probs, np.asarray(labels, dtype=np.float64)[None, :], bins)[0])


def ece_noise(probs: np.ndarray, draws: int = 1000, seed: int = 0, bins: int = 15) -> np.ndarray:
    """ECE a perfectly calibrated model with these scores shows on this many samples: one value per
    simulated draw.

    Labels drawn as Bernoulli(p) are calibrated by construction, so what ECE they still show is
    sampling noise: on a small set that noise alone can exceed a target. Its mean is the floor under
    a measured ECE, and the share of draws at or above a measured ECE says how often perfect
    calibration alone reads that badly.
    """
    if len(probs) == 0:
        return np.full(draws, np.nan)
    rng = np.random.default_rng(seed)
    labels = (rng.random((draws, len(probs))) < probs).astype(np.float64)
    return _ece_per_row(probs, labels, bins)


def gap_noise(sizes: list[int], accuracy: float, draws: int = 1000, seed: int = 0) -> np.ndarray:
    """Largest accuracy gap between groups of these sizes when every group is equally accurate:
    one value per simulated draw (each image right with probability ``accuracy``).

    What a perfectly even model would still show as its gap on this test set: its mean is the floor
    under a measured gap, and the share of draws at or above a measured gap says how often chance
    alone gives a gap that large. Images are drawn independently; a real and its own blend are not
    quite, so the noise is if anything a little larger.
    """
    if len(sizes) < 2:
        return np.zeros(draws)
    rng = np.random.default_rng(seed)
    n = np.asarray(sizes)
    acc = rng.binomial(n, accuracy, size=(draws, len(n))) / n
    return acc.max(axis=1) - acc.min(axis=1)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood (1-D search on log T)."""

    def nll(t: float) -> float:
        p = sigmoid(logits / t)
        eps = 1e-7
        return float(-np.mean(labels * np.log(p + eps) + (1 - labels) * np.log(1 - p + eps)))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 400))
    best = min(grid, key=nll)
    lo, hi = best / 1.05, best * 1.05
    for _ in range(40):  # golden-section refinement
        a, b = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
        lo, hi = (lo, b) if nll(a) < nll(b) else (a, hi)
    return float((lo + hi) / 2)


def binary_report(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, object]:
    if len(labels) == 0:  # a tiny run whose test half got no image of this set
        nan = float("nan")
        return {
            "auc": nan,
            "accuracy": nan,
            "f1": nan,
            "confusion": dict.fromkeys(("tn", "fp", "fn", "tp"), 0),
            "n": 0,
        }
    pred = (probs >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels.astype(int), pred, labels=[0, 1]).ravel()
    return {
        "auc": float(roc_auc_score(labels, probs)) if len(set(labels.tolist())) > 1 else float("nan"),
        "accuracy": float((pred == labels).mean()),
        "f1": float(f1_score(labels.astype(int), pred, zero_division=0)),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "n": int(len(labels)),
    }


def roc_points(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fpr, tpr, _ = roc_curve(labels, probs)
    return fpr, tpr
