"""When the watermark or a bank decides against the model, the console says so beside the model's score."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia
from reports.services.reports import report_create
from tests.support.reports import scanned_post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("decided_by", "reasons", "words"),
    [
        ("watermark", ["fakeme_watermark"], "overridden by FakeME watermark"),
        ("bank", ["known_deepfake"], "overridden by known-deepfake bank"),
        ("bank", ["allow_listed"], "overridden by allow bank"),
    ],
)
def test_an_override_is_named_next_to_the_models_own_score(
    staff_client: Client, platform: Platform, face_jpeg: bytes, decided_by: str, reasons: list, words: str
) -> None:
    verdict = "real" if "allow_listed" in reasons else "fake"
    scan = scanned_post(platform, external_id="post-o", image=face_jpeg, probability=0.06, verdict=verdict)
    Scan.objects.filter(pk=scan.pk).update(decided_by=decided_by, reasons=reasons, threshold=0.8)
    ScanMedia.objects.filter(scan=scan).update(decided_by=decided_by, reasons=reasons)
    item = report_create(
        platform=platform, external_post_id="post-o", reporter_id="r", category="other", scan_id=scan.pk
    ).item
    item.scan, item.probability = scan, 0.06
    item.save()
    for url in (reverse("console:scan", args=[scan.pk]), reverse("console:item", args=[item.pk])):
        body = staff_client.get(url).content.decode()
        assert f"model 0.06 — {words}" in body, url
        # The model's low score is not shown in the colour of a "real" score beside the badge.
        assert not re.search(r'class="score-lo">P\(fake\) 0\.060', body), url
    queue = staff_client.get(reverse("console:queue")).content.decode()
    assert f"model 0.06 — {words}" in queue


def test_a_model_decision_shows_the_score_alone(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    scan = scanned_post(platform, external_id="post-m", image=face_jpeg, probability=0.91, verdict="fake")
    body = staff_client.get(reverse("console:scan", args=[scan.pk])).content.decode()
    assert "overridden" not in body and "P(fake) 0.910" in body


def test_the_manifest_panel_and_a_provenance_override(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    scan = scanned_post(platform, external_id="post-c", image=face_jpeg, probability=0.04, verdict="fake")
    credentials = {
        "present": True,
        "state": "trusted",
        "signer": "Studio generator",
        "issuer": "Studio CA",
        "claim_generator": "Studio 4.1",
        "signed_at": None,
        "actions": [
            {
                "action": "c2pa.created",
                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            }
        ],
        "ingredients": 2,
        "ai_generated": True,
        "tampered": False,
        "failures": [],
    }
    Scan.objects.filter(pk=scan.pk).update(decided_by="provenance", reasons=["c2pa_ai_generated"])
    ScanMedia.objects.filter(scan=scan).update(
        decided_by="provenance", reasons=["c2pa_ai_generated"], credentials=credentials
    )
    body = staff_client.get(reverse("console:scan", args=[scan.pk])).content.decode()
    assert "model 0.04 — overridden by Content Credentials (declared AI-generated)" in body
    panel = re.search(r'<div class="credentials small" data-credentials="trusted">(.*?)</div>', body, re.S)
    assert panel, "the manifest panel is missing"
    text = panel.group(1)
    for words in (
        "declares AI-generated",
        "Studio generator",
        "Studio CA",
        "Studio 4.1",
        "trainedAlgorithmicMedia",
    ):
        assert words in text, words
    assert "2 ingredients" in text
    ScanMedia.objects.filter(scan=scan).update(
        credentials={**credentials, "state": "invalid", "tampered": True}
    )
    tampered = staff_client.get(reverse("console:scan", args=[scan.pk])).content.decode()
    assert "tampered</span> the manifest does not match the file" in tampered
