"""MTCNN face detection, driven by us around facenet-pytorch's three networks.

facenet-pytorch's own driver spends about half of a 1080p detection outside its networks:
every pyramid level and every candidate crop is an ``interpolate(mode="area")`` call on a
float copy of the whole image, one Python-level call per candidate. Area resampling is an
average over integer pixel bins (``adaptive_avg_pool2d``: bin ``i`` of ``n`` over ``m``
pixels spans ``floor(i*m/n)`` to ``ceil((i+1)*m/n)``), so every level and every crop can
be read off one integral image with four gathers, vectorised over all candidates. The
networks, thresholds, pyramid, box arithmetic and NMS order are facenet-pytorch's, so the
boxes, scores and landmarks are the same up to float rounding (checked in the tests).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
import torch

THRESHOLDS = (0.6, 0.7, 0.7)  # P-net, R-net, O-net score thresholds (facenet-pytorch's defaults)
FACTOR = 0.709  # pyramid scale step
_NETS_LOCK = threading.Lock()
_NETS: tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module] | None = None


def _nets() -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """P-, R- and O-net with the weights bundled in the facenet-pytorch wheel; loaded once per process."""
    global _NETS
    with _NETS_LOCK:
        if _NETS is None:
            from facenet_pytorch.models.mtcnn import ONet, PNet, RNet  # slow import: only when needed

            nets = (PNet(), RNet(), ONet())
            for net in nets:
                net.eval().requires_grad_(False)
            _NETS = nets
        return _NETS


@dataclass(frozen=True)
class Detections:
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2, float64
    scores: np.ndarray  # (N,)
    landmarks: np.ndarray  # (N, 5, 2) x, y


def _bins(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of ``adaptive_avg_pool`` bins mapping ``length`` pixels to ``out``."""
    i = np.arange(out, dtype=np.intp)
    return (i * length) // out, ((i + 1) * length + out - 1) // out


class _AreaSampler:
    """Area resampling of one image and of boxes in it, read off its integral image."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.height, self.width = rgb.shape[:2]
        # int32 sums are exact up to 2**31 / 255 pixels (a 2900 px square); float64 beyond.
        depth = cv2.CV_32S if self.height * self.width < 8_000_000 else cv2.CV_64F
        self.integral = cv2.integral(np.ascontiguousarray(rgb), sdepth=depth)  # (H+1, W+1, 3)

    def level(self, out_h: int, out_w: int) -> np.ndarray:
        """The whole image area-resampled to ``out_h × out_w`` (one pyramid level), float32 HWC."""
        ys, ye = _bins(self.height, out_h)
        xs, xe = _bins(self.width, out_w)
        s = self.integral
        rows = np.take(s, ye, axis=0) - np.take(s, ys, axis=0)  # separable: rows, then columns
        total = (np.take(rows, xe, axis=1) - np.take(rows, xs, axis=1)).astype(np.float32)
        total /= ((ye - ys)[:, None] * (xe - xs)[None, :]).astype(np.float32)[..., None]
        return total

    def regions(
        self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, size: int
    ) -> np.ndarray:
        """``(N, size, size, 3)`` float32: region ``[y0:y1, x0:x1]`` of each box, area-resampled."""
        idx = np.arange(size, dtype=np.intp)
        stride = self.integral.shape[1]
        flat = self.integral.reshape(-1, 3)
        hy, wx = (y1 - y0)[:, None], (x1 - x0)[:, None]
        ys = y0[:, None] + (idx * hy) // size
        ye = y0[:, None] + ((idx + 1) * hy + size - 1) // size
        xs = x0[:, None] + (idx * wx) // size
        xe = x0[:, None] + ((idx + 1) * wx + size - 1) // size
        top, bottom = (ys * stride)[:, :, None], (ye * stride)[:, :, None]
        left, right = xs[:, None, :], xe[:, None, :]
        total = flat[bottom + right] - flat[top + right] - flat[bottom + left] + flat[top + left]
        count = (ye - ys)[:, :, None] * (xe - xs)[:, None, :]
        return total.astype(np.float32) / count.astype(np.float32)[..., None]


def _to_input(hwc: np.ndarray) -> torch.Tensor:
    """Float HWC (one image) or NHWC pixels → the nets' normalised NCHW input, channels-last in
    memory: this torch's NCHW max-pooling is 3-8× slower than its channels-last one."""
    x = torch.from_numpy(hwc)
    x = x.unsqueeze(0) if x.dim() == 3 else x
    return ((x - 127.5) * 0.0078125).permute(0, 3, 1, 2)


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """torchvision's NMS (IoU over areas ``(x2-x1)*(y2-y1)``, float32), indices best first."""
    from torchvision.ops import nms

    if len(boxes) == 0:
        return np.zeros(0, dtype=np.intp)
    return nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).numpy()


def _nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS by overlap over the smaller box (+1 pixel areas): MTCNN's last stage."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)  # ascending: the best is taken from the end
    keep = []
    while order.size:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        order = rest[w * h / np.minimum(area[i], area[rest]) <= threshold]
    return np.asarray(keep, dtype=np.intp)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown (or shrunk) to squares of their longer side about their centre."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _refine(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Apply the nets' box regression (offsets in units of the box size, +1 pixel convention)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


