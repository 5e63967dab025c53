"""Template helpers of the console: the navigation bar, the decisions' keys, verdict badges (colour and
words), scores, sizes."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from reports.console.evidence import override_words
from reports.console.pages import nav_pages
from reports.decisions import REPORT, SHORTCUTS, decisions_for

register = template.Library()

# verdict -> (css modifier, words): the words carry the meaning, the colour only helps.
VERDICTS = {
    "fake": ("fake", "Fake"),
    "uncertain": ("uncertain", "Uncertain"),
    "real": ("real", "Real"),
    "not_applicable": ("na", "No face"),
}
STATUSES = {
    "queued": ("pending", "Queued"),
    "processing": ("pending", "Scanning"),
    "failed": ("failed", "Scan failed"),
}


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context: template.Context) -> dict[str, Any]:
    """The navigation bar: the registry's pages with a nav label that the user may open
    (``reports.console.pages``); the current page's entry (``nav``) is marked."""
    current = context.get("nav", "")
    entries = [
        {"url": reverse(f"console:{page.name}"), "label": page.nav_label, "current": page.name == current}
        for page in nav_pages(context.get("user"))
    ]
    return {"entries": entries}


@register.simple_tag
def decision_shortcuts() -> list[dict[str, Any]]:
    """The keys of a report's decisions in their order, for the keyboard help (``reports.decisions``)."""
    by_key = {spec.buttons[REPORT].shortcut: spec for spec in decisions_for(REPORT)}
    return [
        {"key": key.key, "help": key.help, "needs_note": by_key[key].note_from_high_score}
        for key in SHORTCUTS
        if key in by_key
    ]


@register.simple_tag
def verdict_badge(verdict: str, status: str = "") -> SafeString:
    """``<span class="badge badge-fake">Fake</span>``; a scan without a verdict shows its status."""
    css, words = VERDICTS.get(verdict or "", STATUSES.get(status or "", ("na", "—")))
    return format_html('<span class="badge badge-{}">{}</span>', css, words)


@register.filter
def overridden_by(obj: Any) -> str:
    """A scan's or media's words for what overrode the model ("" when the model decided)."""
    return override_words(getattr(obj, "decided_by", ""), getattr(obj, "reasons", None))


@register.filter
def score(value: Any, digits: int = 3) -> str:
    """A probability as ``0.873``; ``—`` when there is none."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def score_class(value: Any, threshold: Any = None) -> str:
    """``hi`` at or above the threshold (0.5 when none), ``mid`` within 0.15 below it, else ``lo``."""
    try:
        p = float(value)
    except (TypeError, ValueError):
        return "none"
    t = float(threshold) if threshold not in (None, "") else 0.5
    return "hi" if p >= t else "mid" if p >= t - 0.15 else "lo"


@register.filter
def priority_class(value: Any) -> str:
    """A queue priority score (0-100): ``hi`` where a dismissal needs a note, ``mid`` up to 20 below."""
    try:
        score = float(value)
    except (TypeError, ValueError):
        return "none"
    high = float(settings.FAKEME_REPORTS["DISMISS_NOTE_MIN_SCORE"])
    return "hi" if score >= high else "mid" if score >= high - 20 else "lo"


@register.filter
def percent(value: Any, digits: int = 0) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f} %"


@register.filter
def filesize(value: Any) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
