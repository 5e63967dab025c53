"""Server-rendered SVG charts for the console (no JavaScript chart library, nothing from a CDN).

Each function returns a complete inline ``<svg>`` (a ``SafeString``) with a ``viewBox``, so it scales
to the page width on a phone as on a desktop, a ``<title>`` for screen readers, and one ``<title>``
per bar or point so hovering shows the exact value. Colours always come with a legend in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Plot area margins inside the viewBox (left leaves room for the y tick labels).
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 24, 30
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
GRID = 'stroke="#ddd" stroke-width="1"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value (a gap in a line, no bar)
    colour: str


def nice_max(value: float, *, integer: bool = False) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above ``value`` (a readable top of the y axis).

    ``integer`` (counts): never below 1 and never 2.5 × 10^k below 10, so ticks can be whole numbers.
    """
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    steps = (1.0, 2.0, 5.0, 10.0) if integer and power < 10 else (1.0, 2.0, 2.5, 5.0, 10.0)
    for step in steps:
        if value <= step * power * (1 + 1e-9):
            return max(step * power, 1.0) if integer else step * power
    return 10.0 * power


def nice_step(span: float, max_ticks: int = 6) -> float:
    """A 1, 2 or 5 × 10^k step giving at most ``max_ticks`` + 1 ticks over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max_ticks
    power = 10 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 5.0, 10.0):
        if raw <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power


def tick_count(y_max: float, *, integer: bool = False) -> int:
    """Gridlines above zero: 4, unless counts need another number to land on whole values."""
    if not integer:
        return 4
    for n in (4, 5, 3, 2):
        step = y_max / n
        if step >= 1 and abs(step - round(step)) < 1e-9:
            return n
    return max(1, int(y_max)) if y_max <= 5 else 4


def _fmt_number(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.2g}"


def _svg_open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [
        f'<svg class="chart {escape(css_class)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _y_axis(
    parts: list[str], width: int, height: int, y_max: float, fmt: Callable[[float], str], ticks: int
) -> None:
    plot_h = height - TOP - BOTTOM
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" {GRID}/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="#555">'
            f"{escape(fmt(value))}</text>"
        )


def _legend(parts: list[str], items: Sequence[tuple[str, str, str]], width: int) -> None:
    """``items``: (label, colour, kind) with kind ``box`` or ``line`` or ``dash``; drawn top right."""
    x = width - RIGHT
    for label, colour, kind in reversed(items):
        text_w = 6.2 * len(label)
        x -= text_w
        parts.append(f'<text x="{x:.1f}" y="14" {FONT} fill="#333">{escape(label)}</text>')
        x -= 16
        if kind == "box":
            parts.append(f'<rect x="{x:.1f}" y="5" width="11" height="11" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="4 3"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{x:.1f}" x2="{x + 12:.1f}" y1="10.5" y2="10.5" '
                f'stroke="{colour}" stroke-width="2"{dash}/>'
            )
        x -= 10


def _x_label(parts: list[str], label: str, x: float, width: int, height: int) -> None:
    # Labels at the plot's edges are anchored inwards so that they are not cut off.
    anchor = "end" if x > width - RIGHT - 16 else "start" if x < LEFT + 16 else "middle"
    parts.append(
        f'<text x="{x:.1f}" y="{height - BOTTOM + 14}" text-anchor="{anchor}" {FONT} '
        f'fill="#555">{escape(label)}</text>'
    )


def _x_labels(
    parts: list[str], labels: Sequence[str], centres: Sequence[float], width: int, height: int
) -> None:
    every = max(1, math.ceil(len(labels) / 8))  # at most ~8 labels, readable on a phone too
    last = len(labels) - 1
    for i, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if (last - i) % every == 0:  # counted back from the last label (today is always named)
            _x_label(parts, label, x, width, height)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 200,
    value_format: Callable[[float], str] = _fmt_number,
    integer: bool = True,
    css_class: str = "",
) -> SafeString:
    """Stacked bars, one stack per label (a day, a moderator), series bottom to top.

    ``integer``: the values are counts (whole-number gridlines).
    """
    totals = [sum((s.values[i] or 0.0) for s in series) for i in range(len(labels))]
    y_max = nice_max(max(totals, default=0.0), integer=integer)
    parts = _svg_open(width, height, title, css_class)
    _y_axis(parts, width, height, y_max, value_format, tick_count(y_max, integer=integer))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.72, 1.0)
    centres = [LEFT + slot * (i + 0.5) for i in range(len(labels))]
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = s.values[i] or 0.0
            if value <= 0:
                continue
            h = plot_h * value / y_max
            y = TOP + plot_h - plot_h * (base + value) / y_max
            parts.append(
                f'<rect class="bar" x="{centres[i] - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{s.colour}"><title>{escape(label)}: {escape(s.name)} '
                f"{escape(value_format(value))}</title></rect>"
            )
            base += value
    _x_labels(parts, labels, centres, width, height)
    _legend(parts, [(s.name, s.colour, "box") for s in series], width)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every label and name above is escaped


def line_chart(
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    title: str,
    x_labels: Sequence[str] | None = None,
    y_range: tuple[float, float] | None = None,
    threshold: float | None = None,
    shade: Sequence[bool] = (),
    shade_label: str = "",
    point_attrs: Callable[[int], str] | None = None,
    x_format: Callable[[float], str] = _fmt_number,
    y_format: Callable[[float], str] = _fmt_number,
    width: int = 640,
    height: int = 200,
    css_class: str = "",
) -> SafeString:
    """Lines with points over numeric ``xs``; None values break the line.

    ``threshold`` draws a dashed horizontal line; ``shade[i]`` greys the column of point i (e.g. a video
    frame without a face, so "no face" never reads as zero). ``point_attrs(i)`` adds attributes to
    point i's circle (``data-seek`` for the video player).
    """
    values = [v for s in series for v in s.values if v is not None]
    y_lo, y_hi = y_range if y_range else (0.0, nice_max(max(values, default=0.0)))
    x_lo = min(xs, default=0.0)
    x_hi = max(xs, default=1.0)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + plot_w * (x - x_lo) / (x_hi - x_lo)

    def py(y: float) -> float:
        return TOP + plot_h - plot_h * (min(max(y, y_lo), y_hi) - y_lo) / (y_hi - y_lo)

    parts = _svg_open(width, height, title, css_class)
    if shade and any(shade):
        half = (x_hi - x_lo) / max(len(xs) - 1, 1) / 2
        for x, grey in zip(xs, shade, strict=True):
            if grey:
                left, right = px(max(x - half, x_lo)), px(min(x + half, x_hi))
                parts.append(
                    f'<rect class="shade" x="{left:.1f}" y="{TOP}" width="{max(right - left, 1):.1f}" '
                    f'height="{plot_h}" fill="#bbb" fill-opacity="0.35"/>'
                )
    # y grid relative to the range
    ticks = 4
    for i in range(ticks + 1):
        value = y_lo + (y_hi - y_lo) * i / ticks
        y = py(value)
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" {GRID}/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="#555">'
            f"{escape(y_format(value))}</text>"
        )
    legend: list[tuple[str, str, str]] = []
    if threshold is not None:
        y = py(threshold)
        parts.append(
            f'<line class="threshold" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#c62828" stroke-width="1.2" stroke-dasharray="4 3"/>'
        )
    for s in series:
        runs: list[list[str]] = [[]]
        for x, v in zip(xs, s.values, strict=True):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{px(x):.1f},{py(v):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.colour}" stroke-width="1.6"/>'
                )
        for i, (x, v) in enumerate(zip(xs, s.values, strict=True)):
            if v is None:
                continue
            label = x_labels[i] if x_labels else x_format(x)
            extra = f" {point_attrs(i)}" if point_attrs else ""
            parts.append(
                f'<circle class="point" cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{s.colour}"{extra}>'
                f"<title>{escape(label)}: {escape(s.name)} {escape(y_format(v))}</title></circle>"
            )
        legend.append((s.name, s.colour, "line"))
    if threshold is not None:
        legend.append((f"threshold {y_format(threshold)}", "#c62828", "dash"))
    if shade_label and any(shade):
        legend.append((shade_label, "#bbb", "box"))
    # x axis labels: the given labels, else evenly spaced numbers
    if x_labels:
        _x_labels(parts, x_labels, [px(x) for x in xs], width, height)
    else:
        step = nice_step(x_hi - x_lo)
        for i in range(int(math.floor((x_hi - x_lo) / step + 1e-9)) + 1):
            x = x_lo + step * i
            _x_label(parts, x_format(x), px(x), width, height)
    _legend(parts, legend, width)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every label and name above is escaped
