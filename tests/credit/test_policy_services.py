"""Policies and eligibility decisions through the services: decisions recorded with their inputs,
the commitment route, the catalogue's versions, applications, grants, disbursements, the §35
deposit, fast track, and the replay (service and command)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from core.exceptions import DomainError
from core.models import AuditEvent
from credit.ledger.models import LedgerEntry
from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import (
    ApplicationStatus,
    Disbursement,
    EligibilityDecision,
    Policy,
    PolicyApplication,
    PolicyGrant,
    PolicyVersion,
    PolicyVersionStatus,
)
from tests import factories
from tests.credit.ledger_helpers import append

pytestmark = pytest.mark.django_db

DEPOSIT_RATES = {"A": "0", "B": "0.5", "C": "1", "D": "1"}


# --- helpers ----------------------------------------------------------------------------------------


def make_policy(
    code: str = "loan_guarantee_2026",
    *,
    kind: str = "loan_guarantee",
    conditions: list[dict] | None = None,
    benefits: dict | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    publish: bool = True,
) -> Policy:
    """A policy (by the system actor) with its version 1 published."""
    if benefits is None:
        benefits = {
            "loan_guarantee": {"guarantee_cap": "5000000.00", "max_term_months": 36},
            "interest_subsidy": {"subsidy_rate": "0.5", "max_amount": "200000.00", "instalments": 3},
            "deposit_waiver": {"deposit_rates": DEPOSIT_RATES, "wage_arrears_full_within_months": 24},
            "fast_track": {"item_codes": ["SY-001"], "privileges": {"promised_days_reduction": 3}},
        }[kind]
    policy = policy_services.policy_create(
        actor=None,
        code=code,
        name="沈阳市中小企业贷款担保",
        kind=kind,
        legal_basis="《沈阳市促进中小企业发展条例》第二十条",
        valid_from=valid_from or datetime.date(2026, 1, 1),
        valid_until=valid_until,
        conditions=[{"type": "min_grade", "grade": "B"}] if conditions is None else conditions,
        benefits=benefits,
    )
    if publish:
        policy_services.policy_version_publish(actor=None, version=policy.versions.get(number=1))
    return policy


def check(enterprise, min_grade: str = "B", **kwargs) -> EligibilityDecision:  # type: ignore[no-untyped-def]
    return policy_services.commitment_eligibility_check(
        actor=None,
        enterprise=enterprise,
        min_grade=min_grade,
        source_type="application",
        source_id=kwargs.pop("source_id", "application:1"),
        **kwargs,
    )


def codes(issues: list[dict]) -> list[str]:
    return [issue["code"] for issue in issues]


def error_code(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


@contextmanager
def append_only_bypassed() -> Iterator[None]:
    """What only the database owner can do: write behind the append-only triggers, inside the
    test's transaction. PostgreSQL: as the session's superuser with ``session_replication_role =
    replica`` (every trigger off), as the ledger tamper suite does. SQLite, which has no such
    switch: every trigger dropped and recreated from its stored SQL afterwards. Tamper tests use it
    to play a forger with the owner's rights."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_user, session_user")
            current, session = cursor.fetchone()
            cursor.execute("SET LOCAL ROLE NONE")
            cursor.execute("SET LOCAL session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET LOCAL session_replication_role = origin")
                if current != session:
                    cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(current)}")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            try:
                yield
            finally:
                for _name, sql in triggers:
                    cursor.execute(sql)


def rewrite(model: Any, pk: int, **fields: Any) -> None:
    """An owner-level UPDATE of one row of an append-only table (see ``append_only_bypassed``)."""
    with append_only_bypassed():
        assert model.objects.filter(pk=pk).update(**fields) == 1


@pytest.fixture
def policy_office():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("policy_office")


@pytest.fixture
def superuser():  # type: ignore[no-untyped-def]
    return factories.UserFactory(staff=True, is_superuser=True, is_staff=True)


# --- decisions are records ------------------------------------------------------------------------


def test_commitment_check_records_the_decision_with_all_its_inputs(enterprise):
    # Given an enterprise with one penalty
    entry = append(enterprise, "admin_penalty")
    audits = AuditEvent.objects.count()
    # When the commitment route is checked for grade C
    decision = check(enterprise, "C")
    # Then it is eligible and recorded with its inputs
    decision = EligibilityDecision.objects.get(pk=decision.pk)
    assert decision.eligible and decision.reasons == [] and decision.purpose == "commitment_route"
    assert (decision.grade, decision.score, decision.score_rule_version) == ("C", 65, "2026.1")
    assert decision.policy_version is None
    assert (decision.rule_code, decision.rule_version) == ("commitment_route", policies.COMMITMENT_RULE_VERSION)
    assert decision.rule_snapshot == policies.commitment_rule("C")
    assert decision.known_through_seq == entry.seq
    assert [f["seq"] for f in decision.facts] == [entry.seq]
    assert decision.facts[0]["entry_hash"] == entry.entry_hash
    assert decision.facts[0]["points"] == -15 and decision.facts[0]["tier"] == "general"
    assert (decision.source_type, decision.source_id) == ("application", "application:1")
    assert decision.input_digest == policies.digest(policy_selectors.decision_inputs_document(decision))
    assert AuditEvent.objects.count() == audits + 1
    event = AuditEvent.objects.filter(action="credit.eligibility_decided").get()
    assert event.object_id == str(decision.pk) and event.data["eligible"] is True


