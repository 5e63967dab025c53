"""The training loop: batches of reals + their self-blends (+ other fakes), dense boundary
supervision, progressive image size, easy-to-hard blends, EMA, resumable checkpoints.

Sources are drawn so that none dominates a batch: a source's share grows with the square root of
its size (``source_temper``), so UTKFace's 12,000 faces do not drown 20 makeup portraits, and each
fake source is its own pool. The same random degradations go to reals and fakes alike.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
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
from detection.training.catalog import find_catalog
from detection.training.data import FaceCrop, ItemFactory, load_crop, precrop_size_for, to_tensors
from detection.training.device import autocast, resolve_device
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
    init_weights: str | None = None  # fine-tune from these (a FakeME weights file with its card)
    architecture: str = "efficientnetv2_s"  # timm name of a fresh model (unused with init_weights)
    # ImageNet initialisation of a fresh model's backbone: "imagenet" (the packaged weights of the
    # architecture), a state dict file, or None (from scratch).
    pretrained: str | None = None
    degrade_p: float = 0.0  # share of training items given random degradations (augment.degrade)
    source_temper: float = 0.5  # a source's draw share ∝ (its size) ** this; 1: by size, 0: equal
    device: str = "cpu"  # "cpu", "cuda" or "cuda:N" (bf16 autocast and channels_last there)
    workers: int = 0  # data-loading worker processes (0: one background thread)
    # The tag threshold flags at most this share of the calibration half's reals: East Asian ones
    # when the split has any (the product's users), else all; the review threshold at most review_fpr.
    max_fpr: float | None = 0.01
    review_fpr: float | None = 0.05
    calibration: str = "auto"  # "temperature", "platt" or "auto" (the better on held-out data)
    catalog: str | None = None  # SOURCES.tsv: its dev-eval folders get the cross-source report
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
    """The draw weight of ``sample``: its race/gender entry, else its race's, else 1. A face from a
    source the catalog calls Korean/East Asian counts as "asian" when it has no race label."""
    race = sample.race or ("asian" if sample.source_east_asian else "")
    key = f"{race}/{sample.gender}"
    if key in weights:
        return weights[key]
    return weights.get(race, 1.0)


def source_weights(samples: list[Sample], temper: float) -> np.ndarray:
    """Per-sample weights giving each source a total share ∝ (its size) ** ``temper``."""
    sizes: dict[str, int] = {}
    for s in samples:
        sizes[s.source] = sizes.get(s.source, 0) + 1
    return np.array([sizes[s.source] ** (temper - 1.0) for s in samples], dtype=np.float64)


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
    eval_sets: list[EvalSet]
    summary: dict[str, Any]


def _load_all(samples: list[Sample], precrop: int) -> list[FaceCrop]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [c for c in pool.map(lambda s: load_crop(s, precrop), samples) if c is not None]


def scan_source_folder(folder: str, label: int, kind: str) -> list[Sample]:
    """A folder's samples, named after its catalogued source (and its people) when it has one."""
    catalog = find_catalog(folder)
    source = catalog.source_of(folder) if catalog else None
    name = source.folder if source else Path(folder).name
    return scan_folder(Path(folder), label, kind, source=name, east_asian=bool(source and source.east_asian))


def prepare_data(cfg: TrainConfig) -> DataBundle:
    samples: list[Sample] = []
    for d in cfg.real_dirs:
        samples += scan_source_folder(d, 0, "real")
    for d in cfg.gan_dirs:
        samples += scan_source_folder(d, 1, "gan")
    for d in cfg.fake_dirs:
        samples += scan_source_folder(d, 1, "fake")
    if not samples:
        raise ValueError("no images found in the given folders")
    total = len(samples)
    samples = attach_faces(samples, Path(cfg.cache_dir) / "faces-index.json", workers=cfg.threads)
    train, val = split_by_group(samples, cfg.val_fraction, cfg.seed)
    precrop = precrop_size_for(max(cfg.sizes))
    crops_train = _load_all(train, precrop)
    crops_val = _load_all(val, precrop)
    reals = [c for c in crops_train if c.sample.label == 0]
    others = [c for c in crops_train if c.sample.label == 1]
    eval_sets = build_eval_sets(crops_val, cfg.seed)
    by_source: dict[str, dict[str, int]] = {}
    for c in crops_train:
        entry = by_source.setdefault(c.sample.source, {"label": c.sample.label, "train": 0})
        entry["train"] += 1
    summary = {
        "sources": by_source,
        "images_found": total,
        "images_with_face": len(samples),
        "train": {"real": len(reals), "fake_other": len(others)},
        "validation": {
            "real": sum(c.sample.label == 0 for c in crops_val),
            "fake_other": sum(c.sample.label == 1 for c in crops_val),
        },
        "split": "identity-disjoint by group (near-duplicate hash + UTKFace capture-time prefix)",
    }
    return DataBundle(reals, others, eval_sets, summary)


