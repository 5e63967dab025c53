"""``python manage.py create_platform NAME [--threshold T] [--review-threshold R] [--observe-only] ...``.

Creates the platform if it does not exist and prints a new API key for it (shown only now).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.core.models import Platform
from moderation.core.platforms import api_key_create, platform_create


class Command(BaseCommand):
    help = "Create a platform (tenant) if needed and print a new API key for it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--threshold", type=float, help="tag threshold (default: the model card's)")
        parser.add_argument(
            "--review-threshold",
            type=float,
            help="from it up to the tag threshold a scan is uncertain (default: the model card's)",
        )
        parser.add_argument(
            "--no-review-uncertain",
            action="store_true",
            help="uncertain scans do not open review items by themselves",
        )
        parser.add_argument("--observe-only", action="store_true", help="score and log, never tag")
        parser.add_argument("--webhook-url", default="", help="where scan.completed events are POSTed")
        parser.add_argument("--rate-limit", default="", help="API requests, e.g. 600/min")
        parser.add_argument("--key-name", default="create_platform", help="label of the new key")
        parser.add_argument(
            "--json", action="store_true", help="print {platform_id, name, api_key, webhook_secret}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        platform = Platform.objects.filter(name=options["name"]).first()
        if platform is None:
            try:
                platform = platform_create(
                    name=options["name"],
                    threshold=options["threshold"],
                    review_threshold=options["review_threshold"],
                    review_uncertain=not options["no_review_uncertain"],
                    observe_only=options["observe_only"],
                    webhook_url=options["webhook_url"],
                    rate_limit=options["rate_limit"],
                )
            except ValidationError as exc:
                raise CommandError(f"invalid platform settings: {exc.message_dict}") from exc
        _, raw = api_key_create(platform=platform, name=options["key_name"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "platform_id": str(platform.pk),
                        "name": platform.name,
                        "api_key": raw,
                        "webhook_secret": platform.webhook_secret,
                    }
                )
            )
        else:
            self.stdout.write(raw)
