"""The classifier: a real EfficientNet-V2-S forward, calibrated ensembles, heatmaps, the cache."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from detection.classifier import Classifier, get_classifier
from detection.engine import Detector
from detection.errors import ModelUnavailable
from detection.model import ModelCard, load_detector
from tests.detection.fakeme_media import make_random_weights


@pytest.fixture(scope="session")
def face_crops(
    detector: Detector, astronaut: np.ndarray, face_box: tuple[float, float, float, float]
) -> list[np.ndarray]:
    crop = detector.classifier.crop(astronaut, face_box)
    return [crop, np.ascontiguousarray(crop[:, ::-1])]


@pytest.fixture(scope="session")
def weight_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different random models with different temperatures and thresholds."""
    folder = tmp_path_factory.mktemp("ensemble")
    a = make_random_weights(folder / "a.safetensors", seed=1, temperature=1.5, threshold=0.4, name="a")
    b = make_random_weights(folder / "b.safetensors", seed=2, temperature=3.0, threshold=0.7, name="b")
    return a, b


def test_forward_shapes_and_ranges(detector: Detector, face_crops: list[np.ndarray]) -> None:
    classifier = detector.classifier
    size = classifier.input_size
    assert face_crops[0].shape == (size, size, 3) and face_crops[0].dtype == np.uint8
    out = classifier.forward(face_crops, with_heatmaps=True)
    assert len(out.probabilities) == 2 and all(0.0 <= p <= 1.0 for p in out.probabilities)
    assert all(np.isfinite(out.logits))
    assert out.heatmaps is not None and len(out.heatmaps) == 2
    for heat in out.heatmaps:
        assert heat.shape == (size, size) and heat.dtype == np.float32
        assert 0.0 <= heat.min() <= heat.max() <= 1.0
    # Batching must not change a face's score.
    single = classifier.logits(face_crops[:1])[0]
    assert single == pytest.approx(out.logits[0], rel=1e-4, abs=1e-4)
    assert classifier.predict([]) == []


def test_matches_the_raw_network(weights_path: Path, face_crops: list[np.ndarray]) -> None:
    """The calibrated logit is the network's logit over its card's temperature, on card-normalised input."""
    model, card = load_detector(weights_path)
    x = torch.from_numpy(np.stack(face_crops)).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(card.mean).view(1, 3, 1, 1)) / torch.tensor(card.std).view(1, 3, 1, 1)
    with torch.inference_mode():
        raw, boundary = model(x)
        if card.test_time_flip:
            raw = (raw + model(x.flip(3))[0]) / 2
    assert boundary.shape == (2, 1, card.input_size // 8, card.input_size // 8)
    ours = Classifier([weights_path]).logits(face_crops)
    np.testing.assert_allclose(ours, raw.double().numpy() / card.temperature, rtol=1e-4, atol=1e-4)


def test_ensemble_averages_calibrated_logits(
    weight_pair: tuple[Path, Path], face_crops: list[np.ndarray]
) -> None:
    a, b = weight_pair
    only_a, only_b, both = Classifier([a]), Classifier([b]), Classifier([a, b])
    la, lb, lab = (np.array(c.logits(face_crops)) for c in (only_a, only_b, both))
    assert not np.allclose(la, lb)  # really two different models
    np.testing.assert_allclose(lab, (la + lb) / 2, rtol=1e-6)
    expected = 1.0 / (1.0 + np.exp(-lab))
    np.testing.assert_allclose(both.predict(face_crops), expected, rtol=1e-9)
    info = both.info
    assert info.name == "a+b" and info.temperatures == [1.5, 3.0]
    assert both.threshold == pytest.approx(0.4)  # the first card's
    assert Classifier([a, b], threshold=0.9).threshold == pytest.approx(0.9)
    heat = both.heatmaps(face_crops[:1])[0]
    ha, hb = only_a.heatmaps(face_crops[:1])[0], only_b.heatmaps(face_crops[:1])[0]
    np.testing.assert_allclose(heat, (ha + hb) / 2, atol=1e-5)


def _with_flip(weights: Path, folder: Path, flip: bool) -> Path:
    """A copy of ``weights`` whose card says ``test_time_flip=flip``."""
    target = folder / f"flip-{'on' if flip else 'off'}.safetensors"
    shutil.copy(weights, target)
    card = ModelCard.from_json(weights.with_suffix(".json"))
    card.test_time_flip = flip
    card.to_json(target.with_suffix(".json"))
    return target


def test_mirror_averaging_scores_a_crop_and_its_mirror_alike(
    weights_path: Path, face_crops: list[np.ndarray], tmp_path: Path
) -> None:
    """With the card's ``test_time_flip`` each crop scores as the mean of itself and its mirror image,
    in torch and ONNX Runtime alike, and the training evaluation scores the same way."""
    off = Classifier([_with_flip(weights_path, tmp_path, False)], backend="torch", cache_dir=tmp_path)
    on_path = _with_flip(weights_path, tmp_path, True)
    on = Classifier([on_path], backend="torch", cache_dir=tmp_path)
    crop, mirror = face_crops  # the astronaut's face and its mirror image
    plain = off.forward(face_crops, with_heatmaps=True)
    assert plain.logits[0] != pytest.approx(plain.logits[1], abs=1e-3)  # the network itself is not symmetric
    averaged = on.forward(face_crops, with_heatmaps=True)
    np.testing.assert_allclose(averaged.logits, [np.mean(plain.logits)] * 2, rtol=1e-4, atol=1e-4)
    assert averaged.heatmaps is not None
    np.testing.assert_allclose(averaged.heatmaps[0], averaged.heatmaps[1][:, ::-1], atol=1e-4)
    ort = Classifier([on_path], backend="onnxruntime", cache_dir=tmp_path)
    np.testing.assert_allclose(ort.logits(face_crops * 9), averaged.logits * 9, rtol=1e-4, atol=1e-4)

    from detection.training.evaluate import predict_logits

    model, card = load_detector(on_path)
    x = on._tensor(face_crops, card)
    raw = predict_logits(model, x, flip=True)
    np.testing.assert_allclose(raw / card.temperature, averaged.logits, rtol=1e-4, atol=1e-4)


def test_gradcam(detector: Detector, face_crops: list[np.ndarray]) -> None:
    cam = detector.classifier.gradcam(face_crops[0])
    size = face_crops[0].shape[0]
    assert cam.shape == (size, size)
    assert 0.0 <= cam.min() and cam.max() <= 1.0
    assert all(p.grad is None for p in detector.classifier.models[0].parameters())


def test_missing_or_mismatched_weights(tmp_path: Path, weight_pair: tuple[Path, Path]) -> None:
    with pytest.raises(ModelUnavailable) as err:
        get_classifier([tmp_path / "nope.safetensors"])
    assert err.value.code == "model_unavailable"
    with pytest.raises(ModelUnavailable):
        Classifier([])
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    (tmp_path / "broken.json").write_text(weight_pair[0].with_suffix(".json").read_text())
    with pytest.raises(ModelUnavailable, match="broken"):
        Classifier([broken])


def test_process_wide_cache(weights_path: Path, detector: Detector, weight_pair: tuple[Path, Path]) -> None:
    assert get_classifier([weights_path]) is detector.classifier
    assert get_classifier(str(weights_path)) is detector.classifier
    # Concurrent first use loads the model once and hands every thread the same instance.
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: get_classifier([weight_pair[1]]), range(4)))
    assert all(c is loaded[0] for c in loaded)


