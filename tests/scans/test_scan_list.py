"""GET /api/v1/scans: the platform's scans, newest first, filtered, paginated, in bounded queries."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from moderation.core.models import Platform
from moderation.scans.models import Scan, ScanMedia

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def make_scans(platform: Platform, n: int, media_each: int = 2) -> list[Scan]:
    scans = []
    for i in range(n):
        scan = Scan.objects.create(
            platform=platform,
            mode=Scan.Mode.SYNC,
            status=Scan.Status.COMPLETED,
            external_id=f"post-{i}",
            author_id="alice" if i % 2 else "bob",
            verdict="fake" if i % 3 == 0 else "real",
            model_name="m",
        )
        ScanMedia.objects.bulk_create(
            ScanMedia(scan=scan, index=j, kind="image", format="jpeg", size_bytes=1, sha256="0" * 64)
            for j in range(media_each)
        )
        scans.append(scan)
    return scans


def test_list_is_newest_first_and_filterable(api: APIClient, platform: Platform) -> None:
    scans = make_scans(platform, 6)
    body = api.get(SCANS).json()
    assert [s["id"] for s in body["results"]] == [str(s.pk) for s in reversed(scans)]
    assert all(len(s["media"]) == 2 for s in body["results"])
    assert "result" not in body["results"][0]["media"][0]  # per-face/per-frame details: GET the scan
    assert "result" in api.get(f"{SCANS}/{scans[0].pk}").json()["media"][0]
    assert [s["external_id"] for s in api.get(SCANS, {"external_id": "post-2"}).json()["results"]] == [
        "post-2"
    ]
    assert {s["author_id"] for s in api.get(SCANS, {"author_id": "alice"}).json()["results"]} == {"alice"}
    assert len(api.get(SCANS, {"verdict": "fake"}).json()["results"]) == 2


def test_list_pages_with_a_cursor(api: APIClient, platform: Platform) -> None:
    make_scans(platform, 5, media_each=1)
    first = api.get(SCANS, {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == len(second["results"]) == 2
    assert not {s["id"] for s in first["results"]} & {s["id"] for s in second["results"]}


def test_list_query_count_does_not_grow_with_rows(
    api: APIClient, platform: Platform, django_assert_max_num_queries
) -> None:
    make_scans(platform, 2)
    api.get(SCANS)  # first use of the key writes last_used_at; measure steady state
    with django_assert_max_num_queries(3) as small:
        assert len(api.get(SCANS).json()["results"]) == 2
    make_scans(platform, 30, media_each=3)
    with django_assert_max_num_queries(3) as large:
        assert len(api.get(SCANS).json()["results"]) == 32
    assert len(large.captured_queries) == len(small.captured_queries)
