"""CSV downloads of the console's tables, streamed row by row (an archive can be large).

Cells that a spreadsheet would run as a formula, in whole or after splitting at a separator (text
from platforms or users), are neutralised by ``moderation.core.spreadsheet`` and every cell is quoted.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from moderation.core.spreadsheet import QUOTING, spreadsheet_safe


class _Echo:
    """A write-only file for ``csv.writer`` that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = " ".join(_cell(v) for v in value)
    return spreadsheet_safe(str(value))


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Any], row: Callable[[Any], Sequence[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), quoting=QUOTING)

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for item in rows:
            yield writer.writerow([_cell(v) for v in row(item)])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
