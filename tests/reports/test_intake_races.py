"""Report intake and sign-in under real concurrency (PostgreSQL, issue 21).

Requests are sent at the same moment from many threads (a barrier), each thread with its own
database connection, through the whole stack (API authentication, views, services): one reporter's
repeats on one post are one report, a reporter's rate limit holds however many arrive at once, and
parallel wrong passwords are checked no more often than the lockout's limit.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.core.platforms import api_key_create
from reports.models import Report, ReporterStats, ReviewItem
from reports.services.priority import NEUTRAL_TRUST, reporter_trust
from reports.services.review_decisions import review_decide
from tests.support.reports import CountingPasswordHasher, moderator, scanned_post

ON_POSTGRES = connection.vendor == "postgresql"
CI = bool(os.environ.get("FAKEME_CI"))

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRES and not CI,
        reason="needs PostgreSQL for real concurrent transactions (set DATABASE_URL=postgres://...)",
    ),
]


@pytest.fixture(autouse=True)
def _postgres_in_ci() -> None:
    # CI always has PostgreSQL (.ci/run): there a missing one fails these tests rather than skipping.
    if not ON_POSTGRES:
        pytest.fail("FAKEME_CI is set but DATABASE_URL is not a postgres:// URL")


REPORTS = "/api/v1/reports"


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at the same moment, each in its own thread (its own database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(10)
            results[i] = calls[i]()
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def _api_for(platform: Platform) -> Callable[[], APIClient]:
    _, raw = api_key_create(platform=platform, name="races")

    def make() -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


def _report(
    make: Callable[[], APIClient], post: str, scan_id: Any, reporter: str = "eager"
) -> Callable[[], Any]:
    def call() -> Any:
        return make().post(
            REPORTS,
            {
                "external_id": post,
                "reporter_id": reporter,
                "category": "unlabelled_deepfake",
                "scan_id": str(scan_id),
            },
            format="json",
        )

    return call


def test_parallel_repeats_of_one_report_store_one_row(
    platform: Platform, no_face_jpeg: bytes, settings: Any
) -> None:
    scan = scanned_post(
        platform, external_id="post-1", image=no_face_jpeg, probability=None, verdict="not_applicable"
    )
    make = _api_for(platform)
    responses = _parallel([_report(make, "post-1", scan.pk) for _ in range(10)])
    assert all(not isinstance(r, Exception) for r in responses), responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 9 + [201], [(r.status_code, r.content[:200]) for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1  # every repeat answers with the first report
    assert Report.objects.count() == 1
    item = ReviewItem.objects.get()
    assert (item.report_count, item.distinct_reporters) == (1, 1)

    # ...so one confirmation credits the reporter once: not an "established" reporter with 100 %
    review_decide(
        item_id=item.pk, user=moderator("alice"), decision="confirmed", expected_version=item.version
    )
    stats = ReporterStats.objects.get(reporter_id="eager")
    assert (stats.agreed, stats.rejected) == (1, 0)
    assert stats.decided < settings.FAKEME_REPORTS["ACCURACY_MIN_DECIDED"]
    assert reporter_trust(stats.agreed, stats.rejected) == NEUTRAL_TRUST


def test_parallel_reports_cannot_pass_the_reporters_rate_limit(
    platform: Platform, no_face_jpeg: bytes, settings: Any
) -> None:
    settings.FAKEME_REPORTS = {**settings.FAKEME_REPORTS, "REPORTER_RATE_LIMIT": "10/hour"}
    scans = [
        scanned_post(
            platform, external_id=f"post-{i}", image=no_face_jpeg, probability=None, verdict="not_applicable"
        )
        for i in range(15)
    ]
    make = _api_for(platform)
    responses = _parallel([_report(make, f"post-{i}", scans[i].pk) for i in range(15)])
    assert all(not isinstance(r, Exception) for r in responses), responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [429] * 5, [(r.status_code, r.content[:200]) for r in responses]
    refused = [r for r in responses if r.status_code == 429]
    assert {r.json()["error"]["code"] for r in refused} == {"report_rate_limited"}
    assert all(int(r["Retry-After"]) > 0 for r in refused)
    assert Report.objects.filter(reporter_id="eager").count() == 10


def test_parallel_wrong_passwords_are_checked_at_most_the_limit(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.support.reports.CountingPasswordHasher"]
    settings.FAKEME_CONSOLE = {**settings.FAKEME_CONSOLE, "LOGIN_MAX_FAILURES_PER_USERNAME": 5,
                               "LOGIN_MAX_FAILURES_PER_ADDRESS": 100, "LOGIN_LOCKOUT_S": 60}  # fmt: skip
    username = f"victim-{uuid.uuid4().hex[:8]}"  # the cache (Redis in CI) outlives the test database
    get_user_model().objects.create_user(username, password="the right one", is_staff=True)
    CountingPasswordHasher.checked = 0

    def guess(n: int) -> Callable[[], Any]:
        return lambda: Client(REMOTE_ADDR=f"10.0.0.{n}").post(
            reverse("console:login"), {"username": username, "password": f"guess-{n}"}
        )

    responses = _parallel([guess(n) for n in range(12)])
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert all(r.status_code in (200, 429) for r in responses)
    assert CountingPasswordHasher.checked <= 5, f"{CountingPasswordHasher.checked} passwords checked"
    # and the user name is locked now, right password or not
    locked = Client().post(reverse("console:login"), {"username": username, "password": "the right one"})
    assert locked.status_code == 429
