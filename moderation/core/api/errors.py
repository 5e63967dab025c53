"""Custom DRF exception handler: every error becomes ``{"error": {"code", "message", "fields"}}``.

An engine error's status is the one table's (``moderation.core.errors.STATUS_BY_CODE``), as everywhere.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from detection.errors import EngineError
from moderation.core.errors import ApplicationError, from_engine_error

logger = logging.getLogger(__name__)

# Stable codes for DRF's own exceptions (its default codes are not all stable or descriptive).
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_content_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
}


def _error(code: str, message: str, http_status: int, fields: dict[str, Any] | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


# Seconds a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_S = 5


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or refusing connections (or a transient conflict such as a
        # deadlock): a retryable 503 in the API's own format, never a 500 page. Django closes the broken
        # connection at the end of the request, so the next one reconnects by itself.
        logger.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).strip()[:300])
        set_rollback()
        response = _error(
            "database_unavailable",
            "The database is temporarily unavailable; retry later.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return response
    if isinstance(exc, EngineError):  # a decoding (or other engine) error: its code, the table's status
        exc = from_engine_error(exc)
    if isinstance(exc, ApplicationError):
        set_rollback()
        response = _error(exc.code, exc.message, exc.status, exc.fields)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, RequestDataTooBig):  # a JSON body or form fields over DATA_UPLOAD_MAX_MEMORY_SIZE
        set_rollback()
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _error("request_too_large", f"The request's fields exceed {limit:,} bytes.", 413)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a broken multipart body, ...
        logger.warning("refused a suspicious request: %s: %s", type(exc).__name__, exc)
        set_rollback()
        return _error("malformed_request", str(exc) or "The request could not be parsed.", 400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        # A bug. Logged with its traceback; the client still gets the API's format, not an HTML page.
        view = context.get("view")
        logger.error("unhandled error in %s", type(view).__name__ if view else "an API view", exc_info=exc)
        set_rollback()
        return _error("internal_error", "An internal error occurred; it has been logged.", 500)

    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response = _error(
            "invalid", "The request is invalid; see fields.", status.HTTP_400_BAD_REQUEST, detail
        )
    elif isinstance(exc, exceptions.AuthenticationFailed):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "authentication_failed"
        response = _error(code, str(exc.detail), exc.status_code)
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        response = _error(code or str(exc.default_code), str(exc.detail), exc.status_code)
    # WWW-Authenticate (401) and Retry-After (429), as DRF's own handler sets them.
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


# -- outside DRF's views: paths that resolve to no view, and Django's own error handlers ----------------
def _json_error(code: str, message: str, http_status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=http_status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path no route matches (a trailing slash, an id that is no UUID): the JSON 404."""
    return _json_error("not_found", f"No API endpoint at {request.path!r}.", 404)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json_error("internal_error", "An internal error occurred; it has been logged.", 500)
    return defaults.server_error(request)
