"""A pair of faces turned too differently, through the API: the built-in engine's ``pose_mismatch``
ends the generation ``failed`` with that code (like every engine error), stores no output and tells
the platform; the error maps to 422 like the engine's other input errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.landmark import PoseMismatch
from generation.models import Generation
from generation.services.errors import engine_error
from moderation.core.models import Platform, WebhookDelivery
from moderation.provenance.models import BankEntry
from tests.support.scans import stored_files, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

GENERATIONS = "/api/v1/generations"
FRONTAL, SIDEWAYS = 3, 121  # FFHQ: a face looking at the camera; one turned far to the side


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    return make_platform(webhook_url="http://127.0.0.1:9/hooks", allowed_private_hosts=["127.0.0.1"])


def test_the_pose_error_maps_like_the_engines_other_input_errors() -> None:
    error = engine_error(PoseMismatch())
    assert error.code == "pose_mismatch" and error.status == 422 and "mirrored" in error.message


def test_a_generation_between_faces_turned_too_differently_fails_with_pose_mismatch(
    platform: Platform,
    client_for: Callable[[Platform], APIClient],
    ffhq_bytes: Callable[[int], bytes],
    gen_env: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = client_for(platform)
    body = {
        "source": upload("source.jpg", ffhq_bytes(FRONTAL)),
        "target": upload("target.jpg", ffhq_bytes(SIDEWAYS)),
        "user_id": "user-9",
        "consent": "Both people agreed in writing (form 31).",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(GENERATIONS, body, format="multipart")
    assert response.status_code == 202, response.json()
    got = api.get(response["Location"]).json()
    assert got["status"] == "failed" and got["output"] is None
    assert got["error"]["code"] == "pose_mismatch" and "yaw" in got["error"]["message"]
    result = api.get(f"{GENERATIONS}/{got['id']}/result")
    assert result.status_code == 409 and result.json()["error"]["code"] == "generation_failed"
    assert Generation.objects.get().output_storage_key == ""
    assert len(stored_files(gen_env)) == 2  # the inputs only
    assert not BankEntry.objects.exists()
    delivery = WebhookDelivery.objects.get(event_type="generation.failed")
    assert '"code":"pose_mismatch"' in delivery.body
