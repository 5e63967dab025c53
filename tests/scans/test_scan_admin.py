"""Staff manage platforms and keys in the Django admin (until the console issue)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from moderation.models import ApiKey, Platform

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["platform", "apikey", "scan", "bankentry", "webhookdelivery"])
def test_admin_lists_load(admin_client: Client, platform: Platform, model: str) -> None:
    assert admin_client.get(reverse(f"admin:moderation_{model}_changelist")).status_code == 200


def test_admin_creates_a_key_shown_once_and_revokes_it(admin_client: Client, platform: Platform) -> None:
    response = admin_client.post(
        reverse("admin:moderation_platform_changelist"),
        {"action": "create_api_key", "_selected_action": [str(platform.pk)]},
        follow=True,
    )
    text = response.content.decode()
    key = ApiKey.objects.get(platform=platform)
    assert f"{key.prefix}_" in text  # the raw key, in the one message that shows it
    admin_client.post(
        reverse("admin:moderation_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(key.pk)]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
