"""Issue 21: console pages carry a Content-Security-Policy that runs only the console's own script
files; the templates hold no inline script or event-handler attribute that such a policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGES = ["console:queue", "console:scans", "console:audit", "console:dashboard", "console:watermark"]


def _policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("name", PAGES)
def test_console_pages_have_a_policy(staff_client: Client, name: str) -> None:
    response = staff_client.get(reverse(name))
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    for src in re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", response.content.decode()):
        assert src.startswith("/static/"), src  # the console's own script, served from this origin


def test_login_page_has_the_policy_too() -> None:
    response = Client().get(reverse("console:login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_api_responses_are_not_given_the_console_policy(client: Client) -> None:
    assert "Content-Security-Policy" not in client.get("/healthz")


def test_templates_have_no_inline_script() -> None:
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        inline = [m for m in re.findall(r"<script([^>]*)>", text) if "src=" not in m]
        assert inline == [], f"{path.name}: inline <script> blocked by the policy"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name}: an on*= handler blocked by the policy"
        assert "javascript:" not in text, path.name
