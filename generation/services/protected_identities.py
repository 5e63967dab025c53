"""Protected identities: faces a platform refuses to have swapped, and the refusal itself.

A platform registers a photo of the person; only dlib's 128-d descriptor is kept (the photo is not
stored). A generation whose source face, or any face in its target (up to 5 per image or sampled
video frame), lies within ``PROTECTED_IDENTITY_DISTANCE`` of one of the platform's descriptors is
refused with 422 ``protected_identity`` before anything is stored. The default, 0.45, is stricter
than dlib's own "same person" 0.6 because at 0.6 nearly half of the pairs of different East Asian
adults match (docs/generation.md); copies of one photo lie at 0.10-0.24.
"""

from __future__ import annotations

import logging
from uuid import UUID

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from detection.errors import DetectionError
from detection.imaging import load_image
from generation.landmark import LandmarkSwapper, SwapError
from generation.landmark import identity as landmark_identity
from generation.models import ProtectedIdentity
from generation.services.errors import engine_error
from generation.services.inputs import SourceInput, TargetInput
from moderation.core.audit import audit_record
from moderation.core.errors import ApplicationError
from moderation.core.media import media_from_upload
from moderation.core.models import Platform

logger = logging.getLogger(__name__)

# The photo must show exactly one face; the engine's source codes name the "source", these do not.
_CODES = {"no_face_in_source": "no_face", "several_faces_in_source": "several_faces"}


def protected_identity_create(
    *, platform: Platform, upload: UploadedFile, label: str = ""
) -> ProtectedIdentity:
    """Register the one face in ``upload`` (422 ``no_face`` / ``several_faces`` otherwise)."""
    media = media_from_upload(upload, platform=platform)
    if media.kind != "image":
        raise ApplicationError("not_an_image", "Send a photo (an image) of the person's face.", status=422)
    try:
        rgb = load_image(media.data, max_pixels=settings.FAKEME_GENERATION["MAX_PIXELS"])
        face = LandmarkSwapper().prepare_source(rgb)
        descriptor = landmark_identity.descriptor(rgb, face.box)
    except (DetectionError, SwapError) as exc:
        error = engine_error(exc)
        error.code = _CODES.get(error.code, error.code)
        error.message = error.message.replace("source image", "image")
        raise error from exc
    with transaction.atomic():
        row = ProtectedIdentity.objects.create(
            platform=platform,
            label=label.strip(),
            descriptor=[round(float(v), 6) for v in descriptor],
            image_sha256=media.sha256,
        )
        audit_record(
            action="protected_identity.create",
            actor_label=f"platform {platform.name}",
            target=row,
            target_label=row.label or str(row.pk),
            platform=platform,
            description=(
                f"Platform {platform.name} added {row.label or 'an identity'} to its protected identities: "
                "generations showing this face will be refused."
            ),
        )
    return row


def protected_identity_delete(*, platform: Platform, identity_id: UUID | str) -> None:
    row = ProtectedIdentity.objects.filter(platform=platform, pk=identity_id).first()
    if row is None:
        raise ApplicationError("not_found", "No such protected identity.", status=404)
    with transaction.atomic():
        audit_record(
            action="protected_identity.delete",
            actor_label=f"platform {platform.name}",
            target=row,
            target_label=row.label or str(row.pk),
            platform=platform,
            description=(
                f"Platform {platform.name} removed {row.label or 'an identity'} from its protected list."
            ),
        )
        row.delete()


def protected_identities_exist(*, platform: Platform) -> bool:
    return ProtectedIdentity.objects.filter(platform=platform).exists()


def protected_identity_refusal(*, platform: Platform, source: SourceInput, target: TargetInput) -> None:
    """422 ``protected_identity`` when the source or a target face is one of the platform's identities."""
    rows = list(ProtectedIdentity.objects.filter(platform=platform).values_list("id", "label", "descriptor"))
    if not rows:
        return
    bank = np.asarray([r[2] for r in rows], dtype=np.float32)
    limit = float(settings.FAKEME_GENERATION["PROTECTED_IDENTITY_DISTANCE"])
    try:
        faces = [("source", source.descriptor())] + [("target", d) for d in target.descriptors]
    except (DetectionError, SwapError) as exc:
        raise engine_error(exc) from exc
    for role, descriptor in faces:
        distances = np.linalg.norm(bank - descriptor[None, :], axis=1)
        best = int(np.argmin(distances))
        if distances[best] < limit:
            identity_id, label, _ = rows[best]
            logger.info(
                "generation refused for %s: %s face matches protected identity %s",
                platform,
                role,
                identity_id,
            )
            raise ApplicationError(
                "protected_identity",
                f"The {role} shows a protected identity ({label or identity_id}): it cannot be swapped.",
                status=422,
                fields={
                    "role": role,
                    "identity_id": str(identity_id),
                    "label": label,
                    "distance": round(float(distances[best]), 4),
                    "threshold": limit,
                },
            )
