"""Authentication backend that counts every password check and refuses sign-in during a lockout.

Each attempt takes its number from the cache's atomic counter before the password is checked
(``reports.services.login_guard``), so parallel guesses cannot all be checked against the limit.

The console's login view answers a locked-out attempt itself (429 with a message) before it gets
here; this backend is what protects every other password form, the admin's login first of all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from reports.services.login_guard import (
    login_attempt_failed,
    login_attempt_start,
    login_attempt_succeeded,
    login_client_address,
)


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if username is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        address = login_client_address(request) if request is not None else None
        attempt = login_attempt_start(username=username, address=address)
        if attempt.refused is not None:
            # PermissionDenied stops django.contrib.auth.authenticate() at once, right password or not.
            raise PermissionDenied("Too many failed sign-in attempts.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_attempt_failed(attempt)
        else:
            login_attempt_succeeded(attempt)
        return user
