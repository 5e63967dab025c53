"""Demo content for ``make run`` (``demo_setup``): a few real scans and reports so the console is not empty.

Everything goes through the real services and the real detector: the posts are scanned by the
scan service, reported by ``report_create`` and appealed by ``appeal_create``. The pictures are
public-domain photos bundled with scikit-image (a dev requirement that ``make run`` installs);
without it, no demo content is made. Runs once per platform (it does nothing when the platform
already has scans).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

import watermark
from moderation.core.models import Platform
from moderation.scans.submission import scan_submit
from reports.services.appeals import appeal_create
from reports.services.reports import report_create

logger = logging.getLogger(__name__)
DEMO_PAYLOAD = 0x00_0000_2A42  # the "generation record" the demo's watermarked picture names


@dataclass
class DemoContent:
    scans: int = 0
    reports: int = 0
    appeals: int = 0
    skipped: str = ""
    errors: list[str] = field(default_factory=list)


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _photos() -> dict[str, np.ndarray] | None:
    try:
        from skimage import data
    except ImportError:
        return None
    return {
        "astronaut": np.ascontiguousarray(data.astronaut()),
        "coffee": np.ascontiguousarray(data.coffee()),
        "chelsea": np.ascontiguousarray(data.chelsea()),
    }


def demo_content_create(*, platform: Platform) -> DemoContent:
    """Scan five posts (a face, a watermarked face, a cat, a cup, a re-upload), report three, appeal one."""
    out = DemoContent()
    if platform.scans.exists():
        out.skipped = "the demo platform already has scans"
        return out
    photos = _photos()
    if photos is None:
        out.skipped = "scikit-image (a dev requirement) is not installed"
        return out
    marked = watermark.embed(photos["astronaut"], DEMO_PAYLOAD, settings.WATERMARK_KEY)
    posts = [
        ("demo-post-1", "astronaut.jpg", _jpeg(photos["astronaut"]), "u-nasa", ["#space", "#moon"]),
        ("demo-post-2", "swap.jpg", _jpeg(marked, 85), "u-remix", ["#fun"]),
        ("demo-post-3", "cat.jpg", _jpeg(photos["chelsea"]), "u-cats", ["#cat"]),
        ("demo-post-4", "coffee.jpg", _jpeg(photos["coffee"]), "u-cafe", ["#coffee"]),
        (
            "demo-post-5",
            "astronaut-small.jpg",
            _jpeg(photos["astronaut"][::2, ::2], 70),
            "u-repost",
            ["#space"],
        ),
    ]
    scans = {}
    for post_id, name, data, author, hashtags in posts:
        scans[post_id] = scan_submit(
            platform=platform,
            uploads=[SimpleUploadedFile(name, data, content_type="image/jpeg")],
            external_id=post_id,
            author_id=author,
            hashtags=hashtags,
        ).scan
        out.scans += 1
    reports = [
        ("demo-post-1", "reporter-ana", "impersonation", "This is not the real astronaut."),
        ("demo-post-1", "reporter-ben", "unlabelled_deepfake", ""),
        ("demo-post-2", "reporter-ana", "non_consensual", "My face was swapped into this."),
        ("demo-post-5", "reporter-cho", "other", ""),
    ]
    for post_id, reporter, category, comment in reports:
        report_create(
            platform=platform,
            external_post_id=post_id,
            reporter_id=reporter,
            category=category,
            comment=comment,
            scan_id=scans[post_id].pk,
        )
        out.reports += 1
    if scans["demo-post-2"].tagged:  # the watermark made it fake: its author appeals the tag
        appeal_create(
            platform=platform,
            external_post_id="demo-post-2",
            appellant_id="u-remix",
            statement="This is a parody and says so in the caption.",
        )
        out.appeals += 1
    return out
