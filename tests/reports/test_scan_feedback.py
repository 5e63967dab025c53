"""Feedback on verdicts: the platform's API, moderators' decisions, the dashboard, training crops."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import cv2
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from detection.faces import FaceDetector
from moderation.core.models import AuditEntry, Platform
from moderation.scans.models import Scan, ScanMedia
from reports.models import ScanFeedback
from reports.services.review_decisions import review_decide
from tests.support.reports import moderator, reported_post
from tests.support.scans import PlatformFactory, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def _scan(client: APIClient, data: bytes, **fields: object) -> dict:
    response = client.post(SCANS, {"media": upload("p.jpg", data), **fields}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def _feedback(client: APIClient, scan_id: str, **body: object) -> object:
    return client.post(f"{SCANS}/{scan_id}/feedback", body, format="json")


def _staff_client() -> Client:
    client = Client()
    client.force_login(moderator("alice"))
    return client


def test_a_platform_says_a_verdict_was_a_false_alarm(
    api: APIClient, platform: Platform, face_jpeg: bytes
) -> None:
    scan = _scan(api, face_jpeg, external_id="post-1")
    response = _feedback(api, scan["id"], kind="false_positive", note="my own face")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["note"], body["scan_id"]) == ("false_positive", "my own face", scan["id"])
    assert body["verdict"] == scan["verdict"] and body["model_version"] == scan["model"]["version"]
    stored = ScanFeedback.objects.get(pk=body["id"])
    assert stored.platform == platform
    entry = AuditEntry.objects.get(action="scan.feedback")
    assert entry.target_id == scan["id"] and "false positive" in entry.description
    page = _staff_client().get(reverse("console:scan", args=[scan["id"]])).content.decode()
    assert "False positive" in page and "my own face" in page


def test_feedback_is_validated_and_scoped(
    api: APIClient, face_jpeg: bytes, client_for: Callable[[Platform], APIClient]
) -> None:
    scan = _scan(api, face_jpeg)
    bad = _feedback(api, scan["id"], kind="maybe")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    other = client_for(PlatformFactory())
    assert _feedback(other, scan["id"], kind="correct").json()["error"]["code"] == "not_found"
    Scan.objects.filter(pk=scan["id"]).update(status=Scan.Status.QUEUED)
    queued = _feedback(api, scan["id"], kind="correct")
    assert queued.status_code == 409 and queued.json()["error"]["code"] == "scan_not_completed"
    assert not ScanFeedback.objects.exists()


def test_the_dashboard_counts_false_alarms_from_platforms_and_moderators(
    api: APIClient, platform: Platform, face_jpeg: bytes
) -> None:
    scan = _scan(api, face_jpeg)
    _feedback(api, scan["id"], kind="false_positive")
    item = reported_post(platform, external_id="post-d", image=face_jpeg, probability=0.93, verdict="fake")
    review_decide(
        item_id=item.pk,
        user=moderator("bob"),
        decision="dismissed",
        expected_version=item.version,
        note="real",
    )
    page = _staff_client().get(reverse("console:dashboard")).content.decode()
    assert 'id="tile-false-alarms">2<' in page
    assert 'id="feedback-by-model"' in page and "No feedback in this period" not in page


def test_labelled_images_become_face_crops_for_fine_tuning(
    api: APIClient, platform: Platform, face_jpeg: bytes, tmp_path: Path
) -> None:
    missed = _scan(api, face_jpeg, external_id="missed")  # the platform says it was a deepfake
    _feedback(api, missed["id"], kind="false_negative")
    cleared = reported_post(platform, external_id="cleared", image=face_jpeg, probability=0.9, verdict="fake")
    ScanMedia.objects.filter(scan=cleared.scan).update(
        result=ScanMedia.objects.get(scan_id=missed["id"]).result
    )
    review_decide(
        item_id=cleared.pk,
        user=moderator("bob"),
        decision="dismissed",
        expected_version=cleared.version,
        note="r",
    )
    purged = _scan(api, face_jpeg, external_id="purged")
    _feedback(api, purged["id"], kind="false_negative")
    ScanMedia.objects.filter(scan_id=purged["id"]).update(storage_key="")  # past retention

    out = StringIO()
    call_command("export_training_faces", "--platform", platform.name, "--out", str(tmp_path), stdout=out)
    fakes, reals = sorted((tmp_path / "fake").iterdir()), sorted((tmp_path / "real").iterdir())
    assert [p.name.split("-")[0] for p in fakes] == [missed["id"].split("-")[0]]
    assert [p.name.split("-")[0] for p in reals] == [str(cleared.scan_id).split("-")[0]]
    assert "1 real and 1 fake" in out.getvalue() and "1 expired" in out.getvalue()
    for crop in (*fakes, *reals):
        rgb = cv2.cvtColor(cv2.imread(str(crop)), cv2.COLOR_BGR2RGB)
        assert rgb.shape == (256, 256, 3)
        assert FaceDetector().detect(rgb), f"{crop.name}: finetune_detector would find no face in it"
    # Only crops: the photo itself is never written.
    assert not list(tmp_path.rglob("*.part"))
