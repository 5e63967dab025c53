"""Detector 2.0's generalisation work: degradations, source roles, ImageNet backbones, calibration
and thresholds, the cross-source report, per-face tracks in video, and device handling."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from django.core.management import CommandError, call_command

from detection.engine import Detector, shift_logit
from detection.model import (
    LITE_MEAN,
    FakeMENet,
    ModelCard,
    card_for_architecture,
    card_path_for,
    imagenet_weights_file,
    load_backbone_weights,
)
from detection.tracks import aggregate_tracks, link_tracks
from detection.training import augment
from detection.training.batches import BatchSampler, DataBundle, batch_stream, source_weights
from detection.training.calibration import choose_calibration, fit_platt
from detection.training.catalog import Catalog, CatalogError, check_trainable
from detection.training.config import TrainConfig
from detection.training.crosssource import MediaScore, choose_video_calibration, cross_source_report
from detection.training.crosssource_markdown import cross_source_markdown
from detection.training.data import FaceCrop, ItemFactory
from detection.training.device import DeviceUnavailable, autocast_dtype, resolve_device
from detection.training.evaluate import sigmoid
from detection.training.report import score_halves
from detection.training.sources import Sample
from tests.detection.fakeme_media import make_random_weights

CATALOG_HEADER = "folder\tlabel\tmethod\tkind\trole\tn\tpeople\tstyle\tlicence\torigin\tnote\n"


def _face(seed: int = 0, size: int = 168) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    img = np.zeros((size, size, 3), np.uint8)
    img[..., 0] = np.clip(150 + 40 * np.sin(xx / 9.0) + rng.normal(0, 6, (size, size)), 0, 255)
    img[..., 1] = np.clip(110 + 30 * np.cos(yy / 7.0) + rng.normal(0, 6, (size, size)), 0, 255)
    img[..., 2] = np.clip(90 + 20 * np.sin((xx + yy) / 11.0), 0, 255)
    return img


LANDMARKS = np.array([[60, 70], [108, 70], [84, 95], [66, 120], [102, 120]], np.float32)


# -- degradations ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(augment.DEGRADATIONS))
def test_each_degradation_changes_the_image_and_keeps_its_size(name: str) -> None:
    img = _face(1)
    out = augment.DEGRADATIONS[name](img.copy(), np.random.default_rng(3))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img.astype(int)).mean() > 0.5, f"{name} left the image unchanged"


def test_skin_smoothing_removes_fine_texture() -> None:
    img = _face(2)
    out = augment.skin_smoothing(img, np.random.default_rng(0))
    lap = lambda x: np.abs(np.diff(x.astype(float), 2, axis=1)).mean()  # noqa: E731
    assert lap(out) < 0.8 * lap(img)


def test_degrade_draws_alike_for_reals_and_fakes_and_keeps_the_label() -> None:
    """The same random stream degrades a real and a fake in the same way: what they get does not
    depend on the label, and the item's label is untouched."""
    crop_real = FaceCrop(_face(4), LANDMARKS, Sample("/r.jpg", 0, "real", "r"))
    crop_fake = FaceCrop(_face(4), LANDMARKS, Sample("/f.jpg", 1, "fake", "f"))
    factory = ItemFactory(96, degrade_p=1.0)
    a = factory.build(crop_real, np.random.default_rng(9), blend=False, hardness=0, augment=True)
    b = factory.build(crop_fake, np.random.default_rng(9), blend=False, hardness=0, augment=True)
    plain = ItemFactory(96, degrade_p=0.0).build(
        crop_real, np.random.default_rng(9), blend=False, hardness=0, augment=True
    )
    assert (a.label, b.label) == (0, 1)
    assert a.image.shape == b.image.shape == (96, 96, 3)
    assert np.array_equal(a.image, b.image)  # identical pixels in, identical degradation out
    assert not np.array_equal(a.image, plain.image)
    assert augment.degrade(_face(5), np.random.default_rng(0), probability=0.0) is not None


# -- source roles ---------------------------------------------------------------------------------


