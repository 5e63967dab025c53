"""API keys: Bearer authentication, hashed storage, revocation, the create_platform command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from moderation.core.auth import api_key_hash
from moderation.core.models import ApiKey, Platform
from moderation.core.platforms import api_key_create, api_key_revoke
from tests.support.scans import PlatformFactory

pytestmark = pytest.mark.django_db

SCANS = "/api/v1/scans"


def with_key(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_no_credentials_is_401_with_a_stable_code() -> None:
    response = APIClient().get(SCANS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer fkm_aaaaaaaa_wrong", "Bearer ", "Token fkm_x"])
def test_bad_keys_are_refused(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(SCANS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("invalid_api_key", "not_authenticated")


def test_key_is_stored_hashed_with_a_recognisable_prefix(platform: Platform) -> None:
    key, raw = api_key_create(platform=platform, name="ci")
    assert raw.startswith(key.prefix + "_") and key.prefix.startswith("fkm_")
    assert key.key_hash == api_key_hash(raw) and raw not in key.key_hash
    assert not ApiKey.objects.filter(key_hash=raw).exists()
    assert with_key(raw).get(SCANS).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_right_prefix_wrong_secret_is_refused(platform: Platform) -> None:
    key, raw = api_key_create(platform=platform)
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    response = with_key(tampered).get(SCANS)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


def test_revoked_key_is_refused(platform: Platform, face_jpeg: bytes) -> None:
    key, raw = api_key_create(platform=platform)
    _, other_raw = api_key_create(platform=platform)
    assert with_key(raw).get(SCANS).status_code == 200
    api_key_revoke(api_key=key)
    response = with_key(raw).get(SCANS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_revoked"
    assert with_key(raw).post(SCANS, {}, format="json").status_code == 401
    assert with_key(other_raw).get(SCANS).status_code == 200  # the platform's other keys still work


def test_disabled_platform_is_refused(platform: Platform) -> None:
    _, raw = api_key_create(platform=platform)
    Platform.objects.filter(pk=platform.pk).update(is_active=False)
    response = with_key(raw).get(SCANS)
    assert response.status_code == 401 and response.json()["error"]["code"] == "platform_disabled"


def test_create_platform_command_prints_a_working_key() -> None:
    out = io.StringIO()
    call_command("create_platform", "acme", "--threshold", "0.7", "--observe-only", stdout=out)
    raw = out.getvalue().strip()
    platform = Platform.objects.get(name="acme")
    assert platform.threshold == 0.7 and platform.observe_only
    assert with_key(raw).get(SCANS).status_code == 200

    out = io.StringIO()  # again: same platform, a second key
    call_command("create_platform", "acme", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["platform_id"] == str(platform.pk) and data["webhook_secret"].startswith("whsec_")
    assert data["api_key"] != raw and platform.api_keys.count() == 2


def test_staff_session_is_not_an_api_credential(admin_client) -> None:
    assert admin_client.get(SCANS).status_code == 401


def test_each_platform_gets_a_distinct_webhook_secret() -> None:
    a, b = PlatformFactory(), PlatformFactory()
    assert a.webhook_secret.startswith("whsec_") and a.webhook_secret != b.webhook_secret


def test_demo_setup_prints_a_working_key_and_admin_login(
    settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True
    settings.C2PA_LOCAL_DIR = tmp_path / "c2pa"
    monkeypatch.setenv("DEMO_SECRET_FILE", str(tmp_path / "demo-secret"))
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    text = out.getvalue()
    raw = text.split("Demo API key: ")[1].split()[0]
    password = text.split("password ")[1].split()[0]
    assert with_key(raw).get(SCANS).status_code == 200
    from django.test import Client

    assert Client().login(username="admin", password=password)
    # make run says which certificate signs generated images: a local one, made on first use
    assert "local self-signed certificate" in text and "made now" in text
    assert (settings.C2PA_LOCAL_DIR / "signer-chain.pem").is_file()
    again = io.StringIO()
    call_command("demo_setup", stdout=again)  # run again: the same demo key keeps working
    assert again.getvalue().split("Demo API key: ")[1].split()[0] == raw
    assert "reused" in again.getvalue()
    assert with_key(raw).get(SCANS).status_code == 200
    (tmp_path / "demo-secret").unlink()  # a new secret: new credentials, the old key revoked
    call_command("demo_setup", stdout=io.StringIO())
    assert with_key(raw).get(SCANS).status_code == 401
