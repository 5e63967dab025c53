"""Tenant isolation matrix: every /api/v1/ endpoint × every method it answers × every kind of caller.

Callers: A's own key, platform B's key, A's revoked key, a forged key (A's key id, wrong secret), no key.
Platform A owns one of everything (scan with stored media, report, appeal, known fake, generation with
output, protected identity), so B's requests hit real ids. For every case:

- own key: the documented success status;
- other platform: 404 ``not_found`` on A's ids (never 403), exactly as for an id that does not exist, and
  no answer of B's contains one of A's ids; B's lists and creations only ever show B's own data;
- revoked / forged / no key: 401 ``api_key_revoked`` / ``invalid_api_key`` / ``not_authenticated``;
- none but A's own key changes anything of A's (rows, versions, keys).

The endpoints come from the URL resolver: a new endpoint, or a new method on one, without an entry here
fails ``test_the_matrix_covers_every_endpoint_and_method``. Methods an endpoint does not answer are 405
``method_not_allowed`` with a key and 401 without; OPTIONS needs a key and leaks nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from generation.models import Generation
from tests.support.security import (
    CONSENT,
    World,
    build_world,
    head_jpeg_of,
    iter_routes,
    new_generation_id,
    upload,
)

pytestmark = pytest.mark.django_db


ROLES = ("none", "forged", "revoked", "other", "own")  # A's own last: it may change or delete A's data
UNAUTHENTICATED = {
    "none": (401, "not_authenticated"),
    "forged": (401, "invalid_api_key"),
    "revoked": (401, "api_key_revoked"),
}
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(autouse=True)
def _isolated_settings(settings: Any) -> None:
    # Generation limits high enough never to interfere (the cache is fresh per test: conftest.py).
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": None, "ARCFACE": None, "SIZE": 224},
        "DEFAULT_ENGINE": "auto",
        "PLATFORM_RATE_LIMIT": "1000/hour",
        "USER_RATE_LIMIT": "1000/hour",
    }


@pytest.fixture(scope="session")
def head_jpeg(astronaut: np.ndarray) -> bytes:
    return head_jpeg_of(astronaut)


@pytest.fixture
def world(head_jpeg: bytes, no_face_jpeg: bytes) -> World:
    return build_world(head_jpeg, no_face_jpeg)


# -- the matrix -----------------------------------------------------------------------------------
# (client, url, refs, world) -> response; refs: A's ids (or ids that exist nowhere), for URL and body
Call = Callable[[APIClient, str, dict[str, str], World], Any]


def _get(client: APIClient, url: str, refs: dict[str, str], world: World) -> Any:
    return client.get(url)


def _delete(client: APIClient, url: str, refs: dict[str, str], world: World) -> Any:
    return client.delete(url)


def _post_json(body: Callable[[dict[str, str]], dict[str, Any]]) -> Call:
    return lambda client, url, refs, world: client.post(url, body(refs), format="json")


def _post_multipart(body: Callable[[World], dict[str, Any]], **headers: str) -> Call:
    return lambda client, url, refs, world: client.post(url, body(world), format="multipart", **headers)


def _generation_body(world: World) -> dict[str, Any]:
    return {
        "source": upload("source.jpg", world.image),
        "target": upload("target.jpg", world.image),
        "user_id": "user-x",
        "consent": CONSENT,
    }


@dataclass(frozen=True)
class Case:
    own: int  # A's own key
    other: int  # B's key on A's resource (or, for lists and creations, B's own view)
    call: Call = _get
    other_code: str | None = None  # None: 2xx; otherwise the error code (404 -> not_found)
    check_own: Callable[[World, Any], None] | None = None
    check_other: Callable[[World, Any], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _lists(id_of: Callable[[World], str]) -> Callable[[World, Any], None]:
    def check(world: World, response: Any) -> None:
        assert id_of(world) in response.content.decode()

    return check


def _not_replayed(world: World, response: Any) -> None:
    """B used the same Idempotency-Key first: A must get a scan of its own, not B's replayed."""
    assert "Idempotent-Replayed" not in response
    assert response.json()["id"] != str(world.scan.pk)


def _media_bytes(world: World, response: Any) -> None:
    assert b"".join(response.streaming_content) == world.image


