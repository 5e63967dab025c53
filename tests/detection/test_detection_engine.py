"""End to end on images: real MTCNN and a real EfficientNet-V2-S forward on real photos."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from detection.engine import Detector, ImageResult, aggregate_confident, aggregate_mean
from detection.errors import CorruptMedia, DetectionError, EmptyInput, UnsupportedMedia
from tests.detection.fakeme_media import encode

RANDOM_BYTES = bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))


def _is_png(data: bytes | None) -> bool:
    return bool(data) and data.startswith(b"\x89PNG") and Image.open(io.BytesIO(data)).format == "PNG"


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_astronaut(detector: Detector, astronaut_jpeg: bytes) -> None:
    result = detector.analyze_image(astronaut_jpeg)
    assert isinstance(result, ImageResult)
    assert (result.width, result.height) == (512, 512)
    assert len(result.faces) == 1
    face = result.faces[0]
    x1, y1, x2, y2 = face.box
    assert 150 < x1 < x2 < 300 and 30 < y1 < y2 < 210  # her face, upper middle of the picture
    assert len(face.landmarks) == 5 and face.detector_confidence > 0.95
    assert 0.0 <= face.probability <= 1.0
    assert result.probability == face.probability
    assert result.verdict == ("fake" if face.probability >= detector.threshold else "real")
    assert result.model.version == detector.classifier.cards[0].version
    assert set(result.timings_ms) >= {"decode", "faces", "classify", "total"}
    assert face.heatmap_png is None
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "image" and "heatmap_png_base64" not in data["faces"][0]  # only when made


def test_heatmaps(detector: Detector, astronaut_jpeg: bytes) -> None:
    for method in ("boundary", "gradcam"):
        result = detector.analyze_image(astronaut_jpeg, heatmaps=True, heatmap_method=method)
        png = result.faces[0].heatmap_png
        assert _is_png(png)
        size = detector.classifier.input_size
        assert Image.open(io.BytesIO(png)).size == (size, size)
        assert "explain" in result.timings_ms
    assert json.dumps(result.to_dict())


def test_one_fake_face_makes_the_image_fake(detector: Detector, astronaut: np.ndarray) -> None:
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    result = detector.analyze_image(encode(pair, "PNG"))
    assert len(result.faces) == 2
    assert result.probability == max(f.probability for f in result.faces)


def test_tight_crop_still_finds_the_face(
    detector: Detector, astronaut: np.ndarray, face_box: tuple[float, float, float, float]
) -> None:
    x1, y1, x2, y2 = (int(v) for v in face_box)
    crop = cv2.resize(astronaut[y1:y2, x1:x2], (160, 160), interpolation=cv2.INTER_AREA)
    result = detector.analyze_image(encode(crop, "JPEG", quality=90))
    assert len(result.faces) == 1 and result.verdict != "not_applicable"


def test_no_face_is_not_applicable(detector: Detector) -> None:
    from skimage import data

    for rgb in (data.coffee(), np.tile(np.linspace(0, 255, 200, dtype=np.uint8)[None, :, None], (150, 1, 3))):
        result = detector.analyze_image(encode(rgb, "PNG"))
        assert result.verdict == "not_applicable"
        assert result.probability is None and result.faces == []
    tiny = detector.analyze_image(encode(np.zeros((8, 8, 3), np.uint8), "PNG"))
    assert tiny.verdict == "not_applicable"


def test_exif_rotated_photo_is_analysed_upright(
    detector: Detector, astronaut: np.ndarray, face_box: tuple[float, float, float, float]
) -> None:
    stored = np.ascontiguousarray(np.rot90(astronaut, k=1))  # stored lying on its side
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # viewer must rotate 90° clockwise: undoes rot90(k=1)
    result = detector.analyze_image(encode(image, "JPEG", quality=92, exif=exif.tobytes()))
    assert len(result.faces) == 1
    assert _iou(result.faces[0].box, face_box) > 0.8


def test_analyze_dispatches_by_content(detector: Detector, astronaut_jpeg: bytes, tmp_path: Path) -> None:
    path = tmp_path / "looks-like-a-video.mp4"
    path.write_bytes(astronaut_jpeg)
    result = detector.analyze(path)
    assert isinstance(result, ImageResult) and len(result.faces) == 1


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("empty.jpg", b"", EmptyInput),
        ("zero-length.mp4", b"", EmptyInput),
        ("notes.jpg", b"just some text, not an image\n" * 20, UnsupportedMedia),
        ("random.mp4", RANDOM_BYTES, UnsupportedMedia),
        ("header-only.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64, CorruptMedia),
    ],
)
def test_bad_inputs_give_typed_errors_quickly(
    detector: Detector, tmp_path: Path, name: str, content: bytes, error: type[DetectionError]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for media in (path, content):
        started = time.perf_counter()
        with pytest.raises(error) as err:
            detector.analyze(media)
        assert err.value.code == error.code and err.value.message
        assert time.perf_counter() - started < 2.0


def test_truncated_jpeg(detector: Detector, astronaut_jpeg: bytes) -> None:
    with pytest.raises(CorruptMedia):
        detector.analyze(astronaut_jpeg[:5000])


def test_shared_photos(detector: Detector, shared_data_dir: Path) -> None:
    """FFHQ photos, StyleGAN faces and 200 px UTKFace chips (tight crops) all get a face and a score."""
    folders = {
        "faces-real/ffhq-512": 2,
        "faces-gan/tpdne-512": 1,
        "faces-real/utkface": 3,
    }
    for folder, count in folders.items():
        files = sorted((shared_data_dir / folder).glob("*.jpg"))[:count]
        if not files:
            pytest.skip(f"no JPEGs in {shared_data_dir / folder}")
        for path in files:
            result = detector.analyze(path)
            assert result.verdict in ("fake", "real"), f"no face found in {path.name}"
            assert 0.0 <= result.probability <= 1.0


def test_aggregations() -> None:
    assert aggregate_mean([0.2, 0.4]) == pytest.approx(0.3)
    # Many confident-fake frames: their mean, not diluted by the rest.
    many_fake = [0.95] * 14 + [0.1] * 18
    assert aggregate_confident(many_fake) == pytest.approx(0.95)
    # 11 confident frames is not enough (needs more than 11), nor is <= 40 % of frames.
    assert aggregate_confident([0.95] * 11 + [0.5] * 5) == pytest.approx(np.mean([0.95] * 11 + [0.5] * 5))
    assert aggregate_confident([0.9] * 12 + [0.5] * 20) == pytest.approx(np.mean([0.9] * 12 + [0.5] * 20))
    # Over 90 % confidently real: mean of those.
    mostly_real = [0.05] * 19 + [0.7]
    assert aggregate_confident(mostly_real) == pytest.approx(0.05)
    assert aggregate_confident([0.3, 0.5, 0.7]) == pytest.approx(0.5)
