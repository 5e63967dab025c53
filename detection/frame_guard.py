"""The frame guard: no decoded video frame over the pixel limit, whatever the header said.

The header's frame size proves nothing about later frames (an MJPEG AVI may say 64×48 and
carry 16000×16000 JPEGs from its second frame on), so every decode path of ``detection.video``
goes through this guard: the decoder is opened with FFmpeg's ``max_pixels`` (it refuses to
allocate a larger picture), a refusal is ``image_too_large`` rather than a damaged packet, and
every decoded frame is checked against the limit before it is converted (``guard_frame``). All
video decoding in the product (scans, intake checks, watermark recovery, generation, console
thumbnails and evidence frames) reads through ``VideoReader``.
"""

from __future__ import annotations

from typing import Any

import av

from detection.errors import ImageTooLarge


def frame_too_large(width: int, height: int, max_pixels: int) -> ImageTooLarge:
    return ImageTooLarge(f"A video frame is {width}×{height}; the pixel limit is {max_pixels:,}.")


def guard_frame(frame: Any, max_pixels: int) -> None:
    """Raise ``image_too_large`` for a decoded frame over the pixel limit; call before converting it."""
    width, height = int(frame.width or 0), int(frame.height or 0)
    if width * height > max_pixels:
        raise frame_too_large(width, height, max_pixels)


def limit_decoder(context: Any, max_pixels: int) -> None:
    """Open-time decoder option: refuse pictures over ``max_pixels`` before allocating them."""
    context.options = {**dict(context.options or {}), "max_pixels": str(int(max_pixels))}


def refused_for_size(exc: Exception, context: Any, max_pixels: int) -> bool:
    """Whether a decoding error is the decoder refusing a picture over the pixel limit.

    FFmpeg's size check (``av_image_check_size2``) answers ``EINVAL`` (PyAV's ``ArgumentError``), and a
    rejected new size leaves the context's dimensions at 0×0 (``ff_set_dimensions``) or at the refused
    size (``get_buffer``). Damaged data answers ``AVERROR_INVALIDDATA`` instead and is concealed."""
    if not isinstance(exc, av.error.ArgumentError):
        return False
    pixels = int(context.width or 0) * int(context.height or 0)
    return pixels == 0 or pixels > max_pixels
