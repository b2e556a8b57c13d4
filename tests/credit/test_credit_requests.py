"""Objection and repair: the services, the viewflow flows driven from our screens."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Process

from core.exceptions import DomainError
from credit.ledger import selectors as ledger_selectors
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditRequest, LedgerEntry
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
        ledger_services.credit_request_decide(actor=auditor, credit_request=request, grant=True, reason="r")
    assert caught.value.code == "not_credit_office"


def test_decision_deadline_counts_the_bureaus_working_days(owner, enterprise):
    from approvals.calendar import services as calendar_services

    # Wed 30 Sep 2026 + 5 working days skips the National Day holiday (1–7 October) and counts the
    # make-up Saturday 10 October: Thu 8, Fri 9, Sat 10, Mon 12, Tue 13
    with time_machine.travel(datetime.datetime(2026, 9, 30, 10, tzinfo=datetime.UTC), tick=False):
        original = append(enterprise, "admin_penalty", days_ago=5)
        request = ledger_services.credit_request_submit(
            actor=owner, enterprise=enterprise, entry=original, kind="objection", statement="s", evidence="e"
        )
    assert request.due_on == datetime.date(2026, 10, 13)
    # the calendar administrators edit decides: a holiday added on 13 October moves the next deadline
    calendar_services.calendar_day_set(
        actor=None, day=datetime.date(2026, 10, 13), kind="holiday", name="临时", note="t"
    )
    with time_machine.travel(datetime.datetime(2026, 9, 30, 11, tzinfo=datetime.UTC), tick=False):
        other = append(enterprise, "admin_penalty", days_ago=5)
        later = ledger_services.credit_request_submit(
            actor=owner, enterprise=enterprise, entry=other, kind="objection", statement="s", evidence="e"
        )
    assert later.due_on == datetime.date(2026, 10, 14)


def test_a_deadline_in_a_year_the_calendar_does_not_cover_is_provisional_then_recomputed(client, owner, enterprise):
    from approvals.calendar import services as calendar_services
    from approvals.models import CalendarYear

    # given the calendar covers 2027 but not 2028, and an objection on Tue 28 Dec 2027
    with time_machine.travel(datetime.datetime(2027, 12, 28, 10, tzinfo=datetime.UTC), tick=False):
        original = append(enterprise, "admin_penalty", days_ago=5)
        client.force_login(owner)
        response = _submit(client, enterprise, original, "objection")
        # then the enterprise is not refused for the bureau's missing calendar: weekdays count in
        # 2028 (29, 30, 31 Dec, Mon 3 and Tue 4 Jan) and the deadline says it is provisional
        assert response.status_code == 302
        request = CreditRequest.objects.get()
        assert (request.due_on, request.due_provisional) == (datetime.date(2028, 1, 4), True)
        assert Process.objects.filter(flow_class=ObjectionFlow).count() == 1
        # when 2028 is entered with New Year's Day moved to Mon 3 Jan
        calendar_services.calendar_year_publish(
            actor=None,
            year=2028,
            days=[(datetime.date(2028, 1, 3), "holiday", "元旦")],
            source=CalendarYear.Source.MANUAL,
        )
    # then the deadline is recomputed on it, final
    request.refresh_from_db()
    assert (request.due_on, request.due_provisional) == (datetime.date(2028, 1, 5), False)