def test_onnxruntime_matches_torch(weights_path: Path, face_crops: list[np.ndarray], tmp_path: Path) -> None:
    """The ONNX Runtime graph exported from the safetensors scores like the torch network."""
    ort = Classifier([weights_path], backend="onnxruntime", cache_dir=tmp_path)
    eager = Classifier([weights_path], backend="torch", cache_dir=tmp_path)
    assert (ort.backend, eager.backend) == ("onnxruntime", "torch")
    crops = face_crops * 9  # 18 crops: a full batch of 16 and a partial one
    a, b = ort.forward(crops, with_heatmaps=True), eager.forward(crops, with_heatmaps=True)
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)
    assert a.heatmaps is not None and b.heatmaps is not None
    np.testing.assert_allclose(np.stack(a.heatmaps), np.stack(b.heatmaps), atol=1e-4)
    np.testing.assert_allclose(ort.logits(crops[:1]), b.logits[:1], rtol=1e-4, atol=1e-4)  # batch of one


def test_onnx_cache_is_keyed_by_the_weights(
    weight_pair: tuple[Path, Path], face_crops: list[np.ndarray], tmp_path: Path
) -> None:
    a, b = weight_pair
    cache = tmp_path / "cache"
    first = Classifier([a], backend="onnxruntime", cache_dir=cache)
    graphs = sorted(cache.glob("*.onnx"))
    assert len(graphs) == 1 and graphs[0].name.startswith("a-")
    inode = graphs[0].stat().st_ino  # an export writes a new file and renames it over the old
    second = Classifier([a], backend="onnxruntime", cache_dir=cache)  # reuses the export
    assert graphs[0].stat().st_ino == inode
    assert second.logits(face_crops) == pytest.approx(first.logits(face_crops), abs=1e-6)
    Classifier([b], backend="onnxruntime", cache_dir=cache)  # other weights: their own graph
    assert len(list(cache.glob("*.onnx"))) == 2
    assert not list(cache.glob("*.partial"))
    # A damaged cache file is exported again rather than trusted or fatal.
    graphs[0].write_bytes(b"not an onnx graph")
    repaired = Classifier([a], backend="onnxruntime", cache_dir=cache)
    assert repaired.logits(face_crops) == pytest.approx(first.logits(face_crops), abs=1e-6)
    # The torch backend never touches the cache.
    Classifier([a], backend="torch", cache_dir=tmp_path / "unused")
    assert not (tmp_path / "unused").exists()


def test_onnx_falls_back_to_torch_without_a_usable_cache(
    weight_pair: tuple[Path, Path], face_crops: list[np.ndarray], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a cache directory cannot be created under a file")
    auto = Classifier([weight_pair[0]], cache_dir=blocker / "cache")
    assert auto.backend == "torch"
    eager = Classifier([weight_pair[0]], backend="torch")
    assert auto.logits(face_crops) == pytest.approx(eager.logits(face_crops), abs=1e-9)
    with pytest.raises(ModelUnavailable):
        Classifier([weight_pair[0]], backend="onnxruntime", cache_dir=blocker / "cache")
    with pytest.raises(ValueError):
        Classifier([weight_pair[0]], backend="tensorrt")


def test_onnx_cache_keeps_the_most_recently_used_graphs(tmp_path: Path) -> None:
    from detection.onnx_backend import _prune

    for i in range(6):
        graph = tmp_path / f"w{i}-key.onnx"
        graph.write_bytes(b"graph")
        os.utime(graph, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "notes.txt").write_text("not a graph")
    _prune(tmp_path, keep=3)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["notes.txt", "w3-key.onnx", "w4-key.onnx", "w5-key.onnx"]
