"""The cross-source evaluation: how a model does on sources and methods it never trained on.

Every ``dev-eval`` folder of the data catalog is scored through the product's own path (the
``Detector`` engine: MTCNN, the ×1.3 crop, the calibrated classifier, mirror averaging, the
video sampler and its aggregates), so what is measured is what a platform gets. Reported: for each
real source, the share flagged at the tag (and review) threshold; for each fake source, the share
caught and its ROC AUC against the pooled East Asian reals and against every real source; per clip,
the verdict and score. Nothing here fits anything: dev-eval data only ever measures.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from detection.aggregation import AGGREGATIONS, shift_logit
from detection.engine import Detector
from detection.errors import DetectionError
from detection.model import ModelCard, card_path_for
from detection.training.catalog import Catalog, Source
from detection.training.evaluate import ece
from detection.training.sources import IMAGE_SUFFIXES

VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v"}
CACHE_VERSION = 1
# The clip calibration searched on train-role clips: logit shifts from -3 to +3 in steps of 0.05.
# The real-clip target: a clip calibration may not trade more of the train-role real clips.
CLIP_REAL_FLOOR = 0.9
SHIFT_GRID = tuple(round(-3.0 + 0.05 * i, 2) for i in range(121))


@dataclass
class MediaScore:
    """One file's result: ``probability`` None when no face was found (or it could not be read)."""

    path: str
    source: str
    label: int
    kind: str  # "image" | "video"
    probability: float | None
    aggregate: dict[str, float | None] | None = None  # videos: every aggregate
    error: str | None = None


def media_files(source: Source) -> list[Path]:
    suffixes = VIDEO_SUFFIXES if source.kind == "video" else IMAGE_SUFFIXES
    return sorted(p for p in source.path.rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def score_sources(
    detector: Detector, sources: Sequence[Source], log: Callable[[str], None] = print
) -> list[MediaScore]:
    out: list[MediaScore] = []
    for source in sources:
        files = media_files(source)
        for path in files:
            score = MediaScore(str(path), source.folder, source.label, source.kind, None)
            try:
                if source.kind == "video":
                    result = detector.analyze_video(path)
                    score.aggregate = dict(result.aggregate)
                else:
                    result = detector.analyze_image(path)
                score.probability = result.probability
            except DetectionError as exc:
                score.error = exc.code
            out.append(score)
        log(f"cross-source: {source.folder}: {len(files)} files scored")
    return out


def weights_key(weights: Path, card: ModelCard) -> str:
    """What the scores depend on: the weights' bytes and the card's calibration and scoring."""
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    calib = f"{card.temperature:.6f}:{card.logit_bias:.6f}:{card.test_time_flip}:{card.input_size}"
    if card.video_logit_shift:
        calib += f":{card.video_logit_shift:.6f}"
    return f"v{CACHE_VERSION}-{digest}-{hashlib.sha256(calib.encode()).hexdigest()[:8]}"


def score_catalog(
    weights: Path,
    catalog: Catalog,
    cache_dir: Path,
    *,
    role: str = "dev-eval",
    kinds: tuple[str, ...] = ("image", "video"),
    log: Callable[[str], None] = print,
) -> list[MediaScore]:
    """Scores of every ``role`` file of the catalog by ``weights``, cached by what they depend on."""
    card = ModelCard.from_json(card_path_for(weights))
    cache = cache_dir / "crosssource" / f"{weights_key(weights, card)}-{role}-{'+'.join(kinds)}.json"
    if cache.is_file():
        return [MediaScore(**row) for row in json.loads(cache.read_text())]
    # Every aggregate is kept per clip, so the engine's own default here does not matter.
    detector = Detector(weights, backend="torch", aggregation="mean")
    sources = [s for kind in kinds for s in catalog.select(role=role, kind=kind)]
    scores = score_sources(detector, sources, log)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([asdict(s) for s in scores]))
    return scores


