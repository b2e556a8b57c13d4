"""viewflow's staff frontend, narrowed per department."""

import pytest
from django.urls import reverse

from tests.workflows.conftest import accept, file_application, make_item, only_task
from workflows.models import ApplicationProcess

pytestmark = pytest.mark.django_db

BASE = "/staff/standardapproval/"


def test_staff_see_only_processes_their_departments_take_part_in(client, bureau, owner, enterprise):
    from approvals.organisation.roles import StaffRole
    from tests import factories

    mine = file_application(owner, enterprise, make_item(bureau, co_review=1))
    other_lead = factories.department("别处")
    theirs = file_application(owner, enterprise, make_item(bureau, co_review=0, lead_department=other_lead))
    accept(bureau, mine)
    reviewer = bureau.reviewers[bureau.co[0].pk]
    client.force_login(reviewer)
    listing = client.get(BASE + "flows/")
    assert listing.status_code == 200
    mine_process = ApplicationProcess.objects.get(artifact_object_id=mine.pk)
    theirs_process = ApplicationProcess.objects.get(artifact_object_id=theirs.pk)
    assert client.get(f"{BASE}{mine_process.pk}/").status_code == 200
    assert client.get(f"{BASE}{theirs_process.pk}/").status_code == 404
    auditor = factories.staff_with_role(StaffRole.AUDITOR)
    client.force_login(auditor)
    assert client.get(f"{BASE}{theirs_process.pk}/").status_code == 200


def test_enterprise_users_get_404_and_anonymous_users_log_in(client, owner):
    client.force_login(owner)
    for path in ("/staff/", BASE, BASE + "flows/", BASE + "queue/", BASE + "1/"):
        assert client.get(path).status_code == 404, path
    client.logout()
    assert client.get(BASE + "flows/").status_code == 302


def test_frontend_task_link_opens_our_task_page(client, bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")
    from workflows.actions import applications as actions

    actions.task_claim(actor=bureau.desk_user, task=task)
    client.force_login(bureau.desk_user)
    url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert response["Location"] == reverse("workbench:task", args=[task.pk])
