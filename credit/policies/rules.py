"""Eligibility for credit-gated policies: pure functions of (rule snapshot, ledger facts, as-of
instant). No ORM, no clock, no Django.

A *rule snapshot* is the JSON document a decision stores and is evaluated from::

    {"code": "loan_guarantee_2026", "version": "3", "kind": "loan_guarantee",
     "valid_from": "2026-01-01", "valid_until": null,
     "conditions": [{"type": "min_grade", "grade": "B"}, {"type": "no_serious_within_years", "years": 3}],
     "benefits": {"guarantee_cap": "5000000.00", "max_term_months": 36}}

Bitemporal, as the grade (``credit.ledger.scoring``): only entries *recorded* at or before the as-of instant
count; windows and periods run from each entry's ``occurred_at``; a repair or reversal recorded by
then ends an entry. Every condition reads the ledger only: an overdue rectification order, wage
arrears and a court listing are themselves ledger entries.

Boundaries (tests pin them): a grade exactly the minimum passes; an entry stops counting at the end
of its window or period, i.e. at exactly ``occurred_at + N months`` it no longer counts.

Reason and hint codes are stable snake_case; ``credit.policies.selectors`` turns them into translated
text. Money and rates are ``Decimal`` and travel through JSON as strings, never as floats.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.dates import utc_text
from credit.ledger import scoring

# --- policy kinds, condition types, reason and hint codes -----------------------------------------

LOAN_GUARANTEE = "loan_guarantee"
INTEREST_SUBSIDY = "interest_subsidy"
DEPOSIT_WAIVER = "deposit_waiver"
FAST_TRACK = "fast_track"
POLICY_KINDS = (LOAN_GUARANTEE, INTEREST_SUBSIDY, DEPOSIT_WAIVER, FAST_TRACK)

MIN_GRADE = "min_grade"
MIN_SCORE = "min_score"
NO_ACTIVE_SERIOUS = "no_active_serious"
NO_SERIOUS_WITHIN_YEARS = "no_serious_within_years"
NO_FALSE_COMMITMENT_UNREPAIRED = "no_false_commitment_unrepaired"
NO_RECTIFICATION_OVERDUE = "no_rectification_overdue"
NO_COURT_DISHONEST_DEBTOR = "no_court_dishonest_debtor"
NO_WAGE_ARREARS_WITHIN_MONTHS = "no_wage_arrears_within_months"
NO_KIND_WITHIN_MONTHS = "no_kind_within_months"


# Reasons (why not eligible, or why this deposit tier).
GRADE_TOO_LOW = "grade_too_low"
SCORE_TOO_LOW = "score_too_low"
SERIOUS_ENTRY_ACTIVE = "serious_entry_active"
SERIOUS_ENTRY_WITHIN_YEARS = "serious_entry_within_years"
FALSE_COMMITMENT_UNREPAIRED = "false_commitment_unrepaired"
RECTIFICATION_OVERDUE = "rectification_overdue"
COURT_DISHONEST_DEBTOR = "court_dishonest_debtor"
WAGE_ARREARS = "wage_arrears"
ENTRY_OF_KIND_WITHIN_MONTHS = "entry_of_kind_within_months"
POLICY_NOT_IN_FORCE = "policy_not_in_force"
DEPOSIT_TIER_FOR_GRADE = "deposit_tier_for_grade"
REASON_CODES = (
    GRADE_TOO_LOW,
    SCORE_TOO_LOW,
    SERIOUS_ENTRY_ACTIVE,
    SERIOUS_ENTRY_WITHIN_YEARS,
    FALSE_COMMITMENT_UNREPAIRED,
    RECTIFICATION_OVERDUE,
    COURT_DISHONEST_DEBTOR,
    WAGE_ARREARS,
    ENTRY_OF_KIND_WITHIN_MONTHS,
    POLICY_NOT_IN_FORCE,
    DEPOSIT_TIER_FOR_GRADE,
)

# Hints (what would change the answer).
ENTRY_STOPS_COUNTING = "entry_stops_counting"
ENTRY_LEAVES_PERIOD = "entry_leaves_period"
REPAIR_POSSIBLE_NOW = "repair_possible_now"
REPAIR_POSSIBLE_FROM = "repair_possible_from"
SCORE_POINTS_NEEDED = "score_points_needed"
POLICY_IN_FORCE_FROM = "policy_in_force_from"
ELIGIBLE_ON = "eligible_on"
BETTER_TIER_WITH_GRADE = "better_tier_with_grade"
DEPOSIT_TIER_IMPROVES_ON = "deposit_tier_improves_on"
HINT_CODES = (
    ENTRY_STOPS_COUNTING,
    ENTRY_LEAVES_PERIOD,
    REPAIR_POSSIBLE_NOW,
    REPAIR_POSSIBLE_FROM,
    SCORE_POINTS_NEEDED,
    POLICY_IN_FORCE_FROM,
    ELIGIBLE_ON,
    BETTER_TIER_WITH_GRADE,
    DEPOSIT_TIER_IMPROVES_ON,
)

# Kind codes the named conditions read (credit.ledger.catalogue).
FALSE_COMMITMENT_KIND = "false_commitment"
RECTIFICATION_OVERDUE_KIND = "rectification_overdue"
COURT_DISHONEST_DEBTOR_KIND = "court_dishonest_debtor"
WAGE_ARREARS_KIND = "wage_arrears"

# Deposit tiers (§35).
EXEMPT = "exempt"
REDUCED = "reduced"
FULL = "full"
DEPOSIT_TIERS = (EXEMPT, REDUCED, FULL)
FULL_RATE = Decimal("1")
CENT = Decimal("0.01")

# The commitment route of issue 5 (告知承诺): not a catalogue policy, a fixed rule with a version.
COMMITMENT_RULE_CODE = "commitment_route"
COMMITMENT_RULE_VERSION = "2026.1"

# Every score rule set a stored decision may name (a replay needs the one it was graded with).
SCORE_RULES: dict[str, scoring.RuleSet] = {rules.version: rules for rules in (scoring.RULES_2026_1,)}

# A "what changes by time alone" search looks this many change instants ahead at most.
_SIMULATION_STEPS = 200

ACTIVE = "active"
_SCOPE_ACTIVE = "active"
_SCOPE_ON_RECORD = "on_record"
_SCOPE_WITHIN = "within"

Issue = dict[str, Any]  # {"code": str, "params": {...}}, JSON-ready


def commitment_rule(min_grade: str, *, version: str = COMMITMENT_RULE_VERSION) -> dict[str, Any]:
    """The rule snapshot of the commitment route: grade ≥ ``min_grade``, no active serious entry, no
    false commitment on record unless repaired or reversed. Older versions stay buildable here so
    that a replay can compare a stored snapshot with what its version meant."""
    if version != "2026.1":
        raise ValueError(f"unknown commitment rule version {version!r}")
    return {
        "code": COMMITMENT_RULE_CODE,
        "version": version,
        "kind": None,
        "valid_from": None,
        "valid_until": None,
        "conditions": [
            {"type": MIN_GRADE, "grade": min_grade},
            {"type": NO_ACTIVE_SERIOUS},
            {"type": NO_FALSE_COMMITMENT_UNREPAIRED},
        ],
        "benefits": {},
    }


# --- canonical JSON, digests, facts as JSON --------------------------------------------------------


def parse_utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def local_day(moment: datetime.datetime) -> str:
    return moment.astimezone(scoring.SHANGHAI).date().isoformat()


def canonical_json(document: Any) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace, no ASCII escaping: the bytes a digest is taken of."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest(document: Any) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def fact_to_json(fact: scoring.EntryFact, entry_hash: str) -> dict[str, Any]:
    """One entry as a decision stores it: what the evaluation read, plus the ledger hash of the
    entry so that a replay can tell a forged fact from the ledger's."""
    return {
        "seq": fact.seq,
        "kind_code": fact.kind_code,
        "tier": fact.tier,
        "points": fact.points,
        "occurred_at": utc_text(fact.occurred_at),
        "recorded_at": utc_text(fact.recorded_at),
        "min_window_months": fact.min_window_months,
        "max_window_months": fact.max_window_months,
        "forces_grade_d": fact.forces_grade_d,
        "effect": fact.effect,
        "reverses": fact.reverses,
        "entry_hash": entry_hash,
    }