MATRIX: dict[tuple[str, str], Case] = {
    # scans
    ("api-scans", "GET"): Case(200, 200, check_own=_lists(lambda w: str(w.scan.pk))),
    ("api-scans", "POST"): Case(
        200,
        200,
        _post_multipart(lambda w: {"media": upload("p.jpg", w.image)}, HTTP_IDEMPOTENCY_KEY="shared-key"),
        check_own=_not_replayed,
    ),
    ("api-scan-detail", "GET"): Case(200, 404, other_code="not_found"),
    ("api-scan-media-content", "GET"): Case(200, 404, other_code="not_found", check_own=_media_bytes),
    ("api-scan-feedback", "POST"): Case(
        201, 404, _post_json(lambda r: {"kind": "false_positive"}), other_code="not_found"
    ),
    # known-deepfake bank
    ("api-known-fakes", "GET"): Case(200, 200, check_own=_lists(lambda w: str(w.known_fake.pk))),
    ("api-known-fakes", "POST"): Case(
        201, 404, _post_json(lambda r: {"scan_id": r["spare_scan_id"]}), other_code="not_found"
    ),
    ("api-known-fake-detail", "GET"): Case(200, 404, other_code="not_found"),
    ("api-known-fake-detail", "DELETE"): Case(204, 404, _delete, other_code="not_found"),
    ("api-watermark-recover", "POST"): Case(
        200, 200, _post_multipart(lambda w: {"media": upload("w.jpg", w.image)})
    ),
    # reports and appeals
    ("api-reports", "POST"): Case(
        201,
        404,
        _post_json(
            lambda r: {
                "external_id": r["external_id"],
                "reporter_id": "reporter-x",
                "category": "other",
                "scan_id": r["scan_id"],
            }
        ),
        other_code="not_found",
    ),
    ("api-report-detail", "GET"): Case(200, 404, other_code="not_found"),
    # B cannot appeal A's post: for B it is a post without a tag, like any post B never scanned.
    ("api-appeals", "POST"): Case(
        201,
        409,
        _post_json(lambda r: {"external_id": r["spare_external_id"], "appellant_id": "author-a"}),
        other_code="not_appealable",
    ),
    ("api-appeal-detail", "GET"): Case(200, 404, other_code="not_found"),
    # generations and protected identities
    ("api-generations", "GET"): Case(200, 200, check_own=_lists(lambda w: w.generation.generation_id)),
    ("api-generations", "POST"): Case(202, 202, _post_multipart(_generation_body)),
    ("api-generation-engines", "GET"): Case(200, 200),
    ("api-generation-detail", "GET"): Case(200, 404, other_code="not_found"),
    ("api-generation-result", "GET"): Case(200, 404, other_code="not_found", check_own=_media_bytes),
    ("api-generation-regenerate", "POST"): Case(
        202, 404, _post_json(lambda r: {"seed": 11}), other_code="not_found"
    ),
    ("api-protected-identities", "GET"): Case(200, 200, check_own=_lists(lambda w: str(w.identity.pk))),
    ("api-protected-identities", "POST"): Case(
        201, 201, _post_multipart(lambda w: {"image": upload("face.jpg", w.image), "label": "x"})
    ),
    ("api-protected-identity-detail", "DELETE"): Case(204, 404, _delete, other_code="not_found"),
}


def api_endpoints() -> dict[str, tuple[str, set[str]]]:
    """/api/v1/ endpoints from the URL resolver: name -> (route, methods with a handler)."""
    endpoints = {}
    for name, (route, callback) in iter_routes("api/v1/").items():
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert view is not None, f"{route}: not a class-based view; list its methods by hand"
        methods = {
            m.upper() for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)
        }
        endpoints[name] = (route, methods)
    return endpoints


ENDPOINTS = api_endpoints()


def test_the_matrix_covers_every_endpoint_and_method() -> None:
    answered = {(name, method) for name, (_, methods) in ENDPOINTS.items() for method in methods}
    missing = sorted(answered - set(MATRIX))
    stale = sorted(set(MATRIX) - answered)
    assert not missing, f"endpoints without a security matrix entry (add them to MATRIX): {missing}"
    assert not stale, f"matrix entries for endpoints or methods that no longer exist: {stale}"
    assert len(ENDPOINTS) >= 16  # the resolver walk found the API at all


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _url(name: str, ids: dict[str, str]) -> str:
    params = {a or b for a, b in _PARAM.findall(ENDPOINTS[name][0])}
    return reverse(name, kwargs={k: ids[k] for k in params})


def _missing_ids(world: World) -> dict[str, str]:
    """Well-formed ids that exist nowhere: B must not be able to tell A's ids apart from these."""
    ids = {k: str(uuid.uuid4()) for k in world.ids()}
    ids |= {
        "index": "0",
        "external_id": f"nowhere-{uuid.uuid4()}",
        "spare_external_id": f"nowhere-{uuid.uuid4()}",
    }
    number = new_generation_id()
    while Generation.objects.filter(pk=number).exists():
        number = new_generation_id()
    ids["generation_id"] = f"gen_{number:010x}"
    return ids


