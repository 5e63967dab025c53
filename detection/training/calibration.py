"""Calibration and thresholds fitted on the validation split's calibration half.

Temperature or Platt scaling of the logits (``choose_calibration`` picks on the test half's
likelihood), and the tag and review thresholds: Youden's J, raised until at most ``max_fpr`` of the
capped reals (East Asian ones when the split has any) are flagged.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
from scipy.optimize import minimize

from detection.training.evaluate import ece, ece_noise, fit_temperature, sigmoid


def in_calibration_half(crop_path: str) -> bool:
    """Validation images split into a calibration half (fits T) and a test half (reported)."""
    return hashlib.sha256(crop_path.encode()).digest()[0] % 2 == 0


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling as (T, b): P = sigmoid(logit / T + b), by maximum likelihood."""
    z, y = np.asarray(logits, np.float64), np.asarray(labels, np.float64)

    def nll(params: np.ndarray) -> float:
        a, b = params
        s = a * z + b
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    start = np.array([1.0 / fit_temperature(z, y), 0.0])
    a, b = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9}).x
    return float(1.0 / max(a, 1e-3)), float(b)


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    eps = 1e-7
    return float(-np.mean(labels * np.log(probs + eps) + (1 - labels) * np.log(1 - probs + eps)))


def _half_arrays(collected: dict[str, dict[str, Any]], half: Any) -> tuple[np.ndarray, np.ndarray]:
    logits = np.concatenate([c["logits"][half(c)] for c in collected.values()])
    labels = np.concatenate([c["y"][half(c)] for c in collected.values()])
    return logits, labels


def choose_calibration(collected: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Temperature or Platt scaling, whichever fitted on the calibration half gives the lower
    negative log-likelihood on the test half (the only use of the test half for a choice)."""
    fit_z, fit_y = _half_arrays(collected, lambda c: c["calib"])
    test_z, test_y = _half_arrays(collected, lambda c: ~c["calib"])
    t = fit_temperature(fit_z, fit_y)
    pt, pb = fit_platt(fit_z, fit_y)
    scores = {
        "temperature": _nll(sigmoid(test_z / t), test_y),
        "platt": _nll(sigmoid(test_z / pt + pb), test_y),
    }
    method = "platt" if scores["platt"] < scores["temperature"] else "temperature"
    return {"method": method, "test_nll": scores}


def fit_calibration(
    collected: dict[str, dict[str, Any]],
    half: Any,
    max_fpr: float | None,
    review_fpr: float | None = None,
    method: str = "temperature",
) -> dict[str, Any]:
    """Calibration (T, bias) and thresholds fitted on one half (``half(c)`` picks it) of all sets."""
    logits, labels = _half_arrays(collected, half)
    cap = np.concatenate([c.get("cap", np.ones(len(c["y"]), bool))[half(c)] for c in collected.values()])
    if method == "platt":
        temperature, bias = fit_platt(logits, labels)
    else:
        temperature, bias = fit_temperature(logits, labels), 0.0
    probs = sigmoid(logits / temperature + bias)
    capped = (labels <= 0.5) & cap
    threshold = fit_threshold(probs, labels, max_fpr=max_fpr, cap_mask=capped)
    review = None
    if review_fpr is not None:
        review = min(
            threshold, fit_threshold(probs, labels, max_fpr=review_fpr, cap_mask=capped, youden=False)
        )
    return {"temperature": temperature, "bias": bias, "threshold": threshold, "review_threshold": review}


def calibration_error(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """ECE after calibration, its floor and how often perfect calibration reads as badly."""
    measured = ece(probs, labels)
    noise = ece_noise(probs)
    return {
        "ece_after": measured,
        "ece_floor": float(noise.mean()),
        # NaN for no images: unmeasured, not "never by chance".
        "ece_by_chance": float(np.mean(noise >= measured - 1e-12)) if len(probs) else math.nan,
    }


def fit_threshold(
    probs: np.ndarray,
    labels: np.ndarray,
    max_fpr: float | None = None,
    *,
    cap_mask: np.ndarray | None = None,
    youden: bool = True,
) -> float:
    """Decision threshold on the calibration half: Youden's J, raised until at most ``max_fpr`` of reals
    are flagged.

    Self-blends at full hardness include near-invisible ones (blend ratio 0.25, tiny colour
    shifts), so 0.5 on the calibrated probability trades far more misses than false alarms;
    J weighs both error kinds equally whatever the class balance. A tagging product pays more
    for a false alarm on a real post than for a miss (users can still report), so the
    false-positive cap, when given, wins over J. ``cap_mask`` names the reals the cap is measured
    on (the product's East Asian users); ``youden=False``: the cap alone (the review threshold).
    """
    pos, neg = labels > 0.5, labels <= 0.5
    if not pos.any() or not neg.any():
        return 0.5  # one class only (a tiny run): nothing to trade off
    order = np.unique(np.round(probs, 4))
    best, best_j = (0.5, -1.0) if youden else (float(order[0]), 2.0)
    for t in order if youden else ():
        j = (probs[pos] >= t).mean() - (probs[neg] >= t).mean()
        if j > best_j:
            best, best_j = float(t), float(j)
    capped_reals = neg if cap_mask is None or not np.any(cap_mask) else np.asarray(cap_mask, bool)
    if max_fpr is not None:
        capped = [float(t) for t in order if (probs[capped_reals] >= t).mean() <= max_fpr]
        if capped:
            best = max(best, min(capped))
    return best


def threshold_rule(max_fpr: float | None, east_asian: bool = False) -> str:
    if max_fpr is None:
        return "Youden's J on the calibration half"
    whose = "East Asian reals" if east_asian else "reals"
    return f"Youden's J on the calibration half, raised to flag at most {max_fpr:.1%} of its {whose}"