def _catalog(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    rows = [
        ("faces-real/korean", "real", "real-selfie", "image", "train", "korean"),
        ("faces-real/mixed", "real", "real-dataset", "image", "train", "mixed"),
        ("faces-real/held-out", "real", "real-idphoto", "image", "dev-eval", "east_asian/korean"),
        ("faces-fake/gan", "fake", "stylegan", "image", "train", "mixed"),
        ("faces-fake/flux", "fake", "flux", "image", "dev-eval", "mixed"),
    ]
    for folder, *_ in rows:
        (root / folder).mkdir(parents=True)
    (root / "SOURCES.tsv").write_text(
        CATALOG_HEADER
        + "".join(f"{f}\t{lab}\t{m}\t{k}\t{r}\t1\t{p}\ts\tl\to\tn\n" for f, lab, m, k, r, p in rows)
    )
    return root


def test_the_catalog_gives_roles_labels_and_people(tmp_path: Path) -> None:
    catalog = Catalog.read(_catalog(tmp_path))
    train_reals = {s.folder for s in catalog.select(role="train", label=0)}
    assert train_reals == {"faces-real/korean", "faces-real/mixed"}
    assert {s.folder for s in catalog.select(role="dev-eval")} == {"faces-real/held-out", "faces-fake/flux"}
    by = {s.folder: s for s in catalog.sources}
    assert by["faces-real/korean"].east_asian and by["faces-real/held-out"].east_asian
    assert not by["faces-real/mixed"].east_asian
    assert catalog.source_of(catalog.root / "faces-real/held-out/sub").folder == "faces-real/held-out"


def test_a_dev_eval_folder_is_refused_for_training(tmp_path: Path) -> None:
    root = _catalog(tmp_path)
    check_trainable([str(root / "faces-real/korean"), str(tmp_path)])  # a folder outside: allowed
    with pytest.raises(CatalogError, match="dev-eval.*faces-real/held-out.*evaluation only"):
        check_trainable([str(root / "faces-real/held-out")])
    with pytest.raises(CatalogError, match="holds the 'dev-eval' source"):
        check_trainable([str(root / "faces-fake")])  # a parent of an evaluation-only folder
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "SOURCES.tsv").write_text(CATALOG_HEADER + "x\treal\tm\timage\ttest\t1\tp\ts\tl\to\tn\n")
    with pytest.raises(CatalogError, match="unknown role 'test'"):
        Catalog.read(bad)


@pytest.mark.django_db
def test_train_detector_refuses_a_dev_eval_folder_before_it_trains(tmp_path: Path) -> None:
    root = _catalog(tmp_path)
    run = ["--run-dir", str(tmp_path / "run")]
    for command, args in (
        (
            "train_detector",
            ["--data", str(root / "faces-real/korean"), "--fake", str(root / "faces-fake/flux"), *run],
        ),
        ("train_detector", ["--data", str(root / "faces-real/held-out"), *run]),
        ("make_training_swaps", ["--data", str(root / "faces-real/held-out"), "--out", str(tmp_path / "o")]),
    ):
        with pytest.raises(CommandError, match="evaluation only"):
            call_command(command, *args)
    assert not (tmp_path / "run").exists() and not (tmp_path / "o").exists()


def test_the_shared_catalog_refuses_every_dev_eval_folder(shared_data: Path) -> None:
    catalog = Catalog.read(shared_data / "SOURCES.tsv")
    held_out = catalog.select(role="dev-eval") + catalog.select(role="dev-eval", kind="video")
    assert len(held_out) >= 12
    for source in held_out:
        with pytest.raises(CatalogError):
            check_trainable([str(source.path)])
    check_trainable([str(s.path) for s in catalog.select(role="train")])


# -- sampling ------------------------------------------------------------------------------------


