"""The Markdown model card: what ``train_detector`` / ``evaluate_detector`` write beside the weights.

Rendered from the final evaluation's results (``detection.training.report``), the card and, when a
catalog was given, the cross-source report (``detection.training.crosssource_markdown``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from detection.model import ModelCard
from detection.training.calibration import threshold_rule
from detection.training.crosssource_markdown import cross_source_markdown
from detection.training.report import share_text, targets_table


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
            f"{share_text(r.get('ece_by_chance'))} | {c['tn']} | {c['fp']} | {c['fn']} | {c['tp']} |"
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
                f"{b['ece_floor']:.4f} | {share_text(b['ece_by_chance'])} |"
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
