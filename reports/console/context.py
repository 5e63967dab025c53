"""Template context every console page needs: the signed-in moderator's own settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from reports.services.media_veil import moderator_blurs


def console_settings(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/console/"):
        return {}
    return {"blur_media": moderator_blurs(user)}
