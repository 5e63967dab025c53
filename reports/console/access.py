"""Who may use the console, and how its errors reach the moderator as readable messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from detection.errors import EngineError
from moderation.core.errors import ApplicationError, from_engine_error

View = Callable[..., HttpResponse]


def error_page(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    return render(
        request, "console/error.html", {"title": title, "message": message, "status": status}, status=status
    )


def staff_required(view: View) -> View:
    """Anonymous users go to the login page; signed-in users who are not staff get a 403 page.

    (Django's own ``staff_member_required`` sends non-staff to the login page too, which loops.)
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not (user.is_active and user.is_staff):
            return error_page(
                request,
                "Staff only",
                "The console is for FakeME staff. Your account is signed in but is not a staff account; "
                "ask an administrator to give it staff access.",
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapper


def allow(*methods: str) -> Callable[[View], View]:
    """Like Django's ``require_http_methods``, with a readable 405 page instead of an empty one."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_page(
                    request,
                    "Not allowed",
                    f"This address answers {' and '.join(methods)} requests, not {request.method}.",
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def back_url(request: HttpRequest, fallback: str) -> str:
    """Where a form sends the moderator back to: its ``next`` field when it is ours, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def media_error(exc: EngineError) -> ApplicationError:
    """A stored file the console could not decode (for a preview, a thumbnail, a frame): the engine's
    code and message with the status the API gives that code (``moderation.core.errors.http_status``;
    an image over the pixel limit is 413 here as there)."""
    return from_engine_error(exc)


def application_error_message(exc: ApplicationError) -> str:
    return exc.message if exc.message.endswith(".") else f"{exc.message}."


def action_view(fallback: Callable[..., str]) -> Callable[[View], View]:
    """For POST actions: an ``ApplicationError`` becomes an error message on the page we go back to.

    ``fallback(**kwargs)`` gives the page to return to when the form names none.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as exc:
                messages.error(request, application_error_message(exc))
                return redirect(back_url(request, fallback(**kwargs)))

        return wrapper

    return decorate


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a readable page instead of Django's debug text."""
    return error_page(
        request,
        "Form expired",
        "The form could not be accepted because its security token was missing or out of date "
        "(for example after signing in again in another tab). Go back, reload the page and try again.",
        status=403,
    )
