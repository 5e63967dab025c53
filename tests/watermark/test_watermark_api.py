"""The public API: round trips, keys, payload forms, and clear errors on bad input."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import watermark
from watermark import (
    ImageTooSmall,
    InvalidImage,
    InvalidKey,
    InvalidPayload,
    Recovery,
    UnreadableMedia,
    WatermarkError,
    embed,
    embed_bytes,
    recover,
    recover_bytes,
)
from watermark.evaluation import psnr


def test_round_trip_int_payload(astronaut: np.ndarray, key: bytes) -> None:
    payload = 0xA1B2C3D4E5
    marked = embed(astronaut, payload, key)
    assert marked.shape == astronaut.shape and marked.dtype == np.uint8
    assert not np.array_equal(marked, astronaut)
    result = recover(marked, key)
    assert isinstance(result, Recovery)
    assert result.found and result.payload == payload
    assert result.key_index == 0
    assert result.bit_errors == 0 and result.confidence == 1.0
    assert result.payload_bytes == payload.to_bytes(5, "big")


def test_round_trip_bytes_payload_and_extremes(astronaut: np.ndarray, key: bytes) -> None:
    for payload in (b"\x00" * 5, b"\xff" * 5, b"gen42"):
        assert recover(embed(astronaut, payload, key), key).payload_bytes == payload


@pytest.mark.parametrize(
    ("height", "width"),
    [(128, 128), (128, 300), (200, 200), (333, 257), (720, 1280), (1080, 1920), (1280, 720)],
)
def test_round_trip_sizes(astronaut: np.ndarray, key: bytes, height: int, width: int) -> None:
    """Any size with a short side of at least 128 px; odd sizes and both orientations."""
    image = cv2.resize(astronaut, (width, height), interpolation=cv2.INTER_AREA)
    marked = embed(image, 777, key)
    assert marked.shape == image.shape
    assert psnr(image, marked) >= 40.0
    result = recover(marked, key)
    assert result.found and result.payload == 777


def test_embedding_is_deterministic(astronaut: np.ndarray, key: bytes) -> None:
    assert np.array_equal(embed(astronaut, 5, key), embed(astronaut, 5, key))


def test_wrong_key_finds_nothing(sample_photos: dict[str, np.ndarray], key: bytes) -> None:
    for image in sample_photos.values():
        marked = embed(image, 123456, key)
        result = recover(marked, b"some-other-key")
        assert not result.found
        assert result.payload is None and result.bit_errors is None and result.key_index is None
        assert result.confidence == 0.0


def test_clean_photos_find_nothing(sample_photos: dict[str, np.ndarray], key: bytes) -> None:
    for image in sample_photos.values():
        assert not recover(image, key).found


def test_key_rotation(astronaut: np.ndarray, key: bytes, previous_key: bytes) -> None:
    old = embed(astronaut, 99, previous_key)
    new = embed(astronaut, 100, key)
    found_old = recover(old, [key, previous_key])
    assert found_old.found and found_old.payload == 99 and found_old.key_index == 1
    found_new = recover(new, [key, previous_key])
    assert found_new.found and found_new.payload == 100 and found_new.key_index == 0
    assert not recover(old, [key]).found


def test_recovery_to_dict(astronaut: np.ndarray, key: bytes) -> None:
    out = recover(embed(astronaut, 1, key), key).to_dict()
    assert out["found"] is True and out["payload"] == 1 and out["key_index"] == 0


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("not an array", InvalidImage),
        (np.zeros((256, 256, 3), dtype=np.float32), InvalidImage),
        (np.zeros((256, 256), dtype=np.uint8), InvalidImage),
        (np.zeros((256, 256, 4), dtype=np.uint8), InvalidImage),
        (np.zeros((127, 512, 3), dtype=np.uint8), ImageTooSmall),
        (np.zeros((0, 0, 3), dtype=np.uint8), ImageTooSmall),
    ],
)
def test_bad_images_raise_typed_errors(image: object, error: type[WatermarkError], key: bytes) -> None:
    with pytest.raises(error) as info:
        embed(image, 1, key)  # type: ignore[arg-type]
    assert info.value.code == error.code
    with pytest.raises(error):
        recover(image, key)  # type: ignore[arg-type]


def test_error_codes_are_stable() -> None:
    assert InvalidImage.code == "invalid_image"
    assert ImageTooSmall.code == "image_too_small"
    assert InvalidPayload.code == "invalid_payload"
    assert InvalidKey.code == "invalid_key"
    assert UnreadableMedia.code == "unreadable_media"
    assert all(
        issubclass(e, WatermarkError) for e in (InvalidImage, ImageTooSmall, InvalidPayload, InvalidKey)
    )


@pytest.mark.parametrize("payload", [-1, 2**40, b"1234", b"123456", 1.5, True, None])
def test_bad_payloads(astronaut: np.ndarray, key: bytes, payload: object) -> None:
    with pytest.raises(InvalidPayload):
        embed(astronaut, payload, key)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [b"", "text-key", None, [], 42])
def test_bad_keys(astronaut: np.ndarray, bad: object) -> None:
    with pytest.raises(InvalidKey):
        embed(astronaut, 1, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        recover(astronaut, bad)  # type: ignore[arg-type]


def test_too_many_keys(astronaut: np.ndarray) -> None:
    with pytest.raises(InvalidKey):
        recover(astronaut, [bytes([i + 1]) * 8 for i in range(17)])


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_bytes_round_trip(astronaut: np.ndarray, key: bytes, fmt: str) -> None:
    data = embed_bytes(_png(astronaut), 4242, key, format=fmt)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert decoded.shape == astronaut.shape
    result = recover_bytes(data, [key])
    assert result.found and result.payload == 4242


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"", "empty_input"),
        (b"this is not an image at all" * 10, "unsupported_media_type"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt_media"),
    ],
)
def test_garbage_bytes(key: bytes, data: bytes, detail: str) -> None:
    with pytest.raises(UnreadableMedia) as info:
        recover_bytes(data, key)
    assert info.value.code == "unreadable_media"
    assert info.value.detail_code == detail
    assert info.value.to_dict()["detail_code"] == detail


def test_truncated_files(astronaut: np.ndarray, key: bytes) -> None:
    png = embed_bytes(_png(astronaut), 1, key, format="png")
    jpeg = embed_bytes(_png(astronaut), 1, key, format="jpeg")
    for data in (png[: len(png) // 2], jpeg[: len(jpeg) // 2]):
        with pytest.raises(UnreadableMedia) as info:
            recover_bytes(data, key)
        assert info.value.detail_code == "corrupt_media"


def test_small_encoded_image(key: bytes) -> None:
    with pytest.raises(ImageTooSmall):
        recover_bytes(_png(np.zeros((100, 100, 3), dtype=np.uint8)), key)


def test_unknown_output_format(astronaut: np.ndarray, key: bytes) -> None:
    with pytest.raises(InvalidImage):
        embed_bytes(_png(astronaut), 1, key, format="gif")


def test_public_names() -> None:
    assert watermark.PAYLOAD_BITS == 40 and watermark.MIN_SIDE == 128
