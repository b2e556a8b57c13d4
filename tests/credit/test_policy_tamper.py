"""Tamper suite for eligibility decisions and disbursements: the database refuses to change them
(triggers on PostgreSQL and SQLite, grants of the runtime role on PostgreSQL), and a forger with
the owner's rights who rewrites a decision consistently (lower ``known_through_seq``, drop the facts
above it, re-evaluate, recompute the digest) is still caught by ``eligibility_replay``: by the
ledger entries the decision should have seen, and by the audit event written with it."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.models import AuditEvent
from credit.ledger import scoring
from credit.ledger import triggers as ledger_triggers
from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import Disbursement, EligibilityDecision, PolicyGrant
from tests import factories
from tests.credit.ledger_helpers import append, runtime_role_become
from tests.credit.test_policy_services import append_only_bypassed, make_policy, rewrite

pytestmark = pytest.mark.django_db

REFUSED = "append-only|permission denied|must be owner"


@pytest.fixture
def policy_office():  # type: ignore[no-untyped-def]
    return factories.staff_with_role("policy_office")


def _check(enterprise, policy) -> EligibilityDecision:  # type: ignore[no-untyped-def]
    return policy_services.policy_eligibility_check(
        actor=None, enterprise=enterprise, policy=policy, source_type="enterprise", source_id=str(enterprise.pk)
    )


def _disbursement(owner, enterprise, policy_office) -> Disbursement:  # type: ignore[no-untyped-def]
    application = policy_services.policy_application_submit(
        actor=owner, enterprise=enterprise, policy=make_policy("subsidy", kind="interest_subsidy")
    )
    grant = policy_services.policy_application_approve(
        actor=policy_office, application=application, amount="90000", term_months=12
    )
    return policy_services.disbursement_record(
        actor=policy_office, grant=grant, amount="30000", paid_on=timezone.localdate(), reference="付款凭证-1"
    )


def _replay_command(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("eligibility_replay", *args, stdout=out, stderr=StringIO())
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def _problems(decision_id: int) -> list[str]:
    report = policy_selectors.eligibility_replay(decision_ids=[decision_id])
    return [p.code for m in report.mismatches for p in m.problems]


@pytest.fixture
def as_owner():  # type: ignore[no-untyped-def]
    """On PostgreSQL, the statements of the test run as the owner (CI connects as the runtime role):
    the triggers, not the grants, must refuse."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE NONE")


# --- the database refuses -------------------------------------------------------------------------


def test_the_triggers_survive_the_last_migration():
    assert ledger_triggers.append_only_triggers_present(connection) == set(ledger_triggers.ALL_TRIGGER_NAMES)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE credit_eligibilitydecision SET eligible = NOT eligible",
        "UPDATE credit_eligibilitydecision SET known_through_seq = 0, facts = '[]'",
        "DELETE FROM credit_eligibilitydecision",
    ],
)
def test_sql_update_or_delete_of_a_decision_is_refused(as_owner, enterprise, statement):
    # Given a stored decision
    decision = _check(enterprise, make_policy())
    stored = EligibilityDecision.objects.filter(pk=decision.pk).values().get()
    # When the owner rewrites or deletes it in SQL, then the database refuses
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert EligibilityDecision.objects.filter(pk=decision.pk).values().get() == stored


def test_orm_update_and_delete_of_a_decision_are_refused(as_owner, enterprise):
    decision = _check(enterprise, make_policy())
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        EligibilityDecision.objects.filter(pk=decision.pk).update(eligible=not decision.eligible)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        EligibilityDecision.objects.filter(pk=decision.pk).delete()
    assert EligibilityDecision.objects.get(pk=decision.pk).eligible == decision.eligible


@pytest.mark.parametrize(
    "statement",
    ["UPDATE credit_disbursement SET amount = amount + 1", "DELETE FROM credit_disbursement"],
)
def test_sql_update_or_delete_of_a_disbursement_is_refused(as_owner, owner, enterprise, policy_office, statement):
    disbursement = _disbursement(owner, enterprise, policy_office)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Disbursement.objects.get(pk=disbursement.pk).amount == disbursement.amount


def _all_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_flush_still_works_and_keeps_every_trigger(owner, enterprise, policy_office):
    # Given decisions and a disbursement (and a ledger entry)
    _disbursement(owner, enterprise, policy_office)
    append(enterprise)
    assert EligibilityDecision.objects.exists()
    triggers = _all_triggers()
    # When the test database is flushed (as pytest-django does after a transactional test)
    call_command("flush", interactive=False, verbosity=0)
    # Then everything is gone and the triggers (ours and any other app's) are still there
    assert not EligibilityDecision.objects.exists() and not Disbursement.objects.exists()
    assert not PolicyGrant.objects.exists()
    assert ledger_triggers.append_only_triggers_present(connection) == set(ledger_triggers.ALL_TRIGGER_NAMES)
    assert _all_triggers() == triggers


