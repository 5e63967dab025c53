"""Review decisions, defined once: which items each may decide, what it does, and how it reads.

Every decision is one ``DecisionSpec`` in ``DECISIONS``. The review services apply its rules and
effects (``reports.services.review_decisions``, ``reports.services.review_effects``), the console
draws its buttons, bulk choices, keyboard help and messages from it, moderators' decisions become
feedback on verdicts through ``says_fake``, and the API serializers take their choices from it.

Adding a decision: a member of ``Decision`` (the value stored in ``ReviewItem.decision`` and its
label; ``makemigrations`` then records the new choice) and its ``DecisionSpec`` below, plus its case
in ``tests/reports/test_decisions_registry.py``. Nothing else names decisions one by one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import models

from moderation.provenance.models import BankEntry

# The item kinds (``ReviewItem.Kind``'s values: reports.models imports this module, not the reverse).
REPORT, APPEAL = "report", "appeal"
# The webhook a final decision sends to the item's platform, by item kind; its ``data`` is
# ``reports.services.review_effects.resolved_event_data`` (decision, hashtags to add/remove, takedown).
RESOLVED_EVENTS = {REPORT: "report.resolved", APPEAL: "appeal.resolved"}


class Decision(models.TextChoices):
    """The stored value and label of each decision (``ReviewItem.Decision`` is this class)."""

    CONFIRMED = "confirmed", "Confirmed deepfake"
    DISMISSED = "dismissed", "Dismissed"
    ESCALATED = "escalated", "Escalated"
    APPEAL_UPHELD = "appeal_upheld", "Appeal upheld"
    APPEAL_DENIED = "appeal_denied", "Appeal denied"


class Hashtags(enum.Enum):
    """What a final decision does to the platform's tag among the post's published hashtags."""

    TAGGED = "tagged"  # the tag present once (added when missing)
    UNTAGGED = "untagged"  # every spelling of the tag removed
    UNCHANGED = "unchanged"  # the post stays as it is


class Reporters(enum.Enum):
    """What a final decision does to the item's reports and their reporters' track records."""

    AGREED = "agreed"  # the pending reports were right
    REJECTED = "rejected"  # the pending reports were wrong
    REVERSED = "reversed"  # the appealed confirmation's agreed reports were wrong after all
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Shortcut:
    """A console key: the decision button's ``data-key`` (console.js) and the key shown on it."""

    action: str
    key: str
    help: str  # the keyboard help's words for it (the report kind's decision)


CONFIRM = Shortcut("confirm", "f", "confirm deepfake")
DISMISS = Shortcut("dismiss", "d", "dismiss")
ESCALATE = Shortcut("escalate", "e", "escalate")
SHORTCUTS = (CONFIRM, DISMISS, ESCALATE)  # the order of the buttons and of the keyboard help


@dataclass(frozen=True)
class Button:
    """A decision's button on the item page of one item kind."""

    label: str  # ``{hashtag}``: the platform's tag
    css: str  # btn-fake | btn-real | btn-warn
    shortcut: Shortcut


@dataclass(frozen=True)
class DecisionSpec:
    """One decision: what it may decide, its rules, its effects and its words."""

    decision: Decision
    buttons: Mapping[str, Button]  # item kind -> its button: the kinds it may decide
    done: str  # what the console says once it is made: "<done>: post p-1."
    verb: str  # audit: "alice <verb> the <item><verb_tail>", "alice <verb> 3 item(s) in one bulk action"
    verb_tail: str = ""
    resolves: bool = True  # False: back to the queue, escalated and unassigned (no effects, no webhook)
    hashtags: Hashtags = Hashtags.UNCHANGED
    hashtag_words: str = ""  # audit: what happened to the tag ("{hashtag} added"); "" says nothing
    bank: str = ""  # the BankEntry.Bank the media the moderator ticked go into; "" = none
    bank_optional: bool = False  # only when the moderator asks for it (the "allow bank" box)
    bank_note: str = ""  # the bank entries' note ("{reference}": the review item)
    bank_help: str = ""  # the item page's words for where its ticked media go
    reporters: Reporters = Reporters.UNCHANGED
    takedown: bool = False  # may request a takedown
    note_from_high_score: bool = False  # needs a note at or above DISMISS_NOTE_MIN_SCORE
    doing: str = ""  # the note rule's words: "dismissing an item scored 70 ... needs a note"
    says_fake: bool | None = None  # as feedback on the model: the post is fake / is not / None: nothing
    bulk_label: str = ""  # offered in the queue's bulk bar under this label; "" = not offered
    kinds: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(self.buttons))

    @property
    def value(self) -> str:
        return self.decision.value

    @property
    def label(self) -> str:
        return str(self.decision.label)

    def banks(self, *, allow_bank: bool) -> bool:
        """Whether the media the moderator ticked go into a bank."""
        return bool(self.bank) and (allow_bank or not self.bank_optional)

    def allow_lists(self, *, allow_bank: bool) -> bool:
        """Whether the item's media end up allow-listed (``ReviewItem.allow_listed``)."""
        return self.banks(allow_bank=allow_bank) and self.bank == BankEntry.Bank.ALLOW

    def event(self, kind: str) -> str | None:
        """The webhook it sends for an item of ``kind`` (None: it sends none)."""
        return RESOLVED_EVENTS[kind] if self.resolves else None


