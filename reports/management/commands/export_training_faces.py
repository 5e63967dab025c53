"""``python manage.py export_training_faces --platform NAME --out DIR``: labelled face crops for
``finetune_detector --data DIR`` (the platform's feedback and its moderators' decisions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.core.models import Platform
from reports.services.training_export import training_faces_export


class Command(BaseCommand):
    help = (
        "Write face crops of the platform's confirmed and corrected images as DIR/real and DIR/fake, "
        "ready for finetune_detector (crops only, within the platform's retention period)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--platform", required=True, help="the platform's name")
        parser.add_argument("--out", required=True, help="folder to write real/ and fake/ into")

    def handle(self, *args: Any, **options: Any) -> None:
        platform = Platform.objects.filter(name=options["platform"]).first()
        if platform is None:
            raise CommandError(f"no platform named {options['platform']!r}")
        counts = training_faces_export(platform=platform, out=Path(options["out"]))
        self.stdout.write(
            f"{counts.real} real and {counts.fake} fake face crops in {options['out']} "
            f"(skipped: {counts.skipped_expired} expired or unreadable, {counts.skipped_unlabelled} "
            f"without a label, {counts.skipped_videos} videos)"
        )
