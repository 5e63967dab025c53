"""``train_detector``: train the detector from face folders (self-blended fakes are made on the fly).

Also the options and checks ``finetune_detector`` and ``evaluate_detector`` share with it
(``add_training_arguments``, ``data_folders``, ``config_from_options``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from detection.cli.common import CliError, Output
from detection.training.catalog import Catalog, CatalogError, check_trainable
from detection.training.clip_frames import ClipFrames, extract_clip_frames
from detection.training.config import TrainConfig, parse_group_weights
from detection.training.device import DeviceUnavailable, resolve_device
from detection.training.pipeline import overfit_check, train_and_export

HELP = "Train the deepfake detector on folders of real faces (self-blended fakes are made on the fly)."


def add_training_arguments(
    parser: argparse.ArgumentParser, default_steps: int, default_warmup: int = 150
) -> None:
    parser.add_argument("--out", default=None, help="weights file to write (default: the first configured)")
    parser.add_argument("--report", default="docs/model-card.md", help="evaluation report (Markdown)")
    parser.add_argument("--run-dir", default="runs/detector", help="checkpoints; rerun to resume")
    parser.add_argument("--steps", type=int, default=default_steps)
    parser.add_argument("--sizes", default="96,112,128", help="progressive input sizes, comma-separated")
    parser.add_argument("--batch-pairs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model-version", default="1.0.0")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument(
        "--curriculum-until",
        type=float,
        default=0.6,
        help="fraction of the run after which blends are at full hardness (low when continuing a model)",
    )
    parser.add_argument(
        "--batch-other", type=int, default=4, help="GAN/labelled fakes per batch (+ as many reals)"
    )
    parser.add_argument("--warmup-steps", type=int, default=default_warmup)
    parser.add_argument(
        "--max-fpr",
        type=float,
        default=0.01,
        help="cap on the share of the calibration half's East Asian reals the tag threshold flags "
        "(all reals when it has none; 0: Youden's J alone)",
    )
    parser.add_argument(
        "--review-fpr",
        type=float,
        default=0.05,
        help="the same cap for the lower review threshold (the uncertain band; 0: none)",
    )
    parser.add_argument(
        "--calibration",
        choices=("auto", "temperature", "platt"),
        default="auto",
        help="temperature or Platt scaling; auto: the better on the test half's likelihood",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="WEIGHTS",
        help="with a catalog: weights whose cross-source numbers stand beside the new model's (repeatable)",
    )
    parser.add_argument(
        "--group-weight",
        action="append",
        default=None,
        metavar="GROUP=W",
        help="draw a group's reals W times as often, GROUP a race (asian) or race/gender (black/male); "
        "repeatable; default asian=2",
    )
    parser.add_argument(
        "--architecture",
        default="efficientnetv2_s",
        help="timm model of a fresh run: efficientnetv2_s (the design card's) or tf_efficientnet_lite2",
    )
    parser.add_argument(
        "--init",
        dest="pretrained",
        default=None,
        metavar="FILE|imagenet",
        help="initialise a fresh model's backbone from an ImageNet state dict FILE (e.g. timm's "
        "EfficientNet-V2-S), or 'imagenet' for the packaged weights of the architecture (Lite2)",
    )
    parser.add_argument(
        "--degrade",
        type=float,
        default=0.8,
        help="share of training faces given random degradations (smoothing, resampling, double JPEG, "
        "blur, noise, sharpening, colour casts, grayscale), reals and fakes alike",
    )
    parser.add_argument(
        "--source-temper",
        type=float,
        default=0.5,
        help="a source's share of draws grows as its size ** this (1: by size, 0: every source equal)",
    )
    parser.add_argument(
        "--device", default="cpu", help="cpu, cuda or cuda:N (bf16 autocast and channels_last on CUDA)"
    )
    parser.add_argument("--workers", type=int, default=0, help="data-loading worker processes")
    parser.add_argument(
        "--test-time-flip",
        choices=("on", "off"),
        default="on",
        help="score each crop and its mirror image and average (written to the card)",
    )


def data_folders(options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(real folders, fake folders): ``--data``/``--fake`` plus, with ``--sources``, every image
    folder the catalog marks ``train``."""
    reals, fakes = list(options["data"]), list(options["fake"])
    if options["sources"]:
        try:
            catalog = Catalog.read(options["sources"])
        except CatalogError as exc:
            raise CliError(str(exc)) from exc
        reals += [str(s.path) for s in catalog.select(role="train", label=0)]
        fakes += [str(s.path) for s in catalog.select(role="train", label=1)]
    if not reals:
        raise CliError("no real faces: give --data folders or a --sources catalog")
    return reals, fakes


