"""The training run's configuration: ``TrainConfig`` and the ``--group-weight`` specs it takes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from detection.training.sources import GENDERS, RACES


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
    # Train-role clips whose frames were trained on (``--clip-frames``): left out of the clip calibration.
    trained_clips: tuple[str, ...] = ()
    overfit: int = 0  # >0: train on this many fixed samples only (sanity check)
    version: str = "1.0.0"
    cache_dir: str = ".cache"
    test_time_flip: bool = True  # written to the card: scored as the mean over each crop and its mirror

    def size_at(self, step: int) -> int:
        phase = min(len(self.sizes) - 1, step * len(self.sizes) // max(1, self.steps))
        return self.sizes[phase]

    def hardness_at(self, step: int) -> float:
        return min(1.0, step / max(1.0, self.curriculum_until * self.steps))


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
