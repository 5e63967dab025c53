"""``demo_setup`` (what ``make run`` runs) makes the console's demo moderator and real demo content once,
and keeps the demo logins and API key the same from one run to the next."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from moderation.core.models import ApiKey, Platform
from moderation.scans.models import Scan
from reports.models import Report, ReviewItem

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_setup", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _demo_env(settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    settings.DEBUG = True
    for name in ("DEMO_MODERATOR_PASSWORD", "DEMO_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    secret = tmp_path / "data" / "demo-secret"
    monkeypatch.setenv("DEMO_SECRET_FILE", str(secret))
    return secret


def _printed(output: str) -> dict[str, str]:
    admin = re.search(r"Admin: +\S+ +user admin +password (\S+)", output)
    console = re.search(r"Console: +\S+ +user moderator +password (\S+)", output)
    key = re.search(r"Demo API key: (fkm_\S+)", output)
    assert admin and console and key, output
    return {"admin": admin.group(1), "moderator": console.group(1), "key": key.group(1)}


def test_demo_setup_makes_a_moderator_and_demo_content(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run()
    match = re.search(r"Console: +http://127\.0\.0\.1:8000/console/ +user moderator +password (\S+)", first)
    assert match, first
    moderator = get_user_model().objects.get(username="moderator")
    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.check_password(match.group(1))
    assert "Demo content: 5 scans, 4 reports, 1 appeal" in first

    platform = Platform.objects.get(name="demo")
    originals = Scan.objects.filter(platform=platform, mode=Scan.Mode.SYNC)
    verdicts = dict(originals.values_list("external_id", "verdict"))
    assert verdicts["demo-post-2"] == "fake"  # the watermarked picture, decided by the mark
    assert originals.get(external_id="demo-post-2").decided_by == "watermark"
    assert verdicts["demo-post-3"] == verdicts["demo-post-4"] == "not_applicable"  # a cat, a cup
    items = ReviewItem.objects.filter(platform=platform)
    assert items.filter(kind="report").count() == 3 and items.filter(kind="appeal").count() == 1
    assert Report.objects.filter(platform=platform).count() == 4

    # Again: an env password is used, not printed; the same content (nothing duplicated).
    monkeypatch.setenv("DEMO_MODERATOR_PASSWORD", "from the environment 123")
    second = _run()
    assert "password (from DEMO_MODERATOR_PASSWORD)" in second and "from the environment 123" not in second
    assert "Demo content: skipped: the demo platform already has scans" in second
    moderator.refresh_from_db()
    assert moderator.check_password("from the environment 123")
    assert ReviewItem.objects.filter(platform=platform).count() == 4


def test_demo_credentials_stay_the_same_across_runs(_demo_env: Path) -> None:
    first = _printed(_run())
    assert _demo_env.is_file() and oct(_demo_env.stat().st_mode & 0o777) == "0o600"
    second_output = _run("--port", "8080")
    second = _printed(second_output)
    assert second == first  # the same logins and key: what a user noted down keeps working
    assert "http://127.0.0.1:8080/console/" in second_output and "(kept)" in second_output
    assert "the same as the last run" in second_output

    users = get_user_model().objects
    assert users.get(username="admin").check_password(first["admin"])
    assert users.get(username="moderator").check_password(first["moderator"])
    keys = ApiKey.objects.filter(platform__name="demo")
    assert keys.count() == 1 and keys.get().revoked_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['key']}")
    assert client.get("/api/v1/scans").status_code == 200

    # a new secret: new credentials, and the old key stops working
    _demo_env.unlink()
    third = _printed(_run())
    assert third["key"] != first["key"] and third["admin"] != first["admin"]
    assert client.get("/api/v1/scans").status_code == 401
