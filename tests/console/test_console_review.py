"""The queue and item pages and the moderator actions behind them, through real services and rows:
claim, confirm, dismiss (note rule, allow bank), escalate, bulk decisions with one audit group,
optimistic-lock conflicts shown as messages, reporters' accuracy, constant queue queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from moderation.core.models import AuditEntry, Platform
from moderation.provenance.models import BankEntry
from reports.models import ReporterStats, ReviewItem
from reports.services.appeals import appeal_create
from reports.services.review_claims import review_claim
from reports.services.review_decisions import review_decide
from tests.support.reports import reported_post

pytestmark = pytest.mark.django_db


def _item(platform: Platform, image: bytes, post: str, probability: float = 0.5, **kw: Any) -> ReviewItem:
    return reported_post(platform, external_id=post, image=image, probability=probability, **kw)


def _queue_ids(response: Any) -> list[str]:
    return re.findall(r'<tr data-item="([0-9a-f-]{36})"', response.content.decode())


def _messages(response: Any) -> list[str]:
    return [m.message for m in response.context["messages"]] if response.context else []


def _post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, follow=True)


def test_queue_lists_active_items_most_urgent_first(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    low = _item(platform, face_jpeg, "p-low", probability=0.1, category="other")
    high = _item(platform, face_jpeg, "p-high", probability=0.95, category="non_consensual")
    mid = _item(platform, face_jpeg, "p-mid", probability=0.5)
    done = _item(platform, face_jpeg, "p-done", probability=0.99)
    ReviewItem.objects.filter(pk=done.pk).update(status="resolved", decision="confirmed")
    response = staff_client.get(reverse("console:queue"))
    assert _queue_ids(response) == [str(high.pk), str(mid.pk), str(low.pk)]
    body = response.content.decode()
    assert "Non-consensual" in body and "p-high" in body
    resolved = staff_client.get(reverse("console:queue"), {"status": "resolved"})
    assert _queue_ids(resolved) == [str(done.pk)]


def test_queue_filters_mine_and_unclaimed(
    staff_client: Client, staff: AbstractBaseUser, other_staff: AbstractBaseUser, platform: Platform,
    face_jpeg: bytes,
) -> None:  # fmt: skip
    mine = _item(platform, face_jpeg, "p-mine")
    theirs = _item(platform, face_jpeg, "p-theirs")
    free = _item(platform, face_jpeg, "p-free")
    ReviewItem.objects.filter(pk=mine.pk).update(assignee=staff)
    ReviewItem.objects.filter(pk=theirs.pk).update(assignee=other_staff)
    assert _queue_ids(staff_client.get(reverse("console:queue"), {"assignee": "me"})) == [str(mine.pk)]
    assert _queue_ids(staff_client.get(reverse("console:queue"), {"assignee": "none"})) == [str(free.pk)]


def test_queue_costs_the_same_queries_for_2_or_12_items(
    staff_client: Client, platform: Platform, face_jpeg: bytes, other_staff: AbstractBaseUser
) -> None:
    for i in range(2):
        _item(platform, face_jpeg, f"q-{i}")
    with CaptureQueriesContext(connection) as small:
        staff_client.get(reverse("console:queue"))
    for i in range(10):
        item = _item(platform, face_jpeg, f"r-{i}")
        ReviewItem.objects.filter(pk=item.pk).update(assignee=other_staff)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(reverse("console:queue"))
    assert len(_queue_ids(response)) == 12
    assert len(large.captured_queries) == len(small.captured_queries)


def test_queue_rows_carry_what_the_keyboard_needs(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    high = _item(platform, face_jpeg, "p-h", probability=0.99, category="non_consensual")
    low = _item(platform, face_jpeg, "p-l", probability=0.0, category="other")
    body = staff_client.get(reverse("console:queue")).content.decode()
    for item, note in ((high, "1"), (low, "0")):
        row = re.search(rf'<tr data-item="{item.pk}"[^>]*>', body, re.S)
        assert row, item.external_post_id
        attributes = row.group(0)
        assert f'data-version="{item.version}"' in attributes
        assert f'data-claim-url="/console/items/{item.pk}/claim/"' in attributes
        assert f'data-decide-url="/console/items/{item.pk}/decide/"' in attributes
        assert f'data-note-required="{note}"' in attributes
    assert 'id="shortcut-help"' in body and 'id="row-action"' in body


def test_claim_then_confirm_with_takedown(
    staff_client: Client, staff: AbstractBaseUser, platform: Platform, face_jpeg: bytes
) -> None:
    item = _item(platform, face_jpeg, "p-confirm", probability=0.9)
    claimed = _post(staff_client, reverse("console:item-claim", args=[item.pk]), {"version": item.version})
    assert "You claimed post p-confirm." in _messages(claimed)
    item.refresh_from_db()
    assert item.assignee == staff and item.version == 2

    decided = _post(
        staff_client,
        reverse("console:item-decide", args=[item.pk]),
        {"version": item.version, "decision": "confirmed", "takedown": "1", "note": "same face as the bank"},
    )
    assert "Confirmed as a deepfake: post p-confirm (takedown requested)." in _messages(decided)
    item.refresh_from_db()
    assert item.status == "resolved" and item.decision == "confirmed" and item.takedown_requested
    assert item.decision_note == "same face as the bank"
    actions = list(
        AuditEntry.objects.filter(target_id=str(item.pk))
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["review.claim", "review.decide"]
    page = decided.content.decode()  # back on the item page: decided, no more decision buttons
    assert "data-decision-form" not in page
    assert "Hashtags sent to the platform" in page


def test_stale_version_is_a_message_saying_what_happened(
    staff_client: Client, other_staff: AbstractBaseUser, platform: Platform, face_jpeg: bytes
) -> None:
    item = _item(platform, face_jpeg, "p-race", probability=0.4)
    seen = item.version
    review_decide(item_id=item.pk, user=other_staff, decision="confirmed", expected_version=seen)
    response = _post(
        staff_client,
        reverse("console:item-decide", args=[item.pk]),
        {"version": seen, "decision": "dismissed"},
    )
    assert response.status_code == 200
    (message,) = _messages(response)
    assert message.startswith(
        "Someone acted on this item before you: bob confirmed the reports on post p-race"
    )
    assert "Reload it to see the current state" in message
    item.refresh_from_db()
    assert item.decision == "confirmed" and item.decided_by == other_staff


def test_someone_elses_claim_is_a_message(
    staff_client: Client, other_staff: AbstractBaseUser, platform: Platform, face_jpeg: bytes
) -> None:
    item = _item(platform, face_jpeg, "p-taken")
    review_claim(item_id=item.pk, user=other_staff, expected_version=item.version)
    response = _post(staff_client, reverse("console:item-claim", args=[item.pk]), {"version": 2})
    (message,) = _messages(response)
    assert message.startswith("bob claimed this item at ")


def test_dismissing_a_high_score_item_needs_a_note(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    item = _item(platform, face_jpeg, "p-high", probability=0.99, category="non_consensual")
    assert item.score >= 60
    page = staff_client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert "data-note-required" in page and "required to dismiss" in page
    url = reverse("console:item-decide", args=[item.pk])
    refused = _post(staff_client, url, {"version": item.version, "decision": "dismissed", "allow_bank": "1"})
    (message,) = _messages(refused)
    assert "needs a note saying why" in message
    item.refresh_from_db()
    assert item.status == "open" and item.version == 1

    shown = re.findall(r'name="bank_media" value="([0-9a-f]{64})" checked', page)
    assert shown == [item.scan.media.get().sha256]  # the post's one picture, ticked
    done = _post(
        staff_client,
        url,
        {
            "version": item.version,
            "decision": "dismissed",
            "allow_bank": "1",
            "note": "a known meme, real",
            "bank_media": shown,
        },
    )
    assert "Dismissed: post p-high (media added to the allow bank)." in _messages(done)
    item.refresh_from_db()
    assert item.decision == "dismissed" and item.allow_listed
    # the platform's own allow bank: a clearing on one platform does not un-flag media for others
    assert BankEntry.objects.filter(bank="allow", platform=platform).count() == 1
    assert not BankEntry.objects.filter(platform__isnull=True).exists()


def test_escalate_keeps_it_in_the_queue(staff_client: Client, platform: Platform, face_jpeg: bytes) -> None:
    item = _item(platform, face_jpeg, "p-esc")
    response = _post(
        staff_client,
        reverse("console:item-decide", args=[item.pk]),
        {"version": item.version, "decision": "escalated", "note": "needs legal"},
    )
    assert "Escalated: post p-esc." in _messages(response)
    item.refresh_from_db()
    assert item.status == "escalated" and item.assignee is None
    assert _queue_ids(staff_client.get(reverse("console:queue"), {"status": "escalated"})) == [str(item.pk)]


def test_bulk_confirm_shares_one_audit_group(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    items = [_item(platform, face_jpeg, f"p-bulk-{i}") for i in range(3)]
    stale = items[2]
    ReviewItem.objects.filter(pk=stale.pk).update(version=5)  # changed since the moderator loaded the queue
    response = _post(
        staff_client,
        reverse("console:bulk-decide"),
        {"items": [f"{i.pk}:{i.version}" for i in items], "decision": "confirmed", "next": "/console/"},
    )
    messages = _messages(response)
    assert messages[0].startswith("Confirmed as a deepfake: 2 item(s) in one bulk action (audit group ")
    group = messages[0].split("audit group ")[1].rstrip(").")
    assert messages[1].startswith(
        f"Item {str(stale.pk)[:8]}… was skipped: Someone acted on this item before you"
    )
    decided = AuditEntry.objects.filter(group_id=group, action="review.decide")
    assert sorted(decided.values_list("target_id", flat=True)) == sorted(str(i.pk) for i in items[:2])
    assert AuditEntry.objects.filter(group_id=group, action="review.bulk_decide").count() == 1
    assert ReviewItem.objects.filter(decision="confirmed").count() == 2

    audit = staff_client.get(reverse("console:audit"), {"group_id": group}).content.decode()
    assert audit.count("<tr>") - 1 == 3  # header row + the three entries of the group


def test_bulk_without_a_selection_is_a_message(staff_client: Client) -> None:
    response = _post(staff_client, reverse("console:bulk-decide"), {"decision": "dismissed"})
    assert _messages(response) == ["Select at least one item first."]
    garbled = _post(staff_client, reverse("console:bulk-decide"), {"decision": "dismissed", "items": ["x:y"]})
    assert _messages(garbled) == ["The selection was not understood; reload the queue."]


def test_item_page_shows_reports_with_reporter_accuracy_and_history(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    ReporterStats.objects.create(platform=platform, reporter_id="veteran", agreed=8, rejected=2)
    ReporterStats.objects.create(platform=platform, reporter_id="rookie", agreed=1, rejected=0)
    item = _item(platform, face_jpeg, "p-rep", reporters=("veteran", "rookie", "newbie"))
    body = staff_client.get(reverse("console:item", args=[item.pk])).content.decode()
    reports = body[body.index('id="report-list"') : body.index("</ul>", body.index('id="report-list"'))]
    assert (
        "veteran</span>" in reports
        and "accuracy <strong>80 %</strong>" in reports
        and "8 of 10 agreed" in reports
    )
    assert "1 of 1 agreed; too few to weigh" in reports
    assert "newbie</span>" in reports and "new reporter" in reports
    history = body[body.index('<ol class="history">') :]
    assert history.count("reported it: Unlabelled deepfake") == 3
    assert "Scan with model" in history
    assert 'Score <strong class="score-' in body and "reporters " in body


def test_item_page_queries_do_not_grow_with_reports(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    few = _item(platform, face_jpeg, "p-few", reporters=("a",))
    many = _item(platform, face_jpeg, "p-many", reporters=tuple(f"user-{i}" for i in range(8)))
    counts = []
    for item in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(reverse("console:item", args=[item.pk])).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts


def test_appeal_page_offers_uphold_and_deny(
    staff_client: Client, platform: Platform, face_jpeg: bytes
) -> None:
    from tests.support.reports import scanned_post

    scanned_post(
        platform, external_id="p-appeal", image=face_jpeg, verdict="fake", probability=0.9, tagged=True
    )
    appeal = appeal_create(
        platform=platform, external_post_id="p-appeal", appellant_id="author-1", statement="It is me, really."
    )
    body = staff_client.get(reverse("console:item", args=[appeal.pk])).content.decode()
    assert "It is me, really." in body
    assert 'value="appeal_upheld"' in body and 'value="appeal_denied"' in body
    queue = staff_client.get(reverse("console:queue")).content.decode()
    row = re.search(rf'<tr data-item="{appeal.pk}"[^>]*>', queue, re.S)
    assert row and "data-decide-url" not in row.group(0)  # no one-key decision on an appeal
    upheld = _post(
        staff_client,
        reverse("console:item-decide", args=[appeal.pk]),
        {"version": appeal.version, "decision": "appeal_upheld"},
    )
    assert "Appeal upheld: post p-appeal." in _messages(upheld)
