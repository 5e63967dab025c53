"""API-key authentication: ``Authorization: Bearer fkm_<id>_<secret>``.

A key is 8 random id characters (stored in clear as its ``prefix``, to find the row and to let
people recognise a key) and 32 random secret bytes. Only the SHA-256 of the whole key is stored:
the key has 256 bits of entropy, so a slow password hash would add latency and no safety.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from moderation.core.models import ApiKey, Platform

KEY_TAG = "fkm_"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most this often per key


@dataclass(frozen=True)
class GeneratedKey:
    raw: str  # shown once, never stored
    prefix: str
    key_hash: str


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_key_generate() -> GeneratedKey:
    prefix = KEY_TAG + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    return GeneratedKey(raw=raw, prefix=prefix, key_hash=api_key_hash(raw))


def api_key_derive(secret: bytes, label: str) -> GeneratedKey:
    """The same well-formed key every time for one (secret, label): the demo key of ``make run``,
    derived from the local demo secret so that it survives restarts. Never for real platforms."""
    digest = hmac.new(secret, f"api-key:{label}".encode(), hashlib.sha256).digest()
    prefix = KEY_TAG + "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:8])
    body = hmac.new(secret, f"api-key-secret:{label}".encode(), hashlib.sha256).digest()
    raw = f"{prefix}_{base64.urlsafe_b64encode(body).rstrip(b'=').decode('ascii')}"
    return GeneratedKey(raw=raw, prefix=prefix, key_hash=api_key_hash(raw))


def _prefix_of(raw: str) -> str | None:
    if not raw.startswith(KEY_TAG) or raw.count("_") < 2:
        return None
    prefix = raw[: len(KEY_TAG) + 8]
    return prefix if raw[len(prefix) : len(prefix) + 1] == "_" else None


@dataclass(frozen=True)
class PlatformClient:
    """``request.user`` for API requests: the calling platform and the key it used."""

    platform: Platform
    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __str__(self) -> str:
        return f"platform {self.platform.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[PlatformClient, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        prefix = _prefix_of(raw)
        key = ApiKey.objects.select_related("platform").filter(prefix=prefix).first() if prefix else None
        # Compare digests in constant time; hash something even when no row matched.
        expected = key.key_hash if key else api_key_hash("")
        if not hmac.compare_digest(api_key_hash(raw), expected) or key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")
        if key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.", code="api_key_revoked")
        if not key.platform.is_active:
            raise exceptions.AuthenticationFailed("This platform is disabled.", code="platform_disabled")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return PlatformClient(platform=key.platform, api_key=key), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