_ESCALATE = Button("Escalate", "btn-warn", ESCALATE)

# The order of the buttons' kinds' lists (escalation last) and of the "can be decided as" messages.
DECISIONS: dict[str, DecisionSpec] = {
    spec.value: spec
    for spec in (
        DecisionSpec(
            Decision.CONFIRMED,
            buttons={REPORT: Button("Confirm deepfake", "btn-fake", CONFIRM)},
            done="Confirmed as a deepfake",
            verb="confirmed",
            verb_tail=" as a deepfake",
            hashtags=Hashtags.TAGGED,
            hashtag_words="{hashtag} added",
            bank=BankEntry.Bank.KNOWN_FAKE,
            bank_note="Confirmed deepfake ({reference}).",
            bank_help="confirm: known deepfakes",
            reporters=Reporters.AGREED,
            takedown=True,
            says_fake=True,
            bulk_label="Confirm",
        ),
        DecisionSpec(
            Decision.DISMISSED,
            buttons={REPORT: Button("Dismiss", "btn-real", DISMISS)},
            done="Dismissed",
            verb="dismissed",
            bank=BankEntry.Bank.ALLOW,
            bank_optional=True,
            bank_note="Dismissed report ({reference}).",
            bank_help="dismiss with allow bank: allow bank",
            reporters=Reporters.REJECTED,
            note_from_high_score=True,
            doing="dismissing",
            says_fake=False,
            bulk_label="Dismiss",
        ),
        DecisionSpec(
            Decision.APPEAL_UPHELD,
            buttons={APPEAL: Button("Uphold appeal: remove {hashtag}", "btn-real", DISMISS)},
            done="Appeal upheld",
            verb="upheld",
            hashtags=Hashtags.UNTAGGED,
            hashtag_words="{hashtag} removed",
            bank=BankEntry.Bank.ALLOW,  # so that no re-scan of the same media tags it again
            bank_note="Appeal upheld ({reference}).",
            bank_help="upheld appeal: allow bank",
            reporters=Reporters.REVERSED,
        ),
        DecisionSpec(
            Decision.APPEAL_DENIED,
            buttons={APPEAL: Button("Deny appeal: keep {hashtag}", "btn-fake", CONFIRM)},
            done="Appeal denied",
            verb="denied",
            hashtags=Hashtags.TAGGED,
            hashtag_words="{hashtag} stays",
        ),
        DecisionSpec(
            Decision.ESCALATED,
            buttons={REPORT: _ESCALATE, APPEAL: _ESCALATE},
            done="Escalated",
            verb="escalated",
            resolves=False,
        ),
    )
}


def decision_get(value: str) -> DecisionSpec | None:
    return DECISIONS.get(str(value))


def decisions_for(kind: str) -> list[DecisionSpec]:
    """The decisions an item of ``kind`` can take, in the registry's order."""
    return [spec for spec in DECISIONS.values() if kind in spec.kinds]


def bulk_decisions() -> list[DecisionSpec]:
    """The decisions the queue's bulk bar offers (they bank nothing: a bulk action shows no media)."""
    return [spec for spec in DECISIONS.values() if spec.bulk_label]


def decision_choices() -> list[tuple[str, str]]:
    """(value, label) of every decision, in the stored choices' order (the API schema's enum)."""
    return [(d.value, str(d.label)) for d in Decision if d.value in DECISIONS]


def final_decision_values(kind: str) -> list[str]:
    """The decisions that resolve an item of ``kind`` (what the platform can be told)."""
    return [spec.decision for spec in decisions_for(kind) if spec.resolves]
