"""An enterprise's filing lifecycle on the API: create a draft → upload → submit (idempotent) →
status with both clocks and the timeline → answer a supplement notice → withdraw; each refusal in
the error shape, and the same services as the portal (the same database state)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from approvals.models import Application, ApplicationEvent, SupplementNotice
from core.api.models import IdempotencyRecord
from tests.web.api.conftest import FORM, bearer, token_for
from tests.workflows.conftest import PDF, accept, claim_and, new_draft, only_task
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db

BASE = "/api/v1/enterprise/applications/"


def _pdf(name: str = "申请书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def client(tenants) -> APIClient:
    return bearer(token_for(tenants.owner, "write"))


def _create(client, tenants, **extra):
    body = {"enterprise": tenants.enterprise_a.pk, "item_version": tenants.item.pk, **FORM, **extra}
    return client.post(BASE, body, format="json")


def _material(tenants, position: int = 1):
    return tenants.item.materials.get(position=position)


def test_the_whole_filing_lifecycle(client, tenants, bureau):
    # Given a draft made through the API
    created = _create(client, tenants)
    assert created.status_code == 201, created.json()
    body = created.json()
    pk = body["id"]
    assert body["status"] == "draft" and body["reference"] is None
    assert body["form_data"]["project_name"] == FORM["project_name"]

    # When it is edited, a material uploaded and it is submitted
    edited = client.patch(f"{BASE}{pk}/", {"description": "改了"}, format="json")
    assert edited.status_code == 200 and edited.json()["form_data"]["description"] == "改了"
    assert edited.json()["form_data"]["contact_name"] == FORM["contact_name"]
    uploaded = client.post(
        f"{BASE}{pk}/materials/", {"required_material": _material(tenants).pk, "file": _pdf()}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["name"] == "申请书.pdf"
    assert uploaded.json()["download"] == f"{BASE}{pk}/materials/{uploaded.json()['id']}/file/"
    submitted = client.post(f"{BASE}{pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="submit-0001")

    # Then it is submitted with a reference, its procedure runs, and the status shows both clocks
    assert submitted.status_code == 200, submitted.json()
    status = submitted.json()
    assert status["status"] == "submitted" and status["reference"].startswith("SP")
    application = Application.objects.get(pk=pk)
    assert application.status == Application.Status.SUBMITTED
    assert actions.open_tasks(application)
    assert set(status["clock"]) >= {"state", "band", "promised", "statutory", "excluded_periods", "suspended"}
    assert [entry["action"] for entry in status["timeline"]] == ["draft_created", "submitted"]

    # When the window asks for a supplement (补正) before acceptance
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    actions.accept_complete(
        actor=bureau.desk_user,
        task=task,
        decision="supplement",
        material_ids=[_material(tenants, 2).pk],
        text="请补充场所平面图",
    )
    notice = SupplementNotice.objects.get(application=application)
    seen = client.get(f"{BASE}{pk}/").json()
    assert seen["status"] == "awaiting_supplement"
    assert seen["open_supplement"] == notice.pk
    assert seen["supplements"][0]["slots"] == [f"material_{_material(tenants, 2).pk}"]

    # Then the enterprise answers it with the material the notice lists
    answered = client.post(
        f"{BASE}{pk}/supplements/{notice.pk}/answer/",
        {f"material_{_material(tenants, 2).pk}": _pdf("平面图.pdf"), "answer": "已补充"},
        format="multipart",
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "submitted"
    assert answered.json()["open_supplement"] is None
    notice.refresh_from_db()
    assert notice.answered_by == tenants.owner

    # And finally withdraws it
    withdrawn = client.post(f"{BASE}{pk}/withdraw/", {"reason": "不再需要"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["status"] == "withdrawn"
    assert ApplicationEvent.objects.filter(application=application, action="withdrawn").exists()
    assert not actions.open_tasks(application)


def test_list_is_the_enterprises_own_with_filters(client, tenants):
    mine = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    new_draft(tenants.peer, tenants.enterprise_b, tenants.item, with_material=False)

    rows = client.get(BASE).json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert rows[0]["band"] == "none" or rows[0]["band"] in {"green", "yellow", "red"}
    assert client.get(BASE, {"status": "submitted"}).json()["results"] == []
    assert client.get(BASE, {"enterprise": tenants.enterprise_b.pk}).json()["results"] == []
    bad = client.get(BASE, {"status": "nonsense"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_list_pages_by_cursor_in_constant_queries(client, tenants, django_assert_max_num_queries):
    for _ in range(3):
        new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    first = client.get(BASE, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    for _ in range(10):
        new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    with django_assert_max_num_queries(12):
        assert len(client.get(BASE).json()["results"]) == 13


def test_create_refuses_bad_shape_with_field_errors(client, tenants):
    response = _create(client, tenants, contact_phone="not a phone", project_name="")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and {"contact_phone", "project_name"} <= set(body["fields"])
    assert not Application.objects.exists()


def test_create_for_another_enterprise_is_a_404(client, tenants):
    response = _create(client, tenants, enterprise=tenants.enterprise_b.pk)

    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Application.objects.exists()


def test_create_under_an_unpublished_item_is_a_422(client, tenants):
    response = _create(client, tenants, item_version=999999)

    assert response.status_code == 422 and response.json()["code"] == "item_not_published"


def test_submit_without_the_mandatory_material_is_refused_and_frees_the_key(client, tenants):
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)

    refused = client.post(f"{BASE}{draft.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="key-00000001")

    assert refused.status_code == 422 and refused.json()["code"] == "material_missing"
    assert not IdempotencyRecord.objects.exists()
    # the corrected retry with the same key goes through
    client.post(
        f"{BASE}{draft.pk}/materials/", {"required_material": _material(tenants).pk, "file": _pdf()}, format="multipart"
    )
    retried = client.post(f"{BASE}{draft.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="key-00000001")
    assert retried.status_code == 200 and retried.json()["status"] == "submitted"


def test_submit_needs_an_idempotency_key(client, tenants):
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item)

    missing = client.post(f"{BASE}{draft.pk}/submit/", {}, format="json")
    malformed = client.post(f"{BASE}{draft.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="no spaces!")

    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    assert malformed.status_code == 400 and malformed.json()["code"] == "idempotency_key_invalid"
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT


def test_submit_replays_the_same_key_and_refuses_it_for_another_request(client, tenants):
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    other = new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    url = f"{BASE}{draft.pk}/submit/"

    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    reused = client.post(f"{BASE}{other.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")
    reused_body = client.post(url, {"x": 1}, format="json", HTTP_IDEMPOTENCY_KEY="same-key-01")

    assert first.status_code == 200 and "Idempotent-Replayed" not in first
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert reused_body.status_code == 422 and reused_body.json()["code"] == "idempotency_key_reused"
    assert ApplicationEvent.objects.filter(application=draft, action="submitted").count() == 1
    other.refresh_from_db()
    assert other.status == Application.Status.DRAFT


def test_a_key_is_the_actors_own(tenants):
    # Two users may use the same key without colliding
    colleague_membership = __import__("tests.factories", fromlist=["x"]).MembershipFactory(
        enterprise=tenants.enterprise_a, confirmed=True
    )
    mine = new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    theirs = new_draft(colleague_membership.user, tenants.enterprise_a, tenants.item)

    a = bearer(token_for(tenants.owner)).post(
        f"{BASE}{mine.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-12345678"
    )
    b = bearer(token_for(colleague_membership.user)).post(
        f"{BASE}{theirs.pk}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-12345678"
    )

    assert a.status_code == b.status_code == 200
    assert a.json()["id"] != b.json()["id"]


def test_a_key_in_flight_is_a_409(client, tenants):
    from django.utils import timezone

    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    url = f"{BASE}{draft.pk}/submit/"
    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="flight-0001")
    assert first.status_code == 200
    # Given the record as a request that is still running would leave it
    IdempotencyRecord.objects.update(
        state="in_flight",
        response_status=None,
        response_body=None,
        finished_at=None,
        lease_until=timezone.now() + timezone.timedelta(seconds=60),
    )

    response = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="flight-0001")

    assert response.status_code == 409 and response.json()["code"] == "idempotency_in_flight"


def test_editing_is_for_drafts_and_their_author(client, tenants):
    from tests import factories

    colleague = factories.MembershipFactory(enterprise=tenants.enterprise_a, confirmed=True).user
    theirs = new_draft(colleague, tenants.enterprise_a, tenants.item, with_material=False)
    submitted = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )

    not_author = client.patch(f"{BASE}{theirs.pk}/", {"description": "x"}, format="json")
    not_draft = client.patch(f"{BASE}{submitted.pk}/", {"description": "x"}, format="json")
    bad_shape = client.patch(f"{BASE}{theirs.pk}/", {"contact_phone": "??"}, format="json")

    assert not_author.status_code == 422 and not_author.json()["code"] == "draft_not_yours"
    assert not_draft.status_code == 422 and not_draft.json()["code"] == "application_not_draft"
    assert bad_shape.status_code == 400
    assert Application.objects.count() == 2


def test_upload_goes_through_the_portals_validator(client, tenants):
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")

    response = client.post(
        f"{BASE}{draft.pk}/materials/", {"required_material": _material(tenants).pk, "file": fake}, format="multipart"
    )

    assert response.status_code == 422 and response.json()["code"].startswith("file_")
    assert not draft.materials.exists()


def test_upload_of_a_material_of_another_item_is_refused(client, tenants):
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)

    response = client.post(
        f"{BASE}{draft.pk}/materials/", {"required_material": 999999, "file": _pdf()}, format="multipart"
    )

    assert response.status_code == 422 and response.json()["code"] == "material_not_of_item"


def test_upload_after_submission_is_refused(client, tenants):
    submitted = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )

    response = client.post(
        f"{BASE}{submitted.pk}/materials/",
        {"required_material": _material(tenants).pk, "file": _pdf()},
        format="multipart",
    )

    assert response.status_code == 422 and response.json()["code"] == "application_not_draft"


def test_supplement_answer_refusals(client, tenants, bureau):
    application = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    actions.accept_complete(
        actor=bureau.desk_user, task=task, decision="supplement", material_ids=[_material(tenants, 2).pk], text="补"
    )
    notice = SupplementNotice.objects.get()
    url = f"{BASE}{application.pk}/supplements/{notice.pk}/answer/"

    missing = client.post(url, {"answer": "没有文件"}, format="multipart")
    unknown = client.post(f"{BASE}{application.pk}/supplements/999999/answer/", {"answer": "x"}, format="multipart")

    assert missing.status_code == 400 and f"material_{_material(tenants, 2).pk}" in missing.json()["fields"]
    assert unknown.status_code == 404
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_withdraw_after_the_decision_is_refused(client, tenants, bureau):
    application = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )
    accept(bureau, application)
    actions.application_withdraw_and_cancel(actor=tenants.owner, application=application, reason="")

    again = client.post(f"{BASE}{application.pk}/withdraw/", {}, format="json")

    assert again.status_code == 422 and again.json()["code"] == "application_state_changed"


def test_status_hides_the_bureaus_internal_deliberation(client, tenants, bureau):
    application = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )
    accept(bureau, application)
    ApplicationEvent.objects.create(application=application, action="extension_requested", comment="内部")

    timeline = client.get(f"{BASE}{application.pk}/").json()["timeline"]

    actions_seen = [entry["action"] for entry in timeline]
    assert "extension_requested" not in actions_seen
    assert "accepted" in actions_seen
    body = client.get(f"{BASE}{application.pk}/").json()
    assert body["clock"]["promised"]["deadline"] and body["clock"]["statutory"]["deadline"]
    assert body["clock"]["promised"]["working_days_left"] is not None


# --- the browser session ---------------------------------------------------------------------


def test_the_session_reads_and_writes_with_csrf(tenants):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(tenants.owner)
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)

    assert client.get(f"{BASE}{draft.pk}/").status_code == 200
    refused = client.patch(f"{BASE}{draft.pk}/", {"description": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"

    client.get("/portal/")  # sets the CSRF cookie, as the page the script runs on does
    token = client.cookies["csrftoken"].value
    allowed = client.patch(f"{BASE}{draft.pk}/", {"description": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200
