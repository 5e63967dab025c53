"""Final evaluation after training: calibration, metrics per set, subgroup accuracy, the targets.

``final_evaluation`` scores the validation sets and ``score_halves`` fits the calibration and the
thresholds on one half (``detection.training.calibration``), reports on the other and cross-fits
both. The Markdown model card written from these results is ``detection.training.model_card``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from detection.model import FakeMENet, ModelCard
from detection.training.calibration import (
    calibration_error,
    choose_calibration,
    fit_calibration,
    in_calibration_half,
    threshold_rule,
)
from detection.training.evaluate import (
    EvalSet,
    binary_report,
    ece,
    gap_noise,
    predict_logits,
    roc_points,
    sigmoid,
)

TARGETS = {"sbi_auc": 0.97, "gan_auc": 0.90, "ece_after": 0.05, "subgroup_gap": 0.05}


def final_evaluation(
    model: FakeMENet,
    card: ModelCard,
    sets: list[EvalSet],
    max_fpr: float | None = None,
    *,
    review_fpr: float | None = None,
    calibration: str = "temperature",
    cap_east_asian: bool = False,
) -> dict[str, Any]:
    """Score the validation sets and fit calibration and thresholds (see :func:`score_halves`);
    ``cap_east_asian``: the false-alarm caps are measured on East Asian reals only."""
    size = card.input_size
    collected: dict[str, dict[str, Any]] = {}
    for s in sets:
        x, y, sources = s.tensors(size, 0, tuple(card.mean), tuple(card.std))
        logits = predict_logits(model, x, flip=card.test_time_flip)
        calib = np.array([in_calibration_half(c.sample.path) for c in sources])
        collected[s.name] = {"logits": logits, "y": y, "calib": calib, "sources": sources}
        if cap_east_asian:
            collected[s.name]["cap"] = np.array([c.sample.east_asian for c in sources])
    return score_halves(collected, max_fpr, review_fpr=review_fpr, calibration=calibration)


def score_halves(
    collected: dict[str, dict[str, Any]],
    max_fpr: float | None = None,
    *,
    review_fpr: float | None = None,
    calibration: str = "temperature",
) -> dict[str, Any]:
    """Fit on the calibration half, report on the test half, and cross-fit both halves.

    ``collected`` maps a set's name to its ``logits``, labels ``y``, ``calib`` mask (the
    calibration half), crop ``sources`` and optionally ``cap``, the reals the false-alarm caps
    are measured on (default: every real). ``calibration``: "temperature", "platt" or "auto"
    (:func:`choose_calibration`). ``review_fpr``: also fit the lower review threshold.
    """
    chosen = choose_calibration(collected) if calibration == "auto" else {"method": calibration}
    method = chosen["method"]
    # One calibration for the model, fitted on the calibration halves of all sets together.
    fit = fit_calibration(collected, lambda c: c["calib"], max_fpr, review_fpr, method)
    temperature, threshold, bias = fit["temperature"], fit["threshold"], fit["bias"]
    results: dict[str, Any] = {
        "temperature": temperature,
        "logit_bias": bias,
        "calibration": chosen,
        "threshold": threshold,
        "review_threshold": fit["review_threshold"],
        # The caps fall back on every real when the split holds no East Asian one.
        "threshold_rule": threshold_rule(
            max_fpr, any(np.any(c.get("cap", False) & (c["y"] <= 0.5)) for c in collected.values())
        ),
        "sets": {},
    }
    # Cross-fitting: the same fit on the test half scores the calibration half, so every image is
    # scored by a temperature and threshold that never saw it and subgroup accuracy and ECE are read
    # on twice the images (half the sampling variance) without leaking the fit into what it scores.
    test_labels = np.concatenate([c["y"][~c["calib"]] for c in collected.values()])
    swap = None
    if len(set(test_labels.tolist())) == 2:
        other = fit_calibration(collected, lambda c: ~c["calib"], max_fpr, review_fpr, method)
        swap = (other["temperature"], other["threshold"], other["bias"])
        results["crossfit"] = {"temperature": swap[0], "threshold": swap[1], "logit_bias": swap[2]}
    for name, c in collected.items():
        # AUC does not depend on T or the threshold, so it uses the whole validation split;
        # everything that does (accuracy, F1, confusion, subgroups, ECE) uses the test half here,
        # and both halves cross-fitted below.
        logits, y, test = c["logits"], c["y"], ~c["calib"]
        cal = sigmoid(logits / temperature + bias)
        rep = binary_report(cal[test], y[test], threshold)
        rep["auc"] = float(roc_auc_score(y, cal))
        rep["n_auc"] = int(len(y))
        rep["ece_before"] = ece(sigmoid(logits[test]), y[test])
        rep.update(calibration_error(cal[test], y[test]))
        fpr, tpr = roc_points(cal, y)
        rep["_roc"] = (fpr.tolist(), tpr.tolist())
        if name == "sbi":
            sources = [src for src, keep in zip(c["sources"], test, strict=True) if keep]
            rep["subgroups"] = _subgroups(sources, cal[test], y[test], threshold)
            rep["false_alarms"] = _false_alarms(sources, cal[test], y[test], threshold)
        if swap is not None:
            probs = np.where(c["calib"], sigmoid(logits / swap[0] + swap[2]), cal)
            cuts = np.where(c["calib"], swap[1], threshold)
            both: dict[str, Any] = {
                "n": int(len(y)),
                "accuracy": float(((probs >= cuts) == (y > 0.5)).mean()),
                **calibration_error(probs, y),
            }
            if name == "sbi":
                both["subgroups"] = _subgroups(c["sources"], probs, y, cuts)
                both["false_alarms"] = _false_alarms(c["sources"], probs, y, cuts)
            rep["both_halves"] = both
        results["sets"][name] = rep
    return results


def _subgroups(
    sources: list, probs: np.ndarray, labels: np.ndarray, threshold: float | np.ndarray
) -> dict[str, Any]:
    """Accuracy per race × gender and per age band, over each subgroup's reals and their blends
    (``threshold``: one for all, or one per image when cross-fitted)."""
    correct = (np.asarray(probs) >= threshold) == (np.asarray(labels) > 0.5)
    by: dict[str, dict[str, list[int]]] = {"race_gender": defaultdict(list), "age_band": defaultdict(list)}
    for crop, right in zip(sources, correct, strict=True):
        s = crop.sample
        if s.race is None:
            continue
        by["race_gender"][f"{s.race}/{s.gender}"].append(int(right))
        by["age_band"][s.age_band or "?"].append(int(right))
    out: dict[str, Any] = {}
    for key, groups in by.items():
        out[key] = {g: {"accuracy": float(np.mean(v)), "n": len(v)} for g, v in sorted(groups.items())}
    rg = [v for v in out["race_gender"].values() if v["n"] >= 20]
    out["worst_gap"] = (
        float(max(v["accuracy"] for v in rg) - min(v["accuracy"] for v in rg)) if rg else float("nan")
    )
    if len(rg) >= 2:
        pooled = sum(v["accuracy"] * v["n"] for v in rg) / sum(v["n"] for v in rg)
        noise = gap_noise([v["n"] for v in rg], pooled)
        out["gap_floor"] = float(noise.mean())
        out["gap_by_chance"] = float(np.mean(noise >= out["worst_gap"] - 1e-12))
        out["pooled_accuracy"] = float(pooled)
    return out


def _false_alarms(
    sources: list, probs: np.ndarray, labels: np.ndarray, threshold: float | np.ndarray
) -> dict[str, dict[str, Any]]:
    """Share of each source folder's reals flagged as fake: one threshold serves every kind of
    photo, so a source it over-flags (a platform's high-resolution uploads, say) shows here."""
    flagged = np.asarray(probs) >= threshold
    by: dict[str, list[int]] = defaultdict(list)
    for crop, hit, y in zip(sources, flagged, labels, strict=True):
        if y <= 0.5:
            by[Path(crop.sample.path).parent.name].append(int(hit))
    return {s: {"reals": len(v), "flagged": sum(v), "rate": float(np.mean(v))} for s, v in sorted(by.items())}


def roc_plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=110)
    for name, rep in results["sets"].items():
        fpr, tpr = rep["_roc"]
        ax.plot(fpr, tpr, label=f"{name} (AUC {rep['auc']:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC, identity-disjoint validation")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def share_text(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.0%}"


