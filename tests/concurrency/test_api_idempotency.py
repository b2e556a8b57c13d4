"""Twenty concurrent API submissions with one Idempotency-Key (PostgreSQL, real threads and
connections): exactly one submission; every other answer is the first one replayed or a 409."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from approvals.models import Application, ApplicationEvent, ClockEvent
from core.api.models import IdempotencyRecord
from tests.concurrency.conftest import run_concurrently
from tests.web.api.conftest import token_for
from tests.workflows.conftest import make_item, new_draft
from workflows.models import ApplicationProcess

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_submits_with_one_key_submit_once(bureau, owner, enterprise):
    draft = new_draft(owner, enterprise, make_item(bureau))
    secret = token_for(owner, "write")
    url = f"/api/v1/enterprise/applications/{draft.pk}/submit/"

    def submit() -> tuple[int, dict, bool]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        response = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="one-key-for-all-20")
        return response.status_code, response.json(), response.has_header("Idempotent-Replayed")

    results = run_concurrently(*[submit for _ in range(20)])

    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(status for status, _body, _replayed in results)
    assert set(statuses) <= {200, 409}, statuses
    fresh = [body for status, body, replayed in results if status == 200 and not replayed]
    replayed = [body for status, body, was in results if status == 200 and was]
    conflicts = [body for status, body, _r in results if status == 409]
    assert len(fresh) == 1
    assert all(body == fresh[0] for body in replayed)
    assert all(body["code"] == "idempotency_in_flight" for body in conflicts)
    # exactly one submission: one reference, one event, one received clock event, one procedure
    application = Application.objects.get(pk=draft.pk)
    assert application.status == Application.Status.SUBMITTED
    assert fresh[0]["reference"] == application.reference
    assert ApplicationEvent.objects.filter(application=application, action="submitted").count() == 1
    assert ClockEvent.objects.filter(application=application, kind=ClockEvent.Kind.RECEIVED).count() == 1
    assert ApplicationProcess.objects.filter(artifact_object_id=application.pk).count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyRecord.State.DONE and record.response_body == fresh[0]
    # and a retry after the storm replays the same answer
    status, body, was_replayed = submit()
    assert (status, body, was_replayed) == (200, fresh[0], True)
