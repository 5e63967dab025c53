"""Final evaluation after training: temperature fit, metrics, subgroup accuracy, model card."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from detection.model import FakeMENet, ModelCard
from detection.training.crosssource import cross_source_markdown
from detection.training.evaluate import (
    EvalSet,
    binary_report,
    ece,
    ece_noise,
    fit_temperature,
    gap_noise,
    predict_logits,
    roc_points,
    sigmoid,
)

TARGETS = {"sbi_auc": 0.97, "gan_auc": 0.90, "ece_after": 0.05, "subgroup_gap": 0.05}


def _calib_half(crop_path: str) -> bool:
    """Validation images split into a calibration half (fits T) and a test half (reported)."""
    return hashlib.sha256(crop_path.encode()).digest()[0] % 2 == 0


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
        calib = np.array([_calib_half(c.sample.path) for c in sources])
        collected[s.name] = {"logits": logits, "y": y, "calib": calib, "sources": sources}
        if cap_east_asian:
            collected[s.name]["cap"] = np.array([c.sample.east_asian for c in sources])
    return score_halves(collected, max_fpr, review_fpr=review_fpr, calibration=calibration)


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
    fit = _fit_calibration(collected, lambda c: c["calib"], max_fpr, review_fpr, method)
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
        other = _fit_calibration(collected, lambda c: ~c["calib"], max_fpr, review_fpr, method)
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
        rep.update(_calibration_error(cal[test], y[test]))
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
                **_calibration_error(probs, y),
            }
            if name == "sbi":
                both["subgroups"] = _subgroups(c["sources"], probs, y, cuts)
                both["false_alarms"] = _false_alarms(c["sources"], probs, y, cuts)
            rep["both_halves"] = both
        results["sets"][name] = rep
    return results


def _fit_calibration(
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


def _calibration_error(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
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


def _share(x: float | None) -> str:
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
        shown += f"; chance {_share(chance)}"
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


def write_model_card_md(
    card: ModelCard,
    results: dict[str, Any],
    path: Path,
    roc_png: Path,
    weights_file: Path,
    extra: dict[str, Any] | None = None,
    generated_by: str = "train_detector",
    cross_source: dict[str, dict[str, Any]] | None = None,
) -> None:
    sets = results["sets"]
    pretrained = card.training.get("pretrained")
    origin = (
        f"fine-tuned from ImageNet weights (`{pretrained['file']}`, {pretrained['loaded']} backbone tensors)"
        if pretrained
        else "trained from scratch"
    )
    if card.logit_bias:
        calibration = (
            f"P(fake) = sigmoid(logit / T + b), T = {card.temperature:.4f}, b = {card.logit_bias:.4f} "
            "(Platt scaling"
        )
    else:
        calibration = f"P(fake) = sigmoid(logit / T), T = {card.temperature:.4f} (temperature scaling"
    chosen = results.get("calibration", {})
    if "test_nll" in chosen:
        nll = chosen["test_nll"]
        calibration += (
            f", chosen over the other on the test half's NLL: temperature {nll['temperature']:.4f}, "
            f"Platt {nll['platt']:.4f}"
        )
    calibration += ")"
    review = (
        f"; review threshold {card.review_threshold:.4f} (the uncertain band, flags at most "
        "5 % of the same reals)"
        if card.review_threshold is not None
        else ""
    )
    lines = [
        f"# Model card: {card.name} {card.version}",
        "",
        f"Generated {dt.date.today().isoformat()} by `python manage.py {generated_by}` on this machine kind "
        "(2 CPU cores, no GPU). Numbers below are from an identity-disjoint validation split that training "
        "never saw. The temperature and the decision threshold were fitted on one half of it (by image "
        "hash); accuracy, F1, confusion counts, subgroup accuracy and calibration error (ECE) are reported "
        "on the other half, and again on both halves cross-fitted (each half scored by the other's fit). "
        "ROC AUC depends on neither, so it uses the whole split.",
        "",
    ]
    if cross_source:
        lines += cross_source_markdown(cross_source) + [""]
    lines += [
        "## Model",
        f"- Architecture: timm `{card.architecture}`, {origin}, "
        "one logit, plus a boundary head on the stride-8 stage predicting the blending boundary "
        "`4·M·(1−M)`.",
        f"- Input: {card.input_size}×{card.input_size} face crop (square MTCNN box × {card.crop_margin}), "
        f"mean {list(card.mean)}, std {list(card.std)}.",
        f"- Calibration: {calibration}; tag threshold "
        f"{card.threshold:.4f} ({results.get('threshold_rule', threshold_rule(None))}){review}.",
        f"- Video: default aggregate `{card.video_aggregation}`, clip logit shift "
        f"{card.video_logit_shift:+.2f} (both chosen on the train-role clips).",
        "- Scoring: "
        + (
            "mean logit of the crop and its mirror image (`test_time_flip`), here and in the service."
            if card.test_time_flip
            else "the crop alone (`test_time_flip` off)."
        ),
        f"- Weights: `{weights_file.name}` (fp16 safetensors, "
        f"{weights_file.stat().st_size / 2**20:.1f} MiB).",
        "",
        "## Targets",
        "| metric | value | target | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {m} | {v} | {t} | {'yes' if ok else '**no**'} |" for m, v, t, ok in targets_table(results)]
    lines += [
        "",
        "## Results per evaluation set",
        "",
        "| set | n (AUC) | AUC | n (test) | accuracy | F1 | ECE before | ECE after | ECE floor "
        "| ECE by chance | TN | FP | FN | TP |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in sets.items():
        c = r["confusion"]
        lines.append(
            f"| {name} | {r['n_auc']} | {r['auc']:.4f} | {r['n']} | {r['accuracy']:.4f} | {r['f1']:.4f} | "
            f"{r['ece_before']:.4f} | {r['ece_after']:.4f} | {r.get('ece_floor', float('nan')):.4f} | "
            f"{_share(r.get('ece_by_chance'))} | {c['tn']} | {c['fp']} | {c['fn']} | {c['tp']} |"
        )
    lines += [
        "",
        "- `sbi`: validation reals vs their own self-blends at full hardness (the paper's ranges).",
        "- `gan`: StyleGAN2 faces (thispersondoesnotexist) vs FFHQ photos, held-out images.",
        "- `labelled`: held-out fakes given with `--fake` (the default model: built-in engine face swaps "
        "between different people, from `make_training_swaps`) vs validation reals.",
        "- `ECE floor`: the ECE a perfectly calibrated model with these same scores would still show on "
        "a test half of this size (mean of 1,000 simulated label draws). It is sampling noise: a set whose "
        "floor is near or above the 0.05 target is too small to show that target met or missed.",
        "- `ECE by chance` (`chance` in the targets): the share of those draws whose ECE is at least the "
        "measured one, i.e. how often a perfectly calibrated model would read this badly here. Above 5 % "
        "the measured ECE cannot be told apart from perfect calibration.",
        "",
        f"![ROC]({roc_png.name})",
        "",
    ]
    if "crossfit" in results:
        cf = results["crossfit"]
        lines += [
            "### Both halves, cross-fitted",
            "",
            f"The same fit on the test half (T = {cf['temperature']:.4f}, threshold {cf['threshold']:.4f}) "
            "scores the calibration half, and the shipped fit scores the test half: every image is scored by "
            "a temperature and threshold that never saw it, so ECE and subgroup accuracy are read on the "
            "whole split with half the sampling variance of one half. The targets use these numbers.",
            "",
            "| set | n | accuracy | ECE after | ECE floor | ECE by chance |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in sets.items():
            b = r["both_halves"]
            lines.append(
                f"| {name} | {b['n']} | {b['accuracy']:.4f} | {b['ece_after']:.4f} | "
                f"{b['ece_floor']:.4f} | {_share(b['ece_by_chance'])} |"
            )
        lines.append("")
    if "sbi" in sets:
        both = sets["sbi"].get("both_halves", {}).get("subgroups")
        lines += _subgroup_lines(sets["sbi"]["subgroups"], both)
        lines += _false_alarm_lines(sets["sbi"])
    lines += [
        "## Training data",
        "",
        "```json",
        json.dumps(card.training.get("data", {}), indent=2),
        "```",
        "",
    ]
    cfg = card.training.get("config", {})
    lines += [
        "## Training recipe",
        "",
        f"- {cfg.get('steps')} steps; per batch {cfg.get('batch_pairs')} reals + their self-blends "
        f"+ {cfg.get('batch_other')} other fakes + {cfg.get('batch_other')} matching reals.",
        f"- Progressive input size {cfg.get('sizes')}; blends easy → hard over the first "
        f"{int(100 * cfg.get('curriculum_until', 0))} % of steps; AdamW lr {cfg.get('lr')} "
        f"(warm-up, cosine), weight decay {cfg.get('weight_decay')}; EMA 0.998; boundary loss weight "
        f"{cfg.get('boundary_weight')}; reals drawn more often by group: {_group_weights(cfg)}.",
        "- Every image: decode → crop → resize → "
        + (
            f"random degradations for {cfg['degrade_p']:.0%} of them (skin smoothing, resampling, double "
            "JPEG, blur, noise, sharpening, colour casts, grayscale, screenshots), reals and fakes alike → "
            if cfg.get("degrade_p")
            else ""
        )
        + "JPEG re-encode at random quality 60–100.",
        f"- Sources drawn with a share ∝ size^{cfg.get('source_temper', 1.0)}; "
        "each fake source is its own pool.",
        f"- Seed {cfg.get('seed')}; checkpoints every {cfg.get('checkpoint_every')} steps (resumable).",
        "",
    ]
    if extra:
        for title, body in extra.items():
            lines += [f"## {title}", "", body, ""]
    lines += [
        "## Learning curve (EMA weights, periodic evaluation on a fixed validation subset)",
        "",
        "| step | loss | cls loss | boundary loss | SBI AUC | GAN AUC |",
        "|---|---|---|---|---|---|",
    ]
    for e in card.learning_curve:
        lines.append(
            f"| {e['step']} | {e['loss']} | {e['cls_loss']} | "
            f"{e['boundary_loss']} | {e.get('sbi_auc', '')} | {e.get('gan_auc', '')} |"
        )
    path.write_text("\n".join(lines) + "\n")


def _group_weights(cfg: dict) -> str:
    # Cards before 1.4.0 kept a single East Asian weight.
    weights = cfg["group_weights"] if "group_weights" in cfg else {"asian": cfg.get("asian_weight", 1.0)}
    return ", ".join(f"{group} ×{w:g}" for group, w in sorted(weights.items())) or "none"


def _half_and_both_table(
    label: str,
    columns: list[str],
    half: dict[str, Any],
    both: dict[str, Any] | None,
    cells: Any,
) -> list[str]:
    """A table of test-half rows with the both-halves columns beside them when measured.

    Rows are every key both halves hold: a small group or source can be missing from the test half
    alone. ``cells(entry)`` renders one side of a row; ``entry`` is None where that side lacks the key.
    """

    def heads(side: str) -> list[str]:
        return [f"{columns[0]} ({side})", *columns[1:]]

    header = [label, *(heads("test half") + heads("both halves") if both else columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in both or half:
        row = [key, *cells(half.get(key)), *(cells(both[key]) if both else [])]
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return lines


def _subgroup_lines(half: dict[str, Any], both: dict[str, Any] | None) -> list[str]:
    """Subgroup tables: the test half, and both halves cross-fitted beside it when measured."""

    def cells(v: dict[str, Any] | None) -> list[str]:
        v = v or {"n": 0, "accuracy": math.nan}
        return [str(v["n"]), f"{v['accuracy']:.4f}"]

    lines = ["## Accuracy per subgroup (UTKFace labels; reals and their blends)", ""]
    for key, title in (("race_gender", "race / gender"), ("age_band", "age band")):
        lines += _half_and_both_table(title, ["n", "accuracy"], half[key], both and both[key], cells)
        lines.append("")
    for label, sg in (("test half", half), ("both halves", both)):
        if not sg:
            continue
        lines.append(
            f"Largest race × gender gap, {label} (groups with n ≥ 20): {sg['worst_gap'] * 100:.1f} points."
        )
        if "gap_floor" in sg:
            lines.append(
                f"Floor: a model equally accurate on every group (their pooled accuracy, "
                f"{sg['pooled_accuracy']:.4f}) would still show a gap of {sg['gap_floor'] * 100:.1f} points "
                f"on groups of these sizes, by chance alone (mean of 1,000 draws); "
                f"{sg['gap_by_chance']:.0%} of those draws show {sg['worst_gap'] * 100:.1f} points or more."
            )
        lines.append("")
    return lines


def _false_alarm_lines(sbi: dict[str, Any]) -> list[str]:
    """False alarms on validation reals by the folder they came from."""
    half, both = sbi.get("false_alarms", {}), sbi.get("both_halves", {}).get("false_alarms")
    if not half and not both:
        return []

    def cells(v: dict[str, Any] | None) -> list[str]:
        v = v or {"reals": 0, "flagged": 0, "rate": math.nan}
        return [str(v["reals"]), str(v["flagged"]), f"{v['rate']:.1%}"]

    lines = ["## False alarms on reals, by source", ""]
    lines += _half_and_both_table("source", ["reals", "flagged", "rate"], half, both, cells)
    lines += [
        "",
        "The threshold caps false alarms over all calibration reals together, so a source that is a small "
        "part of them can be flagged well above the cap.",
        "",
    ]
    return lines
