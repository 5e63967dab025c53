"""SimSwap network speed: ArcFace + generator forward per face, batch 1, on this machine's CPU.

Times only the networks (no detection, alignment or blending): the source identity (224 crop →
ImageNet normalisation → 112 → ArcFace → L2 norm) plus one generator forward on a 224 crop, the
work the engine does per swapped face when the source is new. Weights are random (the official
ones are CC BY-NC and not here); speed does not depend on their values.

Variants, each against the same random weights (the largest output difference from the plain
fp32 run is reported, so a faster variant cannot hide a wrong result):
  eager          fp32, torch.no_grad, as the networks are built;
  inference_mode fp32, torch.inference_mode;
  channels_last  fp32, NHWC tensors (oneDNN's fast path);
  folded+CL      fp32, BatchNorm folded into the convolutions + channels_last (the engine default);
  bf16           folded+CL under bfloat16 autocast (AMX / AVX-512 BF16 where the CPU has them;
                 the engine's ``bfloat16=True``).
Variants run interleaved (one forward of each per round), so background load hits them alike.

Target: ≤ 800 ms per face for the 224 model with 2 torch threads (engine default).

    python -m bench.generate_simswap                 # 224 and 512 models, updates docs/benchmarks.md
    python -m bench.generate_simswap --quick --no-write
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.common import DEFAULT_OUT, Section, command_line, loadavg_text, machine_info, percentile
from generation.simswap.arcface import ArcFace, identity_embedding
from generation.simswap.generator import SimSwapGenerator
from generation.simswap.inference import prepare_for_cpu

SECTION = Section("generate_simswap")
TARGET_MS = 800.0
DEFAULT_VARIANT = "folded+CL"


@dataclass
class Variant:
    name: str
    generator: SimSwapGenerator
    arcface: ArcFace
    channels_last: bool = False
    bf16: bool = False
    inference_mode: bool = True
    arcface_ms: list[float] = field(default_factory=list)
    generator_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    max_diff: float = 0.0

    def run(self, crop: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            crop = crop.contiguous(memory_format=torch.channels_last)
        grad_mode = torch.inference_mode() if self.inference_mode else torch.no_grad()
        with grad_mode, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            start = time.perf_counter()
            identity = torch.nn.functional.normalize(identity_embedding(self.arcface, crop).float(), dim=1)
            mid = time.perf_counter()
            out = self.generator(crop, identity).float()
            end = time.perf_counter()
        self.arcface_ms.append((mid - start) * 1000)
        self.generator_ms.append((end - mid) * 1000)
        self.total_ms.append((end - start) * 1000)
        return out


def variants(size: int, names: list[str]) -> list[Variant]:
    torch.manual_seed(0)
    generator, arcface = SimSwapGenerator(size).eval(), ArcFace().eval()

    def copies(fold: bool = False, channels_last: bool = False) -> tuple[SimSwapGenerator, ArcFace]:
        g, a = copy.deepcopy(generator), copy.deepcopy(arcface)
        return prepare_for_cpu(g, fold=fold, channels_last=channels_last), prepare_for_cpu(
            a, fold=fold, channels_last=channels_last
        )

    makers: dict[str, Callable[[], Variant]] = {
        "eager": lambda: Variant("eager", generator, arcface, inference_mode=False),
        "inference_mode": lambda: Variant("inference_mode", *copies()),
        "channels_last": lambda: Variant("channels_last", *copies(channels_last=True), channels_last=True),
        "folded+CL": lambda: Variant("folded+CL", *copies(True, True), channels_last=True),
        "bf16": lambda: Variant("bf16", *copies(True, True), channels_last=True, bf16=True),
    }
    return [makers[name]() for name in names]


def measure(size: int, names: list[str], runs: int, warmup: int) -> list[Variant]:
    crop = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    chosen = variants(size, names)
    reference = None
    for variant in chosen:
        for _ in range(warmup):
            out = variant.run(crop)
        for timings in (variant.arcface_ms, variant.generator_ms, variant.total_ms):
            timings.clear()
        if reference is None:
            reference = out
        variant.max_diff = float((out - reference).abs().max())
    for _ in range(runs):
        for variant in chosen:
            variant.run(crop)
        print(".", end="", flush=True)
    print(flush=True)
    return chosen


def machine() -> dict[str, str]:
    m = machine_info("torch")
    bf16 = [f for f in ("amx_bf16", "avx512_bf16") if f in m["cpu_flags"]]
    return {
        "cpu": m["cpu"],
        "cores": str(m["cores"]),
        "bf16": ", ".join(bf16) or "none",
        "python": m["python"],
        "torch": m["torch"],
    }


def section(results: dict[int, list[Variant]], ctx: dict) -> tuple[str, list[str]]:
    m = ctx["machine"]
    lines = [
        "## SimSwap network forward (`bench/generate_simswap.py`)",
        "",
        f"- Command: `{ctx['command']}`",
        f"- Date: {ctx['date']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores (bf16 units: {m['bf16']}); Python {m['python']}, "
        f"torch {m['torch']}, {ctx['threads']} torch threads",
        f"- Load average at start: {loadavg_text(ctx['load_start'])}; "
        f"at end: {loadavg_text(ctx['load_end'])}",
        f"- Per face, batch 1: ArcFace identity (224 crop → 112) + one generator forward at the model's "
        f"crop size; random weights; median (p90) of {ctx['runs']} interleaved runs after "
        f"{ctx['warmup']} warm-up runs. Max diff: largest absolute difference of the generator output "
        "(in [0, 1]) from the first variant's.",
        "",
        "| Model | Variant | ArcFace ms | Generator ms | Total ms (p90) | vs first | Max diff |",
        "|---|---|---|---|---|---|---|",
    ]
    status = []
    for size, chosen in results.items():
        base = statistics.median(chosen[0].total_ms)
        for v in chosen:
            total = statistics.median(v.total_ms)
            lines.append(
                f"| {size} | {v.name} | {statistics.median(v.arcface_ms):.0f} | "
                f"{statistics.median(v.generator_ms):.0f} | {total:.0f} ({percentile(v.total_ms, 90):.0f}) | "
                f"{base / total:.2f}× | {v.max_diff:.1e} |"
            )
            if size == 224 and v.name == DEFAULT_VARIANT:
                verdict = "PASS" if total <= TARGET_MS else "MISS"
                status.append(
                    f"{verdict}  224 model, engine default ({v.name}): {total:.0f} ms (target ≤ 800)"
                )
            if size == 224 and v.name == "bf16":
                verdict = "PASS" if total <= TARGET_MS else "MISS"
                status.append(f"{verdict}  224 model, bf16 (engine bfloat16=True): {total:.0f} ms")
    if ctx["notes"]:
        lines += ["", "Notes:"] + [f"- {note}" for note in ctx["notes"]]
    return "\n".join(lines) + "\n", status


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.generate_simswap",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--runs", type=int, default=None, help="timed runs per variant (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs per variant first (default 2)")
    p.add_argument("--sizes", type=int, nargs="+", choices=(224, 512), default=None)
    p.add_argument("--quick", action="store_true", help="smoke test: 224 only, 2 runs, 1 warm-up; no write")
    p.add_argument("--no-write", action="store_true", help="print the section instead of updating --out")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    args = p.parse_args(argv)
    args.runs = args.runs or (2 if args.quick else 10)
    args.warmup = 1 if args.quick else args.warmup
    args.sizes = args.sizes or ([224] if args.quick else [224, 512])
    args.no_write = args.no_write or args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    ctx = {
        "command": command_line("generate_simswap", sys.argv[1:] if argv is None else argv),
        "date": dt.datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": machine(),
        "threads": args.threads,
        "runs": args.runs,
        "warmup": args.warmup,
        "load_start": os.getloadavg(),
        "notes": [],
    }
    results = {}
    for size in args.sizes:
        # The 512 model costs about as much again per variant: only the engine's two settings.
        names = (
            ["eager", "inference_mode", "channels_last", DEFAULT_VARIANT, "bf16"]
            if size == 224
            else [DEFAULT_VARIANT, "bf16"]
        )
        print(f"SimSwap {size}: {', '.join(names)}", flush=True)
        results[size] = measure(size, names, args.runs, args.warmup)
    ctx["load_end"] = os.getloadavg()
    if max(ctx["load_start"][0], ctx["load_end"][0]) > args.threads + 0.5:
        ctx["notes"].append(
            "The machine was busy during this run (load average above the thread count): timings are "
            "pessimistic; rerun on a quiet machine for the reference numbers."
        )
    body, status = section(results, ctx)
    SECTION.publish(args.out, body, not args.no_write)
    print("\n".join(status))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
