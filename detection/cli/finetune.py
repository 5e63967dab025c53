"""``finetune_detector``: adapt the bundled detector to a platform's labelled faces (``DIR/real``,
``DIR/fake``, e.g. AI Hub's Korean deepfake set)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from detection.cli.common import CliError, Output
from detection.cli.train import add_training_arguments, config_from_options
from detection.model import ModelCard, card_path_for
from detection.training.pipeline import train_and_export

HELP = (
    "Fine-tune the bundled detector on DIR/real and DIR/fake (self-blends of the reals keep being made), "
    "then calibrate and write weights plus an evaluation report. Add the result to DETECTOR_WEIGHTS to "
    "use it beside (ensemble) or instead of the default model."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder holding real/ and fake/ sub-folders")
    parser.add_argument("--base", default=None, help="weights to start from (default: first configured)")
    add_training_arguments(parser, default_steps=600, default_warmup=50)
    parser.set_defaults(
        out="models/fakeme-finetuned.safetensors",
        report="models/fakeme-finetuned.md",
        run_dir="runs/finetune",
        lr=3e-4,
        model_version=None,
        sizes=None,
    )


def run(options: dict[str, Any], out: Output, *, configured_weights: Sequence[Path]) -> None:
    """Fine-tune ``--base`` (default: the first of ``configured_weights``) on ``--data``."""
    root = Path(options["data"])
    real, fake = root / "real", root / "fake"
    if not real.is_dir() or not fake.is_dir():
        raise CliError(f"{root} must contain real/ and fake/ folders of face images")
    base = Path(options["base"] or configured_weights[0])
    if not base.is_file():
        raise CliError(f"base weights not found: {base}")
    base_card = ModelCard.from_json(card_path_for(base))
    options["sizes"] = options["sizes"] or str(base_card.input_size)
    options["model_version"] = options["model_version"] or f"{base_card.version}+ft"
    # --init starts a fresh model from ImageNet weights instead of the bundled detector.
    init_weights = None if options["pretrained"] else str(base)
    cfg = config_from_options(
        options, real_dirs=[str(real)], fake_dirs=[str(fake)], init_weights=init_weights
    )
    metrics = train_and_export(cfg, Path(options["out"]), Path(options["report"]), log=out.write)
    out.write(
        out.success(
            f"wrote {options['out']} (T={metrics['temperature']:.3f}) and {options['report']}; "
            f"add it to DETECTOR_WEIGHTS to use it"
        )
    )
