"""The audit page: filters (actor, action prefix, words, platform, bulk group, dates), readable
errors for bad filters, pagination and the CSV export of what is filtered."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from moderation.core.audit import audit_record
from moderation.core.models import AuditEntry, Platform
from tests.support.scans import PlatformFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(platform: Platform, staff: Any, other_staff: Any) -> dict[str, AuditEntry]:
    group = uuid.uuid4()
    other = PlatformFactory(name="elsewhere")
    return {
        "claim": audit_record(action="review.claim", actor=staff, platform=platform,
                              description="alice claimed the reports on post p1."),
        "decide": audit_record(action="review.decide", actor=other_staff, platform=platform, group_id=group,
                               description="bob confirmed the reports on post p2 as a deepfake."),
        "system": audit_record(action="review.rescan", platform=other,
                               description="The re-scan of post p3 finished: P(fake) 0.91."),
        "formula": audit_record(action="platform.settings_change", actor=staff, platform=other,
                                description="=cmd|' /C calc'!A0"),
    }  # fmt: skip


def _descriptions(response: Any) -> list[str]:
    table = response.content.decode().split('id="audit-table"')[1]
    cells = re.findall(r'<td class="desc">(.*?)</td>', table, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"claim", "decide", "system", "formula"}),
        ({"actor": "alice"}, {"claim", "formula"}),
        ({"actor": "system"}, {"system"}),
        ({"action": "review."}, {"claim", "decide", "system"}),
        ({"action": "review.decide"}, {"decide"}),
        ({"q": "re-scan p3"}, {"system"}),
    ],
)
def test_audit_filters(
    staff_client: Client, entries: dict[str, AuditEntry], params: dict[str, str], expected: set[str]
) -> None:
    response = staff_client.get(reverse("console:audit"), params)
    assert response.status_code == 200
    assert set(_descriptions(response)) == {entries[name].description for name in expected}


def test_audit_filters_by_platform_and_group(staff_client: Client, entries: dict[str, AuditEntry]) -> None:
    decide = entries["decide"]
    by_group = staff_client.get(reverse("console:audit"), {"group_id": str(decide.group_id)})
    assert _descriptions(by_group) == [decide.description]
    by_platform = staff_client.get(reverse("console:audit"), {"platform": str(entries["system"].platform_id)})
    assert len(_descriptions(by_platform)) == 2


def test_bad_audit_filters_are_messages(staff_client: Client, entries: dict[str, AuditEntry]) -> None:
    response = staff_client.get(
        reverse("console:audit"), {"group_id": "not-a-uuid", "date_from": "yesterday"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "A bulk group id is a UUID." in body and "Enter a valid date." in body
    assert "Fix the highlighted filters." in body
    export = staff_client.get(reverse("console:audit-csv"), {"group_id": "nope"})
    assert export.status_code == 400 and b"Fix the audit filters first." in export.content


def test_audit_csv_export(staff_client: Client, entries: dict[str, AuditEntry]) -> None:
    response = staff_client.get(reverse("console:audit-csv"), {"actor": "alice"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="fakeme-audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["platform.settings_change", "review.claim"]  # newest first
    assert rows[1]["actor"] == "alice" and rows[1]["description"] == entries["claim"].description
    assert rows[0]["description"].startswith("'=cmd")  # a formula is neutralised


def test_audit_paginates(staff_client: Client, platform: Platform) -> None:
    for i in range(105):
        audit_record(action="review.claim", platform=platform, description=f"entry {i}")
    first = staff_client.get(reverse("console:audit"))
    second = staff_client.get(reverse("console:audit"), {"page": "2"})
    assert len(_descriptions(first)) == 100 and len(_descriptions(second)) == 5
