"""Races on the standard approval flow, with real threads on PostgreSQL."""

import uuid

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals.applications import services
from approvals.models import Application
from approvals.organisation.roles import StaffRole
from core.exceptions import DomainError
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import accept, file_application, make_item, new_draft
from workflows.actions import applications as actions
from workflows.models import ApplicationProcess

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_threads_claiming_the_same_task_claim_it_once(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = actions.open_tasks(application)[0]
    desks = [factories.staff_with_role(StaffRole.DESK, department=bureau.desk) for _ in range(20)]

    results = run_concurrently(
        *[lambda desk=desk: actions.task_claim(actor=desk, task=Task.objects.get(pk=task.pk)) for desk in desks]
    )

    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(e, DomainError) and e.code == "task_not_claimable" for e in losers)
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED and task.owner_id == winners[0].owner_id


@pytest.mark.parametrize("round_", range(50))
def test_all_reviews_finishing_at_once_make_exactly_one_decision_task(bureau, owner, enterprise, round_):
    application = file_application(owner, enterprise, make_item(bureau, co_review=3))
    accept(bureau, application)
    reviews = [t for t in actions.open_tasks(application) if t.flow_task.name == "review"]
    for task in reviews:
        actions.task_claim(actor=bureau.reviewers[int(task.owner_permission_obj_pk)], task=task)

    results = run_concurrently(
        *[
            lambda task=task: actions.review_complete(
                actor=bureau.reviewers[int(task.owner_permission_obj_pk)],
                task=Task.objects.get(pk=task.pk),
                outcome="agree",
            )
            for task in reviews
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    process = ApplicationProcess.objects.get(artifact_object_id=application.pk)
    assert Task.objects.filter(process=process, flow_task_type="HUMAN", status=STATUS.NEW).count() == 1
    joins = Task.objects.filter(process=process).exclude(flow_task_type="HUMAN")
    assert sum(1 for t in joins if t.flow_task.name == "join") == 1
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_DECISION


def test_same_idempotency_key_from_ten_threads_makes_one_application(bureau, owner, enterprise):
    version = make_item(bureau)
    key = uuid.uuid4()

    def save_and_submit():
        draft = services.application_draft_save(
            actor=owner,
            enterprise_id=enterprise.pk,
            item_version_id=version.pk,
            form_data={"n": 1},
            idempotency_key=key,
        )
        return draft.pk

    results = run_concurrently(*[save_and_submit] * 10)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Application.objects.filter(applicant=owner).count() == 1


def test_double_submit_draws_one_reference_and_starts_one_process(bureau, owner, enterprise):
    draft = new_draft(owner, enterprise, make_item(bureau))

    results = run_concurrently(
        *[lambda: actions.application_submit_and_start(actor=owner, application=Application.objects.get(pk=draft.pk))]
        * 5
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.reference for r in results}) == 1
    assert ApplicationProcess.objects.filter(artifact_object_id=draft.pk).count() == 1


def test_reference_numbers_have_no_gaps_under_concurrency(bureau, owner, enterprise):
    version = make_item(bureau)
    drafts = [new_draft(owner, enterprise, version) for _ in range(8)]

    run_concurrently(
        *[
            lambda d=d: actions.application_submit_and_start(actor=owner, application=Application.objects.get(pk=d.pk))
            for d in drafts
        ]
    )

    numbers = sorted(int(r.split("-")[-1]) for r in Application.objects.values_list("reference", flat=True))
    assert numbers == list(range(1, 9))
