"""Engine swaps as detector training data: ``make_training_swaps`` and the training sampler's pools."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from detection.training.sources import scan_folder, split_by_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def utk_folder(shared_data: Path, tmp_path: Path) -> Path:
    """40 UTKFace chips of varied people (every 150th file), copied to a temporary folder."""
    files = sorted((shared_data / "faces-real" / "utkface").glob("*.jpg"))[::150][:40]
    folder = tmp_path / "utk"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def test_swaps_are_named_after_targets_on_the_same_split_side(utk_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "swaps"
    call_command(
        "make_training_swaps", data=[str(utk_folder)], out=str(out), count=12, seed=7, val_fraction=0.3
    )
    written = sorted(p.name for p in out.iterdir())
    assert 8 <= len(written) <= 12, written  # a pair whose faces dlib cannot find is skipped
    assert not [n for n in written if ".part" in n], "no half-written files"
    assert set(written) <= {p.name for p in utk_folder.iterdir()}
    for name in written:
        swap = cv2.imread(str(out / name))
        target = cv2.imread(str(utk_folder / name))
        assert swap.shape == target.shape
        diff = np.abs(swap.astype(int) - target.astype(int)).sum(axis=2)
        # the face changed; outside the face mask (background, hair, neck) the chip did not
        assert diff[60:140, 60:140].mean() > 8
        assert (diff < 12).mean() > 0.05
    # Scanned as training data, each swap falls on its target's side of the identity split.
    reals = scan_folder(utk_folder, 0, "real")
    fakes = scan_folder(out, 1, "fake")
    val_reals = {Path(s.path).name for s in split_by_group(reals, 0.3, 7)[1]}
    val_fakes = {Path(s.path).name for s in split_by_group(fakes, 0.3, 7)[1]}
    assert val_fakes == val_reals & set(written)
    assert val_fakes and set(written) - val_fakes, "both sides get swaps"
    # A rerun keeps what exists and makes nothing new.
    call_command(
        "make_training_swaps", data=[str(utk_folder)], out=str(out), count=12, seed=7, val_fraction=0.3
    )
    assert sorted(p.name for p in out.iterdir()) == written


def test_other_fakes_are_drawn_source_by_source_beside_reals() -> None:
    from detection.training.data import FaceCrop
    from detection.training.sources import Sample
    from detection.training.train import BatchSampler, DataBundle, TrainConfig

    def crop(path: str, label: int, kind: str, source: str) -> FaceCrop:
        img = np.full((168, 168, 3), 128, np.uint8)
        pts = np.array([[60, 70], [108, 70], [84, 95], [66, 120], [102, 120]], np.float32)
        return FaceCrop(img, pts, Sample(path, label, kind, path, source=source))

    utk = [crop(f"/utkface/{i}.jpg", 0, "real", "utkface") for i in range(4)]
    ffhq = [crop(f"/ffhq/{i}.jpg", 0, "real", "ffhq") for i in range(2)]
    gan = [crop(f"/gan/{i}.jpg", 1, "gan", "gan") for i in range(4)]
    swaps = [crop(f"/swaps/{i}.jpg", 1, "fake", "swaps") for i in range(36)]
    data = DataBundle(utk + ffhq, gan + swaps, [], {})
    cfg = TrainConfig(real_dirs=[], steps=4, sizes=(64,), batch_pairs=1, batch_other=4, seed=3)
    sampler = BatchSampler(cfg, data)
    pools = {fakes[0].sample.source: len(fakes) for fakes in sampler.other_pools}
    assert pools == {"gan": 4, "swaps": 36}
    # Sources drawn ∝ sqrt(size): 4 GAN faces get 2 / (2 + 6) of the slots, not 4 / 40.
    assert sampler.other_p.tolist() == pytest.approx([0.25, 0.75])
    batch = sampler.batch(0)
    # 1 real + its blend, then 4 (fake, real) pairs
    assert batch["y"].tolist() == [0.0, 1.0] + [1.0, 0.0] * 4


def test_swaps_between_folders_without_identity_labels_stay_on_the_training_side(
    shared_data: Path, tmp_path: Path
) -> None:
    """Korean photo folders carry no identity: sources come from another folder, and only faces of
    the training side are used, so no validation face reaches a swap."""
    folders = []
    for name in ("celeb-korean-press", "kpop-idol-photos"):
        folder = tmp_path / name
        folder.mkdir()
        for f in sorted((shared_data / "faces-real" / name).iterdir())[:12]:
            shutil.copy(f, folder / f.name)
        folders.append(folder)
    out = tmp_path / "swaps"
    call_command("make_training_swaps", data=[str(f) for f in folders], out=str(out), count=10, seed=7)
    written = sorted(p.name for p in out.iterdir())
    assert 5 <= len(written) <= 10, written
    assert all(n.split("__")[0] in {"celeb-korean-press", "kpop-idol-photos"} for n in written)
    reals = [s for f in folders for s in scan_folder(f, 0, "real", source=f.name)]
    val = {f"{s.source}__{Path(s.path).stem}.jpg" for s in split_by_group(reals, 0.2, 7)[1]}
    assert not val & set(written), "a validation face was used as a swap target"
