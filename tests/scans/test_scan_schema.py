"""OpenAPI schema (validated), the browsable docs without a CDN, and the health probes."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client


def test_schema_validates_without_warnings(tmp_path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/scans:", "/api/v1/scans/{scan_id}:", "/api/v1/known-fakes:"):
        assert path in text
    assert "bearer" in text


@pytest.mark.django_db
def test_schema_endpoint_is_public() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/scans" in response.json()["paths"]


def test_docs_load_their_assets_locally() -> None:
    html = Client().get("/api/docs/").content.decode()
    assets = re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css|png))["']""", html)
    assets += re.findall(r"""["']([^"' ]+/static/[^"' ]+\.js)["']""", html)
    assert assets, html[:500]
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served by this server"
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is missing from the static files"
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html.replace("http://www.w3.org", ""))


def test_healthz() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_broker_and_model() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert checks["database"] == "ok" and checks["model"] == "ok"
    assert checks["broker"] in ("ok", "not_configured")


@pytest.mark.django_db
def test_readyz_fails_when_the_model_cannot_load(settings, tmp_path) -> None:
    settings.FAKEME_DETECTOR = {**settings.FAKEME_DETECTOR, "WEIGHTS": [tmp_path / "missing.safetensors"]}
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model"] == "error: model_unavailable"


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_broker(settings) -> None:
    from moderation.celery import app

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    before = app.conf.broker_url
    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = Client().get("/readyz")
    finally:
        app.conf.broker_url = before
    assert response.status_code == 503 and response.json()["checks"]["broker"].startswith("error")