def fact_from_json(data: Mapping[str, Any]) -> scoring.EntryFact:
    return scoring.EntryFact(
        seq=int(data["seq"]),
        kind_code=str(data["kind_code"]),
        tier=str(data["tier"]),
        points=int(data["points"]),
        occurred_at=parse_utc(data["occurred_at"]),
        recorded_at=parse_utc(data["recorded_at"]),
        min_window_months=int(data["min_window_months"]),
        max_window_months=int(data["max_window_months"]),
        forces_grade_d=bool(data["forces_grade_d"]),
        effect=str(data["effect"]),
        reverses=None if data["reverses"] is None else int(data["reverses"]),
    )


def inputs_document(
    *,
    purpose: str,
    enterprise_id: int,
    as_of: datetime.datetime,
    known_through_seq: int,
    score_rule_version: str,
    rule: Mapping[str, Any],
    facts: Sequence[Mapping[str, Any]],
    context: Mapping[str, Any],
    source_type: str,
    source_id: str,
) -> dict[str, Any]:
    """Everything a decision is evaluated from (version 1): its sha256 is the decision's digest."""
    return {
        "v": 1,
        "purpose": purpose,
        "enterprise_id": enterprise_id,
        "as_of": utc_text(as_of),
        "known_through_seq": known_through_seq,
        "score_rule_version": score_rule_version,
        "rule": rule,
        "facts": list(facts),
        "context": context,
        "subject": {"source_type": source_type, "source_id": source_id},
    }


# --- validation of rule and benefit documents ------------------------------------------------------

Problem = tuple[str, dict[str, Any]]  # (code, params): the caller translates