def card_metrics(results: dict[str, Any]) -> dict[str, Any]:
    """The results without plotting arrays, for the JSON model card."""
    return {
        "temperature": results["temperature"],
        "logit_bias": results.get("logit_bias", 0.0),
        "calibration": results.get("calibration", {"method": "temperature"}),
        "threshold": results["threshold"],
        "review_threshold": results.get("review_threshold"),
        "sets": {
            n: {k: v for k, v in r.items() if not k.startswith("_")} for n, r in results["sets"].items()
        },
    }


def targets_table(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    sets = results["sets"]
    rows = []
    if "sbi" in sets:
        rows.append(
            (
                "ROC AUC, self-blended vs real",
                f"{sets['sbi']['auc']:.4f}",
                "≥ 0.97",
                sets["sbi"]["auc"] >= TARGETS["sbi_auc"],
            )
        )
    if "gan" in sets:
        rows.append(
            (
                "ROC AUC, StyleGAN2 vs real",
                f"{sets['gan']['auc']:.4f}",
                "≥ 0.90",
                sets["gan"]["auc"] >= TARGETS["gan_auc"],
            )
        )

    # Read on both halves (cross-fitted) where the results have them: twice the images, half the
    # noise; the test half alone is shown beside it. An unmeasured set (NaN) ranks worst, so the
    # row cannot read as met.
    def calibration(name: str) -> dict[str, Any]:
        return sets[name].get("both_halves", sets[name])

    worst = max(sets, key=lambda n: (math.isnan(calibration(n)["ece_after"]), calibration(n)["ece_after"]))
    read = calibration(worst)
    worst_ece = float(read["ece_after"])
    floor, chance = read.get("ece_floor"), read.get("ece_by_chance")
    shown = f"{worst_ece:.4f} ({worst}"
    if "both_halves" in sets[worst]:
        shown += ", both halves"
    if floor is not None:
        shown += f"; floor {floor:.4f}"
    if chance is not None:
        shown += f"; chance {share_text(chance)}"
    if "both_halves" in sets[worst]:
        shown += f"; test half {sets[worst]['ece_after']:.4f}"
    shown += ")"
    rows.append(("ECE after calibration (worst set)", shown, "≤ 0.05", worst_ece <= TARGETS["ece_after"]))
    if "sbi" in sets:
        half = sets["sbi"]["subgroups"]
        both = sets["sbi"].get("both_halves", {}).get("subgroups")
        subgroups = both or half
        gap, floor = subgroups["worst_gap"], subgroups.get("gap_floor")
        shown = f"{gap * 100:.1f} pts" + (" both halves" if both else "")
        shown += f" (floor {floor * 100:.1f})" if floor is not None else ""
        if both:
            half_floor = half.get("gap_floor", math.nan)
            shown += f"; test half {half['worst_gap'] * 100:.1f} (floor {half_floor * 100:.1f})"
        rows.append(("largest race×gender accuracy gap", shown, "≤ 5 pts", gap <= TARGETS["subgroup_gap"]))
    return rows
