"""PolicyApplicationFlow and the preferential-policy screens: the routes (not eligible → refused at
once; eligible → review → granted or refused; withdrawal cancels), the portal, the policy office
and the auditor's console, who may see what, bad input, and query counts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from viewflow.workflow.models import Process, Task

from approvals.organisation.roles import StaffRole
from core.exceptions import DomainError
from core.models import AuditEvent
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import (
    ApplicationStatus,
    ConstructionProject,
    Disbursement,
    EligibilityDecision,
    Policy,
    PolicyApplication,
    PolicyGrant,
)
from tests import factories
from tests.credit.ledger_helpers import append
from tests.credit.test_policy_services import make_policy, rewrite
from workflows.actions import policies as policy_actions
from workflows.policy_flows import PolicyApplicationFlow

pytestmark = pytest.mark.django_db

STATEMENT = "用于购置生产设备"


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def loan():  # type: ignore[no-untyped-def]
    """A published loan guarantee: grade B or better, cap 5 000 000 yuan, 36 months."""
    return make_policy("loan", kind="loan_guarantee")


@pytest.fixture
def subsidy():  # type: ignore[no-untyped-def]
    """A published interest subsidy: grade B or better, cap 200 000 yuan, 3 instalments."""
    return make_policy("subsidy", kind="interest_subsidy")


@pytest.fixture
def deposit():  # type: ignore[no-untyped-def]
    return make_policy("deposit", kind="deposit_waiver", conditions=[])


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.POLICY_OFFICE)


def apply(owner, enterprise, policy, amount="100000.00", months=12):  # type: ignore[no-untyped-def]
    return policy_actions.policy_apply_and_start(
        actor=owner,
        enterprise=enterprise,
        policy=policy,
        requested_amount=amount,
        requested_term_months=months,
        statement=STATEMENT,
    )


def make_ineligible(enterprise) -> None:  # type: ignore[no-untyped-def]
    append(enterprise, "admin_penalty")  # 65 points: grade C, below the policies' B


def process_of(application) -> Process:  # type: ignore[no-untyped-def]
    process = policy_actions.process_of(application)
    assert process is not None
    return process


def trail(process: Process) -> list[tuple[str, str]]:
    return [(task.flow_task.name, task.status) for task in Task.objects.filter(process=process).order_by("pk")]


def counts() -> tuple[int, int, int, int, int]:
    return (
        PolicyApplication.objects.count(),
        EligibilityDecision.objects.count(),
        Process.objects.filter(flow_class=PolicyApplicationFlow).count(),
        PolicyGrant.objects.count(),
        ConstructionProject.objects.count(),
    )


# --- the flow's routes ----------------------------------------------------------------------------


def test_ineligible_application_ends_at_once_with_nothing_granted(owner, enterprise, loan):
    # Given an enterprise of grade C and a policy for grade B or better
    make_ineligible(enterprise)
    # When it applies
    application = apply(owner, enterprise, loan)
    # Then it is refused at once, the process ended by the refused_ineligible end, nothing granted
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INELIGIBLE
    assert application.eligibility.reasons[0]["code"] == "grade_too_low"
    process = process_of(application)
    assert process.status == "DONE"
    assert trail(process) == [("start", "DONE"), ("check_eligible", "DONE"), ("refused_ineligible", "DONE")]
    assert not PolicyGrant.objects.exists()


def test_eligible_application_waits_for_review_then_approval_grants_and_pays_instalments(
    owner, enterprise, subsidy, office
):
    # Given an eligible enterprise's application
    application = apply(owner, enterprise, subsidy, amount="150000.00", months=12)
    assert application.status == ApplicationStatus.PENDING_REVIEW
    process = process_of(application)
    assert process.status == "NEW"
    assert trail(process)[-1] == ("review", "NEW")
    # When the policy office approves and records two instalments
    grant = policy_actions.policy_approve_and_route(
        actor=office, application=application, amount=Decimal("150000.00"), term_months=12
    )
    for amount in ("50000.00", "50000.00"):
        policy_services.disbursement_record(
            actor=office, grant=grant, amount=amount, paid_on=timezone.localdate(), reference="沈财拨-1"
        )
    # Then the process ended as granted and the grant carries both disbursements
    process.refresh_from_db()
    assert process.status == "DONE"
    assert trail(process)[-3:] == [("review", "DONE"), ("check_approved", "DONE"), ("granted", "DONE")]
    grant.refresh_from_db()
    assert grant.disbursed_total == Decimal("100000.00") and grant.remaining == Decimal("50000.00")
    assert list(grant.disbursements.values_list("number", flat=True)) == [1, 2]


def test_refusal_ends_the_process_refused(owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan)
    policy_actions.policy_refuse_and_route(actor=office, application=application, reason="未提供反担保")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REFUSED and application.decision_reason == "未提供反担保"
    assert trail(process_of(application))[-1] == ("refused", "DONE")
    assert not PolicyGrant.objects.exists()


def test_withdrawal_cancels_the_process(owner, enterprise, loan):
    application = apply(owner, enterprise, loan)
    policy_actions.policy_withdraw_and_cancel(actor=owner, application=application)
    application.refresh_from_db()
    process = process_of(application)
    assert application.status == ApplicationStatus.WITHDRAWN
    assert process.status == "CANCELED" and process.finished is not None
    assert trail(process)[-1] == ("review", "CANCELED")


def test_a_decided_application_cannot_be_decided_again_and_the_flow_stays_put(owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan)
    policy_actions.policy_approve_and_route(actor=office, application=application, amount="100000", term_months=12)
    with pytest.raises(DomainError) as caught:
        policy_actions.policy_refuse_and_route(actor=office, application=application, reason="再次决定")
    assert caught.value.code == "application_not_pending"
    with pytest.raises(DomainError) as caught:
        policy_actions.policy_withdraw_and_cancel(actor=owner, application=application)
    assert caught.value.code == "application_not_pending"
    assert trail(process_of(application))[-1] == ("granted", "DONE")
    assert PolicyGrant.objects.count() == 1


def test_a_refused_service_call_starts_no_process(owner, enterprise, loan):
    apply(owner, enterprise, loan)
    before = counts()
    with pytest.raises(DomainError) as caught:
        apply(owner, enterprise, loan)
    assert caught.value.code == "application_open"
    assert counts() == before


def test_an_approval_over_the_cap_leaves_the_task_open(owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan, amount=None, months=None)  # nothing requested: the cap limits
    with pytest.raises(DomainError) as caught:
        policy_actions.policy_approve_and_route(
            actor=office, application=application, amount="9000000.00", term_months=12
        )
    assert caught.value.code == "amount_over_cap"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW
    assert trail(process_of(application))[-1] == ("review", "NEW")


# --- the enterprise portal ------------------------------------------------------------------------


def test_reading_the_policy_list_writes_nothing(client, owner, enterprise, loan, subsidy, deposit):
    client.force_login(owner)
    response = client.get(reverse("policies:list"))
    assert response.status_code == 200
    assert not EligibilityDecision.objects.exists()
    body = response.content.decode()
    assert reverse("policies:check") in body
    assert all(check["decision"] is None for row in response.context["rows"] for check in row.checks)
    assert client.get(reverse("policies:check")).status_code == 405


def test_check_now_records_one_check_per_enterprise_and_policy(client, owner, enterprise, loan, subsidy, deposit):
    client.force_login(owner)
    response = client.post(reverse("policies:check"))
    assert response.status_code == 302 and response["Location"] == reverse("policies:list")
    checks = EligibilityDecision.objects.filter(purpose="policy_check", enterprise=enterprise)
    # a deposit waiver is decided per construction project, not checked here
    assert sorted(checks.values_list("rule_code", flat=True)) == ["loan", "subsidy"]
    assert set(checks.values_list("actor", flat=True)) == {owner.pk}
    assert {(d.source_type, d.source_id) for d in checks} == {("enterprise", str(enterprise.pk))}
    # the list shows the newest answer of each, without recording another
    page = client.get(reverse("policies:list"))
    shown = {check["decision"].pk for row in page.context["rows"] for check in row.checks}
    assert shown == set(checks.values_list("pk", flat=True))
    assert EligibilityDecision.objects.count() == 2
    client.post(reverse("policies:check"))
    newer = {
        check["decision"].pk for row in client.get(reverse("policies:list")).context["rows"] for check in row.checks
    }
    assert len(newer) == 2 and not newer & shown


def test_reasons_are_shown_in_english_and_the_page_renders_in_chinese(client, owner, enterprise, loan):
    make_ineligible(enterprise)
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    client.post(reverse("policies:check"))
    english = client.get(reverse("policies:list"))
    assert english["Content-Language"] == "en"
    body = english.content.decode()
    assert "Grade B or better is needed; the grade is C (score 65)." in body
    assert "What would change the answer" in body
    client.cookies["django_language"] = "zh-hans"
    client.post(reverse("policies:check"))
    chinese = client.get(reverse("policies:list"))
    assert chinese.status_code == 200 and chinese["Content-Language"] == "zh-hans"
    text = chinese.content.decode()
    assert "企业服务门户" in text and "Enterprise portal" not in text
    latest = EligibilityDecision.objects.filter(purpose="policy_check").latest("id")
    with override("zh-hans"):
        (reason,) = policy_selectors.decision_reason_texts(latest)
    assert reason in text  # in whatever the zh-hans catalogue says (English until it is translated)
    # both views were recorded and give the same answer
    assert list(EligibilityDecision.objects.filter(purpose="policy_check").values_list("eligible", flat=True)) == [
        False,
        False,
    ]


def test_applying_from_the_portal_starts_the_flow(client, owner, enterprise, loan):
    client.force_login(owner)
    url = reverse("policies:apply", args=[loan.pk])
    assert client.get(url, {"enterprise": enterprise.pk}).status_code == 200
    response = client.post(
        url,
        {"enterprise": enterprise.pk, "requested_amount": "2000000", "requested_term_months": "24", "statement": "x"},
    )
    application = PolicyApplication.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "policies:application", args=[application.pk]
    )
    assert application.status == ApplicationStatus.PENDING_REVIEW
    assert application.requested_amount == Decimal("2000000.00") and application.requested_term_months == 24
    assert trail(process_of(application))[-1] == ("review", "NEW")


def test_an_ineligible_portal_application_is_refused_with_its_reasons_shown(client, owner, enterprise, loan):
    make_ineligible(enterprise)
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    client.post(
        reverse("policies:apply", args=[loan.pk]),
        {"enterprise": enterprise.pk, "requested_amount": "1000", "requested_term_months": "6", "statement": "x"},
    )
    application = PolicyApplication.objects.get()
    assert application.status == ApplicationStatus.INELIGIBLE
    detail = client.get(reverse("policies:application", args=[application.pk])).content.decode()
    assert "Grade B or better is needed" in detail
    listing = client.get(reverse("policies:applications")).content.decode()
    assert "Grade B or better is needed" in listing


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"requested_amount": "6000000"}, "requested_amount", "amount_over_cap"),
        ({"requested_amount": "-5"}, "requested_amount", "min_value"),
        ({"requested_amount": "12.345"}, "requested_amount", "max_decimal_places"),
        ({"requested_term_months": "48"}, "requested_term_months", "term_over_max"),
        ({"requested_term_months": ""}, "requested_term_months", "required"),
        ({"statement": ""}, "statement", "required"),
        ({"enterprise": "999999"}, "enterprise", "invalid_choice"),
    ],
)
def test_bad_application_input_is_refused_with_400_and_nothing_written(
    client, owner, enterprise, loan, data, field, code
):
    client.force_login(owner)
    before = counts()
    post = {"enterprise": enterprise.pk, "requested_amount": "1000", "requested_term_months": "12", "statement": "x"}
    post.update(data)
    response = client.post(reverse("policies:apply", args=[loan.pk]), post)
    assert response.status_code == 400
    assert response.context["form"].has_error(field, code)
    assert counts() == before


def test_a_second_open_application_is_a_form_error(client, owner, enterprise, loan):
    apply(owner, enterprise, loan)
    client.force_login(owner)
    before = counts()
    response = client.post(
        reverse("policies:apply", args=[loan.pk]),
        {"enterprise": enterprise.pk, "requested_amount": "1000", "requested_term_months": "12", "statement": "x"},
    )
    assert response.status_code == 400 and response.context["form"].has_error("__all__", "application_open")
    assert counts() == before


def test_only_application_kinds_have_an_apply_page(client, owner, deposit):
    client.force_login(owner)
    assert client.get(reverse("policies:apply", args=[deposit.pk])).status_code == 404


def test_withdrawing_from_the_portal(client, owner, enterprise, loan):
    application = apply(owner, enterprise, loan)
    client.force_login(owner)
    response = client.post(reverse("policies:withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert process_of(application).status == "CANCELED"


def test_the_enterprise_sees_its_grant_and_disbursements(client, owner, enterprise, subsidy, office):
    application = apply(owner, enterprise, subsidy)
    grant = policy_actions.policy_approve_and_route(
        actor=office, application=application, amount="90000", term_months=12
    )
    policy_services.disbursement_record(
        actor=office, grant=grant, amount="30000", paid_on=timezone.localdate(), reference="PAY-7731"
    )
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("policies:application", args=[application.pk])).content.decode()
    assert "90,000.00" in body and "PAY-7731" in body
    assert "30,000.00" in client.get(reverse("policies:applications")).content.decode()


def test_registering_a_project_decides_its_deposit(client, owner, enterprise, deposit):
    client.force_login(owner)
    response = client.post(
        reverse("policies:project_register"),
        {
            "enterprise": enterprise.pk,
            "name": "浑南新区某住宅项目",
            "reference": "210112202601010001",
            "contract_amount": "50000000",
            "wage_deposit_base": "200000",
        },
    )
    project = ConstructionProject.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("policies:project", args=[project.pk])
    decision = EligibilityDecision.objects.get(purpose="deposit_waiver")
    assert decision.source_id == str(project.pk)
    assert (decision.deposit_tier, decision.deposit_amount) == ("reduced", Decimal("100000.00"))
    client.cookies["django_language"] = "en"
    body = client.get(reverse("policies:project", args=[project.pk])).content.decode()
    assert "100,000.00" in body and "Grade B: Reduced (50% of the wage-deposit base)." in body
    # deciding again records a second decision; the first stays on record
    client.post(reverse("policies:project_decide", args=[project.pk]))
    assert EligibilityDecision.objects.filter(purpose="deposit_waiver").count() == 2


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"wage_deposit_base": "60000000"}, "wage_deposit_base", "base_invalid"),
        ({"contract_amount": "0"}, "contract_amount", "min_value"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_bad_project_input_is_refused_with_400_and_nothing_written(
    client, owner, enterprise, deposit, data, field, code
):
    client.force_login(owner)
    before = counts()
    post = {"enterprise": enterprise.pk, "name": "项目", "contract_amount": "50000000", "wage_deposit_base": "200000"}
    post.update(data)
    response = client.post(reverse("policies:project_register"), post)
    assert response.status_code == 400 and response.context["form"].has_error(field, code)
    assert counts() == before


def test_without_a_deposit_policy_no_project_is_registered(client, owner, enterprise):
    client.force_login(owner)
    before = counts()
    response = client.post(
        reverse("policies:project_register"),
        {"enterprise": enterprise.pk, "name": "项目", "contract_amount": "50000000", "wage_deposit_base": "200000"},
    )
    assert response.status_code == 400 and response.context["form"].has_error("__all__", "no_deposit_policy")
    assert counts() == before


# --- the policy office ----------------------------------------------------------------------------


def test_the_queue_lists_pending_applications_oldest_first(client, office, loan, subsidy):
    first, second = factories.MembershipFactory(confirmed=True), factories.MembershipFactory(confirmed=True)
    older = apply(first.user, first.enterprise, loan)
    newer = apply(second.user, second.enterprise, subsidy)
    make_ineligible(second.enterprise)
    apply(second.user, second.enterprise, loan)  # refused at once: not in the queue
    client.force_login(office)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("policy_office:home"))
    assert [a.pk for a in response.context["page"]] == [older.pk, newer.pk]
    assert f"grade B, score {older.eligibility.score}" in response.content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert (
        f"信用等级 B 级，信用分 {older.eligibility.score}" in client.get(reverse("policy_office:home")).content.decode()
    )


def test_approving_on_the_review_page_grants_and_ends_the_flow(client, owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan, amount="3000000", months=24)
    client.force_login(office)
    url = reverse("policy_office:review", args=[application.pk])
    page = client.get(url)
    assert page.context["approve_form"].initial == {"amount": Decimal("3000000.00"), "term_months": 24}
    response = client.post(url, {"action": "approve", "approve-amount": "2500000", "approve-term_months": "24"})
    assert response.status_code == 302
    grant = PolicyGrant.objects.get()
    assert (grant.amount, grant.term_months, grant.granted_by) == (Decimal("2500000.00"), 24, office)
    assert trail(process_of(application))[-1] == ("granted", "DONE")


def test_refusing_on_the_review_page_needs_reasons(client, owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan)
    client.force_login(office)
    url = reverse("policy_office:review", args=[application.pk])
    response = client.post(url, {"action": "refuse", "refuse-reason": "  "})
    assert response.status_code == 400 and response.context["refuse_form"].has_error("reason", "required")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW
    response = client.post(url, {"action": "refuse", "refuse-reason": "担保额度超过净资产"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REFUSED
    assert trail(process_of(application))[-1] == ("refused", "DONE")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"approve-amount": "9000000"}, "amount", "amount_over_cap"),
        ({"approve-term_months": "60"}, "term_months", "term_over_max"),
        ({"approve-amount": "abc"}, "amount", "invalid"),
        ({"approve-term_months": "0"}, "term_months", "min_value"),
    ],
)
def test_bad_approval_input_is_refused_with_400_and_nothing_written(
    client, owner, enterprise, loan, office, data, field, code
):
    application = apply(owner, enterprise, loan, amount=None, months=None)  # nothing requested: the caps limit
    client.force_login(office)
    before = counts()
    post = {"action": "approve", "approve-amount": "1000", "approve-term_months": "12"}
    post.update(data)
    response = client.post(reverse("policy_office:review", args=[application.pk]), post)
    assert response.status_code == 400 and response.context["approve_form"].has_error(field, code)
    assert counts() == before
    assert trail(process_of(application))[-1] == ("review", "NEW")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"approve-amount": "100000.01"}, "amount", "amount_over_requested"),
        ({"approve-term_months": "13"}, "term_months", "term_over_requested"),
    ],
)
def test_an_approval_above_the_request_is_refused_with_400(client, owner, enterprise, loan, office, data, field, code):
    application = apply(owner, enterprise, loan)  # 100 000 yuan over 12 months requested
    client.force_login(office)
    before = counts()
    post = {"action": "approve", "approve-amount": "100000", "approve-term_months": "12"}
    post.update(data)
    response = client.post(reverse("policy_office:review", args=[application.pk]), post)
    assert response.status_code == 400 and response.context["approve_form"].has_error(field, code)
    assert counts() == before
    assert trail(process_of(application))[-1] == ("review", "NEW")


def test_recording_instalments_on_the_grant_page(client, owner, enterprise, subsidy, office):
    application = apply(owner, enterprise, subsidy)
    grant = policy_actions.policy_approve_and_route(
        actor=office, application=application, amount="90000", term_months=12
    )
    client.force_login(office)
    url = reverse("policy_office:grant", args=[grant.pk])
    today = timezone.localdate().isoformat()
    assert client.post(url, {"amount": "30000", "paid_on": today, "reference": "P-1"}).status_code == 302
    too_much = client.post(url, {"amount": "70000", "paid_on": today, "reference": "P-2"})
    assert too_much.status_code == 400 and too_much.context["form"].has_error("amount", "disbursement_exceeds_grant")
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    future = client.post(url, {"amount": "10", "paid_on": tomorrow, "reference": "P-3"})
    assert future.status_code == 400 and future.context["form"].has_error("paid_on", "paid_in_future")
    assert list(Disbursement.objects.values_list("reference", flat=True)) == ["P-1"]


def test_a_loan_guarantee_grant_has_nothing_to_disburse(client, owner, enterprise, loan, office):
    application = apply(owner, enterprise, loan)
    grant = policy_actions.policy_approve_and_route(actor=office, application=application, amount="1000", term_months=6)
    client.force_login(office)
    url = reverse("policy_office:grant", args=[grant.pk])
    assert client.get(url).context["form"] is None
    today = timezone.localdate().isoformat()
    assert client.post(url, {"amount": "10", "paid_on": today, "reference": "P"}).status_code == 302
    assert not Disbursement.objects.exists()


# --- the auditor ----------------------------------------------------------------------------------


def _decisions(owner, enterprise, loan):  # type: ignore[no-untyped-def]
    apply(owner, enterprise, loan)
    return EligibilityDecision.objects.get(purpose="policy_application")


def test_the_auditor_lists_filters_and_reads_decisions_and_every_read_is_logged(
    client, auditor, owner, enterprise, peer, peer_enterprise, loan
):
    mine = _decisions(owner, enterprise, loan)
    make_ineligible(peer_enterprise)
    apply(peer, peer_enterprise, loan)
    client.force_login(auditor)
    listing = client.get(reverse("audit_eligibility:list"), {"uscc": enterprise.uscc.lower()})
    assert [d.pk for d in listing.context["page"]] == [mine.pk]
    ineligible = client.get(reverse("audit_eligibility:list"), {"result": "ineligible"})
    assert [d.enterprise_id for d in ineligible.context["page"]] == [peer_enterprise.pk]
    purpose = client.get(reverse("audit_eligibility:list"), {"purpose": "deposit_waiver"})
    assert list(purpose.context["page"]) == []
    detail = client.get(reverse("audit_eligibility:decision", args=[mine.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert mine.input_digest in body and "min_grade" in body
    reads = AuditEvent.objects.filter(action="auditor.read", actor=auditor).order_by("id")
    assert [(r.object_type, r.object_id) for r in reads] == [
        ("credit.eligibilitydecision", "*"),
        ("credit.eligibilitydecision", "*"),
        ("credit.eligibilitydecision", "*"),
        ("credit.eligibilitydecision", str(mine.pk)),
    ]
    assert reads[0].data["uscc"] == enterprise.uscc


def test_the_replay_agrees_and_writes_only_its_audit_line(client, auditor, owner, enterprise, loan):
    decision = _decisions(owner, enterprise, loan)
    client.force_login(auditor)
    before = (AuditEvent.objects.count(), EligibilityDecision.objects.count())
    response = client.post(reverse("audit_eligibility:replay", args=[decision.pk]))
    assert response.status_code == 200
    assert response.context["replay"]["agrees"] is True and response.context["replay"]["checked"] == 1
    assert (AuditEvent.objects.count(), EligibilityDecision.objects.count()) == (before[0] + 1, before[1])
    line = AuditEvent.objects.latest("id")
    assert (line.action, line.object_id, line.data["all_agree"]) == ("auditor.read", str(decision.pk), True)


def test_the_replay_shows_a_tampered_decision(client, auditor, owner, enterprise, loan):
    decision = _decisions(owner, enterprise, loan)
    rewrite(EligibilityDecision, decision.pk, eligible=False)  # as the owner, behind the triggers
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("audit_eligibility:replay", args=[decision.pk]))
    assert response.context["replay"]["agrees"] is False
    assert [p["code"] for p in response.context["replay"]["problems"]] == [
        "audit_trail_mismatch",
        "stored_result_mismatch",
        "ledger_result_mismatch",
    ]
    assert "Replay: the decision does not agree" in response.content.decode()


def test_the_replay_is_post_only(client, auditor, owner, enterprise, loan):
    decision = _decisions(owner, enterprise, loan)
    client.force_login(auditor)
    assert client.get(reverse("audit_eligibility:replay", args=[decision.pk])).status_code == 405


# --- who may see what -----------------------------------------------------------------------------


def test_another_enterprise_gets_404_for_everything_of_ours(client, owner, enterprise, peer, loan, deposit):
    application = apply(owner, enterprise, loan)
    project = policy_services.construction_project_register(
        actor=owner, enterprise=enterprise, name="项目", contract_amount="1000", wage_deposit_base="10"
    )
    client.force_login(peer)
    assert client.get(reverse("policies:application", args=[application.pk])).status_code == 404
    assert client.post(reverse("policies:withdraw", args=[application.pk])).status_code == 404
    assert client.get(reverse("policies:project", args=[project.pk])).status_code == 404
    assert client.post(reverse("policies:project_decide", args=[project.pk])).status_code == 404
    assert application not in client.get(reverse("policies:applications")).context["page"]
    assert project not in client.get(reverse("policies:projects")).context["page"]
    # applying in another enterprise's name is a form error, never an application
    response = client.post(
        reverse("policies:apply", args=[loan.pk]),
        {"enterprise": enterprise.pk, "requested_amount": "1", "requested_term_months": "1", "statement": "x"},
    )
    assert response.status_code == 400
    assert PolicyApplication.objects.count() == 1
    # the peer's check covers only the peer's enterprise
    client.post(reverse("policies:check"))
    checked = set(EligibilityDecision.objects.filter(purpose="policy_check").values_list("enterprise_id", flat=True))
    assert enterprise.pk not in checked
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW


def test_staff_outside_the_policy_office_get_404(client, owner, enterprise, loan, auditor):
    application = apply(owner, enterprise, loan)
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    credit_office = factories.staff_with_role(StaffRole.CREDIT_OFFICE)
    for user in (reviewer, credit_office, auditor, owner):
        client.force_login(user)
        for name, args in (
            ("policy_office:home", []),
            ("policy_office:review", [application.pk]),
            ("policy_office:grants", []),
            ("policy_office:projects", []),
        ):
            assert client.get(reverse(name, args=args)).status_code == 404, (user, name)
        response = client.post(
            reverse("policy_office:review", args=[application.pk]),
            {"action": "refuse", "refuse-reason": "x"},
        )
        assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW


def test_non_auditors_get_404_on_the_eligibility_console(client, owner, enterprise, loan, office):
    decision = _decisions(owner, enterprise, loan)
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    for user in (owner, office, reviewer):
        client.force_login(user)
        assert client.get(reverse("audit_eligibility:list")).status_code == 404
        assert client.get(reverse("audit_eligibility:decision", args=[decision.pk])).status_code == 404
        assert client.post(reverse("audit_eligibility:replay", args=[decision.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="auditor.read").exists()


def test_staff_get_404_in_the_portal(client, office, auditor):
    for user in (office, auditor):
        client.force_login(user)
        assert client.get(reverse("policies:list")).status_code == 404
        assert client.get(reverse("policies:applications")).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client):
    for name in ("policies:list", "policy_office:home", "audit_eligibility:list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _cases(owner, enterprise, other, loan, subsidy, office, n: int) -> None:  # type: ignore[no-untyped-def]
    """n granted subsidies with a disbursement, n refused guarantees, n applications refused at once."""
    for _ in range(n):
        application = apply(owner, enterprise, subsidy, amount="1000")
        grant = policy_actions.policy_approve_and_route(
            actor=office, application=application, amount="1000", term_months=6
        )
        policy_services.disbursement_record(
            actor=office, grant=grant, amount="100", paid_on=timezone.localdate(), reference="P"
        )
        refused = apply(owner, enterprise, loan)
        policy_actions.policy_refuse_and_route(actor=office, application=refused, reason="不予批准")
        apply(owner, other, loan)


def test_list_pages_cost_the_same_queries_with_more_data(
    client, owner, enterprise, loan, subsidy, deposit, office, auditor
):
    other = factories.EnterpriseFactory()
    factories.MembershipFactory(user=owner, enterprise=other, confirmed=True)
    make_ineligible(other)
    portal_urls = [reverse("policies:applications"), reverse("policies:projects"), reverse("policies:list")]
    office_urls = [reverse("policy_office:home"), reverse("policy_office:grants"), reverse("policy_office:projects")]
    audit_urls = [reverse("audit_eligibility:list")]

    def measure() -> list[int]:
        result = []
        for user, urls in ((owner, portal_urls), (office, office_urls), (auditor, audit_urls)):
            client.force_login(user)
            result.extend(_queries(client, url) for url in urls)
        return result

    def grow(n: int) -> None:
        _cases(owner, enterprise, other, loan, subsidy, office, n)
        for number in range(n):
            project = policy_services.construction_project_register(
                actor=owner, enterprise=enterprise, name=f"项目{number}", contract_amount="1000", wage_deposit_base="10"
            )
            policy_services.deposit_waiver_decide(actor=owner, project=project)
            peer = factories.MembershipFactory(confirmed=True)
            apply(peer.user, peer.enterprise, loan)  # one more in the office's queue
        for _ in range(n):
            append(enterprise, "inspection_passed")

    grow(1)
    few = measure()
    grow(6)
    many = measure()
    assert many == few


def test_only_the_policies_item_is_current_on_the_policy_pages(client, owner):
    client.force_login(owner)
    items = client.get(reverse("policies:list")).context["nav_items"]
    assert [item["key"] for item in items if item["active"]] == ["policies"]


# --- the demo ---------------------------------------------------------------------------------------


def test_seed_demo_policies_plays_every_state_once_and_says_so_on_a_rerun():
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    fast_track = Policy.objects.filter(kind="fast_track").count()  # another command's
    first = StringIO()
    call_command("seed_demo_policies", stdout=first)
    assert "[policies 3/3]" in first.getvalue()
    statuses = dict(PolicyApplication.objects.values_list("status", "enterprise__name").order_by())
    assert set(statuses) == {"ineligible", "pending_review", "approved", "refused", "withdrawn"}
    assert statuses["ineligible"] == "沈阳新松食品有限公司"
    for application in PolicyApplication.objects.all():
        assert policy_actions.process_of(application) is not None
    grant = PolicyGrant.objects.get()
    assert grant.disbursements.count() == 2
    tiers = dict(
        EligibilityDecision.objects.filter(purpose="deposit_waiver").values_list("enterprise__name", "deposit_tier")
    )
    assert tiers == {"辽宁盛京建设工程有限公司": "reduced", "沈阳北方智能装备有限公司": "exempt"}
    assert Policy.objects.filter(kind="fast_track").count() == fast_track
    assert policy_selectors.eligibility_replay().all_agree
    before = counts()
    again = StringIO()
    call_command("seed_demo_policies", stdout=again)
    assert "nothing changed" in again.getvalue()
    assert counts() == before
