"""``detect PATH... [--json] [--heatmap OUTDIR] [--timeline OUTDIR] [--fps F]``.

One line per file (``path  verdict  probability  faces=N  ms``) or, with ``--json``, one
JSON object per line. A file that fails prints its error code and message; the others
still run, and the command fails at the end (``CliError``: a non-zero exit).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from detection.cli.common import CliError, Output
from detection.engine import AGGREGATIONS, AnalysisResult, Detector, ImageResult, VideoResult
from detection.errors import DetectionError
from detection.plots import timeline_png

HELP = "Score images and videos for face manipulation with the configured detector."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image or video files")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.add_argument("--heatmap", type=Path, metavar="OUTDIR", help="write a heatmap overlay PNG per face")
    parser.add_argument("--timeline", type=Path, metavar="OUTDIR", help="write a timeline PNG per video")
    parser.add_argument("--fps", type=float, help="video sampling rate (default: settings)")
    parser.add_argument("--aggregation", choices=AGGREGATIONS, help="video aggregate (default: settings)")
    parser.add_argument(
        "--weights",
        action="append",
        type=Path,
        metavar="FILE",
        help="weights file instead of settings (repeat for an ensemble)",
    )


def run(options: dict[str, Any], out: Output, *, detector_config: Mapping[str, Any]) -> None:
    """Score every path with a detector built from ``detector_config`` (``FAKEME_DETECTOR``) and the
    options that override it."""
    try:
        detector = Detector.from_settings(
            detector_config,
            weights=options["weights"],
            fps=options["fps"],
            aggregation=options["aggregation"],
        )
    except DetectionError as exc:
        raise CliError(f"{exc.code}: {exc.message}") from exc
    for outdir in (options["heatmap"], options["timeline"]):
        if outdir is not None:
            outdir.mkdir(parents=True, exist_ok=True)

    failures = 0
    used_stems: set[str] = set()
    for path in options["paths"]:
        stem = _unique_stem(path, used_stems)
        try:
            result = detector.analyze(path, heatmaps=options["heatmap"] is not None)
        except DetectionError as exc:
            failures += 1
            _report_error(out, path, exc.code, exc.message, options["json"])
            continue
        except OSError as exc:
            failures += 1
            _report_error(out, path, "unreadable_file", exc.strerror or str(exc), options["json"])
            continue
        files = _write_pictures(result, stem, options["heatmap"], options["timeline"])
        if options["json"]:
            out.write(json.dumps({"path": str(path), **_json(result), "files": files}))
        else:
            out.write(_line(path, result))
    if failures:
        raise CliError(f"{failures} of {len(options['paths'])} files could not be analysed")


def _unique_stem(path: Path, used: set[str]) -> str:
    stem, n = path.stem or "input", 1
    while stem in used:
        n += 1
        stem = f"{path.stem}-{n}"
    used.add(stem)
    return stem


def _report_error(out: Output, path: Path, code: str, message: str, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps({"path": str(path), "error": {"code": code, "message": message}}))
    else:
        out.error(f"{path}  error  {code}  {message}")


def _json(result: AnalysisResult) -> dict[str, Any]:
    data = result.to_dict()
    # Heatmaps go to files (--heatmap); base64 PNGs would swamp a terminal.
    faces = [face for frame in data.get("frames", []) for face in frame["faces"]] + data.get("faces", [])
    for face in faces:
        face.pop("heatmap_png_base64", None)
    return data


def _line(path: Path, result: AnalysisResult) -> str:
    probability = "-" if result.probability is None else f"{result.probability:.3f}"
    if isinstance(result, VideoResult):
        faces = sum(len(frame.faces) for frame in result.frames)
        extra = f"  frames={result.frames_with_faces}/{result.frames_sampled}"
    else:
        faces, extra = len(result.faces), ""
    millis = result.timings_ms["total"]
    return f"{path}  {result.verdict}  {probability}  faces={faces}{extra}  {millis:.0f}ms"


def _write_pictures(
    result: AnalysisResult, stem: str, heatmap_dir: Path | None, timeline_dir: Path | None
) -> list[str]:
    written: list[Path] = []
    if heatmap_dir is not None and isinstance(result, ImageResult):
        for i, face in enumerate(result.faces):
            if face.heatmap_png:
                target = heatmap_dir / f"{stem}.face{i}.png"
                target.write_bytes(face.heatmap_png)
                written.append(target)
    if timeline_dir is not None and isinstance(result, VideoResult):
        target = timeline_dir / f"{stem}.timeline.png"
        target.write_bytes(timeline_png(result))
        written.append(target)
    return [str(p) for p in written]
