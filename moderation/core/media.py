"""Scan media in: read uploads or fetch URLs (capped), sniff the type, hash, store under random keys."""

from __future__ import annotations

import errno
import hashlib
import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from detection.errors import DetectionError
from detection.imaging import check_image, image_pixels, sniff
from detection.video import check_video, temporary_video_file
from moderation.core import media_fetch
from moderation.core.errors import ApplicationError, from_detection_error
from moderation.core.models import Platform

logger = logging.getLogger(__name__)


@dataclass
class MediaInput:
    data: bytes
    kind: str  # image | video
    format: str
    sha256: str
    original_name: str = ""
    source_url: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


def _too_large(limit: int) -> ApplicationError:
    return ApplicationError(
        "media_too_large", f"A media file exceeds the limit of {limit:,} bytes.", status=413
    )


def media_from_bytes(data: bytes, *, original_name: str = "", source_url: str = "") -> MediaInput:
    if not data:
        raise ApplicationError("empty_input", "A media file is empty.")
    media = sniff(data[:64])
    if media is None:
        raise ApplicationError(
            "unsupported_media_type",
            "The content is not a supported image (JPEG, PNG, GIF, BMP, TIFF, WebP) "
            "or video (MP4, MOV, WebM, AVI) format.",
            status=415,
        )
    return MediaInput(
        data=data,
        kind=media.kind,
        format=media.format,
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=original_name[:255],
        source_url=source_url,
    )


def media_from_upload(upload: UploadedFile, *, platform: Platform) -> MediaInput:
    if upload.size is not None and upload.size > platform.max_upload_bytes:
        raise _too_large(platform.max_upload_bytes)
    data = upload.read(platform.max_upload_bytes + 1)
    if len(data) > platform.max_upload_bytes:
        raise _too_large(platform.max_upload_bytes)
    return media_from_bytes(data, original_name=upload.name or "")


def media_from_url(url: str, *, platform: Platform) -> MediaInput:
    config = settings.FAKEME_SCANS
    fetched = media_fetch.fetch(
        url,
        allowed_hosts=platform.allowed_private_hosts,
        max_bytes=platform.max_upload_bytes,
        timeout_s=config["FETCH_TIMEOUT_S"],
        deadline_s=config["FETCH_DEADLINE_S"],
        max_redirects=config["FETCH_MAX_REDIRECTS"],
    )
    return media_from_bytes(fetched.data, source_url=url)


def media_collect(
    *, platform: Platform, uploads: Sequence[UploadedFile], urls: Sequence[str]
) -> list[MediaInput]:
    limit = settings.FAKEME_SCANS["MAX_MEDIA_PER_SCAN"]
    if not uploads and not urls:
        raise ApplicationError("no_media", "Send at least one media file (media) or URL (media_urls).")
    if len(uploads) + len(urls) > limit:
        raise ApplicationError("too_many_media", f"At most {limit} media per scan.")
    items = [media_from_upload(upload, platform=platform) for upload in uploads]
    items += [media_from_url(url, platform=platform) for url in urls]
    return items


def media_budget_check(items: Sequence[MediaInput]) -> None:
    """Refuse a request whose images declare more pixels together than ``SCAN_MAX_TOTAL_PIXELS``
    (413 ``media_too_complex``), from their headers, before any of them is decoded. A small file can
    declare a large picture (a 140 kB PNG of 7000×7000): the budget is in pixels, not bytes."""
    budget = settings.FAKEME_SCANS["MAX_TOTAL_PIXELS"]
    limit = settings.FAKEME_DETECTOR["MAX_PIXELS"]
    total = 0
    for item in items:
        if item.kind != "image":
            continue  # videos are queued; their work is bounded by frame size, duration and samples
        try:
            total += image_pixels(item.data, max_pixels=limit)
        except DetectionError as exc:
            raise from_detection_error(exc) from exc
    if total > budget:
        raise ApplicationError(
            "media_too_complex",
            f"The images of this request have {total:,} pixels together; the limit is {budget:,}.",
            status=413,
        )


def media_check(media: MediaInput, *, max_video_seconds: float | None = None) -> None:
    """Refuse media the engine would refuse later, before it is stored for a queued scan or a bank:
    the same codes as the engine (4xx), at the cost of a reduced decode (images) or a demux and one
    decoded frame (videos). Media analysed within the request need no such check."""
    limits = settings.FAKEME_DETECTOR
    try:
        if media.kind == "image":
            check_image(media.data, max_pixels=limits["MAX_PIXELS"])
            return
        with temporary_video_file(media.data, suffix=f".{media.format}") as path:
            check_video(
                path,
                max_seconds=max_video_seconds or limits["MAX_VIDEO_SECONDS"],
                max_pixels=limits["MAX_PIXELS"],
            )
    except DetectionError as exc:
        raise from_detection_error(exc) from exc


# -- storage ---------------------------------------------------------------------------
def storage_key_new(media: MediaInput) -> str:
    """A non-guessable key: 256 random bits; the date prefix only helps operators browse."""
    return f"scans/{timezone.now():%Y/%m}/{secrets.token_hex(32)}.{media.format}"


def media_store(media: MediaInput) -> str:
    """Store the media under a new random key; a full or failing volume is a clear error, not a 500.

    A write that fails half-way (disk full) leaves a partial file behind (Django's FileSystemStorage
    does not remove it): it is deleted here, so a failed request leaves nothing stored.
    """
    key = storage_key_new(media)
    try:
        return default_storage.save(key, ContentFile(media.data))
    except OSError as exc:
        _delete_quietly(key)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            logger.error("media storage full: %s", exc)
            raise ApplicationError(
                "storage_full", "The media storage is full; retry later.", status=507
            ) from exc
        logger.error("media storage unavailable: %s", exc)
        raise ApplicationError(
            "storage_unavailable", "The media storage is unavailable; retry later.", status=503
        ) from exc


def _delete_quietly(key: str) -> None:
    try:
        default_storage.delete(key)
    except OSError:
        logger.exception("could not delete the partial file %s", key)


def media_delete(keys: Sequence[str]) -> None:
    for key in keys:
        if key:
            default_storage.delete(key)


@contextmanager
def media_local_path(key: str, suffix: str) -> Iterator[Path]:
    """A local file path for stored media (the file itself on local storage, a temp copy otherwise)."""
    try:
        local = default_storage.path(key)
    except NotImplementedError:
        local = None  # remote storage (S3): copy to a temporary file
    if local is not None:
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with default_storage.open(key, "rb") as src:
            shutil.copyfileobj(src, tmp, 1024 * 1024)
        tmp.flush()
        yield Path(tmp.name)


def media_read(key: str) -> bytes:
    with default_storage.open(key, "rb") as fh:
        return fh.read()
