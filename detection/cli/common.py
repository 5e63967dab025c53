"""What the command-line tools share: their error and where their output goes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field


class CliError(Exception):
    """A command refused its arguments or failed as a whole; the message says why (exit status 1)."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _plain(text: str) -> str:
    return text


@dataclass(frozen=True)
class Output:
    """Where a command writes: ``write`` for results and progress, ``error`` for per-item failures,
    ``success`` styles the closing line (a Django command passes its ``stdout.write``,
    ``stderr.write`` and ``style.SUCCESS``)."""

    write: Callable[[str], None] = print
    error: Callable[[str], None] = field(default=_stderr)
    success: Callable[[str], str] = field(default=_plain)
