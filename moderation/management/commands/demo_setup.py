"""``python manage.py demo_setup``: what `make run` prints: a demo admin login and a demo platform key.

It also makes a demo moderator for the staff console (``/console/``), whose password is
``DEMO_MODERATOR_PASSWORD`` when set, else a fresh random one printed here, and, on the first
run, a few real scans, reports and an appeal so that the console is not empty.

Each run sets a fresh random admin password and revokes the previous demo keys, so the
credentials printed are the only ones that work. Refuses to run with DEBUG off.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from moderation.models import Platform
from moderation.services.platforms import api_key_create, api_key_revoke, platform_create

DEMO_PLATFORM = "demo"
DEMO_KEY_NAME = "make run"
DEMO_MODERATOR = "moderator"


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

        # The console's demo moderator: staff, not superuser. Never a committed password.
        moderator_password = os.environ.get("DEMO_MODERATOR_PASSWORD") or secrets.token_urlsafe(12)
        moderator, _ = get_user_model().objects.get_or_create(username=DEMO_MODERATOR)
        moderator.is_staff, moderator.is_superuser = True, False
        moderator.set_password(moderator_password)
        moderator.save()
        shown = (
            "(from DEMO_MODERATOR_PASSWORD)"
            if os.environ.get("DEMO_MODERATOR_PASSWORD")
            else moderator_password
        )

        from reports.console.demo import demo_content_create  # the console's demo posts

        demo = demo_content_create(platform=platform)
        content = (
            f"skipped: {demo.skipped}"
            if demo.skipped
            else f"{demo.scans} scans, {demo.reports} reports, {demo.appeals} appeal"
        )

        base = "http://127.0.0.1:8000"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Admin:        {base}/admin/   user admin   password {password}",
                    f"  Console:      {base}/console/   user {DEMO_MODERATOR}   password {shown}",
                    f"  Demo content: {content}",
                    f"  API docs:     {base}/api/docs/",
                    f"  Demo API key: {raw}",
                    f"  Try:          curl -H 'Authorization: Bearer {raw}' \\\n"
                    f"                     -F media=@photo.jpg {base}/api/v1/scans",
                    "",
                ]
            )
        )
