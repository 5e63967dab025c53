"""The training pipeline: self-blends, split, calibration maths, and a tiny end-to-end run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from detection.model import load_detector
from detection.training.evaluate import ece, fit_temperature, sigmoid
from detection.training.sbi import boundary_map, self_blend
from detection.training.sources import Sample, split_by_group

LANDMARKS = np.array([[70, 85], [130, 85], [100, 115], [78, 145], [122, 145]], np.float32)


def _face_like(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((200, 200, 3), 120, np.uint8)
    yy, xx = np.mgrid[:200, :200]
    img[..., 0] = np.clip(150 + 40 * np.sin(xx / 9.0) + rng.normal(0, 6, (200, 200)), 0, 255)
    img[..., 1] = np.clip(110 + 30 * np.cos(yy / 7.0) + rng.normal(0, 6, (200, 200)), 0, 255)
    return img


@pytest.mark.parametrize("hardness", [0.0, 0.5, 1.0])
def test_self_blend_changes_only_inside_the_mask(hardness: float) -> None:
    img = _face_like()
    changed = 0
    for seed in range(8):
        out = self_blend(img, LANDMARKS, np.random.default_rng(seed), hardness)
        outside = out.mask == 0
        inside = out.mask >= 0.5 * out.mask.max()
        assert outside.any() and inside.any()
        diff = np.abs(out.image.astype(int) - img.astype(int)).sum(axis=2)
        assert (diff[outside] == 0).all(), "pixels outside the blend mask must be untouched"
        changed += diff[inside].mean() > 3
        # the blend region covers the face: the eyes and mouth are inside it
        for x, y in LANDMARKS.astype(int):
            assert out.mask[y, x] > 0
    assert changed >= 6, "the blended face must differ visibly from the original"


def test_boundary_map_marks_the_mask_edge() -> None:
    mask = np.zeros((128, 128), np.float32)
    mask[32:96, 32:96] = 1.0
    b = boundary_map(mask, 16)
    assert b.shape == (16, 16) and b.max() == pytest.approx(1.0)
    assert b[8, 8] < 0.05  # the interior is not a boundary
    assert b[0, 0] < 0.05  # nor is the far background
    assert b[4, 8] > 0.5 or b[3, 8] > 0.5  # the edge at row 32/8 = 4 is


def test_boundary_map_of_an_empty_mask_is_zero() -> None:
    assert boundary_map(np.zeros((64, 64), np.float32), 8).max() == 0


def test_split_keeps_each_group_on_one_side() -> None:
    samples = [Sample(f"/x/{i}.jpg", 0, "real", group=f"g{i // 3}") for i in range(300)]
    train, val = split_by_group(samples, 0.2, seed=7)
    assert len(train) + len(val) == 300 and 30 <= len(val) <= 100
    assert not {s.group for s in train} & {s.group for s in val}
    again, _ = split_by_group(samples, 0.2, seed=7)
    assert [s.path for s in again] == [s.path for s in train]


def test_temperature_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2.0, 20000)
    labels = (rng.random(20000) < sigmoid(true_logits)).astype(float)
    t = fit_temperature(true_logits * 3.0, labels)  # an over-confident model, 3× too sharp
    assert t == pytest.approx(3.0, rel=0.08)
    assert ece(sigmoid(true_logits * 3.0 / t), labels) < ece(sigmoid(true_logits * 3.0), labels)


@pytest.mark.slow
def test_tiny_training_run_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    """A few steps on a handful of real photos: checkpoint, resume, calibrated export, report."""
    from detection.training.config import TrainConfig
    from detection.training.pipeline import train_and_export

    real, gan = tmp_path / "real", tmp_path / "gan"
    real.mkdir()
    gan.mkdir()
    for p in sorted((shared_data / "faces-real/utkface").iterdir())[:24]:
        (real / p.name).symlink_to(p)
    for folder in (shared_data / "faces-real/ffhq-512", shared_data / "faces-gan/tpdne-512"):
        for p in sorted(folder.iterdir())[:6]:
            (real if "ffhq" in folder.name else gan).joinpath(p.name).symlink_to(p)
    cfg = TrainConfig(
        real_dirs=[str(real)],
        gan_dirs=[str(gan)],
        out_dir=str(tmp_path / "run"),
        steps=2,
        sizes=(64,),
        batch_pairs=2,
        batch_other=1,
        eval_every=2,
        checkpoint_every=1,
        warmup_steps=1,
        cache_dir=str(tmp_path / "cache"),
        val_fraction=0.4,
        threads=1,
    )
    weights = tmp_path / "w.safetensors"
    metrics = train_and_export(cfg, weights, tmp_path / "card.md")
    ckpt = tmp_path / "run/checkpoint.pt"
    assert ckpt.exists()
    model, card = load_detector(weights)
    assert card.input_size == 64 and card.temperature == pytest.approx(metrics["temperature"])
    assert card.test_time_flip  # new models are scored over each crop and its mirror by default
    assert len(card.learning_curve) == 1 and card.learning_curve[0]["step"] == 2
    assert "sbi" in metrics["sets"] and "gan" in metrics["sets"]
    assert (tmp_path / "card.md").read_text().startswith("# Model card")
    assert (tmp_path / "card-roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Resume: a longer run picks up at the saved step instead of starting over.
    cfg.steps = 3
    lines: list[str] = []
    train_and_export(cfg, weights, None, log=lines.append)
    assert any("resumed from step 2" in line for line in lines)
    assert json.loads(weights.with_suffix(".json").read_text())["learning_curve"][-1]["step"] == 3


def _synthetic_bundle(n: int = 6):
    from detection.training.batches import DataBundle
    from detection.training.data import PRECROP_SIZE, FaceCrop

    scale = PRECROP_SIZE / 200
    crops = [
        FaceCrop(
            cv2.resize(_face_like(i), (PRECROP_SIZE, PRECROP_SIZE)),
            LANDMARKS * scale,
            Sample(f"/synthetic/{i}.jpg", 0, "real", f"g{i}", race="asian" if i % 2 else "white"),
        )
        for i in range(n)
    ]
    return DataBundle(crops, [], [], {})


def test_batches_are_deterministic_for_a_seed() -> None:
    """Each step's batch depends only on (seed, step): a resumed run sees the same data."""
    from detection.training.batches import BatchSampler
    from detection.training.config import TrainConfig

    data = _synthetic_bundle()
    cfg = TrainConfig(real_dirs=[], steps=10, sizes=(64,), batch_pairs=3, batch_other=0, seed=5)
    a, b = BatchSampler(cfg, data).batch(3), BatchSampler(cfg, data).batch(3)
    assert torch_equal(a["x"], b["x"]) and torch_equal(a["boundary"], b["boundary"])
    assert a["x"].shape == (6, 3, 64, 64) and a["boundary"].shape == (6, 1, 8, 8)
    assert a["y"].tolist() == [0.0, 1.0] * 3  # each real next to its own self-blend
    assert a["boundary"][1].max() > 0.5 and a["boundary"][0].max() == 0  # blends carry a boundary
    c = BatchSampler(cfg, data).batch(4)
    assert not torch_equal(a["x"], c["x"])


