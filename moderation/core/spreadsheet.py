"""Text for CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

Spreadsheets run a cell as a formula when it starts with ``=``, ``+``, ``-``, ``@`` (or a tab or CR,
which some strip first), and they also match the full-width forms (``＝HYPERLINK(...)``); a cell such
as ``x;=HYPERLINK(...)`` becomes a formula cell when the file is opened with ``;`` as the separator.
So, as a class (OWASP's CSV injection advice):

* a cell whose first character, or first after leading spaces, folds (Unicode NFKC) to a trigger is
  prefixed with ``'``;
* a trigger that follows a separator character (``,`` ``;`` ``|`` tab, or a line break, then any
  spaces) inside a cell gets a ``'`` in front of it, so no way of splitting the cell leaves a formula;
* writers quote every cell (``csv.QUOTE_ALL``), so a reader keeps a cell whole whatever its separator.

Plain numbers (``-1.5``) are left alone: they are data, not formulas.
"""

from __future__ import annotations

import csv
import unicodedata

TRIGGERS = frozenset("=+-@")
CONTROL_TRIGGERS = frozenset("\t\r\n")
SEPARATORS = frozenset(",;|\t\r\n")  # cell separators, and line breaks for readers that ignore quotes
QUOTING = csv.QUOTE_ALL


def _folded(char: str) -> str:
    return unicodedata.normalize("NFKC", char)[:1]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower() not in ("nan", "inf", "-inf", "+inf", "infinity")


def spreadsheet_safe(text: str) -> str:
    """``text`` as it can go into a CSV cell without a spreadsheet running any part of it."""
    if not text or _is_number(text):
        return text
    out: list[str] = []
    after_separator = True  # the start of the cell counts as one
    for char in text:
        if after_separator and (_folded(char) in TRIGGERS or (char in CONTROL_TRIGGERS and not out)):
            out.append("'")
        if char in SEPARATORS:
            after_separator = True
        elif not char.isspace():
            after_separator = False
        out.append(char)
    return "".join(out)