def _is_int(value: Any, *, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def decimal_or_none(value: Any) -> Decimal | None:
    """A decimal given as a string or an integer (never a float: JSON floats are inexact)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def conditions_validate(conditions: Any) -> list[Problem]:
    """Problems of a decision table; empty when it can be published."""
    if not isinstance(conditions, list):
        return [("conditions_not_list", {})]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict) or condition.get("type") not in CONDITIONS:
            problems.append(("condition_type_unknown", {"index": index}))
            continue
        kind = condition["type"]
        spec = CONDITIONS[kind]
        if kind in seen and not spec.repeatable:
            problems.append(("condition_repeated", {"index": index, "type": kind}))
        seen.add(kind)
        required, optional = spec.required, spec.optional
        params = set(condition) - {"type"}
        for name in sorted(required - params):
            problems.append(("condition_param_missing", {"index": index, "type": kind, "param": name}))
        for name in sorted(params - required - optional):
            problems.append(("condition_param_unknown", {"index": index, "type": kind, "param": name}))
        bad = []
        if "grade" in condition and condition["grade"] not in scoring.GRADES:
            bad.append("grade")
        if "score" in condition and not _is_int(condition["score"], minimum=0):
            bad.append("score")
        if "years" in condition and not _is_int(condition["years"], minimum=1):
            bad.append("years")
        if "months" in condition and not _is_int(condition["months"], minimum=1):
            bad.append("months")
        if "count_repaired" in condition and not isinstance(condition["count_repaired"], bool):
            bad.append("count_repaired")
        if "kind_codes" in condition:
            codes = condition["kind_codes"]
            if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c for c in codes):
                bad.append("kind_codes")
        problems.extend(("condition_param_invalid", {"index": index, "type": kind, "param": name}) for name in bad)
    return problems


_BENEFIT_KEYS: dict[str, frozenset[str]] = {
    LOAN_GUARANTEE: frozenset({"guarantee_cap", "max_term_months", "fee_rate"}),
    INTEREST_SUBSIDY: frozenset({"subsidy_rate", "max_amount", "max_term_months", "instalments"}),
    DEPOSIT_WAIVER: frozenset({"deposit_rates", "wage_arrears_full_within_months"}),
    FAST_TRACK: frozenset({"item_codes", "privileges"}),
}
_REQUIRED_BENEFITS: dict[str, frozenset[str]] = {
    LOAN_GUARANTEE: frozenset(),
    INTEREST_SUBSIDY: frozenset(),
    DEPOSIT_WAIVER: frozenset({"deposit_rates"}),
    FAST_TRACK: frozenset({"item_codes", "privileges"}),
}
PRIVILEGES = ("promised_days_reduction", "allow_missing_secondary")


def _rate_ok(value: Any) -> bool:
    number = decimal_or_none(value)
    # At most four decimals: a decision stores the rate in a column of that precision.
    return number is not None and Decimal(0) <= number <= FULL_RATE and number == number.quantize(Decimal("0.0001"))


def _amount_ok(value: Any) -> bool:
    number = decimal_or_none(value)
    return number is not None and number > 0


def benefits_validate(kind: str, benefits: Any) -> list[Problem]:
    """Problems of the benefit parameters of a policy of ``kind``; empty when publishable.

    loan_guarantee: ``guarantee_cap`` (amount), ``max_term_months``, ``fee_rate`` (0–1);
    interest_subsidy: ``subsidy_rate`` (0–1), ``max_amount``, ``max_term_months``, ``instalments``;
    deposit_waiver: ``deposit_rates`` {A, B, C, D → rate 0–1 of the wage-deposit base},
    ``wage_arrears_full_within_months`` (any wage-arrears entry within N months → full deposit);
    fast_track: ``item_codes`` (approval item codes covered), ``privileges``
    {``promised_days_reduction``: int ≥ 1, ``allow_missing_secondary``: bool}.
    """
    if kind not in _BENEFIT_KEYS:
        return [("policy_kind_unknown", {"kind": kind})]
    if not isinstance(benefits, dict):
        return [("benefits_not_object", {})]
    problems: list[Problem] = []
    keys = set(benefits)
    problems.extend(("benefit_missing", {"param": k}) for k in sorted(_REQUIRED_BENEFITS[kind] - keys))
    problems.extend(("benefit_unknown", {"param": k}) for k in sorted(keys - _BENEFIT_KEYS[kind]))
    bad: list[str] = []
    for name in ("guarantee_cap", "max_amount"):
        if name in benefits and not _amount_ok(benefits[name]):
            bad.append(name)
    for name in ("fee_rate", "subsidy_rate"):
        if name in benefits and not _rate_ok(benefits[name]):
            bad.append(name)
    for name in ("max_term_months", "instalments", "wage_arrears_full_within_months"):
        if name in benefits and not _is_int(benefits[name], minimum=1):
            bad.append(name)
    if "deposit_rates" in benefits:
        rates = benefits["deposit_rates"]
        if not isinstance(rates, dict) or set(rates) != set(scoring.GRADES) or not all(map(_rate_ok, rates.values())):
            bad.append("deposit_rates")
    if "item_codes" in benefits:
        codes = benefits["item_codes"]
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c.strip() for c in codes):
            bad.append("item_codes")
    if "privileges" in benefits:
        privileges = benefits["privileges"]
        if (
            not isinstance(privileges, dict)
            or not privileges
            or set(privileges) - set(PRIVILEGES)
            or (
                "promised_days_reduction" in privileges
                and not _is_int(privileges["promised_days_reduction"], minimum=1)
            )
            or ("allow_missing_secondary" in privileges and not isinstance(privileges["allow_missing_secondary"], bool))
        ):
            bad.append("privileges")
    problems.extend(("benefit_invalid", {"param": name}) for name in bad)
    return problems


def fast_track_covers(benefits: Mapping[str, Any], item_code: str) -> bool:
    codes = benefits.get("item_codes") or []
    return isinstance(codes, list) and item_code in codes


# --- evaluation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepositOutcome:
    tier: str
    rate: Decimal
    amount: Decimal


@dataclass
class Evaluation:
    """The answer for one rule as of one instant, with everything a screen needs to explain it."""

    as_of: datetime.datetime
    eligible: bool
    grade: str
    score: int
    score_rule_version: str
    reasons: list[Issue] = field(default_factory=list)
    hints: list[Issue] = field(default_factory=list)
    known: tuple[scoring.EntryFact, ...] = ()
    deposit: DepositOutcome | None = None
    outcome: dict[str, Any] = field(default_factory=dict)


@dataclass
class _State:
    as_of: datetime.datetime
    known: list[scoring.EntryFact]
    grade: scoring.GradeResult
    status: dict[int, str]
    rules: scoring.RuleSet


@dataclass
class _Check:
    passed: bool
    reason: Issue | None = None
    hints: list[Issue] = field(default_factory=list)
    changes: list[datetime.datetime] = field(default_factory=list)
    permanent: bool = False  # failed, and time alone never makes it pass


def _issue(code: str, **params: Any) -> Issue:
    return {"code": code, "params": params}


def _entry_ref(fact: scoring.EntryFact) -> dict[str, Any]:
    return {"seq": fact.seq, "kind_code": fact.kind_code, "occurred_on": local_day(fact.occurred_at)}


def _state(known: list[scoring.EntryFact], as_of: datetime.datetime, rules: scoring.RuleSet) -> _State:
    grade = scoring.grade_as_of(known, as_of, rules)
    status: dict[int, str] = {c.seq: ACTIVE for c in grade.contributing}
    for excluded in grade.excluded:
        if excluded.reason != scoring.CORRECTION:
            status[excluded.seq] = excluded.reason
    return _State(as_of=as_of, known=known, grade=grade, status=status, rules=rules)


def _repair_hint(fact: scoring.EntryFact, as_of: datetime.datetime) -> Issue | None:
    if fact.points >= 0:
        return None
    possible = scoring.repair_possible_from(fact)
    if possible <= as_of:
        return _issue(REPAIR_POSSIBLE_NOW, seq=fact.seq, kind_code=fact.kind_code)
    return _issue(REPAIR_POSSIBLE_FROM, seq=fact.seq, kind_code=fact.kind_code, date=local_day(possible))


def _stops_hint(fact: scoring.EntryFact, until: datetime.datetime) -> Issue:
    return _issue(
        ENTRY_STOPS_COUNTING,
        seq=fact.seq,
        kind_code=fact.kind_code,
        points=fact.points,
        occurred_on=local_day(fact.occurred_at),
        until=local_day(until),
    )


def _matching(
    state: _State,
    *,
    select: Callable[[scoring.EntryFact], bool],
    scope: str,
    months: int = 0,
    count_repaired: bool = False,
) -> list[tuple[scoring.EntryFact, datetime.datetime | None]]:
    """Scoring entries chosen by ``select`` that count against the enterprise at ``state.as_of``,
    each with the instant it stops counting (``None``: only a repair or reversal ends it).

    Scopes: ``active`` — inside its publication window and not ended; ``on_record`` — occurred and
    not ended by a repair or reversal, whatever its window; ``within`` — occurred less than
    ``months`` ago and not reversed (nor repaired unless ``count_repaired``).
    """
    found: list[tuple[scoring.EntryFact, datetime.datetime | None]] = []
    for fact in state.known:
        if fact.effect != scoring.SCORE or not select(fact):
            continue
        status = state.status.get(fact.seq)
        if status in (None, scoring.NOT_YET_OCCURRED, scoring.REVERSED):
            continue
        until: datetime.datetime | None
        if scope == _SCOPE_ACTIVE:
            if status != ACTIVE:
                continue
            until = scoring.window_end(fact)
        elif scope == _SCOPE_ON_RECORD:
            if status == scoring.REPAIRED:
                continue
            until = None
        else:
            if status == scoring.REPAIRED and not count_repaired:
                continue
            until = scoring.add_months(fact.occurred_at, months)
            if state.as_of >= until:
                continue
        found.append((fact, until))
    return found


def _entry_check(
    state: _State,
    code: str,
    *,
    select: Callable[[scoring.EntryFact], bool],
    scope: str,
    period_months: int = 0,
    count_repaired: bool = False,
    with_hints: bool,
    **params: Any,
) -> _Check:
    found = _matching(state, select=select, scope=scope, months=period_months, count_repaired=count_repaired)
    if not found:
        return _Check(passed=True)
    reason = _issue(code, entries=[_entry_ref(fact) for fact, _until in found], **params)
    hints: list[Issue] = []
    changes = [until for _fact, until in found if until is not None]
    if with_hints:
        for fact, until in found:
            if until is not None and scope == _SCOPE_WITHIN:
                hints.append(
                    _issue(
                        ENTRY_LEAVES_PERIOD,
                        seq=fact.seq,
                        kind_code=fact.kind_code,
                        occurred_on=local_day(fact.occurred_at),
                        until=local_day(until),
                    )
                )
            elif until is not None:
                hints.append(_stops_hint(fact, until))
            repair = None if (scope == _SCOPE_WITHIN and count_repaired) else _repair_hint(fact, state.as_of)
            if repair is not None:
                hints.append(repair)
    permanent = scope == _SCOPE_ON_RECORD
    return _Check(passed=False, reason=reason, hints=hints, changes=changes, permanent=permanent)


def _grade_hints(state: _State, *, required_grade: str | None, required_score: int | None) -> list[Issue]:
    """Why the grade or score falls short and which entries weigh on it, soonest to end first."""
    hints: list[Issue] = []
    grade = state.grade
    thresholds = dict(state.rules.thresholds)
    needed = required_score
    if needed is None and required_grade is not None and required_grade in thresholds:
        needed = thresholds[required_grade]
    if needed is not None and grade.score < needed:
        hints.append(_issue(SCORE_POINTS_NEEDED, points=needed - grade.score, grade=required_grade, score=needed))
    by_seq = {fact.seq: fact for fact in state.known}
    weighing = [c for c in grade.contributing if c.points < 0 or c.seq in grade.forced_by]
    for contribution in sorted(weighing, key=lambda c: (c.window_ends_at, c.seq)):
        fact = by_seq[contribution.seq]
        hints.append(_stops_hint(fact, contribution.window_ends_at))
        repair = _repair_hint(fact, state.as_of)
        if repair is not None:
            hints.append(repair)
    return hints


def _grade_changes(state: _State) -> list[datetime.datetime]:
    return [state.grade.stable_until] if state.grade.stable_until is not None else []


def _serious(fact: scoring.EntryFact) -> bool:
    return fact.tier == scoring.SERIOUS and fact.points < 0


def _kind_is(*codes: str) -> Callable[[scoring.EntryFact], bool]:
    wanted = frozenset(codes)
    return lambda fact: fact.kind_code in wanted


# --- the conditions: one registered object each ----------------------------------------------------
#
# A condition is its type (the key in a decision table), its parameters, its check and its texts:
# the sentence the decision table is shown as, and the reason given when it fails. Texts are English
# message ids marked for translation here and translated where they are shown
# (``web.policy_display``, ``credit.policies.selectors``). Adding a condition is adding one
# ``_register`` call below (and its translations).


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation (``makemessages`` extracts it) without importing Django."""
    return message


CheckFn = Callable[[_State, Mapping[str, Any], bool], _Check]


@dataclass(frozen=True)
class Condition:
    type: str
    check: CheckFn
    text: str  # the condition as a sentence, e.g. "Credit grade %(grade)s or better"
    reason_code: str
    reason: str  # why it failed, with the reason's parameters
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    repeatable: bool = False  # may appear more than once in one decision table


CONDITIONS: dict[str, Condition] = {}


def _register(condition: Condition) -> None:
    CONDITIONS[condition.type] = condition


def _min_grade(state: _State, condition: Mapping[str, Any], with_hints: bool) -> _Check:
    grade = state.grade
    required = condition["grade"]
    if scoring.grade_rank(grade.grade) <= scoring.grade_rank(required):
        return _Check(passed=True)
    hints = _grade_hints(state, required_grade=required, required_score=None) if with_hints else []
    reason = _issue(GRADE_TOO_LOW, required=required, grade=grade.grade, score=grade.score)
    return _Check(passed=False, reason=reason, hints=hints)


def _min_score(state: _State, condition: Mapping[str, Any], with_hints: bool) -> _Check:
    grade = state.grade
    required_score = int(condition["score"])
    if grade.score >= required_score:
        return _Check(passed=True)
    hints = _grade_hints(state, required_grade=None, required_score=required_score) if with_hints else []
    reason = _issue(SCORE_TOO_LOW, required=required_score, score=grade.score)
    return _Check(passed=False, reason=reason, hints=hints)


def _entries(
    code: str,
    *,
    select: Callable[[Mapping[str, Any]], Callable[[scoring.EntryFact], bool]],
    scope: str,
    period: str | None = None,
) -> CheckFn:
    """The check of a condition that no entry chosen by ``select`` counts against the enterprise in
    ``scope``; ``period`` names the parameter giving the period (``years`` or ``months``)."""

    def check(state: _State, condition: Mapping[str, Any], with_hints: bool) -> _Check:
        params: dict[str, Any] = {}
        months = 0
        if period is not None:
            params[period] = int(condition[period])
            months = params[period] * (12 if period == "years" else 1)
        return _entry_check(
            state,
            code,
            select=select(condition),
            scope=scope,
            period_months=months,
            count_repaired=bool(condition.get("count_repaired", False)),
            with_hints=with_hints,
            **params,
        )

    return check


def _serious_entries(_condition: Mapping[str, Any]) -> Callable[[scoring.EntryFact], bool]:
    return _serious


def _of_kind(*codes: str) -> Callable[[Mapping[str, Any]], Callable[[scoring.EntryFact], bool]]:
    return lambda _condition: _kind_is(*codes)


def _of_listed_kinds(condition: Mapping[str, Any]) -> Callable[[scoring.EntryFact], bool]:
    return _kind_is(*condition["kind_codes"])


_COUNT_REPAIRED = frozenset({"count_repaired"})

_register(
    Condition(
        MIN_GRADE,
        _min_grade,
        gettext_noop("Credit grade %(grade)s or better"),
        GRADE_TOO_LOW,
        gettext_noop("Grade %(required)s or better is needed; the grade is %(grade)s (score %(score)s)."),
        required=frozenset({"grade"}),
    )
)
_register(
    Condition(
        MIN_SCORE,
        _min_score,
        gettext_noop("A credit score of at least %(score)s"),
        SCORE_TOO_LOW,
        gettext_noop("A score of at least %(required)s is needed; the score is %(score)s."),
        required=frozenset({"score"}),
    )
)
_register(
    Condition(
        NO_ACTIVE_SERIOUS,
        _entries(SERIOUS_ENTRY_ACTIVE, select=_serious_entries, scope=_SCOPE_ACTIVE),
        gettext_noop("No serious dishonesty entry in force"),
        SERIOUS_ENTRY_ACTIVE,
        gettext_noop("A serious dishonesty entry is in force: %(entries)s."),
    )
)
_register(
    Condition(
        NO_SERIOUS_WITHIN_YEARS,
        _entries(SERIOUS_ENTRY_WITHIN_YEARS, select=_serious_entries, scope=_SCOPE_WITHIN, period="years"),
        gettext_noop("No serious dishonesty entry within the last %(years)s years"),
        SERIOUS_ENTRY_WITHIN_YEARS,
        gettext_noop("A serious dishonesty entry lies within the last %(years)s years: %(entries)s."),
        required=frozenset({"years"}),
        optional=_COUNT_REPAIRED,
    )
)
_register(
    Condition(
        NO_FALSE_COMMITMENT_UNREPAIRED,
        _entries(FALSE_COMMITMENT_UNREPAIRED, select=_of_kind(FALSE_COMMITMENT_KIND), scope=_SCOPE_ON_RECORD),
        gettext_noop("No false commitment on record unless repaired"),
        FALSE_COMMITMENT_UNREPAIRED,
        gettext_noop("A false commitment is on record and has not been repaired: %(entries)s."),
    )
)
_register(
    Condition(
        NO_RECTIFICATION_OVERDUE,
        _entries(RECTIFICATION_OVERDUE, select=_of_kind(RECTIFICATION_OVERDUE_KIND), scope=_SCOPE_ACTIVE),
        gettext_noop("No overdue rectification order"),
        RECTIFICATION_OVERDUE,
        gettext_noop("A rectification order is overdue: %(entries)s."),
    )
)
_register(
    Condition(
        NO_COURT_DISHONEST_DEBTOR,
        _entries(COURT_DISHONEST_DEBTOR, select=_of_kind(COURT_DISHONEST_DEBTOR_KIND), scope=_SCOPE_ACTIVE),
        gettext_noop("Not listed as a dishonest judgement debtor"),
        COURT_DISHONEST_DEBTOR,
        gettext_noop("The enterprise is listed as a dishonest judgement debtor: %(entries)s."),
    )
)
_register(
    Condition(
        NO_WAGE_ARREARS_WITHIN_MONTHS,
        _entries(WAGE_ARREARS, select=_of_kind(WAGE_ARREARS_KIND), scope=_SCOPE_WITHIN, period="months"),
        gettext_noop("No wage arrears within the last %(months)s months"),
        WAGE_ARREARS,
        gettext_noop("Wage arrears within the last %(months)s months: %(entries)s."),
        required=frozenset({"months"}),
        optional=_COUNT_REPAIRED,
    )
)
_register(
    Condition(
        NO_KIND_WITHIN_MONTHS,
        _entries(ENTRY_OF_KIND_WITHIN_MONTHS, select=_of_listed_kinds, scope=_SCOPE_WITHIN, period="months"),
        gettext_noop("No entry of the kinds %(kinds)s within the last %(months)s months"),
        ENTRY_OF_KIND_WITHIN_MONTHS,
        gettext_noop("An excluding entry within the last %(months)s months: %(entries)s."),
        required=frozenset({"kind_codes", "months"}),
        optional=_COUNT_REPAIRED,
        repeatable=True,
    )
)
CONDITION_TYPES = tuple(CONDITIONS)


def _check_condition(state: _State, condition: Mapping[str, Any], *, with_hints: bool) -> _Check:
    spec = CONDITIONS.get(condition["type"])
    if spec is None:
        raise ValueError(f"unknown condition type {condition['type']!r}")
    return spec.check(state, condition, with_hints)


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=scoring.SHANGHAI)