def _auc(fakes: np.ndarray, reals: np.ndarray) -> float:
    if len(fakes) == 0 or len(reals) == 0:
        return math.nan
    y = np.r_[np.ones(len(fakes)), np.zeros(len(reals))]
    return float(roc_auc_score(y, np.r_[fakes, reals]))


def clip_probability(score: MediaScore, aggregation: str) -> float | None:
    return (score.aggregate or {}).get(aggregation) if score.kind == "video" else score.probability


def clip_accuracy(scores: Sequence[MediaScore], aggregation: str, threshold: float) -> dict[str, Any]:
    """Share of fake and real clips judged right; a clip with no face counts as missed / right
    (it would be ``not_applicable``: never tagged)."""
    fake = [s for s in scores if s.kind == "video" and s.label == 1]
    real = [s for s in scores if s.kind == "video" and s.label == 0]

    def judged_fake(s: MediaScore) -> bool:
        p = clip_probability(s, aggregation)
        return p is not None and p >= threshold

    return {
        "fake_right": float(np.mean([judged_fake(s) for s in fake])) if fake else math.nan,
        "real_right": float(np.mean([not judged_fake(s) for s in real])) if real else math.nan,
        "fake_clips": len(fake),
        "real_clips": len(real),
    }


def _shifted(scores: Sequence[MediaScore], shift: float) -> list[MediaScore]:
    return [
        replace(s, aggregate={k: shift_logit(v, shift) for k, v in s.aggregate.items()})
        if s.kind == "video" and s.aggregate
        else s
        for s in scores
    ]


