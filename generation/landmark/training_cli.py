"""``make_training_swaps --data DIR --out DIR``: face swaps for detector training (the command's code;
``manage.py make_training_swaps`` is a thin wrapper).

Writes swaps made by the built-in landmark engine between different people of one or more folders
of real faces, for ``train_detector --fake OUT``.

- UTKFace-style names (``age_gender_race_time``): two chips are different people when their labels
  differ. Each swap is saved under its *target's* file name, so the training split (which groups
  UTKFace images by the identity fields of their names) puts it on the target's side; the source is
  always drawn from the same side, so no identity crosses the split.
- Any other folder (Korean celebrity, idol, webcam photos, ...): file names carry no identity, so a
  source is always taken from *another* folder (another set of people), and targets and sources
  come only from the training side of the split: a swap can never carry a validation face.
  These swaps are named ``<folder>__<target name>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detection.cli.common import CliError, Output
from detection.training.catalog import CatalogError, check_trainable
from detection.training.sources import Sample, scan_folder, split_by_group
from generation.landmark.engine import LandmarkSwapper
from generation.landmark.errors import SwapError
from generation.landmark.training import training_swap

HELP = "Make face swaps (built-in engine, unmarked) between different people for detector training."


def _utk_named(s: Sample) -> bool:
    return bool(s.gender and s.race and s.age is not None)


def _different_people(a: Sample, b: Sample) -> bool:
    """No folder here has identity ids: call two UTKFace chips different people when their labels
    differ, and two faces of other folders different people only when the folders differ."""
    if a.group == b.group:
        return False
    if not (_utk_named(a) and _utk_named(b)):
        return a.source != b.source
    if a.gender != b.gender or a.race != b.race:
        return True
    return a.age is not None and b.age is not None and abs(a.age - b.age) >= 10


def _read_rgb(path: str) -> np.ndarray | None:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", nargs="+", required=True, help="folders of real faces (UTKFace-style names or any)"
    )
    parser.add_argument("--out", required=True, help="folder to write the swaps to (kept if present)")
    parser.add_argument("--count", type=int, default=2000, help="swaps to make")
    parser.add_argument("--seed", type=int, default=1234, help="the training seed (same split)")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="the training split's share")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality of the written swaps")


def run(options: dict[str, Any], out: Output) -> None:
    """Write up to ``--count`` swaps to ``--out`` (resumable: what is there is kept)."""
    out_dir = Path(options["out"])
    try:
        check_trainable(options["data"])  # swaps of evaluation-only faces would leak them into training
    except CatalogError as exc:
        raise CliError(str(exc)) from exc
    samples: list[Sample] = []
    for folder in map(Path, options["data"]):
        if not folder.is_dir():
            raise CliError(f"not a folder: {folder}")
        found = scan_folder(folder, 0, "real", source=folder.name)
        utk = [s for s in found if _utk_named(s)]
        # A UTKFace folder keeps only its labelled chips; any other folder is taken whole.
        samples += utk if utk else found
    utk_chips = sum(_utk_named(s) for s in samples)
    other_folders = {s.source for s in samples if not _utk_named(s)}
    if utk_chips < 2 and len(other_folders) + bool(utk_chips) < 2:
        raise CliError("need UTKFace-style images (age_gender_race_time) or at least two folders of faces")
    out_dir.mkdir(parents=True, exist_ok=True)
    seed = options["seed"]
    swapper = LandmarkSwapper()
    train_side, val_side = split_by_group(samples, options["val_fraction"], options["seed"])
    # Faces without identity labels stay on the training side (see the module docstring).
    sides = (train_side, [s for s in val_side if _utk_named(s)])
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
            name = Path(target.path).name
            if not _utk_named(target):
                name = f"{target.source}__{Path(name).stem}.jpg"
            dest = out_dir / name
            if dest.exists():  # resumable: a rerun keeps what it made
                done += 1
                continue
            source = _pick_source(side, target, np.random.default_rng([seed, n, pos]))
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
                out.write(f"{made} swaps written")
    out.write(out.success(f"{made} swaps written to {out_dir} ({skipped} pairs skipped)"))


def _pick_source(side: list[Sample], target: Sample, rng: np.random.Generator) -> Sample | None:
    for _ in range(50):
        cand = side[int(rng.integers(len(side)))]
        if _different_people(cand, target):
            return cand
    return None