def _validity_check(rule: Mapping[str, Any], as_of: datetime.datetime, *, with_hints: bool) -> _Check:
    valid_from = rule.get("valid_from")
    valid_until = rule.get("valid_until")
    day = as_of.astimezone(scoring.SHANGHAI).date()
    starts = datetime.date.fromisoformat(valid_from) if valid_from else None
    ends = datetime.date.fromisoformat(valid_until) if valid_until else None
    if (starts is None or starts <= day) and (ends is None or day <= ends):
        return _Check(passed=True)
    reason = _issue(POLICY_NOT_IN_FORCE, date=day.isoformat(), valid_from=valid_from, valid_until=valid_until)
    if starts is not None and day < starts:
        hints = [_issue(POLICY_IN_FORCE_FROM, date=valid_from)] if with_hints else []
        return _Check(passed=False, reason=reason, hints=hints, changes=[_start_of_day(starts)])
    return _Check(passed=False, reason=reason, permanent=True)


def validity_issue(rule: Mapping[str, Any], as_of: datetime.datetime) -> Issue | None:
    """The ``policy_not_in_force`` reason if the rule's in-force period does not hold on the day
    of ``as_of`` (Asia/Shanghai), else ``None``: the same test the evaluation makes."""
    check = _validity_check(rule, as_of, with_hints=False)
    return None if check.passed else check.reason


