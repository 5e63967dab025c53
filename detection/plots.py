"""Pictures for humans: heatmap overlays on face crops and a per-frame video timeline."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from detection.results import VideoResult


def _png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def heatmap_overlay_png(crop: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> bytes:
    """PNG of the crop with the heatmap (values in [0, 1]) drawn over it in the JET colour map.

    The blend weight follows the heat, so cool regions leave the face readable.
    """
    h, w = crop.shape[:2]
    heat = np.clip(np.nan_to_num(heatmap.astype(np.float32)), 0.0, 1.0)
    if heat.shape != (h, w):
        heat = cv2.resize(heat, (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.cvtColor(
        cv2.applyColorMap(np.uint8(np.rint(heat * 255)), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB
    )
    weight = (alpha * (0.35 + 0.65 * heat))[:, :, None]
    blended = crop.astype(np.float32) * (1.0 - weight) + colour.astype(np.float32) * weight
    return _png(np.clip(np.rint(blended), 0, 255).astype(np.uint8))


def timeline_png(
    video_result: VideoResult, width_in: float = 8.0, height_in: float = 3.0, dpi: int = 100
) -> bytes:
    """Per-frame P(fake) against time, the decision threshold, and frames where no face was found."""
    # Figure + Agg canvas directly (not pyplot): no global state, safe in worker threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = video_result.frames
    # NaN where a frame has no face: the line breaks there instead of bridging the gap.
    times = [f.timestamp for f in frames]
    probs = [math.nan if f.probability is None else f.probability for f in frames]
    no_face: Sequence[float] = [f.timestamp for f in frames if f.probability is None]
    threshold = video_result.model.threshold

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if any(f.probability is not None for f in frames):
        ax.plot(times, probs, "-o", color="#1f4e99", markersize=3.5, linewidth=1.2, label="P(fake) per frame")
    half = 0.5 / video_result.sample_fps if video_result.sample_fps > 0 else 0.25
    for i, t in enumerate(no_face):  # shaded, so "no face" never reads as "P(fake) = 0"
        ax.axvspan(
            t - half, t + half, color="#bbbbbb", alpha=0.35, linewidth=0, label="no face" if i == 0 else None
        )
    ax.axhline(threshold, color="#c0392b", linestyle="--", linewidth=1.0, label=f"threshold {threshold:.2f}")
    ax.set_ylim(0.0, 1.0)
    end = max(video_result.duration_s or 0.0, max((f.timestamp for f in frames), default=0.0))
    ax.set_xlim(0.0, max(end, 1e-3))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("P(fake)")
    probability = "n/a" if video_result.probability is None else f"{video_result.probability:.3f}"
    ax.set_title(f"{video_result.verdict}  ·  {video_result.aggregation} = {probability}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
