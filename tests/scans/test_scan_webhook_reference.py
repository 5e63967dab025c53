"""Outgoing webhooks verified by the reference Standard Webhooks library (PyPI ``standardwebhooks``),
as a platform integrating FakeME would verify them, not only by our own verifier."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from moderation.core.models import Platform, WebhookDelivery
from tests.support.scans import LocalServer, upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def test_scan_completed_webhook_verifies_with_the_reference_library(
    api: APIClient,
    hooked: Platform,
    local_server: LocalServer,
    no_face_jpeg: bytes,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{SCANS}?async=1", {"media": upload("p.jpg", no_face_jpeg)}, format="multipart")
    assert response.status_code == 202
    received = local_server.wait_for_post(5)
    headers = {k.lower(): v for k, v in received.headers.items()}

    payload = Webhook(hooked.webhook_secret).verify(received.body, headers)
    assert payload == json.loads(received.body)
    assert payload["type"] == "scan.completed" and payload["data"]["id"] == response.json()["id"]
    assert headers["webhook-id"] == WebhookDelivery.objects.get(scan_id=payload["data"]["id"]).webhook_id

    # and the library refuses what is not FakeME's: another secret, a changed body, a changed id
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(received.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hooked.webhook_secret).verify(
            received.body.replace(b"scan.completed", b"scan.complete!"), headers
        )
    with pytest.raises(WebhookVerificationError):
        Webhook(hooked.webhook_secret).verify(received.body, {**headers, "webhook-id": "msg_other"})
