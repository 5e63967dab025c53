"""Media blurred until revealed (per moderator; always for non-consensual reports); reveals audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from moderation.core.models import AuditEntry, Platform
from tests.support.reports import reported_post, scanned_post

pytestmark = pytest.mark.django_db


def _veiled(body: str) -> list[str]:
    return re.findall(r'<section class="card evidence veiled" id="(media-\d+)"', body)


def test_media_are_blurred_until_revealed_and_each_reveal_is_audited(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    scan = scanned_post(platform, external_id="post-v", image=face_jpeg, probability=0.7, verdict="fake")
    url = reverse("console:scan", args=[scan.pk])
    body = staff_client.get(url).content.decode()
    assert _veiled(body) == ["media-0"] and "Reveal media" in body
    response = staff_client.post(reverse("console:media-reveal", args=[scan.pk, 0]), {"next": url})
    assert response.status_code == 302 and response["Location"] == f"{url}#media-0"
    entry = AuditEntry.objects.get(action="media.reveal")
    assert entry.target_id == str(scan.pk) and "revealed media 0" in entry.description
    assert entry.actor is not None and entry.actor.get_username() == "alice"
    assert _veiled(staff_client.get(url).content.decode()) == []  # for the rest of the session
    # The console's fetch gets a 204 and records the reveal again.
    again = staff_client.post(
        reverse("console:media-reveal", args=[scan.pk, 0]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert again.status_code == 204 and AuditEntry.objects.filter(action="media.reveal").count() == 2
    # Another moderator's session starts blurred.
    other = Client()
    other.force_login(entry.actor.__class__.objects.create_user("carol", password="x", is_staff=True))
    assert _veiled(other.get(url).content.decode()) == ["media-0"]


def test_a_moderator_can_turn_blurring_off_but_not_for_non_consensual_reports(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    plain = reported_post(platform, external_id="post-p", image=face_jpeg, category="impersonation")
    intimate = reported_post(platform, external_id="post-n", image=face_jpeg, category="non_consensual")
    response = staff_client.post(reverse("console:blur-setting"), {"blur": "off"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="moderator.settings").exists()
    assert _veiled(staff_client.get(reverse("console:item", args=[plain.pk])).content.decode()) == []
    body = staff_client.get(reverse("console:item", args=[intimate.pk])).content.decode()
    assert _veiled(body) == ["media-0"] and "reported as non-consensual" in body
    assert "Blur media: off" in body
