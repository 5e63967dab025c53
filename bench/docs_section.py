"""Writing one benchmark's section of ``docs/benchmarks.md`` without touching the others."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "# Benchmarks\n\nMeasured on the project's reference machine by the scripts in `bench/`. "
    "Each script rewrites only its own section, between its markers.\n\n"
)


def write_section(out: Path, body: str, start_marker: str, end_marker: str) -> None:
    """Replace the section between the markers in ``out`` (create the file, or append the section)."""
    section = f"{start_marker}\n{body}{end_marker}\n"
    if out.is_file():
        text = out.read_text()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        text = HEADER
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end > start:
        rest = text[end + len(end_marker) :].lstrip("\n")
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    out.write_text(text)


def publish(out: Path, body: str, start_marker: str, end_marker: str, write: bool = True) -> None:
    """Print a benchmark's section and, unless told not to, write it into ``out``."""
    print(body)
    if write:
        write_section(out, body, start_marker, end_marker)
        print(f"updated {out}")
