"""Two staff members claiming the same task through the API at the same instant, with real threads
on PostgreSQL: the flow's row lock lets exactly one win; the other is told it is taken (409)."""

import pytest
from rest_framework.test import APIClient
from viewflow.workflow.status import STATUS

from approvals.models import Step
from approvals.organisation.roles import StaffRole
from tests import factories
from tests.concurrency.conftest import run_concurrently
from tests.workflows.conftest import file_application, make_item, only_task

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(5))
def test_two_api_claims_of_one_task_make_one_owner(bureau, owner, enterprise, round_):
    task = only_task(file_application(owner, enterprise, make_item(bureau)), "accept")
    desks = [factories.staff_with_role(StaffRole.DESK, department=bureau.desk) for _ in range(2)]

    def claim(user):
        client = APIClient()
        client.force_login(user)
        response = client.post(f"/api/v1/staff/tasks/{task.pk}/claim/")
        return response.status_code, response.json()

    results = run_concurrently(*[lambda user=user: claim(user) for user in desks])

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(status for status, _body in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["code"] == "task_not_claimable"
    winner = next(body for status, body in results if status == 200)
    task.refresh_from_db()
    assert task.status == STATUS.ASSIGNED
    assert Step.objects.get(task_id=task.pk).claimed_by.username == winner["claimed_by"]
