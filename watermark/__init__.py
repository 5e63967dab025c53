"""Keyed invisible watermark: embed a 40-bit payload in an image's luminance, recover it.

Plain Python (no Django): arrays or bytes in, arrays, bytes or a ``Recovery`` out; bad input
raises a ``WatermarkError`` with a stable ``code``. See docs/watermark.md for the design and
its measured robustness.

    from watermark import embed, recover
    marked = embed(rgb, payload=1234, key=secret)
    found = recover(marked, keys=[secret, previous_secret])   # Recovery(found=True, payload=1234, ...)
"""

from watermark.codec import PAYLOAD_BITS, PAYLOAD_BYTES
from watermark.embedding import embed
from watermark.errors import (
    ImageTooSmall,
    InvalidImage,
    InvalidKey,
    InvalidPayload,
    UnreadableMedia,
    WatermarkError,
)
from watermark.layout import MIN_SIDE
from watermark.media import embed_bytes, recover_bytes
from watermark.recovery import Recovery, recover
from watermark.video import FrameVote, embed_video_frames, recover_from_frames, recover_video_file

__all__ = [
    "FrameVote",
    "MIN_SIDE",
    "PAYLOAD_BITS",
    "PAYLOAD_BYTES",
    "ImageTooSmall",
    "InvalidImage",
    "InvalidKey",
    "InvalidPayload",
    "Recovery",
    "UnreadableMedia",
    "WatermarkError",
    "embed",
    "embed_bytes",
    "embed_video_frames",
    "recover",
    "recover_bytes",
    "recover_from_frames",
    "recover_video_file",
]
