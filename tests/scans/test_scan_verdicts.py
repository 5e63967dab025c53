"""The verdict rule with the uncertain band, and the per-signal breakdown of every scanned medium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.provenance.pdq import BankMatch, BankMatches
from moderation.scans.models import DecidedBy, Scan, Verdict
from moderation.scans.verdicts import Thresholds, media_decide, scan_decide
from tests.detection.fakeme_media import write_video
from tests.support.scans import upload

SCANS = "/api/v1/scans"
BAND = Thresholds(tag=0.8, review=0.5)


def _match(bank: str) -> BankMatch:
    return BankMatch(entry_id=None, bank=bank, source="platform", distance=0)


@pytest.mark.parametrize(
    ("probability", "matches", "watermark", "expected"),
    [
        (0.9, BankMatches(), None, (Verdict.FAKE, DecidedBy.MODEL, ["classifier"])),
        (0.6, BankMatches(), None, (Verdict.UNCERTAIN, DecidedBy.MODEL, ["classifier_uncertain"])),
        (0.5, BankMatches(), None, (Verdict.UNCERTAIN, DecidedBy.MODEL, ["classifier_uncertain"])),
        (0.3, BankMatches(), None, (Verdict.REAL, DecidedBy.MODEL, [])),
        (None, BankMatches(), None, (Verdict.NOT_APPLICABLE, DecidedBy.MODEL, [])),
        (0.6, BankMatches(), {"found": True}, (Verdict.FAKE, DecidedBy.WATERMARK, ["fakeme_watermark"])),
        (0.6, BankMatches(allow=[_match("allow")]), None, (Verdict.REAL, DecidedBy.BANK, ["allow_listed"])),
        (0.3, BankMatches(allow=[_match("allow")]), None, (Verdict.REAL, DecidedBy.MODEL, ["allow_listed"])),
        (
            0.6,
            BankMatches(known_fake=[_match("known_fake")]),
            None,
            (Verdict.FAKE, DecidedBy.BANK, ["known_deepfake", "classifier_uncertain"]),
        ),
    ],
)
def test_each_media_verdict_follows_the_documented_order(
    probability: float | None, matches: BankMatches, watermark: dict | None, expected: tuple
) -> None:
    got = media_decide(probability=probability, thresholds=BAND, matches=matches, watermark=watermark)
    assert got == expected


def test_a_post_is_fake_before_uncertain_before_real() -> None:
    model, bank = DecidedBy.MODEL, DecidedBy.BANK
    assert scan_decide([(Verdict.UNCERTAIN, model), (Verdict.FAKE, bank)]) == (Verdict.FAKE, bank)
    assert scan_decide([(Verdict.REAL, model), (Verdict.UNCERTAIN, model)]) == (Verdict.UNCERTAIN, model)
    assert scan_decide([(Verdict.NOT_APPLICABLE, model), (Verdict.REAL, bank)]) == (Verdict.REAL, bank)
    assert scan_decide([(Verdict.NOT_APPLICABLE, model)]) == (Verdict.NOT_APPLICABLE, model)


def test_no_band_without_a_review_threshold_or_below_a_lowered_tag_threshold() -> None:
    plain = media_decide(probability=0.6, thresholds=Thresholds(0.8), matches=BankMatches(), watermark=None)
    assert plain[0] == Verdict.REAL
    # A platform that tags from 0.4 with the card's review threshold 0.5: no band at all.
    assert Thresholds(0.4, 0.5).review is None


# -- through the API ---------------------------------------------------------------------------------
def _scan(client: APIClient, data: bytes, **fields: object) -> dict:
    response = client.post(SCANS, {"media": upload("p.jpg", data), **fields}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def _bracket(platform: Platform, probability: float) -> None:
    """Set the platform's thresholds so that ``probability`` falls in the middle of the band."""
    platform.threshold = probability + (1.0 - probability) / 2
    platform.review_threshold = probability / 2
    platform.save()