def _error_code(response: Any) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _cases() -> Iterator[Any]:
    for (name, method), case in sorted(MATRIX.items()):
        yield pytest.param(name, method, case, id=f"{method} {name}")
        if method == "GET":  # HEAD answers as GET does (Django maps it), without the body
            yield pytest.param(name, "HEAD", case, id=f"HEAD {name}")


def _head(client: APIClient, url: str, refs: dict[str, str], world: World) -> Any:
    return client.head(url)


def _shown(response: Any) -> str:
    if getattr(response, "streaming", False):
        return f"{response.status_code} (a file)"
    return f"{response.status_code} {response.content[:300]!r}"


@pytest.mark.parametrize("name, method, case", list(_cases()))
def test_every_caller_on_every_endpoint(world: World, name: str, method: str, case: Case) -> None:
    refs = world.ids()
    url = _url(name, refs)
    call = _head if method == "HEAD" else case.call
    body = method != "HEAD"  # HEAD answers have no body to read a code from
    before = world.snapshot()

    for role in ROLES:
        response = call(world.client(role), url, refs, world)
        where = f"{method} {url} as {role}: {_shown(response)}"
        if role in UNAUTHENTICATED:
            status, code = UNAUTHENTICATED[role]
            assert response.status_code == status, where
            assert response["WWW-Authenticate"].startswith("Bearer"), where
            assert not body or _error_code(response) == code, where
        elif role == "other":
            assert response.status_code == case.other, where
            assert not body or case.other_code is None or _error_code(response) == case.other_code, where
            if case.other_code is not None:
                # No existence leak: A's id gets the answer an id that exists nowhere gets.
                missing = _missing_ids(world)
                nowhere = call(world.client("own"), _url(name, missing), missing, world)
                assert (nowhere.status_code, _error_code(nowhere) if body else None) == (
                    response.status_code,
                    _error_code(response) if body else None,
                ), where
            if body and not getattr(response, "streaming", False):  # and nothing of A's in B's answer
                text = response.content.decode("utf-8", "replace")
                leaked = [i for i in world.secret_ids() if i in text]
                assert not leaked, f"{where}: shows A's ids {leaked}"
            if case.check_other:
                case.check_other(world, response)
            assert world.snapshot() == before, f"{where}: changed A's data"
        else:
            assert response.status_code == case.own, where
            if case.check_own and body:
                case.check_own(world, response)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_methods_an_endpoint_does_not_answer(world: World, name: str) -> None:
    url = _url(name, world.ids())
    answered = ENDPOINTS[name][1] | ({"HEAD"} if "GET" in ENDPOINTS[name][1] else set())
    before = world.snapshot()
    for method in sorted(set(ALL_METHODS) - answered):
        anonymous = world.client("none").generic(method, url)
        assert anonymous.status_code == 401, f"{method} {url} without a key"
        own = world.client("own").generic(method, url)
        assert own.status_code == 405, f"{method} {url}: {own.status_code}"
        assert method == "HEAD" or _error_code(own) == "method_not_allowed", own.content
        assert method not in own["Allow"]
    # OPTIONS (DRF's metadata) needs a key too, and says nothing about whether A's id exists.
    assert world.client("none").options(url).status_code == 401
    other = world.client("other").options(url)
    missing = world.client("own").options(_url(name, _missing_ids(world)))
    assert other.status_code == 200 and other.json() == missing.json()
    assert world.snapshot() == before


def test_other_platform_sees_none_of_a_in_its_lists(world: World) -> None:
    """B's lists are B's: empty here, though A has one of everything."""
    client = world.client("other")
    for url in ("/api/v1/scans", "/api/v1/known-fakes", "/api/v1/generations"):
        assert client.get(url).json()["results"] == [], url
    assert client.get("/api/v1/protected-identities").json() == []
    assert client.get("/api/v1/scans", {"external_id": "a-post"}).json()["results"] == []


def test_ids_in_urls_are_random_uuids(world: World) -> None:
    """Resource ids in URLs are UUID4s (122 random bits), never counters (generations: random 40-bit
    numbers drawn by the generation service, also the watermark payload)."""
    for value in (world.scan.pk, world.report.pk, world.appeal.pk, world.known_fake.pk, world.identity.pk):
        assert isinstance(value, uuid.UUID) and value.version == 4
