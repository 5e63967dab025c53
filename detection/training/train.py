"""The training loop: batches of reals + their self-blends (+ other fakes), dense boundary
supervision, progressive image size, easy-to-hard blends, EMA, resumable checkpoints.

The configuration is ``detection.training.config``, the data and the batches
``detection.training.batches``.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from timm.utils import ModelEmaV3
from tqdm import tqdm

from detection.model import (
    FakeMENet,
    ModelCard,
    build_model,
    card_for_architecture,
    imagenet_weights_file,
    load_backbone_weights,
    load_detector,
)
from detection.training.batches import BatchSampler, DataBundle, batch_stream, prepare_data
from detection.training.config import TrainConfig
from detection.training.device import autocast, resolve_device
from detection.training.evaluate import evaluate

# What the loop is made of, importable from here as before the split.
__all__ = ["BatchSampler", "DataBundle", "TrainConfig", "batch_stream", "lr_at", "prepare_data", "train"]


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return 1e-5 + (cfg.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def loss_fn(model_out: tuple[torch.Tensor, torch.Tensor], batch: dict[str, torch.Tensor], w: float):
    logit, bmap = model_out
    cls = F.binary_cross_entropy_with_logits(logit, batch["y"])
    mask = batch["has_boundary"]
    if mask.any():
        target = batch["boundary"][mask]
        bnd = F.binary_cross_entropy_with_logits(bmap[mask], target)
    else:
        bnd = logit.new_zeros(())
    return cls + w * bnd, cls.detach(), bnd.detach()


def _save_checkpoint(
    path: Path,
    step: int,
    model: FakeMENet,
    ema: ModelEmaV3,
    opt: torch.optim.Optimizer,
    history: list[dict[str, Any]],
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "step": step,
            "model": model.state_dict(),
            "ema": ema.module.state_dict(),
            "opt": opt.state_dict(),
            "history": history,
        },
        tmp,
    )
    os.replace(tmp, path)  # atomic: a kill mid-write never corrupts the last good checkpoint


def train(
    cfg: TrainConfig, log=print, raw: bool = False
) -> tuple[FakeMENet, ModelCard, DataBundle, list[dict[str, Any]]]:
    """Run (or resume) training; returns the EMA model (``raw``: the trained weights themselves),
    a card (uncalibrated), the data and the history."""
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    t0 = time.time()
    data = prepare_data(cfg)
    log(f"data ready in {time.time() - t0:.0f}s: {json.dumps(data.summary)}")

    device = resolve_device(cfg.device)
    if cfg.init_weights:
        model, init_card = load_detector(cfg.init_weights)
        card = ModelCard(**{**asdict(init_card), "version": cfg.version, "metrics": {}, "learning_curve": []})
        model.train()
    else:
        card = card_for_architecture(cfg.architecture, version=cfg.version)
        model = build_model(card)
        if cfg.pretrained:
            packaged = cfg.pretrained == "imagenet"
            source = imagenet_weights_file(cfg.architecture) if packaged else cfg.pretrained
            loaded = load_backbone_weights(model, source)
            card.training = {**card.training, "pretrained": {"file": Path(source).name, **loaded}}
            log(f"backbone initialised from {source}: {loaded}")
    card.test_time_flip = cfg.test_time_flip
    model = model.to(device, memory_format=torch.channels_last)
    ema = ModelEmaV3(model, decay=0.998, use_warmup=True)  # warm-up: short runs are not all init
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt_path = out / "checkpoint.pt"
    start, history = 0, []
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        ema.module.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        start, history = state["step"], state["history"]
        log(f"resumed from step {start}")

    sampler = BatchSampler(cfg, data, card.mean, card.std)
    batches = batch_stream(sampler, start, cfg.steps, cfg.workers, pin=device.type == "cuda")
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="train", dynamic_ncols=True)
    run_loss = run_cls = run_bnd = None
    for step, batch in zip(bar, batches, strict=False):
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        batch["x"] = batch["x"].contiguous(memory_format=torch.channels_last)
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        model.train()
        with autocast(device):
            out_step = model(batch["x"])
        # The losses in fp32: bf16 logits would round small boundary-map errors away.
        loss, cls, bnd = loss_fn((out_step[0].float(), out_step[1].float()), batch, cfg.boundary_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        ema.update(model, step=step)
        run_loss = loss.item() if run_loss is None else 0.95 * run_loss + 0.05 * loss.item()
        run_cls = cls.item() if run_cls is None else 0.95 * run_cls + 0.05 * cls.item()
        run_bnd = bnd.item() if run_bnd is None else 0.95 * run_bnd + 0.05 * bnd.item()
        done = step + 1
        postfix = {
            "loss": f"{run_loss:.3f}",
            "cls": f"{run_cls:.3f}",
            "bnd": f"{run_bnd:.3f}",
            "size": batch["x"].shape[-1],
            "h": f"{cfg.hardness_at(step):.2f}",
        }
        if done % cfg.eval_every == 0 or done == cfg.steps:
            metrics = evaluate(
                ema.module,
                data.eval_sets,
                cfg.size_at(step),
                limit=cfg.eval_limit,
                threads=cfg.threads,
                card=card,
                device=device,
            )
            entry = {
                "step": done,
                "seconds": round(time.time() - t0),
                "loss": round(run_loss, 4),
                "cls_loss": round(run_cls, 4),
                "boundary_loss": round(run_bnd, 4),
                **{k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)},
            }
            history.append(entry)
            log(json.dumps(entry))
            postfix.update({k: f"{v:.3f}" for k, v in metrics.items() if k.endswith("auc")})
        bar.set_postfix(postfix)
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            _save_checkpoint(ckpt_path, done, model, ema, opt, history)
    model, ema_model = model.cpu(), ema.module.cpu()  # cards, evaluation and export run on the CPU
    card.training = {**card.training, "data": data.summary, "config": asdict(cfg)}
    card.learning_curve = history
    card.input_size = cfg.sizes[-1]
    return (model if raw else ema_model).eval(), card, data, history
