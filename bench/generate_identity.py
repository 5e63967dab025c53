"""The generation benchmark's identity transfer and seams: each engine on the same pairs of different
people, dlib's face descriptor of the output against the source's and the target's, and the seam
score along the blend mask's boundary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.generate_inputs import KEY, PAYLOAD, read_rgb
from generation.landmark import (
    LandmarkSwapper,
    NoFaceInTarget,
    SwapError,
    WatermarkSpec,
    faces,
    identity,
    mesh,
)
from generation.landmark.engine import Composite

SEAM_BAND = 0.06  # of the face's scale (nose bridge → chin), each side of the mask's 0.5 level


@dataclass
class Tally:
    to_source: list[float] = field(default_factory=list)  # cosine similarity of the output to the source
    to_target: list[float] = field(default_factory=list)
    dist_source: list[float] = field(default_factory=list)  # Euclidean descriptor distance
    dist_target: list[float] = field(default_factory=list)
    baseline_to_source: list[float] = field(default_factory=list)  # unswapped target vs source
    baseline_dist: list[float] = field(default_factory=list)
    seam: list[float] = field(default_factory=list)  # seam score (1 = no added edges)
    mirrored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def add_identity(self, d_out: np.ndarray, d_src: np.ndarray, d_tgt: np.ndarray) -> None:
        """One swap's descriptor distances: output to source and target, and the unswapped baseline."""
        self.to_source.append(identity.similarity(d_out, d_src))
        self.to_target.append(identity.similarity(d_out, d_tgt))
        self.dist_source.append(identity.distance(d_out, d_src))
        self.dist_target.append(identity.distance(d_out, d_tgt))
        self.baseline_to_source.append(identity.similarity(d_tgt, d_src))
        self.baseline_dist.append(identity.distance(d_tgt, d_src))


def _gradient(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def seam_score(out: np.ndarray, target: np.ndarray, composite: Composite) -> float | None:
    """Mean gradient magnitude of ``out`` in the band along the mask's boundary (its 0.5 level,
    ± ``SEAM_BAND`` of the face's scale, occluder holes included) over the same in ``target``."""
    if composite.alpha is None:
        return None
    region = composite.region
    inner = (composite.alpha >= 0.5).astype(np.uint8)
    if inner.min() == inner.max():
        return None
    width = max(2.0, SEAM_BAND * mesh.face_scale(composite.dst))
    # Distances in the region padded by the band, so the band may reach beyond the region's box;
    # where the region meets the image's border the mask is carried on past it (replicated): the
    # border of the picture is not a seam.
    pad = int(np.ceil(width)) + 1
    h, w = target.shape[:2]
    sides = (region.y0 == 0, region.y1 == h, region.x0 == 0, region.x1 == w)
    inner = cv2.copyMakeBorder(inner, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    grown = cv2.copyMakeBorder(inner[pad:-pad, pad:-pad], pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    for side, cut in zip(sides, (np.s_[:pad], np.s_[-pad:], np.s_[:, :pad], np.s_[:, -pad:]), strict=True):
        if side:
            inner[cut] = grown[cut]
    d_in = cv2.distanceTransform(inner, cv2.DIST_L2, 5)
    d_out = cv2.distanceTransform(1 - inner, cv2.DIST_L2, 5)
    band = np.where(inner > 0, d_in, d_out) <= width
    y0, x0 = region.y0 - pad, region.x0 - pad
    ys, xs = np.nonzero(band)
    ys, xs = ys + y0, xs + x0
    keep = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    ys, xs = ys[keep], xs[keep]
    # Gradients on a crop around the band only (full 1080p Sobel per swap is wasted work).
    cy0, cy1, cx0, cx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = (slice(max(0, cy0 - 1), cy1 + 1), slice(max(0, cx0 - 1), cx1 + 1))
    oy, ox = crop[0].start, crop[1].start
    g_out = _gradient(np.ascontiguousarray(out[crop]))[ys - oy, xs - ox]
    g_tgt = _gradient(np.ascontiguousarray(target[crop]))[ys - oy, xs - ox]
    return float(g_out.mean() / max(float(g_tgt.mean()), 1e-6))


def composite_of(engine: LandmarkSwapper, source: np.ndarray, target: np.ndarray) -> Composite:
    """What ``engine.swap_image`` does before the watermark, with the mask kept for the seam score."""
    src = engine.prepare_source(source)
    found = faces.detect(target, engine.settings.detect_max_side)
    if not found:
        raise NoFaceInTarget()
    return engine._swap_unmarked(src, target, faces.landmarks(target, found[0]))


def identity_table(
    pairs: Iterator[tuple[Path, Path]],
    count: int,
    engines: dict[str, LandmarkSwapper],
    label: str,
) -> dict[str, Tally]:
    """Each engine on the same ``count`` pairs: a pair that any engine refuses is counted (under
    that engine, with the error's code) and replaced by the next one for all of them."""
    tallies = {name: Tally() for name in engines}
    spec = WatermarkSpec(PAYLOAD, KEY)
    cache: dict[Path, np.ndarray | None] = {}

    def describe(path: Path) -> np.ndarray | None:
        if path not in cache:
            try:
                cache[path] = identity.descriptor(read_rgb(path))
            except SwapError:
                cache[path] = None
        return cache[path]

    first = next(iter(tallies.values()))
    tries = 0
    while len(first.to_source) < count and tries < 3 * count:
        tries += 1
        src_path, tgt_path = next(pairs)
        d_src, d_tgt = describe(src_path), describe(tgt_path)
        if d_src is None or d_tgt is None:
            first.skip("the identity model found no face in an input")
            continue
        source, target = read_rgb(src_path), read_rgb(tgt_path)
        rows: dict[str, tuple[Composite, np.ndarray, np.ndarray]] = {}
        for name, engine in engines.items():
            try:
                comp = composite_of(engine, source, target)
            except SwapError as exc:
                tallies[name].skip(exc.code)
                break
            out = spec.mark(comp.image)  # exactly what swap_image returns
            try:
                rows[name] = (comp, out, identity.descriptor(out))
            except SwapError:
                tallies[name].skip("the identity model found no face in the output")
                break
        if len(rows) < len(engines):
            continue
        for name, (comp, out, d_out) in rows.items():
            tally = tallies[name]
            tally.add_identity(d_out, d_src, d_tgt)
            tally.mirrored += comp.mirrored
            score = seam_score(out, target, comp)
            if score is not None:
                tally.seam.append(score)
        done = len(first.to_source)
        if done % 25 == 0:
            print(f"  {label}: {done}/{count} pairs", flush=True)
    return tallies


def identity_only_table(
    pairs: Iterator[tuple[Path, Path]], count: int, swap: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> Tally:
    """Identity alone, for an engine that exposes no blend mask (SimSwap with official weights)."""
    tally = Tally()
    for _ in range(3 * count):
        if len(tally.to_source) >= count:
            break
        src_path, tgt_path = next(pairs)
        try:
            source, target = read_rgb(src_path), read_rgb(tgt_path)
            d_src, d_tgt = identity.descriptor(source), identity.descriptor(target)
            d_out = identity.descriptor(swap(source, target))
        except SwapError as exc:
            tally.skip(exc.code)
            continue
        except Exception as exc:  # another team's engine: count its failures, do not crash
            tally.skip(type(exc).__name__)
            continue
        tally.add_identity(d_out, d_src, d_tgt)
    return tally
