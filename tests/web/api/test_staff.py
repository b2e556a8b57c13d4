"""The staff resources of the API: the department queue and its tasks, scoped and validated exactly
as the workbench's screens (same selector, same forms, same actions), in the one error shape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from viewflow.workflow.status import STATUS

from approvals.models import Application, Decision, ReviewOpinion, Step
from approvals.organisation.roles import StaffRole
from core.models import AuditEvent
from tests import factories
from tests.workflows.conftest import accept, file_application, make_item, only_task, review_all

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/staff/tasks/"


def task_url(task, action: str = "") -> str:
    return f"{QUEUE}{task.pk}/" + (f"{action}/" if action else "")


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def queue_task_ids(user, **params) -> list[int]:
    response = as_user(user).get(QUEUE, params)
    assert response.status_code == 200, response.content
    return [row["task_id"] for row in response.json()["results"]]


# --- the queue ------------------------------------------------------------------------------------


def test_queue_shows_only_the_departments_own_steps(bureau, owner, enterprise):
    # Given an application waiting at the window and one in co-review by two departments
    version = make_item(bureau, co_review=2)
    at_window = file_application(owner, enterprise, version)
    in_review = file_application(owner, enterprise, version)
    accept(bureau, in_review)
    window_task = only_task(at_window, "accept")
    reviewer_0, reviewer_1, reviewer_2 = (bureau.reviewers[d.pk] for d in bureau.co)

    # Then each sees its own department's steps, nothing else
    assert queue_task_ids(bureau.desk_user) == [window_task.pk]
    review_0 = Step.objects.get(application=in_review, department=bureau.co[0], closed_at__isnull=True)
    review_1 = Step.objects.get(application=in_review, department=bureau.co[1], closed_at__isnull=True)
    assert queue_task_ids(reviewer_0) == [review_0.task_id]
    assert queue_task_ids(reviewer_1) == [review_1.task_id]
    assert queue_task_ids(reviewer_2) == []  # its department takes no part in the item
    assert queue_task_ids(bureau.decider) == []  # nothing to decide yet


def test_queue_rows_carry_the_step_and_its_application(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, code="SC-777"))

    row = as_user(bureau.desk_user).get(QUEUE).json()["results"][0]

    assert row["kind"] == "accept"
    assert row["department"]["id"] == bureau.desk.pk
    assert row["application"]["reference"] == application.reference
    assert row["application"]["item_code"] == "SC-777"
    assert row["application"]["enterprise_uscc"] == enterprise.uscc
    assert row["band"] in {"green", "yellow", "red", "none"}
    assert row["claimed_by"] is None


def test_queue_filters_as_the_workbench_lists(bureau, owner, enterprise):
    # Given two window tasks, one claimed by the desk officer and one by a colleague, and a third free
    version = make_item(bureau)
    colleague = factories.staff_with_role(StaffRole.DESK, department=bureau.desk)
    mine, theirs, free = (only_task(file_application(owner, enterprise, version), "accept") for _ in range(3))
    as_user(bureau.desk_user).post(task_url(mine, "claim"))
    as_user(colleague).post(task_url(theirs, "claim"))

    assert queue_task_ids(bureau.desk_user, claimed="mine") == [mine.pk]
    assert queue_task_ids(bureau.desk_user, claimed="others") == [theirs.pk]
    assert queue_task_ids(bureau.desk_user, claimed="unclaimed") == [free.pk]
    assert sorted(queue_task_ids(bureau.desk_user, kind="accept")) == sorted([mine.pk, theirs.pk, free.pk])
    assert queue_task_ids(bureau.desk_user, kind="review") == []
    assert queue_task_ids(bureau.desk_user, department=bureau.lead.pk) == []


@pytest.mark.parametrize(
    "params",
    [{"claimed": "everyone"}, {"kind": "x"}, {"department": "x'; drop"}, {"department": "99999999999999"}],
)
def test_queue_refuses_a_bad_filter_with_field_errors(bureau, params):
    response = as_user(bureau.desk_user).get(QUEUE, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["fields"]) == set(params)


def test_queue_pages_by_cursor(bureau, owner, enterprise):
    version = make_item(bureau)
    tasks = [only_task(file_application(owner, enterprise, version), "accept") for _ in range(3)]
    client = as_user(bureau.desk_user)

    seen: list[int] = []
    page = client.get(QUEUE, {"page_size": 2}).json()
    seen += [row["task_id"] for row in page["results"]]
    assert len(page["results"]) == 2 and page["next"]
    page = client.get(page["next"]).json()
    seen += [row["task_id"] for row in page["results"]]

    assert page["next"] is None
    assert sorted(seen) == sorted(t.pk for t in tasks)


def test_queue_costs_the_same_queries_whatever_its_length(bureau, owner, enterprise):
    version = make_item(bureau)
    file_application(owner, enterprise, version)
    client = as_user(bureau.desk_user)
    client.get(QUEUE)  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(QUEUE).status_code == 200
    for _ in range(5):
        file_application(owner, enterprise, version)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(QUEUE).json()["results"]) == 6

    assert len(many) == len(few)


def test_queue_is_for_staff_only(client, owner):
    anonymous = client.get(QUEUE)
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    enterprise_user = as_user(owner).get(QUEUE)
    assert enterprise_user.status_code == 403 and enterprise_user.json()["code"] == "staff_only"


# --- one task, across departments -----------------------------------------------------------------


def test_cross_department_matrix(bureau, owner, enterprise):
    # Given one open task of each kind: the window's, a co-review department's, the decision
    version = make_item(bureau, co_review=1)
    window = only_task(file_application(owner, enterprise, version), "accept")
    reviewed = file_application(owner, enterprise, version)
    accept(bureau, reviewed)
    review = only_task(reviewed, "review")
    decided = file_application(owner, enterprise, version)
    accept(bureau, decided)
    review_all(bureau, decided)
    decision = only_task(decided, "decide")
    reviewer = bureau.reviewers[bureau.co[0].pk]
    other_reviewer = bureau.reviewers[bureau.co[1].pk]
    who_may = {window.pk: bureau.desk_user, review.pk: reviewer, decision.pk: bureau.decider}

    # Then each task opens for its own department only; for everyone else it does not exist
    for task in (window, review, decision):
        for user in (bureau.desk_user, reviewer, other_reviewer, bureau.decider):
            expected = 200 if who_may[task.pk] == user else 404
            for method, url in (("get", task_url(task)), ("post", task_url(task, "claim"))):
                response = getattr(as_user(user), method)(url)
                assert response.status_code == expected, (task.flow_task.name, user.username, method)
                if expected == 404:
                    assert response.json()["code"] == "not_found"
                else:
                    assert response.json()["task_id"] == task.pk
    # and the refused claims changed nothing
    assert all(Step.objects.get(task_id=t.pk).claimed_by == who_may[t.pk] for t in (window, review, decision))


def test_a_task_of_no_department_step_is_a_404(bureau):
    assert as_user(bureau.desk_user).get(f"{QUEUE}999999/").status_code == 404
    assert as_user(bureau.desk_user).get(f"{QUEUE}99999999999999/").status_code == 404


def test_auditor_reads_a_task_and_the_read_is_logged(bureau, owner, enterprise, auditor):
    task = only_task(file_application(owner, enterprise, make_item(bureau)), "accept")

    response = as_user(auditor).get(task_url(task))

    assert response.status_code == 200
    assert response.json()["can_claim"] is False
    read = AuditEvent.objects.get(action="auditor.read", actor=auditor)
    assert read.object_id == str(task.pk)


@pytest.mark.parametrize("action", ["claim", "release", "accept"])
def test_auditor_changes_nothing(bureau, owner, enterprise, auditor, action):
    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")

    response = as_user(auditor).post(task_url(task, action), {"decision": "accept"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "auditor_read_only"
    task.refresh_from_db()
    assert task.status == STATUS.NEW
    assert Application.objects.get(pk=application.pk).status == application.status


# --- claim and release ----------------------------------------------------------------------------


def test_claim_then_release(bureau, owner, enterprise):
    task = only_task(file_application(owner, enterprise, make_item(bureau)), "accept")
    client = as_user(bureau.desk_user)

    claimed = client.post(task_url(task, "claim"))
    assert claimed.status_code == 200
    assert claimed.json()["status"] == STATUS.ASSIGNED
    assert claimed.json()["claimed_by"] == bureau.desk_user.username
    assert claimed.json()["can_complete"] is True

    released = client.post(task_url(task, "release"))
    assert released.status_code == 200
    assert released.json()["status"] == STATUS.NEW
    assert Step.objects.get(task_id=task.pk).claimed_by is None


def test_a_claimed_task_is_a_conflict_for_a_colleague(bureau, owner, enterprise):
    task = only_task(file_application(owner, enterprise, make_item(bureau)), "accept")
    colleague = factories.staff_with_role(StaffRole.DESK, department=bureau.desk)
    as_user(bureau.desk_user).post(task_url(task, "claim"))

    second = as_user(colleague).post(task_url(task, "claim"))
    release = as_user(colleague).post(task_url(task, "release"))
    complete = as_user(colleague).post(task_url(task, "accept"), {"decision": "accept"}, format="json")

    assert (second.status_code, second.json()["code"]) == (409, "task_not_claimable")
    assert (release.status_code, release.json()["code"]) == (409, "task_not_yours")
    assert (complete.status_code, complete.json()["code"]) == (409, "task_not_yours")
    assert Step.objects.get(task_id=task.pk).claimed_by == bureau.desk_user


# --- completing -----------------------------------------------------------------------------------


def claimed(user, task) -> APIClient:
    client = as_user(user)
    assert client.post(task_url(task, "claim")).status_code == 200
    return client


def test_accept_through_the_api_moves_the_flow(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=2))
    task = only_task(application, "accept")
    client = claimed(bureau.desk_user, task)

    response = client.post(task_url(task, "accept"), {"decision": "accept", "text": "齐全"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "accept"
    assert response.json()["task"]["status"] == STATUS.DONE
    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW
    assert Step.objects.filter(application=application, kind="review", closed_at__isnull=True).count() == 2


def test_accept_refuses_what_the_form_refuses_with_field_errors(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")
    client = claimed(bureau.desk_user, task)

    no_decision = client.post(task_url(task, "accept"), {}, format="json")
    bad_material = client.post(
        task_url(task, "accept"), {"decision": "supplement", "material_ids": [999999]}, format="json"
    )
    not_an_object = client.post(task_url(task, "accept"), ["accept"], format="json")

    assert no_decision.status_code == 400 and "decision" in no_decision.json()["fields"]
    assert bad_material.status_code == 400 and "material_ids" in bad_material.json()["fields"]
    assert not_an_object.status_code == 400 and not_an_object.json()["code"] == "invalid"
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert Step.objects.get(task_id=task.pk).closed_at is None


def test_supplement_without_a_missing_item_is_the_services_refusal(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau))
    task = only_task(application, "accept")
    client = claimed(bureau.desk_user, task)

    response = client.post(task_url(task, "accept"), {"decision": "supplement"}, format="json")

    assert response.status_code == 422
    assert response.json()["code"]  # the service's own code
    assert Step.objects.get(task_id=task.pk).closed_at is None


def test_review_and_decide_through_the_api(bureau, owner, enterprise):
    application = file_application(owner, enterprise, make_item(bureau, co_review=1))
    accept(bureau, application)
    review = only_task(application, "review")
    reviewer = bureau.reviewers[bureau.co[0].pk]

    wrong_kind = claimed(reviewer, review).post(task_url(review, "decide"), {"outcome": "approve"}, format="json")
    assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (409, "task_kind_mismatch")
    reviewed = as_user(reviewer).post(task_url(review, "review"), {"outcome": "agree"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["outcome"] == ReviewOpinion.Outcome.AGREE

    decision = only_task(application, "decide")
    client = claimed(bureau.decider, decision)
    refused_without_reasons = client.post(task_url(decision, "decide"), {"outcome": "refused"}, format="json")
    assert (refused_without_reasons.status_code, refused_without_reasons.json()["code"]) == (422, "reasons_required")
    approved = client.post(task_url(decision, "decide"), {"outcome": "approved"}, format="json")
    assert approved.status_code == 200, approved.content
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert Decision.objects.get(application=application).decider == bureau.decider