def test_a_decision_is_append_only(enterprise):
    decision = check(enterprise)
    decision.eligible = False
    with pytest.raises(ValueError, match="append-only"):
        decision.save()
    with pytest.raises(ValueError, match="append-only"):
        decision.delete()


def test_grade_too_low(enterprise):
    append(enterprise, "admin_penalty")  # 65: C
    decision = check(enterprise, "B")
    assert not decision.eligible and codes(decision.reasons) == ["grade_too_low"]
    assert decision.reasons[0]["params"] == {"required": "B", "grade": "C", "score": 65}
    assert "score_points_needed" in codes(decision.hints) and "entry_stops_counting" in codes(decision.hints)


def test_serious_entry_active(enterprise):
    append(enterprise, "serious_violation")
    decision = check(enterprise, "D")
    assert not decision.eligible and codes(decision.reasons) == ["serious_entry_active"]


def test_false_commitment_unrepaired(enterprise):
    append(enterprise, "false_commitment")
    decision = check(enterprise, "D")
    assert codes(decision.reasons) == ["serious_entry_active", "false_commitment_unrepaired"]


@pytest.mark.parametrize("correction", ["repair", "reversal"])
def test_repaired_or_reversed_false_commitment_is_eligible(enterprise, correction):
    entry = append(enterprise, "false_commitment", days_ago=400)
    append(enterprise, correction, days_ago=0, reverses=entry)
    decision = check(enterprise, "B")
    assert decision.eligible and decision.grade == "B"
    assert len(decision.facts) == 2


def test_reasons_and_hints_render_as_text_in_the_current_language(enterprise):
    entry = append(enterprise, "false_commitment")
    decision = check(enterprise, "B")
    with override("en"):
        reasons = policy_selectors.decision_reason_texts(decision)
        hints = policy_selectors.decision_hint_texts(decision)
    assert len(reasons) == len(decision.reasons) == 3
    assert len(hints) == len(decision.hints) and hints
    assert all(f"#{entry.seq}" in text for text in reasons[1:])
    assert not any(text in policies.REASON_CODES for text in reasons)  # every code has its message
    assert not any(text in policies.HINT_CODES for text in hints)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"min_grade": "E"}, "min_grade_invalid"),
        ({"source_id": "  "}, "source_required"),
        ({"as_of": timezone.now() + datetime.timedelta(hours=1)}, "as_of_in_future"),
        ({"as_of": datetime.datetime(2026, 1, 1)}, "as_of_invalid"),
    ],
)
def test_bad_input_writes_nothing(enterprise, kwargs, code):
    audits = AuditEvent.objects.count()
    min_grade = kwargs.pop("min_grade", "B")
    assert error_code(lambda: check(enterprise, min_grade, **kwargs)) == code
    assert not EligibilityDecision.objects.exists() and AuditEvent.objects.count() == audits


def test_as_of_a_past_instant_uses_what_the_ledger_knew_then(enterprise):
    append(enterprise, "admin_penalty")
    before = timezone.now()
    append(enterprise, "serious_violation", days_ago=30)  # back-dated, recorded after `before`
    past = check(enterprise, "C", as_of=before)
    now = check(enterprise, "C")
    assert past.eligible and [f["kind_code"] for f in past.facts] == ["admin_penalty"]
    assert not now.eligible and codes(now.reasons) == ["grade_too_low", "serious_entry_active"]
    assert policy_selectors.eligibility_replay().all_agree


def test_the_check_is_a_few_queries_whatever_the_number_of_entries(enterprise, django_assert_max_num_queries):
    append(enterprise, "admin_penalty")
    with django_assert_max_num_queries(6) as few:
        check(enterprise)
    for _ in range(20):
        append(enterprise, "penalty_simplified")
    with django_assert_max_num_queries(len(few.captured_queries)):
        check(enterprise)


# --- the catalogue ----------------------------------------------------------------------------------


def test_publish_freezes_a_version_and_supersedes_the_previous(superuser):
    policy = make_policy(publish=False)
    draft = policy.versions.get()
    assert draft.status == PolicyVersionStatus.DRAFT
    v1 = policy_services.policy_version_publish(actor=superuser, version=draft)
    assert v1.status == PolicyVersionStatus.PUBLISHED and v1.content_digest == policies.digest(v1.content())
    v2 = policy_services.policy_version_draft_create(actor=superuser, policy=policy, from_version=v1)
    assert (v2.number, v2.conditions, v2.benefits) == (2, v1.conditions, v1.benefits)
    policy_services.policy_version_draft_update(
        actor=superuser, version=v2, conditions=[{"type": "min_grade", "grade": "A"}], benefits=v1.benefits
    )
    policy_services.policy_version_publish(actor=superuser, version=v2)
    v1.refresh_from_db()
    assert v1.status == PolicyVersionStatus.SUPERSEDED and v1.superseded_at is not None
    assert policy_selectors.policy_version_published(policy=policy).number == 2
    assert AuditEvent.objects.filter(action="credit.policy_published").count() == 2


