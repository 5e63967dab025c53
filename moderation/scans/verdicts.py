"""The verdict rule: how the signals on one media item, and the media of one post, become a verdict.

A media item's verdict, strongest evidence first:
  1. FakeME's own watermark found          -> fake      (decided_by=watermark, reason fakeme_watermark)
  2. an intact (valid or trusted) Content Credentials manifest declaring generative AI
                                           -> fake      (decided_by=provenance, reason c2pa_ai_generated)
  3. allow bank match (cleared on appeal)  -> never fake or uncertain (decided_by=bank when it overrode)
  4. known-deepfake bank match             -> fake      (decided_by=bank, reason known_deepfake)
  5. the classifier: P(fake) >= tag threshold          -> fake       (reason classifier)
                     review threshold <= P < tag       -> uncertain  (reason classifier_uncertain)
                     below                             -> real;  no face -> not_applicable
The post is fake if any media is, else uncertain if any is, else real if any is, else
not_applicable. Only a fake post is tagged; an uncertain one goes to a person (reports).

Every signal is reported per media item (``media_signals``): whether it applied, its value, and
when it did not apply, a stable reason code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from detection.engine import AnalysisResult, ImageResult
from moderation.provenance.pdq import BankMatches
from moderation.scans.models import DecidedBy, Verdict

REASON_CLASSIFIER = "classifier"
REASON_CLASSIFIER_UNCERTAIN = "classifier_uncertain"
REASON_KNOWN_DEEPFAKE = "known_deepfake"
REASON_ALLOW_LISTED = "allow_listed"
REASON_WATERMARK = "fakeme_watermark"
REASON_C2PA_AI = "c2pa_ai_generated"
REASON_C2PA_TAMPERED = "c2pa_manifest_tampered"  # reported, decides nothing

# Why a signal did not apply to a media item (the API's `signals.*.reason`).
NO_FACE = "no_face"
FACES_TOO_SMALL = "faces_too_small"
FRAMES_WITHOUT_FACES = "frames_without_faces"
MEDIA_TOO_SMALL_FOR_WATERMARK = "media_too_small_for_watermark"
NO_MANIFEST = "no_manifest"

SIGNALS = ("classifier", "watermark", "content_credentials", "known_fake_bank", "allow_bank")
_DECIDER_RANK = {DecidedBy.WATERMARK: 0, DecidedBy.PROVENANCE: 1, DecidedBy.BANK: 2, DecidedBy.MODEL: 3}


@dataclass(frozen=True)
class Thresholds:
    """The tag threshold and the optional lower review threshold (None: no uncertain band)."""

    tag: float
    review: float | None = None

    def __post_init__(self) -> None:
        if self.review is not None and self.review > self.tag:
            # A platform's own tag threshold below the card's review threshold: no band, not a bad one.
            object.__setattr__(self, "review", None)


# -- hashtags -----------------------------------------------------------------------------------
def tag_key(tag: str) -> str:
    """One spelling for comparing hashtags: case-insensitive, ``#`` optional."""
    return tag.strip().lstrip("#").casefold()


def hashtags_with_tag(hashtags: Sequence[str], tag: str) -> list[str]:
    """The post's hashtags with ``tag`` present exactly once (case-insensitive, ``#`` optional)."""
    key = tag_key(tag)
    out: list[str] = []
    seen = False
    for hashtag in hashtags:
        if tag_key(hashtag) == key:
            if seen:
                continue
            seen = True
        out.append(hashtag)
    if not seen:
        out.append(tag)
    return out


def hashtags_without_tag(hashtags: Iterable[str], tag: str) -> list[str]:
    """The hashtags minus every spelling of ``tag`` (case-insensitive, ``#`` optional)."""
    key = tag_key(tag)
    return [h for h in hashtags if tag_key(h) != key]


# -- one media item -----------------------------------------------------------------------------
def model_verdict(probability: float | None, thresholds: Thresholds) -> str:
    if probability is None:
        return Verdict.NOT_APPLICABLE
    if probability >= thresholds.tag:
        return Verdict.FAKE
    if thresholds.review is not None and probability >= thresholds.review:
        return Verdict.UNCERTAIN
    return Verdict.REAL


def media_decide(
    *,
    probability: float | None,
    thresholds: Thresholds,
    matches: BankMatches,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any] | None = None,
) -> tuple[str, str, list[str]]:
    """(verdict, decided_by, reasons) for one media item; see the module docstring for the order.
    A tampered manifest adds its reason and decides nothing (an absent one is evidence of nothing)."""
    verdict, decided_by, reasons = _decide(probability, thresholds, matches, watermark, credentials or {})
    if (credentials or {}).get("tampered"):
        reasons = [*reasons, REASON_C2PA_TAMPERED]
    return verdict, decided_by, reasons


