"""``demo_setup`` (what ``make run`` runs) makes the console's demo moderator and real demo content once."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from moderation.models import Platform, Scan
from reports.models import Report, ReviewItem

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_demo_setup_makes_a_moderator_and_demo_content(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_MODERATOR_PASSWORD", raising=False)
    first = _run()
    match = re.search(r"Console: +http://127\.0\.0\.1:8000/console/ +user moderator +password (\S+)", first)
    assert match, first
    moderator = get_user_model().objects.get(username="moderator")
    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.check_password(match.group(1))
    assert "Demo content: 5 scans, 4 reports, 1 appeal" in first

    platform = Platform.objects.get(name="demo")
    originals = Scan.objects.filter(platform=platform, mode=Scan.Mode.SYNC)
    verdicts = dict(originals.values_list("external_id", "verdict"))
    assert verdicts["demo-post-2"] == "fake"  # the watermarked picture, decided by the mark
    assert originals.get(external_id="demo-post-2").decided_by == "watermark"
    assert verdicts["demo-post-3"] == verdicts["demo-post-4"] == "not_applicable"  # a cat, a cup
    items = ReviewItem.objects.filter(platform=platform)
    assert items.filter(kind="report").count() == 3 and items.filter(kind="appeal").count() == 1
    assert Report.objects.filter(platform=platform).count() == 4

    # Again: a new password, the same content (nothing duplicated); an env password is used, not printed.
    monkeypatch.setenv("DEMO_MODERATOR_PASSWORD", "from the environment 123")
    second = _run()
    assert "password (from DEMO_MODERATOR_PASSWORD)" in second and "from the environment 123" not in second
    assert "Demo content: skipped: the demo platform already has scans" in second
    moderator.refresh_from_db()
    assert moderator.check_password("from the environment 123")
    assert ReviewItem.objects.filter(platform=platform).count() == 4