def test_a_published_version_is_never_edited(superuser):
    policy = make_policy()
    published = policy.versions.get()
    published.conditions = []
    with pytest.raises(ValueError, match="never edited"):
        published.save()
    assert (
        error_code(
            lambda: policy_services.policy_version_draft_update(
                actor=superuser, version=published, conditions=[], benefits={}
            )
        )
        == "version_not_draft"
    )
    assert error_code(lambda: policy_services.policy_version_publish(actor=None, version=published)) == (
        "version_not_draft"
    )
    assert PolicyVersion.objects.get(pk=published.pk).conditions == [{"type": "min_grade", "grade": "B"}]


def test_one_draft_and_one_published_version_per_policy():
    policy = make_policy()
    policy_services.policy_version_draft_create(actor=None, policy=policy)
    assert error_code(lambda: policy_services.policy_version_draft_create(actor=None, policy=policy)) == "draft_exists"
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            policy=policy, number=9, status="published", published_at=timezone.now(), content_digest="0" * 64
        )


def test_invalid_rules_are_refused_and_nothing_is_written():
    count = Policy.objects.count()
    code = error_code(lambda: make_policy(conditions=[{"type": "min_grade", "grade": "Z"}]))
    assert code == "conditions_invalid" and Policy.objects.count() == count
    assert error_code(lambda: make_policy("fast", kind="fast_track", benefits={"item_codes": []})) == (
        "benefits_invalid"
    )
    policy = make_policy(publish=False)
    draft = policy.versions.get()
    assert (
        error_code(
            lambda: policy_services.policy_version_draft_update(
                actor=None, version=draft, conditions=[{"type": "nope"}], benefits={}
            )
        )
        == "conditions_invalid"
    )


def test_catalogue_changes_need_the_permissions(administrator):
    # The system actor (None) may; an administrator may; any other staff member may not.
    from approvals.organisation.roles import StaffRole
    from tests import factories

    assert make_policy().versions.get().status == PolicyVersionStatus.PUBLISHED
    values = {
        "name": "x",
        "kind": "loan_guarantee",
        "legal_basis": "x",
        "valid_from": datetime.date(2026, 1, 1),
    }
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    assert error_code(lambda: policy_services.policy_create(actor=reviewer, code="x", **values)) == "not_authorised"
    created = policy_services.policy_create(actor=administrator, code="y", **values)
    assert created.versions.get().status == PolicyVersionStatus.DRAFT


def test_a_rule_version_published_after_a_decision_leaves_it_unchanged(enterprise, superuser):
    # Given a decision under version 1 (grade B suffices)
    policy = make_policy()
    first = policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id=str(enterprise.pk)
    )
    assert first.eligible and first.policy_version.number == 1
    stored = EligibilityDecision.objects.filter(pk=first.pk).values().get()
    # When version 2 demands grade A
    v2 = policy_services.policy_version_draft_create(actor=superuser, policy=policy)
    policy_services.policy_version_draft_update(
        actor=superuser, version=v2, conditions=[{"type": "min_grade", "grade": "A"}], benefits=v2.benefits
    )
    policy_services.policy_version_publish(actor=superuser, version=v2)
    # Then the old decision is unchanged and still replays; a new check uses version 2
    assert EligibilityDecision.objects.filter(pk=first.pk).values().get() == stored
    second = policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id=str(enterprise.pk)
    )
    assert not second.eligible and second.policy_version.number == 2 and second.rule_version == "2"
    report = policy_selectors.eligibility_replay()
    assert report.checked == 2 and report.all_agree


def test_policy_not_in_force_is_a_reason(enterprise):
    today = timezone.localdate()
    policy = make_policy(valid_from=today - datetime.timedelta(days=30), valid_until=today - datetime.timedelta(days=1))
    decision = policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id="1"
    )
    assert not decision.eligible and codes(decision.reasons) == ["policy_not_in_force"]


@pytest.mark.parametrize(
    "changes",
    [
        {"valid_until": datetime.date(2026, 6, 30)},
        {"valid_from": datetime.date(2025, 1, 1)},
        {"valid_from": datetime.date(2026, 2, 1), "valid_until": datetime.date(2027, 1, 31)},
    ],
)
def test_the_in_force_period_is_locked_once_a_version_is_published(superuser, changes):
    # Given a policy whose version 1 is published (in force from 2026-01-01, no end)
    policy = make_policy()
    audits = AuditEvent.objects.count()
    # When its period is changed
    code = error_code(lambda: policy_services.policy_update(actor=superuser, policy=policy, **changes))
    # Then it is refused and nothing is written
    assert code == "validity_locked"
    policy.refresh_from_db()
    assert (policy.valid_from, policy.valid_until) == (datetime.date(2026, 1, 1), None)
    assert AuditEvent.objects.count() == audits