def _dedupe(issues: Iterable[Issue]) -> list[Issue]:
    seen: set[bytes] = set()
    unique: list[Issue] = []
    for issue in issues:
        key = canonical_json(issue)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique


@dataclass
class _Core:
    state: _State
    eligible: bool
    reasons: list[Issue]
    hints: list[Issue]
    changes: list[datetime.datetime]
    permanent: bool = False


def _evaluate_core(
    rule: Mapping[str, Any],
    known: list[scoring.EntryFact],
    as_of: datetime.datetime,
    rules: scoring.RuleSet,
    *,
    with_hints: bool,
) -> _Core:
    state = _state(known, as_of, rules)
    checks = [_validity_check(rule, as_of, with_hints=with_hints)]
    checks.extend(_check_condition(state, condition, with_hints=with_hints) for condition in rule["conditions"])
    reasons = [check.reason for check in checks if check.reason is not None]
    hints = _dedupe(hint for check in checks for hint in check.hints)
    # The grade's next change covers every instant at which an entry's status can move (a window
    # ends, a dated entry or repair takes effect); failing period conditions add their own ends.
    changes = [moment for check in checks for moment in check.changes if moment > as_of]
    changes.extend(_grade_changes(state))
    return _Core(state, not reasons, reasons, hints, changes, any(check.permanent for check in checks))


