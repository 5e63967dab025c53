"""Platforms (tenants) and their API keys."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from moderation.auth import api_key_generate
from moderation.models import ApiKey, Platform

logger = logging.getLogger(__name__)


def platform_create(*, name: str, **fields: Any) -> Platform:
    platform = Platform(name=name, **fields)
    platform.full_clean()
    platform.save()
    logger.info("platform created: %s (%s)", platform.name, platform.pk)
    return platform


def api_key_create(
    *, platform: Platform, name: str = "", created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """A new key for the platform; returns the row and the raw key, which is never shown again."""
    generated = api_key_generate()
    key = ApiKey.objects.create(
        platform=platform,
        name=name,
        prefix=generated.prefix,
        key_hash=generated.key_hash,
        created_by=created_by,
    )
    logger.info("api key created: %s for %s", key.prefix, platform.name)
    return key, generated.raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            logger.info("api key revoked: %s", key.prefix)
    return key
