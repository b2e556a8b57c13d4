"""Objection and repair: the services, the viewflow flows driven from our screens."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process

from core.exceptions import DomainError
from credit import ledger_selectors, ledger_services
from credit.ledger_models import CreditRequest, LedgerEntry
from tests import factories
from tests.credit.ledger_helpers import append
from workflows.credit_flows import ObjectionFlow, RepairFlow

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit_officer():
    return factories.staff_with_role("credit_office")


def _submit(client, enterprise, entry, kind, **data):  # type: ignore[no-untyped-def]
    payload = {"statement": "已整改完毕", "evidence": "整改报告", "commitment": "本企业承诺诚信经营"}
    payload.update(data)
    return client.post(reverse("credit_request_start", args=[enterprise.pk, entry.seq, kind]), payload)


def test_repair_flow_end_to_end(client, owner, enterprise, credit_officer):
    original = append(enterprise, "admin_penalty", days_ago=120)
    client.force_login(owner)
    assert _submit(client, enterprise, original, "repair").status_code == 302
    request = CreditRequest.objects.get()
    assert request.due_on > timezone.localdate()
    process = Process.objects.get(flow_class=RepairFlow)
    assert process.status == "NEW"

    client.force_login(credit_officer)
    response = client.post(
        reverse("credit_request_decide", args=[request.pk]), {"decision": "grant", "reason": "整改到位，准予修复"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    process.refresh_from_db()
    assert request.status == "granted" and process.status == "DONE"
    repair = LedgerEntry.objects.get(reverses=original)
    assert repair.kind_code == "repair" and request.result_entry == repair
    assert ledger_selectors.credit_grade_as_of(enterprise=enterprise).score == 80
    assert original.seq in ledger_selectors.hidden_from_public(enterprise=enterprise)
    # the original stays in the ledger for auditors
    assert LedgerEntry.objects.filter(pk=original.pk).exists()


def test_objection_refused_carries_reasons_and_keeps_the_entry(client, owner, enterprise, credit_officer):
    original = append(enterprise, "admin_penalty", days_ago=5)
    client.force_login(owner)
    assert _submit(client, enterprise, original, "objection", commitment="").status_code == 302
    request = CreditRequest.objects.get()
    client.force_login(credit_officer)
    response = client.post(reverse("credit_request_decide", args=[request.pk]), {"decision": "refuse", "reason": ""})
    assert response.status_code == 400  # reasons required
    response = client.post(
        reverse("credit_request_decide", args=[request.pk]), {"decision": "refuse", "reason": "处罚决定合法有效"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "refused" and request.decision_reason
    assert Process.objects.get(flow_class=ObjectionFlow).status == "DONE"
    assert LedgerEntry.objects.count() == 1


def test_repair_before_the_minimum_window_is_refused(client, owner, enterprise):
    original = append(enterprise, "admin_penalty", days_ago=10)  # general: minimum 3 months
    client.force_login(owner)
    response = _submit(client, enterprise, original, "repair")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors().as_data()[0].code == "repair_too_early"
    assert CreditRequest.objects.count() == 0 and Process.objects.count() == 0


def test_repair_needs_a_commitment_and_one_open_request(owner, enterprise):
    original = append(enterprise, "admin_penalty", days_ago=120)
    with pytest.raises(DomainError) as caught:
        ledger_services.credit_request_submit(
            actor=owner, enterprise=enterprise, entry=original, kind="repair", statement="s", evidence="e"
        )
    assert caught.value.code == "commitment_required"
    ledger_services.credit_request_submit(
        actor=owner, enterprise=enterprise, entry=original, kind="repair", statement="s", evidence="e", commitment="c"
    )
    with pytest.raises(DomainError) as caught:
        ledger_services.credit_request_submit(
            actor=owner,
            enterprise=enterprise,
            entry=original,
            kind="repair",
            statement="s",
            evidence="e",
            commitment="c",
        )
    assert caught.value.code == "request_open"


def test_only_the_credit_office_decides(owner, enterprise, auditor):
    original = append(enterprise, "admin_penalty", days_ago=120)
    request = ledger_services.credit_request_submit(
        actor=owner, enterprise=enterprise, entry=original, kind="objection", statement="s", evidence="e"
    )
    with pytest.raises(DomainError) as caught:
        ledger_services.credit_request_decide(actor=auditor, request=request, grant=True, reason="r")
    assert caught.value.code == "not_credit_office"


def test_decision_deadline_counts_working_days():
    # 2026-09-30 (Wed) + 5 working days skips the National Day holiday (1–7 October, 8 October on)
    assert ledger_services.add_working_days(datetime.date(2026, 9, 30), 5) > datetime.date(2026, 10, 8)
    assert ledger_services.add_working_days(datetime.date(2031, 1, 3), 1) == datetime.date(2031, 1, 6)
