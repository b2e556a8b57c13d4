"""Screens of the credit ledger: tenancy, the credit office, the auditor console."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from credit.ledger.models import LedgerEntry, ManualEntryProposal
from tests import factories
from tests.credit.ledger_helpers import append, kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit_officer():
    return factories.staff_with_role("credit_office")


def test_enterprise_sees_its_grade_explanation_and_chart(client, owner, enterprise):
    entry = append(enterprise, "admin_penalty")
    client.force_login(owner)
    response = client.get(reverse("credit:credit", args=[enterprise.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "polyline" in body
    assert f"#{entry.seq}" in body
    assert response.context["explanation"]["result"].grade == "C"


def test_enterprise_b_never_sees_a_record(client, peer, enterprise):
    entry = append(enterprise)
    client.force_login(peer)
    assert client.get(reverse("credit:credit", args=[enterprise.pk])).status_code == 404
    url = reverse("credit_request_start", args=[enterprise.pk, entry.seq, "objection"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"statement": "x", "evidence": "y"}).status_code == 404


def test_enterprise_public_view_hides_a_repaired_entry(client, owner, enterprise):
    original = append(enterprise, "admin_penalty", days_ago=200)
    append(enterprise, "repair", reverses=original, days_ago=0)
    client.force_login(owner)
    response = client.get(reverse("credit:credit", args=[enterprise.pk]))
    assert f"#{original.seq}<" not in response.content.decode()
    assert response.context["explanation"]["result"].score == 80


def test_enterprise_credit_page_query_count_does_not_grow(client, owner, enterprise):
    client.force_login(owner)
    for _ in range(3):
        append(enterprise)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("credit:credit", args=[enterprise.pk]))
    for _ in range(20):
        append(enterprise, "inspection_passed")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("credit:credit", args=[enterprise.pk]))
    assert len(many) == len(few)


def test_credit_office_pages_are_hidden_from_others(client, owner, auditor):
    for user in (owner, auditor):
        client.force_login(user)
        assert client.get(reverse("credit_office:home")).status_code == 404
        assert client.post(reverse("credit_office:propose"), {}).status_code == 404


def test_manual_entry_maker_checker_through_the_screens(client, enterprise, credit_officer):
    checker = factories.staff_with_role("credit_office")
    client.force_login(credit_officer)
    data = {
        "uscc": enterprise.uscc,
        "kind": kind("manual_adjustment").pk,
        "points": "-5",
        "occurred_on": "2026-01-05",
        "deciding_authority": "沈阳市信用办",
        "reason": "未按期报送年度报告",
        "justification": "系统未自动采集",
    }
    assert client.post(reverse("credit_office:propose"), data).status_code == 302
    proposal = ManualEntryProposal.objects.get()
    # the maker's approval is refused and changes nothing
    client.post(reverse("credit_office:proposal_decide", args=[proposal.pk, "approve"]), {"note": ""})
    proposal.refresh_from_db()
    assert proposal.status == "pending" and LedgerEntry.objects.count() == 0
    client.force_login(checker)
    assert client.post(reverse("credit_office:proposal_decide", args=[proposal.pk, "approve"]), {}).status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.recorded_by_id, entry.approved_by_id, entry.points) == (credit_officer.pk, checker.pk, -5)


def test_manual_entry_form_errors_write_nothing(client, credit_officer):
    client.force_login(credit_officer)
    response = client.post(reverse("credit_office:propose"), {"uscc": "bad", "kind": "999999", "points": "x"})
    assert response.status_code == 400
    assert ManualEntryProposal.objects.count() == 0


def test_auditor_console_reads_are_recorded(client, auditor, enterprise):
    append(enterprise)
    client.force_login(auditor)
    before = AuditEvent.objects.filter(action="auditor.read").count()
    for url in (
        reverse("credit_audit:ledger"),
        reverse("credit_audit:enterprise", args=[enterprise.pk]) + "?as_of=2026-01-31",
        reverse("credit_audit:verify") + "?run=1",
        reverse("credit_audit:export"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith("export.csv"):
            assert b"entry_hash" in b"".join(response.streaming_content)
    assert AuditEvent.objects.filter(action="auditor.read", actor=auditor).count() == before + 4


def test_auditor_posts_are_refused_and_change_nothing(client, auditor, enterprise):
    append(enterprise)
    client.force_login(auditor)
    events = AuditEvent.objects.count()
    for url in (
        reverse("credit_audit:ledger"),
        reverse("credit_audit:enterprise", args=[enterprise.pk]),
        reverse("credit_audit:verify"),
        reverse("credit_audit:export"),
    ):
        assert client.post(url, {"as_of": "2026-01-01"}).status_code == 405
    assert client.post(reverse("credit_office:propose"), {}).status_code == 404
    assert AuditEvent.objects.count() == events and LedgerEntry.objects.count() == 1
    body = client.get(reverse("credit_audit:enterprise", args=[enterprise.pk])).content.decode()
    assert 'method="post"' not in body.split("<main", 1)[1]


def test_auditor_ledger_query_count_does_not_grow(client, auditor):
    enterprises = [factories.EnterpriseFactory() for _ in range(3)]
    client.force_login(auditor)
    append(enterprises[0])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("credit_audit:ledger"))
    for number in range(30):
        append(enterprises[number % 3], "inspection_passed", recorded_by=factories.UserFactory(staff=True))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("credit_audit:ledger"))
    assert len(many) == len(few)


def test_auditor_bad_as_of_is_a_form_error_not_a_500(client, auditor, enterprise):
    client.force_login(auditor)
    response = client.get(reverse("credit_audit:enterprise", args=[enterprise.pk]) + "?as_of=31/02/2026")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_non_auditors_get_404_in_the_ledger_console(client, owner):
    client.force_login(owner)
    assert client.get(reverse("credit_audit:ledger")).status_code == 404


def test_credit_office_home_query_count_does_not_grow(client, credit_officer, enterprise):
    from django.utils import timezone

    from credit.ledger import services as ledger_services

    client.force_login(credit_officer)

    def fill(count: int) -> None:
        for _ in range(count):
            maker = factories.staff_with_role("credit_office")
            ledger_services.manual_entry_propose(
                actor=maker,
                enterprise=factories.EnterpriseFactory(),
                kind=kind("manual_adjustment"),
                points=-3,
                occurred_on=timezone.localdate(),
                deciding_authority="信用办",
                reason="r",
                justification="j",
            )
            entry = append(enterprise, days_ago=120)
            owner = factories.MembershipFactory(enterprise=enterprise, confirmed=True).user
            ledger_services.credit_request_submit(
                actor=owner, enterprise=enterprise, entry=entry, kind="objection", statement="s", evidence="e"
            )

    fill(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("credit_office:home")).status_code == 200
    fill(6)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("credit_office:home"))
    assert len(many) == len(few)


def test_auditor_credit_page_query_count_does_not_grow(client, auditor, enterprise):
    client.force_login(auditor)
    append(enterprise)
    url = reverse("credit_audit:enterprise", args=[enterprise.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(15):
        append(enterprise, "inspection_passed", recorded_by=factories.UserFactory(staff=True), days_ago=number)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