class BatchSampler:
    def __init__(
        self,
        cfg: TrainConfig,
        data: DataBundle,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
    ) -> None:
        self.cfg = cfg
        self.data = data
        self.norm = {"mean": mean, "std": std} if mean is not None and std is not None else {}
        samples = [c.sample for c in data.train_reals]
        w = np.array([group_weight(cfg.group_weights, s) for s in samples])
        w = w * source_weights(samples, cfg.source_temper) if samples else w
        self.real_p = w / w.sum()
        # One pool per fake source, drawn with probability ∝ size ** source_temper, each fake beside a
        # real drawn as the pairs' reals are (source-balanced, East Asian weighted up).
        by_source: dict[str, list[FaceCrop]] = {}
        for c in data.train_others:
            by_source.setdefault(c.sample.source, []).append(c)
        self.other_pools = [by_source[k] for k in sorted(by_source)]
        sizes = np.array([len(p) for p in self.other_pools], dtype=np.float64)
        self.other_p = sizes**cfg.source_temper / (sizes**cfg.source_temper).sum() if len(sizes) else sizes
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
        factory = ItemFactory(size, cfg.degrade_p)
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
            return to_tensors(items, **self.norm)
        for i in rng.choice(len(self.data.train_reals), size=cfg.batch_pairs, p=self.real_p):
            crop = self.data.train_reals[int(i)]
            h = float(rng.uniform(max(0.0, hard_max - 0.4), hard_max))
            items.append(factory.build(crop, rng, blend=False, hardness=h, augment=True))
            items.append(factory.build(crop, rng, blend=True, hardness=h, augment=True))
        # Other fakes: a source drawn per slot, a fake from it, and a real beside it, so a small
        # source (20 diffusion portraits) is not drowned by a large one (swaps).
        for _ in range(cfg.batch_other if self.other_pools else 0):
            fakes = self.other_pools[int(rng.choice(len(self.other_pools), p=self.other_p))]
            fake = fakes[int(rng.integers(len(fakes)))]
            real = self.data.train_reals[int(rng.choice(len(self.data.train_reals), p=self.real_p))]
            items.append(factory.build(fake, rng, blend=False, hardness=0, augment=True))
            items.append(factory.build(real, rng, blend=False, hardness=0, augment=True))
        return to_tensors(items, **self.norm)


class StepBatches(torch.utils.data.Dataset):
    """Batch ``start + i`` of a sampler as item ``i``: a batch depends on its step alone, so worker
    processes build exactly what the single-process loop would, in order."""

    def __init__(self, sampler: BatchSampler, start: int, steps: int) -> None:
        self.sampler, self.start, self.steps = sampler, start, steps

    def __len__(self) -> int:
        return max(0, self.steps - self.start)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.sampler.batch(self.start + i)


def _worker_init(_worker: int) -> None:
    torch.set_num_threads(1)  # each worker builds its own batches; the trainer keeps the cores
    cv2.setNumThreads(1)


def batch_stream(
    sampler: BatchSampler, start: int, steps: int, workers: int, pin: bool = False
) -> Iterator[dict[str, torch.Tensor]]:
    """The batches of steps ``start..steps-1`` in order: built by ``workers`` processes, or with
    ``workers=0`` by one background thread one step ahead of training."""
    if workers > 0:
        loader = torch.utils.data.DataLoader(
            StepBatches(sampler, start, steps),
            batch_size=None,
            shuffle=False,
            num_workers=workers,
            pin_memory=pin,
            prefetch_factor=2,
            worker_init_fn=_worker_init,
            # Spawned, not forked: a fork of a process whose OpenMP pool already ran (the model was
            # built) deadlocks in the child's first parallel op. Each worker gets a pickled copy.
            multiprocessing_context="spawn",
        )
        yield from loader
        return
    with ThreadPoolExecutor(max_workers=1) as prefetch:
        pending = prefetch.submit(sampler.batch, start) if start < steps else None
        for step in range(start, steps):
            assert pending is not None
            batch = pending.result()
            pending = prefetch.submit(sampler.batch, step + 1) if step + 1 < steps else None
            yield batch


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
