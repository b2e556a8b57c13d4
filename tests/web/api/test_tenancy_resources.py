"""The cross-tenant matrix of the enterprise's other resources: A's certificate, notices, files,
credit, policy application and messages, through every object endpoint, as B's user, as a pending
member of A, as a staff member and anonymously — 404, 403 or 401, never data, nothing written;
a read-only token of A's owner is refused every write; A's owner is the control."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.api.models import IdempotencyRecord
from core.outbox.models import SiteMessage
from credit.policies.models import EligibilityDecision, PolicyApplication
from tests.credit.ledger_helpers import append
from tests.credit.test_policy_services import make_policy
from tests.web.api.conftest import approved_case, bearer, site_message, token_for
from workflows.actions import policies as policy_actions

pytestmark = pytest.mark.django_db

API = "/api/v1/enterprise/"


@pytest.fixture
def objects(tenants, bureau):
    application = approved_case(tenants, bureau)
    make_policy("loan", kind="loan_guarantee")
    subsidy = make_policy("subsidy", kind="interest_subsidy")
    policy_application = policy_actions.policy_apply_and_start(
        actor=tenants.owner,
        enterprise=tenants.enterprise_a,
        policy=subsidy,
        requested_amount="1000.00",
        requested_term_months=12,
        statement="设备",
    )  # eligible: it waits for the policy office
    append(tenants.enterprise_a, "admin_penalty", days_ago=5)
    return {
        "application": application,
        "notice": application.written_notices.first(),
        "material": application.materials.get(),
        "certificate": application.certificate,
        "policy_application": policy_application,
        "message": site_message(tenants.owner, obj=application),
    }


def _requests(tenants, objects):
    app, notice = objects["application"].pk, objects["notice"].pk
    enterprise = tenants.enterprise_a.pk
    return [
        ("get", f"{API}certificates/{objects['certificate'].pk}/", None),
        ("get", f"{API}applications/{app}/notices/", None),
        ("get", f"{API}applications/{app}/notices/{notice}/", None),
        ("get", f"{API}applications/{app}/notices/{notice}/file/", None),
        ("get", f"{API}applications/{app}/materials/{objects['material'].pk}/file/", None),
        ("get", f"{API}enterprises/{enterprise}/credit/", None),
        ("get", f"{API}enterprises/{enterprise}/credit/entries/", None),
        ("get", f"{API}policy-applications/{objects['policy_application'].pk}/", None),
        ("post", f"{API}policies/loan/eligibility/", {"enterprise": enterprise}),
        (
            "post",
            f"{API}policy-applications/",
            {
                "policy": "loan",
                "enterprise": enterprise,
                "requested_amount": "1000.00",
                "requested_term_months": 12,
                "statement": "设备",
            },
        ),
        ("post", f"{API}policy-applications/{objects['policy_application'].pk}/withdraw/", {}),
        ("get", f"{API}messages/{objects['message'].pk}/", None),
        ("post", f"{API}messages/{objects['message'].pk}/read/", {}),
    ]


def _client(tenants, who: str) -> APIClient:
    if who == "anonymous":
        return APIClient()
    if who == "staff":
        client = APIClient()
        client.force_login(tenants.staff)
        return client
    if who == "read_only":
        return bearer(token_for(tenants.owner, "read"))
    user = {"peer": tenants.peer, "pending": tenants.pending, "owner": tenants.owner}[who]
    return bearer(token_for(user, "write"))


def _state():
    return (
        EligibilityDecision.objects.count(),
        list(PolicyApplication.objects.order_by("pk").values_list("status", flat=True)),
        list(SiteMessage.objects.order_by("pk").values_list("read_at", flat=True)),
        IdempotencyRecord.objects.count(),
    )


def _send(client, method, url, body):
    if method == "get":
        return client.get(url)
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tenant-key-2")


def _is_error_shape(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json") and set(response.json()) <= {
        "code",
        "message",
        "fields",
    }


@pytest.mark.parametrize(
    ("who", "expected"), [("peer", {404}), ("pending", {404}), ("staff", {403}), ("anonymous", {401})]
)
def test_no_one_but_the_enterprise_reaches_its_resources(tenants, objects, who, expected):
    client = _client(tenants, who)
    before = _state()

    for method, url, body in _requests(tenants, objects):
        response = _send(client, method, url, body)
        assert response.status_code in expected, (method, url, response.status_code)
        assert _is_error_shape(response), (url, response.content[:200])  # never data, never a file

    assert _state() == before


def test_a_read_only_token_is_refused_every_write(tenants, objects):
    client = _client(tenants, "read_only")
    before = _state()

    for method, url, body in _requests(tenants, objects):
        response = _send(client, method, url, body)
        if method == "get":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403 and response.json()["code"] == "token_scope_insufficient", url

    assert _state() == before


@pytest.mark.parametrize("who", ["peer", "pending"])
def test_other_users_lists_are_empty(tenants, objects, who):
    client = _client(tenants, who)

    for path in ("certificates/", "policy-applications/", "messages/"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 200 and response.json()["results"] == [], path
    checks = [row["checks"] for row in client.get(f"{API}policies/").json()["results"]]
    assert all(check["enterprise"] != tenants.enterprise_a.pk for rows in checks for check in rows)


def test_the_owner_reaches_every_endpoint_the_matrix_refuses(tenants, objects):
    client = _client(tenants, "owner")

    codes = [_send(client, method, url, body).status_code for method, url, body in _requests(tenants, objects)]

    # the loan application is refused at once (grade C) but recorded: 201 all the same
    assert codes == [200, 200, 200, 200, 200, 200, 200, 200, 201, 201, 200, 200, 200]
