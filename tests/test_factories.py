"""tests/support/factories.py: each factory makes a valid row, its parents on one platform."""

from __future__ import annotations

import pytest

from generation.models import Generation
from moderation.core.auth import api_key_hash
from moderation.core.models import ApiKey, AuditEntry, Platform
from moderation.provenance.models import BankEntry
from moderation.scans.models import Scan, ScanMedia
from reports.models import Report, ReviewItem
from tests.support.factories import (
    ApiKeyFactory,
    AuditEntryFactory,
    BankEntryFactory,
    GenerationFactory,
    PlatformFactory,
    ReportFactory,
    ReviewItemFactory,
    ScanFactory,
    ScanMediaFactory,
)

pytestmark = pytest.mark.django_db


def test_one_of_each() -> None:
    platform = PlatformFactory()
    key = ApiKeyFactory(platform=platform)
    media = ScanMediaFactory(scan=ScanFactory(platform=platform))
    second = ScanMediaFactory(scan=media.scan)
    entry = BankEntryFactory(platform=platform, scan_media=media)
    generation = GenerationFactory(platform=platform, bank_entry=entry)
    report = ReportFactory(review_item=ReviewItemFactory(platform=platform))
    audit = AuditEntryFactory(platform=platform)

    assert Platform.objects.count() == 1
    for model in (ApiKey, BankEntry, Generation, ReviewItem, Report, AuditEntry):
        assert model.objects.filter(platform=platform).count() == 1, model
    assert Scan.objects.filter(platform=platform).count() == 2  # the media's and the review item's
    assert ScanMedia.objects.filter(scan__platform=platform).count() == 2

    assert key.raw is not None and api_key_hash(key.raw) == key.key_hash and key.raw.startswith(key.prefix)
    assert (media.index, second.index) == (0, 1)
    assert media.verdict == media.scan.verdict == "real"
    assert 0 < generation.id < 1 << 40 and generation.generation_id.startswith("gen_")
    item = report.review_item
    assert item.scan is not None and item.scan.platform == platform
    assert report.external_post_id == item.external_post_id == item.scan.external_id
    assert audit.platform_label == platform.name


def test_parents_are_made_when_not_given() -> None:
    report = ReportFactory()
    assert report.platform == report.review_item.platform == report.review_item.scan.platform
    assert BankEntryFactory(platform=None).platform is None  # a shared entry
    assert Platform.objects.count() == 1  # the report's alone: platform=None made none
