"""Authentication backend that refuses every sign-in during a brute-force lockout.

The console's login view answers a locked-out attempt itself (429 with a message) before it gets
here; this backend is what protects every other password form, the admin's login first of all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from reports.services.login_guard import login_client_address, login_lockout_get


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if username is not None:
            address = login_client_address(request) if request is not None else None
            if login_lockout_get(username=username, address=address):
                # PermissionDenied stops django.contrib.auth.authenticate() at once, right password or not.
                raise PermissionDenied("Too many failed sign-in attempts.")
        return super().authenticate(request, username=username, password=password, **kwargs)
