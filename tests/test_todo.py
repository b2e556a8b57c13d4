"""The to-do lists the homes open on: the enterprise's 补正 to answer and rectification due (each
with its deadline, most urgent first, no other enterprise's), the clerk's own tasks and the
queue's urgent ones, the newest unread messages; a constant number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import RectificationOrder, Step
from core.outbox import services as outbox
from tests.workflows.conftest import claim_and, file_application, make_item, only_task
from tests.workflows.test_commitment_flow import commit_case, record, supervision  # noqa: F401  (fixture)
from web import todo
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db


def _supplement(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    application = file_application(owner, enterprise, make_item(bureau, co_review=0))
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    actions.accept_complete(
        actor=bureau.desk_user, task=task, decision="supplement", other="营业执照副本", text="请补正"
    )
    return application


def test_the_enterprise_home_lists_what_to_answer(
    client, bureau, owner, peer, enterprise, django_capture_on_commit_callbacks
):
    application = _supplement(bureau, owner, enterprise)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notify(recipient=owner, kind="application.submitted", dedupe_key="x", context={"reference": "SP-9"})
    client.force_login(owner)
    page = client.get(reverse("portal:home")).content.decode()
    assert "To do" in page or "待办" in page
    assert application.reference in page
    assert reverse("portal:application", args=[application.pk]) in page
    assert "SP-9" in page  # the newest unread message
    client.force_login(peer)
    assert application.reference not in client.get(reverse("portal:home")).content.decode()


def test_rectification_order_is_listed_with_its_deadline(owner, enterprise, supervision):  # noqa: F811
    _application, task = commit_case(owner, enterprise, supervision)
    deadline = timezone.localdate() + datetime.timedelta(days=5)
    record(task, "rectify", rectification_requirements="整改消防通道", rectification_deadline=deadline)
    assert RectificationOrder.objects.filter(task=task, status="open").exists()
    items = todo.enterprise_todo(owner)
    assert [(item.due, item.url) for item in items] == [(deadline, reverse("portal:inspections"))]
    assert "整改消防通道" in items[0].subject


def test_the_workbench_lists_my_tasks_and_the_urgent_queue(client, bureau, owner, enterprise):
    mine = file_application(owner, enterprise, make_item(bureau, co_review=0))
    claim_and(bureau.desk_user, only_task(mine, "accept"))
    waiting = file_application(owner, enterprise, make_item(bureau, co_review=0))
    calm = file_application(owner, enterprise, make_item(bureau, co_review=0))
    today = timezone.localdate()
    Step.objects.filter(application=waiting).update(due_on=today - datetime.timedelta(days=2))
    Step.objects.filter(application=calm).update(due_on=today + datetime.timedelta(days=30))
    client.force_login(bureau.desk_user)
    response = client.get(reverse("workbench:home"))
    items = response.context["todo"]
    references = [item.subject.split(" · ")[0] for item in items]
    assert references[0] == waiting.reference  # overdue first
    assert mine.reference in references and calm.reference not in references


def test_the_to_do_costs_the_same_queries_whatever_the_rows(
    client, bureau, owner, enterprise, django_assert_max_num_queries
):
    _supplement(bureau, owner, enterprise)
    client.force_login(owner)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:home"))
    for _ in range(3):
        _supplement(bureau, owner, enterprise)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("portal:home"))
