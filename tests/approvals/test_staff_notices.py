"""What staff are told: a step waiting in their department's queue (not another department's), a
task handed to them, a step due soon or overdue (once per step and band, none while the clock is
suspended)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from approvals.applications import staff_notices
from approvals.models import Application, Step
from approvals.organisation import services as org_services
from approvals.organisation.roles import StaffRole
from core.outbox.models import Delivery, OutboxMessage, SiteMessage
from tests import factories
from tests.workflows.conftest import accept, claim_and, file_application, make_item, only_task
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(OutboxMessage.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


def test_a_new_step_tells_its_department_and_no_other(bureau, owner, enterprise, django_capture_on_commit_callbacks):
    other_desk = factories.department("另一窗口")
    stranger = factories.staff_with_role(StaffRole.DESK, department=other_desk)
    version = make_item(bureau, co_review=0)
    with django_capture_on_commit_callbacks(execute=True):
        application = file_application(owner, enterprise, version)
    assert _kinds(bureau.desk_user) == ["task.waiting"]
    assert _kinds(stranger) == []
    assert _kinds(bureau.decider) == []
    message = SiteMessage.objects.get(recipient=bureau.desk_user)
    assert application.reference in message.title
    assert bureau.desk.name in message.body
    # in-site only by default: a clerk's mailbox is not flooded
    assert list(Delivery.objects.filter(message__recipient=bureau.desk_user).values_list("channel", flat=True)) == [
        "site"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        accept(bureau, application)
    assert _kinds(bureau.decider) == ["task.waiting"]


def test_the_step_is_named_in_the_recipients_language(bureau, owner, enterprise, django_capture_on_commit_callbacks):
    bureau.desk_user.language = "en"
    bureau.desk_user.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        file_application(owner, enterprise, make_item(bureau, co_review=0))
    assert SiteMessage.objects.get(recipient=bureau.desk_user).title.startswith("Acceptance at the window of ")


def test_a_delegate_is_told_too(bureau, owner, enterprise, django_capture_on_commit_callbacks):
    delegate = factories.UserFactory(staff=True)
    now = timezone.now()
    org_services.delegation_create(
        actor=None,
        delegator=bureau.desk_user,
        delegate=delegate,
        department=bureau.desk,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=3),
        reason="休假",
    )
    with django_capture_on_commit_callbacks(execute=True):
        file_application(owner, enterprise, make_item(bureau, co_review=0))
    assert _kinds(delegate) == ["task.waiting"]


def test_a_task_handed_over_tells_the_colleague(bureau, owner, enterprise, django_capture_on_commit_callbacks):
    colleague = factories.staff_with_role(StaffRole.DESK, department=bureau.desk)
    with django_capture_on_commit_callbacks(execute=True):
        application = file_application(owner, enterprise, make_item(bureau, co_review=0))
        task = claim_and(bureau.desk_user, only_task(application, "accept"))
        actions.task_reassign(actor=bureau.desk_user, task=task, colleague=colleague)
    assert _kinds(colleague) == ["task.waiting", "task.handed_over"]
    handed = SiteMessage.objects.get(recipient=colleague, message__kind="task.handed_over")
    assert str(bureau.desk_user) in handed.title


def _step(application: Application, kind: str = "accept") -> Step:
    return Step.objects.get(application=application, kind=kind, closed_at__isnull=True)


def test_overdue_and_due_soon_are_told_once_per_band(bureau, owner, enterprise, django_capture_on_commit_callbacks):
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    step = _step(application)
    today = timezone.localdate()
    Step.objects.filter(pk=step.pk).update(due_on=today)
    assert staff_notices.steps_deadlines_notify(today=today) == 1
    assert staff_notices.steps_deadlines_notify(today=today) == 0
    Step.objects.filter(pk=step.pk).update(due_on=today - datetime.timedelta(days=3))
    assert staff_notices.steps_deadlines_notify(today=today) == 1
    assert _kinds(bureau.desk_user) == ["task.waiting", "task.due_soon", "task.overdue"]
    assert staff_notices.steps_deadlines_notify(today=today) == 0


def test_a_claimed_step_tells_only_the_clerk_who_holds_it(bureau, owner, enterprise):
    colleague = factories.staff_with_role(StaffRole.DESK, department=bureau.desk)
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    claim_and(bureau.desk_user, only_task(application, "accept"))
    today = timezone.localdate()
    Step.objects.filter(pk=_step(application).pk).update(due_on=today - datetime.timedelta(days=1))
    assert staff_notices.steps_deadlines_notify(today=today) == 1
    assert "task.overdue" in _kinds(bureau.desk_user)
    assert "task.overdue" not in _kinds(colleague)


def test_no_deadline_notice_while_the_clock_is_suspended(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    today = timezone.localdate()
    Step.objects.filter(pk=_step(application).pk).update(due_on=today - datetime.timedelta(days=1))
    Application.objects.filter(pk=application.pk).update(clock_suspended=True)
    assert staff_notices.steps_deadlines_notify(today=today) == 0
    Step.objects.filter(application=application).update(closed_at=timezone.now())
    Application.objects.filter(pk=application.pk).update(clock_suspended=False)
    assert staff_notices.steps_deadlines_notify(today=today) == 0  # a closed step is nobody's task
