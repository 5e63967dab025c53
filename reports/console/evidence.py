"""The evidence view of a scan: what the item page and the scans archive show for each media item.

Built from the stored results only (no model run): face boxes as percentages of the picture, the
per-frame timeline chart of a video, its top-scoring frames, bank matches and the watermark. The
pictures that need the model or the stored file (heatmaps, frame thumbnails) are links to
``reports.console.evidence_images`` views, fetched lazily by the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils.safestring import SafeString

from moderation.scans.models import DecidedBy, Scan, ScanMedia
from reports.console.charts import Series, line_chart
from reports.models import ReviewItem
from reports.selectors import ItemMedia
from reports.services.media_veil import veiled_keys

TOP_FRAMES = 6


@dataclass
class FaceBox:
    index: int
    probability: float | None
    left: float  # percentages of the picture, for an overlay that scales with it
    top: float
    width: float
    height: float
    heatmap_url: str


@dataclass
class FrameThumb:
    frame: int  # frame number in the stream
    timestamp: float
    probability: float
    faces: int
    url: str
    heatmap_urls: list[str] = field(default_factory=list)


@dataclass
class MediaEvidence:
    media: ScanMedia
    available: bool  # the stored file still exists (not purged by retention)
    file_url: str
    width: int
    height: int
    key: str  # unique on the page (one page can show media of several scans): links player and chart
    threshold: float | None  # the threshold of the media's own scan (colours of its scores)
    status: str  # the media's scan's status: only a completed scan has results to show
    error: str = ""  # a failed scan's code and message
    sources: list[str] = field(default_factory=list)  # who sent it (the item page)
    faces: list[FaceBox] = field(default_factory=list)
    timeline_svg: SafeString | None = None
    top_frames: list[FrameThumb] = field(default_factory=list)
    frames_sampled: int = 0
    frames_with_faces: int = 0
    aggregation: str = ""
    aggregate: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None
    veiled: bool = False  # shown blurred until the moderator reveals it (reports.services.media_veil)

    @property
    def is_video(self) -> bool:
        return self.media.kind == ScanMedia.Kind.VIDEO

    @property
    def overridden_by(self) -> str:
        return override_words(self.media.decided_by, self.media.reasons)

    @property
    def scored(self) -> bool:
        """The media's scan completed: its faces, frames and scores are there to show."""
        return self.status == Scan.Status.COMPLETED


def override_words(decided_by: str, reasons: list[str] | None) -> str:
    """What decided instead of the model's own score, in words ("" when the model decided): shown
    next to the score so that a low score beside a red badge does not read as a contradiction."""
    if decided_by == DecidedBy.WATERMARK:
        return "FakeME watermark"
    if decided_by == DecidedBy.PROVENANCE:
        return "Content Credentials (declared AI-generated)"
    if decided_by == DecidedBy.BANK:
        return "allow bank" if "allow_listed" in (reasons or []) else "known-deepfake bank"
    return ""


def _pct(value: float, total: int) -> float:
    return round(100.0 * value / total, 3) if total else 0.0


def _boxes(
    faces: list[dict[str, Any]], width: int, height: int
) -> list[tuple[int, dict[str, Any], float, float, float, float]]:
    out = []
    for i, face in enumerate(faces):
        box = face.get("box") or [0, 0, 0, 0]
        x1, y1, x2, y2 = (max(0.0, float(v)) for v in box)
        x2, y2 = min(x2, float(width)), min(y2, float(height))
        out.append((i, face, _pct(x1, width), _pct(y1, height), _pct(x2 - x1, width), _pct(y2 - y1, height)))
    return out


def _url(name: str, media: ScanMedia, **kwargs: Any) -> str:
    return reverse(f"console:{name}", kwargs={"scan_id": media.scan_id, "index": media.index, **kwargs})


def media_evidence(media: ScanMedia, *, scan: Scan, sources: list[str] | None = None) -> MediaEvidence:
    """The evidence of one media of ``scan`` (its own scan, for the threshold and the state)."""
    result = media.result or {}
    width, height = int(result.get("width") or 0), int(result.get("height") or 0)
    threshold = scan.threshold
    evidence = MediaEvidence(
        media=media,
        available=bool(media.storage_key) and media.deleted_at is None,
        file_url=_url("media-file", media),
        width=width,
        height=height,
        key=f"{media.scan_id}-{media.index}",
        threshold=threshold,
        status=scan.status,
        error=f"{scan.error_code}: {scan.error_message}" if scan.status == Scan.Status.FAILED else "",
        sources=list(sources or []),
    )
    if media.kind == ScanMedia.Kind.IMAGE:
        evidence.faces = [
            FaceBox(i, face.get("probability"), left, top, w, h, _url("face-heatmap", media, face=i))
            for i, face, left, top, w, h in _boxes(result.get("faces") or [], width, height)
        ]
        return evidence

    frames = result.get("frames") or []
    evidence.frames_sampled = int(result.get("frames_sampled") or len(frames))
    evidence.frames_with_faces = sum(1 for f in frames if f.get("probability") is not None)
    evidence.aggregation = result.get("aggregation") or ""
    evidence.aggregate = result.get("aggregate") or {}
    evidence.duration_s = result.get("duration_s")
    if frames:
        times = [float(f.get("timestamp") or 0.0) for f in frames]
        evidence.timeline_svg = line_chart(
            times,
            [Series("P(fake) per frame", [f.get("probability") for f in frames], "#1f4e99")],
            title=f"P(fake) per sampled frame of media {media.index}",
            y_range=(0.0, 1.0),
            threshold=threshold,
            shade=[f.get("probability") is None for f in frames],
            shade_label="no face",
            point_attrs=lambda i: f'data-seek="{times[i]:.3f}" tabindex="0"',
            x_format=lambda t: f"{t:.0f}s" if t >= 10 else f"{t:.1f}s",
            y_format=lambda v: f"{v:.2f}",
            height=180,
            css_class="timeline",
        )
    scored = sorted(
        (f for f in frames if f.get("probability") is not None),
        key=lambda f: (-float(f["probability"]), float(f.get("timestamp") or 0.0)),
    )[:TOP_FRAMES]
    for frame in scored:
        number = int(frame.get("index") or 0)
        thumb = FrameThumb(
            frame=number,
            timestamp=float(frame.get("timestamp") or 0.0),
            probability=float(frame["probability"]),
            faces=len(frame.get("faces") or []),
            url=_url("frame-thumb", media, frame=number),
        )
        thumb.heatmap_urls = [
            _url("face-heatmap", media, face=i) + f"?frame={number}" for i in range(thumb.faces)
        ]
        evidence.top_frames.append(thumb)
    return evidence


def scan_evidence(scan: Scan) -> list[MediaEvidence]:
    """One entry per media item of the scan (its ``media`` prefetched with results)."""
    return [media_evidence(m, scan=scan) for m in scan.media.all()]


def item_evidence(media: list[ItemMedia]) -> list[MediaEvidence]:
    """One entry per distinct media of a review item (``reports.selectors.review_item_media``)."""
    return [media_evidence(m.media, scan=m.media.scan, sources=m.sources) for m in media]


def veil(
    evidence: list[MediaEvidence], *, user: AbstractBaseUser, session: Any, item: ReviewItem | None = None
) -> list[MediaEvidence]:
    """Mark the media this moderator sees blurred on this page (``reports.services.media_veil``)."""
    veiled = veiled_keys(user=user, session=session, keys=[ev.key for ev in evidence], item=item)
    for ev in evidence:
        ev.veiled = ev.key in veiled
    return evidence
