"""Guard rails at submit time, each answered before anything is stored (no row, no file):
consent required; a source with no face or several faces; per-user and per-platform rate limits;
protected identities (as source or in the target); an unavailable engine; bad options."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from generation.models import Generation, ProtectedIdentity
from moderation.core.models import AuditEntry, Platform
from tests.support.scans import stored_files, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

GENERATIONS = "/api/v1/generations"
PROTECTED = "/api/v1/protected-identities"
CONSENT = "The person shown agreed on camera to this face swap."


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    return make_platform()


@pytest.fixture
def api(platform: Platform, client_for: Callable[[Platform], APIClient]) -> APIClient:
    return client_for(platform)


def submit(api: APIClient, source: bytes, target: bytes, **fields: Any) -> Any:
    body = {"source": upload("source.jpg", source), "target": upload("target.jpg", target)}
    body |= {"user_id": "user-1", "consent": CONSENT} | fields
    return api.post(GENERATIONS, body, format="multipart")


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def assert_nothing_left(media_root: Path) -> None:
    assert Generation.objects.count() == 0
    assert not AuditEntry.objects.filter(action="generation.create").exists()
    assert stored_files(media_root) == []


def test_consent_is_required(api: APIClient, ffhq_bytes: Callable[[int], bytes], gen_env: Path) -> None:
    for consent in ("", "   "):
        response = submit(api, ffhq_bytes(3), ffhq_bytes(4), consent=consent)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "consent_required" and "consent" in error["fields"]
    response = submit(api, ffhq_bytes(3), ffhq_bytes(4), user_id="")
    assert response.status_code == 400 and "user_id" in response.json()["error"]["fields"]
    assert_nothing_left(gen_env)


def test_a_source_needs_exactly_one_face(
    api: APIClient, ffhq_bytes: Callable[[int], bytes], gen_env: Path
) -> None:
    from skimage import data

    no_face = jpeg(np.ascontiguousarray(data.coffee()))
    response = submit(api, no_face, ffhq_bytes(4))
    assert response.status_code == 422 and response.json()["error"]["code"] == "no_face_in_source"

    two_people = jpeg(np.concatenate([decoded(ffhq_bytes(3)), decoded(ffhq_bytes(20))], axis=1))
    response = submit(api, two_people, ffhq_bytes(4))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "several_faces_in_source" and "2 faces" in error["message"]

    response = submit(api, ffhq_bytes(3), no_face)
    assert response.status_code == 422 and response.json()["error"]["code"] == "no_face_in_target"
    assert_nothing_left(gen_env)


def test_rate_limits_per_user_and_per_platform(
    api: APIClient, ffhq_bytes: Callable[[int], bytes], settings: Any, gen_env: Path
) -> None:
    # On-commit callbacks are not run here: the generations stay queued, which is all a limit counts.
    settings.FAKEME_GENERATION = {
        **settings.FAKEME_GENERATION,
        "USER_RATE_LIMIT": "1/hour",
        "PLATFORM_RATE_LIMIT": "2/hour",
    }
    source, target = ffhq_bytes(3), ffhq_bytes(4)
    assert submit(api, source, target, user_id="alice").status_code == 202

    again = submit(api, source, target, user_id="alice")
    assert again.status_code == 429
    error = again.json()["error"]
    assert error["code"] == "generation_rate_limited" and error["fields"]["scope"] == "user"
    assert 3500 <= int(again["Retry-After"]) <= 3601

    assert submit(api, source, target, user_id="bob").status_code == 202
    third = submit(api, source, target, user_id="carol")
    assert third.status_code == 429 and third.json()["error"]["fields"]["scope"] == "platform"

    # Regenerating counts too.
    first = Generation.objects.filter(user_id="alice").get()
    response = api.post(f"{GENERATIONS}/{first.generation_id}/regenerate", {}, format="json")
    assert response.status_code == 429 and response.json()["error"]["code"] == "generation_rate_limited"
    assert Generation.objects.count() == 2 and len(stored_files(gen_env)) == 4  # 2 × (source, target)


def test_protected_identities_are_refused_as_source_and_in_the_target(
    api: APIClient, ffhq_bytes: Callable[[int], bytes], gen_env: Path
) -> None:
    person = ffhq_bytes(21)  # at least 0.64 from every other FFHQ face used here
    response = api.post(
        PROTECTED, {"image": upload("p.jpg", person), "label": "Opted-out person"}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    identity_id = response.json()["id"]
    row = ProtectedIdentity.objects.get(pk=identity_id)
    assert len(row.descriptor) == 128
    assert stored_files(gen_env) == []  # the photo itself is not kept
    assert AuditEntry.objects.filter(action="protected_identity.create", target_id=identity_id).exists()

    # Another photo of them: mirrored, smaller, re-encoded.
    other_photo = decoded(person)[:, ::-1]
    other_photo = np.asarray(Image.fromarray(other_photo).resize((400, 400), Image.Resampling.LANCZOS))
    refused = submit(api, jpeg(other_photo, 80), ffhq_bytes(4))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "protected_identity" and error["fields"]["role"] == "source"
    assert error["fields"]["identity_id"] == identity_id and error["fields"]["distance"] < 0.6

    refused = submit(api, ffhq_bytes(3), person)
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["role"] == "target"
    assert_nothing_left(gen_env)

    # Someone else is not refused; a photo of two people cannot be registered.
    assert submit(api, ffhq_bytes(3), ffhq_bytes(4)).status_code == 202
    two = jpeg(np.concatenate([decoded(ffhq_bytes(3)), decoded(ffhq_bytes(20))], axis=1))
    bad = api.post(PROTECTED, {"image": upload("two.jpg", two)}, format="multipart")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "several_faces"

    # Listed for its platform only; once removed, the face may be swapped again.
    assert [i["id"] for i in api.get(PROTECTED).json()] == [identity_id]
    assert api.delete(f"{PROTECTED}/{identity_id}").status_code == 204
    assert submit(api, ffhq_bytes(3), person).status_code == 202


def test_unavailable_engine_and_bad_options_are_refused(
    api: APIClient, ffhq_bytes: Callable[[int], bytes], gen_env: Path
) -> None:
    response = submit(api, ffhq_bytes(3), ffhq_bytes(4), engine="simswap")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "engine_unavailable" and "not configured" in error["message"]

    response = submit(api, ffhq_bytes(3), ffhq_bytes(4), options='{"inner_shape": 3, "colour": true}')
    assert response.status_code == 400
    problems = response.json()["error"]["fields"]["options"]
    assert any(p.startswith("inner_shape") for p in problems) and any(
        p.startswith("colour") for p in problems
    )
    assert_nothing_left(gen_env)
