"""Every case of the bad-input corpus (tests/corpus/bad_inputs.py) against every endpoint that takes
media, and hostile file names, text fields and JSON bodies against the endpoints that take them.

Each refusal is a 4xx in the API's error format with a code from the documented set, comes within
HANG_GUARD_S, and leaves nothing behind: no row in any table, no stored file, no temporary file.
Valid but unusual media (16-bit, CMYK, palette, animated, polyglots, absurd frame rates) is scanned,
or refused with the endpoint's own documented code when it cannot be used (no face, too small).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from moderation.scans.models import Scan
from tests.corpus.bad_inputs import (
    ACCEPT,
    EITHER,
    ENDPOINT_PATHS,
    HOSTILE_FILENAMES,
    REJECT,
    FieldCase,
    MediaCase,
    encode,
    field_cases,
    media_case,
    media_cases,
)
from tests.support import scan_fixtures as _scans
from tests.support.bad_input import (
    CODE_STATUS,
    HANG_GUARD_S,
    KIND_CODES,
    VALID_OUTCOMES,
    Leftovers,
    kind_of,
    multipart,
)

pytestmark = pytest.mark.django_db

_scan_settings = _scans._scan_settings  # autouse: detector weights, MEDIA_ROOT in a tmp dir
scan_weights = _scans.scan_weights
media_root = _scans.media_root
platform = _scans.platform
client_for = _scans.client_for
api = _scans.api
astronaut = _scans.astronaut

CONSENT = "Both people in these photos agreed in writing to this swap (hardening test)."
REFUSED_URL = "http://127.0.0.1:9/a.jpg"  # loopback: refused before any connection if ever fetched


@pytest.fixture(autouse=True)
def _hardening_settings(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Limits that are other tests' topics lifted; temporary files in a folder of the test's own."""
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "SIMSWAP": {"GENERATOR": None, "ARCFACE": None, "SIZE": 224},
        "PLATFORM_RATE_LIMIT": "100000/hour",
        "USER_RATE_LIMIT": "100000/hour",
    }
    settings.FAKEME_REPORTS = {**settings.FAKEME_REPORTS, "REPORTER_RATE_LIMIT": "100000/hour"}
    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": locmem, "LOCATION": "hardening-bad-input"}}
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


@pytest.fixture(scope="session")
def face_source(astronaut: np.ndarray) -> bytes:
    """A photo of one face (the astronaut's head), small so that the face check is quick."""
    return encode(np.ascontiguousarray(astronaut[0:300, 80:380]), "JPEG", quality=92)


@pytest.fixture
def staff_client(db: None) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create(username="hardening-staff", is_staff=True))
    return client


def _upload(case: MediaCase) -> SimpleUploadedFile:
    return SimpleUploadedFile(case.filename, case.data, content_type=case.content_type)


# -- sending a media case to each endpoint ------------------------------------------------------------
Sender = Callable[[dict[str, Any], MediaCase], Any]


def _post(ctx: dict[str, Any], path: str, body: dict[str, Any]) -> Any:
    # Queued work (video scans, report re-scans) runs in-process here, within the time bound.
    with ctx["on_commit"](execute=True):
        return ctx["api"].post(path, body, format="multipart")


