"""Shared by the security tests (tests/hardening/security): a world of two platforms where platform A
owns one of everything, and the scan tests' helpers the test files use (re-exported here); the scan
tests' fixtures come from ``conftest.py`` beside them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from generation.models import Generation, ProtectedIdentity
from moderation.core.media import media_from_bytes, media_store
from moderation.core.models import ApiKey, Platform
from moderation.core.platforms import api_key_create, api_key_revoke
from moderation.provenance.models import BankEntry
from moderation.scans.known_fakes import known_fake_submit
from moderation.scans.models import Scan
from reports.models import Report, ReviewItem
from reports.services.appeals import appeal_create
from reports.services.reports import report_create
from tests.detection.fakeme_media import encode
from tests.support.factories import new_generation_id
from tests.support.reports import scanned_post
from tests.support.scans import LocalServer, PlatformFactory, stored_files, upload

__all__ = [
    "CONSENT",
    "LocalServer",
    "PlatformFactory",
    "World",
    "build_world",
    "head_jpeg_of",
    "iter_routes",
    "key_client",
    "new_generation_id",
    "stored_files",
    "upload",
]

CONSENT = "Both people in these photos agreed in writing (form #12) to this swap for a security test."


def head_jpeg_of(astronaut: np.ndarray) -> bytes:
    """The astronaut's head alone: one face for the generation engine (in the whole photo's JPEG,
    dlib also takes the mission patch for a face)."""
    return encode(np.ascontiguousarray(astronaut[0:300, 100:400]), "JPEG", quality=92)


def key_client(raw: str | None) -> APIClient:
    client = APIClient()
    if raw is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@dataclass
class World:
    """Platform A with one of each resource; B, another tenant; and every kind of caller."""

    a: Platform
    b: Platform
    keys: dict[str, str | None]  # role -> raw key: own (A), other (B), revoked (A's), forged, none
    scan: Scan
    spare_post: Scan  # a second tagged post of A: appealable, and its media not yet a known fake
    report: Report
    appeal: ReviewItem
    known_fake: BankEntry
    generation: Generation
    identity: ProtectedIdentity
    image: bytes

    def client(self, role: str) -> APIClient:
        return key_client(self.keys[role])

    def ids(self) -> dict[str, str]:
        """A's resources as URL kwargs."""
        return {
            "scan_id": str(self.scan.pk),
            "index": "0",
            "entry_id": str(self.known_fake.pk),
            "report_id": str(self.report.pk),
            "appeal_id": str(self.appeal.pk),
            "generation_id": self.generation.generation_id,
            "identity_id": str(self.identity.pk),
            "spare_scan_id": str(self.spare_post.pk),
            "external_id": self.scan.external_id,
            "spare_external_id": self.spare_post.external_id,
        }

    def secret_ids(self) -> list[str]:
        """Ids of A's that no other tenant's answer may contain."""
        ids = self.ids()
        return [ids[k] for k in ids if k not in ("index", "external_id", "spare_external_id")] + [
            str(self.a.pk)
        ]

    def snapshot(self) -> dict[str, Any]:
        """Everything of A's that a request could change or delete."""
        a = self.a
        return {
            "scans": sorted(str(pk) for pk in Scan.objects.filter(platform=a).values_list("pk", flat=True)),
            "known_fakes": sorted(
                str(pk) for pk in BankEntry.objects.filter(platform=a).values_list("pk", flat=True)
            ),
            "reports": Report.objects.filter(platform=a).count(),
            "review_items": sorted(
                (str(i.pk), i.version) for i in ReviewItem.objects.filter(platform=a).only("pk", "version")
            ),
            "generations": sorted(Generation.objects.filter(platform=a).values_list("pk", flat=True)),
            "identities": sorted(
                str(pk) for pk in ProtectedIdentity.objects.filter(platform=a).values_list("pk", flat=True)
            ),
            "keys": sorted(ApiKey.objects.filter(platform=a).values_list("prefix", "revoked_at")),
        }


def build_world(face_jpeg: bytes, other_jpeg: bytes) -> World:
    """Through the real services where they are cheap; the generation and the protected identity as
    rows (their services run face models; the matrix's own POSTs exercise those)."""
    a, b = PlatformFactory(), PlatformFactory()
    _, own = api_key_create(platform=a, name="own")
    revoked_key, revoked = api_key_create(platform=a, name="revoked")
    api_key_revoke(api_key=revoked_key)
    _, other = api_key_create(platform=b, name="other")
    forged = f"{own[:12]}_{secrets.token_urlsafe(32)}"  # A's key id, a wrong secret

    scan = scanned_post(
        a, external_id="a-post", image=face_jpeg, probability=0.93, verdict="fake", tagged=True,
        author_id="author-a",
    )  # fmt: skip
    spare = scanned_post(
        a, external_id="a-post-2", image=other_jpeg, probability=0.91, verdict="fake", tagged=True,
        author_id="author-a",
    )  # fmt: skip
    report = report_create(
        platform=a, external_post_id="a-post", reporter_id="reporter-a", category="impersonation",
        scan_id=scan.pk,
    ).report  # fmt: skip
    appeal = appeal_create(platform=a, external_post_id="a-post", appellant_id="author-a", statement="Mine.")
    known_fake = known_fake_submit(platform=a, scan_id=scan.pk).entry

    media = media_from_bytes(face_jpeg, original_name="face.jpg")
    generation = Generation(
        id=new_generation_id(), platform=a, user_id="user-a", consent_statement=CONSENT,
        engine=Generation.Engine.LANDMARK, seed=7,
        source_sha256=media.sha256, source_format=media.format, source_size_bytes=media.size,
        source_storage_key=media_store(media),
        target_kind="image", target_sha256=media.sha256, target_format=media.format,
        target_size_bytes=media.size, target_storage_key=media_store(media),
        status=Generation.Status.COMPLETED, progress_percent=100,
        output_kind="image", output_format=media.format, output_sha256=media.sha256,
        output_size_bytes=media.size, output_storage_key=media_store(media),
    )  # fmt: skip
    generation.save(force_insert=True)
    # A descriptor far from any face (dlib's are unit-scale): it exists without refusing the tests' faces.
    identity = ProtectedIdentity.objects.create(
        platform=a, label="someone protected", descriptor=[5.0] * 128, image_sha256="0" * 64
    )
    return World(
        a=a, b=b, keys={"own": own, "other": other, "revoked": revoked, "forged": forged, "none": None},
        scan=scan, spare_post=spare, report=report, appeal=appeal, known_fake=known_fake,
        generation=generation, identity=identity, image=face_jpeg,
    )  # fmt: skip


def iter_routes(prefix: str) -> dict[str, tuple[str, Any]]:
    """Every URL pattern whose full route starts with ``prefix``: name -> (route, callback)."""
    found: dict[str, tuple[str, Any]] = {}

    def walk(patterns: list[Any], base: str) -> None:
        for pattern in patterns:
            route = base + str(pattern.pattern).lstrip("^")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(prefix):
                assert pattern.name, (
                    f"unnamed URL pattern {route}: name it so the security matrix can list it"
                )
                assert pattern.name not in found, f"two URL patterns named {pattern.name}"
                found[pattern.name] = (route, pattern.callback)

    walk(get_resolver().url_patterns, "")
    return found
