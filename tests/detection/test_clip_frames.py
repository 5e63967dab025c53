"""Frames of half the train-role clips join training (``train_detector --clip-frames``); the other
half, never trained on, is what the clip calibration is fitted on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detection.model import ModelCard, card_path_for
from detection.training.catalog import Catalog
from detection.training.clip_frames import extract_clip_frames, trains_on
from detection.training.config import TrainConfig
from detection.training.pipeline import catalog_reports
from tests.detection.fakeme_media import make_random_weights

HEADER = "folder\tlabel\tmethod\tkind\trole\tn\tpeople\tstyle\tlicence\torigin\tnote\n"
NAMES = [f"clip{i}.mp4" for i in range(8)]


def _catalog(tmp_path: Path, face_video: Path) -> Path:
    root = tmp_path / "data"
    rows = [
        ("video-real/talk", "real", "train"),
        ("video-fake/lipsync", "fake", "train"),
        ("video-fake/held-out", "fake", "dev-eval"),
    ]
    for folder, _, _ in rows:
        (root / folder).mkdir(parents=True)
        for name in NAMES:
            shutil.copy(face_video, root / folder / name)
    (root / "SOURCES.tsv").write_text(
        HEADER + "".join(f"{f}\t{lab}\tm\tvideo\t{role}\t8\tmixed\ts\tl\to\tn\n" for f, lab, role in rows)
    )
    return root / "SOURCES.tsv"


def test_the_clip_split_is_stable_and_uses_both_halves() -> None:
    halves = [trains_on(Path(n)) for n in NAMES]
    assert halves == [trains_on(Path("/elsewhere") / n) for n in NAMES]  # by name only
    assert any(halves) and not all(halves)


def test_frames_of_the_training_half_are_written_per_source_and_dev_eval_is_not_read(
    tmp_path: Path, face_video: Path
) -> None:
    catalog = Catalog.read(_catalog(tmp_path, face_video))
    out = tmp_path / "frames"
    frames = extract_clip_frames(catalog, out, per_clip=4)
    trained = [n for n in NAMES if trains_on(Path(n))]
    assert frames.reals == [str(out / "video-real/talk")] and frames.fakes == [
        str(out / "video-fake/lipsync")
    ]
    assert sorted(Path(p).name for p in frames.trained_clips) == sorted(trained * 2)
    # 3 s at 2 fps = 6 samples, 4 of them evenly spread; none of a calibration-half clip.
    stems = {p.name.rsplit("-", 1)[0] for p in (out / "video-real/talk").glob("*.jpg")}
    assert stems == {Path(n).stem for n in trained}
    assert len(list((out / "video-real/talk").glob("*.jpg"))) == 4 * len(trained) == frames.frames // 2
    assert not (out / "video-fake/held-out").exists()
    # A resumed run reuses what is there.
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    assert extract_clip_frames(catalog, out, per_clip=4).frames == frames.frames
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == before


def test_the_clip_calibration_leaves_out_the_clips_trained_on(
    tmp_path: Path, face_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative catalog path, as `train_detector --sources ../shared/data/SOURCES.tsv` gives.
    sources = _catalog(tmp_path, face_video)
    monkeypatch.chdir(tmp_path)
    relative = sources.relative_to(tmp_path)
    frames = extract_clip_frames(Catalog.read(relative), tmp_path / "frames", per_clip=2)
    weights = make_random_weights(tmp_path / "w.safetensors")
    # The run's config carries the clips: training and evaluation both report through it.
    cfg = TrainConfig(
        real_dirs=[],
        out_dir=str(tmp_path / "run"),
        catalog=str(relative),
        cache_dir=str(tmp_path / "cache"),
        trained_clips=tuple(frames.trained_clips),
    )
    catalog_reports(weights, cfg, [], log=lambda *a: None)
    choice = ModelCard.from_json(card_path_for(weights)).training["video_aggregation_choice"]
    kept = 2 * len(NAMES) - len(frames.trained_clips)
    assert choice["clips_left_out_as_trained_on"] == len(frames.trained_clips) > 0
    table = choice["train_clips"]["mean"]
    assert table["fake_clips"] + table["real_clips"] == kept
