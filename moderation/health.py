"""Health probes: ``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from moderation.celery import app
from moderation.core.shared_detector import get_detector


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and `make run` smoke checks."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not_configured"  # embedded mode: tasks run in-process
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _model() -> str:
    get_detector()  # loads on first call, then cached for the process
    return "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker when configured, detection model loaded. 503 if any fails."""
    checks: dict[str, str] = {}
    for name, check in (("database", _database), ("broker", _broker), ("model", _model)):
        try:
            checks[name] = check()
        except Exception as exc:
            checks[name] = f"error: {getattr(exc, 'code', type(exc).__name__)}"
    ready = all(value in ("ok", "not_configured") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