def test_sources_are_balanced_and_east_asian_faces_weighted_up() -> None:
    def crop(i: int, source: str, ea: bool) -> FaceCrop:
        return FaceCrop(
            _face(i),
            LANDMARKS,
            Sample(f"/{source}/{i}.jpg", 0, "real", f"{source}{i}", source=source, source_east_asian=ea),
        )

    big = [crop(i, "big", False) for i in range(100)]
    small = [crop(i, "small", True) for i in range(4)]
    weights = source_weights([c.sample for c in big + small], 0.5)
    assert weights[:100].sum() / weights[100:].sum() == pytest.approx(math.sqrt(100 / 4))
    cfg = TrainConfig(real_dirs=[], steps=2, sizes=(64,), batch_pairs=2, batch_other=0, source_temper=0.5)
    p = BatchSampler(cfg, DataBundle(big + small, [], [], {})).real_p
    # sqrt-tempered (10 : 2), then the East Asian source twice as often (asian=2 by default).
    assert p[:100].sum() / p[100:].sum() == pytest.approx(10 / 4)


def test_worker_processes_build_the_same_batches_as_one_thread() -> None:
    crops = [
        FaceCrop(_face(i), LANDMARKS, Sample(f"/s/{i}.jpg", 0, "real", f"g{i}", source="s")) for i in range(6)
    ]
    fakes = [
        FaceCrop(_face(10 + i), LANDMARKS, Sample(f"/f/{i}.jpg", 1, "fake", f"f{i}", source="f"))
        for i in range(3)
    ]
    cfg = TrainConfig(real_dirs=[], steps=3, sizes=(64,), batch_pairs=2, batch_other=1, degrade_p=0.8)
    sampler = BatchSampler(cfg, DataBundle(crops, fakes, [], {}), LITE_MEAN, LITE_MEAN)
    one = list(batch_stream(sampler, 1, 3, workers=0))
    two = list(batch_stream(sampler, 1, 3, workers=2))
    assert len(one) == len(two) == 2
    for a, b in zip(one, two, strict=True):
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])


# -- ImageNet backbones ---------------------------------------------------------------------------


def test_packaged_lite2_weights_load_by_tensor_order() -> None:
    path = imagenet_weights_file("tf_efficientnet_lite2")
    model = FakeMENet("tf_efficientnet_lite2")
    loaded = load_backbone_weights(model, path)
    assert loaded == {"loaded": 384, "skipped_head": 2}
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    assert torch.equal(model.backbone.conv_stem.weight, theirs["_conv_stem.weight"])
    assert torch.equal(model.backbone.bn2.running_var, theirs["_bn1.running_var"])
    card = card_for_architecture("tf_efficientnet_lite2")
    assert card.mean == card.std == LITE_MEAN


def test_an_imagenet_efficientnetv2_s_state_dict_loads_by_name(tmp_path: Path) -> None:
    """An operator's timm ImageNet EfficientNet-V2-S (1000 classes) initialises the design card's model."""
    torch.manual_seed(0)
    imagenet = timm.create_model("efficientnetv2_s", pretrained=False, num_classes=1000)
    path = tmp_path / "efficientnetv2_s.pth"
    torch.save(imagenet.state_dict(), path)
    model = FakeMENet("efficientnetv2_s")
    loaded = load_backbone_weights(model, path)
    assert loaded["loaded"] == len(imagenet.state_dict()) - 2
    assert torch.equal(model.backbone.blocks[3][0].conv_pwl.weight, imagenet.blocks[3][0].conv_pwl.weight)
    assert model.backbone.classifier.weight.shape == (1, 1280)  # our one-logit head, not ImageNet's
    wrong = tmp_path / "wrong.pth"
    torch.save({"a": torch.zeros(3)}, wrong)
    with pytest.raises(ValueError, match="backbone tensors"):
        load_backbone_weights(model, wrong)


# -- calibration and thresholds -------------------------------------------------------------------


def test_platt_scaling_recovers_a_known_scale_and_bias() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 20000)
    y = (rng.random(20000) < sigmoid(z / 2.0 - 1.0)).astype(float)
    t, b = fit_platt(z, y)
    assert t == pytest.approx(2.0, rel=0.08) and b == pytest.approx(-1.0, abs=0.08)


def _halves(seed: int, bias: float, n: int = 600) -> dict:
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2.5, n)
    y = (rng.random(n) < sigmoid(z + bias)).astype(np.float32)
    ea = np.arange(n) % 3 == 0
    return {"logits": z, "y": y, "calib": np.arange(n) % 2 == 0, "cap": ea, "sources": [None] * n}


