"""The review decisions are defined once (``reports.decisions``): the stored choices, the service's
rules and effects, the API schema's choices and the console's buttons, bulk bar and keyboard help
all come from the registry. A new decision is an entry there plus its row in ``EXPECTED`` here."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from moderation.core.errors import ApplicationError
from moderation.core.models import AuditEntry, Platform, WebhookDelivery
from reports.console.forms import BulkDecisionForm
from reports.decisions import (
    APPEAL,
    DECISIONS,
    REPORT,
    SHORTCUTS,
    Hashtags,
    bulk_decisions,
    decisions_for,
)
from reports.models import ReviewItem
from reports.services.review_decisions import review_decide

pytestmark = pytest.mark.django_db

# value -> (item kinds, resolves the item, what it does to the tag, the bank its ticked media go into)
EXPECTED: dict[str, tuple[set[str], bool, Hashtags, str]] = {
    "confirmed": ({REPORT}, True, Hashtags.TAGGED, "known_fake"),
    "dismissed": ({REPORT}, True, Hashtags.UNCHANGED, "allow"),
    "appeal_upheld": ({APPEAL}, True, Hashtags.UNTAGGED, "allow"),
    "appeal_denied": ({APPEAL}, True, Hashtags.TAGGED, ""),
    "escalated": ({REPORT, APPEAL}, False, Hashtags.UNCHANGED, ""),
}
KINDS = (REPORT, APPEAL)


def _item(platform: Platform, kind: str, post: str) -> ReviewItem:
    """A bare review item (no scan, no reports): the decisions' bookkeeping needs nothing more."""
    return ReviewItem.objects.create(platform=platform, kind=kind, external_post_id=post, score=10.0)


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="decision" value="([a-z_]+)"', html)


def test_the_registry_is_the_stored_choices_and_as_expected() -> None:
    assert list(DECISIONS) == [spec.value for spec in DECISIONS.values()]
    assert set(DECISIONS) == set(ReviewItem.Decision.values) == set(EXPECTED)
    assert {REPORT, APPEAL} == set(ReviewItem.Kind.values)
    for value, (kinds, resolves, hashtags, bank) in EXPECTED.items():
        spec = DECISIONS[value]
        assert (set(spec.kinds), spec.resolves, spec.hashtags, spec.bank) == (kinds, resolves, hashtags, bank)
        assert spec.label == ReviewItem.Decision(value).label
        for kind in kinds:
            assert spec.event(kind) == (f"{kind}.resolved" if resolves else None)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", list(EXPECTED))
def test_the_service_takes_the_registrys_decisions_for_each_kind(
    kind: str, value: str, platform: Platform, alice: AbstractBaseUser
) -> None:
    Platform.objects.filter(pk=platform.pk).update(webhook_url="https://hooks.example/fakeme")
    spec = DECISIONS[value]
    item = _item(platform, kind, post=f"{kind}-{value}")
    if kind not in spec.kinds:
        with pytest.raises(ApplicationError) as caught:
            review_decide(item_id=item.pk, user=alice, decision=value, expected_version=item.version)
        allowed = ", ".join(s.value for s in decisions_for(kind))
        assert caught.value.code == "invalid_decision"
        assert caught.value.message == f"A {kind} item can be decided as: {allowed}."
        return
    decided = review_decide(item_id=item.pk, user=alice, decision=value, expected_version=item.version)
    assert decided.decision == value
    assert decided.status == ("resolved" if spec.resolves else "escalated")
    entry = AuditEntry.objects.get(action="review.decide", target_id=str(item.pk))
    assert entry.description.startswith(f"alice {spec.verb} the {decided.label}{spec.verb_tail}")
    sent = list(WebhookDelivery.objects.filter(platform=platform).values_list("event_type", flat=True))
    assert sent == ([spec.event(kind)] if spec.resolves else [])
    if spec.resolves:
        tagged = platform.fake_hashtag in (decided.hashtags or [])
        assert tagged == (spec.hashtags is Hashtags.TAGGED)
        assert decided.allow_listed == spec.allow_lists(allow_bank=False)


def test_the_api_schema_offers_the_registrys_decisions() -> None:
    enums = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert enums["ResolutionDecisionEnum"]["enum"] == list(ReviewItem.Decision.values)
    assert set(enums["ResolutionDecisionEnum"]["enum"]) == set(DECISIONS)
    assert enums["AppealOutputDecisionEnum"]["enum"] == [s.value for s in decisions_for(APPEAL) if s.resolves]


@pytest.mark.parametrize("kind", KINDS)
def test_every_decision_of_a_kind_is_a_button_on_its_item_page(
    kind: str, platform: Platform, alice: AbstractBaseUser
) -> None:
    client = Client()
    client.force_login(alice)
    item = _item(platform, kind, post="p-buttons")
    html = client.get(reverse("console:item", args=[item.pk])).content.decode()
    expected = sorted(decisions_for(kind), key=lambda s: SHORTCUTS.index(s.buttons[kind].shortcut))
    assert _buttons(html) == [spec.value for spec in expected]
    for spec in expected:
        button = spec.buttons[kind]
        label = button.label.format(hashtag=platform.fake_hashtag)
        assert (
            f'value="{spec.value}" class="btn {button.css}" data-key="{button.shortcut.action}">'
            f"{label} <kbd>{button.shortcut.key}</kbd></button>"
        ) in html

    ReviewItem.objects.filter(pk=item.pk).update(status="escalated")
    html = client.get(reverse("console:item", args=[item.pk])).content.decode()
    assert _buttons(html) == [spec.value for spec in expected if spec.resolves]  # escalated once only


def test_the_queue_and_its_keys_come_from_the_registry(platform: Platform, alice: AbstractBaseUser) -> None:
    bulk = [(spec.value, spec.bulk_label) for spec in bulk_decisions()]
    assert bulk == [("confirmed", "Confirm"), ("dismissed", "Dismiss")]
    assert BulkDecisionForm().fields["decision"].choices == bulk
    client = Client()
    client.force_login(alice)
    _item(platform, REPORT, post="p-queue")
    html = client.get(reverse("console:queue")).content.decode()
    for value, label in bulk:
        assert re.search(rf'value="{value}" class="btn [a-z-]+" disabled>{label} selected</button>', html)
    for spec in decisions_for(REPORT):  # the row keys console.js sends
        assert f'data-decision-{spec.buttons[REPORT].shortcut.action}="{spec.value}"' in html
    help_keys = re.findall(r"<dt><kbd>([a-z])</kbd></dt><dd>", html)  # the keyboard help
    decision_keys = [s.buttons[REPORT].shortcut.key for s in decisions_for(REPORT)]
    assert [k for k in help_keys if k in {s.key for s in SHORTCUTS}] == decision_keys
