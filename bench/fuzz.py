"""Coverage-guided fuzzing (atheris / libFuzzer) of what reads untrusted media, for a bounded time.

Targets:
  image      ``detection.imaging.load_image`` and ``check_image`` on the raw bytes;
  video      ``detection.video.VideoReader``: ``check()`` (admission), ``frames()`` (sampling) and
             ``every_frame()`` (generation, console); every frame must be within the pixel limit
             (the shared frame guard), whatever the header said;
  watermark  the watermark decoder: ``watermark.recover`` on arrays of any shape and dtype built
             from the input, ``FrameVote`` over several such frames, ``recover_bytes`` on bytes.

The documented failures are the typed errors (``detection.errors.DetectionError``,
``watermark.errors.WatermarkError``); anything else escaping, a crash of a C decoder, an input that
takes longer than ``--unit-timeout`` seconds or more than ``--rss-limit-mb`` of memory is a finding:
libFuzzer writes the input to ``--artifacts`` and the run says so. Each target runs in a child
process (libFuzzer exits when done), seeded from ``tests/corpus/bad_inputs.py``; Python code of
``detection``, ``watermark`` and Pillow's plugins is instrumented for coverage.

    nice -n 19 python -m bench.fuzz --seconds 60          # every target, writes docs/benchmarks.md
    python -m bench.fuzz --targets image --seconds 10 --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_OUT, ROOT, Section, command_line, machine_info

SECTION = Section("fuzz")
TARGETS = ("image", "video", "watermark")
KEYS = [b"fuzz-watermark-key-current", b"fuzz-watermark-key-previous"]
MAX_PIXELS = 4_000_000  # the limits are what is fuzzed, not Pillow's speed on 50 Mpx
MAX_LEN = 256 * 1024

# Cases found by review rather than fuzzing, seeds of the video target like every corpus case (issue 21):
# an MJPEG AVI whose header and first frames are 160×136 and whose later frames are 8000² or 16000².
REVIEW_SEEDS = ("avi_mjpeg_frames_grow_to_8000", "avi_mjpeg_frames_grow_to_16000")

# Findings of earlier runs, each now a corpus case (tests/corpus/bad_inputs.py) and fixed; the report
# lists them so that the section says what fuzzing has found so far, not only in its latest run.
FOUND_BEFORE: list[tuple[str, str, str]] = [
    (
        "video",
        "an MP4 track without a sample description (its `minf` box renamed): PyAV's stream has no codec "
        "context and `VideoReader` raised `AttributeError` (a 500 from watermark recovery, the console's "
        "watermark tool and generations with a video target; an `internal_error` failed scan from the "
        "worker); now 415 `unsupported_media_type`",
        "mp4_minf_renamed",
    ),
]


# -- the child: one target under libFuzzer ----------------------------------------------------------
def _image_target() -> Any:
    import atheris

    with atheris.instrument_imports(include=["detection", "PIL"]):
        from PIL import Image

        from detection.errors import DetectionError
        from detection.imaging import check_image, load_image

        Image.init()  # Pillow imports its format plugins lazily: import them here, instrumented

    def one(data: bytes) -> None:
        try:
            check_image(data, max_pixels=MAX_PIXELS)
        except DetectionError:
            pass
        try:
            rgb = load_image(data, max_pixels=MAX_PIXELS)
        except DetectionError:
            return
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype.name == "uint8", rgb.shape

    return one


def _video_target() -> Any:
    import atheris

    with atheris.instrument_imports(include=["detection"]):
        from detection.errors import DetectionError
        from detection.video import VideoReader

    path = Path(
        tempfile.mkdtemp(prefix="fakeme-fuzz-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
    )
    clip = path / "clip"
    limits = {"max_seconds": 30.0, "max_frames": 4, "max_pixels": MAX_PIXELS, "threads": 1}

    def one(data: bytes) -> None:
        clip.write_bytes(data)
        try:
            with VideoReader(clip, **limits) as reader:
                reader.check()
            with VideoReader(clip, **limits) as reader:
                for _, t, rgb in reader.frames():
                    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype.name == "uint8", rgb.shape
                    assert rgb.shape[0] * rgb.shape[1] <= MAX_PIXELS, rgb.shape
                    assert t >= 0.0, t
        except DetectionError:
            pass
        try:
            with VideoReader(clip, **limits) as reader:
                for _, _, rgb in reader.every_frame(max_frames=4):
                    assert rgb.shape[0] * rgb.shape[1] <= MAX_PIXELS, rgb.shape
        except DetectionError:
            pass

    return one


def _watermark_target() -> Any:
    import atheris
    import numpy as np

    with atheris.instrument_imports(include=["watermark", "detection"]):
        import watermark
        from watermark.errors import WatermarkError

    dtypes = [np.uint8, np.uint8, np.uint8, np.uint16, np.float32, np.int8, np.bool_]

    def array(fdp: Any) -> Any:
        shape = [fdp.ConsumeIntInRange(0, 320), fdp.ConsumeIntInRange(0, 320)]
        shape += [[3, 3, 3, 1, 4, 0][fdp.ConsumeIntInRange(0, 5)]] if fdp.ConsumeBool() else []
        dtype = dtypes[fdp.ConsumeIntInRange(0, len(dtypes) - 1)]
        count = int(np.prod(shape))
        raw = fdp.ConsumeBytes(count * np.dtype(dtype).itemsize)
        raw += bytes(count * np.dtype(dtype).itemsize - len(raw))
        return np.frombuffer(raw, dtype=dtype).reshape(shape)

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        mode = fdp.ConsumeIntInRange(0, 3)
        keys: Any = KEYS if fdp.ConsumeBool() else [fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 40))]
        try:
            if mode == 0:
                found = watermark.recover_bytes(fdp.ConsumeBytes(MAX_LEN), keys)
            elif mode == 1:
                found = watermark.recover(array(fdp), keys)
            else:
                vote = watermark.FrameVote(keys, max_frames=fdp.ConsumeIntInRange(1, 4))
                for _ in range(fdp.ConsumeIntInRange(0, 3)):
                    vote.add(array(fdp))
                found = vote.result()
        except WatermarkError:
            return
        assert not found.found, "a watermark found in fuzzer-made data"  # P(false positive) < 1e-10

    return one


def child(target: str, libfuzzer_args: list[str]) -> None:
    import atheris

    one = {"image": _image_target, "video": _video_target, "watermark": _watermark_target}[target]()
    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


# -- the parent: seeds, children, report ---------------------------------------------------------------
@dataclass
class Run:
    target: str
    seconds: float = 0.0
    executions: int = 0
    exec_per_s: float = 0.0
    coverage: int = 0  # libFuzzer's "cov": instrumented edges reached
    features: int = 0
    corpus_start: int = 0
    corpus_end: int = 0
    peak_rss_mb: int = 0
    exit_code: int = 0
    findings: list[str] = field(default_factory=list)  # artifact paths (crash-, timeout-, oom-)
    summary: str = ""  # the Python exception or libFuzzer's reason, for each finding


def seeds(target: str, directory: Path) -> int:
    """Write the corpus cases that fit ``target`` as its seed inputs; how many."""
    from detection.imaging import sniff_media
    from tests.corpus.bad_inputs import media_cases

    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    missing = set(REVIEW_SEEDS) - {case.name for case in media_cases()}
    assert not missing, f"review seeds missing from the corpus: {sorted(missing)}"
    for case in media_cases():
        kind = sniff_media(case.data)
        if target == "video" and kind != "video":
            continue
        if target == "image" and kind == "video":
            continue
        data = case.data[:MAX_LEN]
        if target == "watermark":  # mode 0 (bytes), current keys: the provider reads two bytes first
            data = b"\x00\x01" + data
        (directory / case.name).write_bytes(data)
        count += 1
    return count


def run_target(target: str, seconds: int, args: argparse.Namespace, work: Path) -> Run:
    corpus = work / f"corpus-{target}"
    run = Run(target, corpus_start=seeds(target, corpus))
    artifacts = args.artifacts / target
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    command = [
        sys.executable, "-m", "bench.fuzz", "--child", target, "--",
        str(corpus), f"-max_total_time={seconds}", f"-timeout={args.unit_timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}", f"-max_len={MAX_LEN}", "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/", "-close_fd_mask=0",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    print(f"- {target}: {run.corpus_start} seeds, {seconds} s ...", flush=True)
    started = time.monotonic()
    log_path = work / f"{target}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    run.seconds = time.monotonic() - started
    run.exit_code = proc.returncode
    text = log_path.read_text(errors="replace")
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    run.executions = int(stats.get("number_of_executed_units", 0))
    run.exec_per_s = run.executions / run.seconds if run.seconds else 0.0
    run.peak_rss_mb = int(stats.get("peak_rss_mb", 0))
    progress = re.findall(r"^#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", text, re.M)
    if progress:
        run.coverage, run.features, run.corpus_end = (int(x) for x in progress[-1])
    run.findings = sorted(str(p) for p in set(artifacts.iterdir()) - before)
    if run.findings or proc.returncode != 0:
        reason = re.findall(
            r"^(?:=== Uncaught Python exception: ===\n)?(\w*Error: .*|==\d+== ERROR: .*)$", text, re.M
        )
        run.summary = "; ".join(dict.fromkeys(reason)) or f"exit code {proc.returncode}"
        tail = "\n".join(text.splitlines()[-40:])
        print(f"! {target}: finding(s) {run.findings}: {run.summary}\n{tail}", flush=True)
    if args.keep_logs:
        shutil.copy(log_path, args.artifacts / f"{target}.log")
    print(
        f"  {run.executions:,} executions ({run.exec_per_s:,.0f}/s), cov {run.coverage}, "
        f"corpus {run.corpus_start} -> {run.corpus_end}, findings {len(run.findings)}",
        flush=True,
    )
    return run


def machine() -> str:
    m = machine_info()
    cpu = "unknown CPU" if m["cpu"] == "unknown" else m["cpu"]
    return f"{cpu}, {m['cores']} cores; Python {m['python']}"


def report(runs: list[Run], ctx: dict[str, Any]) -> str:
    from importlib.metadata import version

    import atheris  # noqa: F401  (its version for the record)

    lines = [
        "## Fuzzing (`bench/fuzz.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {ctx['machine']}; atheris {version('atheris')}, Pillow {version('pillow')}, "
        f"PyAV {version('av')}; load average at start {ctx['load_start']:.2f}, at end {ctx['load_end']:.2f}"
        + (" (the machine was shared: executions per second are a floor)" if ctx["busy"] else ""),
        "- Seeds: the media of `tests/corpus/bad_inputs.py`; Python code of `detection`, `watermark` and "
        "Pillow's plugins instrumented for coverage; limits per input: "
        f"{ctx['unit_timeout']} s, {ctx['rss_limit_mb']} MiB",
        "- A finding is any exception other than the documented `DetectionError` / `WatermarkError`, "
        "a crash in a C decoder, a timeout or an out-of-memory.",
        "",
        "| target | what it calls | time | executions | exec/s | coverage (edges) | corpus | findings |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    calls = {
        "image": "`load_image`, `check_image`",
        "video": "`VideoReader.check`, `.frames`, `.every_frame`",
        "watermark": "`recover` (any array), `FrameVote`, `recover_bytes`",
    }
    for r in runs:
        lines.append(
            f"| {r.target} | {calls[r.target]} | {r.seconds:.0f} s | {r.executions:,} | "
            f"{r.exec_per_s:,.0f} | {r.coverage:,} | {r.corpus_start} → {r.corpus_end} | {len(r.findings)} |"
        )
    lines.append("")
    found = [r for r in runs if r.findings or r.exit_code]
    if found:
        lines += [
            f"- **{r.target}**: {r.summary} ({', '.join(Path(p).name for p in r.findings)})" for r in found
        ]
    else:
        lines.append("No findings in this run.")
    lines += ["", "Seeds from review (not fuzz findings): " + ", ".join(f"`{c}`" for c in REVIEW_SEEDS)]
    if FOUND_BEFORE:
        lines += ["", "Found by earlier runs, turned into corpus cases and fixed:", ""]
        lines += [f"- {target}: {what} → corpus case `{case}`" for target, what, case in FOUND_BEFORE]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: " + ", ".join(TARGETS))
    p.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    p.add_argument("--unit-timeout", type=int, default=10, help="seconds one input may take")
    p.add_argument("--rss-limit-mb", type=int, default=3072)
    p.add_argument("--artifacts", type=Path, default=ROOT / ".cache" / "fuzz", help="where findings go")
    p.add_argument("--keep-logs", action="store_true", help="copy libFuzzer's logs beside the artifacts")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--no-write", action="store_true", help="print the report, leave docs alone")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["--child"]:  # python -m bench.fuzz --child TARGET -- LIBFUZZER_ARGS...
        child(raw[1], raw[3:])
        return 0
    args = parse_args(raw)
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown target(s): {', '.join(sorted(unknown))}")
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="fakeme-fuzz-") as tmp:
        runs = [run_target(target, args.seconds, args, Path(tmp)) for target in targets]
    ctx = {
        "command": command_line("fuzz", raw),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "busy": load_start > 0.5 * (os.cpu_count() or 1),
        "unit_timeout": args.unit_timeout,
        "rss_limit_mb": args.rss_limit_mb,
    }
    body = report(runs, ctx)
    print("\n" + body)
    if not args.no_write:
        SECTION.write(args.out, body)
    return 1 if any(r.findings or r.exit_code for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
