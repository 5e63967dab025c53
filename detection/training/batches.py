"""Training data and batches: the folders scanned and split, the crops loaded, and each step's batch.

Sources are drawn so that none dominates a batch: a source's share grows with its size to the power
``source_temper``, and each fake source is its own pool. A batch depends on its step alone (its
random stream is keyed by the seed and the step), so worker processes build exactly what the
single-process loop would.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from detection.training.catalog import find_catalog
from detection.training.config import TrainConfig
from detection.training.data import FaceCrop, ItemFactory, load_crop, precrop_size_for, to_tensors
from detection.training.evaluate import EvalSet, build_eval_sets
from detection.training.sources import Sample, attach_faces, scan_folder, split_by_group


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
