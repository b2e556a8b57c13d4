"""Races on the commitment route, with real threads on PostgreSQL."""

import pytest
from django.utils import timezone

from approvals.models import Application, Certificate, Commitment, Inspection, InspectionTask
from approvals.supervision import selectors as supervision_selectors
from core.exceptions import DomainError
from credit.ledger.models import LedgerEntry
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import new_draft
from tests.workflows.test_commitment_flow import commit_case, sign, supervision  # noqa: F401  (fixture)
from workflows.actions import supervision as actions

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_signing_twice_at_once_approves_once(owner, enterprise, supervision):  # noqa: F811
    application = new_draft(owner, enterprise, supervision["version"])

    results = run_concurrently(
        lambda: sign(owner, Application.objects.get(pk=application.pk)),
        lambda: sign(owner, Application.objects.get(pk=application.pk)),
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], DomainError) and errors[0].code == "application_state_changed"
    assert Commitment.objects.count() == 1
    assert Certificate.objects.filter(application=application).count() == 1
    assert InspectionTask.objects.filter(application=application).count() == 1


def test_both_inspectors_recording_at_once_apply_one_outcome(owner, enterprise, supervision):  # noqa: F811
    _application, task = commit_case(owner, enterprise, supervision)

    def record(inspector):  # type: ignore[no-untyped-def]
        fresh = InspectionTask.objects.get(pk=task.pk)
        return actions.inspection_record_and_route(
            actor=inspector,
            task=fresh,
            inspected_on=timezone.localdate(),
            checklist=dict.fromkeys(supervision_selectors.checklist_of(fresh), "ok"),
            findings="合格",
            result="pass",
        )

    results = run_concurrently(lambda: record(task.inspector_1), lambda: record(task.inspector_2))

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], DomainError) and errors[0].code == "task_closed"
    assert Inspection.objects.filter(task=task).count() == 1
    assert LedgerEntry.objects.filter(kind_code="commitment_fulfilled", enterprise=enterprise).count() == 1
