"""Safe image decoding: bytes or a path in, an RGB uint8 array out, or a typed error.

The type is sniffed from magic bytes (an upload's name or extension proves nothing), and
the declared dimensions are checked from the header before any pixel is decoded, so a
decompression bomb costs a header read. Truncated files are rejected rather than decoded
with grey fill (``LOAD_TRUNCATED_IMAGES`` stays off): a half-grey photo would be scored
as if it were a real one.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from detection.errors import CorruptMedia, EmptyInput, ImageTooLarge, UnsupportedMedia

DEFAULT_MAX_PIXELS = 50_000_000
# Pixels the detector works on: a larger image is decoded at reduced size (JPEG: by the decoder's DCT
# scaling, 1/2 to 1/8, so the full picture is never made) or reduced right after decoding (box filter)
# before any conversion. Faces are found on a copy of at most 960 px anyway; this bounds the crops.
DEFAULT_WORK_PIXELS = 16_000_000
MAX_SIDE = 40_000
MAX_ASPECT = 50.0  # a 1×40M "image" passes a pixel limit but is no photo of a face
SNIFF_BYTES = 64

# ISO-BMFF brands that hold still images (HEIF/AVIF) rather than video.
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# Formats Pillow may use; anything else it could parse (PSD, EPS, ...) is not accepted.
_PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF")


@dataclass(frozen=True)
class MediaType:
    kind: str  # "image" | "video"
    format: str  # jpeg, png, gif, bmp, tiff, webp, heif, avif, mp4, mov, webm, avi

    @property
    def suffix(self) -> str:
        return "." + self.format


def sniff(data: bytes) -> MediaType | None:
    """Media type from the first bytes of a file; None when it is neither a known image nor video."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaType("image", "gif")
    if head.startswith(b"BM") and len(head) >= 26:
        return MediaType("image", "bmp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaType("image", "tiff")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType("image", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaType("video", "avi")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType("video", "webm")  # EBML: WebM or Matroska, both opened by FFmpeg
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return MediaType("image", "avif")
        if brand in _IMAGE_BRANDS:
            return MediaType("image", "heif")
        if brand in _AUDIO_BRANDS:
            return None
        return MediaType("video", "mov" if brand == b"qt  " else "mp4")
    if box in _QUICKTIME_ATOMS:
        return MediaType("video", "mov")
    return None


def sniff_media(data: bytes) -> str | None:
    """``"image"``, ``"video"`` or None, judged from the content only."""
    media = sniff(data)
    return media.kind if media else None


def read_head(data: bytes | str | Path, size: int = SNIFF_BYTES) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[:size])
    with open(data, "rb") as fh:
        return fh.read(size)


@dataclass(frozen=True)
class ScaledImage:
    """An image decoded for analysis: ``rgb`` is ``scale`` times the size of the image as stored
    (EXIF orientation applied); ``width`` and ``height`` are the stored image's, oriented."""

    rgb: np.ndarray
    scale: float
    width: int
    height: int


