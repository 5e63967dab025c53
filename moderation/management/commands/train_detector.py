"""``python manage.py train_detector --data DIR...``: train the detector from face folders.

A thin wrapper: the command's code is ``detection.cli.train``; this adds the configured weights.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.cli import train
from detection.cli.common import CliError, Output


class Command(BaseCommand):
    help = train.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        train.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Output(self.stdout.write, self.stderr.write, self.style.SUCCESS)
        try:
            train.run(options, out, configured_weights=settings.FAKEME_DETECTOR["WEIGHTS"])
        except CliError as exc:
            raise CommandError(str(exc)) from exc