def _decide(
    probability: float | None,
    thresholds: Thresholds,
    matches: BankMatches,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any],
) -> tuple[str, str, list[str]]:
    model = model_verdict(probability, thresholds)
    model_reasons = {Verdict.FAKE: [REASON_CLASSIFIER], Verdict.UNCERTAIN: [REASON_CLASSIFIER_UNCERTAIN]}
    if watermark and watermark.get("found"):
        return Verdict.FAKE, DecidedBy.WATERMARK, [REASON_WATERMARK]
    if credentials.get("ai_generated"):
        return Verdict.FAKE, DecidedBy.PROVENANCE, [REASON_C2PA_AI]
    if matches.allow:
        if model in (Verdict.FAKE, Verdict.UNCERTAIN):
            return Verdict.REAL, DecidedBy.BANK, [REASON_ALLOW_LISTED]
        return model, DecidedBy.MODEL, [REASON_ALLOW_LISTED]
    if matches.known_fake:
        return Verdict.FAKE, DecidedBy.BANK, [REASON_KNOWN_DEEPFAKE] + model_reasons.get(model, [])
    return model, DecidedBy.MODEL, model_reasons.get(model, [])


def _classifier_signal(result: AnalysisResult, thresholds: Thresholds) -> dict[str, Any]:
    if result.probability is not None:
        return {
            "applied": True,
            "value": round(result.probability, 6),
            "verdict": model_verdict(result.probability, thresholds),
        }
    if isinstance(result, ImageResult):
        reason = FACES_TOO_SMALL if result.small_faces else NO_FACE
    else:
        reason = FRAMES_WITHOUT_FACES
    return {"applied": False, "value": None, "reason": reason}


def _watermark_signal(watermark: dict[str, Any] | None) -> dict[str, Any]:
    if watermark is None:  # too small to carry a mark (or no usable frame): see watermark_check
        return {"applied": False, "value": None, "reason": MEDIA_TOO_SMALL_FOR_WATERMARK}
    return {
        "applied": True,
        "value": bool(watermark.get("found")),
        "generation_id": watermark.get("generation_id"),
    }


def _credentials_signal(credentials: dict[str, Any] | None) -> dict[str, Any]:
    if not credentials or not credentials.get("present"):
        reason = (credentials or {}).get("reason") or NO_MANIFEST
        return {"applied": False, "value": None, "reason": reason}
    return {
        "applied": True,
        "value": credentials.get("state"),  # invalid (tampered) / valid / trusted
        "ai_generated": bool(credentials.get("ai_generated")),
        "signer": credentials.get("signer"),
    }


def media_signals(
    *,
    result: AnalysisResult,
    thresholds: Thresholds,
    matches: BankMatches,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each signal on one media item: ``applied``, its ``value``, and a ``reason`` when it did not apply.
    Both banks are always checked (by SHA-256, and by PDQ for images with a usable hash)."""
    return {
        "classifier": _classifier_signal(result, thresholds),
        "watermark": _watermark_signal(watermark),
        "content_credentials": _credentials_signal(credentials),
        "known_fake_bank": {"applied": True, "value": len(matches.known_fake)},
        "allow_bank": {"applied": True, "value": len(matches.allow)},
    }


@dataclass(frozen=True)
class Assessment:
    """One media item's verdict, who decided it, why, and every signal behind it."""

    verdict: str
    decided_by: str
    reasons: list[str]
    signals: dict[str, dict[str, Any]]


def media_assess(
    *,
    result: AnalysisResult,
    thresholds: Thresholds,
    matches: BankMatches,
    watermark: dict[str, Any] | None,
    credentials: dict[str, Any] | None = None,
) -> Assessment:
    """``media_decide`` and ``media_signals`` of one analysed item; a ``not_applicable`` verdict
    always carries the classifier's reason (no_face, faces_too_small, frames_without_faces)."""
    verdict, decided_by, reasons = media_decide(
        probability=result.probability,
        thresholds=thresholds,
        matches=matches,
        watermark=watermark,
        credentials=credentials,
    )
    signals = media_signals(
        result=result, thresholds=thresholds, matches=matches, watermark=watermark, credentials=credentials
    )
    if verdict == Verdict.NOT_APPLICABLE:
        reasons = [*reasons, signals["classifier"]["reason"]]
    return Assessment(verdict, decided_by, reasons, signals)


# -- the post -------------------------------------------------------------------------------------
def scan_decide(outcomes: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """(verdict, decided_by) of a post from its media's (verdict, decided_by) pairs."""
    for verdict in (Verdict.FAKE, Verdict.UNCERTAIN):
        deciders = [d for v, d in outcomes if v == verdict]
        if deciders:
            return verdict, min(deciders, key=lambda d: _DECIDER_RANK[DecidedBy(d)])
    reals = [d for v, d in outcomes if v == Verdict.REAL]
    if reals:
        return Verdict.REAL, DecidedBy.BANK if DecidedBy.BANK in reals else DecidedBy.MODEL
    return Verdict.NOT_APPLICABLE, DecidedBy.MODEL
