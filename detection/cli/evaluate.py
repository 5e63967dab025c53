"""``evaluate_detector``: the evaluation report of saved weights."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from detection.cli.common import CliError, Output
from detection.cli.train import data_folders
from detection.training.config import TrainConfig
from detection.training.pipeline import evaluate_weights

HELP = (
    "Evaluate detector weights on the identity-disjoint validation split of the given folders "
    "(the split train_detector used with the same folders and seed) and write the report."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", required=True, help="a .safetensors file with its .json card")
    parser.add_argument("--data", nargs="*", default=[], help="folders of real face images")
    parser.add_argument(
        "--sources",
        default=None,
        metavar="SOURCES.tsv",
        help="a data catalog: its train folders form the validation split (as train_detector "
        "--sources did) and its dev-eval folders the cross-source report that leads the card",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="WEIGHTS",
        help="weights whose cross-source numbers stand beside these (repeatable)",
    )
    parser.add_argument("--gan", nargs="*", default=[], help="folders of GAN-made faces")
    parser.add_argument("--fake", nargs="*", default=[], help="folders of other fake faces")
    parser.add_argument("--report", default=None, help="write the Markdown report here")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--cache-dir", default=".cache", help="where the face index is cached")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--max-fpr",
        type=float,
        default=0.01,
        help="tag threshold's cap on East Asian reals (0: Youden's J)",
    )
    parser.add_argument("--review-fpr", type=float, default=0.05, help="review threshold's cap (0: none)")
    parser.add_argument("--calibration", choices=("auto", "temperature", "platt"), default="auto")
    parser.add_argument(
        "--recalibrate",
        action="store_true",
        help="store the refitted temperature and threshold in the weights' card",
    )
    parser.add_argument("--model-version", default=None, help="with --recalibrate: the card's new version")
    parser.add_argument(
        "--test-time-flip",
        choices=("on", "off"),
        default=None,
        help="mirror averaging on or off (default: as the card says; stored with --recalibrate)",
    )
    parser.add_argument("--note", default="", help="a paragraph added to the report's run history")


def run(options: dict[str, Any], out: Output) -> None:
    """Evaluate ``--weights`` on the validation split of the folders; with ``--report``, write it."""
    weights = Path(options["weights"])
    if not weights.is_file() or not weights.with_suffix(".json").is_file():
        raise CliError(f"weights or their .json card not found: {weights}")
    reals, fakes = data_folders(options)
    for folder in [*reals, *options["gan"], *fakes, *options["baseline"]]:
        if not Path(folder).exists():
            raise CliError(f"not found: {folder}")
    cfg = TrainConfig(
        real_dirs=reals,
        gan_dirs=options["gan"],
        fake_dirs=fakes,
        seed=options["seed"],
        threads=options["threads"],
        max_fpr=options["max_fpr"] or None,
        review_fpr=options["review_fpr"] or None,
        calibration=options["calibration"],
        cache_dir=options["cache_dir"],
        catalog=options["sources"],
    )
    report = Path(options["report"]) if options["report"] else None
    metrics = evaluate_weights(
        cfg,
        weights,
        report,
        recalibrate=options["recalibrate"],
        test_time_flip=None if options["test_time_flip"] is None else options["test_time_flip"] == "on",
        version=options["model_version"],
        note=options["note"],
        baselines=[Path(b) for b in options["baseline"]],
        log=out.write,
    )
    out.write(
        out.success(
            f"T={metrics['temperature']:.4f} threshold={metrics['threshold']:.4f}"
            + (f"; report {report}" if report else "")
        )
    )