class MTCNN:
    """Three-stage cascade: P-net over an image pyramid, R-net at 24 px, O-net at 48 px.

    All box arithmetic is float32, as in facenet-pytorch, so that borderline NMS overlaps
    (P-net boxes sit on a pixel grid, so IoU is often exactly 0.5) resolve the same way.
    """

    def __init__(self, thresholds: tuple[float, float, float] = THRESHOLDS, factor: float = FACTOR) -> None:
        self.thresholds = thresholds
        self.factor = factor

    def detect(self, rgb: np.ndarray, min_face_size: float) -> Detections:
        """Faces in an RGB uint8 image, searched down to about ``min_face_size`` pixels."""
        empty = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))
        pnet, rnet, onet = _nets()
        sampler = _AreaSampler(rgb)
        with torch.inference_mode():
            boxes = self._proposals(pnet, sampler, min_face_size)
            if len(boxes):
                boxes, _ = self._stage(rnet, sampler, boxes, 24, self.thresholds[1])
            if not len(boxes):
                return empty
            boxes, points = self._stage(onet, sampler, _square(boxes), 48, self.thresholds[2])
        if not len(boxes):
            return empty
        keep = _nms_min(boxes[:, :4], boxes[:, 4], 0.7)
        boxes, points = boxes[keep], points[keep]
        return Detections(
            boxes[:, :4].astype(np.float64), boxes[:, 4].astype(np.float64), points.astype(np.float64)
        )

    def _proposals(self, pnet: torch.nn.Module, sampler: _AreaSampler, min_face_size: float) -> np.ndarray:
        """P-net candidates (x1, y1, x2, y2, score), regressed and squared, over the whole pyramid."""
        h, w = sampler.height, sampler.width
        scale = 12.0 / min_face_size
        side = min(h, w) * scale
        found = []
        while side >= 12:
            reg, prob = pnet(_to_input(sampler.level(int(h * scale + 1), int(w * scale + 1))))
            prob, reg = prob[0, 1].numpy(), reg[0].numpy()
            ys, xs = np.nonzero(prob >= self.thresholds[0])
            if len(ys):
                # Each P-net output cell is a 12 px window at stride 2 of this level.
                cell = np.stack([xs, ys], axis=1).astype(np.float32)
                inv = np.float32(scale)
                cand = np.concatenate(
                    [
                        np.floor((2 * cell + 1) / inv),
                        np.floor((2 * cell + 12) / inv),
                        prob[ys, xs, None],
                        reg[:, ys, xs].T,
                    ],
                    axis=1,
                ).astype(np.float32)
                found.append(cand[_nms(cand[:, :4], cand[:, 4], 0.5)])
            scale *= self.factor
            side *= self.factor
        if not found:
            return np.zeros((0, 5), np.float32)
        cand = np.concatenate(found)
        cand = cand[_nms(cand[:, :4], cand[:, 4], 0.7)]
        bw, bh = cand[:, 2] - cand[:, 0], cand[:, 3] - cand[:, 1]
        boxes = np.stack(
            [
                cand[:, 0] + cand[:, 5] * bw,
                cand[:, 1] + cand[:, 6] * bh,
                cand[:, 2] + cand[:, 7] * bw,
                cand[:, 3] + cand[:, 8] * bh,
                cand[:, 4],
            ],
            axis=1,
        )
        return _square(boxes)

    @staticmethod
    def _crops(sampler: _AreaSampler, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Area-resampled crops of the boxes (truncated to whole pixels, clipped to the image; no
        padding, as facenet-pytorch does it) and which boxes were non-empty."""
        b = np.trunc(boxes[:, :4]).astype(np.intp)
        x0 = np.maximum(b[:, 0], 1) - 1
        y0 = np.maximum(b[:, 1], 1) - 1
        x1 = np.minimum(b[:, 2], sampler.width)
        y1 = np.minimum(b[:, 3], sampler.height)
        ok = (x1 > x0) & (y1 > y0)
        return sampler.regions(x0[ok], y0[ok], x1[ok], y1[ok], size), ok

    def _stage(
        self, net: torch.nn.Module, sampler: _AreaSampler, boxes: np.ndarray, size: int, threshold: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """R-net (24 px) or O-net (48 px): rescore and regress; O-net also places five landmarks."""
        crops, ok = self._crops(sampler, boxes, size)
        boxes = boxes[ok]
        if not len(boxes):
            return boxes, np.zeros((0, 5, 2), np.float32)
        out = [o.numpy() for o in net(_to_input(crops))]
        reg, prob = out[0], out[-1][:, 1]
        passed = prob > threshold
        boxes = np.concatenate([boxes[passed, :4], prob[passed, None]], axis=1)
        reg = reg[passed]
        if size == 24:
            keep = _nms(boxes[:, :4], boxes[:, 4], 0.7)
            return _refine(boxes[keep], reg[keep]), np.zeros((0, 5, 2), np.float32)
        pts = out[1][passed]
        bw = boxes[:, 2] - boxes[:, 0] + 1
        bh = boxes[:, 3] - boxes[:, 1] + 1
        points = np.stack(
            [bw[:, None] * pts[:, :5] + boxes[:, 0:1] - 1, bh[:, None] * pts[:, 5:] + boxes[:, 1:2] - 1],
            axis=2,
        )
        return _refine(boxes, reg), points
