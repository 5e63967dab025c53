"""Per-platform request throttling (DRF), counted in the default cache (Redis in production)."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from moderation.core.auth import PlatformClient

logger = logging.getLogger(__name__)


class PlatformRateThrottle(SimpleRateThrottle):
    """One budget per platform, shared by all its keys; a platform's ``rate_limit`` overrides the default."""

    scope = "platform"

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.user
        if isinstance(client, PlatformClient) and client.platform.rate_limit:
            self.rate = client.platform.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            # The counter store (Redis) is down: serve the request rather than fail every call of every
            # platform; the rate limit is back as soon as the cache is.
            logger.warning("throttle skipped, cache unavailable: %s: %s", type(exc).__name__, exc)
            return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = request.user
        if not isinstance(client, PlatformClient):
            return None  # unauthenticated requests never reach a view that needs a platform
        return self.cache_format % {"scope": self.scope, "ident": client.platform.pk}
