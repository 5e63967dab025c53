"""Production settings (DEBUG off): ``manage.py check --deploy --fail-level WARNING`` is clean, and the
HTTPS settings act on real requests (secure cookies, HSTS, HTTP redirected to HTTPS except the health
probes, the forwarded scheme trusted only when a proxy is configured).

Each case runs in a fresh interpreter, since settings are read from the environment at import.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HOST = "fakeme.example.com"
# Variables that would override the production defaults under test (a developer's shell, a .env).
_OVERRIDES = ("DEBUG", "SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "SILENCED")


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OVERRIDES)}
    env |= {
        "DJANGO_SETTINGS_MODULE": "moderation.settings",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),  # 86 characters
        "WATERMARK_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": HOST,
        "OMP_NUM_THREADS": "1",
    }
    return env | extra


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


# Runs in the production interpreter (one, as importing the project takes seconds): the deploy check as
# ``manage.py check --deploy --fail-level WARNING`` runs it; the same check with one setting weakened (so
# that "clean" means something); and real requests showing the settings at work.
_PROBE = f"""
import io, json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.test.utils import override_settings

def deploy_check():
    out = io.StringIO()
    try:
        call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
        return out.getvalue()
    except SystemCheckError as exc:
        return "refused: " + str(exc)

clean = deploy_check()
weakened = {{}}
for name, value in [("SESSION_COOKIE_SECURE", False), ("CSRF_COOKIE_SECURE", False),
                    ("SECURE_SSL_REDIRECT", False), ("SECURE_HSTS_SECONDS", 0)]:
    with override_settings(**{{name: value}}):
        weakened[name] = deploy_check()[:8]

client = Client(HTTP_HOST="{HOST}")
plain = client.get("/console/login/")
health = client.get("/healthz")
secure = client.get("/console/login/", secure=True)
cookie = secure.cookies["csrftoken"]
claimed = client.get("/console/login/", HTTP_X_FORWARDED_PROTO="https")
with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
    proxied = client.get("/console/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({{
    "clean": clean,
    "weakened": weakened,
    "plain": [plain.status_code, plain.get("Location", "")],
    "health": health.status_code,
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(cookie["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "nosniff": secure.get("X-Content-Type-Options", ""),
    "frame": secure.get("X-Frame-Options", ""),
    "debug": settings.DEBUG,
    "claimed_https": claimed.status_code,
    "proxied_https": proxied.status_code,
}}))
"""


def test_production_settings_pass_the_deploy_check_and_act_on_requests() -> None:
    result = run(["-c", _PROBE], production_env())
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False
    assert "System check identified no issues" in probe["clean"], probe["clean"]
    assert probe["weakened"] == dict.fromkeys(probe["weakened"], "refused:"), probe["weakened"]
    assert len(probe["weakened"]) == 4
    assert probe["plain"] == [301, f"https://{HOST}/console/login/"]
    assert probe["health"] == 200  # load balancers probe over plain HTTP
    assert probe["secure"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains"
    assert probe["csrf_cookie_secure"] and probe["session_cookie_secure"] and probe["session_cookie_httponly"]
    assert probe["nosniff"] == "nosniff" and probe["frame"] == "DENY"
    # A client cannot claim HTTPS with a header, unless a proxy that sets it is configured.
    assert probe["claimed_https"] == 301 and probe["proxied_https"] == 200


def _settings_value(name: str, env: dict[str, str]) -> str:
    result = run(["-c", f"from moderation import settings; print(repr(settings.{name}))"], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_proxy_ssl_header_comes_from_the_environment() -> None:
    env = production_env(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert _settings_value("SECURE_PROXY_SSL_HEADER", env) == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert (
        "has no attribute"
        in run(
            ["-c", "from moderation import settings; settings.SECURE_PROXY_SSL_HEADER"], production_env()
        ).stderr
    )


def test_production_refuses_to_start_without_its_secrets() -> None:
    for missing in ("SECRET_KEY", "WATERMARK_KEY"):
        env = production_env()
        del env[missing]
        result = run(["-c", "import django; django.setup()"], env)
        assert result.returncode != 0
        assert f"{missing} must be set when DEBUG is False" in result.stderr
