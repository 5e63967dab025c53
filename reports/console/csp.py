"""Content-Security-Policy for the console's pages.

Escaping is the first defence against injected markup; this header is the second: a console page runs
only the console's own script files (``reports/static/console/*.js``, no inline script, no ``eval``),
loads its styles, images and fonts from this origin (plus ``data:`` images), is never framed, and
posts forms only to itself. Inline ``style=`` attributes (face boxes, evidence sizes) are allowed: they
carry no script. The API's browsable docs (``/api/docs/``) are not console pages and keep their own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CONSOLE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class ConsoleContentSecurityPolicyMiddleware:
    """Sets ``settings.CONSOLE_CONTENT_SECURITY_POLICY`` on every response under the console's prefix."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        prefix = getattr(settings, "CONSOLE_PATH_PREFIX", "/console/")
        if request.path.startswith(prefix) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = getattr(
                settings, "CONSOLE_CONTENT_SECURITY_POLICY", CONSOLE_CSP
            )
        return response