def test_other_catalogue_data_still_changes_after_publication(superuser):
    # Given a published policy whose version 2 is a draft
    policy = make_policy()
    policy_services.policy_version_draft_create(actor=superuser, policy=policy)
    # When its name changes, the period given unchanged (as a form resubmits it)
    updated = policy_services.policy_update(
        actor=superuser, policy=policy, name="新名称", valid_from=datetime.date(2026, 1, 1), valid_until=None
    )
    # Then the change is made
    assert Policy.objects.get(pk=policy.pk).name == updated.name == "新名称"
    # and the period still may not
    assert (
        error_code(
            lambda: policy_services.policy_update(
                actor=superuser, policy=policy, valid_until=datetime.date(2026, 12, 31)
            )
        )
        == "validity_locked"
    )


def test_the_in_force_period_of_an_unpublished_policy_may_change(superuser, enterprise):
    # Given a policy with a draft only
    policy = make_policy(publish=False)
    end = timezone.localdate() - datetime.timedelta(days=1)
    # When its period is changed, then published
    policy_services.policy_update(actor=superuser, policy=policy, valid_until=end)
    policy_services.policy_version_publish(actor=superuser, version=policy.versions.get())
    # Then decisions are taken with the new period
    decision = policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id="1"
    )
    assert decision.rule_snapshot["valid_until"] == end.isoformat()
    assert codes(decision.reasons) == ["policy_not_in_force"]
    assert policy_selectors.eligibility_replay().all_agree


def test_an_in_force_period_changed_behind_the_services_back_fails_the_replay(enterprise):
    # Given a decision under a policy in force without end
    policy = make_policy()
    decision = policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id="1"
    )
    assert policy_selectors.eligibility_replay().all_agree
    # When the period is changed in the database, not by the service
    Policy.objects.filter(pk=policy.pk).update(valid_until=datetime.date(2026, 1, 31))
    # Then the replay no longer agrees: the rule evaluated is not the policy's
    report = policy_selectors.eligibility_replay(decision_ids=[decision.pk])
    assert [(p.code, p.detail) for m in report.mismatches for p in m.problems] == [
        ("rule_snapshot_mismatch", "in-force period")
    ]


def test_a_policy_without_published_version_cannot_be_checked(enterprise):
    policy = make_policy(publish=False)
    assert (
        error_code(
            lambda: policy_services.policy_eligibility_check(
                actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id="1"
            )
        )
        == "policy_not_published"
    )


# --- applications, grants, disbursements ------------------------------------------------------------


def submit(owner, enterprise, policy, **kwargs):  # type: ignore[no-untyped-def]
    return policy_services.policy_application_submit(actor=owner, enterprise=enterprise, policy=policy, **kwargs)


def test_ineligible_application_is_refused_at_once_and_grants_nothing(owner, enterprise):
    append(enterprise, "admin_penalty")  # C
    policy = make_policy()
    application = submit(owner, enterprise, policy, requested_amount="100000")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INELIGIBLE and application.decided_at is not None
    assert codes(application.eligibility.reasons) == ["grade_too_low"]
    assert application.eligibility.source_id == str(application.pk)
    assert not PolicyGrant.objects.exists()
    # A refused application is not open: the enterprise may apply again
    assert submit(owner, enterprise, policy).status == ApplicationStatus.INELIGIBLE


def test_eligible_application_waits_for_the_policy_office_and_is_the_only_open_one(owner, enterprise):
    policy = make_policy()
    application = submit(owner, enterprise, policy, requested_amount="100000", requested_term_months=12)
    assert application.status == ApplicationStatus.PENDING_REVIEW and application.eligibility.eligible
    assert error_code(lambda: submit(owner, enterprise, policy)) == "application_open"
    assert PolicyApplication.objects.count() == 1 and EligibilityDecision.objects.count() == 1
    assert list(policy_selectors.applications_pending_review()) == [application]


def test_the_database_allows_one_open_application_per_policy(owner, enterprise):
    application = submit(owner, enterprise, make_policy())
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyApplication.objects.create(
            enterprise=enterprise,
            policy=application.policy,
            policy_version=application.policy_version,
            submitted_by=owner,
        )


@pytest.mark.parametrize(
    ("who", "kwargs", "code"),
    [
        ("peer", {}, "not_member"),
        ("owner", {"requested_amount": "-5"}, "amount_invalid"),
        ("owner", {"requested_amount": 1.5}, "amount_invalid"),
        ("owner", {"requested_term_months": 0}, "term_invalid"),
    ],
)
def test_application_input_errors(owner, peer, enterprise, who, kwargs, code):
    policy = make_policy()
    actor = owner if who == "owner" else peer
    assert error_code(lambda: submit(actor, enterprise, policy, **kwargs)) == code
    assert not PolicyApplication.objects.exists() and not EligibilityDecision.objects.exists()


def test_deposit_and_fast_track_policies_are_not_applied_for(owner, enterprise):
    policy = make_policy("deposit", kind="deposit_waiver", conditions=[])
    assert error_code(lambda: submit(owner, enterprise, policy)) == "policy_kind_not_applicable"