def test_calibration_takes_platt_only_when_it_predicts_held_out_labels_better() -> None:
    assert choose_calibration({"s": _halves(1, -2.0)})["method"] == "platt"
    assert choose_calibration({"s": _halves(2, 0.0)})["method"] == "temperature"


def test_tag_and_review_thresholds_cap_false_alarms_on_east_asian_reals() -> None:
    data = _halves(3, 0.0, n=4000)
    res = score_halves({"s": data}, 0.01, review_fpr=0.05, calibration="temperature")
    calib = data["calib"]
    probs = sigmoid(data["logits"] / res["temperature"])
    ea_reals = calib & data["cap"] & (data["y"] == 0)
    assert (probs[ea_reals] >= res["threshold"]).mean() <= 0.01
    assert (probs[ea_reals] >= res["review_threshold"]).mean() <= 0.05
    assert res["review_threshold"] < res["threshold"]
    assert (probs[ea_reals] >= res["review_threshold"]).mean() > 0.02  # the band holds cases
    assert "East Asian reals" in res["threshold_rule"]


# -- cross-source report --------------------------------------------------------------------------


def _scores() -> tuple[list[MediaScore], str]:
    """Scores of a small made-up dev-eval catalog, and that catalog's text."""
    rows = CATALOG_HEADER
    entries = [
        ("faces-real/kr", "real", "image", "korean"),
        ("faces-real/west", "real", "image", "western"),
        ("faces-fake/easy", "fake", "image", "mixed"),
        ("faces-fake/hard", "fake", "image", "mixed"),
        ("video-fake/v", "fake", "video", "mixed"),
        ("video-real/v", "real", "video", "mixed"),
    ]
    for f, lab, kind, people in entries:
        rows += f"{f}\t{lab}\tm\t{kind}\tdev-eval\t1\t{people}\ts\tl\to\tn\n"
    scores = [
        MediaScore(f"/kr/{i}", "faces-real/kr", 0, "image", p) for i, p in enumerate([0.1, 0.2, 0.3, 0.95])
    ]
    scores += [MediaScore("/kr/noface", "faces-real/kr", 0, "image", None)]
    scores += [MediaScore(f"/w/{i}", "faces-real/west", 0, "image", p) for i, p in enumerate([0.1, 0.6])]
    scores += [MediaScore(f"/e/{i}", "faces-fake/easy", 1, "image", p) for i, p in enumerate([0.97, 0.99])]
    scores += [
        MediaScore(f"/h/{i}", "faces-fake/hard", 1, "image", p) for i, p in enumerate([0.15, 0.25, None])
    ]
    agg_fake = {"mean": 0.3, "confident": 0.3, "track_topk": 0.95}
    agg_real = {"mean": 0.2, "confident": 0.2, "track_topk": 0.4}
    scores += [MediaScore("/vf/a.mp4", "video-fake/v", 1, "video", 0.3, agg_fake)]
    scores += [MediaScore("/vr/b.mp4", "video-real/v", 0, "video", 0.2, agg_real)]
    return scores, rows


def test_the_cross_source_report_reads_each_source_and_its_worst_row(tmp_path: Path) -> None:
    scores, rows = _scores()
    (tmp_path / "SOURCES.tsv").write_text(rows)
    catalog = Catalog.read(tmp_path)
    rep = cross_source_report(scores, catalog, threshold=0.9, review_threshold=0.5, aggregation="track_topk")
    kr = rep["reals"]["faces-real/kr"]
    assert (kr["n"], kr["scored"], kr["no_face"], kr["east_asian"]) == (5, 4, 1, True)
    assert kr["flagged"] == pytest.approx(0.2) and kr["review"] == pytest.approx(0.2)
    assert rep["reals"]["faces-real/west"]["review"] == pytest.approx(0.5)
    assert rep["east_asian_reals"] == ["faces-real/kr"]
    easy, hard = rep["fakes"]["faces-fake/easy"], rep["fakes"]["faces-fake/hard"]
    assert easy["auc_east_asian"] == pytest.approx(1.0) and easy["caught"] == pytest.approx(1.0)
    # hard (0.15, 0.25) vs Korean reals (0.1, 0.2, 0.3, 0.95): pairs won 3 of 8
    assert hard["auc_east_asian"] == pytest.approx(3 / 8)
    assert hard["caught"] == 0.0 and hard["no_face"] == 1
    assert hard["auc_by_real"]["faces-real/west"] == pytest.approx(0.5)
    head = rep["headline"]
    assert head["worst_east_asian_real"] == "faces-real/kr" and head["worst_fake"] == "faces-fake/hard"
    assert head["fake_clips_right"] == 1.0 and head["real_clips_right"] == 1.0
    assert [c["verdict"] for c in rep["clips"]] == ["fake", "real"]
    assert rep["clip_table"]["mean"]["fake_right"] == 0.0  # the frame mean misses the fake clip
    md = "\n".join(cross_source_markdown({"2.0.0": rep, "1.3.0": rep}))
    assert "## Cross-source evaluation" in md and "| 2.0.0 | 1.3.0 |" in md
    assert "20.0% (kr)" in md and "0.375 (hard)" in md and "a.mp4" in md


