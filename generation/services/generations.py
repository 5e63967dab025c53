"""Ask for a face swap (or a variant of an earlier one): checks, stored inputs, the record, the queue.

All-or-nothing: every check that can fail on the caller's input (consent, limits, media, faces,
protected identities, engine) runs before anything is stored; a failure after storing deletes the
files again, and the row and its audit entry are one transaction. The task is sent once that
commits; a broker that cannot be reached then leaves the generation ``queued`` for the
``requeue_stranded`` sweep instead of failing the request.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

import watermark
from generation import engines
from generation.models import CONSENT_MAX_LENGTH, Generation
from generation.selectors import generation_get
from generation.services.inputs import source_check, target_check
from generation.services.jobs import generation_enqueue
from generation.services.protected_identities import protected_identities_exist, protected_identity_refusal
from generation.services.rate_limits import generation_rate_check
from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from moderation.core.media import (
    MediaInput,
    media_delete,
    media_from_bytes,
    media_from_upload,
    media_read,
    media_store,
)
from moderation.core.models import Platform

logger = logging.getLogger(__name__)

PAYLOAD_LIMIT = 1 << watermark.PAYLOAD_BITS  # generation numbers are 1 .. 2**40 - 1
SEED_LIMIT = 1 << 31
_NUMBER_TRIES = 8


def seed_new(avoid: int | None = None) -> int:
    while True:
        seed = secrets.randbelow(SEED_LIMIT)
        if seed != avoid:
            return seed


def _validate(*, user_id: str, consent: str, source: Any, target: Any) -> None:
    fields: dict[str, list[str]] = {}
    if not user_id.strip():
        fields["user_id"] = ["The id of the user who asked for the generation is required."]
    if len(consent) > CONSENT_MAX_LENGTH:
        fields["consent"] = [f"At most {CONSENT_MAX_LENGTH} characters."]
    if source is None:
        fields["source"] = ["A photo of the face to put in (an image file) is required."]
    if target is None:
        fields["target"] = ["The image or video to put the face into is required."]
    if not consent.strip():
        raise ApplicationError(
            "consent_required",
            "A consent statement is required: say who consented to this face swap and how.",
            fields={"consent": ["This field is required."], **fields},
        )
    if fields:
        raise ApplicationError("invalid", "The generation request is invalid; see fields.", fields=fields)


def generation_submit(
    *,
    platform: Platform,
    source: UploadedFile | None,
    target: UploadedFile | None,
    user_id: str,
    consent: str,
    engine: str = "",
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Generation:
    """Check and queue a face swap of ``source``'s face into ``target`` (an image or a video)."""
    _validate(user_id=user_id, consent=consent, source=source, target=target)
    assert source is not None and target is not None
    generation_rate_check(platform=platform, user_id=user_id)  # cheap: before reading any media
    return _generation_create(
        platform=platform,
        source=media_from_upload(source, platform=platform),
        target=media_from_upload(target, platform=platform),
        user_id=user_id.strip(),
        consent=consent.strip(),
        engine=engine,
        seed=seed,
        options=options,
    )


def generation_regenerate(
    *,
    platform: Platform,
    generation_id: str,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    engine: str = "",
    consent: str = "",
) -> Generation:
    """A new generation from the same inputs, linked to ``generation_id``: a new seed unless one is
    given; the parent's engine, options and consent statement unless others are given."""
    parent = generation_get(platform=platform, generation_id=generation_id)
    if len(consent) > CONSENT_MAX_LENGTH:
        raise ApplicationError(
            "invalid", "Invalid consent.", fields={"consent": [f"At most {CONSENT_MAX_LENGTH} characters."]}
        )
    if not (parent.source_storage_key and parent.target_storage_key):
        raise ApplicationError(
            "inputs_deleted", "This generation's input files have been deleted.", status=410
        )
    generation_rate_check(platform=platform, user_id=parent.user_id)
    return _generation_create(
        platform=platform,
        source=media_from_bytes(media_read(parent.source_storage_key)),
        target=media_from_bytes(media_read(parent.target_storage_key)),
        user_id=parent.user_id,
        consent=consent.strip() or parent.consent_statement,
        engine=engine or parent.engine,
        seed=seed if seed is not None else seed_new(avoid=parent.seed),
        options=parent.options if options is None else options,
        parent=parent,
    )