def torch_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.equal(a, b))


def test_group_weights_set_how_often_each_group_is_drawn() -> None:
    """race/gender entries win over their race's; unlisted groups keep weight 1."""
    from detection.training.batches import BatchSampler, DataBundle
    from detection.training.config import TrainConfig
    from detection.training.data import FaceCrop

    people = [("black", "male"), ("black", "female"), ("asian", "male"), ("white", "female")]
    crops = [
        FaceCrop(
            np.zeros((8, 8, 3), np.uint8),
            LANDMARKS,
            Sample(f"/{i}.jpg", 0, "real", f"g{i}", race=r, gender=g),
        )
        for i, (r, g) in enumerate(people)
    ]
    cfg = TrainConfig(real_dirs=[], group_weights={"black": 2.0, "black/male": 4.0, "asian": 2.0})
    p = BatchSampler(cfg, DataBundle(crops, [], [], {})).real_p
    assert p.tolist() == pytest.approx([4 / 9, 2 / 9, 2 / 9, 1 / 9])


def test_group_weight_specs_are_parsed_or_refused_by_name() -> None:
    from detection.training.config import parse_group_weights

    assert parse_group_weights(["asian=2", " black/male=1.5"]) == {"asian": 2.0, "black/male": 1.5}
    for bad in ("korean=2", "black/boy=2", "asian", "asian=0", "asian=-1", "asian=x", "asian=nan"):
        with pytest.raises(ValueError, match="bad group weight"):
            parse_group_weights([bad])


