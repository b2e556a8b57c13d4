"""Art. 42 extensions: asked by the lead department's decision maker, decided by the head of the
bureau (never the asker), the cap a database constraint. Art. 45 excluded periods: its grounds and
nothing else, the expected duration in the written notice, the excluded days on the page."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from approvals.applications import services
from approvals.applications.services import ApplicationError
from approvals.models import Application, ClockEvent, ExtensionRequest, WrittenNotice
from approvals.organisation import services as org_services
from approvals.organisation.roles import StaffRole
from core.models import User
from core.outbox.models import OutboxMessage
from tests import factories
from tests.workflows.conftest import accept, file_application, make_item

D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def head(db):  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.BUREAU_HEAD)


@pytest.fixture
def accepted(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    version = make_item(bureau, co_review=1, max_extension_days=10)
    with time_machine.travel(at(D(2026, 11, 2)), tick=False):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    application.refresh_from_db()
    return application


def test_the_head_approves_what_the_decider_asked_and_both_clocks_move(accepted, bureau, head):
    before = (accepted.deadline, accepted.statutory_deadline)
    request = services.application_extension_request(
        actor=bureau.decider, application=accepted, days=5, reason="需组织现场核查"
    )
    assert OutboxMessage.objects.filter(recipient=head, kind="extension.requested").exists()
    # nothing moves until the head decides
    assert (Application.objects.get(pk=accepted.pk).deadline, accepted.statutory_deadline) == before
    services.application_extension_decide(actor=head, request=request, approve=True)
    row = Application.objects.get(pk=accepted.pk)
    assert row.extension_days == 5 and row.deadline > before[0] and row.statutory_deadline > before[1]
    event = ClockEvent.objects.get(application=accepted, kind="extended")
    assert (event.approver_id, event.actor_id, event.days) == (head.pk, bureau.decider.pk, 5)
    assert WrittenNotice.objects.filter(application=accepted, kind="extension").exists()
    assert OutboxMessage.objects.filter(recipient=bureau.decider, kind="extension.decided").exists()


def test_the_asker_never_decides_even_as_head(accepted, bureau):
    org_services.staff_role_grant(actor=None, user=bureau.decider, role=StaffRole.BUREAU_HEAD, department=None)
    decider = User.objects.get(pk=bureau.decider.pk)
    request = services.application_extension_request(actor=decider, application=accepted, days=3, reason="复杂")
    with pytest.raises(ApplicationError) as refused:
        services.application_extension_decide(actor=decider, request=request, approve=True)
    assert refused.value.code == "own_request"
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.filter(pk=request.pk).update(
            status="approved", decided_by=decider, decided_at=timezone.now()
        )


def test_only_the_head_decides_and_only_the_decider_asks(accepted, bureau, head):
    with pytest.raises(ApplicationError) as not_decider:
        services.application_extension_request(actor=bureau.desk_user, application=accepted, days=3, reason="x")
    assert not_decider.value.code == "permission_denied"
    request = services.application_extension_request(actor=bureau.decider, application=accepted, days=3, reason="x")
    supervisor = factories.staff_with_role(StaffRole.SUPERVISOR)
    with pytest.raises(ApplicationError) as not_head:
        services.application_extension_decide(actor=supervisor, request=request, approve=True)
    assert not_head.value.code == "permission_denied"
    with pytest.raises(ApplicationError) as no_reason:
        services.application_extension_decide(actor=head, request=request, approve=False, comment=" ")
    assert no_reason.value.code == "reason_required"
    services.application_extension_decide(actor=head, request=request, approve=False, comment="理由不充分")
    with pytest.raises(ApplicationError) as twice:
        services.application_extension_decide(actor=head, request=request, approve=True)
    assert twice.value.code == "extension_decided"
    assert Application.objects.get(pk=accepted.pk).extension_days == 0


def test_the_cap_is_the_items_and_the_databases(accepted, bureau, head):
    first = services.application_extension_request(actor=bureau.decider, application=accepted, days=8, reason="一")
    services.application_extension_decide(actor=head, request=first, approve=True)
    with pytest.raises(ApplicationError) as over:
        services.application_extension_request(actor=bureau.decider, application=accepted, days=3, reason="二")
    assert over.value.code == "extension_over_cap"
    # the database refuses a total above the cap, whatever writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=accepted.pk).update(extension_days=11)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=accepted.pk).update(extension_cap=16, extension_days=16)


def test_one_pending_request_at_a_time(accepted, bureau):
    services.application_extension_request(actor=bureau.decider, application=accepted, days=2, reason="一")
    with pytest.raises(ApplicationError) as pending:
        services.application_extension_request(actor=bureau.decider, application=accepted, days=2, reason="二")
    assert pending.value.code == "extension_pending"


@pytest.mark.parametrize("reason", ["site_inspection", "supplement", "", "other"])
def test_art45_grounds_and_nothing_else(accepted, bureau, reason):
    with pytest.raises(ApplicationError) as refused:
        services.application_suspend(
            actor=bureau.decider,
            application=accepted,
            department=bureau.lead,
            reason=reason,
            comment="x",
            expected_days=5,
        )
    assert refused.value.code == "reason_invalid"
    assert not ClockEvent.objects.filter(application=accepted, kind="suspended").exists()


def test_art45_needs_its_expected_duration_and_the_database_agrees(accepted, bureau):
    with pytest.raises(ApplicationError) as refused:
        services.application_suspend(
            actor=bureau.decider, application=accepted, department=bureau.lead, reason="hearing", comment="听证"
        )
    assert refused.value.code == "expected_days_invalid"
    with pytest.raises(IntegrityError), transaction.atomic():
        ClockEvent.objects.create(application=accepted, kind="suspended", on=D(2026, 11, 3), reason="hearing")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClockEvent.objects.create(
            application=accepted, kind="suspended", on=D(2026, 11, 3), reason="site_inspection", days=3
        )


def test_the_written_notice_and_the_page_show_the_excluded_days(client, accepted, bureau, owner):
    with time_machine.travel(at(D(2026, 11, 4)), tick=False):
        services.application_suspend(
            actor=bureau.decider,
            application=accepted,
            department=bureau.lead,
            reason="appraisal",
            comment="委托司法鉴定机构鉴定",
            expected_days=7,
        )
    notice = WrittenNotice.objects.get(application=accepted, kind="suspension")
    event = notice.event
    assert event.data == {"reason": "appraisal", "expected_days": 7}
    with time_machine.travel(at(D(2026, 11, 11)), tick=False):
        services.application_resume(actor=bureau.decider, application=accepted, department=bureau.lead)
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[accepted.pk]))
    assert page.status_code == 200
    # Thu 5 – Wed 11 Nov: 5 working days excluded
    assert page.context["excluded_days"] == 5
    [period] = page.context["excluded_periods"]
    assert (period["reason"], period["expected"], period["counted"]) == ("appraisal", 7, 5)
    assert 'class="card clock-periods"' in page.content.decode()


def test_the_heads_page(client, accepted, bureau, head):
    request = services.application_extension_request(actor=bureau.decider, application=accepted, days=2, reason="x")
    client.force_login(bureau.decider)
    assert client.get(reverse("workbench:extensions")).status_code == 404
    assert (
        client.post(reverse("workbench:extension_decide", args=[request.pk]), {"decision": "approve"}).status_code
        == 404
    )
    client.force_login(head)
    page = client.get(reverse("workbench:extensions"))
    assert page.status_code == 200 and list(page.context["page"].object_list) == [request]
    # bad input: nothing written
    client.post(reverse("workbench:extension_decide", args=[request.pk]), {"decision": "maybe"})
    assert ExtensionRequest.objects.get(pk=request.pk).status == "pending"
    client.post(reverse("workbench:extension_decide", args=[request.pk]), {"decision": "approve"})
    assert ExtensionRequest.objects.get(pk=request.pk).status == "approved"
    assert client.get(reverse("workbench:extensions") + "?state=decided").status_code == 200
    assert client.get(reverse("workbench:application", args=[accepted.pk])).status_code == 200


def test_the_applicant_sees_the_granted_extension_not_the_deliberation(client, accepted, bureau, head, owner):
    request = services.application_extension_request(actor=bureau.decider, application=accepted, days=3, reason="x")
    client.force_login(owner)
    page = client.get(reverse("portal:application", args=[accepted.pk]))
    assert not page.context["events"].filter(action="extension_requested").exists()
    assert "extension_requests" not in page.context
    services.application_extension_decide(actor=head, request=request, approve=True)
    page = client.get(reverse("portal:application", args=[accepted.pk]))
    assert page.context["events"].filter(action="extended").exists()
    assert [e.days for e in page.context["extensions"]] == [3]
