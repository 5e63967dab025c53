"""Image decoding: formats, modes, orientation, and every kind of bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from detection.errors import CorruptMedia, EmptyInput, ImageTooLarge, UnsupportedMedia
from detection.imaging import load_image, sniff, sniff_media
from tests.detection.fakeme_media import encode, png_declaring


def test_sniff_by_content_not_name(astronaut_jpeg: bytes) -> None:
    assert sniff_media(astronaut_jpeg) == "image"
    assert sniff_media(encode(np.zeros((4, 4, 3), np.uint8), "PNG")) == "image"
    assert sniff_media(encode(np.zeros((4, 4, 3), np.uint8), "WEBP")) == "image"
    assert sniff_media(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom") == "video"
    assert sniff_media(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ") == "video"
    assert sniff(b"\x1a\x45\xdf\xa3\x01\x00\x00\x00") is not None
    assert sniff_media(b"RIFF\x00\x00\x00\x00AVI LIST") == "video"
    assert sniff_media(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "image"
    assert sniff_media(b"hello, this is text\n") is None
    assert sniff_media(b"") is None


def test_rgb_jpeg_roundtrip(astronaut: np.ndarray, astronaut_jpeg: bytes) -> None:
    rgb = load_image(astronaut_jpeg)
    assert rgb.dtype == np.uint8 and rgb.shape == astronaut.shape
    assert np.abs(rgb.astype(int) - astronaut).mean() < 4


def test_path_input(tmp_path, astronaut_jpeg: bytes) -> None:
    path = tmp_path / "photo.bin"  # the extension is irrelevant
    path.write_bytes(astronaut_jpeg)
    assert load_image(path).shape == (512, 512, 3)
    assert load_image(str(path)).shape == (512, 512, 3)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_common_formats(fmt: str) -> None:
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[:, :16] = (200, 30, 30)
    out = load_image(encode(rgb, fmt))
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8
    assert out[12, 4, 0] > 150 and out[12, 28, 0] < 60


def test_grayscale_and_bilevel() -> None:
    gray = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (10, 1))
    out = load_image(encode(gray, "PNG"))
    assert out.shape == (10, 32, 3)
    assert np.array_equal(out[:, :, 0], gray) and np.array_equal(out[:, :, 1], gray)
    bilevel = Image.fromarray(gray > 100).convert("1")
    assert load_image(encode(bilevel, "PNG")).shape == (10, 32, 3)


def test_rgba_composited_on_white() -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red
    rgba[:, 4:] = (0, 0, 0, 0)  # fully transparent black
    out = load_image(encode(rgba, "PNG"))
    assert out.shape == (8, 8, 3)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 7]) == (255, 255, 255)
    la = Image.fromarray(rgba[:, :, [0, 3]], mode="LA")
    assert tuple(load_image(encode(la, "PNG"))[0, 7]) == (255, 255, 255)


def test_cmyk_jpeg() -> None:
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, :8] = (0, 0, 255)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    out = load_image(encode(cmyk, "JPEG", quality=95))
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert out[8, 2, 2] > 200 and out[8, 2, 0] < 60  # blue stays blue
    assert out[8, 13].min() < 40  # black stays black


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = np.linspace(0, 65535, 64 * 8).reshape(8, 64).astype(np.uint16)
    img = Image.fromarray(ramp)
    assert img.mode.startswith("I;16")
    out = load_image(encode(img, "PNG"))
    assert out.shape == (8, 64, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255
    assert 120 <= out[:, :, 0].ravel()[256] <= 135  # mid-grey, not saturated white
    assert len(np.unique(out[:, :, 0])) > 200
    # TIFF keeps 16-bit grey too.
    assert load_image(encode(img, "TIFF"))[-1, -1, 0] == 255


def test_palette_with_transparency() -> None:
    p = Image.new("P", (10, 10), 0)
    p.putpalette([0, 0, 0, 0, 200, 0] + [0] * (254 * 3))
    p.paste(1, (0, 0, 5, 10))
    p.info["transparency"] = 0  # palette index 0 (black) is transparent
    data = encode(p, "PNG", transparency=0)
    out = load_image(data)
    assert tuple(out[5, 2]) == (0, 200, 0)
    assert tuple(out[5, 8]) == (255, 255, 255)
    assert load_image(encode(p, "GIF", transparency=0))[5, 8].min() == 255


def test_exif_orientation_honoured() -> None:
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:20] = (255, 0, 0)  # top half red (as stored)
    stored[20:] = (0, 0, 255)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # display rotated 90° clockwise
    out = load_image(encode(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.shape == (60, 40, 3)
    # Rotating clockwise moves the stored top edge to the right.
    assert out[30, 35, 0] > 200 and out[30, 35, 2] < 60
    assert out[30, 4, 2] > 200 and out[30, 4, 0] < 60


def test_empty() -> None:
    with pytest.raises(EmptyInput) as err:
        load_image(b"")
    assert err.value.code == "empty_input"


def test_text_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia) as err:
        load_image(b"Hello! This is a text file, not a picture.\n" * 10)
    assert err.value.code == "unsupported_media_type"


def test_video_is_not_an_image() -> None:
    with pytest.raises(UnsupportedMedia):
        load_image(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100)


def test_truncated_jpeg(astronaut_jpeg: bytes) -> None:
    with pytest.raises(CorruptMedia) as err:
        load_image(astronaut_jpeg[: len(astronaut_jpeg) // 2])
    assert err.value.code == "corrupt_media"


def test_garbage_after_magic_bytes() -> None:
    with pytest.raises(CorruptMedia):
        load_image(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(CorruptMedia):
        load_image(b"\xff\xd8\xff\xe0" + b"\x00" * 20)


@pytest.mark.parametrize("size", [(100_000, 100_000), (20_000, 20_000), (60_000, 4), (1, 40_000)])
def test_decompression_bombs_rejected_from_header(size: tuple[int, int]) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge) as err:
        load_image(png_declaring(*size))
    assert err.value.code == "image_too_large"
    assert time.perf_counter() - started < 0.5


def test_pixel_limit_is_configurable(astronaut_jpeg: bytes) -> None:
    with pytest.raises(ImageTooLarge, match="512"):
        load_image(astronaut_jpeg, max_pixels=100_000)
