"""The detection benchmark's inputs, built deterministically and cached in ``.cache/bench``: 1080p photos
with one and five faces, a 1080p30 video of one drifting face, face crops of the model's input size,
and random-init weights when the bundled ones are absent.

Faces come from ``../shared/data/faces-real/ffhq-512`` (or scikit-image's astronaut).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.common import CACHE, ROOT

DEFAULT_WEIGHTS = ROOT / "detection" / "weights" / "fakeme-effnetv2s.safetensors"
DEFAULT_FACES = ROOT.parent / "shared" / "data" / "faces-real" / "ffhq-512"
DEFAULT_CACHE = CACHE

W, H, VIDEO_FPS = 1920, 1080, 30
GRAIN = 4  # ± amplitude of the per-frame noise in the test video
INPUTS_VERSION = 2  # bump when the synthetic inputs change, so cached videos are rebuilt


@dataclass
class SourceFace:
    name: str
    rgb: np.ndarray
    box: tuple[float, float, float, float]


def load_sources(faces_dir: Path, count: int) -> tuple[list[SourceFace], np.ndarray, str, bool]:
    """``count`` single-face photos (first in numeric file order), a background photo, a description,
    and whether the scikit-image fallback was used."""
    from detection.faces import FaceDetector

    detector = FaceDetector(min_face_size=40)
    files = sorted(faces_dir.glob("*.jpg"), key=lambda p: (len(p.stem), p.stem)) if faces_dir.is_dir() else []
    if files:
        picked: list[SourceFace] = []
        background = None
        for path in files:
            rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            if len(picked) == count:
                background = rgb
                break
            faces = detector.detect(rgb)
            if len(faces) == 1 and faces[0].confidence >= 0.99:
                picked.append(SourceFace(path.name, rgb, faces[0].box))
        if len(picked) == count and background is not None:
            names = ", ".join(s.name for s in picked)
            return (
                picked,
                background,
                f"FFHQ photos {names} from {faces_dir} (background: {path.name})",
                False,
            )
    # Fallback: scikit-image's astronaut (one face), mirrored for variety.
    from skimage import data as skdata

    rgb = np.ascontiguousarray(skdata.astronaut())
    faces = detector.detect(rgb)
    if not faces:
        raise RuntimeError("no face found in scikit-image's astronaut")
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    x1, y1, x2, y2 = faces[0].box
    w = rgb.shape[1]
    sources = [
        SourceFace("astronaut", rgb, faces[0].box)
        if i % 2 == 0
        else SourceFace("astronaut-mirrored", mirrored, (w - x2, y1, w - x1, y2))
        for i in range(count)
    ]
    return sources, rgb, f"scikit-image's astronaut (FALLBACK: no usable photos in {faces_dir})", True


def blurred_background(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """A 16:9 centre crop shrunk to 32x18 and upscaled: a soft photographic background.

    The photo is turned upside down first: MTCNN finds a face even in such a blur of an upright one.
    """
    rgb = np.ascontiguousarray(rgb[::-1, ::-1])
    h, w = rgb.shape[:2]
    ch = min(h, round(w * 9 / 16))
    cw = round(ch * 16 / 9)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    tiny = cv2.resize(rgb[y0 : y0 + ch, x0 : x0 + cw], (32, 18), interpolation=cv2.INTER_AREA)
    return cv2.resize(tiny, (width, height), interpolation=cv2.INTER_CUBIC)


def face_tile(src: SourceFace, face_px: int, margin: float = 1.8) -> tuple[np.ndarray, np.ndarray]:
    """Square tile around the face, scaled so the face box is ``face_px`` tall; feathered oval alpha."""
    x1, y1, x2, y2 = src.box
    scale = face_px / (y2 - y1)
    size = int(round(max(x2 - x1, y2 - y1) * margin * scale))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    m = np.float32([[scale, 0, size / 2 - scale * cx], [0, scale, size / 2 - scale * cy]])
    tile = cv2.warpAffine(src.rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    alpha = np.zeros((size, size), np.float32)
    cv2.ellipse(alpha, (size // 2, size // 2), (int(size * 0.40), int(size * 0.46)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), size * 0.04)
    return tile.astype(np.float32), alpha[..., None]


def paste(canvas: np.ndarray, tile: np.ndarray, alpha: np.ndarray, cx: float, cy: float) -> None:
    """Alpha-blend ``tile`` into ``canvas`` (uint8, in place) centred at (cx, cy), clipped to the canvas."""
    size = tile.shape[0]
    x0, y0 = int(round(cx - size / 2)), int(round(cy - size / 2))
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(canvas.shape[1], x0 + size), min(canvas.shape[0], y0 + size)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    t = tile[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    canvas[cy0:cy1, cx0:cx1] = np.clip(t * a + region * (1 - a), 0, 255).astype(np.uint8)


def build_photos(sources: list[SourceFace], background: np.ndarray) -> dict[str, np.ndarray]:
    """1080p RGB photos: one face ~360 px tall, and five faces ~200 px tall in a staggered row."""
    one = blurred_background(background, W, H)
    tile, alpha = face_tile(sources[0], 360)
    paste(one, tile, alpha, W * 0.58, H * 0.5)
    five = blurred_background(background, W, H)
    for i, src in enumerate(sources[:5]):
        tile, alpha = face_tile(src, 200)
        paste(five, tile, alpha, 192 + i * 384, H * (0.42 if i % 2 == 0 else 0.58))
    return {"one_face": one, "five_faces": five}


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def ffmpeg_exe() -> str | None:
    """The ffmpeg binary bundled in the imageio-ffmpeg wheel (a bench-only tool), if installed."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def video_frames(src: SourceFace, background: np.ndarray, seconds: int) -> Iterator[np.ndarray]:
    """RGB frames: a slowly panning soft background, one face (~320 px) drifting on a slow Lissajous path,
    and light sensor-like grain (so the encoder sees texture, as in real footage)."""
    margin_x, margin_y = 240, 136
    bg = blurred_background(background, W + margin_x, H + margin_y)
    tile, alpha = face_tile(src, 320)
    rng = np.random.default_rng(0)
    for i in range(seconds * VIDEO_FPS):
        t = i / VIDEO_FPS
        ox = int(round(margin_x / 2 * (1 + np.sin(2 * np.pi * t / 30))))
        oy = int(round(margin_y / 2 * (1 + np.sin(2 * np.pi * t / 23))))
        frame = bg[oy : oy + H, ox : ox + W].copy()
        paste(
            frame,
            tile,
            alpha,
            W / 2 + 420 * np.sin(2 * np.pi * t / 20),
            H / 2 + 140 * np.sin(2 * np.pi * t / 14),
        )
        # Fresh grain every frame (drawn at 1/2 resolution, upscaled): gives a realistic bitrate.
        grain = rng.integers(0, 2 * GRAIN + 1, (H // 2, W // 2, 3), dtype=np.uint8)
        grain = cv2.resize(grain, (W, H), interpolation=cv2.INTER_LINEAR)
        frame = cv2.subtract(cv2.add(frame, grain), (GRAIN, GRAIN, GRAIN, 0))
        yield frame


def _encode_progress(index: int, seconds: int, start: float) -> None:
    done = index + 1
    if done % (10 * VIDEO_FPS) == 0 and done < seconds * VIDEO_FPS:
        print(
            f"    {done // VIDEO_FPS} / {seconds} s encoded ({time.perf_counter() - start:.0f} s)", flush=True
        )


def ensure_video(
    cache: Path, seconds: int, src: SourceFace, background: np.ndarray, tag: str
) -> dict[str, Any]:
    """Write the test video once (H.264 via imageio-ffmpeg when available, else OpenCV mp4v) and cache it."""
    cache.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()

    def cached(codec: str) -> Path:
        return cache / f"face-{seconds}s-1080p30-{codec}-{tag}-v{INPUTS_VERSION}.mp4"

    # A cached H.264 file is always used; a cached mp4v one only while H.264 cannot be made.
    for codec in ("h264",) if exe else ("h264", "mp4v"):
        path = cached(codec)
        if path.is_file() and path.with_suffix(".json").is_file():
            return {**json.loads(path.with_suffix(".json").read_text()), "path": str(path), "cached": True}
    codec = "h264" if exe else "mp4v"
    path = cached(codec)
    tmp = path.with_name(path.stem + ".partial.mp4")
    start = time.perf_counter()
    print(f"  writing {seconds} s test video ({codec}) to {path} ...", flush=True)
    if exe:
        cmd = [
            exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
            "-r", str(VIDEO_FPS), "-i", "-", "-c:v", "libx264", "-preset", "fast", "-crf", "18",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(tmp),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        try:
            for i, frame in enumerate(video_frames(src, background, seconds)):
                proc.stdin.write(frame.tobytes())
                _encode_progress(i, seconds, start)
        finally:
            proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed with exit status {proc.returncode}")
        codec_desc = "H.264 (libx264 from imageio-ffmpeg, preset fast, CRF 18, yuv420p, x264 default GOP)"
    else:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS, (W, H))
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot open an mp4v VideoWriter")
        for i, frame in enumerate(video_frames(src, background, seconds)):
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            _encode_progress(i, seconds, start)
        writer.release()
        codec_desc = "MPEG-4 Part 2 (OpenCV mp4v; imageio-ffmpeg not installed, so no H.264)"
    cap = cv2.VideoCapture(str(tmp))
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok = cap.isOpened() and cap.read()[0]
    cap.release()
    if not ok or frames <= 0:
        raise RuntimeError(f"the test video {tmp} cannot be read back with OpenCV")
    os.replace(tmp, path)
    size = path.stat().st_size
    meta = {
        "codec": codec_desc,
        "seconds": seconds,
        "frames": frames,
        "fps": VIDEO_FPS,
        "bytes": size,
        "mbps": size * 8 / seconds / 1e6,
        "encode_s": time.perf_counter() - start,
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "path": str(path), "cached": False}


def random_weights(directory: Path) -> Path:
    import torch

    from detection.model import FakeMENet, ModelCard, save_detector

    torch.manual_seed(0)
    return save_detector(
        FakeMENet(), ModelCard(version="bench-random"), directory / "bench-random.safetensors"
    )


def weights_desc(paths: list[Path], random_init: bool) -> tuple[str, int, float]:
    """Human description of the weights, and the first model's input size and crop margin."""
    from detection.model import ModelCard, card_path_for

    cards = [ModelCard.from_json(card_path_for(p)) for p in paths]
    names = " + ".join(f"{c.name} {c.version} ({c.architecture} @ {c.input_size} px)" for c in cards)
    if random_init:
        names = f"random init ({names}; {DEFAULT_WEIGHTS.relative_to(ROOT)} absent; timing is the same)"
    else:
        names += " — " + ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in paths)
    return names, cards[0].input_size, cards[0].crop_margin


def build_crops(sources: list[SourceFace], size: int, margin: float, n: int = 16) -> np.ndarray:
    """``n`` RGB face crops of the model's input size (the engine's own crop), mirrored every other round."""
    from detection.faces import crop_face

    crops = []
    for i in range(n):
        src = sources[i % len(sources)]
        crop = crop_face(src.rgb, src.box, size, margin)
        crops.append(crop[:, ::-1] if (i // len(sources)) % 2 else crop)
    return np.ascontiguousarray(np.stack(crops))