SENDERS: dict[str, Sender] = {
    "scans": lambda ctx, c: _post(ctx, ENDPOINT_PATHS["scans"], {"media": _upload(c), "external_id": c.name}),
    "scans_async": lambda ctx, c: _post(ctx, ENDPOINT_PATHS["scans"] + "?async=1", {"media": _upload(c)}),
    "watermark": lambda ctx, c: _post(ctx, ENDPOINT_PATHS["watermark"], {"media": _upload(c)}),
    "reports": lambda ctx, c: _post(
        ctx,
        ENDPOINT_PATHS["reports"],
        {"external_id": c.name, "reporter_id": "u1", "category": "other", "media": _upload(c)},
    ),
    "generation_source": lambda ctx, c: _post(
        ctx,
        ENDPOINT_PATHS["generations"],
        {
            "source": _upload(c),
            "target": _upload(media_case("png_named_jpg")),
            "user_id": "u1",
            "consent": CONSENT,
        },
    ),
    "generation_target": lambda ctx, c: _post(
        ctx,
        ENDPOINT_PATHS["generations"],
        {
            "source": SimpleUploadedFile("face.jpg", ctx["face"], "image/jpeg"),
            "target": _upload(c),
            "user_id": "u1",
            "consent": CONSENT,
        },
    ),
    "known_fakes": lambda ctx, c: _post(ctx, ENDPOINT_PATHS["known_fakes"], {"media": _upload(c)}),
    "protected_identities": lambda ctx, c: _post(
        ctx, ENDPOINT_PATHS["protected_identities"], {"image": _upload(c), "label": c.name}
    ),
    "console_watermark": lambda ctx, c: ctx["staff"].post(
        reverse("console:watermark"), {"media": _upload(c)}
    ),
}


def _allowed(endpoint: str, case: MediaCase) -> set[tuple[int, str | None]]:
    """The (status, error code) answers the product may give: None for a success."""
    kind = kind_of(case) or "image"
    allowed: set[tuple[int, str | None]] = set()
    if case.expect in (ACCEPT, EITHER):
        allowed |= VALID_OUTCOMES[endpoint][kind]
    if case.expect in (REJECT, EITHER):
        first = KIND_CODES.get(endpoint, {}).get(kind)
        codes = {first} if first else set(case.codes)
        allowed |= {(CODE_STATUS.get(code, 422), code) for code in codes}
    return allowed


def _answer(endpoint: str, response: Any) -> tuple[int, str | None]:
    """(status, code) of a response; the console's HTML page says no code, only a message."""
    status = response.status_code
    if endpoint == "console_watermark":
        if status >= 400:
            alert = re.search(r'role="alert">([^<]+)<', response.content.decode())
            assert alert and alert.group(1).strip(), "the console page shows no error message"
        return status, None
    if status >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
        assert body["error"]["message"], body
        return status, body["error"]["code"]
    return status, None


def _check_success(endpoint: str, response: Any, api: APIClient) -> None:
    """An accepted case was really handled: its scan completed, its entry or recovery is there."""
    body = response.json() if endpoint != "console_watermark" else None
    if endpoint in ("scans", "scans_async"):
        scan = api.get(f"{ENDPOINT_PATHS['scans']}/{body['id']}").json()
        assert scan["status"] == "completed", scan["error"]
        assert scan["verdict"] in ("fake", "real", "not_applicable")
    elif endpoint == "reports":
        rescan = Scan.objects.get(pk=body["scan_id"])
        assert rescan.status == Scan.Status.COMPLETED, (rescan.error_code, rescan.error_message)
    elif endpoint == "known_fakes":
        assert len(body["sha256"]) == 64
    elif endpoint == "watermark":
        assert body["found"] is False and body["checked"] is True


MEDIA = media_cases()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", MEDIA, ids=[c.name for c in MEDIA])
@pytest.mark.parametrize("endpoint", list(SENDERS))
def test_media_case(
    endpoint: str,
    case: MediaCase,
    api: APIClient,
    face_source: bytes,
    media_root: Path,
    _hardening_settings: Path,
    django_capture_on_commit_callbacks: Any,
    request: pytest.FixtureRequest,
) -> None:
    ctx = {"api": api, "face": face_source, "on_commit": django_capture_on_commit_callbacks}
    if endpoint == "console_watermark":
        ctx["staff"] = request.getfixturevalue("staff_client")
    before = Leftovers.take(media_root, _hardening_settings)
    started = time.monotonic()
    response = SENDERS[endpoint](ctx, case)
    elapsed = time.monotonic() - started
    assert response.status_code < 500, response.content[:500]
    answer = _answer(endpoint, response)
    allowed = _allowed(endpoint, case)
    if endpoint == "console_watermark":
        allowed = {(status, None) for status, _ in allowed}
    assert answer in allowed, f"{case.note}; answered {answer}, expected one of {sorted(allowed, key=str)}"
    assert elapsed < HANG_GUARD_S, f"took {elapsed:.1f} s"
    after = Leftovers.take(media_root, _hardening_settings)
    if answer[0] >= 400:
        assert not before.changes(after), f"a refused request left {before.changes(after)}"
    else:
        assert after.temporary == before.temporary, "temporary files left behind"
        _check_success(endpoint, response, api)


