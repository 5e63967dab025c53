"""factory-boy factories of the main models: rows as the services would leave them, made directly.

Nothing here runs a service (no audit entries, webhooks, stored files or re-scans): a test that needs
what a service does calls the service (``tests.support.reports.scanned_post``, ``api_key_create``).
Each factory makes its parents when not given them, on the same platform::

    item = ReviewItemFactory()             # a platform, a completed scan on it, the item
    ReportFactory(review_item=item)        # a report on that item, same platform and post
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import factory
from factory.django import DjangoModelFactory

from generation.models import Generation
from moderation.core.auth import api_key_generate
from moderation.core.models import ApiKey, AuditEntry, Platform
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan, ScanMedia
from reports.models import Category, Report, ReviewItem

CONSENT = "Both people in these photos agreed in writing to this swap for a test."


def sha256_hex() -> str:
    """A random 64-hex-digit digest (no media behind it)."""
    return secrets.token_hex(32)


def new_generation_id() -> int:
    """A generation's primary key: its watermark payload, random 40 bits, never 0."""
    return secrets.randbelow((1 << 40) - 1) + 1


class PlatformFactory(DjangoModelFactory):
    class Meta:
        model = Platform

    name = factory.LazyFunction(lambda: f"platform-{uuid.uuid4().hex[:10]}")


class ApiKeyFactory(DjangoModelFactory):
    """A platform's key; the raw key, never stored, is on the instance as ``raw``."""

    class Meta:
        model = ApiKey

    platform = factory.SubFactory(PlatformFactory)
    name = "test"

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: Any, **kwargs: Any) -> ApiKey:
        generated = api_key_generate()
        kwargs.setdefault("prefix", generated.prefix)
        kwargs.setdefault("key_hash", generated.key_hash)
        key = super()._create(model_class, *args, **kwargs)
        key.raw = generated.raw if key.key_hash == generated.key_hash else None
        return key


class ScanFactory(DjangoModelFactory):
    """A completed synchronous scan of a post, verdict ``real`` (no media: see ``ScanMediaFactory``)."""

    class Meta:
        model = Scan

    platform = factory.SubFactory(PlatformFactory)
    external_id = factory.Sequence(lambda n: f"post-{n}")
    author_id = "author-1"
    hashtags_in = factory.LazyFunction(lambda: ["#moon"])
    hashtags_out = factory.LazyAttribute(lambda o: list(o.hashtags_in))
    mode = Scan.Mode.SYNC
    status = Scan.Status.COMPLETED
    progress_percent = 100
    verdict = "real"
    probability = 0.2
    decided_by = "model"


class ScanMediaFactory(DjangoModelFactory):
    """One JPEG of a scan, next index; its verdict is the scan's. Nothing is stored (``storage_key``
    empty, as after retention)."""

    class Meta:
        model = ScanMedia

    scan = factory.SubFactory(ScanFactory)
    index = factory.LazyAttribute(lambda o: o.scan.media.count())
    kind = ScanMedia.Kind.IMAGE
    format = "jpeg"
    size_bytes = 12_345
    sha256 = factory.LazyFunction(sha256_hex)
    verdict = factory.LazyAttribute(lambda o: o.scan.verdict)
    probability = factory.LazyAttribute(lambda o: o.scan.probability)
    decided_by = factory.LazyAttribute(lambda o: o.scan.decided_by)


class BankEntryFactory(DjangoModelFactory):
    """A platform's own known-deepfake entry (``platform=None``: a shared one)."""

    class Meta:
        model = BankEntry

    bank = BankEntry.Bank.KNOWN_FAKE
    platform = factory.SubFactory(PlatformFactory)
    source = BankEntry.Source.PLATFORM
    sha256 = factory.LazyFunction(sha256_hex)
    pdq = factory.LazyFunction(sha256_hex)
    pdq_quality = 100


class GenerationFactory(DjangoModelFactory):
    """A completed image swap of the built-in engine (hashes only, no stored files)."""

    class Meta:
        model = Generation

    id = factory.LazyFunction(new_generation_id)
    platform = factory.SubFactory(PlatformFactory)
    user_id = "user-1"
    consent_statement = CONSENT
    engine = Generation.Engine.LANDMARK
    seed = 7
    source_sha256 = factory.LazyFunction(sha256_hex)
    source_format = "jpeg"
    source_size_bytes = 12_345
    target_kind = "image"
    target_sha256 = factory.LazyFunction(sha256_hex)
    target_format = "jpeg"
    target_size_bytes = 12_345
    status = Generation.Status.COMPLETED
    progress_percent = 100
    output_kind = "image"
    output_format = "jpeg"
    output_sha256 = factory.LazyFunction(sha256_hex)
    output_size_bytes = 12_345


class ReviewItemFactory(DjangoModelFactory):
    """An open report item on a scanned post of the same platform (its counters as left by no report:
    ``ReportFactory`` does not update them)."""

    class Meta:
        model = ReviewItem

    platform = factory.SubFactory(PlatformFactory)
    scan = factory.SubFactory(ScanFactory, platform=factory.SelfAttribute("..platform"))
    kind = ReviewItem.Kind.REPORT
    external_post_id = factory.LazyAttribute(
        lambda o: o.scan.external_id if o.scan else f"post-{uuid.uuid4().hex[:12]}"
    )
    status = ReviewItem.Status.OPEN
    category = Category.UNLABELLED_DEEPFAKE
    probability = factory.LazyAttribute(lambda o: o.scan.probability if o.scan else None)


class ReportFactory(DjangoModelFactory):
    """One user's report on an item's post."""

    class Meta:
        model = Report

    review_item = factory.SubFactory(ReviewItemFactory)
    platform = factory.LazyAttribute(lambda o: o.review_item.platform)
    external_post_id = factory.LazyAttribute(lambda o: o.review_item.external_post_id)
    reporter_id = factory.Sequence(lambda n: f"reporter-{n}")
    category = Category.UNLABELLED_DEEPFAKE


class AuditEntryFactory(DjangoModelFactory):
    """An audit entry by the system about a platform."""

    class Meta:
        model = AuditEntry

    platform = factory.SubFactory(PlatformFactory)
    platform_label = factory.LazyAttribute(lambda o: o.platform.name if o.platform else "")
    actor_label = "system"
    action = "test.action"
    target_type = "platform"
    target_id = factory.LazyAttribute(lambda o: str(o.platform.pk) if o.platform else "")
    target_label = factory.LazyAttribute(lambda o: o.platform.name if o.platform else "")
    description = "A test entry."
