"""``python manage.py requeue_stranded``: the recovery sweep, run by hand (Celery beat runs it every minute).

Run it after Redis lost its data (restart without persistence, failover) to send queued scans and
generations and due webhook deliveries again at once, instead of waiting for REQUEUE_AFTER_S.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from moderation.core.recovery import requeue_stranded


class Command(BaseCommand):
    help = "Send queued scans and generations and overdue webhook deliveries again (lost broker messages)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            action="store_true",
            help="take every queued scan and generation and pending delivery, however recent",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # --now: pretend the window has passed for everything queued up to this moment.
        now = timezone.now() + timedelta(seconds=settings.FAKEME_SCANS["REQUEUE_AFTER_S"])
        sent = requeue_stranded(now=now if options["now"] else None)
        self.stdout.write(
            f"sent again: {sent['scans']} scan(s), {sent['generations']} generation(s), "
            f"{sent['deliveries']} webhook delivery(ies)"
        )