def image_pixels(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> int:
    """Pixels the image declares (header only, the limits of ``load_image`` checked); for budgets."""
    if not data:
        raise EmptyInput()
    media = sniff(data)
    if media is None or media.kind != "image":
        raise UnsupportedMedia("The content is not a recognised image format.")
    image = _open_checked(data, media, max_pixels)
    return int(image.width) * int(image.height)


def load_image_scaled(
    data: bytes | str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, work_pixels: int = DEFAULT_WORK_PIXELS
) -> ScaledImage:
    """``load_image`` for analysis: an image over ``work_pixels`` comes back reduced to fit them."""
    image = _decoded(data, max_pixels, work_pixels=work_pixels)
    full_width, full_height = image.info.get("fakeme_full_size", image.size)
    factor = math.ceil(math.sqrt(image.width * image.height / work_pixels))
    if factor > 1:
        image = image.reduce(factor)
    scale = image.width / full_width
    decoded_size = image.size
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not reject an otherwise good image
        pass
    if image.size != decoded_size:  # turned by a quarter: so is the stored size
        full_width, full_height = full_height, full_width
    rgb = _to_rgb(image)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise CorruptMedia(f"Unexpected decoded shape {rgb.shape}.")
    return ScaledImage(rgb, scale, int(full_width), int(full_height))


def load_image(data: bytes | str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image to an ``(H, W, 3)`` RGB uint8 array, EXIF orientation applied."""
    image = _decoded(data, max_pixels)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not reject an otherwise good image
        pass
    rgb = _to_rgb(image)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise CorruptMedia(f"Unexpected decoded shape {rgb.shape}.")
    return rgb


def check_image(data: bytes | str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Nothing for an image that ``load_image`` will accept; the error it would raise otherwise.

    For the paths that store an image now and decode it later (queued scans, bank entries), so bad
    input is refused before anything is stored. A JPEG is decoded at 1/8 scale: every entropy-coded
    byte is still read, so a truncated or damaged file fails here as it would at full size.
    """
    _decoded(data, max_pixels, reduced=True)


def _decoded(
    data: bytes | str | Path, max_pixels: int, reduced: bool = False, work_pixels: int | None = None
) -> Image.Image:
    """The decoded Pillow image (header limits checked first), or a typed error. ``work_pixels``: a
    JPEG over it is decoded at the smallest DCT scale that still covers it (``info["fakeme_full_size"]``
    keeps the stored size)."""
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else Path(data).read_bytes()
    if not raw:
        raise EmptyInput()
    media = sniff(raw)
    if media is None:
        raise UnsupportedMedia(
            "The content is not a recognised image format (JPEG, PNG, GIF, BMP, TIFF, WebP)."
        )
    if media.kind != "image":
        raise UnsupportedMedia(f"Expected an image but got a video ({media.format}).")
    image = _open_checked(raw, media, max_pixels)
    full = image.size
    try:
        if reduced:
            image.draft(image.mode, (image.width // 8 or 1, image.height // 8 or 1))
        elif work_pixels is not None and image.width * image.height > work_pixels:
            shrink = math.sqrt(work_pixels / (image.width * image.height))
            image.draft(image.mode, (max(1, int(image.width * shrink)), max(1, int(image.height * shrink))))
        image.load()
        image.info["fakeme_full_size"] = full
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError) as exc:
        raise CorruptMedia(f"The {media.format.upper()} data could not be decoded: {exc}") from exc
    return image


def _open_checked(raw: bytes, media: MediaType, max_pixels: int) -> Image.Image:
    """Open (header only) and enforce the dimension limits before anything is decoded."""
    try:
        image = Image.open(io.BytesIO(raw), formats=_PILLOW_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except UnidentifiedImageError as exc:
        if media.format in ("heif", "avif"):
            raise UnsupportedMedia(
                f"{media.format.upper()} images are not supported by this server."
            ) from exc
        raise CorruptMedia(f"The {media.format.upper()} header could not be read.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise CorruptMedia(f"The {media.format.upper()} header could not be read: {exc}") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"The image declares invalid dimensions {width}×{height}.")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The image is {width}×{height} = {width * height:,} pixels; the limit is {max_pixels:,}."
        )
    if max(width, height) > MAX_SIDE or max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageTooLarge(f"The image has implausible dimensions {width}×{height}.")
    return image


def _to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    ):
        # Transparent pixels carry arbitrary colours; show them as on a white page.
        rgba = image.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        page.alpha_composite(rgba)
        return np.asarray(page.convert("RGB"), dtype=np.uint8)
    if mode.startswith("I;16") or mode in ("I", "F"):
        gray = _scale_to_uint8(np.asarray(image), mode)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(image), dtype=np.uint8)
    if mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Map high-bit-depth grey to 0..255 by its nominal range (not by clipping at 255)."""
    arr = values.astype(np.float64)
    if mode.startswith("I;16"):
        scaled = arr / 257.0
    else:
        lo, hi = float(arr.min()), float(arr.max())
        if mode == "F" and lo >= 0.0 and hi <= 1.0:
            scaled = arr * 255.0
        elif lo >= 0.0 and hi <= 255.0:
            scaled = arr
        elif lo >= 0.0 and hi <= 65535.0:
            scaled = arr / 257.0  # 16-bit data held in a 32-bit mode
        else:
            scaled = (arr - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """Use the embedded ICC profile when there is one; Pillow's naive formula otherwise."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    return image.convert("RGB")
