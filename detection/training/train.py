"""The training loop: batches of reals + their self-blends (+ other fakes), dense boundary
supervision, progressive image size, easy-to-hard blends, EMA, resumable checkpoints."""

from __future__ import annotations

import json
import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from timm.utils import ModelEmaV3
from tqdm import tqdm

from detection.model import FakeMENet, ModelCard, build_model, load_detector
from detection.training.data import FaceCrop, ItemFactory, load_crop, to_tensors
from detection.training.evaluate import EvalSet, build_eval_sets, evaluate
from detection.training.sources import GENDERS, RACES, Sample, attach_faces, scan_folder, split_by_group


@dataclass
class TrainConfig:
    real_dirs: list[str]
    fake_dirs: list[str] = field(default_factory=list)
    gan_dirs: list[str] = field(default_factory=list)
    out_dir: str = "runs/detector"
    steps: int = 3000
    batch_pairs: int = 12  # reals per batch, each with its self-blend
    batch_other: int = 4  # other fakes per batch (GAN/labelled), plus as many matching reals
    sizes: tuple[int, ...] = (96, 112, 128)  # progressive resizing, equal thirds of the run
    lr: float = 1.5e-3
    weight_decay: float = 0.05
    warmup_steps: int = 150
    boundary_weight: float = 2.0
    curriculum_until: float = 0.6  # fraction of the run after which blends are at full hardness
    # How often a group's reals are drawn relative to the rest, keyed by race ("asian") or by
    # race/gender ("black/male", which wins over its race's entry). East Asian faces twice as
    # often for the Korean focus; a group the report shows behind can be drawn more.
    group_weights: dict[str, float] = field(default_factory=lambda: {"asian": 2.0})
    val_fraction: float = 0.2
    eval_every: int = 250
    eval_limit: int = 300  # items per class in the periodic (not the final) evaluation
    checkpoint_every: int = 50
    seed: int = 1234
    threads: int = 2
    init_weights: str | None = None  # fine-tune from these
    max_fpr: float | None = 0.02  # the decision threshold flags at most this share of validation reals
    overfit: int = 0  # >0: train on this many fixed samples only (sanity check)
    version: str = "1.0.0"
    cache_dir: str = ".cache"
    test_time_flip: bool = True  # written to the card: scored as the mean over each crop and its mirror

    def size_at(self, step: int) -> int:
        phase = min(len(self.sizes) - 1, step * len(self.sizes) // max(1, self.steps))
        return self.sizes[phase]

    def hardness_at(self, step: int) -> float:
        return min(1.0, step / max(1.0, self.curriculum_until * self.steps))


def group_weight(weights: dict[str, float], sample: Sample) -> float:
    """The draw weight of ``sample``: its race/gender entry, else its race's, else 1."""
    key = f"{sample.race}/{sample.gender}"
    if key in weights:
        return weights[key]
    return weights.get(sample.race or "", 1.0)


def parse_group_weights(specs: list[str]) -> dict[str, float]:
    """``["asian=2", "black/male=1.5"]`` -> ``{"asian": 2.0, "black/male": 1.5}``; ValueError names
    the bad spec (unknown race or gender, a weight that is not a positive number)."""
    out: dict[str, float] = {}
    for spec in specs:
        group, sep, value = spec.partition("=")
        group = group.strip()
        race, _, gender = group.partition("/")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if (
            not sep
            or race not in RACES.values()
            or (gender and gender not in GENDERS.values())
            or not math.isfinite(weight)
            or weight <= 0
        ):
            raise ValueError(
                f"bad group weight {spec!r}: expected RACE=W or RACE/GENDER=W with W > 0, RACE one of "
                f"{', '.join(RACES.values())}, GENDER one of {', '.join(GENDERS.values())}"
            )
        out[group] = weight
    return out


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return 1e-5 + (cfg.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


@dataclass
class DataBundle:
    train_reals: list[FaceCrop]
    train_others: list[FaceCrop]  # fakes with no boundary supervision (GAN, labelled fakes)
    train_other_reals: list[FaceCrop]  # reals that look like the other fakes' sources (FFHQ for GAN)
    eval_sets: list[EvalSet]
    summary: dict[str, Any]


def _load_all(samples: list[Sample]) -> list[FaceCrop]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [c for c in pool.map(load_crop, samples) if c is not None]


def prepare_data(cfg: TrainConfig) -> DataBundle:
    samples: list[Sample] = []
    for d in cfg.real_dirs:
        samples += scan_folder(Path(d), 0, "real")
    for d in cfg.gan_dirs:
        samples += scan_folder(Path(d), 1, "gan")
    for d in cfg.fake_dirs:
        samples += scan_folder(Path(d), 1, "fake")
    if not samples:
        raise ValueError("no images found in the given folders")
    total = len(samples)
    samples = attach_faces(samples, Path(cfg.cache_dir) / "faces-index.json", workers=cfg.threads)
    train, val = split_by_group(samples, cfg.val_fraction, cfg.seed)
    crops_train = _load_all(train)
    crops_val = _load_all(val)
    reals = [c for c in crops_train if c.sample.label == 0]
    others = [c for c in crops_train if c.sample.label == 1]
    # Reals from the same sources as the other fakes (e.g. FFHQ beside StyleGAN faces) are
    # drawn next to them so "high-quality 512 px photo" cannot become a shortcut for "fake".
    other_reals = [c for c in reals if "utkface" not in c.sample.path.lower()] or reals
    eval_sets = build_eval_sets(crops_val, cfg.seed)
    summary = {
        "images_found": total,
        "images_with_face": len(samples),
        "train": {"real": len(reals), "fake_other": len(others)},
        "validation": {
            "real": sum(c.sample.label == 0 for c in crops_val),
            "fake_other": sum(c.sample.label == 1 for c in crops_val),
        },
        "split": "identity-disjoint by group (near-duplicate hash + UTKFace capture-time prefix)",
    }
    return DataBundle(reals, others, other_reals, eval_sets, summary)


class BatchSampler:
    def __init__(self, cfg: TrainConfig, data: DataBundle) -> None:
        self.cfg = cfg
        self.data = data
        w = np.array([group_weight(cfg.group_weights, c.sample) for c in data.train_reals])
        self.real_p = w / w.sum()
        kinds = sorted({c.sample.kind for c in data.train_others})
        self.other_pools = [
            (
                [c for c in data.train_others if c.sample.kind == kind],
                data.train_other_reals if kind == "gan" else data.train_reals,
            )
            for kind in kinds
        ]
        if cfg.overfit:
            rng = np.random.default_rng(cfg.seed)
            keep = rng.choice(
                len(data.train_reals), size=min(cfg.overfit, len(data.train_reals)), replace=False
            )
            self.fixed = sorted(int(i) for i in keep)

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, step])
        size = cfg.size_at(step)
        factory = ItemFactory(size)
        hard_max = cfg.hardness_at(step)
        items = []
        if cfg.overfit:
            # A fixed set: the same reals and the same blends every epoch.
            picks = [
                self.fixed[(step * cfg.batch_pairs + i) % len(self.fixed)] for i in range(cfg.batch_pairs)
            ]
            for i in picks:
                crop = self.data.train_reals[i]
                items.append(
                    factory.build(
                        crop,
                        np.random.default_rng([cfg.seed, i, 0]),
                        blend=False,
                        hardness=0.0,
                        augment=False,
                    )
                )
                items.append(
                    factory.build(
                        crop, np.random.default_rng([cfg.seed, i, 1]), blend=True, hardness=0.0, augment=False
                    )
                )
            return to_tensors(items)
        for i in rng.choice(len(self.data.train_reals), size=cfg.batch_pairs, p=self.real_p):
            crop = self.data.train_reals[int(i)]
            h = float(rng.uniform(max(0.0, hard_max - 0.4), hard_max))
            items.append(factory.build(crop, rng, blend=False, hardness=h, augment=True))
            items.append(factory.build(crop, rng, blend=True, hardness=h, augment=True))
        # Other fakes are drawn kind by kind in turn (GAN faces, swaps, ...), each beside a real from
        # matching sources, so a small set (200 GAN faces) is not drowned by a large one (swaps).
        for j in range(cfg.batch_other if self.other_pools else 0):
            fakes, matching_reals = self.other_pools[(step * cfg.batch_other + j) % len(self.other_pools)]
            fake = fakes[int(rng.integers(len(fakes)))]
            real = matching_reals[int(rng.integers(len(matching_reals)))]
            items.append(factory.build(fake, rng, blend=False, hardness=0, augment=True))
            items.append(factory.build(real, rng, blend=False, hardness=0, augment=True))
        return to_tensors(items)


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

    card = ModelCard(version=cfg.version)
    if cfg.init_weights:
        model, init_card = load_detector(cfg.init_weights)
        card = ModelCard(**{**asdict(init_card), "version": cfg.version, "metrics": {}, "learning_curve": []})
        model.train()
    else:
        model = build_model(card)
    card.test_time_flip = cfg.test_time_flip
    model = model.to(memory_format=torch.channels_last)
    ema = ModelEmaV3(model, decay=0.998, use_warmup=True)  # warm-up: short runs are not all init
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ckpt_path = out / "checkpoint.pt"
    start, history = 0, []
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        ema.module.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        start, history = state["step"], state["history"]
        log(f"resumed from step {start}")

    sampler = BatchSampler(cfg, data)
    prefetch = ThreadPoolExecutor(max_workers=1)  # builds the next batch while this one trains
    pending = prefetch.submit(sampler.batch, start) if start < cfg.steps else None
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="train", dynamic_ncols=True)
    run_loss = run_cls = run_bnd = None
    for step in bar:
        batch = pending.result()
        pending = prefetch.submit(sampler.batch, step + 1) if step + 1 < cfg.steps else None
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        model.train()
        loss, cls, bnd = loss_fn(model(batch["x"]), batch, cfg.boundary_weight)
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
                ema.module, data.eval_sets, cfg.size_at(step), limit=cfg.eval_limit, threads=cfg.threads
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
    prefetch.shutdown()
    card.training = {**card.training, "data": data.summary, "config": asdict(cfg)}
    card.learning_curve = history
    card.input_size = cfg.sizes[-1]
    return (model if raw else ema.module).eval(), card, data, history