def test_the_video_default_is_chosen_on_clips_by_balanced_accuracy() -> None:
    scores, _ = _scores()
    best, shift, table = choose_video_calibration(scores, threshold=0.9)
    assert best == "track_topk" and table["track_topk"]["fake_right"] == 1.0
    # Every shift that keeps 0.95 ≥ 0.9 and 0.4 < 0.9 is as good; the middle of them is taken.
    assert table["track_topk"]["real_right"] == 1.0 and -0.76 < shift < 2.6


def _clip(name: str, label: int, p: float) -> MediaScore:
    agg = {"mean": p, "confident": p, "track_topk": p}
    return MediaScore(f"/{name}.mp4", "video-x/v", label, "video", p, dict(agg))


def test_a_clip_logit_shift_is_fitted_when_fake_clips_score_below_the_photo_threshold() -> None:
    # Fake clips all score 0.6–0.8, reals 0.1–0.4: at the photo threshold 0.9 every fake is missed.
    clips = [_clip(f"f{i}", 1, p) for i, p in enumerate([0.6, 0.7, 0.8])]
    clips += [_clip(f"r{i}", 0, p) for i, p in enumerate([0.1, 0.3, 0.4])]
    agg, shift, table = choose_video_calibration(clips, threshold=0.9)
    assert table["unshifted"][agg]["fake_right"] == 0.0
    assert table[agg]["fake_right"] == 1.0 and table[agg]["real_right"] == 1.0
    # logit(0.9) - logit(0.6) ≈ 1.79 < shift < logit(0.9) - logit(0.4) ≈ 2.60
    assert 1.79 < shift < 2.60 and table["shift"] == shift
    # Scores made with a shift already in the card are undone first: the same answer.
    moved = [replace(c, aggregate={k: shift_logit(v, 0.5) for k, v in c.aggregate.items()}) for c in clips]
    assert choose_video_calibration(moved, threshold=0.9, current_shift=0.5)[1] == pytest.approx(shift)


def test_a_clip_shift_never_buys_fake_clips_with_more_than_a_tenth_of_the_real_ones() -> None:
    # Barely separable clips (candidate B's train clips): reals 0.30–0.75, fakes 0.40–0.80. The
    # balanced best shift would tag 4 of 10 reals to catch 8 of 10 fakes; the floor allows one real.
    reals = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75]
    fakes = [0.40, 0.50, 0.62, 0.66, 0.68, 0.72, 0.74, 0.76, 0.78, 0.80]
    clips = [_clip(f"r{i}", 0, p) for i, p in enumerate(reals)]
    clips += [_clip(f"f{i}", 1, p) for i, p in enumerate(fakes)]
    agg, shift, table = choose_video_calibration(clips, threshold=0.9)
    assert table[agg]["real_right"] == pytest.approx(0.9) and table["min_real_right"] == 0.9
    # Only the 0.75 real may cross 0.9, not the 0.70 one: the fakes from 0.72 up are caught.
    assert table[agg]["fake_right"] == pytest.approx(0.5)
    assert 1.25 < shift < 1.35  # logit(0.9) - logit(0.72) ≈ 1.25; logit(0.9) - logit(0.70) ≈ 1.35
    # With no floor the same clips would trade reals for fakes.
    _, _, loose = choose_video_calibration(clips, threshold=0.9, min_real_right=0.0)
    assert loose[agg]["fake_right"] == 1.0