def config_from_options(options: dict[str, Any], **fields: Any) -> TrainConfig:
    cfg = TrainConfig(
        out_dir=options["run_dir"],
        steps=options["steps"],
        sizes=tuple(int(s) for s in options["sizes"].split(",")),
        batch_pairs=options["batch_pairs"],
        seed=options["seed"],
        threads=options["threads"],
        version=options["model_version"],
        eval_every=options["eval_every"],
        curriculum_until=options["curriculum_until"],
        batch_other=options["batch_other"],
        warmup_steps=options["warmup_steps"],
        max_fpr=options["max_fpr"] or None,
        review_fpr=options["review_fpr"] or None,
        calibration=options["calibration"],
        test_time_flip=options["test_time_flip"] == "on",
        architecture=options["architecture"],
        pretrained=options["pretrained"],
        degrade_p=options["degrade"],
        source_temper=options["source_temper"],
        device=options["device"],
        workers=options["workers"],
        **fields,
    )
    try:
        resolve_device(cfg.device)
    except DeviceUnavailable as exc:
        raise CliError(str(exc)) from exc
    if options.get("lr"):
        cfg.lr = options["lr"]
    if options.get("group_weight"):
        try:
            cfg.group_weights = parse_group_weights(options["group_weight"])
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    return cfg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="*", default=[], help="folders of real face images")
    parser.add_argument(
        "--sources",
        default=None,
        metavar="SOURCES.tsv",
        help="a data catalog: train on every image folder its role column marks 'train' "
        "(reals as --data, fakes as --fake); 'dev-eval' folders are never trained on",
    )
    parser.add_argument(
        "--clip-frames",
        type=int,
        default=0,
        metavar="N",
        help="with --sources: also train on N frames of each of half the train-role clips (the other "
        "half stays for the clip calibration); 0: photos only",
    )
    parser.add_argument("--gan", nargs="*", default=[], help="folders of GAN-made faces (label: fake)")
    parser.add_argument("--fake", nargs="*", default=[], help="folders of other fake faces (label: fake)")
    parser.add_argument(
        "--overfit-check",
        type=int,
        default=256,
        help="first prove the net can memorise this many samples (0: skip)",
    )
    parser.add_argument("--overfit-steps", type=int, default=120)
    parser.add_argument(
        "--init-weights", default=None, help="start from these weights (e.g. continue the bundled model)"
    )
    parser.add_argument("--report-note", default="", help="a paragraph added to the report (run history)")
    add_training_arguments(parser, default_steps=3000)


def weights_target(options: dict[str, Any], configured_weights: Sequence[Path]) -> Path:
    """``--out``, else the first configured weights file (``FAKEME_DETECTOR["WEIGHTS"]``)."""
    return Path(options["out"] or configured_weights[0])


def run(options: dict[str, Any], out: Output, *, configured_weights: Sequence[Path]) -> None:
    """Train, calibrate, export to ``--out`` (default: the first of ``configured_weights``) and write
    the report."""
    reals, fakes = data_folders(options)
    frames = ClipFrames()
    if options.get("clip_frames") and options["sources"]:
        frames = extract_clip_frames(
            Catalog.read(options["sources"]), Path(options["run_dir"]) / "clip-frames", options["clip_frames"]
        )
        out.write(f"clip frames: {frames.frames} from {len(frames.trained_clips)} train-role clips")
        reals, fakes = reals + frames.reals, fakes + frames.fakes
    folders = [*reals, *options["gan"], *fakes]
    for folder in folders:
        if not Path(folder).is_dir():
            raise CliError(f"not a folder: {folder}")
    try:
        check_trainable(folders)
    except CatalogError as exc:
        raise CliError(str(exc)) from exc
    if options["pretrained"] and options["init_weights"]:
        raise CliError("--init (an ImageNet backbone) and --init-weights (a FakeME model) exclude each other")
    cfg = config_from_options(
        options,
        real_dirs=reals,
        gan_dirs=options["gan"],
        fake_dirs=fakes,
        init_weights=options["init_weights"],
        catalog=options["sources"],
        trained_clips=tuple(frames.trained_clips),
    )
    extra = {}
    if options["overfit_check"]:
        result = overfit_check(
            cfg, samples=options["overfit_check"], steps=options["overfit_steps"], log=out.write
        )
        extra["Overfit sanity check"] = (
            f"Before the run, {result['samples']} fixed samples ({result['samples'] // 2} reals + their "
            f"blends, size {result['size']}) trained for {result['steps']} steps: training AUC "
            f"{result['train_auc']:.4f}, accuracy {result['train_accuracy']:.4f} "
            f"({result['minutes']} min)."
        )
    if options["report_note"]:
        extra["Run history"] = options["report_note"]
    target = weights_target(options, configured_weights)
    metrics = train_and_export(
        cfg,
        target,
        Path(options["report"]),
        log=out.write,
        extra_sections=extra,
        baselines=[Path(b) for b in options["baseline"]],
    )
    out.write(out.success(f"wrote {target}; temperature {metrics['temperature']:.3f}"))
