"""Integrity supervision (廉政监管): a small catalogue of rules over the audit trail, pure (no
Django, no database, no clock).

The facts come in as plain dataclasses (``Facts``: the decisions of a period and of the baseline
before it, the objections, the staff's acts on cases, the recorded conflicts of interest and the
working-day calendar); each rule turns them into ``Finding``s, each with the person it concerns,
its subject, the period and its evidence as JSON-ready data. ``approvals.supervision.
integrity_selectors`` gathers the facts, ``integrity_services.integrity_scan`` stores each finding
once as an alert (the dedupe key is rule + person + subject + period), and a supervisor disposes
of it. A finding is a reason to look, not a verdict: the evidence is what a supervisor checks.

Periods are fixed windows of whole calendar months (a month, a quarter, a half-year, a year), so
that a scan run every hour over the current period finds the same pattern under the same key each
time instead of a new one per sliding window.

Boundaries the tests pin: ``same_decider_enterprise`` needs *more than* K decisions (exactly K is
not an alert); ``decision_far_faster`` needs fewer working days than the share of the median
(exactly the share is not an alert) and at least the minimum sample of *other* decisions;
``clock_stops_above_peers`` needs at least the minimum count and a rate *above* the factor times the
peers' pooled rate; office hours include their start and exclude their end.

Texts are English message ids marked with ``gettext_noop`` and translated where they are shown.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from approvals.calendar import clock


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation (``makemessages`` extracts it) without importing Django."""
    return message


# --- periods -------------------------------------------------------------------------------------

PERIOD_MONTHS_ALLOWED = (1, 2, 3, 4, 6, 12)


@dataclass(frozen=True, order=True)
class Period:
    """Calendar days ``start`` ≤ day < ``end`` (local days, Asia/Shanghai)."""

    start: datetime.date
    end: datetime.date

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("a period ends after it starts")

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end


def _month_start(year: int, month: int) -> datetime.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime.date(year, month, 1)


def period_containing(day: datetime.date, *, months: int) -> Period:
    """The fixed period of ``months`` months (a divisor of 12) that contains ``day``: months 1–3,
    4–6 … for a quarter."""
    if months not in PERIOD_MONTHS_ALLOWED:
        raise ValueError(f"a period is 1, 2, 3, 4, 6 or 12 months, not {months}")
    first_month = (day.month - 1) // months * months + 1
    return Period(_month_start(day.year, first_month), _month_start(day.year, first_month + months))


