"""bench/docs_section.py: each benchmark rewrites only its own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.docs_section import HEADER, publish, write_section

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


def test_publish_prints_always_and_writes_unless_told_not_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "benchmarks.md"
    publish(out, "alpha 1\n", *A, write=False)
    assert "alpha 1" in capsys.readouterr().out and not out.exists()  # --no-write: print only
    publish(out, "alpha 1\n", *A)
    assert f"updated {out}" in capsys.readouterr().out and "alpha 1" in out.read_text()
