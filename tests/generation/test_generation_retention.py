"""Generation files expire with the platform's retention period; the record and its bank entry stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from generation.models import Generation
from moderation.core.models import Platform
from moderation.provenance.models import BankEntry
from tests.support.scans import stored_files, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

GENERATIONS = "/api/v1/generations"
CONSENT = "Both people agreed in writing to this swap for a retention test."


def test_expired_generation_files_are_purged_and_the_record_says_so(
    make_platform: Callable[..., Platform],
    client_for: Callable[[Platform], APIClient],
    ffhq_bytes: Callable[[int], bytes],
    gen_env: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    platform = make_platform()
    platform.retention_days = 7
    platform.save()
    api = client_for(platform)
    ids = []
    for source, target in ((1, 2), (5, 6)):
        body = {"source": upload("s.jpg", ffhq_bytes(source)), "target": upload("t.jpg", ffhq_bytes(target))}
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(GENERATIONS, body | {"user_id": "u1", "consent": CONSENT}, format="multipart")
        assert response.status_code == 202, response.json()
        ids.append(response.json()["id"])
    old, recent = (Generation.objects.get(pk=int(i[4:], 16)) for i in ids)
    assert old.status == recent.status == Generation.Status.COMPLETED
    assert len(stored_files(gen_env)) == 6
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    # A queued generation that old keeps its inputs: a worker may still be about to read them.
    queued = Generation.objects.get(pk=recent.pk)
    Generation.objects.filter(pk=queued.pk).update(
        status=Generation.Status.QUEUED, created_at=timezone.now() - timedelta(days=30)
    )

    call_command("purge_expired_media")

    old.refresh_from_db()
    assert old.media_deleted_at is not None
    assert old.source_storage_key == old.target_storage_key == old.output_storage_key == ""
    assert len(stored_files(gen_env)) == 3  # only the queued one's files are left
    # What proves the swap is ours survives: hashes, consent, the bank entry for later scans.
    assert old.output_sha256 and old.consent_statement == CONSENT
    assert BankEntry.objects.filter(source=BankEntry.Source.GENERATION, sha256=old.output_sha256).exists()
    detail = api.get(f"{GENERATIONS}/{ids[0]}").json()
    assert detail["media_deleted_at"] and detail["output"] is None
    gone = api.get(f"{GENERATIONS}/{ids[0]}/result")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "media_deleted"
    again = api.post(f"{GENERATIONS}/{ids[0]}/regenerate", {}, format="json")
    assert again.status_code == 410 and again.json()["error"]["code"] == "inputs_deleted"
    # A second run has nothing left to do.
    call_command("purge_expired_media")
    assert len(stored_files(gen_env)) == 3
