"""Staff manage platforms and keys in the Django admin (until the console issue)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from moderation.core.models import ApiKey, Platform

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


def _change_form_data(response) -> dict:  # noqa: ANN001
    """What a browser would post back from an unchanged admin change form (fields + inline management)."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue  # unchecked boxes and empty values are simply absent from a real post
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def test_admin_settings_changes_go_through_the_audit_log(admin_client: Client, platform: Platform) -> None:
    from moderation.core.models import AuditEntry

    url = reverse("admin:moderation_platform_change", args=[platform.pk])
    data = _change_form_data(admin_client.get(url))
    data["fake_hashtag"] = "#AIgenerated"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    platform.refresh_from_db()
    assert platform.fake_hashtag == "#AIgenerated"
    entry = AuditEntry.objects.get(action="platform.settings_change")
    assert entry.before == {"fake_hashtag": "#Deepfake"} and entry.after == {"fake_hashtag": "#AIgenerated"}
    assert entry.actor_label == "admin"
