"""``python manage.py purge_expired_media``: the retention task, run by hand (Celery beat runs it hourly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from moderation.core.retention import media_retention_purge


class Command(BaseCommand):
    help = "Delete stored scan media older than each platform's retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = media_retention_purge()
        self.stdout.write(f"deleted {deleted} media file(s)")
