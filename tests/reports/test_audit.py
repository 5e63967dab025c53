"""The audit log: an entry for every moderator and system action, readable after its actor and
target are deleted; filters; CSV export; API key creation and platform settings changes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from moderation.core.audit import CSV_HEADER, audit_csv_lines, audit_csv_write, audit_record
from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform
from moderation.core.platforms import api_key_create, platform_update
from reports.models import ReviewItem
from reports.selectors import audit_list
from reports.services.review_claims import review_claim
from reports.services.review_decisions import review_bulk_decide, review_decide
from tests.support.reports import reported_post
from tests.support.scans import PlatformFactory

pytestmark = pytest.mark.django_db


def test_entries_stay_readable_after_actor_and_target_are_deleted(
    face_jpeg: bytes, alice: AbstractBaseUser
) -> None:
    platform = PlatformFactory(name="gone-platform")
    item = reported_post(platform, external_id="p-9", image=face_jpeg, reporters=["r1"])
    item = review_claim(item_id=item.pk, user=alice, expected_version=item.version)
    review_decide(item_id=item.pk, user=alice, decision="confirmed", expected_version=item.version)
    item_id = str(item.pk)

    alice.delete()
    platform.delete()  # cascades to the item and its reports
    assert not ReviewItem.objects.exists()
    entries = list(AuditEntry.objects.filter(target_id=item_id).order_by("created_at"))
    assert [e.action for e in entries] == ["report.create", "review.claim", "review.decide"]
    for entry in entries:
        assert entry.actor is None and entry.platform is None and entry.platform_label == "gone-platform"
        assert (
            entry.target_type == "review_item" and entry.target_label == "reports on post p-9 (gone-platform)"
        )
    assert entries[0].actor_label == "platform gone-platform"
    assert entries[1].actor_label == "alice"
    assert entries[1].description == "alice claimed the reports on post p-9 (gone-platform)."
    assert entries[2].description.startswith(
        "alice confirmed the reports on post p-9 (gone-platform) as a deepfake"
    )
    assert entries[2].before["status"] == "open" and entries[2].after["status"] == "resolved"


def test_api_key_creation_is_audited_without_the_key(platform: Platform, alice: AbstractBaseUser) -> None:
    key, raw = api_key_create(platform=platform, name="ci", created_by=alice)
    entry = AuditEntry.objects.get(action="api_key.create")
    assert entry.actor == alice and entry.platform == platform
    assert entry.target_type == "api_key" and entry.target_id == str(key.pk)
    assert entry.description == f'alice created API key {key.prefix}… "ci" for {platform.name}.'
    assert entry.after == {"prefix": key.prefix, "name": "ci"}
    text = " ".join(str(v) for v in (entry.description, entry.before, entry.after, entry.target_label))
    assert raw not in text and raw.split("_", 2)[2] not in text

    api_key_create(platform=platform, name="cli")  # no user: the system did it
    assert AuditEntry.objects.get(action="api_key.create", after__name="cli").actor_label == "system"


def test_platform_settings_changes_are_audited_with_before_and_after(
    platform: Platform, alice: AbstractBaseUser
) -> None:
    old_secret = platform.webhook_secret
    updated = platform_update(
        platform=platform, user=alice, threshold=0.7, observe_only=True, webhook_secret="whsec_bmV3c2VjcmV0"
    )
    assert updated.threshold == 0.7 and updated.observe_only
    entry = AuditEntry.objects.get(action="platform.settings_change")
    assert entry.before == {"threshold": None, "observe_only": False, "webhook_secret": "(secret)"}
    assert entry.after == {"threshold": 0.7, "observe_only": True, "webhook_secret": "(secret)"}
    assert "threshold None → 0.7" in entry.description and "observe_only False → True" in entry.description
    assert old_secret not in entry.description and "bmV3c2VjcmV0" not in entry.description

    platform_update(platform=updated, user=alice, threshold=0.7)  # nothing changed: nothing logged
    assert AuditEntry.objects.filter(action="platform.settings_change").count() == 1
    with pytest.raises(ValidationError):
        platform_update(platform=updated, user=alice, threshold=1.5)
    updated.refresh_from_db()
    assert (
        updated.threshold == 0.7 and AuditEntry.objects.filter(action="platform.settings_change").count() == 1
    )
    with pytest.raises(ValueError):
        platform_update(platform=updated, user=alice, no_such_setting=1)


def test_audit_list_filters(face_jpeg: bytes, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    one, two = PlatformFactory(name="one"), PlatformFactory(name="two")
    a = reported_post(one, external_id="a", image=face_jpeg, probability=0.1)
    b = reported_post(two, external_id="b", image=face_jpeg, probability=0.1)
    review_claim(item_id=a.pk, user=alice, expected_version=a.version)
    outcome = review_bulk_decide(item_ids=[b.pk], user=bob, decision="dismissed")

    def actions(**filters) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(audit_list(filters=filters).values_list("action", flat=True))

    assert actions(actor=alice) == ["review.claim"]
    assert actions(actor=str(bob.pk)) == ["review.bulk_decide", "review.decide"]
    assert actions(actor="bob") == ["review.bulk_decide", "review.decide"]
    assert actions(actor="platform one") == ["report.create"]
    assert actions(action="review.") == ["review.bulk_decide", "review.claim", "review.decide"]
    assert actions(action="review.claim") == ["review.claim"]
    assert actions(platform=one, action="review.") == ["review.claim"]
    assert actions(platform=str(two.pk), action="review.") == ["review.decide"]
    assert actions(target_type="review_item", target_id=str(a.pk)) == ["report.create", "review.claim"]
    assert actions(group_id=str(outcome.group_id)) == ["review.bulk_decide", "review.decide"]
    assert actions(q="dismissed bulk") == ["review.bulk_decide"]
    today = timezone.localdate()
    assert len(actions(date_from=today.isoformat(), date_to=today.isoformat())) == AuditEntry.objects.count()
    assert actions(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert actions(date_from=timezone.now() + timedelta(minutes=1)) == []
    assert actions(unknown="x", action="") == actions()
    with pytest.raises(ApplicationError) as caught:
        actions(date_from="yesterday")
    assert caught.value.code == "invalid" and "date_from" in caught.value.fields
    with pytest.raises(ApplicationError):
        actions(group_id="not-a-uuid")


def test_csv_export_has_every_column_and_defuses_formulas(
    platform: Platform, alice: AbstractBaseUser
) -> None:
    audit_record(
        action="platform.settings_change",
        actor=alice,
        target=platform,
        platform=platform,
        description='=HYPERLINK("http://evil.example","click")',
        before={"threshold": 0.5},
        after={"threshold": 0.6},
    )
    audit_record(action="review.claim", description='-1+2, with a comma and a "quote"\nand a newline')
    out = io.StringIO()
    written = audit_csv_write(audit_list(), out)
    assert written == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == CSV_HEADER and len(rows) == 3
    by_action = {row[2]: dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    settings_row = by_action["platform.settings_change"]
    assert settings_row["description"] == '\'=HYPERLINK("http://evil.example","click")'
    assert settings_row["actor"] == "alice" and settings_row["platform"] == platform.name
    assert settings_row["before"] == '{"threshold": 0.5}' and settings_row["after"] == '{"threshold": 0.6}'
    assert settings_row["target_type"] == "platform" and settings_row["target"] == platform.name
    claim_row = by_action["review.claim"]
    assert claim_row["description"] == '\'-1+2, with a comma and a "quote"\nand a newline'
    assert claim_row["actor"] == "system" and claim_row["before"] == ""
    assert "".join(audit_csv_lines(audit_list())) == out.getvalue()
