"""End-to-end jobs: the overfit sanity check, train → calibrate → export → report, fine-tuning."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from detection.model import ModelCard, card_path_for, load_detector, save_detector
from detection.training.batches import BatchSampler, prepare_data
from detection.training.catalog import Catalog
from detection.training.config import TrainConfig
from detection.training.crosssource import choose_video_calibration, cross_source_report, score_catalog
from detection.training.evaluate import predict_logits
from detection.training.model_card import write_model_card_md
from detection.training.report import card_metrics, final_evaluation, roc_plot
from detection.training.train import train


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
    model, card, data, _ = train(ocfg, log=log, raw=True)  # memorisation is a property of the raw weights
    sampler = BatchSampler(ocfg, data, card.mean, card.std)
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


def _final_results(model: Any, card: Any, data: Any, cfg: TrainConfig) -> dict[str, Any]:
    return final_evaluation(
        model,
        card,
        data.eval_sets,
        max_fpr=cfg.max_fpr,
        review_fpr=cfg.review_fpr,
        calibration=cfg.calibration,
        cap_east_asian=True,
    )


def _apply_calibration(card: ModelCard, results: dict[str, Any]) -> None:
    card.temperature = results["temperature"]
    card.logit_bias = results.get("logit_bias", 0.0)
    card.threshold = results["threshold"]
    card.review_threshold = results.get("review_threshold")


def cross_source_reports(
    weights: Path,
    catalog_file: str | Path,
    baselines: list[Path],
    cache_dir: Path,
    log=print,
    store_choice: bool = True,
    trained_clips: Collection[str] = (),
) -> dict[str, dict[str, Any]]:
    """The cross-source report of ``weights`` (first) and of each baseline, keyed by version.

    The video aggregate of ``weights`` and its clip logit shift are chosen on the catalog's
    train-role clips, less ``trained_clips`` (those whose frames it trained on), and, with
    ``store_choice``, stored in its card; dev-eval clips only ever report them."""
    catalog = Catalog.read(catalog_file)
    if store_choice:
        card = ModelCard.from_json(card_path_for(weights))
        scored = score_catalog(weights, catalog, cache_dir, role="train", kinds=("video",), log=log)
        seen = set(trained_clips)
        train_clips = [s for s in scored if s.path not in seen]
        card.video_aggregation, card.video_logit_shift, table = choose_video_calibration(
            train_clips, card.threshold, card.video_logit_shift
        )
        card.training = {
            **card.training,
            "video_aggregation_choice": {
                "chosen": card.video_aggregation,
                "logit_shift": card.video_logit_shift,
                "clips_left_out_as_trained_on": len(scored) - len(train_clips),
                "train_clips": table,
            },
        }
        card.to_json(card_path_for(weights))
    reports: dict[str, dict[str, Any]] = {}
    for path in [weights, *baselines]:
        member = ModelCard.from_json(card_path_for(path))
        scores = score_catalog(path, catalog, cache_dir, log=log)
        name = member.version if member.version not in reports else f"{member.version} ({path.name})"
        reports[name] = cross_source_report(
            scores,
            catalog,
            member.threshold,
            member.review_threshold,
            member.video_aggregation,
            member.video_logit_shift,
        )
    return reports


def catalog_reports(
    weights: Path, cfg: TrainConfig, baselines: list[Path], log=print, store_choice: bool = True
) -> dict[str, dict[str, Any]]:
    """``cross_source_reports`` for a run's config: its catalog, cache, and the clips it trained on
    (one call for training and evaluation, so neither can forget to leave those clips out)."""
    assert cfg.catalog is not None
    return cross_source_reports(
        weights,
        cfg.catalog,
        baselines,
        Path(cfg.cache_dir),
        log=log,
        store_choice=store_choice,
        trained_clips=cfg.trained_clips,
    )


def train_and_export(
    cfg: TrainConfig,
    weights_out: Path,
    report_md: Path | None,
    log=print,
    extra_sections: dict[str, str] | None = None,
    baselines: list[Path] | None = None,
) -> dict[str, Any]:
    model, card, data, _history = train(cfg, log=log)
    torch.set_num_threads(cfg.threads)
    results = _final_results(model, card, data, cfg)
    _apply_calibration(card, results)
    card.metrics = card_metrics(results)
    sections = dict(extra_sections or {})
    # A run from --init-weights continues that model: the run history of its card comes first.
    inherited = card.training.get("report_sections", {}).get("Run history", "")
    if inherited:
        sections["Run history"] = f"{inherited}\n\n{sections.get('Run history', '')}".strip()
    # Kept in the card so a later re-evaluation (evaluate_detector) can write the same report.
    card.training = {**card.training, "report_sections": sections}
    save_detector(model, card, weights_out)
    cross = None
    if cfg.catalog:
        cross = catalog_reports(weights_out, cfg, baselines or [], log=log)
        card = ModelCard.from_json(card_path_for(weights_out))
        card.metrics = {**card.metrics, "cross_source": next(iter(cross.values()))}
        card.to_json(card_path_for(weights_out))
    if report_md is not None:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        roc_png = report_md.with_name(report_md.stem + "-roc.png")
        roc_plot(results, roc_png)
        write_model_card_md(card, results, report_md, roc_png, weights_out, sections, cross_source=cross)
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
    baselines: list[Path] | None = None,
    log=print,
) -> dict[str, Any]:
    """Re-run the final evaluation of saved weights on the validation split ``cfg`` defines.

    The split depends only on the data folders, ``val_fraction`` and the seed, so two models
    trained with the same ones are compared on the same images. With ``recalibrate`` the weights'
    card takes the newly fitted calibration and thresholds, and ``test_time_flip`` when given (the
    weights themselves are untouched). With ``cfg.catalog`` the cross-source report leads the card,
    ``baselines`` beside it.
    """
    torch.set_num_threads(cfg.threads)
    data = prepare_data(cfg)
    model, card = load_detector(weights)
    if test_time_flip is not None:
        card.test_time_flip = test_time_flip
    results = _final_results(model, card, data, cfg)
    sections = dict(card.training.get("report_sections", {}))
    if note:
        history = sections.get("Run history", "")
        sections["Run history"] = f"{history}\n\n{note}".strip()
    if recalibrate:
        _apply_calibration(card, results)
        card.metrics = card_metrics(results)
        card.version = version or card.version
        card.training = {**card.training, "report_sections": sections}
        card.to_json(card_path_for(weights))
    cross = None
    if cfg.catalog:
        cross = catalog_reports(weights, cfg, baselines or [], log=log, store_choice=recalibrate)
        card = replace(ModelCard.from_json(card_path_for(weights)), test_time_flip=card.test_time_flip)
        if recalibrate:
            card.metrics = {**card.metrics, "cross_source": next(iter(cross.values()))}
            card.to_json(card_path_for(weights))
    if report_md is not None:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        roc_png = report_md.with_name(report_md.stem + "-roc.png")
        roc_plot(results, roc_png)
        shown = replace(
            card,
            temperature=results["temperature"],
            logit_bias=results.get("logit_bias", 0.0),
            threshold=results["threshold"],
            review_threshold=results.get("review_threshold"),
        )
        write_model_card_md(
            shown,
            results,
            report_md,
            roc_png,
            weights,
            sections,
            generated_by="evaluate_detector",
            cross_source=cross,
        )
    log(json.dumps(card_metrics(results)["sets"], default=str)[:2000])
    return card_metrics(results)
