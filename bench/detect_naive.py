"""The detection benchmark's naive baseline (in a fresh child process), the pipeline of simple deepfake
web apps: decode every frame, write it to disk as JPEG and read it back, whole-frame ResNet-50 at 224,
batch 1."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.common import pct, time_calls
from bench.detect_process import RssSampler, max_rss_bytes, set_threads

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def _naive_model() -> Any:
    import timm

    return timm.create_model("resnet50", pretrained=False, num_classes=1).eval()


def _naive_tensor(bgr_frames: list[np.ndarray]) -> Any:
    """Whole frame -> RGB -> 224x224 -> ImageNet-normalised NCHW float tensor (no face crop)."""
    import torch

    arr = np.stack(
        [
            cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2RGB), (224, 224), interpolation=cv2.INTER_LINEAR)
            for f in bgr_frames
        ]
    )
    arr = (arr.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def _naive_score(model: Any, bgr_frames: list[np.ndarray]) -> list[float]:
    import torch

    with torch.inference_mode():
        return torch.sigmoid(model(_naive_tensor(bgr_frames))).flatten().tolist()


def run_naive(cfg: dict[str, Any]) -> dict[str, Any]:
    threads = set_threads(cfg["threads"])
    out: dict[str, Any] = {"threads": threads}
    start = time.perf_counter()
    model = _naive_model()
    out["load_s"] = time.perf_counter() - start

    for key, path in cfg["photos"].items():
        data = Path(path).read_bytes()

        def call(data: bytes = data) -> None:
            _naive_score(model, [cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)])

        out[key] = pct(time_calls(call, cfg["runs"], cfg["warmup"]))

    frame = cv2.imdecode(
        np.frombuffer(Path(cfg["photos"]["one_face"]).read_bytes(), np.uint8), cv2.IMREAD_COLOR
    )
    batch = [frame] * 16
    times = time_calls(lambda: _naive_score(model, batch), cfg["runs"], cfg["warmup"])
    out["batch16"] = {**pct(times), "batch": 16, "ips": 16 * 1000 / float(np.median(times))}

    # Video: decode EVERY frame, write it to disk as JPEG, read each back, score it alone (batch 1).
    video = cfg["video"]
    limit = video["frames"]
    if cfg["naive_max_seconds"] is not None:
        limit = min(limit, int(cfg["naive_max_seconds"] * video["fps"]))
    sampler = RssSampler()
    sampler.start()
    tmp = Path(tempfile.mkdtemp(prefix="fakeme-bench-naive-"))
    try:
        start = time.perf_counter()
        cap = cv2.VideoCapture(video["path"])
        n = 0
        while n < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            cv2.imwrite(str(tmp / f"{n:06d}.jpg"), bgr)
            n += 1
        cap.release()
        extract_s = time.perf_counter() - start
        start = time.perf_counter()
        for file in sorted(tmp.iterdir()):
            _naive_score(model, [cv2.imread(str(file), cv2.IMREAD_COLOR)])
        infer_s = time.perf_counter() - start
        disk = sum(f.stat().st_size for f in tmp.iterdir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total_frames = video["frames"]
    measured_s = extract_s + infer_s
    out["video"] = {
        "frames_processed": n,
        "frames_total": total_frames,
        "measured_s": measured_s,
        "extract_s": extract_s,
        "infer_s": infer_s,
        "disk_bytes": disk,
        "wall_s": measured_s * total_frames / max(n, 1),
        "extrapolated": n < total_frames,
        "rss_peak_sampled": sampler.stop(),
    }
    out["ru_maxrss"] = max_rss_bytes()
    return out
