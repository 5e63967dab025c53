"""``python manage.py demo_setup``: what `make run` prints: a demo admin login and a demo platform key.

Each run sets a fresh random admin password and revokes the previous demo keys, so the
credentials printed are the only ones that work. Refuses to run with DEBUG off.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from moderation.models import Platform
from moderation.services.platforms import api_key_create, api_key_revoke, platform_create

DEMO_PLATFORM = "demo"
DEMO_KEY_NAME = "make run"


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin user and a demo platform API key, and print them."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup is for the embedded mode (DEBUG=True) only")
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"email": "admin@localhost"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()

        platform = Platform.objects.filter(name=DEMO_PLATFORM).first() or platform_create(name=DEMO_PLATFORM)
        for old in platform.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old)
        _, raw = api_key_create(platform=platform, name=DEMO_KEY_NAME)

        base = "http://127.0.0.1:8000"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Admin:        {base}/admin/   user admin   password {password}",
                    f"  API docs:     {base}/api/docs/",
                    f"  Demo API key: {raw}",
                    f"  Try:          curl -H 'Authorization: Bearer {raw}' \\\n"
                    f"                     -F media=@photo.jpg {base}/api/v1/scans",
                    "",
                ]
            )
        )
