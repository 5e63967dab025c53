"""``python manage.py train_detector --data DIR...``: train the detector from face folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.training.pipeline import overfit_check, train_and_export
from detection.training.train import TrainConfig, parse_group_weights


def add_training_arguments(parser: CommandParser, default_steps: int, default_warmup: int = 150) -> None:
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
        default=0.02,
        help="cap on the share of validation reals the threshold flags (0: Youden's J alone)",
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
        "--test-time-flip",
        choices=("on", "off"),
        default="on",
        help="score each crop and its mirror image and average (written to the card)",
    )


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
        test_time_flip=options["test_time_flip"] == "on",
        **fields,
    )
    if options.get("lr"):
        cfg.lr = options["lr"]
    if options.get("group_weight"):
        try:
            cfg.group_weights = parse_group_weights(options["group_weight"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    return cfg


def weights_target(options: dict[str, Any]) -> Path:
    return Path(options["out"] or settings.FAKEME_DETECTOR["WEIGHTS"][0])


class Command(BaseCommand):
    help = "Train the deepfake detector on folders of real faces (self-blended fakes are made on the fly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", nargs="+", required=True, help="folders of real face images")
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

    def handle(self, *args: Any, **options: Any) -> None:
        for folder in [*options["data"], *options["gan"], *options["fake"]]:
            if not Path(folder).is_dir():
                raise CommandError(f"not a folder: {folder}")
        cfg = config_from_options(
            options,
            real_dirs=options["data"],
            gan_dirs=options["gan"],
            fake_dirs=options["fake"],
            init_weights=options["init_weights"],
        )
        extra = {}
        if options["overfit_check"]:
            result = overfit_check(
                cfg, samples=options["overfit_check"], steps=options["overfit_steps"], log=self.stdout.write
            )
            extra["Overfit sanity check"] = (
                f"Before the run, {result['samples']} fixed samples ({result['samples'] // 2} reals + their "
                f"blends, size {result['size']}) trained for {result['steps']} steps: training AUC "
                f"{result['train_auc']:.4f}, accuracy {result['train_accuracy']:.4f} "
                f"({result['minutes']} min)."
            )
        if options["report_note"]:
            extra["Run history"] = options["report_note"]
        metrics = train_and_export(
            cfg, weights_target(options), Path(options["report"]), log=self.stdout.write, extra_sections=extra
        )
        self.stdout.write(
            self.style.SUCCESS(f"wrote {weights_target(options)}; temperature {metrics['temperature']:.3f}")
        )
