"""Encoded images in and out: the helpers the upload/download paths use.

Decoding goes through ``detection.imaging.load_image`` (type sniffed from the bytes, header
checked before decoding, EXIF orientation applied, truncated files rejected). Its errors are
re-raised as ``UnreadableMedia`` with the decoder's own code kept in ``detail_code``
(``empty_input``, ``corrupt_media``, ``unsupported_media_type``, ``image_too_large``), so
callers of this package catch one error type.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from detection.errors import DetectionError
from detection.imaging import load_image
from watermark.embedding import embed
from watermark.errors import InvalidImage, UnreadableMedia
from watermark.keys import check_key, check_keys
from watermark.recovery import Recovery, recover

# Output formats and their Pillow save options: PNG is lossless; JPEG at 95 with 4:4:4 chroma
# and WebP at 95 keep the mark at full strength for whoever re-encodes it next.
_FORMATS: dict[str, tuple[str, dict[str, object]]] = {
    "png": ("PNG", {"compress_level": 6}),
    "jpeg": ("JPEG", {"quality": 95, "subsampling": 0}),
    "jpg": ("JPEG", {"quality": 95, "subsampling": 0}),
    "webp": ("WEBP", {"quality": 95}),
}


def decode_image(data: bytes) -> np.ndarray:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidImage(f"Expected encoded image bytes, got {type(data).__name__}.")
    try:
        return load_image(bytes(data))
    except DetectionError as exc:
        raise UnreadableMedia(exc.message, detail_code=exc.code) from exc


def encode_image(rgb: np.ndarray, format: str = "png") -> bytes:
    try:
        pil_format, options = _FORMATS[format.lower()]
    except KeyError:
        raise InvalidImage(f"Unsupported output format {format!r}; use one of {sorted(_FORMATS)}.") from None
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=pil_format, **options)
    return buf.getvalue()


def embed_bytes(data: bytes, payload: int | bytes, key: bytes, format: str = "png") -> bytes:
    """Decode an image, embed ``payload``, encode it as ``format`` (png, jpeg, webp)."""
    key = check_key(key)
    return encode_image(embed(decode_image(data), payload, key), format)


def recover_bytes(data: bytes, keys: bytes | Sequence[bytes]) -> Recovery:
    """``recover`` on an encoded image."""
    key_list = check_keys(keys)
    return recover(decode_image(data), key_list)
