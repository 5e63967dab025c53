"""``python manage.py make_training_swaps --data DIR --out DIR``: face swaps for detector training.

Writes swaps made by the built-in landmark engine between different people of a UTKFace-style
folder, for ``train_detector --fake OUT``. Each swap is saved under its *target's* file name, so the
training split (which groups UTKFace images by the identity fields of their names) puts it on the
target's side; the source is always drawn from the same side, so no identity crosses the split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.training.sources import Sample, scan_folder, split_by_group
from generation.landmark import LandmarkSwapper, SwapError
from generation.landmark.training import training_swap


def _different_people(a: Sample, b: Sample) -> bool:
    """UTKFace has no identity ids: call two chips different people when their labels differ."""
    if a.group == b.group:
        return False
    if a.gender != b.gender or a.race != b.race:
        return True
    return a.age is not None and b.age is not None and abs(a.age - b.age) >= 10


def _read_rgb(path: str) -> np.ndarray | None:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class Command(BaseCommand):
    help = "Make face swaps (built-in engine, unmarked) between different people for detector training."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, help="folder of real faces with UTKFace-style names")
        parser.add_argument("--out", required=True, help="folder to write the swaps to (kept if present)")
        parser.add_argument("--count", type=int, default=2000, help="swaps to make")
        parser.add_argument("--seed", type=int, default=1234, help="the training seed (same split)")
        parser.add_argument("--val-fraction", type=float, default=0.2, help="the training split's share")
        parser.add_argument("--quality", type=int, default=95, help="JPEG quality of the written swaps")

    def handle(self, *args: Any, **options: Any) -> None:
        data, out = Path(options["data"]), Path(options["out"])
        if not data.is_dir():
            raise CommandError(f"not a folder: {data}")
        samples = [s for s in scan_folder(data, 0, "real") if s.gender and s.race and s.age is not None]
        if len(samples) < 2:
            raise CommandError("no UTKFace-style images (age_gender_race_time) in that folder")
        out.mkdir(parents=True, exist_ok=True)
        seed = options["seed"]
        swapper = LandmarkSwapper()
        sides = split_by_group(samples, options["val_fraction"], options["seed"])
        # Each side gets its share of the swaps, so validation has swaps to be measured on.
        quota = [round(options["count"] * len(side) / len(samples)) for side in sides]
        made = skipped = 0
        # Random streams keyed by (seed, side, position): a rerun makes exactly the same choices.
        for n, (side, wanted) in enumerate(zip(sides, quota, strict=True)):
            targets = [side[int(i)] for i in np.random.default_rng([seed, n]).permutation(len(side))]
            done = 0
            for pos, target in enumerate(targets):
                if done >= wanted:
                    break
                dest = out / Path(target.path).name
                if dest.exists():  # resumable: a rerun keeps what it made
                    done += 1
                    continue
                source = self._pick_source(side, target, np.random.default_rng([seed, n, pos]))
                target_rgb = _read_rgb(target.path)
                source_rgb = _read_rgb(source.path) if source else None
                if source_rgb is None or target_rgb is None:
                    skipped += 1
                    continue
                try:
                    swapped = training_swap(swapper, source_rgb, target_rgb)
                except SwapError:
                    skipped += 1
                    continue
                tmp = dest.with_name(dest.name + ".part.jpg")
                cv2.imwrite(
                    str(tmp),
                    cv2.cvtColor(swapped, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, options["quality"]],
                )
                tmp.rename(dest)
                done += 1
                made += 1
                if made % 200 == 0:
                    self.stdout.write(f"{made} swaps written")
        self.stdout.write(self.style.SUCCESS(f"{made} swaps written to {out} ({skipped} pairs skipped)"))

    @staticmethod
    def _pick_source(side: list[Sample], target: Sample, rng: np.random.Generator) -> Sample | None:
        for _ in range(50):
            cand = side[int(rng.integers(len(side)))]
            if _different_people(cand, target):
                return cand
        return None
