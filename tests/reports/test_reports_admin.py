"""The admin shows review items, reporters and the audit log to staff, read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from moderation.core.models import AuditEntry, Platform
from tests.support.reports import moderator, reported_post

pytestmark = pytest.mark.django_db


def test_admin_lists_review_data_read_only(platform: Platform, face_jpeg: bytes) -> None:
    item = reported_post(platform, external_id="post-42", image=face_jpeg, reporters=["r1"])
    client = Client()
    client.force_login(moderator("root", is_superuser=True))

    page = client.get("/admin/reports/reviewitem/")
    assert page.status_code == 200 and "post-42" in page.content.decode()
    detail = client.get(f"/admin/reports/reviewitem/{item.pk}/change/")
    assert detail.status_code == 200 and "r1" in detail.content.decode()
    audit = client.get("/admin/moderation/auditentry/")
    assert audit.status_code == 200 and "report.create" in audit.content.decode()
    assert client.get("/admin/reports/reporterstats/").status_code == 200

    entry = AuditEntry.objects.get()
    assert client.get("/admin/moderation/auditentry/add/").status_code == 403
    assert client.post(f"/admin/moderation/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    # The page's old address (before the audit log moved to the core) still leads there.
    old = client.get("/admin/reports/auditentry/?q=report")
    assert old.status_code == 301 and old["Location"] == "/admin/moderation/auditentry/?q=report"
