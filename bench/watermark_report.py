"""The watermark benchmark's section of ``docs/benchmarks.md``: the attack table (ours against the
baseline), invisibility, the 1080p table, latency and false detections, with the PASS/FAIL lines."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.common import loadavg_text
from bench.watermark_measure import HD, Tally
from watermark import attacks
from watermark.codec import RAW_BITS

TARGET_BIT_ACCURACY = 0.95
TARGET_PSNR_DB, TARGET_SSIM = 40.0, 0.98
TARGET_MS = 150.0


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
        f"- Load average at start: {loadavg_text(ctx['load_start'])}; "
        f"at end: {loadavg_text(ctx['load_end'])}",
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
