"""Every path of StandardApprovalFlow, through the services and actions the views use."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals.models import Application, ApplicationEvent, Certificate, ClockEvent, ReviewOpinion, Step
from core.exceptions import DomainError
from tests.workflows.conftest import PDF, accept, claim_and, file_application, make_item, only_task, review_all
from workflows.actions import applications as actions
from workflows.flows import StandardApprovalFlow
from workflows.models import ApplicationProcess

pytestmark = pytest.mark.django_db
Status = Application.Status


def decide(bureau, application, outcome="approved", reasons="", justification=""):
    task = only_task(application, "decide")
    if task.status == STATUS.NEW:
        claim_and(bureau.decider, task)
    actions.decide_complete(
        actor=bureau.decider, task=task, outcome=outcome, reasons=reasons, override_justification=justification
    )
    application.refresh_from_db()


@pytest.mark.parametrize("co_review", [0, 1, 3])
def test_full_path_with_n_co_review_departments(bureau, owner, enterprise, co_review):
    version = make_item(bureau, co_review=co_review)
    application = file_application(owner, enterprise, version)
    assert application.status == Status.SUBMITTED
    assert application.reference.startswith(f"SP{timezone.localdate().year}-")
    accept(bureau, application)
    reviews = [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]
    assert len(reviews) == co_review
    assert sorted(int(t.owner_permission_obj_pk) for t in reviews) == sorted(d.pk for d in bureau.co[:co_review])
    review_all(bureau, application)
    assert application.status == Status.AWAITING_DECISION
    assert not Certificate.objects.filter(application=application).exists()
    decide(bureau, application)
    assert application.status == Status.APPROVED
    certificate = Certificate.objects.get(application=application)
    assert certificate.holder_code == enterprise.uscc
    process = ApplicationProcess.objects.get(artifact_object_id=application.pk)
    assert process.status == "DONE"
    assert Step.objects.filter(application=application, closed_at__isnull=True).count() == 0
    actions_seen = list(ApplicationEvent.objects.filter(application=application).values_list("action", flat=True))
    assert actions_seen[:3] == ["draft_created", "submitted", "step_claimed"]
    assert "decided" in actions_seen and "certificate_issued" in actions_seen


def test_deadline_is_promised_limit_from_acceptance(bureau, owner, enterprise):
    from approvals.calendar.selectors import add_working_days

    version = make_item(bureau)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    assert application.accepted_on == timezone.localdate()
    assert application.deadline == add_working_days(application.accepted_on, version.promised_limit_days)


def test_supplement_notice_then_accept(bureau, owner, enterprise):
    version = make_item(bureau, co_review=1)
    application = file_application(owner, enterprise, version)
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    missing = version.materials.get(position=2)
    actions.accept_complete(
        actor=bureau.desk_user, task=task, decision="supplement", material_ids=[missing.pk], text="请补充场所平面图"
    )
    application.refresh_from_db()
    assert application.status == Status.AWAITING_SUPPLEMENT
    assert not ClockEvent.objects.filter(application=application, kind="accepted").exists()
    notice = application.supplements.get()
    assert notice.items == [{"material": missing.pk, "name": "场所平面图"}]
    actions.supplement_answer_and_route(
        actor=owner,
        application=application,
        notice=notice,
        answer="已补充",
        uploads=[(missing.pk, ContentFile(PDF, name="平面图.pdf"))],
    )
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    second = only_task(application, "accept")
    claim_and(bureau.desk_user, second)
    with pytest.raises(DomainError) as excinfo:  # only one notice before acceptance
        actions.accept_complete(actor=bureau.desk_user, task=second, decision="supplement", other="再补", text="x")
    assert excinfo.value.code == "supplement_already_sent"
    actions.accept_complete(actor=bureau.desk_user, task=second, decision="accept")
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW


def test_not_accepted_ends_the_procedure(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    actions.accept_complete(actor=bureau.desk_user, task=task, decision="not_accept", text="不属于本机关职权范围")
    application.refresh_from_db()
    assert application.status == Status.NOT_ACCEPTED
    assert application.decided_at is not None
    assert ApplicationProcess.objects.get(artifact_object_id=application.pk).status == "DONE"


def test_not_accepted_without_reasons_is_refused_and_nothing_changes(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    with pytest.raises(DomainError) as excinfo:
        actions.accept_complete(actor=bureau.desk_user, task=task, decision="not_accept", text=" ")
    assert excinfo.value.code == "reasons_required"
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED


def test_refusal_needs_reasons_and_issues_no_certificate(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review_all(bureau, application)
    with pytest.raises(DomainError) as excinfo:
        decide(bureau, application, outcome="refused")
    assert excinfo.value.code == "reasons_required"
    decide(bureau, application, outcome="refused", reasons="场所不符合要求")
    assert application.status == Status.REFUSED
    assert not Certificate.objects.filter(application=application).exists()


def test_approve_over_reasoned_objection_needs_justification(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    review_all(bureau, application, outcome="disagree", reasons="消防通道不足")
    with pytest.raises(DomainError) as excinfo:
        decide(bureau, application)
    assert excinfo.value.code == "override_justification_required"
    decide(bureau, application, justification="已按消防意见整改，现场复核合格")
    assert application.status == Status.APPROVED
    assert application.decision.override_justification
    assert [o["outcome"] for o in application.decision.opinions] == ["disagree", "disagree"]


def test_disagree_without_reasons_is_deemed_consent_against_the_department(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review_all(bureau, application, outcome="disagree", reasons="")
    opinion = ReviewOpinion.objects.get(application=application)
    assert opinion.outcome == ReviewOpinion.Outcome.DEEMED_CONSENT
    assert opinion.deemed_because == ReviewOpinion.DeemedBecause.NO_REASONS
    assert opinion.department == bureau.co[0]
    decide(bureau, application)  # no justification needed: there is no reasoned objection
    assert application.status == Status.APPROVED


def _fire_timers_at(moment):
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=moment):
        call_command("workflow_timers", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_review_timeout_records_deemed_consent_and_the_flow_goes_on(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    first, second = [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]
    reviewer = bureau.reviewers[int(first.owner_permission_obj_pk)]
    claim_and(reviewer, first)
    actions.review_complete(actor=reviewer, task=first, outcome="agree")
    step = Step.objects.get(task_id=second.pk)
    _fire_timers_at(timezone.now() + datetime.timedelta(days=30))
    application.refresh_from_db()
    assert application.status == Status.AWAITING_DECISION
    deemed = ReviewOpinion.objects.get(application=application, department_id=int(second.owner_permission_obj_pk))
    assert deemed.outcome == ReviewOpinion.Outcome.DEEMED_CONSENT
    assert deemed.deemed_because == ReviewOpinion.DeemedBecause.TIMEOUT
    step.refresh_from_db()
    assert step.closed_at is not None and step.outcome == "deemed_consent"
    assert Task.objects.get(pk=second.pk).status == STATUS.CANCELED
    assert len([t for t in actions.open_tasks(application) if t.flow_task.name == "decide"]) == 1


def test_timers_do_not_fire_before_the_step_deadline(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    _fire_timers_at(timezone.now() + datetime.timedelta(hours=1))
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW
    assert not ReviewOpinion.objects.filter(application=application).exists()


def test_window_silence_is_deemed_acceptance_on_the_day_received(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    _fire_timers_at(timezone.now() + datetime.timedelta(days=30))
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW
    assert application.deemed_accepted is True
    assert application.accepted_on == application.received_on
    assert ClockEvent.objects.get(application=application, kind="accepted").deemed is True
    assert len([t for t in actions.open_tasks(application) if t.flow_task.name == "review"]) == 1


def test_withdraw_before_decision_cancels_everything(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    actions.application_withdraw_and_cancel(actor=owner, application=application, reason="不再需要")
    assert application.status == Status.WITHDRAWN
    assert actions.open_tasks(application) == []
    assert ApplicationProcess.objects.get(artifact_object_id=application.pk).status == "CANCELED"
    assert Step.objects.filter(application=application, closed_at__isnull=True).count() == 0
    assert not Task.objects.filter(process__artifact_object_id=application.pk, status=STATUS.SCHEDULED).exists()


def test_withdraw_after_decision_is_refused(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    accept(bureau, application)
    decide(bureau, application)
    with pytest.raises(DomainError) as excinfo:
        actions.application_withdraw_and_cancel(actor=owner, application=application, reason="")
    assert excinfo.value.code == "application_state_changed"


def test_claim_release_reassign(bureau, owner, enterprise):
    from approvals.organisation.roles import StaffRole
    from tests import factories

    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")
    colleague = factories.staff_with_role(StaffRole.DESK, department=bureau.desk)
    outsider = factories.staff_with_role(StaffRole.DESK, department=bureau.lead)
    actions.task_claim(actor=bureau.desk_user, task=task)
    with pytest.raises(DomainError) as excinfo:
        actions.task_claim(actor=colleague, task=task)
    assert excinfo.value.code == "task_not_claimable"
    with pytest.raises(DomainError) as excinfo:
        actions.task_reassign(actor=bureau.desk_user, task=task, colleague=outsider)
    assert excinfo.value.code == "colleague_not_eligible"
    actions.task_reassign(actor=bureau.desk_user, task=task, colleague=colleague)
    assert Step.objects.get(task_id=task.pk).claimed_by == colleague
    actions.task_release(actor=colleague, task=task)
    task.refresh_from_db()
    assert task.owner_id is None and task.status == STATUS.NEW


def test_reviewer_of_other_department_cannot_claim(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    accept(bureau, application)
    first, second = [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]
    wrong = bureau.reviewers[int(second.owner_permission_obj_pk)]
    with pytest.raises(DomainError):
        actions.task_claim(actor=wrong, task=first)
    assert not StandardApprovalFlow.review.can_assign(wrong, first)


def test_deadline_into_an_unpublished_year_is_provisional_then_recomputed(owner, enterprise, db):
    """The calendar covers only this year: a limit reaching into next year counts weekdays there,
    is marked provisional, and is recomputed (timers included) once the year is entered."""
    import datetime as dt
    from unittest import mock

    from approvals.calendar import services as calendar_services
    from approvals.models import CalendarYear
    from approvals.organisation.roles import StaffRole
    from tests import factories
    from tests.workflows.conftest import Bureau

    calendar_services.calendar_year_publish(actor=None, year=2026, days=[], source=CalendarYear.Source.MANUAL)
    desk, lead = factories.department("窗口"), factories.department("牵头处")
    reviewer_department = factories.department("会审处")
    bureau = Bureau(
        desk=desk,
        lead=lead,
        co=[reviewer_department],
        desk_user=factories.staff_with_role(StaffRole.DESK, department=desk),
        decider=factories.staff_with_role(StaffRole.DECIDER, department=lead),
        reviewers={
            reviewer_department.pk: factories.staff_with_role(StaffRole.REVIEWER, department=reviewer_department)
        },
    )
    version = make_item(bureau, co_review=1, promised_limit_days=10, review_limit_days=7)
    moment = dt.datetime(2026, 12, 24, 10, 0, tzinfo=timezone.get_current_timezone())
    with mock.patch("django.utils.timezone.now", return_value=moment):
        application = file_application(owner, enterprise, version)
        accept(bureau, application)
    application.refresh_from_db()
    # Thu 24 Dec + 10 weekdays (2027 unpublished: weekdays only) = Thu 7 Jan 2027
    assert application.deadline == dt.date(2027, 1, 7)
    assert application.deadline_provisional is True
    review_step = Step.objects.get(application=application, kind="review")
    assert review_step.due_provisional is True and review_step.due_on == dt.date(2027, 1, 4)
    # 2027 is entered (example data: holidays on Fri 1 and Mon 4 January)
    calendar_services.calendar_year_publish(
        actor=None,
        year=2027,
        days=[(dt.date(2027, 1, 1), "holiday", "元旦"), (dt.date(2027, 1, 4), "holiday", "元旦调休")],
        source=CalendarYear.Source.MANUAL,
    )
    application.refresh_from_db()
    assert application.deadline_provisional is False
    assert application.deadline == dt.date(2027, 1, 11)
    review_step.refresh_from_db()
    assert review_step.due_provisional is False
    assert review_step.due_on == dt.date(2027, 1, 6)
    timer = Task.objects.get(previous__pk=review_step.task_id, status=STATUS.SCHEDULED)
    assert timezone.localtime(timer.scheduled).date() == dt.date(2027, 1, 7)


def test_clock_and_history_events_are_append_only(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    event = ClockEvent.objects.filter(application=application).first()
    event.comment = "edited"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        ApplicationEvent.objects.filter(application=application).first().delete()


def test_the_database_refuses_rewriting_history(bureau, owner, enterprise):
    from django.db import DatabaseError, connection, transaction

    from core import append_only
    from core.models import AuditEvent

    application = file_application(owner, enterprise, make_item(bureau))
    for change in (
        lambda: ClockEvent.objects.filter(application=application).update(comment="edited"),
        lambda: ApplicationEvent.objects.filter(application=application).delete(),
        lambda: AuditEvent.objects.all().update(action="edited"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert append_only.triggers_present(connection) == append_only.expected_trigger_names()


def test_suspension_holds_step_timeouts_and_moves_step_due_dates(bureau, owner, enterprise):
    import datetime as dt
    from unittest import mock

    from approvals.applications import services
    from approvals.calendar.selectors import add_working_days

    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review = only_task(application, "review")
    step = Step.objects.get(task_id=review.pk)
    due_before = step.due_on
    services.application_suspend(
        expected_days=10,
        actor=bureau.decider,
        application=application,
        department=bureau.lead,
        reason="expert_review",
        comment="专家评审",
    )
    timer = Task.objects.get(previous__pk=review.pk, status=STATUS.SCHEDULED)
    assert timer.scheduled is None
    _fire_timers_at(timezone.now() + dt.timedelta(days=60))  # nothing fires while the clock stands still
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW
    resumed_at = timezone.now() + dt.timedelta(days=7)
    with mock.patch("django.utils.timezone.now", return_value=resumed_at):
        services.application_resume(actor=bureau.decider, application=application, department=bureau.lead)
    step.refresh_from_db()
    suspended_days = (
        ClockEvent.objects.get(application=application, kind="resumed").on
        - ClockEvent.objects.get(application=application, kind="suspended").on
    )
    from approvals.calendar.selectors import working_days_between

    moved = working_days_between(timezone.localdate(), timezone.localdate() + suspended_days)
    assert step.due_on == add_working_days(due_before, moved)
    timer.refresh_from_db()
    assert timer.scheduled is not None
