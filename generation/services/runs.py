"""The body of the ``generation_run`` task: swap, check the mark, store, register, notify.

Order matters: the engine returns only watermarked frames; the encoded output is read back and
must carry this generation's number under the current key before it is stored (a guard against a
broken engine, never a way around the mark); then it is stored under a random key, its PDQ/SHA-256
goes into the global known-fake bank (so a copy that lost the mark is still caught), the row is
completed and the platform's webhook gets ``generation.completed``. Any failure stores nothing
and ends in ``generation.failed`` with a stable code.

One runner per generation (two runs would store two outputs and two bank entries): the platform
core's job lifecycle (``moderation.core.jobs``: run lock, claim, attempts, failure, progress rows)
runs it; this module is what a generation does while it runs.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction

import watermark
from detection.imaging import load_image
from detection.video import VideoReader
from generation import engines
from generation.landmark import NoFaceInTarget, UnreadableVideo, WatermarkSpec
from generation.models import Generation, MediaKind
from generation.services.errors import engine_error, is_engine_error
from moderation.core.errors import ApplicationError
from moderation.core.jobs import (
    JobProgress,
    job_fail,
    job_kind,
    job_mark_completed,
    job_notify,
    job_queue_wait_s,
    job_run,
)
from moderation.core.media import (
    media_delete,
    media_from_bytes,
    media_local_path,
    media_read,
    media_store,
)
from moderation.provenance.banks import bank_entry_add
from moderation.provenance.credentials import signing_identity
from moderation.provenance.models import BankEntry
from moderation.provenance.pdq import pdq_of_image
from watermark.codec import payload_to_bytes
from watermark.credentials import sign_generated
from watermark.ids import generation_id_for_payload
from watermark.media import encode_image

logger = logging.getLogger(__name__)
# The generator version its Content Credentials name (bump with a change to what it makes).
GENERATOR_VERSION = "2.0"

GENERATION = "generation"  # the registered job kind (generation.services.jobs.GENERATION_JOBS)
_VIDEO_PROGRESS_SHARE = 90  # percent of the bar for swapping frames; the rest is checking and storing


@dataclass
class _Output:
    data: bytes
    kind: str
    info: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


class _Superseded(Exception):
    """The row stopped being ours while we worked (a redelivered task completed or failed it)."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def _verify_mark(recovery: watermark.Recovery, generation: Generation) -> None:
    if not recovery.found or recovery.payload != generation.pk:
        raise ApplicationError(
            "watermark_verification_failed",
            "The output did not carry this generation's watermark; it was not stored.",
            status=500,
        )


def _swap_image(
    generation: Generation, engine: engines.SwapEngine, spec: WatermarkSpec, progress: JobProgress
) -> _Output:
    clock = time.perf_counter()
    source = load_image(media_read(generation.source_storage_key))
    target = load_image(media_read(generation.target_storage_key))
    decoded = time.perf_counter()
    progress(10, force=True)
    rgb, info = engine.swap_image(source, target, spec)
    swapped = time.perf_counter()
    progress(70, force=True)
    fmt = "png" if generation.target_format == "png" else "jpeg"
    data = encode_image(rgb, fmt)
    encoded = time.perf_counter()
    # Beside the watermark, a signed manifest (the EU AI Act / Korea's AI Basic Act ask for a
    # machine-readable mark); it goes into the container, so the pixels and the mark are unchanged.
    data = sign_generated(
        data,
        fmt,
        signing_identity(),
        generator=f"FakeME {engine.name} face swap",
        version=GENERATOR_VERSION,
        edited=True,
        watermark_payload=payload_to_bytes(generation.pk),
        title=f"{generation_id_for_payload(generation.pk)}.{'png' if fmt == 'png' else 'jpg'}",
    )
    signed = time.perf_counter()
    _verify_mark(watermark.recover_bytes(data, [settings.WATERMARK_KEY]), generation)
    timings = {
        "decode": _ms(decoded - clock),
        "swap": _ms(swapped - decoded),
        "encode": _ms(encoded - swapped),
        "sign": _ms(signed - encoded),
        "verify": _ms(time.perf_counter() - signed),
    }
    info = {**info, "width": int(rgb.shape[1]), "height": int(rgb.shape[0])}
    return _Output(data, MediaKind.IMAGE, info, timings)


def _read_frames(reader: VideoReader, limit: int) -> Iterator[np.ndarray]:
    """The target's frames, at most ``limit``, each checked against the pixel limit before conversion."""
    for _, _, rgb in reader.every_frame(max_frames=limit):
        yield rgb


