"""``python manage.py make_training_swaps --data DIR --out DIR``: face swaps for detector training.

A thin wrapper: the command's code (and how swaps keep identities apart across the training split)
is ``generation.landmark.training_cli``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.cli.common import CliError, Output
from generation.landmark import training_cli


class Command(BaseCommand):
    help = training_cli.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        training_cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Output(self.stdout.write, self.stderr.write, self.style.SUCCESS)
        try:
            training_cli.run(options, out)
        except CliError as exc:
            raise CommandError(str(exc)) from exc
