"""``python manage.py detect PATH... [--json] [--heatmap OUTDIR] [--timeline OUTDIR] [--fps F]``.

One line per file (``path  verdict  probability  faces=N  ms``) or, with ``--json``, one
JSON object per line. A file that fails prints its error code and message; the others
still run, and the command exits non-zero at the end. A thin wrapper: the command's code is
``detection.cli.detect``; this adds the detector's settings (``FAKEME_DETECTOR``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.cli import detect
from detection.cli.common import CliError, Output


class Command(BaseCommand):
    help = detect.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        detect.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Output(self.stdout.write, self.stderr.write, self.style.SUCCESS)
        try:
            detect.run(options, out, detector_config=settings.FAKEME_DETECTOR)
        except CliError as exc:
            raise CommandError(str(exc)) from exc