# --- the runtime role (PostgreSQL) ----------------------------------------------------------------

ROLE = f"rf_policy_runtime_test_{os.getpid()}"


@pytest.fixture
def as_runtime_role(owner, enterprise, policy_office):  # type: ignore[no-untyped-def]
    disbursement = _disbursement(owner, enterprise, policy_office)
    runtime_role_become(ROLE)
    return disbursement


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", ledger_triggers.POLICY_TABLES)
@pytest.mark.parametrize(
    "template",
    [
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER {table}_no_update",
        "DROP TRIGGER {table}_no_delete ON {table}",
    ],
)
def test_the_runtime_role_cannot_change_the_policy_records(as_runtime_role, table, template):
    statement = template.format(table=table)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Disbursement.objects.get(pk=as_runtime_role.pk).amount == as_runtime_role.amount


@pytest.mark.postgres_only
def test_the_runtime_role_records_decisions(as_runtime_role, enterprise):
    decision = _check(enterprise, make_policy("loan-2"))
    assert EligibilityDecision.objects.filter(pk=decision.pk).exists()
    assert policy_selectors.eligibility_replay().all_agree


# --- a forger with the owner's rights ---------------------------------------------------------------


@pytest.fixture
def refused(enterprise) -> EligibilityDecision:  # type: ignore[no-untyped-def]
    """An ineligible decision: a good entry (#1), then a penalty (#2) recorded a day before the
    check, which takes the grade from B to C below the policy's B."""
    now = timezone.now()
    append(enterprise, "inspection_passed", days_ago=3, backfill_recorded_at=now - datetime.timedelta(days=2))
    append(enterprise, "admin_penalty", days_ago=2, backfill_recorded_at=now - datetime.timedelta(days=1))
    decision = _check(enterprise, make_policy())
    assert not decision.eligible and decision.grade == "C"
    assert decision.known_through_seq == 2 and [f["seq"] for f in decision.facts] == [1, 2]
    assert policy_selectors.eligibility_replay().all_agree
    return decision


def _forge_eligible(decision: EligibilityDecision) -> dict[str, Any]:
    """The forging sequence: lower ``known_through_seq`` to 1, drop the facts above it, re-evaluate
    the outputs from what is left and recompute the input digest; written with the triggers out of
    the way. Returns the new digest and result."""
    decision.known_through_seq = 1
    decision.facts = [fact for fact in decision.facts if fact["seq"] <= 1]
    evaluation = policy_selectors.decision_evaluate(
        purpose=decision.purpose,
        rule=decision.rule_snapshot,
        facts=[policies.fact_from_json(fact) for fact in decision.facts],
        as_of=decision.as_of,
        context=decision.context,
        rules=scoring.CURRENT_RULES,
    )
    assert evaluation.eligible and evaluation.grade == "B"
    forged = {
        "known_through_seq": 1,
        "facts": decision.facts,
        "eligible": evaluation.eligible,
        "grade": evaluation.grade,
        "score": evaluation.score,
        "reasons": evaluation.reasons,
        "hints": evaluation.hints,
        "outcome": evaluation.outcome,
        "input_digest": policies.digest(policy_selectors.decision_inputs_document(decision)),
    }
    rewrite(EligibilityDecision, decision.pk, **forged)
    return forged


def _forge_the_audit_trail_too(decision: EligibilityDecision) -> None:
    """An owner can rewrite the audit event as well."""
    forged = EligibilityDecision.objects.get(pk=decision.pk)
    event = AuditEvent.objects.get(action="credit.eligibility_decided", object_id=str(decision.pk))
    rewrite(AuditEvent, event.pk, data={**event.data, **policy_selectors.decision_audit_record(forged)})


def test_a_decision_rewritten_to_eligible_fails_the_replay(refused):
    # When a forger with the owner's rights rewrites the refusal consistently
    _forge_eligible(refused)
    forged = EligibilityDecision.objects.get(pk=refused.pk)
    assert forged.eligible and forged.known_through_seq == 1
    # Then its own inputs agree with it, but the ledger and the audit trail do not
    problems = _problems(refused.pk)
    assert "input_digest_mismatch" not in problems and "stored_result_mismatch" not in problems
    assert {"ledger_entry_unseen", "audit_trail_mismatch"} <= set(problems)
    # and the command exits non-zero, naming the decision
    code, output = _replay_command()
    assert code == 1 and f"decision #{refused.pk}" in output and "ledger_entry_unseen" in output


