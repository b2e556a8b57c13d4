"""The cross-tenant matrix: enterprise A's application, through every object endpoint, as A's
owner (the control), as B's user, as a pending member of A, as a staff member and anonymously —
404, 403 or 401, never data, and nothing written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from approvals.models import Application, ApplicationMaterial, SupplementNotice
from tests.web.api.conftest import bearer, token_for
from tests.workflows.conftest import PDF, claim_and, new_draft, only_task
from workflows.actions import applications as actions

pytestmark = pytest.mark.django_db

BASE = "/api/v1/enterprise/applications/"


@pytest.fixture
def case(tenants, bureau):
    application = actions.application_submit_and_start(
        actor=tenants.owner, application=new_draft(tenants.owner, tenants.enterprise_a, tenants.item)
    )
    task = claim_and(bureau.desk_user, only_task(application, "accept"))
    second = tenants.item.materials.get(position=2)
    actions.accept_complete(
        actor=bureau.desk_user, task=task, decision="supplement", material_ids=[second.pk], text="补"
    )
    draft = new_draft(tenants.owner, tenants.enterprise_a, tenants.item, with_material=False)
    return {"open": application, "draft": draft, "notice": SupplementNotice.objects.get(), "material": second}


def _requests(case):
    open_pk, draft_pk, notice_pk = case["open"].pk, case["draft"].pk, case["notice"].pk
    material = case["material"].pk
    return [
        ("get", f"{BASE}{open_pk}/", {}, "json"),
        ("patch", f"{BASE}{draft_pk}/", {"description": "偷改"}, "json"),
        (
            "post",
            f"{BASE}{draft_pk}/materials/",
            {"required_material": material, "file": SimpleUploadedFile("a.pdf", PDF)},
            "multipart",
        ),
        ("post", f"{BASE}{draft_pk}/submit/", {}, "json"),
        (
            "post",
            f"{BASE}{open_pk}/supplements/{notice_pk}/answer/",
            {f"material_{material}": SimpleUploadedFile("b.pdf", PDF), "answer": "x"},
            "multipart",
        ),
        ("post", f"{BASE}{open_pk}/withdraw/", {}, "json"),
    ]


def _client(tenants, who: str) -> APIClient:
    if who == "anonymous":
        return APIClient()
    if who == "staff":
        client = APIClient()
        client.force_login(tenants.staff)
        return client
    user = {"peer": tenants.peer, "pending": tenants.pending}[who]
    return bearer(token_for(user, "write"))


@pytest.mark.parametrize(
    ("who", "expected"), [("peer", {404}), ("pending", {404}), ("staff", {403}), ("anonymous", {401})]
)
def test_no_one_but_the_enterprise_reaches_its_application(tenants, case, who, expected):
    client = _client(tenants, who)
    before = (
        list(Application.objects.order_by("pk").values_list("status", "form_data")),
        ApplicationMaterial.objects.count(),
    )

    for method, url, body, fmt in _requests(case):
        response = getattr(client, method)(url, body, format=fmt, HTTP_IDEMPOTENCY_KEY="tenant-key-1")
        assert response.status_code in expected, (method, url, response.status_code, response.content)
        payload = response.json()
        assert set(payload) <= {"code", "message", "fields"}, payload  # the error shape, never data

    after = (
        list(Application.objects.order_by("pk").values_list("status", "form_data")),
        ApplicationMaterial.objects.count(),
    )
    assert after == before
    case["notice"].refresh_from_db()
    assert case["notice"].answered_at is None


@pytest.mark.parametrize("who", ["peer", "pending"])
def test_other_users_lists_are_empty(tenants, case, who):
    response = _client(tenants, who).get(BASE)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_staff_and_anonymous_get_no_list(tenants, case):
    assert _client(tenants, "staff").get(BASE).status_code == 403
    assert _client(tenants, "anonymous").get(BASE).status_code == 401


def test_the_owner_reaches_every_endpoint_the_matrix_refuses(tenants, case):
    # The control: the same requests as the owner are not refused for tenancy (so the matrix's
    # refusals come from the scoping, not from a broken request).
    client = bearer(token_for(tenants.owner, "write"))

    codes = [
        getattr(client, method)(url, body, format=fmt, HTTP_IDEMPOTENCY_KEY="tenant-key-1").status_code
        for method, url, body, fmt in _requests(case)
    ]

    assert codes == [200, 200, 201, 422, 200, 200]  # submit: the draft lacks its mandatory material → 422
