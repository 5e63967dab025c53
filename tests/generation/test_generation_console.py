"""The staff console's generation log: anonymous users go to the login page, non-staff get 403,
staff see the record (who, when, engine, consent) with thumbnails of source, target and output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from generation.models import Generation
from generation.services.generations import generation_submit
from moderation.core.models import Platform
from tests.support.scans import upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("gen_env")]

CONSENT = "Signed release <b>#77</b>: both people agreed to this demo swap."


@pytest.fixture
def generation(
    make_platform: Callable[..., Platform],
    ffhq_bytes: Callable[[int], bytes],
    django_capture_on_commit_callbacks: Any,
) -> Generation:
    platform = make_platform(name="console-platform")
    with django_capture_on_commit_callbacks(execute=True):
        made = generation_submit(
            platform=platform,
            source=upload("s.jpg", ffhq_bytes(3)),
            target=upload("t.jpg", ffhq_bytes(4)),
            user_id="member-9001",
            consent=CONSENT,
        )
    made.refresh_from_db()
    assert made.status == Generation.Status.COMPLETED, made.error_message
    return made


def signed_in(*, staff: bool) -> Client:
    user = get_user_model().objects.create_user(f"user-{staff}", password="x-unused-9", is_staff=staff)
    client = Client()
    client.force_login(user)
    return client


def test_generation_log_by_role_and_content(generation: Generation) -> None:
    page = reverse("console:generations")
    thumbs = [
        reverse("console:generation-thumb", args=[generation.generation_id, r])
        for r in ("source", "target", "output")
    ]

    for url in [page, *thumbs]:
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("console:login"))
    visitor = signed_in(staff=False)
    assert visitor.get(page).status_code == 403
    assert visitor.get(thumbs[2]).status_code == 403

    staff = signed_in(staff=True)
    response = staff.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert generation.generation_id in html and "member-9001" in html and "console-platform" in html
    assert "built-in landmark engine" in html and "completed" in html
    assert "Signed release &lt;b&gt;#77&lt;/b&gt;" in html  # the consent, escaped
    for url in thumbs:
        assert f'src="{url}"' in html
        image = staff.get(url)
        assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
        assert image.content[:3] == b"\xff\xd8\xff" and 1000 < len(image.content) < 40_000
    assert 'href="/console/generations/" aria-current="page"' in html  # the nav link

    # Filters: by generation id and user; another user's search shows nothing.
    found = staff.get(page, {"generation": generation.generation_id, "user_id": "member-9001"})
    assert generation.generation_id in found.content.decode()
    other = staff.get(page, {"user_id": "someone-else"}).content.decode()
    assert generation.generation_id not in other and "No generation matches" in other
    bad = staff.get(page, {"generation": "gen_xyz"})
    assert bad.status_code == 200 and "A generation id is gen_" in bad.content.decode()
    assert (
        staff.get(reverse("console:generation-thumb", args=["gen_0000000001", "output"])).status_code == 404
    )