def test_the_engine_applies_the_cards_clip_shift(tmp_path: Path, face_video: Path) -> None:
    weights = make_random_weights(tmp_path / "w.safetensors")
    clip = face_video
    plain = Detector(weights, threads=1, aggregation="track_topk").analyze_video(clip)
    card = ModelCard.from_json(card_path_for(weights))
    card.video_logit_shift = 1.5
    card.to_json(card_path_for(weights))
    shifted = Detector(weights, threads=1, aggregation="track_topk").analyze_video(clip)
    assert plain.probability is not None and shifted.probability is not None
    assert shifted.probability == pytest.approx(shift_logit(plain.probability, 1.5), abs=1e-4)
    assert shifted.probability > plain.probability
    # Frame scores stay as the classifier gave them (the timeline is not shifted).
    assert [f.probability for f in shifted.frames] == pytest.approx([f.probability for f in plain.frames])


# -- tracks ---------------------------------------------------------------------------------------


def _box(x: float) -> tuple[float, float, float, float]:
    return (x, 10.0, x + 50.0, 60.0)


def test_faces_are_linked_into_tracks_by_overlap() -> None:
    frames = [[(_box(0 + i), 0.1), (_box(200 - i), 0.2)] for i in range(5)]
    frames[2] = frames[2][:1]  # the second face missed once: the track survives the gap
    tracks = link_tracks(frames)
    assert sorted(len(t.probabilities) for t in tracks) == [4, 5]


def test_a_few_strongly_fake_frames_of_one_face_count() -> None:
    calm = [[(_box(0), 0.1), (_box(200), 0.05)] for _ in range(16)]
    for i in (3, 7, 11, 14):  # one face swapped badly in a quarter of the frames
        calm[i][1] = (_box(200), 0.97)
    mean = float(np.mean([max(p for _, p in f) for f in calm]))
    assert mean < 0.5  # the frame mean washes it out
    assert aggregate_tracks(calm) == pytest.approx(0.97)
    # A false detection in one frame does not decide a real clip.
    real = [[(_box(0), 0.1)] for _ in range(16)]
    real[5].append((_box(300), 0.99))
    assert aggregate_tracks(real) == pytest.approx(0.1)
    assert aggregate_tracks([[], []]) is None


# -- devices --------------------------------------------------------------------------------------


def test_devices_are_resolved_or_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert autocast_dtype(torch.device("cpu")) is None
    assert autocast_dtype(torch.device("cuda", 0)) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailable, match="no CUDA GPU.*--device cpu"):
        resolve_device("cuda")
    with pytest.raises(DeviceUnavailable, match="unsupported device"):
        resolve_device("meta")
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        resolve_device("gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    with pytest.raises(DeviceUnavailable, match="only 1 CUDA device"):
        resolve_device("cuda:3")


@pytest.mark.django_db
def test_train_detector_refuses_a_missing_gpu_before_it_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "real").mkdir()
    with pytest.raises(CommandError, match="no CUDA GPU"):
        call_command(
            "train_detector",
            "--data",
            str(tmp_path / "real"),
            "--device",
            "cuda",
            "--run-dir",
            str(tmp_path / "run"),
        )
    assert not (tmp_path / "run").exists()


def test_a_card_written_by_the_cross_source_run_round_trips(tmp_path: Path) -> None:
    card = card_for_architecture("tf_efficientnet_lite2", version="9.9.9")
    card.logit_bias, card.review_threshold, card.video_aggregation = -0.5, 0.3, "track_topk"
    card.to_json(tmp_path / "c.json")
    back = json.loads((tmp_path / "c.json").read_text())
    assert (back["logit_bias"], back["review_threshold"], back["video_aggregation"]) == (
        -0.5,
        0.3,
        "track_topk",
    )
    assert card.calibrate(np.array([2.0]))[0] == pytest.approx(2.0 / card.temperature - 0.5)