def test_the_ledger_alone_catches_the_rewrite_when_the_audit_event_is_forged_too(refused):
    _forge_eligible(refused)
    _forge_the_audit_trail_too(refused)
    report = policy_selectors.eligibility_replay(decision_ids=[refused.pk])
    assert [(p.code, p.detail) for m in report.mismatches for p in m.problems] == [
        ("ledger_entry_unseen", "entries #2")
    ]
    code, output = _replay_command("--json")
    assert code == 1 and json.loads(output)["mismatches"][0]["decision"] == refused.pk


def test_an_entry_committed_while_the_check_ran_is_not_unseen(enterprise):
    """The tolerance: an entry recorded a moment before the check's instant but committed after it
    read the ledger (a race, not a forgery) is not reported."""
    now = timezone.now()
    append(enterprise, "admin_penalty", days_ago=2, backfill_recorded_at=now - datetime.timedelta(days=1))
    decision = _check(enterprise, make_policy())
    # the entry that was racing: numbered after the check, recorded 1 s before its instant
    ledger = policy_selectors.ledger_facts(enterprise=enterprise)
    racing = dataclasses.replace(ledger.facts[0], seq=2, recorded_at=decision.as_of - datetime.timedelta(seconds=1))
    raced = policy_selectors.LedgerFacts((*ledger.facts, racing), {**ledger.hashes, 2: "0" * 64}, 2)
    assert policy_selectors.decision_replay(decision, ledger=raced).agrees
    # ...but one recorded more than the tolerance before the instant is
    late = dataclasses.replace(
        ledger.facts[0],
        seq=2,
        recorded_at=decision.as_of - policy_selectors.UNSEEN_TOLERANCE - datetime.timedelta(seconds=1),
    )
    unseen = policy_selectors.LedgerFacts((*ledger.facts, late), {**ledger.hashes, 2: "0" * 64}, 2)
    assert [p.code for p in policy_selectors.decision_replay(decision, ledger=unseen).problems] == [
        "ledger_entry_unseen"
    ]


def test_the_documented_limit_an_entry_within_the_tolerance(enterprise):
    """The limit, stated: an entry recorded less than ``UNSEEN_TOLERANCE`` before the check is
    indistinguishable from a racing commit, so a forger who also rewrites the audit event can hide
    it. (Without the audit rewrite the digest still gives it away.)"""
    append(
        enterprise, "inspection_passed", days_ago=3, backfill_recorded_at=timezone.now() - datetime.timedelta(days=1)
    )
    append(enterprise, "admin_penalty", days_ago=2)  # recorded just now
    decision = _check(enterprise, make_policy())
    assert not decision.eligible
    _forge_eligible(decision)
    assert _problems(decision.pk) == ["audit_trail_mismatch"]
    _forge_the_audit_trail_too(decision)
    assert _problems(decision.pk) == []


def test_a_decision_without_its_audit_event_fails_the_replay(refused):
    event = AuditEvent.objects.get(action="credit.eligibility_decided", object_id=str(refused.pk))
    rewrite(AuditEvent, event.pk, object_id="0")
    assert _problems(refused.pk) == ["audit_trail_missing"]


def test_a_second_audit_event_for_a_decision_fails_the_replay(refused):
    event = AuditEvent.objects.get(action="credit.eligibility_decided", object_id=str(refused.pk))
    AuditEvent.objects.create(
        action=event.action, object_type=event.object_type, object_id=event.object_id, data=event.data
    )
    assert _problems(refused.pk) == ["audit_trail_mismatch"]


def test_a_rewritten_known_through_seq_alone_is_caught_by_the_digest_and_the_ledger(refused):
    rewrite(EligibilityDecision, refused.pk, known_through_seq=1)
    assert set(_problems(refused.pk)) >= {"input_digest_mismatch", "ledger_entry_unseen", "ledger_facts_mismatch"}


def test_the_replay_reads_the_audit_trail_in_one_query_per_batch(enterprise, django_assert_max_num_queries):
    policy = make_policy()
    for _ in range(5):
        _check(enterprise, policy)
    # decisions (count + rows), one enterprise's ledger, the audit events of the batch
    with django_assert_max_num_queries(4):
        report = policy_selectors.eligibility_replay()
    assert report.checked == 5 and report.all_agree


def test_append_only_bypassed_restores_the_triggers(enterprise):
    triggers = _all_triggers()
    with append_only_bypassed():
        pass
    assert _all_triggers() == triggers
    assert ledger_triggers.append_only_triggers_present(connection) == set(ledger_triggers.ALL_TRIGGER_NAMES)
