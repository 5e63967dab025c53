"""bench/docs_section.py: each benchmark rewrites only its own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

from bench.docs_section import HEADER, write_section

A = ("<!-- bench:a start -->", "<!-- bench:a end -->")
B = ("<!-- bench:b start -->", "<!-- bench:b end -->")


def test_creates_the_file_then_appends_and_replaces_sections(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "benchmarks.md"
    write_section(out, "alpha 1\n", *A)
    assert out.read_text() == HEADER + "<!-- bench:a start -->\nalpha 1\n<!-- bench:a end -->\n"
    write_section(out, "beta 1\n", *B)
    write_section(out, "alpha 2\n", *A)
    text = out.read_text()
    assert "alpha 1" not in text and "alpha 2" in text and "beta 1" in text
    assert text.index("bench:a start") < text.index("bench:b start")  # replaced in place
    write_section(out, "alpha 2\n", *A)
    assert out.read_text() == text  # rewriting the same body changes nothing
