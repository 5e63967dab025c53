"""Media-making helpers shared by the detection tests (imported as a plain module)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image
from torch import nn

from detection.model import FakeMENet, ModelCard, save_detector


def make_random_weights(path: Path, seed: int = 0, **card: Any) -> Path:
    """A randomly initialised detector whose BatchNorm statistics are fitted to real photos.

    Straight from initialisation the BN running stats (mean 0, var 1) do not match the
    activations, which then grow layer after layer into logits of ~1e4 that float32
    rounding scrambles; fitted stats give O(1) logits, as trained weights do.
    """
    torch.manual_seed(seed)
    model_card = ModelCard(version="test", **card)
    model = FakeMENet()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        model(_calibration_batch(model_card, seed))
    model.eval()
    return save_detector(model, model_card, path)


def _calibration_batch(card: ModelCard, seed: int, n: int = 24) -> torch.Tensor:
    """Random square crops of scikit-image's sample photos, normalised as the card says."""
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 4, min(h, w)))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[y : y + side, x : x + side]
        crops.append(cv2.resize(crop, (card.input_size, card.input_size), interpolation=cv2.INTER_AREA))
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
    return (batch - torch.tensor(card.mean).view(1, 3, 1, 1)) / torch.tensor(card.std).view(1, 3, 1, 1)


def encode(rgb: np.ndarray | Image.Image, fmt: str, **params: object) -> bytes:
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def write_video(
    path: Path,
    frame_at: Callable[[int], np.ndarray],
    n_frames: int,
    fps: float = 10.0,
    fourcc: str = "mp4v",
) -> Path:
    """Write RGB frames with OpenCV (this build encodes mp4v/MJPG, not H.264)."""
    first = frame_at(0)
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} here"
    try:
        for i in range(n_frames):
            writer.write(cv2.cvtColor(frame_at(i) if i else first, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def moving_face_frame(sprite: np.ndarray, i: int, n: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A grey frame with the face sliding left to right over ``n`` frames."""
    w, h = size
    frame = np.full((h, w, 3), 110, dtype=np.uint8)
    frame[:, :, 2] = 130
    s = sprite.shape[0]
    x = int(round((w - s) * i / max(n - 1, 1)))
    y = (h - s) // 2
    frame[y : y + s, x : x + s] = sprite
    return frame


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A syntactically valid PNG header declaring ``width``×``height`` with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def write_h264(
    path: Path, frame_at: Callable[[int], np.ndarray], n_frames: int, fps: int = 30, bframes: int = 3
) -> Path:
    """Write RGB frames as H.264 with B-frames (a B-pyramid, as x264's defaults make) through PyAV."""
    import av

    first = frame_at(0)
    h, w = first.shape[:2]
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:  # index first
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"x264-params": f"bframes={bframes}:b-pyramid=normal:b-adapt=0:keyint=250"}
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(frame_at(i) if i else first, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