def choose_video_calibration(
    scores: Sequence[MediaScore],
    threshold: float,
    current_shift: float = 0.0,
    min_real_right: float = CLIP_REAL_FLOOR,
) -> tuple[str, float, dict[str, Any]]:
    """The clip aggregate and logit shift for these (train-role) clips at ``threshold``: the most
    fake clips right among the shifts that keep at least ``min_real_right`` of the real clips right
    (a false #Deepfake on a real clip costs a platform more than a miss; balanced accuracy alone let
    a barely separable set buy fakes with reals). When no shift keeps that many reals, the most
    reals right wins. ``scores`` were made with ``current_shift`` already applied (the card's),
    which is undone first. Within the best aggregate, the shift is the middle of the shifts that
    reach its best (the widest margin both ways); ties between aggregates go to the earlier entry of
    ``AGGREGATIONS``. Returns (aggregate, shift, table at that shift)."""
    raw = _shifted(scores, -current_shift) if current_shift else list(scores)

    def merit(row: dict[str, Any]) -> tuple[bool, float, float]:
        fake = row["fake_right"] if not math.isnan(row["fake_right"]) else 0.0
        real = row["real_right"] if not math.isnan(row["real_right"]) else 1.0
        return (real >= min_real_right - 1e-12, fake, real)

    best: tuple[tuple[bool, float, float], int, str, float] | None = None
    for rank, agg in enumerate(AGGREGATIONS):
        merits = {d: merit(clip_accuracy(_shifted(raw, d), agg, threshold)) for d in SHIFT_GRID}
        top = max(merits.values())
        winners = [d for d in SHIFT_GRID if merits[d] == top]
        shift = winners[len(winners) // 2]
        if best is None or (top, -rank) > (best[0], -best[1]):
            best = (top, rank, agg, shift)
    assert best is not None
    _, _, agg, shift = best
    table = {a: clip_accuracy(_shifted(raw, shift), a, threshold) for a in AGGREGATIONS}
    table["shift"] = shift
    table["min_real_right"] = min_real_right
    table["unshifted"] = {a: clip_accuracy(raw, a, threshold) for a in AGGREGATIONS}
    return agg, shift, table


def cross_source_report(
    scores: Sequence[MediaScore],
    catalog: Catalog,
    threshold: float,
    review_threshold: float | None,
    aggregation: str,
    video_shift: float = 0.0,
) -> dict[str, Any]:
    """Per-source rows, the clip table and the headline (the worst row of each kind).
    ``video_shift`` is the clip logit shift the scores were made with (shown, not applied)."""
    by_folder = {s.folder: s for s in catalog.sources}
    images = [s for s in scores if s.kind == "image"]
    real_sources = sorted({s.source for s in images if s.label == 0})
    fake_sources = sorted({s.source for s in images if s.label == 1})

    def probs(source: str) -> np.ndarray:
        return np.array([s.probability for s in images if s.source == source and s.probability is not None])

    ea_reals = [src for src in real_sources if by_folder[src].east_asian or "korean" in by_folder[src].people]
    pooled_ea = np.concatenate([probs(src) for src in ea_reals]) if ea_reals else np.zeros(0)
    reals: dict[str, Any] = {}
    for src in real_sources:
        p = probs(src)
        n = sum(1 for s in images if s.source == src)
        reals[src] = {
            "n": n,
            "scored": len(p),
            "no_face": n - len(p),
            "east_asian": src in ea_reals,
            # Shares of all its images: one with no face is not_applicable, i.e. never tagged.
            "flagged": float(np.sum(p >= threshold) / n) if n else math.nan,
            "review": float(np.sum(p >= review_threshold) / n)
            if n and review_threshold is not None
            else math.nan,
            "mean_p": float(p.mean()) if len(p) else math.nan,
        }
    fakes: dict[str, Any] = {}
    for src in fake_sources:
        p = probs(src)
        n = sum(1 for s in images if s.source == src)
        per_real = {r: _auc(p, probs(r)) for r in real_sources}
        fakes[src] = {
            "n": n,
            "scored": len(p),
            "no_face": n - len(p),
            # Caught among all its images: one with no face is not_applicable, i.e. not tagged.
            "caught": float(np.sum(p >= threshold) / n) if n else math.nan,
            "auc_east_asian": _auc(p, pooled_ea),
            "auc_by_real": per_real,
            "auc_worst_real": min((v for v in per_real.values() if not math.isnan(v)), default=math.nan),
        }
    clips = []
    for s in scores:
        if s.kind != "video":
            continue
        p = clip_probability(s, aggregation)
        verdict = "not_applicable" if p is None else ("fake" if p >= threshold else "real")
        clips.append(
            {
                "path": Path(s.path).name,
                "source": s.source,
                "label": s.label,
                "probability": p,
                "aggregate": s.aggregate,
                "verdict": verdict,
                "error": s.error,
            }
        )
    clip_table = {a: clip_accuracy(scores, a, threshold) for a in AGGREGATIONS}
    scored = [s for s in images if s.probability is not None]
    ea_rows = [v for k, v in reals.items() if v["east_asian"] and not math.isnan(v["flagged"])]
    worst_real = max(ea_rows, key=lambda v: v["flagged"], default=None)
    worst_real_name = next((k for k, v in reals.items() if v is worst_real), None)
    fake_rows = [(k, v) for k, v in fakes.items() if not math.isnan(v["auc_east_asian"])]
    worst_fake_name, worst_fake = min(fake_rows, key=lambda kv: kv[1]["auc_east_asian"], default=(None, None))
    headline = {
        "worst_east_asian_real": worst_real_name,
        "worst_east_asian_real_flagged": worst_real["flagged"] if worst_real else math.nan,
        "worst_fake": worst_fake_name,
        "worst_fake_auc_east_asian": worst_fake["auc_east_asian"] if worst_fake else math.nan,
        "fake_clips_right": clip_table[aggregation]["fake_right"],
        "real_clips_right": clip_table[aggregation]["real_right"],
        "pooled_auc_east_asian": _auc(np.array([s.probability for s in scored if s.label == 1]), pooled_ea),
        "pooled_ece": ece(
            np.array([s.probability for s in scored]), np.array([s.label for s in scored], np.float64)
        ),
    }
    return {
        "threshold": threshold,
        "review_threshold": review_threshold,
        "aggregation": aggregation,
        "video_shift": video_shift,
        "east_asian_reals": ea_reals,
        "reals": reals,
        "fakes": fakes,
        "clips": clips,
        "clip_table": clip_table,
        "headline": headline,
    }