def _generation_create(
    *,
    platform: Platform,
    source: MediaInput,
    target: MediaInput,
    user_id: str,
    consent: str,
    engine: str,
    seed: int | None,
    options: Mapping[str, Any] | None,
    parent: Generation | None = None,
) -> Generation:
    engine_name = engines.engine_resolve(engine)
    options = engines.options_validate(engine_name, options)
    seed = seed_new() if seed is None else seed
    if not 0 <= seed < SEED_LIMIT:
        raise ApplicationError("invalid", "Invalid seed.", fields={"seed": [f"From 0 to {SEED_LIMIT - 1}."]})
    checked_source = source_check(source)
    checked_target = target_check(target, with_descriptors=protected_identities_exist(platform=platform))
    protected_identity_refusal(platform=platform, source=checked_source, target=checked_target)

    stored: list[str] = []
    try:
        stored.append(media_store(source))
        stored.append(media_store(target))
        with transaction.atomic():
            # Serialise concurrent submissions of one platform so the limits hold exactly.
            Platform.objects.select_for_update().filter(pk=platform.pk).first()
            generation_rate_check(platform=platform, user_id=user_id)
            generation = Generation(
                platform=platform,
                user_id=user_id,
                consent_statement=consent,
                engine=engine_name,
                seed=seed,
                options=options,
                parent=parent,
                source_sha256=source.sha256,
                source_format=source.format,
                source_size_bytes=source.size,
                source_storage_key=stored[0],
                target_kind=target.kind,
                target_sha256=target.sha256,
                target_format=target.format,
                target_size_bytes=target.size,
                target_storage_key=stored[1],
                result={"target": checked_target.info},
            )
            _insert_with_new_number(generation)
            _audit_create(generation)
            generation_id = generation.pk
            transaction.on_commit(lambda: generation_enqueue(generation_id), robust=True)
    except BaseException:
        media_delete(stored)
        raise
    logger.info(
        "generation %s queued: platform=%s user=%s engine=%s target=%s parent=%s",
        generation.generation_id, platform.name, user_id, engine_name, target.kind,
        parent.generation_id if parent else "-",
    )  # fmt: skip
    return generation


def _insert_with_new_number(generation: Generation) -> None:
    """A random, unused, non-zero 40-bit number: the record's key and its watermark payload."""
    for _ in range(_NUMBER_TRIES):
        generation.id = secrets.randbelow(PAYLOAD_LIMIT - 1) + 1
        try:
            with transaction.atomic():  # a savepoint: a collision must not spoil the outer transaction
                generation.save(force_insert=True)
            return
        except IntegrityError:
            if not Generation.objects.filter(pk=generation.id).exists():
                raise  # some other constraint failed
    raise ApplicationError("internal_error", "Could not allocate a generation number.", status=500)


def _audit_create(generation: Generation) -> None:
    platform = generation.platform
    parent = generation.parent
    how = f", a variant of {parent.generation_id} with seed {generation.seed}," if parent else ""
    audit_record(
        action="generation.create",
        actor_label=f"platform {platform.name}",
        target=generation,
        target_id=generation.generation_id,
        platform=platform,
        description=(
            f"Platform {platform.name} asked for face swap {generation.generation_id}{how} for its user "
            f"{generation.user_id} ({generation.engine} engine, {generation.target_kind} target). "
            f"Consent: “{generation.consent_statement[:200]}”"
        ),
        after={
            "generation_id": generation.generation_id,
            "user_id": generation.user_id,
            "engine": generation.engine,
            "seed": generation.seed,
            "options": generation.options,
            "consent": generation.consent_statement,
            "source_sha256": generation.source_sha256,
            "target_sha256": generation.target_sha256,
            "parent": parent.generation_id if parent else None,
        },
    )
