"""Reads for preferential policies and eligibility decisions: the inputs of a check, the queues,
the translated reasons and hints of a decision, and the replay of stored decisions."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent
from credit.enterprises.models import Enterprise
from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import CreditEntryKind, LedgerEntry
from credit.policies import rules as policies
from credit.policies.models import (
    OPEN_APPLICATION_STATUSES,
    SUBJECT_CONSTRUCTION_PROJECT,
    ApplicationStatus,
    ConstructionProject,
    DecisionPurpose,
    DepositTier,
    Disbursement,
    EligibilityDecision,
    Policy,
    PolicyApplication,
    PolicyGrant,
    PolicyVersion,
    PolicyVersionStatus,
)

# --- the inputs of a check ------------------------------------------------------------------------


# Why a tolerance: an append takes its ``recorded_at`` before it waits for the chain-head lock and
# commits, so a check running in between legitimately misses an entry recorded a moment before its
# as-of instant (and the two workers' clocks may differ a little). Appends commit within
# milliseconds (bench/credit_bench.py); 5 seconds covers a contended head lock and clock skew
# without letting a forged ``known_through_seq`` hide anything older. The price: an entry recorded
# less than 5 seconds before a forged decision's instant is not caught by this comparison (the
# audit trail's digest still is).
UNSEEN_TOLERANCE = datetime.timedelta(seconds=5)


@dataclass(frozen=True)
class LedgerFacts:
    """An enterprise's entries as one query saw them: the facts, each entry's hash, and the last
    sequence number seen (``known_through_seq``).

    Appends are serialised by the chain-head row lock held until commit, so entries become visible
    in sequence order: every entry with a lower number than one seen was already visible. An entry
    committed later has a higher number, even if its ``recorded_at`` is a little earlier (clocks
    of two workers), so ``seq <= known_through_seq`` is exactly "known to the check"."""

    facts: tuple[scoring.EntryFact, ...]
    hashes: Mapping[int, str]
    known_through_seq: int

    def as_of(self, as_of: datetime.datetime, *, through_seq: int | None = None) -> list[scoring.EntryFact]:
        limit = self.known_through_seq if through_seq is None else through_seq
        return [fact for fact in self.facts if fact.seq <= limit and fact.recorded_at <= as_of]

    def unseen(self, as_of: datetime.datetime, *, through_seq: int) -> list[scoring.EntryFact]:
        """Entries a check as of ``as_of`` that knew the ledger through ``through_seq`` should have
        seen: recorded more than ``UNSEEN_TOLERANCE`` before ``as_of``, numbered after what it knew."""
        cutoff = as_of - UNSEEN_TOLERANCE
        return [fact for fact in self.facts if fact.seq > through_seq and fact.recorded_at <= cutoff]

    def as_json(self, facts: Iterable[scoring.EntryFact]) -> list[dict[str, Any]]:
        return [policies.fact_to_json(fact, self.hashes[fact.seq]) for fact in facts]


def ledger_facts(*, enterprise: Enterprise | int) -> LedgerFacts:
    """Every entry of the enterprise with its hash (one query)."""
    pk = enterprise if isinstance(enterprise, int) else enterprise.pk
    # Same columns as ledger_selectors.entry_facts, plus the hash: one source for the fact fields.
    rows = (
        LedgerEntry.objects.filter(enterprise_id=pk)
        .order_by("seq")
        .values_list(*ledger_selectors._FACT_FIELDS, "entry_hash")
    )
    facts: list[scoring.EntryFact] = []
    hashes: dict[int, str] = {}
    for row in rows:
        fact = ledger_selectors._fact(row[:-1])
        facts.append(fact)
        hashes[fact.seq] = row[-1]
    return LedgerFacts(tuple(facts), hashes, facts[-1].seq if facts else 0)


# --- catalogue ------------------------------------------------------------------------------------


def policy_rule_snapshot(version: PolicyVersion) -> dict[str, Any]:
    """The rule snapshot a decision under ``version`` stores (see ``credit.policies.rules``). The replay
    requires a stored snapshot to equal this, so the in-force period is compared too (it cannot
    change once a version is published: ``policy_services.policy_update``)."""
    policy = version.policy
    return {
        "code": policy.code,
        "version": version.rule_version,
        "kind": policy.kind,
        "valid_from": policy.valid_from.isoformat(),
        "valid_until": policy.valid_until.isoformat() if policy.valid_until else None,
        "conditions": version.conditions,
        "benefits": version.benefits,
    }


def policy_version_published(*, policy: Policy) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(policy=policy, status=PolicyVersionStatus.PUBLISHED).first()


def policies_published(*, kind: str | None = None) -> QuerySet[PolicyVersion]:
    """The published version of every policy (of ``kind``), with its policy."""
    versions = PolicyVersion.objects.filter(status=PolicyVersionStatus.PUBLISHED).select_related("policy")
    if kind is not None:
        versions = versions.filter(policy__kind=kind)
    return versions.order_by("policy__code")


def eligibility_checks_latest(
    *, enterprises: Iterable[Enterprise], versions: Iterable[PolicyVersion]
) -> dict[tuple[int, int], EligibilityDecision]:
    """The newest recorded eligibility check of each enterprise under each policy version (purpose
    ``policy_check``, asked from the enterprise's own screen), keyed by (enterprise, version).
    Two queries whatever the number of rows."""
    newest = (
        EligibilityDecision.objects.filter(
            purpose=DecisionPurpose.POLICY_CHECK,
            source_type="enterprise",
            enterprise__in=[enterprise.pk for enterprise in enterprises],
            policy_version__in=[version.pk for version in versions],
        )
        .values("enterprise_id", "policy_version_id")
        .annotate(newest=Max("pk"))
        .values_list("newest", flat=True)
    )
    decisions = EligibilityDecision.objects.filter(pk__in=list(newest))
    return {
        (decision.enterprise_id, decision.policy_version_id): decision
        for decision in decisions
        if decision.policy_version_id is not None
    }


def policies_in_force(*, on: datetime.date, kind: str | None = None) -> QuerySet[PolicyVersion]:
    """Published versions of the policies in force on day ``on`` (the public list)."""
    return policies_published(kind=kind).filter(
        Q(policy__valid_from__lte=on) & (Q(policy__valid_until__isnull=True) | Q(policy__valid_until__gte=on))
    )


# --- decisions and applications -------------------------------------------------------------------


def decisions_of(*, enterprise: Enterprise) -> QuerySet[EligibilityDecision]:
    return (
        EligibilityDecision.objects.filter(enterprise=enterprise)
        .select_related("policy_version__policy")
        .order_by("-created_at", "-id")
    )


def decisions_for_subject(*, source_type: str, source_id: str) -> QuerySet[EligibilityDecision]:
    return EligibilityDecision.objects.filter(source_type=source_type, source_id=source_id).order_by(
        "-created_at", "-id"
    )


def applications_of(*, enterprise: Enterprise) -> QuerySet[PolicyApplication]:
    return (
        PolicyApplication.objects.filter(enterprise=enterprise)
        .select_related("policy", "policy_version", "eligibility")
        .order_by("-submitted_at", "-id")
    )


def applications_pending_review() -> QuerySet[PolicyApplication]:
    """The policy office's queue, oldest first."""
    return (
        PolicyApplication.objects.filter(status=ApplicationStatus.PENDING_REVIEW)
        .select_related("enterprise", "policy", "policy_version", "eligibility")
        .order_by("submitted_at", "id")
    )


def application_open(*, enterprise: Enterprise, policy: Policy) -> PolicyApplication | None:
    return PolicyApplication.objects.filter(
        enterprise=enterprise, policy=policy, status__in=OPEN_APPLICATION_STATUSES
    ).first()


def grants_of(*, enterprise: Enterprise) -> QuerySet[PolicyGrant]:
    return (
        PolicyGrant.objects.filter(enterprise=enterprise)
        .select_related("policy_version__policy", "application")
        .order_by("-granted_at", "-id")
    )


# --- reasons and hints as text --------------------------------------------------------------------

REASON_MESSAGES: dict[str, Promise] = {
    # each condition's own reason (its message id is translated here, at the moment it is shown)
    **{spec.reason_code: _(spec.reason) for spec in policies.CONDITIONS.values()},
    policies.POLICY_NOT_IN_FORCE: _(
        "The policy is not in force on %(date)s (in force from %(valid_from)s until %(valid_until)s)."
    ),
    policies.DEPOSIT_TIER_FOR_GRADE: _("Grade %(grade)s: %(tier)s (%(percent)s%% of the wage-deposit base)."),
}

HINT_MESSAGES: dict[str, Promise] = {
    policies.ENTRY_STOPS_COUNTING: _(
        "Entry #%(seq)s (%(kind)s, %(points)s points) of %(occurred_on)s stops counting on %(until)s."
    ),
    policies.ENTRY_LEAVES_PERIOD: _(
        "Entry #%(seq)s (%(kind)s) of %(occurred_on)s no longer counts for this rule from %(until)s."
    ),
    policies.REPAIR_POSSIBLE_NOW: _("Credit repair of entry #%(seq)s (%(kind)s) can be requested now."),
    policies.REPAIR_POSSIBLE_FROM: _("Credit repair of entry #%(seq)s (%(kind)s) can be requested from %(date)s."),
    policies.SCORE_POINTS_NEEDED: _("%(points)s more points are needed (a score of %(score)s)."),
    policies.POLICY_IN_FORCE_FROM: _("The policy comes into force on %(date)s."),
    policies.ELIGIBLE_ON: _("If no new entry is recorded, the enterprise becomes eligible on %(date)s."),
    policies.BETTER_TIER_WITH_GRADE: _(
        "With grade %(grade)s the deposit would be %(tier)s (%(percent)s%% of the wage-deposit base)."
    ),
    policies.DEPOSIT_TIER_IMPROVES_ON: _("If no new entry is recorded, the deposit becomes %(tier)s on %(date)s."),
}
_POINTS_FOR_GRADE = _("%(points)s more points are needed for grade %(grade)s (a score of %(score)s).")
_NO_END = _("no end date")


def _kind_labels() -> dict[str, str]:
    return {kind.code: str(kind.label) for kind in CreditEntryKind.objects.filter(is_current=True)}


def _percent(rate: Any) -> str:
    value = policies.decimal_or_none(rate)
    return "?" if value is None else format((value * 100).normalize(), "f")


def _tier_label(tier: Any) -> str:
    return str(DepositTier(tier).label) if tier in DepositTier.values else str(tier)


def _format(message: Promise | str, params: Mapping[str, Any], labels: dict[str, str]) -> str:
    values: dict[str, Any] = dict(params)
    if "kind_code" in values:
        values["kind"] = labels.get(values["kind_code"], values["kind_code"])
    if "entries" in values:
        values["entries"] = ", ".join(
            f"#{e['seq']} {labels.get(e['kind_code'], e['kind_code'])} ({e['occurred_on']})" for e in values["entries"]
        )
    if "rate" in values:
        values["percent"] = _percent(values["rate"])
    if "tier" in values:
        values["tier"] = _tier_label(values["tier"])
    if "valid_until" in values and not values["valid_until"]:
        values["valid_until"] = str(_NO_END)
    try:
        return str(message) % values
    except (KeyError, TypeError, ValueError):
        return str(message)


def _issue_text(issue: Mapping[str, Any], messages: dict[str, Promise], labels: dict[str, str]) -> str:
    code = issue.get("code", "")
    params = issue.get("params") or {}
    message: Promise | str | None = messages.get(code)
    if code == policies.SCORE_POINTS_NEEDED and params.get("grade"):
        message = _POINTS_FOR_GRADE
    if message is None:
        return str(code)
    return _format(message, params, labels)


def issue_texts(issues: Iterable[Mapping[str, Any]], *, hints: bool = False) -> list[str]:
    """Reasons (or hints) given as ``{"code", "params"}`` as text in the current language."""
    items = list(issues)
    if not items:
        return []
    labels = _kind_labels()
    return [_issue_text(item, HINT_MESSAGES if hints else REASON_MESSAGES, labels) for item in items]


def decision_reason_texts(decision: EligibilityDecision) -> list[str]:
    """Why the decision came out as it did, one sentence per reason, in the current language."""
    return issue_texts(decision.reasons)


def decision_hint_texts(decision: EligibilityDecision) -> list[str]:
    """What would change the answer, one sentence per hint, in the current language."""
    return issue_texts(decision.hints, hints=True)


# --- replay ---------------------------------------------------------------------------------------

REPLAY_PROBLEMS: dict[str, Promise] = {
    "input_digest_mismatch": _("The stored inputs do not match their digest."),
    "rule_snapshot_mismatch": _("The stored rule differs from the rule version it names."),
    "score_rules_unknown": _("The score rule version is unknown."),
    "stored_result_mismatch": _("Re-evaluating the stored inputs gives a different result."),
    "ledger_facts_mismatch": _("The entries stored differ from the ledger's entries as of the instant."),
    "ledger_result_mismatch": _("Re-evaluating from the ledger as of the instant gives a different result."),
    "ledger_entry_unseen": _(
        "The ledger holds entries recorded before the instant that the decision did not consider."
    ),
    "audit_trail_missing": _("The audit trail has no record of this decision being taken."),
    "audit_trail_mismatch": _("The decision differs from the audit trail's record of it."),
    "stored_input_unreadable": _("The stored inputs cannot be read."),
}

DECISION_AUDIT_ACTION = "credit.eligibility_decided"
DECISION_OBJECT_TYPE = EligibilityDecision._meta.label_lower


@dataclass(frozen=True)
class ReplayProblem:
    code: str
    detail: str = ""


@dataclass
class DecisionReplay:
    decision_id: int
    enterprise_id: int
    purpose: str
    problems: list[ReplayProblem] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


@dataclass
class ReplayReport:
    checked: int = 0
    mismatches: list[DecisionReplay] = field(default_factory=list)

    @property
    def all_agree(self) -> bool:
        return not self.mismatches


def _plain(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (tuples become lists, and so on)."""
    return json.loads(policies.canonical_json(value))


def decision_inputs_document(decision: EligibilityDecision) -> dict[str, Any]:
    return policies.inputs_document(
        purpose=decision.purpose,
        enterprise_id=decision.enterprise_id,
        as_of=decision.as_of,
        known_through_seq=decision.known_through_seq,
        score_rule_version=decision.score_rule_version,
        rule=decision.rule_snapshot,
        facts=decision.facts,
        context=decision.context,
        source_type=decision.source_type,
        source_id=decision.source_id,
    )


def decision_evaluate(
    *,
    purpose: str,
    rule: Mapping[str, Any],
    facts: Iterable[scoring.EntryFact],
    as_of: datetime.datetime,
    context: Mapping[str, Any],
    rules: scoring.RuleSet,
) -> policies.Evaluation:
    """The pure evaluation a decision of ``purpose`` is made of (the services and the replay both
    call this, so they cannot drift apart)."""
    if purpose == DecisionPurpose.DEPOSIT_WAIVER:
        base = Decimal(str(context["wage_deposit_base"]))
        return policies.deposit_evaluate(rule, facts, as_of, wage_deposit_base=base, rules=rules)
    return policies.evaluate(rule, facts, as_of, rules=rules)


def _outputs_of_decision(decision: EligibilityDecision) -> dict[str, Any]:
    outputs: dict[str, Any] = _plain(
        {
            "eligible": decision.eligible,
            "grade": decision.grade,
            "score": decision.score,
            "reasons": decision.reasons,
            "hints": decision.hints,
            "outcome": decision.outcome,
            "deposit": None
            if decision.deposit_rate is None
            else {
                "tier": decision.deposit_tier,
                "rate": str(Decimal(decision.deposit_rate).normalize()),
                "amount": str(Decimal(decision.deposit_amount or 0).quantize(policies.CENT)),
            },
        }
    )
    return outputs


def _outputs_of_evaluation(evaluation: policies.Evaluation) -> dict[str, Any]:
    deposit = evaluation.deposit
    outputs: dict[str, Any] = _plain(
        {
            "eligible": evaluation.eligible,
            "grade": evaluation.grade,
            "score": evaluation.score,
            "reasons": evaluation.reasons,
            "hints": evaluation.hints,
            "outcome": evaluation.outcome,
            "deposit": None
            if deposit is None
            else {
                "tier": deposit.tier,
                "rate": str(deposit.rate.normalize()),
                "amount": str(deposit.amount.quantize(policies.CENT)),
            },
        }
    )
    return outputs


def _differing(left: dict[str, Any], right: dict[str, Any]) -> str:
    return ", ".join(sorted(key for key in left if left[key] != right.get(key)))


def _rule_snapshot_problem(decision: EligibilityDecision) -> str:
    snapshot = decision.rule_snapshot
    if not isinstance(snapshot, dict):
        return "not an object"
    if snapshot.get("code") != decision.rule_code or snapshot.get("version") != decision.rule_version:
        return "code or version"
    version = decision.policy_version
    if version is None:
        if decision.rule_code != policies.COMMITMENT_RULE_CODE:
            return "unknown rule"
        try:
            grade = str(snapshot["conditions"][0]["grade"])
            expected = policies.commitment_rule(grade, version=decision.rule_version)
        except (KeyError, IndexError, TypeError, ValueError):
            return "not a commitment rule of a known version"
        return "" if _plain(snapshot) == _plain(expected) else "commitment rule"
    if version.policy.code != decision.rule_code or version.rule_version != decision.rule_version:
        return "policy version"
    if policies.digest(version.content()) != version.content_digest:
        return "the published version was edited"
    if _plain(snapshot.get("conditions")) != _plain(version.conditions) or _plain(snapshot.get("benefits")) != _plain(
        version.benefits
    ):
        return "conditions or benefits"
    if snapshot.get("kind") != version.policy.kind:
        return "kind"
    expected = _plain(policy_rule_snapshot(version))
    if (snapshot.get("valid_from"), snapshot.get("valid_until")) != (expected["valid_from"], expected["valid_until"]):
        return "in-force period"
    if _plain(snapshot) != expected:
        return "other fields"
    return ""


def decision_audit_record(decision: EligibilityDecision) -> dict[str, Any]:
    """What ``policy_services`` writes to the audit trail when it records ``decision`` (in the same
    transaction), from the decision's own columns. The replay compares the two."""
    return {
        "purpose": decision.purpose,
        "rule": f"{decision.rule_code} v{decision.rule_version}",
        "subject": f"{decision.source_type}:{decision.source_id}",
        "eligible": decision.eligible,
        "grade": decision.grade,
        "score": decision.score,
        "reasons": [reason.get("code") if isinstance(reason, dict) else reason for reason in decision.reasons or []],
        "digest": decision.input_digest,
    }


def decision_audit_data(decision_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The data of the ``credit.eligibility_decided`` audit events of these decisions (one query)."""
    ids = [str(pk) for pk in decision_ids]
    found: dict[int, list[dict[str, Any]]] = {int(pk): [] for pk in ids}
    events = (
        AuditEvent.objects.filter(action=DECISION_AUDIT_ACTION, object_type=DECISION_OBJECT_TYPE, object_id__in=ids)
        .order_by("id")
        .values_list("object_id", "data")
    )
    for object_id, data in events:
        found[int(object_id)].append(data if isinstance(data, dict) else {})
    return found


def _audit_problem(decision: EligibilityDecision, events: list[dict[str, Any]]) -> ReplayProblem | None:
    if not events:
        return ReplayProblem("audit_trail_missing")
    if len(events) > 1:
        return ReplayProblem("audit_trail_mismatch", f"{len(events)} audit events")
    expected = _plain(decision_audit_record(decision))
    recorded = events[0]
    differing = sorted(key for key in expected if recorded.get(key) != expected[key])
    return ReplayProblem("audit_trail_mismatch", ", ".join(differing)) if differing else None


def decision_replay(
    decision: EligibilityDecision,
    *,
    ledger: LedgerFacts,
    audit_events: list[dict[str, Any]] | None = None,
) -> DecisionReplay:
    """Re-derive one stored decision twice: from its stored inputs, and from the ledger as of its
    instant (``ledger``: the enterprise's entries, see ``ledger_facts``), and compare it with the
    audit event written when it was taken (``audit_events``: the data of its
    ``credit.eligibility_decided`` events, see ``decision_audit_data``; loaded when not given).
    Any difference is a problem; none means the decision stands as recorded.

    The ledger half does not trust the stored ``known_through_seq`` alone: an entry numbered after
    it but recorded before the instant (beyond ``UNSEEN_TOLERANCE``) is ``ledger_entry_unseen``, so
    a forger cannot hide an entry by lowering the number and dropping the facts above it."""
    result = DecisionReplay(decision.pk, decision.enterprise_id, decision.purpose)
    problems = result.problems
    if policies.digest(decision_inputs_document(decision)) != decision.input_digest:
        problems.append(ReplayProblem("input_digest_mismatch"))
    if audit_events is None:
        audit_events = decision_audit_data([decision.pk])[decision.pk]
    audit_problem = _audit_problem(decision, audit_events)
    if audit_problem is not None:
        problems.append(audit_problem)
    snapshot_problem = _rule_snapshot_problem(decision)
    if snapshot_problem:
        problems.append(ReplayProblem("rule_snapshot_mismatch", snapshot_problem))
    rules = policies.SCORE_RULES.get(decision.score_rule_version)
    if rules is None:
        problems.append(ReplayProblem("score_rules_unknown", decision.score_rule_version))
        return result
    stored_outputs = _outputs_of_decision(decision)
    try:
        stored_facts = [policies.fact_from_json(item) for item in decision.facts]
        from_stored = decision_evaluate(
            purpose=decision.purpose,
            rule=decision.rule_snapshot,
            facts=stored_facts,
            as_of=decision.as_of,
            context=decision.context,
            rules=rules,
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        problems.append(ReplayProblem("stored_input_unreadable", type(exc).__name__))
        return result
    recomputed = _outputs_of_evaluation(from_stored)
    if recomputed != stored_outputs:
        problems.append(ReplayProblem("stored_result_mismatch", _differing(stored_outputs, recomputed)))
    unseen = ledger.unseen(decision.as_of, through_seq=decision.known_through_seq)
    if unseen:
        problems.append(ReplayProblem("ledger_entry_unseen", "entries " + ", ".join(f"#{f.seq}" for f in unseen)))
    known = ledger.as_of(decision.as_of, through_seq=decision.known_through_seq)
    ledger_json = _plain(ledger.as_json(known))
    stored_json = _plain(decision.facts)
    if ledger_json != stored_json:
        stored_by_seq = {item.get("seq"): item for item in stored_json if isinstance(item, dict)}
        ledger_by_seq = {item["seq"]: item for item in ledger_json}
        differing = sorted(
            seq
            for seq in set(stored_by_seq) | set(ledger_by_seq)
            if stored_by_seq.get(seq) != ledger_by_seq.get(seq) and seq is not None
        )
        problems.append(ReplayProblem("ledger_facts_mismatch", "entries " + ", ".join(f"#{s}" for s in differing)))
    from_ledger = decision_evaluate(
        purpose=decision.purpose,
        rule=decision.rule_snapshot,
        facts=known,
        as_of=decision.as_of,
        context=decision.context,
        rules=rules,
    )
    ledger_outputs = _outputs_of_evaluation(from_ledger)
    if ledger_outputs != stored_outputs:
        problems.append(ReplayProblem("ledger_result_mismatch", _differing(stored_outputs, ledger_outputs)))
    return result


_REPLAY_BATCH = 2000


def eligibility_replay(
    *,
    enterprise: Enterprise | None = None,
    decision_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Replay every stored decision (or those of ``enterprise``, or ``decision_ids``): one query
    for the decisions, streamed in enterprise order, one for each enterprise's ledger entries, and
    one for the audit events of each batch of decisions.

    A new rule version never changes an old decision: each is evaluated from its own rule snapshot,
    which must still equal the (never edited) version it names."""
    decisions = EligibilityDecision.objects.select_related("policy_version__policy")
    if enterprise is not None:
        decisions = decisions.filter(enterprise=enterprise)
    if decision_ids is not None:
        decisions = decisions.filter(pk__in=list(decision_ids))
    total = decisions.count()
    report = ReplayReport()
    ledger: LedgerFacts | None = None
    ledger_of: int | None = None
    batch: list[EligibilityDecision] = []

    def replay_batch() -> None:
        nonlocal ledger, ledger_of
        audit = decision_audit_data(decision.pk for decision in batch)
        for decision in batch:
            if decision.enterprise_id != ledger_of:
                ledger, ledger_of = ledger_facts(enterprise=decision.enterprise_id), decision.enterprise_id
            assert ledger is not None
            replayed = decision_replay(decision, ledger=ledger, audit_events=audit[decision.pk])
            report.checked += 1
            if not replayed.agrees:
                report.mismatches.append(replayed)
            if progress is not None:
                progress(report.checked, total)
        batch.clear()

    for decision in decisions.order_by("enterprise_id", "id").iterator(chunk_size=_REPLAY_BATCH):
        batch.append(decision)
        if len(batch) == _REPLAY_BATCH:
            replay_batch()
    if batch:
        replay_batch()
    if progress is not None and total == 0:
        progress(0, 0)
    return report


def replay_problem_text(problem: ReplayProblem) -> str:
    message = REPLAY_PROBLEMS.get(problem.code)
    text = str(message) if message is not None else problem.code
    return f"{text} ({problem.detail})" if problem.detail else text


def latest_deposit_decisions(projects: Iterable[ConstructionProject]) -> dict[int, EligibilityDecision]:
    """The latest deposit decision of each project (one query)."""
    ids = {str(project.pk): project.pk for project in projects}
    latest: dict[int, EligibilityDecision] = {}
    if not ids:
        return latest
    decisions = EligibilityDecision.objects.filter(
        purpose=DecisionPurpose.DEPOSIT_WAIVER,
        source_type=SUBJECT_CONSTRUCTION_PROJECT,
        source_id__in=list(ids),
    ).order_by("-created_at", "-id")
    for decision in decisions:
        latest.setdefault(ids[decision.source_id], decision)
    return latest


def project_deposit_decisions(project: ConstructionProject) -> QuerySet[EligibilityDecision]:
    return EligibilityDecision.objects.filter(
        purpose=DecisionPurpose.DEPOSIT_WAIVER,
        source_type=SUBJECT_CONSTRUCTION_PROJECT,
        source_id=str(project.pk),
    ).order_by("-created_at", "-id")


def applications_with_details(applications: QuerySet[PolicyApplication]) -> QuerySet[PolicyApplication]:
    """Applications with everything a list row shows, in a constant number of queries."""
    return applications.select_related(
        "enterprise", "policy", "policy_version", "eligibility", "grant", "decided_by"
    ).prefetch_related(Prefetch("grant__disbursements", queryset=Disbursement.objects.order_by("number")))
