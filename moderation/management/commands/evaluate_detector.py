"""``manage.py evaluate_detector --weights W --data DIR...``: the evaluation report of saved weights.

A thin wrapper: the command's code is ``detection.cli.evaluate``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.cli import evaluate
from detection.cli.common import CliError, Output


class Command(BaseCommand):
    help = evaluate.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        evaluate.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out = Output(self.stdout.write, self.stderr.write, self.style.SUCCESS)
        try:
            evaluate.run(options, out)
        except CliError as exc:
            raise CommandError(str(exc)) from exc