def period_before(period: Period, *, months: int) -> Period:
    return period_containing(period.start - datetime.timedelta(days=1), months=months)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` months before the month of ``day``."""
    return _month_start(day.year, day.month - months)


# --- thresholds and facts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The settings of the rules (``INTEGRITY_*``, README)."""

    same_enterprise_max: int = 3  # K: more than K decisions for one enterprise in a period is an alert
    fast_share_percent: int = 25  # faster than this share of the median working days is "far faster"
    fast_min_sample: int = 5  # other decisions of the same department and item needed for a median
    peer_factor_percent: int = 300  # a rate above this multiple of the peers' rate is "far above"
    peer_min_count: int = 3  # fewer suspensions (or extensions) than this are never an alert
    office_start: datetime.time = datetime.time(8, 30)
    office_end: datetime.time = datetime.time(17, 30)

    def __post_init__(self) -> None:
        if self.same_enterprise_max < 1 or self.fast_min_sample < 1 or self.peer_min_count < 1:
            raise ValueError("counts are at least 1")
        if not 0 < self.fast_share_percent < 100:
            raise ValueError("the share of the median lies between 0 and 100 per cent")
        if self.peer_factor_percent <= 100:
            raise ValueError("the peer factor is above 100 per cent")
        if not self.office_start < self.office_end:
            raise ValueError("office hours end after they start")


@dataclass(frozen=True)
class DecisionFact:
    """A decision made by a person (decisions on a signed commitment have no decider and are left out)."""

    application_id: int
    reference: str
    decider_id: int
    enterprise_id: int
    enterprise_name: str
    item_id: int
    item_name: str
    department_id: int  # the lead department that decided
    outcome: str  # "approved" | "refused"
    decided_at: datetime.datetime  # aware, in Asia/Shanghai
    # Working days from acceptance to the decision day, less the days the clock stood still
    # (art. 45 periods, supplement requests): the time the department actually had.
    working_days: int | None = None
    override_justification: str = ""


@dataclass(frozen=True)
class OpinionFact:
    application_id: int
    department_id: int
    department_name: str
    outcome: str  # "agree" | "disagree" | "agree_forward" | "deemed_consent"
    reasons: str


SUSPENSION = "suspension"
EXTENSION = "extension"
HANDLING = "handling"
ACT_KINDS = (SUSPENSION, EXTENSION, HANDLING)


@dataclass(frozen=True)
class ActFact:
    """One act of a staff member on a case, from its history."""

    application_id: int
    reference: str
    enterprise_id: int
    enterprise_name: str
    actor_id: int
    department_id: int | None
    action: str  # the history's action code ("accepted", "decided", "clock_suspended" …)
    kind: str  # SUSPENSION (the clock stopped: art. 45 or a supplement request), EXTENSION, HANDLING
    at: datetime.datetime  # aware


INSPECTOR_CONFLICT = "inspector_conflict"
CAMPAIGN_RECUSAL = "campaign_recusal"


@dataclass(frozen=True)
class ConflictFact:
    """A recorded conflict of interest: ``person_id`` must not deal with ``enterprise_id`` from
    ``recorded_at`` on."""

    person_id: int
    enterprise_id: int
    source: str  # INSPECTOR_CONFLICT | CAMPAIGN_RECUSAL
    reason: str
    recorded_at: datetime.datetime
    source_reference: str = ""  # the campaign code of a campaign recusal


@dataclass(frozen=True)
class Facts:
    period: Period
    decisions: Sequence[DecisionFact]  # decided in the period
    baseline: Sequence[DecisionFact]  # decided in the baseline window (the medians); may include the above
    opinions: Sequence[OpinionFact]
    acts: Sequence[ActFact]  # in the period
    conflicts: Sequence[ConflictFact]
    calendar: clock.WorkingCalendar


@dataclass(frozen=True)
class Finding:
    rule: str
    person_id: int
    department_id: int | None
    subject: str
    period: Period
    evidence: Mapping[str, Any]
    application_ids: tuple[int, ...]

    @property
    def dedupe_key(self) -> str:
        return f"{self.rule}:{self.person_id}:{self.subject}:{self.period.key}"


# --- the registry --------------------------------------------------------------------------------

Evaluate = Callable[[Facts, Thresholds], list[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule: its stable code, its title and message (``%(name)s`` placeholders filled from the
    finding's evidence) and its evaluation."""

    code: str
    title: str
    message: str
    evaluate: Evaluate


RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> None:
    if rule.code in RULES:
        raise ValueError(f"rule {rule.code} registered twice")
    RULES[rule.code] = rule


def rule_get(code: str) -> Rule | None:
    return RULES.get(code)


def findings_all(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    """Every rule's findings, in dedupe-key order (the order the scan stores them in: two scans
    at once then meet on the same first key and never deadlock)."""
    found = [finding for rule in RULES.values() for finding in rule.evaluate(facts, thresholds)]
    return sorted(found, key=lambda finding: finding.dedupe_key)


# --- helpers -------------------------------------------------------------------------------------


def _case(application_id: int, reference: str, **more: Any) -> dict[str, Any]:
    return {"id": application_id, "reference": reference, **more}


def _local_text(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _in_period(facts: Facts, moment: datetime.datetime) -> bool:
    return facts.period.contains(moment.date())


def _decision_key(decision: DecisionFact) -> tuple[datetime.datetime, str, int]:
    return (decision.decided_at, decision.reference, decision.application_id)


def _median(values: Iterable[int]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def _number(value: Fraction) -> int | float:
    """A JSON number: an integer when it is one, else rounded to two decimals."""
    return int(value) if value.denominator == 1 else round(float(value), 2)


def _unique_decisions(decisions: Iterable[DecisionFact]) -> list[DecisionFact]:
    """One fact per application (a list given twice counts once), in a fixed order."""
    by_application = {decision.application_id: decision for decision in sorted(decisions, key=_decision_key)}
    return sorted(by_application.values(), key=_decision_key)


# --- 1. the same decider, the same enterprise, often --------------------------------------------

SAME_DECIDER_ENTERPRISE = "same_decider_enterprise"


def _same_decider_enterprise(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    groups: dict[tuple[int, int], list[DecisionFact]] = defaultdict(list)
    for decision in _unique_decisions(facts.decisions):
        if _in_period(facts, decision.decided_at):
            groups[(decision.decider_id, decision.enterprise_id)].append(decision)
    findings = []
    for (decider_id, enterprise_id), decisions in groups.items():
        if len(decisions) <= thresholds.same_enterprise_max:
            continue
        latest = decisions[-1]
        findings.append(
            Finding(
                rule=SAME_DECIDER_ENTERPRISE,
                person_id=decider_id,
                department_id=latest.department_id,
                subject=f"enterprise:{enterprise_id}",
                period=facts.period,
                evidence={
                    "enterprise": {"id": enterprise_id, "name": latest.enterprise_name},
                    "count": len(decisions),
                    "threshold": thresholds.same_enterprise_max,
                    "cases": [
                        _case(d.application_id, d.reference, decided_at=_local_text(d.decided_at), outcome=d.outcome)
                        for d in decisions
                    ],
                },
                application_ids=tuple(d.application_id for d in decisions),
            )
        )
    return findings


_register(
    Rule(
        SAME_DECIDER_ENTERPRISE,
        gettext_noop("The same decision maker decides one enterprise's cases often"),
        gettext_noop(
            "%(count)s decisions on cases of %(enterprise_name)s by the same person in the period; "
            "more than %(threshold)s is flagged."
        ),
        _same_decider_enterprise,
    )
)


# --- 2. approval over a reasoned objection -------------------------------------------------------

APPROVAL_OVER_OBJECTION = "approval_over_objection"
DISAGREE = "disagree"
APPROVED = "approved"


def _approval_over_objection(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    objections: dict[int, dict[int, OpinionFact]] = defaultdict(dict)
    for opinion in facts.opinions:
        if opinion.outcome == DISAGREE and opinion.reasons.strip():
            objections[opinion.application_id][opinion.department_id] = opinion
    findings = []
    for decision in _unique_decisions(facts.decisions):
        found = objections.get(decision.application_id)
        if decision.outcome != APPROVED or not found or not _in_period(facts, decision.decided_at):
            continue
        findings.append(
            Finding(
                rule=APPROVAL_OVER_OBJECTION,
                person_id=decision.decider_id,
                department_id=decision.department_id,
                subject=f"application:{decision.application_id}",
                period=facts.period,
                evidence={
                    "case": _case(
                        decision.application_id, decision.reference, decided_at=_local_text(decision.decided_at)
                    ),
                    "enterprise": {"id": decision.enterprise_id, "name": decision.enterprise_name},
                    "count": len(found),
                    "objections": [
                        {"department": {"id": o.department_id, "name": o.department_name}, "reasons": o.reasons}
                        for _key, o in sorted(found.items())
                    ],
                    "justification": decision.override_justification,
                },
                application_ids=(decision.application_id,),
            )
        )
    return findings


_register(
    Rule(
        APPROVAL_OVER_OBJECTION,
        gettext_noop("Approval over a reasoned objection"),
        gettext_noop("Approved although %(count)s co-review department(s) disagreed with reasons."),
        _approval_over_objection,
    )
)


# --- 3. far faster than the department's usual time for the item --------------------------------

DECISION_FAR_FASTER = "decision_far_faster"


def _decision_far_faster(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    samples: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for decision in _unique_decisions(facts.baseline):
        if decision.working_days is not None:
            samples[(decision.department_id, decision.item_id)][decision.application_id] = decision.working_days
    findings = []
    for decision in _unique_decisions(facts.decisions):
        if decision.working_days is None or not _in_period(facts, decision.decided_at):
            continue
        others = [
            days
            for application_id, days in samples.get((decision.department_id, decision.item_id), {}).items()
            if application_id != decision.application_id
        ]
        if len(others) < thresholds.fast_min_sample:
            continue
        median = _median(others)
        limit = median * thresholds.fast_share_percent / 100
        if not decision.working_days < limit:
            continue
        findings.append(
            Finding(
                rule=DECISION_FAR_FASTER,
                person_id=decision.decider_id,
                department_id=decision.department_id,
                subject=f"application:{decision.application_id}",
                period=facts.period,
                evidence={
                    "case": _case(
                        decision.application_id, decision.reference, decided_at=_local_text(decision.decided_at)
                    ),
                    "enterprise": {"id": decision.enterprise_id, "name": decision.enterprise_name},
                    "item": {"id": decision.item_id, "name": decision.item_name},
                    "working_days": decision.working_days,
                    "median": _number(median),
                    "sample": len(others),
                    "share_percent": thresholds.fast_share_percent,
                    "limit": _number(limit),
                },
                application_ids=(decision.application_id,),
            )
        )
    return findings


_register(
    Rule(
        DECISION_FAR_FASTER,
        gettext_noop("Decision far faster than usual"),
        gettext_noop(
            "Decided in %(working_days)s working day(s); the department's median for the item is %(median)s "
            "over %(sample)s other decisions, and less than %(share_percent)s%% of it is flagged."
        ),
        _decision_far_faster,
    )
)


# --- 4. suspensions or extensions far above peers -------------------------------------------------

CLOCK_STOPS_ABOVE_PEERS = "clock_stops_above_peers"
MEASURES: dict[str, str] = {
    SUSPENSION: gettext_noop("suspensions of the clock"),
    EXTENSION: gettext_noop("extensions"),
}
# Whose cases count as the base of a rate: anyone who acted on a case of the department may stop
# its clock; only a decision maker asks for an extension (the head of the bureau approves it), so
# reviewers are not an extender's peers.
_BASE_ACTIONS: dict[str, frozenset[str] | None] = {
    SUSPENSION: None,
    EXTENSION: frozenset({"decided", "extension_requested"}),
}


def _clock_stops_above_peers(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    unique = {
        (act.application_id, act.actor_id, act.action, act.at): (act.department_id, act)
        for act in facts.acts
        if act.department_id is not None and _in_period(facts, act.at)
    }
    acts = sorted(unique.values(), key=lambda pair: (pair[1].at, pair[1].reference, pair[1].action, pair[1].actor_id))
    findings = []
    for measure, base_actions in _BASE_ACTIONS.items():
        cases: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        counted: dict[int, dict[int, list[ActFact]]] = defaultdict(lambda: defaultdict(list))
        for department_id, act in acts:
            if base_actions is None or act.action in base_actions or act.kind == measure:
                cases[department_id][act.actor_id].add(act.application_id)
            if act.kind == measure:
                counted[department_id][act.actor_id].append(act)
        for department_id, people in sorted(cases.items()):
            total_cases = sum(len(ids) for ids in people.values())
            total_count = sum(len(found) for found in counted[department_id].values())
            for person_id, own_cases in sorted(people.items()):
                own = counted[department_id].get(person_id, [])
                peer_cases = total_cases - len(own_cases)
                peer_count = total_count - len(own)
                if len(own) < thresholds.peer_min_count or peer_cases == 0:
                    continue
                # own / cases > factor × peer_count / peer_cases, in integers
                if not len(own) * peer_cases * 100 > thresholds.peer_factor_percent * peer_count * len(own_cases):
                    continue
                references = {act.application_id: act.reference for act in own}
                findings.append(
                    Finding(
                        rule=CLOCK_STOPS_ABOVE_PEERS,
                        person_id=person_id,
                        department_id=department_id,
                        subject=f"{measure}:department:{department_id}",
                        period=facts.period,
                        evidence={
                            "measure": measure,
                            "count": len(own),
                            "cases_handled": len(own_cases),
                            "rate_percent": _number(Fraction(len(own) * 100, len(own_cases))),
                            "peers": len(people) - 1,
                            "peer_count": peer_count,
                            "peer_cases": peer_cases,
                            "peer_rate_percent": _number(Fraction(peer_count * 100, peer_cases)),
                            "factor_percent": thresholds.peer_factor_percent,
                            "min_count": thresholds.peer_min_count,
                            "acts": [
                                _case(act.application_id, act.reference, action=act.action, at=_local_text(act.at))
                                for act in own
                            ],
                        },
                        application_ids=tuple(sorted(references)),
                    )
                )
    return findings


_register(
    Rule(
        CLOCK_STOPS_ABOVE_PEERS,
        gettext_noop("Suspensions or extensions far above peers"),
        gettext_noop(
            "%(count)s %(measure)s in %(cases_handled)s cases (%(rate_percent)s%%) against %(peer_rate_percent)s%% "
            "for %(peers)s colleague(s) of the department."
        ),
        _clock_stops_above_peers,
    )
)


# --- 5. work on a case of an enterprise the person is recused from --------------------------------

RECUSED_PERSON_ACTED = "recused_person_acted"


def _recused_person_acted(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    conflicts: dict[tuple[int, int], list[ConflictFact]] = defaultdict(list)
    for conflict in facts.conflicts:
        conflicts[(conflict.person_id, conflict.enterprise_id)].append(conflict)
    acted: dict[tuple[int, int], dict[tuple[int, str, datetime.datetime], ActFact]] = defaultdict(dict)
    for act in facts.acts:
        found = conflicts.get((act.actor_id, act.enterprise_id))
        # Only work done once the conflict was on record: before, nobody had told the system.
        if found and _in_period(facts, act.at) and any(c.recorded_at <= act.at for c in found):
            acted[(act.actor_id, act.enterprise_id)][(act.application_id, act.action, act.at)] = act
    findings = []
    for (person_id, enterprise_id), by_key in acted.items():
        acts = sorted(by_key.values(), key=lambda a: (a.at, a.reference, a.action))
        earliest = min(a.at for a in acts)
        recorded = sorted(
            {(c.recorded_at, c.source, c.source_reference, c.reason) for c in conflicts[(person_id, enterprise_id)]}
        )
        departments = [a.department_id for a in acts if a.department_id is not None]
        findings.append(
            Finding(
                rule=RECUSED_PERSON_ACTED,
                person_id=person_id,
                department_id=departments[-1] if departments else None,
                subject=f"enterprise:{enterprise_id}",
                period=facts.period,
                evidence={
                    "enterprise": {"id": enterprise_id, "name": acts[-1].enterprise_name},
                    "count": len(acts),
                    "conflicts": [
                        {
                            "source": source,
                            "source_reference": reference,
                            "reason": reason,
                            "recorded_at": _local_text(at),
                            "in_force_at_first_act": at <= earliest,
                        }
                        for at, source, reference, reason in recorded
                    ],
                    "acts": [_case(a.application_id, a.reference, action=a.action, at=_local_text(a.at)) for a in acts],
                },
                application_ids=tuple(sorted({a.application_id for a in acts})),
            )
        )
    return findings


_register(
    Rule(
        RECUSED_PERSON_ACTED,
        gettext_noop("Work on a case of an enterprise the person is recused from"),
        gettext_noop(
            "%(count)s act(s) on cases of %(enterprise_name)s after a conflict of interest with it was recorded."
        ),
        _recused_person_acted,
    )
)


# --- 6. decisions outside working hours -----------------------------------------------------------

DECISION_OUTSIDE_HOURS = "decision_outside_hours"


def outside_working_hours(
    moment: datetime.datetime, *, calendar: clock.WorkingCalendar, thresholds: Thresholds
) -> tuple[bool, bool, bool]:
    """(outside, on a day off, provisional) for a local instant: a day that is not a working day
    per the calendar (weekdays only, provisionally, for a year it does not cover), or a time before
    the office opens or from the time it closes."""
    day = moment.date()
    provisional = day.year not in calendar.years
    day_off = not calendar.is_working_day(day, strict=False)
    in_hours = thresholds.office_start <= moment.time().replace(tzinfo=None) < thresholds.office_end
    return day_off or not in_hours, day_off, provisional


def _decision_outside_hours(facts: Facts, thresholds: Thresholds) -> list[Finding]:
    findings = []
    for decision in _unique_decisions(facts.decisions):
        if not _in_period(facts, decision.decided_at):
            continue
        outside, day_off, provisional = outside_working_hours(
            decision.decided_at, calendar=facts.calendar, thresholds=thresholds
        )
        if not outside:
            continue
        findings.append(
            Finding(
                rule=DECISION_OUTSIDE_HOURS,
                person_id=decision.decider_id,
                department_id=decision.department_id,
                subject=f"application:{decision.application_id}",
                period=facts.period,
                evidence={
                    "case": _case(decision.application_id, decision.reference),
                    "enterprise": {"id": decision.enterprise_id, "name": decision.enterprise_name},
                    "decided_at": _local_text(decision.decided_at),
                    "day_off": day_off,
                    "calendar_provisional": provisional,
                    "office_start": thresholds.office_start.strftime("%H:%M"),
                    "office_end": thresholds.office_end.strftime("%H:%M"),
                },
                application_ids=(decision.application_id,),
            )
        )
    return findings


_register(
    Rule(
        DECISION_OUTSIDE_HOURS,
        gettext_noop("Decision outside working hours"),
        gettext_noop(
            "Decided at %(decided_at)s, outside the office hours %(office_start)s–%(office_end)s of a working day."
        ),
        _decision_outside_hours,
    )
)


def message_params(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The flat values a rule's message reads: the evidence's scalars, plus ``enterprise_name``."""
    params = {key: value for key, value in evidence.items() if isinstance(value, str | int | float | bool)}
    enterprise = evidence.get("enterprise")
    if isinstance(enterprise, Mapping):
        params["enterprise_name"] = enterprise.get("name", "")
    return params
