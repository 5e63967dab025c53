"""``python manage.py finetune_detector --data DIR``: adapt the bundled detector to a platform's
labelled faces (``DIR/real``, ``DIR/fake``, e.g. AI Hub's Korean deepfake set).

A thin wrapper: the command's code is ``detection.cli.finetune``; this adds the configured weights.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.cli import finetune
from detection.cli.common import CliError, Output


class Command(BaseCommand):
    help = finetune.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        finetune.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Output(self.stdout.write, self.stderr.write, self.style.SUCCESS)
        try:
            finetune.run(options, out, configured_weights=settings.FAKEME_DETECTOR["WEIGHTS"])
        except CliError as exc:
            raise CommandError(str(exc)) from exc
