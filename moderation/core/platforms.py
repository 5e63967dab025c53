"""Platforms (tenants) and their API keys."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from moderation.core.audit import audit_record
from moderation.core.auth import GeneratedKey, api_key_generate
from moderation.core.models import ApiKey, Platform

logger = logging.getLogger(__name__)


def platform_create(*, name: str, **fields: Any) -> Platform:
    platform = Platform(name=name, **fields)
    platform.full_clean()
    platform.save()
    logger.info("platform created: %s (%s)", platform.name, platform.pk)
    return platform


def api_key_create(
    *,
    platform: Platform,
    name: str = "",
    created_by: AbstractBaseUser | None = None,
    generated: GeneratedKey | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the platform; returns the row and the raw key, which is never shown again.

    ``generated``: a key made elsewhere (the demo's derived key); default a new random one."""
    generated = generated or api_key_generate()
    key = ApiKey.objects.create(
        platform=platform,
        name=name,
        prefix=generated.prefix,
        key_hash=generated.key_hash,
        created_by=created_by,
    )
    logger.info("api key created: %s for %s", key.prefix, platform.name)
    audit_record(
        action="api_key.create",
        actor=created_by,
        target=key,
        target_label=f"API key {key.prefix}… ({platform.name})",
        platform=platform,
        description=f'{_actor(created_by)} created API key {key.prefix}… "{name}" for {platform.name}.',
        after={"prefix": key.prefix, "name": name},  # never the key itself
    )
    return key, generated.raw


def _actor(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "The system"


# Settings whose values the audit log must not show (only that they changed).
_SECRET_SETTINGS = {"webhook_secret"}


def platform_update(*, platform: Platform, user: AbstractBaseUser | None, **fields: Any) -> Platform:
    """Change a platform's settings (validated) and record before/after of what changed in the audit log."""
    unknown = [
        name for name in fields if name in ("id", "created_at", "updated_at") or not hasattr(platform, name)
    ]
    if unknown:
        raise ValueError(f"not platform settings: {', '.join(unknown)}")
    with transaction.atomic():
        current = Platform.objects.select_for_update().get(pk=platform.pk)
        changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
        if not changed:
            return current
        before = {name: getattr(current, name) for name in changed}
        for name, value in changed.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()

        def shown(name: str, value: Any) -> Any:
            return "(secret)" if name in _SECRET_SETTINGS else value

        audit_record(
            action="platform.settings_change",
            actor=user,
            target=current,
            platform=current,
            description=f"{_actor(user)} changed {current.name}'s settings: "
            + ", ".join(
                f"{name} {shown(name, before[name])!r} → {shown(name, changed[name])!r}" for name in changed
            )
            + ".",
            before={name: shown(name, value) for name, value in before.items()},
            after={name: shown(name, value) for name, value in changed.items()},
        )
    logger.info("platform %s settings changed: %s", current.name, ", ".join(changed))
    return current


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            logger.info("api key revoked: %s", key.prefix)
    return key
