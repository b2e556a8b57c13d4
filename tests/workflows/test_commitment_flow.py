"""The commitment route (告知承诺): eligibility, signature and approval in one transaction, the
verification by an inspector pair, and every outcome (pass, rectify, missed deadline, revoke)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from approvals.calendar import selectors as calendar_selectors
from approvals.models import (
    Application,
    ApplicationEvent,
    Certificate,
    Commitment,
    Inspection,
    InspectionTask,
    InspectorConflict,
    RectificationOrder,
)
from approvals.organisation.roles import StaffRole
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision import services
from core.exceptions import DomainError
from credit.ledger.models import LedgerEntry
from tests import factories
from tests.credit.ledger_helpers import append
from tests.workflows.conftest import make_item, new_draft
from workflows.actions import supervision as actions
from workflows.commitment_flows import CommitmentApprovalFlow

pytestmark = pytest.mark.django_db

CHECKLIST = ["经营场所与承诺一致", "从业人员持有健康证明"]


@pytest.fixture
def supervision(bureau):  # type: ignore[no-untyped-def]
    department = factories.department("市场监管执法支队")
    inspectors = [factories.staff_with_role(StaffRole.INSPECTOR, department=department) for _ in range(3)]
    version = make_item(
        bureau,
        co_review=0,
        name="食品小作坊登记",
        reform_mode="commitment",
        commitment_min_grade="B",
        commitment_notice="申请人承诺：经营场所、设施设备、从业人员符合食品安全要求。",
        proofs_waived="场所平面图",
        verification_method="现场核查",
        verification_window_days=10,
        supervising_department=department,
        inspection_checklist=CHECKLIST,
    )
    return {"department": department, "inspectors": inspectors, "version": version}


def sign(owner, application, **overrides):  # type: ignore[no-untyped-def]
    text = services.commitment_notice_text(application=application)
    values = {
        "signer_name": application.enterprise.legal_representative,
        "confirmed": True,
        "shown_sha256": services.notice_sha256(text),
    }
    values.update(overrides)
    return actions.commitment_sign_and_start(actor=owner, application=application, **values)


def commit_case(owner, enterprise, supervision):  # type: ignore[no-untyped-def]
    application = new_draft(owner, enterprise, supervision["version"])
    sign(owner, application)
    application.refresh_from_db()
    return application, InspectionTask.objects.get(application=application)


def record(task, result, *, actor=None, **fields):  # type: ignore[no-untyped-def]
    task.refresh_from_db()
    values = {
        "inspected_on": timezone.localdate(),
        "checklist": dict.fromkeys(supervision_selectors.checklist_of(task), "ok"),
        "findings": "现场核查记录",
        "result": result,
    }
    values.update(fields)
    return actions.inspection_record_and_route(actor=actor or task.inspector_1, task=task, **values)


def flow_ends(application) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        node.name
        for node in Task.objects.filter(
            process__artifact_object_id=application.pk,
            process__flow_class=CommitmentApprovalFlow,
            flow_task_type="END",
            status="DONE",
        ).values_list("flow_task", flat=True)
    }


# --- eligibility -----------------------------------------------------------------------------------


def test_eligible_enterprise_signs_and_is_approved_with_certificate_and_verification(owner, enterprise, supervision):
    # Given a creditworthy enterprise (grade B, the item's minimum) and a commitment-mode item
    application = new_draft(owner, enterprise, supervision["version"])
    # When it signs the commitment
    commitment = sign(owner, application)
    # Then the application is approved on the spot, with certificate, signature and verification
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.route == Application.Route.COMMITMENT
    assert application.reference
    assert Certificate.objects.get(application=application).status == Certificate.Status.VALID
    assert commitment.notice_sha256 == services.notice_sha256(commitment.notice_text)
    assert commitment.signed_by == owner
    assert commitment.eligibility_decision.eligible
    task = InspectionTask.objects.get(application=application)
    assert {task.inspector_1, task.inspector_2} <= set(supervision["inspectors"])
    assert task.due_on == calendar_selectors.add_working_days(timezone.localdate(), 10)
    assert task.flow_task_id is not None
    assert application.decision.decider is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [("admin_penalty", "grade_too_low"), ("serious_violation", "serious_entry_active")],
)
def test_refusal_reasons_are_recorded_and_nothing_is_approved(owner, enterprise, supervision, code, expected):
    # Given an enterprise whose ledger fails the commitment rule
    append(enterprise, code)
    application = new_draft(owner, enterprise, supervision["version"])
    # When it tries the commitment route
    with pytest.raises(DomainError) as error:
        sign(owner, application)
    # Then it is refused, the check is on record with its reason, and nothing was approved
    assert error.value.code == "commitment_not_eligible"
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    assert not Certificate.objects.filter(application=application).exists()
    decision = services.commitment_eligibility(actor=owner, application=application)
    assert not decision.eligible
    assert expected in {reason["code"] for reason in decision.reasons}


def test_past_false_commitment_refuses_until_repaired(owner, enterprise, supervision):
    # Given a false commitment recorded 400 days ago (past its minimum window, not repaired)
    entry = append(enterprise, "false_commitment", days_ago=400)
    application = new_draft(owner, enterprise, supervision["version"])
    decision = services.commitment_eligibility(actor=owner, application=application)
    assert "false_commitment_unrepaired" in {reason["code"] for reason in decision.reasons}
    # When the entry is repaired
    append(enterprise, "repair", days_ago=0, reverses=entry, reason="已完成整改并作出信用承诺")
    # Then the commitment route opens again
    assert services.commitment_eligibility(actor=owner, application=application).eligible
    sign(owner, application)
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_refused_enterprise_can_still_use_the_standard_route(owner, enterprise, supervision):
    from workflows.actions import applications as standard_actions

    append(enterprise, "admin_penalty")
    application = new_draft(owner, enterprise, supervision["version"])
    with pytest.raises(DomainError):
        sign(owner, application)
    standard_actions.application_submit_and_start(actor=owner, application=application)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.route == Application.Route.STANDARD


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"signer_name": "别人"}, "signer_mismatch"),
        ({"confirmed": False}, "confirmation_required"),
        ({"shown_sha256": "0" * 64}, "notice_changed"),
    ],
)
def test_bad_signature_is_refused_and_writes_nothing(owner, enterprise, supervision, overrides, code):
    application = new_draft(owner, enterprise, supervision["version"])
    with pytest.raises(DomainError) as error:
        sign(owner, application, **overrides)
    assert error.value.code == code
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    assert not Commitment.objects.exists()
    assert not InspectionTask.objects.exists()


def test_failure_in_the_verification_rolls_back_approval_and_certificate(owner, enterprise, supervision):
    # Given a supervising department where only one inspector is not recused
    for inspector in supervision["inspectors"][:2]:
        InspectorConflict.objects.create(
            inspector=inspector, enterprise=enterprise, reason="亲属关系", recorded_by=supervision["inspectors"][2]
        )
    application = new_draft(owner, enterprise, supervision["version"])
    # When the enterprise signs
    with pytest.raises(DomainError) as error:
        sign(owner, application)
    # Then nothing of the approval survives
    assert error.value.code == "too_few_inspectors"
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    assert application.reference is None
    assert not Certificate.objects.exists()
    assert not Commitment.objects.exists()


def test_certificate_failure_rolls_back_signature_and_task(owner, enterprise, supervision):
    application = new_draft(owner, enterprise, supervision["version"])
    with (
        mock.patch("approvals.applications.services.certificate_issue", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        sign(owner, application)
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    assert not Commitment.objects.exists()
    assert not InspectionTask.objects.exists()


def test_recused_inspectors_are_skipped_deterministically(owner, enterprise, supervision):
    first = supervision["inspectors"][0]
    InspectorConflict.objects.create(
        inspector=first, enterprise=enterprise, reason="曾任顾问", recorded_by=supervision["inspectors"][1]
    )
    _application, task = commit_case(owner, enterprise, supervision)
    assert first.pk not in task.inspector_ids
    assert set(task.inspector_ids) == {u.pk for u in supervision["inspectors"][1:]}


# --- outcomes --------------------------------------------------------------------------------------


def test_pass_closes_the_case_with_a_positive_credit_entry(owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    record(task, "pass")
    task.refresh_from_db()
    assert task.status == InspectionTask.Status.CLOSED
    assert task.outcome == InspectionTask.Outcome.PASSED
    entry = LedgerEntry.objects.get(enterprise=enterprise, kind_code="commitment_fulfilled")
    assert entry.points > 0
    assert "passed" in flow_ends(application)


def test_false_commitment_revokes_publicly_and_closes_the_route(client, owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    record(task, "false_commitment", findings="经营场所与承诺不符")
    certificate = Certificate.objects.get(application=application)
    assert certificate.status == Certificate.Status.REVOKED
    assert "经营场所与承诺不符" in certificate.revocation_reason
    entry = LedgerEntry.objects.get(enterprise=enterprise, kind_code="false_commitment")
    assert entry.points < 0
    page = client.get(reverse("certificate_verify_code", args=[certificate.verification_code]))
    assert "经营场所与承诺不符" in page.content.decode()
    # The next commitment attempt is refused…
    second = new_draft(owner, enterprise, supervision["version"])
    with pytest.raises(DomainError) as error:
        sign(owner, second)
    assert error.value.code == "commitment_not_eligible"
    assert "revoked" in flow_ends(application)


def test_rectify_then_reinspection_pass(owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    record(task, "rectify", rectification_requirements="补充健康证明", rectification_deadline=deadline)
    task.refresh_from_db()
    assert task.status == InspectionTask.Status.RECTIFYING
    order = RectificationOrder.objects.get(task=task)
    assert task.due_on > deadline
    services.rectification_report(actor=owner, order=order, report="已补办健康证明")
    record(task, "pass", findings="复查合格")
    task.refresh_from_db()
    order.refresh_from_db()
    assert task.outcome == InspectionTask.Outcome.RECTIFIED
    assert order.status == "met"
    assert Inspection.objects.filter(task=task, reinspection=True).count() == 1
    assert "passed" in flow_ends(application)


def test_failed_rectification_revokes(owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改消防通道",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=5),
    )
    record(task, "fail", findings="复查仍不合格")
    assert Certificate.objects.get(application=application).status == Certificate.Status.REVOKED
    assert LedgerEntry.objects.filter(enterprise=enterprise, kind_code="false_commitment").exists()


def test_missed_rectification_deadline_appends_a_credit_entry_by_timer(owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    deadline = timezone.localdate() + datetime.timedelta(days=3)
    record(task, "rectify", rectification_requirements="整改", rectification_deadline=deadline)
    # When the timer dispatcher runs after the deadline day
    later = timezone.now() + datetime.timedelta(days=5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        call_command("workflow_timers")
    order = RectificationOrder.objects.get(task=task)
    assert order.status == "missed"
    entry = LedgerEntry.objects.get(seq=order.missed_entry_seq)
    assert entry.kind_code == "rectification_overdue"
    assert entry.source_id == f"rectification:{order.pk}"
    # the re-inspection is still open
    task.refresh_from_db()
    assert task.status == InspectionTask.Status.RECTIFYING


def test_reported_rectification_appends_no_entry(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=3),
    )
    order = RectificationOrder.objects.get(task=task)
    services.rectification_report(actor=owner, order=order, report="已整改")
    assert services.rectification_deadline_pass(order=order, today=order.deadline + datetime.timedelta(days=1)) is None
    assert not LedgerEntry.objects.filter(kind_code="rectification_overdue").exists()


# --- inspection records ----------------------------------------------------------------------------


def test_only_the_assigned_pair_records(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    outsider = next(u for u in supervision["inspectors"] if u.pk not in task.inspector_ids)
    with pytest.raises(DomainError) as error:
        record(task, "pass", actor=outsider)
    assert error.value.code == "permission_denied"
    assert not Inspection.objects.exists()


def test_records_are_never_edited_and_corrections_are_new_records(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    first = record(task, "pass", findings="初次记录")
    with pytest.raises(ValueError):
        first.findings = "改写"
        first.save()
    correction = record(task, "pass", findings="更正：日期笔误", corrects=first)
    assert correction.corrects == first
    assert Inspection.objects.filter(task=task).count() == 2
    with pytest.raises(DomainError) as error:
        record(task, "false_commitment", corrects=correction)
    assert error.value.code == "correction_invalid"
    assert LedgerEntry.objects.filter(kind_code="commitment_fulfilled").count() == 1


def test_incomplete_checklist_is_refused(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    with pytest.raises(DomainError) as error:
        record(task, "pass", checklist={CHECKLIST[0]: "ok"})
    assert error.value.code == "checklist_incomplete"


# --- screens ---------------------------------------------------------------------------------------


def test_portal_commitment_page_signs(client, owner, enterprise, supervision):
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(owner)
    url = reverse("portal:commitment", args=[application.pk])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "申请人承诺" in body
    digest = page.context["notice_sha256"]
    response = client.post(
        url, {"signer_name": enterprise.legal_representative, "confirmed": "on", "shown_sha256": digest}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_portal_commitment_page_shows_reasons_when_refused(client, owner, enterprise, supervision):
    append(enterprise, "admin_penalty")
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(owner)
    page = client.get(reverse("portal:commitment", args=[application.pk]))
    assert page.status_code == 200
    assert page.context["decision"].eligible is False
    assert page.context["reasons"]
    assert reverse("portal:application_file", args=[supervision["version"].pk]) in page.content.decode()


def test_bad_signature_form_is_a_400_not_a_500(client, owner, enterprise, supervision):
    application = new_draft(owner, enterprise, supervision["version"])
    client.force_login(owner)
    response = client.post(
        reverse("portal:commitment", args=[application.pk]),
        {"signer_name": "别人", "confirmed": "on", "shown_sha256": "x"},
    )
    assert response.status_code == 400
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_other_enterprise_gets_404_everywhere(client, owner, enterprise, peer, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    client.force_login(peer)
    assert client.get(reverse("portal:commitment", args=[application.pk])).status_code == 404
    assert client.get(reverse("portal:application", args=[application.pk])).status_code == 404
    assert client.get(reverse("supervision:task", args=[task.pk])).status_code == 404
    inspections = client.get(reverse("portal:inspections"))
    assert enterprise.name not in inspections.content.decode()


def test_inspector_records_through_the_task_page(client, owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_2)
    url = reverse("supervision:task", args=[task.pk])
    assert client.get(url).status_code == 200
    data = {"inspected_on": timezone.localdate().isoformat(), "findings": "现场核查合格", "result": "pass"}
    data.update({f"check_{i}": "ok" for i in range(len(CHECKLIST))})
    response = client.post(url, data)
    assert response.status_code == 303
    task.refresh_from_db()
    assert task.outcome == InspectionTask.Outcome.PASSED
    assert ApplicationEvent.objects.filter(application=application, action="verification_passed").exists()


def test_task_page_rejects_bad_input_with_400(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    response = client.post(reverse("supervision:task", args=[task.pk]), {"inspected_on": "not a date"})
    assert response.status_code == 400
    assert not Inspection.objects.exists()


def test_supervisor_sees_overdue_verification_red(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    InspectionTask.objects.filter(pk=task.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    supervisor = factories.staff_with_role(StaffRole.SUPERVISOR)
    client.force_login(supervisor)
    page = client.get(reverse("workbench:supervision"))
    rows = page.context["inspection_tasks"]
    assert [t.band for t in rows if t.pk == task.pk] == ["red"]


def test_sweep_records_missed_campaign_style_deadlines_once(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=2),
    )
    later = timezone.localdate() + datetime.timedelta(days=3)
    assert services.rectification_deadlines_sweep(today=later) == 1
    assert services.rectification_deadlines_sweep(today=later) == 0
    assert LedgerEntry.objects.filter(kind_code="rectification_overdue").count() == 1
    call_command("rectification_sweep")


def test_inspectors_of_the_supervising_department_read_the_case(client, owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    assert client.get(reverse("workbench:application", args=[application.pk])).status_code == 200
    outsider = factories.staff_with_role(StaffRole.INSPECTOR, department=factories.department("别的支队"))
    client.force_login(outsider)
    assert client.get(reverse("workbench:application", args=[application.pk])).status_code == 404
    assert client.get(reverse("supervision:task", args=[task.pk])).status_code == 404


def test_staff_frontend_lists_commitment_cases_and_links_to_the_inspection_page(client, owner, enterprise, supervision):
    application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    listing = client.get("/staff/commitmentapproval/flows/")
    assert listing.status_code == 200
    flow_task = Task.objects.get(pk=task.flow_task_id)
    with flow_task.activation() as activation:
        activation.assign(task.inspector_1)
    response = client.get(flow_task.flow_task.reverse("execute", args=[flow_task.process_id, flow_task.pk]))
    assert response.status_code == 303
    assert response["Location"] == reverse("supervision:task", args=[task.pk])


def test_verification_deadline_skips_the_national_day_holidays(owner, enterprise, supervision):
    # Given a commitment signed on 2026-09-30, the eve of the National Day holidays
    start = datetime.date(2026, 9, 30)
    with mock.patch("approvals.supervision.services._today", return_value=start):
        _application, task = commit_case(owner, enterprise, supervision)
    # Then the 10-working-day window ends later than 10 weekdays would
    weekdays, day = 0, start
    while weekdays < 10:
        day += datetime.timedelta(days=1)
        weekdays += day.weekday() < 5
    assert task.due_on > day
    assert task.due_on == calendar_selectors.add_working_days(start, 10)


def test_a_report_after_the_deadline_still_records_the_miss(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=2),
    )
    order = RectificationOrder.objects.get(task=task)
    later = timezone.localdate() + datetime.timedelta(days=4)
    with mock.patch("approvals.supervision.services._today", return_value=later):
        services.rectification_report(actor=owner, order=order, report="迟到的整改报告")
    order.refresh_from_db()
    assert order.status == "reported"
    assert order.missed_entry_seq is not None
    assert LedgerEntry.objects.get(seq=order.missed_entry_seq).kind_code == "rectification_overdue"
    assert services.rectification_deadlines_sweep(today=later) == 0


def test_an_absurd_rectification_deadline_is_a_form_error_not_a_500(client, owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(task.inspector_1)
    data = {
        "inspected_on": timezone.localdate().isoformat(),
        "findings": "需整改",
        "result": "rectify",
        "rectification_requirements": "整改",
        "rectification_deadline": "9999-12-31",
    }
    data.update({f"check_{i}": "not_ok" for i in range(len(CHECKLIST))})
    response = client.post(reverse("supervision:task", args=[task.pk]), data)
    assert response.status_code == 400
    assert not Inspection.objects.exists()


def test_a_reinspection_cannot_predate_the_order(owner, enterprise, supervision):
    _application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=5),
    )
    with pytest.raises(DomainError) as error:
        record(task, "pass", inspected_on=timezone.localdate() - datetime.timedelta(days=1))
    assert error.value.code == "date_invalid"


def test_an_agent_cannot_sign_for_the_legal_representative(enterprise, supervision):
    agent = factories.MembershipFactory(enterprise=enterprise, confirmed=True, agent=True).user
    application = new_draft(agent, enterprise, supervision["version"])
    with pytest.raises(DomainError) as error:
        sign(agent, application)
    assert error.value.code == "signer_not_legal_representative"
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT


def test_a_stale_or_foreign_eligibility_decision_does_not_sign(owner, enterprise, supervision):
    first = new_draft(owner, enterprise, supervision["version"])
    second = new_draft(owner, enterprise, supervision["version"])
    decision = services.commitment_eligibility(actor=owner, application=first)
    text = services.commitment_notice_text(application=second)
    with pytest.raises(DomainError) as error:
        services.application_commit(
            actor=owner,
            application=second,
            decision=decision,
            signer_name=enterprise.legal_representative,
            confirmed=True,
            shown_sha256=services.notice_sha256(text),
        )
    assert error.value.code == "commitment_not_eligible"


def test_auditor_reads_of_inspections_are_logged(client, owner, enterprise, supervision, auditor):
    from core.models import AuditEvent

    _application, task = commit_case(owner, enterprise, supervision)
    client.force_login(auditor)
    assert client.get(reverse("supervision:task", args=[task.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        action="auditor.read", object_type="approvals.inspectiontask", object_id=str(task.pk)
    ).exists()


def _queries(client, url):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_inspection_lists_do_not_grow_with_the_data(client, owner, enterprise, supervision):
    supervisor = factories.staff_with_role(StaffRole.SUPERVISOR)
    _application, task = commit_case(owner, enterprise, supervision)
    record(
        task,
        "rectify",
        rectification_requirements="整改",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=5),
    )
    inspector = task.inspector_1
    pages = [
        (inspector, reverse("supervision:mine")),
        (owner, reverse("portal:inspections")),
        (supervisor, reverse("workbench:supervision")),
    ]
    before = [_queries(client_for(client, user), url) for user, url in pages]
    for _ in range(4):
        _other, more = commit_case(owner, enterprise, supervision)
        record(
            more,
            "rectify",
            rectification_requirements="整改",
            rectification_deadline=timezone.localdate() + datetime.timedelta(days=5),
        )
    after = [_queries(client_for(client, user), url) for user, url in pages]
    assert after == before


def client_for(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client
