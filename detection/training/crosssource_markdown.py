"""The cross-source section that leads the model card: each model's report side by side, in Markdown.

The reports are ``detection.training.crosssource.cross_source_report``'s; nothing here scores or fits.
"""

from __future__ import annotations

import math
from typing import Any

from detection.aggregation import AGGREGATIONS

TARGETS = {"real_flagged_max": 0.03, "fake_auc_min": 0.85, "fake_clips_min": 0.80, "real_clips_min": 0.90}


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def _num(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _short(folder: str) -> str:
    return folder.split("/", 1)[-1]


def cross_source_markdown(reports: dict[str, dict[str, Any]]) -> list[str]:
    """The card's leading section: each model (e.g. ``{"2.0.0": ..., "1.3.0": ...}``) side by side."""
    names = list(reports)
    first = reports[names[0]]
    lines = [
        "## Cross-source evaluation (sources never trained on)",
        "",
        "Every `dev-eval` folder of `../shared/data/SOURCES.tsv`, scored through the product's own path "
        "(MTCNN, ×1.3 crop, calibrated classifier, mirror averaging; videos sampled at 2 fps). Nothing was "
        "fitted on these folders. Reals: share flagged at each model's tag threshold. Fakes: share caught "
        "and ROC AUC against the pooled East Asian dev-eval reals ("
        + ", ".join(_short(r) for r in first["east_asian_reals"])
        + ").",
        "",
        "### Headline",
        "",
        "| | target | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    rows = [
        (
            "worst East Asian real source flagged",
            "≤ 3 %",
            lambda h: (
                f"{_pct(h['worst_east_asian_real_flagged'])} ({_short(h['worst_east_asian_real'] or '—')})"
            ),
        ),
        (
            "worst fake source AUC vs East Asian reals",
            "≥ 0.85",
            lambda h: f"{_num(h['worst_fake_auc_east_asian'])} ({_short(h['worst_fake'] or '—')})",
        ),
        ("fake clips right", "≥ 80 %", lambda h: _pct(h["fake_clips_right"])),
        ("real clips right", "≥ 90 %", lambda h: _pct(h["real_clips_right"])),
        ("pooled fake AUC vs East Asian reals", "", lambda h: _num(h["pooled_auc_east_asian"])),
        ("pooled ECE (all dev-eval images)", "", lambda h: _num(h["pooled_ece"])),
    ]
    for label, target, cell in rows:
        lines.append(
            f"| {label} | {target} | " + " | ".join(cell(reports[n]["headline"]) for n in names) + " |"
        )
    lines += [
        "",
        "Thresholds: "
        + "; ".join(
            f"{n} tag {reports[n]['threshold']:.4f}"
            + (
                f", review {reports[n]['review_threshold']:.4f}"
                if reports[n]["review_threshold"] is not None
                else ""
            )
            + f", video aggregate `{reports[n]['aggregation']}`"
            + (
                f" with clip logit shift {reports[n]['video_shift']:+.2f}"
                if reports[n].get("video_shift")
                else ""
            )
            for n in names
        )
        + ".",
        "",
        "### Real sources: share flagged (review band in brackets)",
        "",
        "| source | East Asian | images (no face) | " + " | ".join(names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    for src, row in first["reals"].items():
        cells = []
        for n in names:
            r = reports[n]["reals"].get(src)
            cells.append("—" if r is None else f"{_pct(r['flagged'])} ({_pct(r['review'])})")
        lines.append(
            f"| {_short(src)} | {'yes' if row['east_asian'] else 'no'} | {row['n']} ({row['no_face']}) | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "### Fake sources: AUC vs East Asian reals / worst single real source; share caught",
        "",
        "| source | images (no face) | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for src, row in first["fakes"].items():
        cells = []
        for n in names:
            f = reports[n]["fakes"].get(src)
            cells.append(
                "—"
                if f is None
                else f"{_num(f['auc_east_asian'])} / {_num(f['auc_worst_real'])}; {_pct(f['caught'])}"
            )
        lines.append(f"| {_short(src)} | {row['n']} ({row['no_face']}) | " + " | ".join(cells) + " |")
    real_names = list(first["reals"])
    lines += [
        "",
        f"AUC of each fake source against each real source ({names[0]}):",
        "",
        "| fake \\ real | " + " | ".join(_short(r) for r in real_names) + " |",
        "|---|" + "---|" * len(real_names),
    ]
    for src, row in first["fakes"].items():
        lines.append(
            f"| {_short(src)} | "
            + " | ".join(_num(row["auc_by_real"].get(r, math.nan)) for r in real_names)
            + " |"
        )
    lines += [
        "",
        "### Video clips",
        "",
        "Share right per aggregate (each model's default in bold):",
        "",
        "| aggregate | " + " | ".join(f"{n} fake / real" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for agg in AGGREGATIONS:
        cells = []
        for n in names:
            t = reports[n]["clip_table"][agg]
            cell = f"{_pct(t['fake_right'])} / {_pct(t['real_right'])}"
            cells.append(f"**{cell}**" if agg == reports[n]["aggregation"] else cell)
        lines.append(f"| `{agg}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| clip | source | label | " + " | ".join(f"{n} verdict (score)" for n in names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    by_clip = {n: {c["path"]: c for c in reports[n]["clips"]} for n in names}
    for clip in first["clips"]:
        cells = []
        for n in names:
            c = by_clip[n].get(clip["path"])
            cells.append("—" if c is None else f"{c['verdict']} ({_num(c['probability'])})")
        label = "fake" if clip["label"] else "real"
        lines.append(
            f"| {clip['path'][:60]} | {_short(clip['source'])} | {label} | " + " | ".join(cells) + " |"
        )
    return lines
