"""The credit ledger emits ``credit.entry_recorded`` for every appended entry and
``credit.grade_changed`` when the entry moves the grade, in the append's transaction."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from core.webhooks.models import EventKind, WebhookDelivery, WebhookSubscription
from tests.credit.ledger_helpers import append

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription() -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="信用平台",
        target_url="https://credit.example.cn/hooks",
        event_kinds=[EventKind.CREDIT_ENTRY_RECORDED, EventKind.CREDIT_GRADE_CHANGED],
    )


def payloads(kind: str) -> list[dict]:
    return list(WebhookDelivery.objects.filter(event_kind=kind).order_by("id").values_list("payload", flat=True))


def test_an_entry_that_moves_the_grade_emits_both(subscription, enterprise):
    entry = append(enterprise, "admin_penalty")  # 80 - 15: B → C

    (recorded,) = payloads(EventKind.CREDIT_ENTRY_RECORDED)
    assert recorded == {
        "seq": entry.seq,
        "enterprise_uscc": enterprise.uscc,
        "kind_code": "admin_penalty",
        "kind_version": entry.kind_version,
        "tier": "general",
        "points": -15,
        "reverses_seq": None,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
    }
    (grade,) = payloads(EventKind.CREDIT_GRADE_CHANGED)
    assert (grade["enterprise_uscc"], grade["grade_before"], grade["grade_after"], grade["entry_seq"]) == (
        enterprise.uscc,
        "B",
        "C",
        entry.seq,
    )


def test_an_entry_that_leaves_the_grade_emits_only_the_entry(subscription, enterprise):
    append(enterprise, "commitment_fulfilled")  # 80 + 2: still B
    assert len(payloads(EventKind.CREDIT_ENTRY_RECORDED)) == 1
    assert payloads(EventKind.CREDIT_GRADE_CHANGED) == []


def test_a_correction_names_the_entry_it_ends(subscription, enterprise):
    penalty = append(enterprise, "admin_penalty")
    repair = append(enterprise, "repair", days_ago=0, reverses=penalty)

    assert [p["reverses_seq"] for p in payloads(EventKind.CREDIT_ENTRY_RECORDED)] == [None, penalty.seq]
    assert [
        (p["grade_before"], p["grade_after"], p["entry_seq"]) for p in payloads(EventKind.CREDIT_GRADE_CHANGED)
    ] == [
        ("B", "C", penalty.seq),
        ("C", "B", repair.seq),
    ]


def test_a_history_loaded_into_the_ledger_is_not_news(subscription, enterprise):
    append(enterprise, "admin_penalty", backfill_recorded_at=timezone.now() - datetime.timedelta(days=1))
    assert not WebhookDelivery.objects.exists()
