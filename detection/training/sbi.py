"""Self-blended images (Shiohara & Yamasaki, CVPR 2022), written for this project.

A face is blended with a colour- and geometry-jittered copy of itself inside a mask
built from its landmarks, which leaves exactly the artifacts of a face swap (a blending
boundary, a colour and sharpness mismatch) without a second identity. ``hardness`` in
[0, 1] runs an easy-to-hard curriculum: 0 gives hard-edged masks and strong colour shifts,
1 gives the paper's settings (soft masks, small shifts, partial blend ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class BlendResult:
    image: np.ndarray  # RGB uint8
    mask: np.ndarray  # float32 [0, 1], the blend weight actually used per pixel


def _lerp(easy: float, hard: float, h: float) -> float:
    return easy + (hard - easy) * h


def face_hull(
    landmarks: np.ndarray, shape: tuple[int, int], rng: np.random.Generator, hardness: float
) -> np.ndarray:
    """Binary face-region mask from the five MTCNN landmarks.

    Five points do not outline a face, so we place an outline in the face's own frame
    (eye axis and eye-to-mouth axis): forehead above the brows, cheeks, jaw and chin,
    jitter every vertex (the paper's elastic deformation plays this role) and fill the hull.
    """
    left_eye, right_eye, _nose, mouth_l, mouth_r = landmarks.astype(np.float64)
    eye_c = (left_eye + right_eye) / 2
    mouth_c = (mouth_l + mouth_r) / 2
    u = right_eye - left_eye
    eye_dist = max(np.linalg.norm(u), 1.0)
    u /= eye_dist
    v = mouth_c - eye_c
    down = max(np.linalg.norm(v), 1.0)
    v /= down
    # Outline in units of (eye distance along u, eye-to-mouth distance along v), from the eye centre.
    outline = np.array(
        [
            (-0.95, -0.75),
            (-0.5, -1.0),
            (0.0, -1.08),
            (0.5, -1.0),
            (0.95, -0.75),
            (1.1, 0.0),
            (1.05, 0.7),
            (0.8, 1.35),
            (0.35, 1.7),
            (0.0, 1.78),
            (-0.35, 1.7),
            (-0.8, 1.35),
            (-1.05, 0.7),
            (-1.1, 0.0),
        ]
    )
    # Random overall shrink: the paper also blends inner-face-only regions.
    scale = rng.uniform(0.7, 1.0)
    jitter = rng.normal(0.0, 0.06 + 0.04 * hardness, outline.shape)
    pts = (
        eye_c
        + ((outline * scale + jitter)[:, :1] * eye_dist) * u
        + ((outline * scale + jitter)[:, 1:] * down) * v
    )
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.int32)), 1)
    return mask.astype(np.float32)


def _colour_jitter(img: np.ndarray, rng: np.random.Generator, hardness: float) -> np.ndarray:
    out = img.astype(np.float32)
    # Easy: large shifts; hard: the paper's ranges (RGB ±20, HSV ±0.3 of a small scale, contrast ±0.1).
    rgb_max = _lerp(45.0, 20.0, hardness)
    rgb_min = _lerp(15.0, 0.0, hardness)
    shift = rng.uniform(rgb_min, rgb_max, 3) * rng.choice([-1.0, 1.0], 3)
    out += shift
    contrast = 1.0 + rng.uniform(-1, 1) * _lerp(0.25, 0.1, hardness)
    brightness = rng.uniform(-1, 1) * _lerp(25.0, 10.0, hardness)
    mean = out.mean(axis=(0, 1), keepdims=True)
    out = (out - mean) * contrast + mean + brightness
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-1, 1) * _lerp(10, 5, hardness)) % 180
        hsv[..., 1] *= 1 + rng.uniform(-1, 1) * _lerp(0.4, 0.3, hardness)
        hsv[..., 2] *= 1 + rng.uniform(-1, 1) * _lerp(0.3, 0.15, hardness)
        out = cv2.cvtColor(np.clip(hsv, 0, [179, 255, 255]).astype(np.uint8), cv2.COLOR_HSV2RGB)
    return out


def _sharpness_jitter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        h, w = img.shape[:2]
        f = rng.uniform(0.4, 0.7)
        small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    blurred = cv2.GaussianBlur(img, (0, 0), 1.0)
    amount = rng.uniform(0.3, 1.0)
    return np.clip(
        img.astype(np.float32) * (1 + amount) - blurred.astype(np.float32) * amount, 0, 255
    ).astype(np.uint8)


def _geometry_jitter(img: np.ndarray, rng: np.random.Generator, hardness: float) -> np.ndarray:
    h, w = img.shape[:2]
    scale = 1.0 + rng.uniform(-1, 1) * _lerp(0.06, 0.05, hardness)
    tx, ty = rng.uniform(-1, 1, 2) * _lerp(0.04, 0.03, hardness) * np.array([w, h])
    m = np.array([[scale, 0, (1 - scale) * w / 2 + tx], [0, scale, (1 - scale) * h / 2 + ty]], np.float32)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)


def self_blend(
    image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, hardness: float = 1.0
) -> BlendResult:
    """Blend ``image`` with a jittered copy of itself inside a landmark mask."""
    hardness = float(np.clip(hardness, 0.0, 1.0))
    h, w = image.shape[:2]
    source = _colour_jitter(image, rng, hardness)
    if rng.random() < _lerp(0.8, 0.6, hardness):
        source = _sharpness_jitter(source, rng)
    if rng.random() < 0.8:
        source = _geometry_jitter(source, rng, hardness)
    mask = face_hull(landmarks, (h, w), rng, hardness)
    # Mask softness: hard edges first, then the paper's random Gaussian feathering.
    face_px = float(np.sqrt(mask.sum()) + 1.0)
    sigma = rng.uniform(0.0, _lerp(0.01, 0.08, hardness)) * face_px
    if sigma > 0.3:
        mask = cv2.GaussianBlur(mask, (0, 0), sigma)
        mask /= max(float(mask.max()), 1e-6)
    ratio = 1.0 if rng.random() < _lerp(1.0, 0.5, hardness) else float(rng.choice([0.25, 0.5, 0.75]))
    if ratio < 0.5 and hardness < 0.5:
        ratio = 0.5
    mask = mask * ratio
    blended = source.astype(np.float32) * mask[..., None] + image.astype(np.float32) * (1 - mask[..., None])
    return BlendResult(np.clip(blended + 0.5, 0, 255).astype(np.uint8), mask.astype(np.float32))


def boundary_map(mask: np.ndarray, out_size: int) -> np.ndarray:
    """Face X-ray target ``4*M*(1-M)`` on an ``out_size`` grid, max-normalised.

    A hard-edged mask has no soft band, so the mask is first feathered a little: the
    target always marks where the two images meet, however sharp the cut was.
    """
    m = mask / max(float(mask.max()), 1e-6)
    sigma = max(1.0, mask.shape[0] / (out_size * 1.5))
    m = cv2.GaussianBlur(m, (0, 0), sigma)
    b = 4.0 * m * (1.0 - m)
    b = cv2.resize(b, (out_size, out_size), interpolation=cv2.INTER_AREA)
    peak = float(b.max())
    return (b / peak).astype(np.float32) if peak > 1e-3 else np.zeros((out_size, out_size), np.float32)