def _period_selectors(rule: Mapping[str, Any]) -> list[tuple[Callable[[scoring.EntryFact], bool], int]]:
    periods: list[tuple[Callable[[scoring.EntryFact], bool], int]] = []
    for condition in rule["conditions"]:
        kind = condition["type"]
        if kind == NO_SERIOUS_WITHIN_YEARS:
            periods.append((_serious, 12 * int(condition["years"])))
        elif kind == NO_WAGE_ARREARS_WITHIN_MONTHS:
            periods.append((_kind_is(WAGE_ARREARS_KIND), int(condition["months"])))
        elif kind == NO_KIND_WITHIN_MONTHS:
            periods.append((_kind_is(*condition["kind_codes"]), int(condition["months"])))
    months = (rule.get("benefits") or {}).get("wage_arrears_full_within_months")
    if rule.get("kind") == DEPOSIT_WAIVER and months:
        periods.append((_kind_is(WAGE_ARREARS_KIND), int(months)))
    return periods


def _live(rule: Mapping[str, Any], known: list[scoring.EntryFact], as_of: datetime.datetime) -> list[scoring.EntryFact]:
    """The entries that can still matter at any instant from ``as_of`` on: an entry past its
    window stays out of the score for good, so unless a period or on-record condition still reads
    it, looking ahead can leave it out (the search is then linear in the live entries, not in a
    long history)."""
    periods = _period_selectors(rule)
    on_record = any(condition["type"] == NO_FALSE_COMMITMENT_UNREPAIRED for condition in rule["conditions"])

    def matters(fact: scoring.EntryFact) -> bool:
        if fact.effect != scoring.SCORE or as_of < scoring.window_end(fact):
            return True
        if on_record and fact.kind_code == FALSE_COMMITMENT_KIND:
            return True
        return any(select(fact) and as_of < scoring.add_months(fact.occurred_at, months) for select, months in periods)

    return [fact for fact in known if matters(fact)]