# -- hostile file names -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(HOSTILE_FILENAMES))
@pytest.mark.parametrize("endpoint", ["scans", "known_fakes", "console_watermark"])
def test_hostile_file_name(
    endpoint: str,
    name: str,
    api: APIClient,
    staff_client: Client,
    media_root: Path,
    tmp_path: Path,
    _hardening_settings: Path,
) -> None:
    """The name is never a path: files go under MEDIA_ROOT with a random key, the name is kept only as
    cleaned text; a name that is nothing but dots counts as no file at all."""
    image = media_case("png_named_jpg").data
    field = "media"
    body, content_type = multipart(
        {"external_id": "x"}, [(field, HOSTILE_FILENAMES[name], "image/png", image)]
    )
    path = reverse("console:watermark") if endpoint == "console_watermark" else ENDPOINT_PATHS[endpoint]
    client = staff_client if endpoint == "console_watermark" else api
    before = Leftovers.take(media_root, _hardening_settings)
    started = time.monotonic()
    response = client.generic("POST", path, body, content_type=content_type)
    assert time.monotonic() - started < HANG_GUARD_S
    assert response.status_code < 500, response.content[:500]
    outside = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("media", "tmp"))
    assert outside == [], f"written beside MEDIA_ROOT: {outside}"
    after = Leftovers.take(media_root, _hardening_settings)
    if response.status_code >= 400:
        code = response.json()["error"]["code"] if endpoint != "console_watermark" else None
        # no_media: a name of dots is no file; malformed_request: a name over the header size limit
        assert code in ("no_media", "invalid", "malformed_request", None), response.content[:300]
        assert not before.changes(after)
        return
    stored = set(after.stored) - set(before.stored)
    assert all(re.fullmatch(r"scans/\d{4}/\d{2}/[0-9a-f]{64}\.png", key) for key in stored), stored
    if endpoint == "scans":
        original = response.json()["media"][0]["original_name"]
        assert len(original) <= 255 and not set(original) & {"/", "\\", "\x00", "\r", "\n"}, original
    if endpoint == "console_watermark":  # the page shows the name: as text, never as markup
        assert b"<img src=x" not in response.content


# -- text fields and JSON bodies --------------------------------------------------------------------------
FIELDS = field_cases()


def _send_fields(case: FieldCase, api: APIClient) -> Any:
    path = ENDPOINT_PATHS[case.endpoint]
    if case.format == "json":
        return api.post(path, case.body, format="json")
    if case.format == "raw-json":
        return api.generic("POST", path, case.body, content_type="application/json")
    files = [(name, b"x.png", "image/png", media_case(media).data) for name, media in case.files]
    body = dict(case.body) if isinstance(case.body, dict) else {}
    if case.endpoint in ("reports", "known_fakes") and not case.files:
        body.setdefault("media_url", REFUSED_URL)
    data, content_type = multipart(body, files)
    return api.generic("POST", path, data, content_type=content_type)


@pytest.mark.parametrize("case", FIELDS, ids=[f"{c.endpoint}-{c.name}" for c in FIELDS])
def test_field_case(case: FieldCase, api: APIClient, media_root: Path, _hardening_settings: Path) -> None:
    before = Leftovers.take(media_root, _hardening_settings)
    started = time.monotonic()
    response = _send_fields(case, api)
    assert time.monotonic() - started < HANG_GUARD_S
    assert response.status_code < 500, response.content[:500]
    if case.extra.get("may_accept") and response.status_code < 300:
        return  # non-UTF-8 text decoded with replacement characters: stored as valid text
    assert 400 <= response.status_code < 500, response.content[:300]
    error = response.json()["error"]
    assert error["code"] in case.codes, error
    assert not before.changes(Leftovers.take(media_root, _hardening_settings))
