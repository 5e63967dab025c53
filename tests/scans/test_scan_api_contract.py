"""Issue 21, what a new user hit in the scan API: answers that describe the scan as it is, stable
types, paging that is documented and never silently ignores a parameter, filters that refuse values
they do not know."""

from __future__ import annotations

import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from moderation.scans.models import Scan
from tests.support.scans import upload

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


@pytest.mark.django_db(transaction=True)
def test_embedded_async_answer_describes_the_finished_scan(api: APIClient, face_jpeg: bytes) -> None:
    """Really committed (no test transaction around it): in embedded mode the on-commit run has
    finished the scan before the view answers, and the 202 says completed, not queued."""
    response = api.post(f"{SCANS}?async=1", {"media": upload("p.jpg", face_jpeg)}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == Scan.objects.get(pk=body["id"]).status == "completed"
    assert body["verdict"] in ("fake", "real") and body["progress"]["percent"] == 100


def test_hashtags_are_always_a_list(api: APIClient, face_jpeg: bytes) -> None:
    # Not executed: the on-commit run never happens inside the test's transaction, so it stays queued.
    queued = api.post(f"{SCANS}?async=1", {"media": upload("p.jpg", face_jpeg), "hashtags": ["#a"]}).json()
    assert queued["status"] == "queued" and queued["hashtags"] == []
    done = api.post(SCANS, {"media": upload("p.jpg", face_jpeg), "hashtags": ["#a"]}).json()
    assert done["status"] == "completed" and isinstance(done["hashtags"], list) and "#a" in done["hashtags"]


def test_sync_scan_is_not_created_after_it_started(api: APIClient, face_jpeg: bytes) -> None:
    body = api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()
    created, started = parse_datetime(body["created_at"]), parse_datetime(body["started_at"])
    completed = parse_datetime(body["completed_at"])
    assert created is not None and started is not None and completed is not None
    assert created <= started <= completed


def test_faces_carry_no_field_that_is_always_null(api: APIClient, face_jpeg: bytes) -> None:
    body = api.post(SCANS, {"media": upload("p.jpg", face_jpeg)}, format="multipart").json()
    faces = body["media"][0]["result"]["faces"]
    assert faces and all("heatmap_png_base64" not in face for face in faces)
    assert all(value is not None for face in faces for value in face.values())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=5", "limit"),
        ("verdict=bogus", "verdict"),
        ("status=done", "status"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=201", "page_size"),
    ],
)
def test_list_refuses_unknown_parameters_and_values(api: APIClient, query: str, field: str) -> None:
    response = api.get(f"{SCANS}?{query}")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_filter" and field in error["fields"]


def test_known_fakes_list_refuses_unknown_parameters(api: APIClient) -> None:
    response = api.get("/api/v1/known-fakes?limit=5")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_filter"


def test_page_size_and_cursor_are_honoured(api: APIClient, face_jpeg: bytes) -> None:
    ids = [api.post(SCANS, {"media": upload(f"{i}.jpg", face_jpeg)}).json()["id"] for i in range(3)]
    first = api.get(f"{SCANS}?page_size=2&verdict=real&status=completed").json()
    everything = api.get(f"{SCANS}?page_size=2").json()
    assert len(everything["results"]) == 2 and everything["next"]
    second = api.get(everything["next"]).json()
    seen = [s["id"] for s in everything["results"] + second["results"]]
    assert sorted(seen) == sorted(ids)
    assert all(s["verdict"] == "real" for s in first["results"])


def test_schema_documents_paging_and_filters(api: APIClient) -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/scans", "/api/v1/known-fakes"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"cursor", "page_size"} <= set(params), (path, sorted(params))
        page = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = page["$ref"].rsplit("/", 1)[-1]
        assert {"next", "previous", "results"} <= set(schema["components"]["schemas"][name]["properties"])
    scans = {p["name"]: p for p in schema["paths"]["/api/v1/scans"]["get"]["parameters"]}
    assert set(scans["verdict"]["schema"]["enum"]) == {"fake", "uncertain", "real", "not_applicable"}
    hashtags = schema["components"]["schemas"]["ScanOutput"]["properties"]["hashtags"]
    assert hashtags["type"] == "array" and not hashtags.get("nullable")