def _valid_until_end(rule: Mapping[str, Any]) -> datetime.datetime | None:
    valid_until = rule.get("valid_until")
    if not valid_until:
        return None
    return _start_of_day(datetime.date.fromisoformat(valid_until) + datetime.timedelta(days=1))


def _first_instant(
    rule: Mapping[str, Any],
    start: datetime.datetime,
    changes: list[datetime.datetime],
    step: Callable[[datetime.datetime], tuple[bool, list[datetime.datetime]]],
) -> datetime.datetime | None:
    """The first instant after ``start`` at which ``step`` accepts, by the passage of time alone
    (no new entry recorded), or ``None``. Walks from one change instant to the next: between two
    of them nothing a condition reads can change. ``step(moment)`` returns (accepted, the change
    instants seen from ``moment``)."""
    limit = _valid_until_end(rule)
    moment = start
    for _step in range(_SIMULATION_STEPS):
        later = [m for m in changes if m > moment]
        if not later:
            return None
        moment = min(later)
        if limit is not None and moment >= limit:
            return None
        accepted, changes = step(moment)
        if accepted:
            return moment
    return None


def _known(facts: Iterable[scoring.EntryFact], as_of: datetime.datetime) -> list[scoring.EntryFact]:
    if as_of.tzinfo is None:
        raise ValueError("as_of must be time-zone aware")
    return sorted((fact for fact in facts if fact.recorded_at <= as_of), key=lambda fact: fact.seq)


def evaluate(
    rule: Mapping[str, Any],
    facts: Iterable[scoring.EntryFact],
    as_of: datetime.datetime,
    *,
    rules: scoring.RuleSet = scoring.CURRENT_RULES,
    with_hints: bool = True,
) -> Evaluation:
    """Eligible or not under ``rule`` as of ``as_of``, with the reasons (one per failed condition,
    in the table's order, the validity period first) and the hints: which entries stop counting
    when, which can be repaired from when, how many points are missing, and ``eligible_on``, the
    first instant at which the answer turns by time alone."""
    known = _known(facts, as_of)
    core = _evaluate_core(rule, known, as_of, rules, with_hints=with_hints)
    hints = core.hints
    if with_hints and not core.eligible and not core.permanent:
        live = _live(rule, known, as_of)

        def turns_eligible(moment: datetime.datetime) -> tuple[bool, list[datetime.datetime]]:
            later = _evaluate_core(rule, live, moment, rules, with_hints=False)
            return later.eligible, later.changes

        moment = _first_instant(rule, as_of, core.changes, turns_eligible)
        if moment is not None:
            hints = [*hints, _issue(ELIGIBLE_ON, date=local_day(moment))]
    outcome: dict[str, Any] = {}
    if core.eligible and rule.get("kind") == FAST_TRACK:
        outcome = {"privileges": dict(rule.get("benefits", {}).get("privileges", {}))}
    grade = core.state.grade
    return Evaluation(
        as_of=as_of,
        eligible=core.eligible,
        grade=grade.grade,
        score=grade.score,
        score_rule_version=grade.rule_version,
        reasons=core.reasons,
        hints=hints,
        known=tuple(known),
        outcome=outcome,
    )