def _swap_video(
    generation: Generation, engine: engines.SwapEngine, spec: WatermarkSpec, progress: JobProgress
) -> _Output:
    """Swap frame by frame (each frame marked by the engine) into an MPEG-4 Part 2 (mp4v) file."""
    clock = time.perf_counter()
    limit = int(settings.FAKEME_GENERATION["MAX_VIDEO_FRAMES"])
    source = load_image(media_read(generation.source_storage_key))
    with (
        media_local_path(generation.target_storage_key, f".{generation.target_format}") as path,
        tempfile.TemporaryDirectory(prefix="fakeme-generation-") as folder,
    ):
        config = settings.FAKEME_GENERATION
        reader = VideoReader(path, max_seconds=config["MAX_VIDEO_SECONDS"], max_pixels=config["MAX_PIXELS"])
        fps = reader.info.fps
        declared = reader.info.frame_count or 0
        total = min(declared, limit) if declared > 0 else limit
        out_path = Path(folder) / "output.mp4"
        writer: cv2.VideoWriter | None = None
        written = swapped = width = height = 0
        try:
            for frame in engine.swap_frames(source, _read_frames(reader, limit), spec, fps):
                if writer is None:
                    height, width = frame.image.shape[:2]
                    writer = cv2.VideoWriter(
                        str(out_path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height)
                    )
                    if not writer.isOpened():
                        raise UnreadableVideo("Could not open the output video for writing.")
                writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
                written += 1
                swapped += frame.swapped
                progress(_VIDEO_PROGRESS_SHARE * written // max(total, written), written, max(total, written))
        finally:
            reader.close()
            if writer is not None:
                writer.release()
        if written == 0:
            raise UnreadableVideo("The video has no decodable frames.")
        if swapped == 0:
            raise NoFaceInTarget("No face was found in any frame of the video.")
        progress(_VIDEO_PROGRESS_SHARE, written, written, force=True)
        swapped_at = time.perf_counter()
        _verify_mark(watermark.recover_video_file(out_path, [settings.WATERMARK_KEY]), generation)
        data = out_path.read_bytes()
    timings = {"swap": _ms(swapped_at - clock), "verify": _ms(time.perf_counter() - swapped_at)}
    info = {
        "frames": written,
        "frames_swapped": swapped,
        "fps": round(float(fps), 3),
        "truncated": reader.truncated,
        "width": width,
        "height": height,
    }
    return _Output(data, MediaKind.VIDEO, info, timings)


# -- run (Celery) ----------------------------------------------------------------------------------
def generation_process(*, generation_id: int) -> Generation | None:
    """Run a queued generation (the ``generation_run`` task) at most once at a time (the job's run
    lock); a duplicate delivery, a finished one or one out of attempts returns None."""
    return job_run(job_kind(GENERATION), generation_id, _process_claimed)


def _process_claimed(generation: Generation) -> Generation | None:
    kind = job_kind(GENERATION)
    started = time.perf_counter()
    queue_wait = job_queue_wait_s(generation)
    progress = JobProgress(kind, generation.pk)
    stored = ""
    try:
        if not (generation.source_storage_key and generation.target_storage_key):
            raise ApplicationError("inputs_deleted", "The generation's input files have been deleted.")
        config = engines.engine_settings(generation.engine, generation.options, generation.seed)
        engine = engines.swap_engine(generation.engine, config)
        spec = WatermarkSpec(payload=generation.pk, key=settings.WATERMARK_KEY)
        swap = _swap_video if generation.target_kind == MediaKind.VIDEO else _swap_image
        output = swap(generation, engine, spec, progress)
        clock = time.perf_counter()
        media = media_from_bytes(output.data)
        stored = media_store(media)
        pdq = pdq_of_image(output.data) if output.kind == MediaKind.IMAGE else None
        output.timings["store"] = _ms(time.perf_counter() - clock)
        with transaction.atomic():
            locked = Generation.objects.select_for_update(of=("self",)).select_related("platform", "parent")
            generation = locked.get(pk=generation.pk)
            if generation.status != Generation.Status.PROCESSING:
                raise _Superseded()  # another attempt finished it meanwhile: keep its outcome
            entry = bank_entry_add(
                bank=BankEntry.Bank.KNOWN_FAKE,
                source=BankEntry.Source.GENERATION,
                sha256=media.sha256,
                pdq=pdq.hex if pdq else "",
                pdq_quality=pdq.quality if pdq else None,
                note=f"FakeME generation {generation.generation_id} ({generation.platform.name})",
            ).entry
            if output.kind == MediaKind.VIDEO:
                generation.frames_done = generation.frames_total = output.info["frames"]
            generation.result = {**generation.result, "engine_settings": config, **output.info}
            generation.output_kind, generation.output_format = output.kind, media.format
            generation.output_sha256, generation.output_size_bytes = media.sha256, media.size
            generation.output_storage_key = stored
            generation.output_pdq = pdq.hex if pdq else ""
            generation.output_pdq_quality = pdq.quality if pdq else None
            generation.bank_entry = entry
            generation.timings_ms = {
                "queue_wait": _ms(queue_wait),
                **output.timings,
                "total": _ms(time.perf_counter() - started),
            }
            job_mark_completed(generation)
            generation.save()
            job_notify(kind, generation, "completed")
    except _Superseded:
        media_delete([stored])
        return None
    except SoftTimeLimitExceeded:
        media_delete([stored])
        job_fail(kind, generation, "generation_timeout", "The generation took longer than its time limit.")
        return generation
    except Exception as exc:
        media_delete([stored])
        if isinstance(exc, ApplicationError) or is_engine_error(exc):
            error = engine_error(exc)
            job_fail(kind, generation, error.code, error.message)
        else:
            logger.exception("generation %s crashed", generation.generation_id)
            job_fail(kind, generation, "internal_error", f"{type(exc).__name__}: {exc}")
        return generation
    logger.info("generation %s completed (%s)", generation.generation_id, generation.engine)
    return generation
