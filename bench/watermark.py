"""Watermark benchmark: robustness, invisibility and speed of ``watermark/``, on this machine.

Measures, in one run:
  1. for each attack (``watermark.attacks``), over N photos of at least 512 px (the shared FFHQ
     faces and scikit-image's astronaut): raw bit accuracy (before error correction) and the
     detection rate (payload recovered), for our method and for invisible-watermark's
     ``dwtDctSvd`` carrying the same 40 payload bits (no error correction of its own, so
     "detected" there means all 40 bits right);
  2. PSNR and SSIM against the original, for both;
  3. the same attacks on photos upscaled to 1920 × 1080 (ours only), and embed and recover
     latency at that size (median of ``--runs``), for both;
  4. false detections on the clean photos (and on the marked ones with a wrong key).

invisible-watermark is a benchmark-only dependency, not in any requirements file (its metadata
pulls opencv-python and an unpinned torch). Install it with
    pip install --no-deps invisible-watermark==0.2.0 PyWavelets==1.9.0
or the comparison columns are left out (the run says so).

    python bench/watermark.py                  # full run, updates docs/benchmarks.md
    python bench/watermark.py --quick --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `watermark` importable
    sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402
from watermark import attacks, embed, recover  # noqa: E402
from watermark.codec import PAYLOAD_BITS, RAW_BITS  # noqa: E402
from watermark.evaluation import psnr, read, ssim  # noqa: E402

DEFAULT_FACES = ROOT.parent / "shared" / "data" / "faces-real" / "ffhq-512"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
MARK_START = "<!-- bench:watermark start -->"
MARK_END = "<!-- bench:watermark end -->"
KEY = b"bench-watermark-key-7d41c0"
TARGET_BIT_ACCURACY = 0.95
TARGET_PSNR_DB, TARGET_SSIM = 40.0, 0.98
TARGET_MS = 150.0
HD = (1920, 1080)


# ----------------------------------------------------------------------------- inputs


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        match = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kib = int(match.group(1)) if match else 0
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_gib": mem_kib / 1024**2,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "loadavg": os.getloadavg(),
    }


def photos(faces: Path, count: int) -> list[tuple[str, np.ndarray]]:
    """``count`` photos of ≥ 512 px: scikit-image's astronaut, then FFHQ faces spread over the folder."""
    from skimage import data

    out = [("astronaut", np.ascontiguousarray(data.astronaut()))]
    files = sorted(faces.glob("*.jpg")) if faces.is_dir() else []
    if not files:
        print(f"! no FFHQ faces at {faces}: only the astronaut is used", flush=True)
    step = max(1, len(files) // max(1, count - 1))
    for path in files[::step][: count - 1]:
        with Image.open(path) as im:
            out.append((path.name, np.asarray(im.convert("RGB"))))
    return out


# ----------------------------------------------------------------------------- the baseline


class DwtDctSvd:
    """invisible-watermark's dwtDctSvd with the same 40 payload bits (it works on BGR arrays)."""

    name = "invisible-watermark dwtDctSvd"

    def __init__(self) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self._encoder_cls, self._decoder_cls = WatermarkEncoder, WatermarkDecoder
        self.refused = 0  # decodes refused (images under 256 px): counted as chance, 0.5

    @staticmethod
    def bits(payload: int) -> list[int]:
        return [(payload >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)]

    def embed(self, rgb: np.ndarray, payload: int) -> np.ndarray:
        encoder = self._encoder_cls()
        encoder.set_watermark("bits", self.bits(payload))
        bgr = encoder.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDctSvd")
        return cv2.cvtColor(np.clip(bgr, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB)

    def read(self, rgb: np.ndarray, payload: int) -> tuple[float, bool]:
        decoder = self._decoder_cls("bits", PAYLOAD_BITS)
        try:
            got = np.array(decoder.decode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDctSvd"), dtype=int)
        except RuntimeError:  # "image too small, should be larger than 256x256": nothing readable
            self.refused += 1
            return 0.5, False
        accuracy = float(np.mean(got == np.array(self.bits(payload))))
        return accuracy, accuracy == 1.0


def load_baseline() -> tuple[DwtDctSvd | None, str | None]:
    try:
        return DwtDctSvd(), None
    except ImportError as exc:
        return None, (
            f"invisible-watermark is not installed ({exc}); comparison skipped. Install it for the "
            "benchmark only: pip install --no-deps invisible-watermark==0.2.0 PyWavelets==1.9.0"
        )


# ----------------------------------------------------------------------------- measurements


@dataclass
class Tally:
    accuracy: list[float] = field(default_factory=list)
    detected: list[bool] = field(default_factory=list)

    def add(self, accuracy: float, detected: bool) -> None:
        self.accuracy.append(accuracy)
        self.detected.append(detected)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracy)) if self.accuracy else float("nan")

    @property
    def low(self) -> float:
        return float(np.min(self.accuracy)) if self.accuracy else float("nan")

    @property
    def rate(self) -> float:
        return float(np.mean(self.detected)) if self.detected else float("nan")


def robustness(
    images: list[tuple[str, np.ndarray]], baseline: DwtDctSvd | None
) -> tuple[dict[str, Tally], dict[str, Tally], dict[str, list[float]], list[str]]:
    ours = {name: Tally() for name in attacks.ATTACKS}
    theirs = {name: Tally() for name in attacks.ATTACKS}
    quality: dict[str, list[float]] = {k: [] for k in ("psnr", "ssim", "base_psnr", "base_ssim")}
    false_hits: list[str] = []
    rng = np.random.default_rng(2026)
    for i, (name, image) in enumerate(images):
        payload = int(rng.integers(0, 2**PAYLOAD_BITS))
        marked = embed(image, payload, KEY)
        quality["psnr"].append(psnr(image, marked))
        quality["ssim"].append(ssim(image, marked))
        if recover(image, KEY).found:
            false_hits.append(f"{name} (clean)")
        if recover(marked, b"not-the-key").found:
            false_hits.append(f"{name} (wrong key)")
        base_marked = None
        if baseline is not None:
            base_marked = baseline.embed(image, payload)
            quality["base_psnr"].append(psnr(image, base_marked))
            quality["base_ssim"].append(ssim(image, base_marked))
        for attack, transform in attacks.ATTACKS.items():
            reading = read(transform(marked), payload, KEY)
            ours[attack].add(reading.bit_accuracy, reading.correct)
            if baseline is not None and base_marked is not None:
                theirs[attack].add(*baseline.read(transform(base_marked), payload))
        if (i + 1) % 10 == 0 or i + 1 == len(images):
            print(f"  {i + 1}/{len(images)} photos", flush=True)
    return ours, theirs, quality, false_hits


def robustness_hd(images: list[tuple[str, np.ndarray]]) -> tuple[dict[str, Tally], list[float], list[float]]:
    """Ours only (dwtDctSvd takes seconds per 1080p image): photos upscaled to 1920 × 1080."""
    ours = {name: Tally() for name in attacks.ATTACKS}
    psnrs, ssims = [], []
    rng = np.random.default_rng(1080)
    for _, image in images:
        hd = cv2.resize(image, HD, interpolation=cv2.INTER_CUBIC)
        payload = int(rng.integers(0, 2**PAYLOAD_BITS))
        marked = embed(hd, payload, KEY)
        psnrs.append(psnr(hd, marked))
        ssims.append(ssim(hd, marked))
        for attack, transform in attacks.ATTACKS.items():
            reading = read(transform(marked), payload, KEY)
            ours[attack].add(reading.bit_accuracy, reading.correct)
    return ours, psnrs, ssims


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def timings(image: np.ndarray, runs: int, baseline: DwtDctSvd | None) -> dict[str, float]:
    hd = cv2.resize(image, HD, interpolation=cv2.INTER_CUBIC)
    marked = embed(hd, 1, KEY)
    assert recover(marked, KEY).found, "the 1080p timing image must round-trip"
    attacked = attacks.combined(marked)
    out = {
        "embed": median_ms(lambda: embed(hd, 1, KEY), runs),
        "recover (marked)": median_ms(lambda: recover(marked, KEY), runs),
        "recover (clean)": median_ms(lambda: recover(hd, KEY), runs),
        "recover (two keys, clean)": median_ms(lambda: recover(hd, [KEY, b"previous-key"]), runs),
        "recover (after combined attack)": median_ms(lambda: recover(attacked, KEY), runs),
    }
    if baseline is not None:
        base_marked = baseline.embed(hd, 1)
        out["baseline embed"] = median_ms(lambda: baseline.embed(hd, 1), runs)
        out["baseline decode"] = median_ms(lambda: baseline.read(base_marked, 1), runs)
    return out


# ----------------------------------------------------------------------------- report


ATTACK_LABELS = {
    "none": "none",
    "jpeg50_420": "JPEG q50, 4:2:0",
    "downscale_0.5": "downscale 0.5×",
    "center_crop_80": "centre crop, 80 % of the area",
    "bright+20_contrast-20": "brightness +20 %, contrast −20 %",
    "bright-20_contrast+20": "brightness −20 %, contrast +20 %",
    "combined": "combined: bright +20/contrast −20, crop 80 %, 0.5×, JPEG 50 4:2:0",
    "combined_dark": "combined: bright −20/contrast +20, crop 80 %, 0.5×, JPEG 50 4:2:0",
    "screenshot_resize": "screenshot-like resize to odd size (0.73 × 0.72, reported)",
    "rotate_2deg": "rotation 2°, black corners (reported)",
}


def report(
    ctx: dict[str, Any],
    ours: dict[str, Tally],
    theirs: dict[str, Tally],
    quality: dict[str, list[float]],
    times: dict[str, float],
    false_hits: list[str],
    hd: tuple[dict[str, Tally], list[float], list[float]],
) -> tuple[str, list[str]]:
    m = ctx["machine"]
    n = ctx["images"]
    base = ctx["baseline"]
    lines = [
        "## Watermark (`bench/watermark.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']:.0f} GiB RAM; Python {m['python']}, "
        f"numpy {m['numpy']}, OpenCV {m['opencv']} ({m['opencv_threads']} threads)",
        f"- Load average at start: {' / '.join(f'{x:.2f}' for x in ctx['load_start'])}; "
        f"at end: {' / '.join(f'{x:.2f}' for x in ctx['load_end'])}",
        f"- Photos: {n} of 512 × 512 px (scikit-image's astronaut + FFHQ faces from `../shared/data`), "
        f"one random 40-bit payload each; ours embeds {RAW_BITS} raw bits (40 payload + 40 tag bits, "
        "rate-½ convolutional code).",
        f"- Baseline: {base}",
        "",
        "Bit accuracy: mean share of embedded raw bits read correctly, before error correction (min over "
        "photos in brackets). Detected: the payload was recovered (ours: decoded with a valid keyed tag; "
        "dwtDctSvd: all 40 bits right).",
        "",
        "| Attack | Ours: bit accuracy | Ours: detected | dwtDctSvd: bit accuracy | dwtDctSvd: detected |",
        "|---|---|---|---|---|",
    ]
    status = []
    for attack in attacks.ATTACKS:
        o, t = ours[attack], theirs[attack]
        theirs_acc = f"{t.mean:.3f}" if t.accuracy else "—"
        theirs_rate = f"{t.rate:.0%}" if t.detected else "—"
        lines.append(
            f"| {ATTACK_LABELS.get(attack, attack)} | {o.mean:.3f} ({o.low:.3f}) | {o.rate:.0%} "
            f"({sum(o.detected)}/{len(o.detected)}) | {theirs_acc} | {theirs_rate} |"
        )
        if attack in attacks.REQUIRED:
            ok = o.mean >= TARGET_BIT_ACCURACY and all(o.detected)
            status.append(
                f"{'PASS' if ok else 'FAIL':>4}  {attack}: bit accuracy {o.mean:.3f} (target ≥ 0.95), "
                f"detected {sum(o.detected)}/{len(o.detected)}"
            )
    psnr_o, ssim_o = quality["psnr"], quality["ssim"]
    lines += [
        "",
        "| Invisibility (vs original) | Ours | dwtDctSvd |",
        "|---|---|---|",
        f"| PSNR, dB: mean (min) | {np.mean(psnr_o):.2f} ({np.min(psnr_o):.2f}) | "
        + (
            f"{np.mean(quality['base_psnr']):.2f} ({np.min(quality['base_psnr']):.2f}) |"
            if quality["base_psnr"]
            else "— |"
        ),
        f"| SSIM (RGB, 7 × 7 window): mean (min) | {np.mean(ssim_o):.4f} ({np.min(ssim_o):.4f}) | "
        + (
            f"{np.mean(quality['base_ssim']):.4f} ({np.min(quality['base_ssim']):.4f}) |"
            if quality["base_ssim"]
            else "— |"
        ),
    ]
    psnr_ok = "PASS" if min(psnr_o) >= TARGET_PSNR_DB else "FAIL"
    status.append(f"{psnr_ok:>4}  PSNR min {min(psnr_o):.2f} dB (target ≥ 40)")
    status.append(
        f"{'PASS' if min(ssim_o) >= TARGET_SSIM else 'FAIL':>4}  SSIM min {min(ssim_o):.4f} (target ≥ 0.98)"
    )
    hd_ours, hd_psnr, hd_ssim = hd
    if hd_psnr:
        lines += [
            "",
            f"The same attacks on {len(hd_psnr)} of the photos upscaled to {HD[0]} × {HD[1]} (ours only; "
            f"PSNR mean {np.mean(hd_psnr):.2f} dB, min {np.min(hd_psnr):.2f}; "
            f"SSIM mean {np.mean(hd_ssim):.4f}, min {np.min(hd_ssim):.4f}):",
            "",
            "| Attack | bit accuracy (min) | detected |",
            "|---|---|---|",
        ]
        for attack in attacks.ATTACKS:
            o = hd_ours[attack]
            lines.append(
                f"| {ATTACK_LABELS.get(attack, attack)} | {o.mean:.3f} ({o.low:.3f}) | "
                f"{sum(o.detected)}/{len(o.detected)} |"
            )
    lines += [
        "",
        f"Latency at {HD[0]} × {HD[1]} (median of {ctx['runs']} runs, one process):",
        "",
        "| Operation | ms |",
        "|---|---|",
    ]
    for name, ms in times.items():
        lines.append(f"| {name} | {ms:.1f} |")
    for name in ("embed", "recover (marked)", "recover (clean)", "recover (after combined attack)"):
        ms = times[name]
        status.append(
            f"{'PASS' if ms <= TARGET_MS else 'FAIL':>4}  {name} at 1080p: {ms:.1f} ms (target ≤ 150)"
        )
    lines += [
        "",
        f"False detections: {len(false_hits)} (each clean photo, and each marked photo read with a wrong key)"
        + (f": {', '.join(false_hits)}" if false_hits else "")
        + ". The full clean-image check over all of `../shared/data` is "
        "`tests/watermark/test_watermark_false_positives.py`.",
    ]
    status.append(f"{'PASS' if not false_hits else 'FAIL':>4}  false detections: {len(false_hits)}")
    if ctx["notes"]:
        lines += ["", "Notes:"] + [f"- {note}" for note in ctx["notes"]]
    return "\n".join(lines) + "\n", status


def write_section(out: Path, body: str) -> None:
    """Replace this benchmark's marked section in ``out`` (create the file, or append the section)."""
    docs_section.write_section(out, body, MARK_START, MARK_END)


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--images", type=int, default=None, help="photos in the robustness table (default 100)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per latency (default 20)")
    p.add_argument("--hd-images", type=int, default=None, help="photos in the 1080p table (default 10)")
    p.add_argument("--quick", action="store_true", help="smoke test: 8 photos, 3 timed runs; no write")
    p.add_argument("--no-write", action="store_true", help="print the section instead of updating --out")
    p.add_argument("--no-baseline", action="store_true", help="leave out invisible-watermark")
    p.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's choice)")
    p.add_argument("--faces", type=Path, default=DEFAULT_FACES, help="folder of 512 px photos")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    args = p.parse_args(argv)
    args.images = args.images or (8 if args.quick else 100)
    args.runs = args.runs or (3 if args.quick else 20)
    args.hd_images = args.hd_images if args.hd_images is not None else (2 if args.quick else 10)
    args.no_write = args.no_write or args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        cv2.setNumThreads(args.threads)
    notes: list[str] = []
    baseline, why = (None, "left out (--no-baseline)") if args.no_baseline else load_baseline()
    if why:
        print(f"! {why}", flush=True)
        notes.append(why)
    load_start = os.getloadavg()
    if load_start[0] > 0.5 * (os.cpu_count() or 1):
        notes.append(f"the machine was busy at start (load {load_start[0]:.2f}): timings may be inflated")
    images = photos(args.faces, args.images)
    print(f"- robustness over {len(images)} photos, {len(attacks.ATTACKS)} attacks ...", flush=True)
    start = time.perf_counter()
    ours, theirs, quality, false_hits = robustness(images, baseline)
    print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"- robustness at 1080p over {args.hd_images} photos ...", flush=True)
    hd = robustness_hd(images[1 : 1 + args.hd_images] or images[: args.hd_images])
    print(f"- latency at 1080p, {args.runs} runs ...", flush=True)
    times = timings(images[min(1, len(images) - 1)][1], args.runs, baseline)
    if baseline is not None and baseline.refused:
        notes.append(
            f"dwtDctSvd refused to decode {baseline.refused} attacked images smaller than 256 px "
            "(the combined attacks leave 229 px): counted as bit accuracy 0.5, not detected."
        )
    argv_text = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    ctx = {
        "command": f"python bench/watermark.py {argv_text}".strip(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "images": len(images),
        "runs": args.runs,
        "baseline": f"{DwtDctSvd.name} 0.2.0, 40 bits" if baseline else "not measured",
        "notes": notes,
    }
    body, status = report(ctx, ours, theirs, quality, times, false_hits, hd)
    print()
    print(body)
    print("\n".join(status))
    if not args.no_write:
        write_section(args.out, body)
        print(f"\nwrote the watermark section of {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
