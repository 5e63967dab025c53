"""bench/common.py's Section: each benchmark rewrites only its own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import HEADER, Section, command_line

A = Section("a")
B = Section("b")


def test_the_markers_name_the_benchmark() -> None:
    assert (A.start, A.end) == ("<!-- bench:a start -->", "<!-- bench:a end -->")


def test_creates_the_file_then_appends_and_replaces_sections(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "benchmarks.md"
    A.write(out, "alpha 1\n")
    assert out.read_text() == HEADER + "<!-- bench:a start -->\nalpha 1\n<!-- bench:a end -->\n"
    B.write(out, "beta 1\n")
    A.write(out, "alpha 2\n")
    text = out.read_text()
    assert "alpha 1" not in text and "alpha 2" in text and "beta 1" in text
    assert text.index("bench:a start") < text.index("bench:b start")  # replaced in place
    A.write(out, "alpha 2\n")
    assert out.read_text() == text  # rewriting the same body changes nothing


def test_publish_prints_always_and_writes_unless_told_not_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "benchmarks.md"
    A.publish(out, "alpha 1\n", write=False)
    assert "alpha 1" in capsys.readouterr().out and not out.exists()  # --no-write: print only
    A.publish(out, "alpha 1\n")
    assert f"updated {out}" in capsys.readouterr().out and "alpha 1" in out.read_text()


def test_the_command_line_is_the_module_run_with_its_arguments_quoted() -> None:
    assert command_line("detect", []) == "python -m bench.detect"
    assert command_line("load", ["--note", "two words"]) == "python -m bench.load --note 'two words'"