def deposit_tier(rate: Decimal) -> str:
    if rate <= 0:
        return EXEMPT
    if rate >= FULL_RATE:
        return FULL
    return REDUCED


def _percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


@dataclass
class _Deposit:
    core: _Core
    rate: Decimal
    reasons: list[Issue]
    hints: list[Issue]
    changes: list[datetime.datetime]


def _deposit_core(
    rule: Mapping[str, Any],
    known: list[scoring.EntryFact],
    as_of: datetime.datetime,
    rules: scoring.RuleSet,
    *,
    with_hints: bool,
) -> _Deposit:
    benefits = rule.get("benefits", {})
    rates = {grade: Decimal(str(value)) for grade, value in benefits["deposit_rates"].items()}
    core = _evaluate_core(rule, known, as_of, rules, with_hints=with_hints)
    grade = core.state.grade.grade
    grade_rate = rates[grade]
    reasons: list[Issue] = [
        _issue(DEPOSIT_TIER_FOR_GRADE, grade=grade, rate=str(grade_rate), tier=deposit_tier(grade_rate))
    ]
    hints = list(core.hints)
    changes = list(core.changes)
    rate = grade_rate
    months = benefits.get("wage_arrears_full_within_months")
    arrears_found = False
    if months:
        arrears = _entry_check(
            core.state,
            WAGE_ARREARS,
            select=_kind_is(WAGE_ARREARS_KIND),
            scope=_SCOPE_WITHIN,
            period_months=int(months),
            with_hints=with_hints,
            months=int(months),
        )
        changes.extend(m for m in arrears.changes if m > as_of)
        if not arrears.passed and arrears.reason is not None:
            arrears_found = True
            if arrears.reason["code"] not in {r["code"] for r in core.reasons}:
                reasons.append(arrears.reason)
            hints.extend(arrears.hints)
    reasons.extend(core.reasons)
    if arrears_found or not core.eligible:
        rate = FULL_RATE
    if with_hints and not arrears_found and core.eligible:
        better = [g for g in scoring.GRADES if rates[g] < grade_rate]
        if better:
            target = max(better, key=scoring.grade_rank)  # the nearest better grade
            hints.append(
                _issue(BETTER_TIER_WITH_GRADE, grade=target, tier=deposit_tier(rates[target]), rate=str(rates[target]))
            )
            hints.extend(_grade_hints(core.state, required_grade=target, required_score=None))
    return _Deposit(core=core, rate=rate, reasons=reasons, hints=_dedupe(hints), changes=changes)


def deposit_evaluate(
    rule: Mapping[str, Any],
    facts: Iterable[scoring.EntryFact],
    as_of: datetime.datetime,
    *,
    wage_deposit_base: Decimal,
    rules: scoring.RuleSet = scoring.CURRENT_RULES,
    with_hints: bool = True,
) -> Evaluation:
    """§35: the wage-deposit rate for a construction project of the enterprise.

    The rate follows the grade (``deposit_rates``); any wage-arrears entry within
    ``wage_arrears_full_within_months`` months, or a failed condition of the table, means the full
    deposit. Tier: rate 0 exempt, 1 full, in between reduced; amount = base × rate, to the cent
    (half up). ``eligible`` means a waiver (exempt or reduced). Reasons always start with the tier
    the grade gives; hints say what would lower the rate and when it falls by time alone.
    """
    known = _known(facts, as_of)
    result = _deposit_core(rule, known, as_of, rules, with_hints=with_hints)
    hints = result.hints
    if with_hints and result.rate > 0 and not result.core.permanent:
        live = _live(rule, known, as_of)

        def lower_rate(moment: datetime.datetime) -> tuple[bool, list[datetime.datetime]]:
            later = _deposit_core(rule, live, moment, rules, with_hints=False)
            return later.rate < result.rate, later.changes

        moment = _first_instant(rule, as_of, result.changes, lower_rate)
        if moment is not None:
            better = _deposit_core(rule, live, moment, rules, with_hints=False)
            hints = [*hints, _issue(DEPOSIT_TIER_IMPROVES_ON, tier=deposit_tier(better.rate), date=local_day(moment))]
    amount = (Decimal(wage_deposit_base) * result.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    tier = deposit_tier(result.rate)
    grade = result.core.state.grade
    return Evaluation(
        as_of=as_of,
        eligible=tier != FULL,
        grade=grade.grade,
        score=grade.score,
        score_rule_version=grade.rule_version,
        reasons=result.reasons,
        hints=hints,
        known=tuple(known),
        deposit=DepositOutcome(tier=tier, rate=result.rate, amount=amount),
    )
