"""Preferential policies on the API: the list reads the recorded answers and writes nothing; asking
records an eligibility decision exactly as the portal's "check now" does; applications are
submitted (idempotent by key) and withdrawn through the portal's action, with its form's checks."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from credit.policies import services as policy_services
from credit.policies.models import ApplicationStatus, EligibilityDecision, PolicyApplication
from tests.credit.ledger_helpers import append
from tests.credit.test_policy_services import make_policy
from tests.web.api.conftest import bearer, token_for
from workflows.actions import policies as policy_actions

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/enterprise/policies/"
APPLICATIONS = "/api/v1/enterprise/policy-applications/"


@pytest.fixture
def loan():
    return make_policy("loan", kind="loan_guarantee")


@pytest.fixture
def deposit():
    return make_policy("deposit", kind="deposit_waiver", conditions=[])


@pytest.fixture
def client(tenants):
    return bearer(token_for(tenants.owner, "write"))


def _apply_body(tenants, **extra):
    return {
        "policy": "loan",
        "enterprise": tenants.enterprise_a.pk,
        "requested_amount": "1000000.00",
        "requested_term_months": 24,
        "statement": "用于购置生产设备",
        **extra,
    }


def test_the_list_shows_each_policy_and_records_nothing(client, tenants, loan, deposit):
    response = client.get(POLICIES)

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert set(rows) == {"loan", "deposit"}
    assert rows["loan"]["applicable"] is True and rows["loan"]["conditions"] and rows["loan"]["benefits"]
    assert rows["loan"]["checks"] == [
        {
            "enterprise": tenants.enterprise_a.pk,
            "enterprise_name": tenants.enterprise_a.name,
            "decision": None,
            "open_application": None,
        }
    ]
    assert rows["deposit"]["checks"] == []  # decided per construction project
    assert not EligibilityDecision.objects.exists()


def test_asking_records_the_decision_the_portal_records(client, tenants, loan):
    append(tenants.enterprise_a, "admin_penalty")  # grade C: below the policy's B

    asked = client.post(f"{POLICIES}loan/eligibility/", {"enterprise": tenants.enterprise_a.pk}, format="json")

    assert asked.status_code == 201, asked.json()
    body = asked.json()
    decision = EligibilityDecision.objects.get()
    assert body["id"] == decision.pk and body["eligible"] is False and body["grade"] == "C"
    assert (decision.purpose, decision.source_type, decision.source_id) == (
        "policy_check",
        "enterprise",
        str(tenants.enterprise_a.pk),
    )
    assert decision.actor == tenants.owner
    assert [reason["code"] for reason in body["reasons"]] == [r["code"] for r in decision.reasons]
    assert body["reasons"][0]["text"] and body["hints"] and body["hints"][0]["text"]
    assert AuditEvent.objects.filter(action="credit.eligibility_decided", object_id=str(decision.pk)).exists()
    # the list now shows it, as the portal's list shows the newest recorded answer
    listed = client.get(f"{POLICIES}loan/").json()["checks"][0]["decision"]
    assert listed == body


def test_check_all_is_the_portals_check_now(client, tenants, loan, deposit):
    response = client.post(f"{POLICIES}eligibility/", format="json")

    assert response.status_code == 201
    [decision] = response.json()
    assert decision["policy"] == "loan" and decision["eligible"] is True
    assert EligibilityDecision.objects.filter(purpose="policy_check").count() == 1


def test_eligibility_refusals(client, tenants, loan, deposit):
    other = client.post(f"{POLICIES}loan/eligibility/", {"enterprise": tenants.enterprise_b.pk}, format="json")
    unknown = client.post(f"{POLICIES}nope/eligibility/", {"enterprise": tenants.enterprise_a.pk}, format="json")
    waiver = client.post(f"{POLICIES}deposit/eligibility/", {"enterprise": tenants.enterprise_a.pk}, format="json")
    shapeless = client.post(f"{POLICIES}loan/eligibility/", {}, format="json")
    read_only = bearer(token_for(tenants.owner, "read")).post(
        f"{POLICIES}loan/eligibility/", {"enterprise": tenants.enterprise_a.pk}, format="json"
    )

    assert other.status_code == 404 and unknown.status_code == 404
    assert waiver.status_code == 422 and waiver.json()["code"] == "policy_kind_not_applicable"
    assert shapeless.status_code == 400 and "enterprise" in shapeless.json()["fields"]
    assert read_only.status_code == 403 and read_only.json()["code"] == "token_scope_insufficient"
    assert not EligibilityDecision.objects.exists()


def test_apply_list_detail_and_withdraw(client, tenants, loan):
    submitted = client.post(APPLICATIONS, _apply_body(tenants), format="json", HTTP_IDEMPOTENCY_KEY="apply-0001")

    assert submitted.status_code == 201, submitted.json()
    body = submitted.json()
    application = PolicyApplication.objects.get()
    assert body["id"] == application.pk and body["status"] == ApplicationStatus.PENDING_REVIEW
    assert body["requested_amount"] == "1000000.00" and body["policy"] == "loan"
    assert body["eligibility"]["eligible"] is True and body["eligibility"]["id"] == application.eligibility_id
    assert body["review_due_on"] and body["grant"] is None
    assert policy_actions.process_of(application) is not None  # the portal's action started its process
    assert client.get(APPLICATIONS).json()["results"] == [body]
    assert client.get(f"{APPLICATIONS}{application.pk}/").json() == body
    assert client.get(POLICIES).json()["results"][0]["checks"][0]["open_application"] == application.pk

    withdrawn = client.post(f"{APPLICATIONS}{application.pk}/withdraw/", format="json")
    again = client.post(f"{APPLICATIONS}{application.pk}/withdraw/", format="json")

    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == ApplicationStatus.WITHDRAWN
    assert again.status_code == 422 and again.json()["code"] == "application_not_pending"
    assert client.get(APPLICATIONS, {"status": "withdrawn"}).json()["results"][0]["id"] == application.pk
    assert client.get(APPLICATIONS, {"status": "pending_review"}).json()["results"] == []


def test_apply_replays_the_same_key_and_refuses_it_for_another_body(client, tenants, loan):
    first = client.post(APPLICATIONS, _apply_body(tenants), format="json", HTTP_IDEMPOTENCY_KEY="apply-0002")
    again = client.post(APPLICATIONS, _apply_body(tenants), format="json", HTTP_IDEMPOTENCY_KEY="apply-0002")
    other = client.post(
        APPLICATIONS, _apply_body(tenants, statement="另一个"), format="json", HTTP_IDEMPOTENCY_KEY="apply-0002"
    )
    missing = client.post(APPLICATIONS, _apply_body(tenants), format="json")

    assert first.status_code == 201 and again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    assert PolicyApplication.objects.count() == 1
    # a second application with a fresh key: one open application per enterprise and policy
    twin = client.post(APPLICATIONS, _apply_body(tenants), format="json", HTTP_IDEMPOTENCY_KEY="apply-0003")
    assert twin.status_code == 422 and twin.json()["code"] == "application_open"


def test_an_ineligible_enterprise_is_refused_at_once_with_the_reasons(client, tenants, loan):
    append(tenants.enterprise_a, "admin_penalty")

    response = client.post(APPLICATIONS, _apply_body(tenants), format="json", HTTP_IDEMPOTENCY_KEY="apply-0004")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == ApplicationStatus.INELIGIBLE and body["eligibility"]["eligible"] is False
    assert body["eligibility"]["reasons"] and body["eligibility"]["hints"]


def test_apply_refusals_write_nothing(client, tenants, loan, deposit):
    over_cap = client.post(
        APPLICATIONS,
        _apply_body(tenants, requested_amount="9000000.00"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-000005",
    )
    too_long = client.post(
        APPLICATIONS, _apply_body(tenants, requested_term_months=48), format="json", HTTP_IDEMPOTENCY_KEY="k-000006"
    )
    foreign = client.post(
        APPLICATIONS,
        _apply_body(tenants, enterprise=tenants.enterprise_b.pk),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-000007",
    )
    waiver = client.post(
        APPLICATIONS, _apply_body(tenants, policy="deposit"), format="json", HTTP_IDEMPOTENCY_KEY="k-000008"
    )
    shapeless = client.post(APPLICATIONS, {"policy": "loan"}, format="json", HTTP_IDEMPOTENCY_KEY="k-000009")

    assert over_cap.status_code == 400 and "requested_amount" in over_cap.json()["fields"]
    assert too_long.status_code == 400 and "requested_term_months" in too_long.json()["fields"]
    assert foreign.status_code == 404 and waiver.status_code == 404
    assert shapeless.status_code == 400 and {"enterprise", "statement"} <= set(shapeless.json()["fields"])
    assert not PolicyApplication.objects.exists() and not EligibilityDecision.objects.exists()


def test_a_granted_application_shows_its_grant(client, tenants, loan):
    from approvals.organisation.roles import StaffRole
    from tests import factories

    application = policy_actions.policy_apply_and_start(
        actor=tenants.owner,
        enterprise=tenants.enterprise_a,
        policy=loan,
        requested_amount="100000.00",
        requested_term_months=12,
        statement="设备",
    )
    office = factories.staff_with_role(StaffRole.POLICY_OFFICE)
    policy_actions.policy_approve_and_route(actor=office, application=application, amount="80000.00", term_months=12)

    body = client.get(f"{APPLICATIONS}{application.pk}/").json()

    assert body["status"] == ApplicationStatus.APPROVED
    assert body["grant"]["amount"] == "80000.00" and body["grant"]["term_months"] == 12
    assert body["grant"]["disbursements"] == []


def test_policy_application_list_in_constant_queries(client, tenants, django_assert_max_num_queries):
    for index in range(4):
        policy = make_policy(f"loan{index}", kind="loan_guarantee")
        policy_services.policy_application_submit(
            actor=tenants.owner, enterprise=tenants.enterprise_a, policy=policy, requested_amount="1000.00"
        )
    with django_assert_max_num_queries(12):
        assert len(client.get(APPLICATIONS).json()["results"]) == 4


def test_policy_list_in_constant_queries(client, tenants, django_assert_max_num_queries):
    for index in range(4):
        make_policy(f"p{index}", kind="loan_guarantee")
    client.post(f"{POLICIES}eligibility/", format="json")

    with django_assert_max_num_queries(12):
        rows = client.get(POLICIES).json()["results"]

    assert len(rows) == 4 and all(row["checks"][0]["decision"] for row in rows)