def test_train_command_refuses_a_bad_group_weight_before_it_trains(tmp_path: Path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    run_dir = tmp_path / "run"
    with pytest.raises(CommandError, match="bad group weight 'asain=2'"):
        call_command(
            "train_detector", "--data", str(tmp_path), "--group-weight", "asain=2", "--run-dir", str(run_dir)
        )
    assert not run_dir.exists()


@pytest.mark.slow
def test_finetune_command_writes_calibrated_weights_and_report(
    shared_data: Path, tmp_path: Path, weights_path: Path
) -> None:
    """finetune_detector starts from given weights and a platform's real/ and fake/ folders."""
    from django.core.management import call_command

    data = tmp_path / "platform"
    (data / "real").mkdir(parents=True)
    (data / "fake").mkdir()
    for p in sorted((shared_data / "faces-real/ffhq-512").iterdir())[:16]:
        (data / "real" / p.name).symlink_to(p)
    for p in sorted((shared_data / "faces-gan/tpdne-512").iterdir())[:16]:
        (data / "fake" / p.name).symlink_to(p)
    base = tmp_path / "base.safetensors"  # the bundled model's card carries its run history
    shutil.copy(weights_path, base)
    base_card = json.loads(weights_path.with_suffix(".json").read_text())
    base_card["training"]["report_sections"] = {"Run history": "1. **base**: trained by us."}
    base.with_suffix(".json").write_text(json.dumps(base_card))
    out = tmp_path / "ft.safetensors"
    call_command(
        "finetune_detector",
        "--data",
        str(data),
        "--base",
        str(base),
        "--out",
        str(out),
        "--report",
        str(tmp_path / "ft.md"),
        "--run-dir",
        str(tmp_path / "run"),
        "--steps",
        "2",
        "--sizes",
        "64",
        "--batch-pairs",
        "2",
        "--threads",
        "1",
        "--eval-every",
        "2",
    )
    model, card = load_detector(out)
    assert card.version.endswith("+ft") and card.input_size == 64
    assert "labelled" in card.metrics["sets"]  # the platform's own fakes are evaluated
    report = (tmp_path / "ft.md").read_text()
    assert "labelled" in report
    assert "1. **base**: trained by us." in report  # the base model's history carries on
    assert card.training["report_sections"]["Run history"].startswith("1. **base**")


def test_threshold_fit_balances_both_error_kinds() -> None:
    from detection.training.calibration import fit_threshold

    rng = np.random.default_rng(1)
    reals, fakes = rng.uniform(0.0, 0.3, 500), rng.uniform(0.25, 0.6, 500)  # fakes mostly below 0.5
    t = fit_threshold(np.concatenate([reals, fakes]), np.r_[np.zeros(500), np.ones(500)])
    assert 0.24 <= t <= 0.31  # the overlap region, not the naive 0.5
    assert fit_threshold(np.array([0.2, 0.9]), np.array([1.0, 1.0])) == 0.5  # one class: default


def test_threshold_fit_caps_false_alarms_on_reals() -> None:
    from detection.training.calibration import fit_threshold

    rng = np.random.default_rng(2)
    reals, fakes = rng.normal(0.3, 0.1, 1000), rng.normal(0.6, 0.1, 1000)  # J sits near 0.45
    probs, labels = np.concatenate([reals, fakes]), np.r_[np.zeros(1000), np.ones(1000)]
    youden = fit_threshold(probs, labels)
    capped = fit_threshold(probs, labels, max_fpr=0.01)
    assert capped > youden
    assert (reals >= capped).mean() <= 0.01 < (reals >= youden).mean()
    # A cap looser than what J already gives changes nothing.
    assert fit_threshold(probs, labels, max_fpr=0.9) == youden


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_an_empty_test_half_is_reported_as_unmeasured_not_as_perfect() -> None:
    """A tiny run can leave a set with no test image: its ECE must not read as a met 0.0."""
    from detection.training.evaluate import binary_report, ece
    from detection.training.report import TARGETS

    empty = np.zeros(0)
    assert np.isnan(ece(empty, empty))
    rep = binary_report(empty, empty, 0.5)
    assert rep["n"] == 0 and np.isnan(rep["accuracy"]) and np.isnan(rep["f1"])
    assert not (ece(empty, empty) <= TARGETS["ece_after"])
    assert ece(np.array([0.9, 0.1]), np.array([1.0, 0.0])) == pytest.approx(0.1)


def test_the_ece_floor_is_the_noise_of_a_perfectly_calibrated_model() -> None:
    """Small sets show a large ECE even when calibration is perfect; the report states that floor."""
    from detection.training.evaluate import ece, ece_noise

    def floor(probs: np.ndarray) -> float:
        return float(ece_noise(probs).mean())

    rng = np.random.default_rng(3)
    for n in (85, 2500):
        probs = rng.beta(0.5, 0.5, n)
        labels = [(rng.random(n) < probs).astype(float) for _ in range(300)]
        measured = np.mean([ece(probs, y) for y in labels])  # calibrated by construction
        assert floor(probs) == pytest.approx(measured, rel=0.15)
    small, large = floor(rng.beta(0.5, 0.5, 85)), floor(rng.beta(0.5, 0.5, 2500))
    assert small > 0.05 > large  # 85 images cannot show a 0.05 target; 2,500 can
    assert floor(np.r_[np.zeros(50), np.ones(50)]) == 0.0  # certain and right: no noise
    assert np.isnan(floor(np.zeros(0)))


def test_the_report_says_how_often_perfect_calibration_reads_as_badly() -> None:
    """A calibrated model's ECE is usually within its noise; a miscalibrated one's rarely is."""
    from detection.training.evaluate import ece, ece_noise
    from detection.training.report import targets_table

    rng = np.random.default_rng(5)
    probs = rng.uniform(0.05, 0.95, 85)
    calibrated = (rng.random(85) < probs).astype(float)
    overconfident = (rng.random(85) < 0.5 + (probs - 0.5) * 0.2).astype(float)  # truth near a coin
    noise = ece_noise(probs)
    by_chance = {
        name: float(np.mean(noise >= ece(probs, y)))
        for name, y in (("calibrated", calibrated), ("overconfident", overconfident))
    }
    assert by_chance["calibrated"] > 0.05 > by_chance["overconfident"]
    sets = {"gan": {"auc": 0.95, "ece_after": 0.11, "ece_floor": 0.077, "ece_by_chance": 0.24}}
    row = next(r for r in targets_table({"sets": sets}) if "ECE" in r[0])
    assert row[1] == "0.1100 (gan; floor 0.0770; chance 24%)" and row[3] is False


def test_the_gap_floor_is_what_equally_accurate_groups_show_by_chance() -> None:
    from detection.training.evaluate import gap_noise

    # Ten groups of 50 at 90 %: each group's accuracy has sd sqrt(.9 × .1 / 50), and the expected
    # range of ten normal draws is 3.078 sd.
    assert gap_noise([50] * 10, 0.9, draws=4000).mean() == pytest.approx(3.078 * np.sqrt(0.09 / 50), rel=0.1)
    assert gap_noise([100_000] * 10, 0.9).mean() < 0.005  # big groups: next to no noise
    assert gap_noise([50] * 10, 1.0).max() == 0.0  # always right: never a gap
    assert gap_noise([50], 0.9).max() == 0.0  # one group: nothing to compare


def test_the_report_puts_the_measured_gap_beside_its_floor() -> None:
    """An even model's gap is 0 and chance shows as much every time; a real gap shows its rarity."""
    from types import SimpleNamespace

    from detection.training.report import _subgroups, targets_table

    def run(right_per_group: list[int], n: int = 100) -> dict:
        sources, probs = [], []
        for i, right in enumerate(right_per_group):
            sample = SimpleNamespace(race=f"race{i}", gender="female", age_band="20-39")
            sources += [SimpleNamespace(sample=sample)] * n
            probs += [1.0] * right + [0.0] * (n - right)  # every image a fake: right when flagged
        return _subgroups(sources, np.array(probs), np.ones(len(probs)), threshold=0.5)

    even = run([90, 90, 90, 90])
    assert even["worst_gap"] == 0.0 and even["gap_by_chance"] == 1.0
    assert 0.03 < even["gap_floor"] < 0.09  # 4 groups of 100 at 90 %: sd 3 pts, range ≈ 2 sd
    uneven = run([95, 95, 95, 75])
    assert uneven["worst_gap"] == pytest.approx(0.20)
    assert uneven["gap_by_chance"] < 0.01 and uneven["pooled_accuracy"] == pytest.approx(0.90)
    sets = {"sbi": {"auc": 0.98, "ece_after": 0.02, "subgroups": uneven}}
    row = next(r for r in targets_table({"sets": sets}) if "gap" in r[0])
    assert row[1] == f"20.0 pts (floor {uneven['gap_floor'] * 100:.1f})" and row[3] is False


def _halves(seed: int, n: int, scale: float, calib: bool, groups: int = 4) -> dict:
    """Reals (logit ≈ -2) and fakes (≈ +2) of ``groups`` race groups; ``scale`` stretches the logits."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n), np.ones(n)]
    logits = scale * (np.where(y > 0, 2.0, -2.0) + rng.normal(0, 1.5, 2 * n))
    sources = [
        SimpleNamespace(
            sample=SimpleNamespace(
                race=f"race{i % groups}",
                gender="female",
                age_band="20-39",
                path=f"/d/src{i % 2}/{seed}-{i}.jpg",
            )
        )
        for i in range(2 * n)
    ]
    return {"logits": logits, "y": y, "calib": np.full(2 * n, calib), "sources": sources}


def _join(*parts: dict) -> dict:
    return {
        k: (sum((p[k] for p in parts), []) if k == "sources" else np.concatenate([p[k] for p in parts]))
        for k in parts[0]
    }


def test_both_halves_are_scored_by_a_fit_that_never_saw_them() -> None:
    """The shipped temperature comes from the calibration half alone; each half is then scored by
    the other half's fit, so the whole split is read out of sample."""
    from detection.training.calibration import fit_threshold
    from detection.training.evaluate import fit_temperature, sigmoid
    from detection.training.report import score_halves

    calib, test = _halves(1, 400, 1.0, True), _halves(2, 400, 3.0, False)  # test logits 3× as sharp
    results = score_halves({"sbi": _join(calib, test)}, max_fpr=0.02)
    t_calib = fit_temperature(calib["logits"], calib["y"])
    t_test = fit_temperature(test["logits"], test["y"])
    assert results["temperature"] == pytest.approx(t_calib)
    assert results["crossfit"]["temperature"] == pytest.approx(t_test)
    assert t_test == pytest.approx(3 * t_calib, rel=0.15)  # the two fits differ, as built
    cut_test = fit_threshold(sigmoid(test["logits"] / t_test), test["y"], max_fpr=0.02)
    assert results["crossfit"]["threshold"] == pytest.approx(cut_test)

    sbi = results["sets"]["sbi"]
    assert sbi["n"] == 800 and sbi["both_halves"]["n"] == 1600
    # Accuracy of both halves: the calibration half judged by the test half's fit, and vice versa.
    right_calib = (sigmoid(calib["logits"] / t_test) >= cut_test) == (calib["y"] > 0.5)
    right_test = (sigmoid(test["logits"] / t_calib) >= results["threshold"]) == (test["y"] > 0.5)
    assert sbi["both_halves"]["accuracy"] == pytest.approx(np.r_[right_calib, right_test].mean())
    assert sbi["accuracy"] == pytest.approx(right_test.mean())
    groups = sbi["both_halves"]["subgroups"]["race_gender"]
    assert [g["n"] for g in groups.values()] == [400] * 4  # twice the test half's 200 a group
    assert sum(g["accuracy"] * g["n"] for g in groups.values()) / 1600 == pytest.approx(
        sbi["both_halves"]["accuracy"]
    )
    # False alarms per source folder: reals only, each judged by the fit that never saw it.
    flagged_calib = sigmoid(calib["logits"] / t_test) >= cut_test
    flagged_test = sigmoid(test["logits"] / t_calib) >= results["threshold"]
    alarms = sbi["both_halves"]["false_alarms"]
    assert set(alarms) == {"src0", "src1"} and alarms["src0"]["reals"] == alarms["src1"]["reals"] == 400
    src0_real = [(i % 2 == 0) and y == 0 for i, y in enumerate(calib["y"])]
    expected = flagged_calib[src0_real].sum() + flagged_test[src0_real].sum()
    assert alarms["src0"]["flagged"] == expected
    assert alarms["src0"]["rate"] == pytest.approx(expected / 400)
    assert sbi["false_alarms"]["src0"]["flagged"] == flagged_test[src0_real].sum()


def test_the_targets_read_both_halves_and_show_the_test_half_beside_them() -> None:
    from detection.training.report import score_halves, targets_table

    parts = {"sbi": _join(_halves(3, 300, 1.0, True), _halves(4, 300, 1.0, False))}
    results = score_halves(parts)
    sbi = results["sets"]["sbi"]
    rows = {r[0]: r for r in targets_table(results)}
    ece_row = rows["ECE after calibration (worst set)"]
    assert ece_row[1].startswith(f"{sbi['both_halves']['ece_after']:.4f} (sbi, both halves; floor ")
    assert ece_row[1].endswith(f"; test half {sbi['ece_after']:.4f})")
    assert ece_row[3] == (sbi["both_halves"]["ece_after"] <= 0.05)
    gap_row = rows["largest race×gender accuracy gap"]
    both, half = sbi["both_halves"]["subgroups"], sbi["subgroups"]
    assert gap_row[1].startswith(f"{both['worst_gap'] * 100:.1f} pts both halves (floor ")
    assert f"; test half {half['worst_gap'] * 100:.1f} (floor " in gap_row[1]
    assert gap_row[3] == (both["worst_gap"] <= 0.05)
    # Twice the images at about the same accuracy: the gap's floor falls by about √2.
    assert half["gap_floor"] / both["gap_floor"] == pytest.approx(np.sqrt(2), rel=0.2)


def test_a_group_only_the_calibration_half_holds_is_still_listed() -> None:
    """Both halves hold every image: the tables list a group even when the test half has none of it."""
    from detection.training.model_card import _false_alarm_lines, _subgroup_lines
    from detection.training.report import score_halves

    calib, test = _halves(7, 60, 1.0, True, groups=3), _halves(8, 60, 1.0, False, groups=2)
    sbi = score_halves({"sbi": _join(calib, test)})["sets"]["sbi"]
    assert "race2/female" not in sbi["subgroups"]["race_gender"]
    lines = _subgroup_lines(sbi["subgroups"], sbi["both_halves"]["subgroups"])
    row = next(line for line in lines if line.startswith("| race2/female |"))
    assert row.startswith("| race2/female | 0 | nan | 40 |")
    assert any(line.startswith("| src0 | 30 |") for line in _false_alarm_lines(sbi))


def test_a_test_half_of_one_class_is_not_cross_fitted() -> None:
    """A tiny run whose test half holds reals only cannot fit a threshold there: no cross-fit."""
    from detection.training.report import score_halves, targets_table

    calib, test = _halves(5, 50, 1.0, True), _halves(6, 50, 1.0, False)
    only_reals = {k: v[:50] for k, v in test.items()}
    results = score_halves({"sbi": _join(calib, only_reals)})
    assert "crossfit" not in results and "both_halves" not in results["sets"]["sbi"]
    assert "both halves" not in next(r for r in targets_table(results) if "gap" in r[0])[1]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.slow
def test_evaluate_command_reports_and_recalibrates_saved_weights(
    shared_data: Path, tmp_path: Path, weights_path: Path
) -> None:
    """evaluate_detector re-runs the final evaluation of saved weights and can refit their card."""
    from django.core.management import call_command

    real, gan = tmp_path / "real", tmp_path / "gan"
    real.mkdir()
    gan.mkdir()
    for p in sorted((shared_data / "faces-real/utkface").iterdir())[:30]:
        (real / p.name).symlink_to(p)
    for folder in (shared_data / "faces-real/ffhq-512", shared_data / "faces-gan/tpdne-512"):
        for p in sorted(folder.iterdir())[:8]:
            (real if "ffhq" in folder.name else gan).joinpath(p.name).symlink_to(p)
    weights = tmp_path / "w.safetensors"
    shutil.copy(weights_path, weights)
    shutil.copy(weights_path.with_suffix(".json"), weights.with_suffix(".json"))
    before = json.loads(weights.with_suffix(".json").read_text())
    call_command(
        "evaluate_detector",
        "--weights", str(weights),
        "--data", str(real),
        "--gan", str(gan),
        "--report", str(tmp_path / "eval.md"),
        "--threads", "1",
        "--cache-dir", str(tmp_path / "cache"),
        "--max-fpr", "0.05",
        "--recalibrate",
        "--test-time-flip", "on",
    )  # fmt: skip
    after = json.loads(weights.with_suffix(".json").read_text())
    assert set(after["metrics"]["sets"]) == {"sbi", "gan"}
    assert after["threshold"] == pytest.approx(after["metrics"]["threshold"])
    assert after["learning_curve"] == before["learning_curve"]  # only calibration changes
    assert after["test_time_flip"] is True
    report = (tmp_path / "eval.md").read_text()
    assert "raised to flag at most 5.0% of its reals" in report
    assert all(0.0 <= r["ece_by_chance"] <= 1.0 for r in after["metrics"]["sets"].values())
    assert "| ECE by chance |" in report
    sbi = after["metrics"]["sets"]["sbi"]
    assert sbi["both_halves"]["n"] == sbi["n_auc"]  # cross-fitted over the whole split
    assert "### Both halves, cross-fitted" in report and "| race / gender | n (test half) |" in report
    assert "## False alarms on reals, by source" in report and f"| {real.name} |" in report
    assert (tmp_path / "eval-roc.png").is_file()