def test_a_score_in_the_band_is_uncertain_and_never_tagged(
    api: APIClient, platform: Platform, face_jpeg: bytes
) -> None:
    p = _scan(api, face_jpeg)["probability"]
    _bracket(platform, p)
    body = _scan(api, face_jpeg, external_id="post-u", hashtags=["#moon"])
    assert body["verdict"] == "uncertain" and body["decided_by"] == "model"
    assert body["reasons"] == ["classifier_uncertain"]
    assert body["tagged"] is False and body["hashtags"] == ["#moon"]
    assert body["model"]["threshold"] == pytest.approx(platform.threshold)
    assert body["model"]["review_threshold"] == pytest.approx(platform.review_threshold)
    classifier = body["media"][0]["signals"]["classifier"]
    assert classifier == {"applied": True, "value": pytest.approx(p, abs=1e-6), "verdict": "uncertain"}
    scan = Scan.objects.get(pk=body["id"])
    assert (scan.verdict, scan.review_threshold) == ("uncertain", pytest.approx(platform.review_threshold))
    # The same photo above the tag threshold is fake and tagged; below the band, real.
    platform.threshold, platform.review_threshold = p / 2, p / 4
    platform.save()
    assert _scan(api, face_jpeg, hashtags=["#moon"])["hashtags"] == ["#moon", platform.fake_hashtag]
    platform.threshold, platform.review_threshold = min(1.0, p + 0.02), min(1.0, p + 0.01)
    platform.save()
    assert _scan(api, face_jpeg)["verdict"] == "real"


def test_every_signal_says_whether_it_applied_and_why_not(
    api: APIClient, face_jpeg: bytes, no_face_jpeg: bytes, astronaut: np.ndarray
) -> None:
    signals = _scan(api, face_jpeg)["media"][0]["signals"]
    assert set(signals) == {"classifier", "watermark", "content_credentials", "known_fake_bank", "allow_bank"}
    assert signals["watermark"] == {"applied": True, "value": False, "generation_id": None}
    assert signals["known_fake_bank"] == {"applied": True, "value": 0}
    assert signals["allow_bank"] == {"applied": True, "value": 0}

    none = _scan(api, no_face_jpeg)
    assert none["media"][0]["signals"]["classifier"] == {"applied": False, "value": None, "reason": "no_face"}
    assert none["verdict"] == "not_applicable" and none["reasons"] == ["no_face"]

    # The astronaut's face shrunk to ~28 px on a 600 px canvas: MTCNN sees it only below the minimum.
    canvas = np.full((600, 600, 3), 128, np.uint8)
    head = cv2.resize(astronaut[0:300, 100:400], (48, 48), interpolation=cv2.INTER_AREA)
    canvas[276:324, 276:324] = head
    small = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes()
    tiny = api.post(SCANS, {"media": upload("s.png", small, "image/png")}, format="multipart").json()
    assert tiny["verdict"] == "not_applicable" and tiny["reasons"] == ["faces_too_small"]
    assert tiny["media"][0]["signals"]["classifier"] == {
        "applied": False,
        "value": None,
        "reason": "faces_too_small",
    }

    # Too small to carry a watermark: the signal says so instead of a null.
    thumb = cv2.imencode(".png", cv2.resize(cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR), (96, 96)))[1]
    little = api.post(SCANS, {"media": upload("t.png", thumb.tobytes(), "image/png")}, format="multipart")
    assert little.json()["media"][0]["signals"]["watermark"] == {
        "applied": False,
        "value": None,
        "reason": "media_too_small_for_watermark",
    }


def test_a_video_without_faces_says_so_in_its_signals(
    api: APIClient, tmp_path: Path, django_capture_on_commit_callbacks: Callable
) -> None:
    rng = np.random.default_rng(0)
    clip = write_video(
        tmp_path / "empty.mp4", lambda i: rng.integers(90, 110, (240, 320, 3), dtype=np.uint8), 20, fps=5.0
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            SCANS, {"media": upload("v.mp4", clip.read_bytes(), "video/mp4")}, format="multipart"
        )
    done = api.get(response["Location"]).json()
    assert done["verdict"] == "not_applicable" and done["reasons"] == ["frames_without_faces"]
    signals = done["media"][0]["signals"]
    assert signals["classifier"] == {"applied": False, "value": None, "reason": "frames_without_faces"}
    assert signals["watermark"]["applied"] is True and signals["watermark"]["value"] is False
    # the clip's manifest is read from the stored file (streamed): this one has none
    assert signals["content_credentials"] == {"applied": False, "value": None, "reason": "no_manifest"}
    assert done["media"][0]["content_credentials"]["present"] is False
