"""End-to-end jobs: the overfit sanity check, train → calibrate → export → report, fine-tuning."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from detection.model import card_path_for, load_detector, save_detector
from detection.training.evaluate import predict_logits
from detection.training.report import card_metrics, final_evaluation, roc_plot, write_model_card_md
from detection.training.train import BatchSampler, TrainConfig, prepare_data, train


def overfit_check(cfg: TrainConfig, samples: int = 256, steps: int = 200, log=print) -> dict[str, Any]:
    """Can the network memorise a few hundred fixed reals + blends? If not, a long run is pointless."""
    ocfg = replace(
        cfg,
        overfit=samples,
        steps=steps,
        sizes=(cfg.sizes[0],),
        eval_every=10**9,
        out_dir=str(Path(cfg.out_dir) / "overfit"),
        warmup_steps=20,
        batch_other=0,
    )
    t0 = time.time()
    model, _card, data, _ = train(ocfg, log=log, raw=True)  # memorisation is a property of the raw weights
    sampler = BatchSampler(ocfg, data)
    n_batches = math.ceil(len(sampler.fixed) / ocfg.batch_pairs)
    logits, labels = [], []
    for step in range(n_batches):
        batch = sampler.batch(step)
        logits.append(predict_logits(model, batch["x"]))
        labels.append(batch["y"].numpy())
    z, y = np.concatenate(logits), np.concatenate(labels)
    result = {
        "samples": len(sampler.fixed) * 2,
        "steps": steps,
        "size": ocfg.sizes[0],
        "train_auc": float(roc_auc_score(y, z)),
        "train_accuracy": float(((z > 0) == (y > 0.5)).mean()),
        "minutes": round((time.time() - t0) / 60, 1),
    }
    log(f"overfit check: {json.dumps(result)}")
    return result


def train_and_export(
    cfg: TrainConfig,
    weights_out: Path,
    report_md: Path | None,
    log=print,
    extra_sections: dict[str, str] | None = None,
) -> dict[str, Any]:
    model, card, data, _history = train(cfg, log=log)
    torch.set_num_threads(cfg.threads)
    results = final_evaluation(model, card, data.eval_sets, max_fpr=cfg.max_fpr)
    card.temperature = results["temperature"]
    card.threshold = results["threshold"]
    card.metrics = card_metrics(results)
    sections = dict(extra_sections or {})
    # A run from --init-weights continues that model: the run history of its card comes first.
    inherited = card.training.get("report_sections", {}).get("Run history", "")
    if inherited:
        sections["Run history"] = f"{inherited}\n\n{sections.get('Run history', '')}".strip()
    # Kept in the card so a later re-evaluation (evaluate_detector) can write the same report.
    card.training = {**card.training, "report_sections": sections}
    save_detector(model, card, weights_out)
    if report_md is not None:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        roc_png = report_md.with_name(report_md.stem + "-roc.png")
        roc_plot(results, roc_png)
        write_model_card_md(card, results, report_md, roc_png, weights_out, sections)
    log(json.dumps(card.metrics["sets"], default=str)[:2000])
    return card.metrics


def evaluate_weights(
    cfg: TrainConfig,
    weights: Path,
    report_md: Path | None,
    *,
    recalibrate: bool = False,
    version: str | None = None,
    note: str = "",
    test_time_flip: bool | None = None,
    log=print,
) -> dict[str, Any]:
    """Re-run the final evaluation of saved weights on the validation split ``cfg`` defines.

    The split depends only on the data folders, ``val_fraction`` and the seed, so two models
    trained with the same ones are compared on the same images. With ``recalibrate`` the weights'
    card takes the newly fitted temperature and threshold, and ``test_time_flip`` when given (the weights
    themselves are untouched).
    """
    torch.set_num_threads(cfg.threads)
    data = prepare_data(cfg)
    model, card = load_detector(weights)
    if test_time_flip is not None:
        card.test_time_flip = test_time_flip
    results = final_evaluation(model, card, data.eval_sets, max_fpr=cfg.max_fpr)
    sections = dict(card.training.get("report_sections", {}))
    if note:
        history = sections.get("Run history", "")
        sections["Run history"] = f"{history}\n\n{note}".strip()
    if recalibrate:
        card.temperature = results["temperature"]
        card.threshold = results["threshold"]
        card.metrics = card_metrics(results)
        card.version = version or card.version
        card.training = {**card.training, "report_sections": sections}
        card.to_json(card_path_for(weights))
    if report_md is not None:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        roc_png = report_md.with_name(report_md.stem + "-roc.png")
        roc_plot(results, roc_png)
        shown = replace(card, temperature=results["temperature"], threshold=results["threshold"])
        write_model_card_md(
            shown, results, report_md, roc_png, weights, sections, generated_by="evaluate_detector"
        )
    log(json.dumps(card_metrics(results)["sets"], default=str)[:2000])
    return card_metrics(results)