def test_approve_records_the_grant(owner, enterprise, policy_office):
    application = submit(owner, enterprise, make_policy())
    grant = policy_services.policy_application_approve(
        actor=policy_office, application=application, amount="3000000", term_months=24, note="按期评审"
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and application.decided_by == policy_office
    assert (grant.amount, grant.term_months, grant.enterprise) == (Decimal("3000000.00"), 24, enterprise)
    assert AuditEvent.objects.filter(action="credit.policy_application_approved", object_id=str(application.pk))
    # a decided application cannot be decided again
    assert (
        error_code(
            lambda: policy_services.policy_application_refuse(actor=policy_office, application=application, reason="x")
        )
        == "application_not_pending"
    )


@pytest.mark.parametrize(
    ("amount", "term", "code"),
    [
        ("6000000", 12, "amount_over_cap"),
        ("100", 48, "term_over_max"),
        ("0", 12, "amount_invalid"),
        ("1", 0, "term_invalid"),
    ],
)
def test_approve_respects_the_versions_limits(owner, enterprise, policy_office, amount, term, code):
    application = submit(owner, enterprise, make_policy())
    assert (
        error_code(
            lambda: policy_services.policy_application_approve(
                actor=policy_office, application=application, amount=amount, term_months=term
            )
        )
        == code
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW and not PolicyGrant.objects.exists()


@pytest.mark.parametrize(
    ("amount", "term", "code"),
    [
        ("100000.01", 12, "amount_over_requested"),
        ("100000", 13, "term_over_requested"),
    ],
)
def test_approve_grants_no_more_than_was_requested(owner, enterprise, policy_office, amount, term, code):
    # Given an application for 100 000 yuan over 12 months (the policy would allow more)
    application = submit(owner, enterprise, make_policy(), requested_amount="100000", requested_term_months=12)

    def approve(amount: str, term: int) -> PolicyGrant:
        return policy_services.policy_application_approve(
            actor=policy_office, application=application, amount=amount, term_months=term
        )

    # When the office grants more, then it is refused and nothing is written
    assert error_code(lambda: approve(amount, term)) == code
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW and not PolicyGrant.objects.exists()
    # Exactly what was requested is granted
    grant = approve("100000", 12)
    assert (grant.amount, grant.term_months) == (Decimal("100000.00"), 12)


def test_approve_refuses_once_the_policy_is_no_longer_in_force(owner, enterprise, policy_office, monkeypatch):
    # Given an application made while the policy is in force (it ends in 10 days)
    policy = make_policy(valid_until=timezone.localdate() + datetime.timedelta(days=10))
    application = submit(owner, enterprise, policy, requested_amount="100000")
    assert application.status == ApplicationStatus.PENDING_REVIEW
    # When the office approves 11 days later
    later = timezone.now() + datetime.timedelta(days=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    code = error_code(
        lambda: policy_services.policy_application_approve(
            actor=policy_office, application=application, amount="100000", term_months=12
        )
    )
    # Then it is refused and nothing is written
    assert code == "policy_not_in_force"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_REVIEW and not PolicyGrant.objects.exists()


def test_approve_on_the_last_day_in_force_is_allowed(owner, enterprise, policy_office, monkeypatch):
    policy = make_policy(valid_until=timezone.localdate() + datetime.timedelta(days=10))
    application = submit(owner, enterprise, policy)
    later = timezone.now() + datetime.timedelta(days=10)
    monkeypatch.setattr(timezone, "now", lambda: later)
    grant = policy_services.policy_application_approve(
        actor=policy_office, application=application, amount="100000", term_months=12
    )
    assert grant.amount == Decimal("100000.00")


def test_only_the_policy_office_decides(owner, enterprise, administrator):
    application = submit(owner, enterprise, make_policy())
    for actor in (owner, administrator):
        assert (
            error_code(
                lambda actor=actor: policy_services.policy_application_approve(
                    actor=actor, application=application, amount="1", term_months=1
                )
            )
            == "not_policy_office"
        )


def test_refuse_needs_reasons(owner, enterprise, policy_office):
    application = submit(owner, enterprise, make_policy())
    assert (
        error_code(
            lambda: policy_services.policy_application_refuse(actor=policy_office, application=application, reason=" ")
        )
        == "reason_required"
    )
    refused = policy_services.policy_application_refuse(
        actor=policy_office, application=application, reason="资金用途不符"
    )
    assert refused.status == ApplicationStatus.REFUSED and refused.decision_reason == "资金用途不符"


def test_withdraw_by_the_enterprise(owner, peer, enterprise):
    application = submit(owner, enterprise, make_policy())
    assert (
        error_code(lambda: policy_services.policy_application_withdraw(actor=peer, application=application))
        == "not_member"
    )
    withdrawn = policy_services.policy_application_withdraw(actor=owner, application=application)
    assert withdrawn.status == ApplicationStatus.WITHDRAWN and withdrawn.decided_at is not None


def _subsidy_grant(owner, enterprise, policy_office, amount: str = "90000") -> PolicyGrant:  # type: ignore[no-untyped-def]
    application = submit(owner, enterprise, make_policy("subsidy", kind="interest_subsidy"))
    return policy_services.policy_application_approve(
        actor=policy_office, application=application, amount=amount, term_months=12
    )


def test_disbursements_never_exceed_the_grant(owner, enterprise, policy_office):
    grant = _subsidy_grant(owner, enterprise, policy_office)
    today = timezone.localdate()

    def pay(amount: str, ref: str = "付款凭证-1"):  # type: ignore[no-untyped-def]
        return policy_services.disbursement_record(
            actor=policy_office, grant=grant, amount=amount, paid_on=today, reference=ref
        )

    first = pay("30000")
    second = pay("50000")
    assert (first.number, second.number) == (1, 2)
    assert error_code(lambda: pay("10000.01")) == "disbursement_exceeds_grant"
    third = pay("10000")
    grant.refresh_from_db()
    assert grant.disbursed_total == grant.amount and third.number == 3
    assert error_code(lambda: pay("0")) == "amount_invalid"
    assert Disbursement.objects.filter(grant=grant).count() == 3


def test_instalments_are_limited_by_the_version(owner, enterprise, policy_office):
    grant = _subsidy_grant(owner, enterprise, policy_office)
    for _ in range(3):
        policy_services.disbursement_record(
            actor=policy_office, grant=grant, amount="1", paid_on=timezone.localdate(), reference="r"
        )
    assert (
        error_code(
            lambda: policy_services.disbursement_record(
                actor=policy_office, grant=grant, amount="1", paid_on=timezone.localdate(), reference="r"
            )
        )
        == "instalments_exceeded"
    )


def test_disbursement_input_errors(owner, enterprise, policy_office):
    grant = _subsidy_grant(owner, enterprise, policy_office)
    today = timezone.localdate()
    cases = [
        ({"paid_on": today + datetime.timedelta(days=1)}, "paid_in_future"),
        ({"paid_on": today - datetime.timedelta(days=1)}, "paid_before_grant"),
        ({"reference": ""}, "reference_required"),
    ]
    for override_kwargs, code in cases:
        kwargs = {"actor": policy_office, "grant": grant, "amount": "1", "paid_on": today, "reference": "r"}
        kwargs.update(override_kwargs)
        assert error_code(lambda kwargs=kwargs: policy_services.disbursement_record(**kwargs)) == code
    assert not Disbursement.objects.exists()


def test_a_loan_guarantee_is_not_disbursed(owner, enterprise, policy_office):
    application = submit(owner, enterprise, make_policy())
    grant = policy_services.policy_application_approve(
        actor=policy_office, application=application, amount="100", term_months=12
    )
    assert (
        error_code(
            lambda: policy_services.disbursement_record(
                actor=policy_office, grant=grant, amount="1", paid_on=timezone.localdate(), reference="r"
            )
        )
        == "not_disbursable"
    )


def test_the_database_refuses_a_disbursed_total_above_the_grant(owner, enterprise, policy_office):
    grant = _subsidy_grant(owner, enterprise, policy_office)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyGrant.objects.filter(pk=grant.pk).update(disbursed_total=grant.amount + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(grant=grant, number=1, amount=0, paid_on=timezone.localdate(), recorded_by=owner)


# --- construction deposit (§35) ---------------------------------------------------------------------


def project(owner, enterprise, base: str = "200000.00"):  # type: ignore[no-untyped-def]
    return policy_services.construction_project_register(
        actor=owner,
        enterprise=enterprise,
        name="浑南新区某住宅项目",
        contract_amount="50000000",
        wage_deposit_base=base,
    )


@pytest.mark.parametrize(
    ("entries", "tier", "rate", "amount"),
    [
        (["tax_grade_a"], "exempt", Decimal("0"), Decimal("0.00")),
        ([], "reduced", Decimal("0.5"), Decimal("100000.00")),
        (["admin_penalty"], "full", Decimal("1"), Decimal("200000.00")),
    ],
)
def test_deposit_rate_follows_the_grade(owner, enterprise, entries, tier, rate, amount):
    for code in entries:
        append(enterprise, code)
    make_policy("deposit", kind="deposit_waiver", conditions=[])
    decision = policy_services.deposit_waiver_decide(actor=owner, project=project(owner, enterprise))
    decision.refresh_from_db()
    assert (decision.deposit_tier, decision.deposit_rate, decision.deposit_amount) == (tier, rate, amount)
    assert decision.purpose == "deposit_waiver" and decision.source_type == "construction_project"
    assert decision.context["wage_deposit_base"] == "200000.00"
    assert codes(decision.reasons)[0] == "deposit_tier_for_grade"
    assert decision.eligible == (tier != "full")


def test_recent_wage_arrears_mean_the_full_deposit(owner, enterprise):
    append(enterprise, "tax_grade_a")
    append(enterprise, "tax_grade_a")
    append(enterprise, "wage_arrears")  # 80: B, but arrears within 24 months
    make_policy("deposit", kind="deposit_waiver", conditions=[])
    decision = policy_services.deposit_waiver_decide(actor=owner, project=project(owner, enterprise))
    assert decision.grade == "B" and decision.deposit_tier == "full"
    assert codes(decision.reasons) == ["deposit_tier_for_grade", "wage_arrears"]
    with override("en"):
        assert len(policy_selectors.decision_reason_texts(decision)) == 2


def test_deposit_policy_must_be_unambiguous(owner, enterprise):
    site = project(owner, enterprise)
    assert error_code(lambda: policy_services.deposit_waiver_decide(actor=owner, project=site)) == "no_deposit_policy"
    make_policy("deposit-1", kind="deposit_waiver", conditions=[])
    second = make_policy("deposit-2", kind="deposit_waiver", conditions=[])
    assert (
        error_code(lambda: policy_services.deposit_waiver_decide(actor=owner, project=site))
        == "deposit_policy_ambiguous"
    )
    assert policy_services.deposit_waiver_decide(actor=owner, project=site, policy=second).rule_code == "deposit-2"


def test_project_input_errors(owner, peer, enterprise):
    assert error_code(lambda: project(peer, enterprise)) == "not_member"
    assert error_code(lambda: project(owner, enterprise, base="60000000")) == "base_invalid"
    assert project(owner, enterprise, base="0").wage_deposit_base == Decimal("0.00")


# --- fast track -------------------------------------------------------------------------------------


def fast(enterprise, item: str = "SY-001"):  # type: ignore[no-untyped-def]
    return policy_services.fast_track_check(
        actor=None, enterprise=enterprise, item_code=item, source_type="application", source_id="application:7"
    )


def test_fast_track_grants_the_most_favourable_covering_policy(enterprise):
    make_policy("fast-a", kind="fast_track")
    make_policy(
        "fast-b",
        kind="fast_track",
        benefits={"item_codes": ["SY-001", "SY-002"], "privileges": {"promised_days_reduction": 5}},
    )
    make_policy(
        "fast-c",
        kind="fast_track",
        benefits={"item_codes": ["SY-003"], "privileges": {"allow_missing_secondary": True}},
    )
    granted = fast(enterprise)
    assert granted is not None and granted.policy.code == "fast-b"
    assert granted.privileges == {"promised_days_reduction": 5}
    assert len(granted.decisions) == 2 and all(d.purpose == "fast_track" for d in granted.decisions)
    assert granted.decision.context == {"item_code": "SY-001"}


def test_fast_track_none_when_not_covered_or_not_eligible(enterprise):
    make_policy("fast-a", kind="fast_track", conditions=[{"type": "min_grade", "grade": "A"}])
    assert fast(enterprise, "SY-999") is None and not EligibilityDecision.objects.exists()
    assert fast(enterprise) is None
    decision = EligibilityDecision.objects.get()
    assert not decision.eligible and codes(decision.reasons) == ["grade_too_low"] and decision.outcome == {}


# --- replay -------------------------------------------------------------------------------------------


def _some_decisions(owner, enterprise):  # type: ignore[no-untyped-def]
    append(enterprise, "admin_penalty")
    check(enterprise)
    check(enterprise, "C")
    make_policy("deposit", kind="deposit_waiver", conditions=[{"type": "no_court_dishonest_debtor"}])
    policy_services.deposit_waiver_decide(actor=owner, project=project(owner, enterprise))
    make_policy("fast-a", kind="fast_track")
    fast(enterprise)
    return EligibilityDecision.objects.order_by("id")


def test_replay_agrees_on_untouched_decisions(owner, enterprise, peer_enterprise):
    _some_decisions(owner, enterprise)
    append(peer_enterprise, "wage_arrears")
    check(peer_enterprise)
    append(enterprise, "serious_violation")  # later entries change nothing already decided
    report = policy_selectors.eligibility_replay()
    assert report.checked == 5 and report.all_agree
    out = StringIO()
    call_command("eligibility_replay", stdout=out, stderr=StringIO())
    assert "all agree" in out.getvalue()


def _problems(decision_id: int) -> list[str]:
    report = policy_selectors.eligibility_replay(decision_ids=[decision_id])
    return [p.code for m in report.mismatches for p in m.problems]


def test_a_forged_stored_fact_fails_the_replay(owner, enterprise):
    decision = _some_decisions(owner, enterprise).first()
    facts = decision.facts
    facts[0]["points"] = 5  # the penalty becomes a bonus
    rewrite(EligibilityDecision, decision.pk, facts=facts)
    assert set(_problems(decision.pk)) >= {"input_digest_mismatch", "stored_result_mismatch", "ledger_facts_mismatch"}
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("eligibility_replay", stdout=out, stderr=StringIO())
    assert exited.value.code == 1
    assert f"decision #{decision.pk}" in out.getvalue()


def test_a_forger_who_recomputes_the_digest_is_caught_by_the_ledger(owner, enterprise):
    decision = _some_decisions(owner, enterprise).first()
    decision.facts = []  # hide the penalty, and make the digest match again
    decision.grade, decision.score = "B", 80
    digest = policies.digest(policy_selectors.decision_inputs_document(decision))
    rewrite(EligibilityDecision, decision.pk, facts=[], grade="B", score=80, input_digest=digest)
    problems = _problems(decision.pk)
    assert "input_digest_mismatch" not in problems
    assert {"ledger_facts_mismatch", "ledger_result_mismatch", "audit_trail_mismatch"} <= set(problems)


def test_a_forged_result_or_rule_fails_the_replay(owner, enterprise):
    decisions = list(_some_decisions(owner, enterprise))
    rewrite(EligibilityDecision, decisions[0].pk, eligible=not decisions[0].eligible)
    assert _problems(decisions[0].pk) == ["audit_trail_mismatch", "stored_result_mismatch", "ledger_result_mismatch"]
    deposit = next(d for d in decisions if d.purpose == "deposit_waiver")
    rewrite(EligibilityDecision, deposit.pk, deposit_amount=Decimal("1.00"))
    assert "stored_result_mismatch" in _problems(deposit.pk)
    # The commitment route's minimum grade comes from the caller: only the digest guards it.
    snapshot = decisions[1].rule_snapshot
    snapshot["conditions"][0]["grade"] = "D"
    rewrite(EligibilityDecision, decisions[1].pk, rule_snapshot=snapshot)
    assert _problems(decisions[1].pk) == ["input_digest_mismatch"]
    # A policy decision's rule must also equal the published version it names.
    snapshot = deposit.rule_snapshot
    snapshot["conditions"] = []
    rewrite(EligibilityDecision, deposit.pk, rule_snapshot=snapshot)
    assert {"input_digest_mismatch", "rule_snapshot_mismatch"} <= set(_problems(deposit.pk))


def test_an_unreadable_stored_rule_is_reported_not_raised(owner, enterprise):
    decision = _some_decisions(owner, enterprise).first()
    rewrite(EligibilityDecision, decision.pk, rule_snapshot={"nonsense": 1})
    assert set(_problems(decision.pk)) == {
        "input_digest_mismatch",
        "rule_snapshot_mismatch",
        "stored_input_unreadable",
    }


def test_a_published_version_edited_behind_the_services_back_fails_the_replay(owner, enterprise):
    decisions = _some_decisions(owner, enterprise)
    fast_decision = decisions.filter(purpose="fast_track").get()
    PolicyVersion.objects.filter(pk=fast_decision.policy_version_id).update(
        benefits={"item_codes": ["SY-001"], "privileges": {"promised_days_reduction": 30}}
    )
    assert "rule_snapshot_mismatch" in _problems(fast_decision.pk)


def test_replay_command_for_one_enterprise_as_json(owner, enterprise, peer_enterprise):
    import json

    _some_decisions(owner, enterprise)
    check(peer_enterprise)
    out = StringIO()
    call_command("eligibility_replay", "--enterprise", enterprise.uscc, "--json", stdout=out, stderr=StringIO())
    data = json.loads(out.getvalue())
    assert data == {"checked": 4, "all_agree": True, "mismatches": []}


def test_ledger_entries_are_what_the_ledger_holds(enterprise):
    entry = append(enterprise, "admin_penalty")
    decision = check(enterprise)
    assert LedgerEntry.objects.get(seq=decision.facts[0]["seq"]).entry_hash == entry.entry_hash


# --- admin ------------------------------------------------------------------------------------------


def test_admin_publish_action_and_read_only_published_version(admin_client):
    policy = make_policy(publish=False)
    draft = policy.versions.get()
    changelist = reverse("admin:credit_policyversion_changelist")
    response = admin_client.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PolicyVersionStatus.PUBLISHED
    change = reverse("admin:credit_policyversion_change", args=[draft.pk])
    response = admin_client.post(change, {"conditions": "[]", "benefits": "{}", "note": "x"})
    assert response.status_code == 403
    assert PolicyVersion.objects.get(pk=draft.pk).conditions == [{"type": "min_grade", "grade": "B"}]
    admin_client.post(changelist, {"action": "new_draft_from_selected", "_selected_action": [draft.pk]})
    assert policy.versions.filter(status=PolicyVersionStatus.DRAFT, number=2).exists()


def test_admin_creates_a_policy_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:credit_policy_add"),
        {
            "code": "subsidy-2027",
            "name": "科技型企业贷款贴息",
            "name_en": "",
            "kind": "interest_subsidy",
            "legal_basis": "沈政发〔2016〕1号",
            "description": "",
            "valid_from": "2027-01-01",
            "valid_until": "",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    policy = Policy.objects.get(code="subsidy-2027")
    assert policy.versions.get().status == PolicyVersionStatus.DRAFT
    assert AuditEvent.objects.filter(action="credit.policy_created", object_id=str(policy.pk)).exists()


def test_admin_decisions_are_read_only(admin_client, enterprise):
    decision = check(enterprise)
    url = reverse("admin:credit_eligibilitydecision_change", args=[decision.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {}).status_code == 403
    for name in ("eligibilitydecision", "policy", "policyversion", "policyapplication", "policygrant"):
        assert admin_client.get(reverse(f"admin:credit_{name}_changelist")).status_code == 200
