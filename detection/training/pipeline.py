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

from detection.model import save_detector
from detection.training.evaluate import predict_logits
from detection.training.report import card_metrics, final_evaluation, roc_plot, write_model_card_md
from detection.training.train import BatchSampler, TrainConfig, train


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
    results = final_evaluation(model, card, data.eval_sets)
    card.temperature = results["temperature"]
    card.threshold = results["threshold"]
    card.metrics = card_metrics(results)
    save_detector(model, card, weights_out)
    if report_md is not None:
        report_md.parent.mkdir(parents=True, exist_ok=True)
        roc_png = report_md.with_name(report_md.stem + "-roc.png")
        roc_plot(results, roc_png)
        write_model_card_md(card, results, report_md, roc_png, weights_out, extra_sections)
    log(json.dumps(card.metrics["sets"], default=str)[:2000])
    return card.metrics
