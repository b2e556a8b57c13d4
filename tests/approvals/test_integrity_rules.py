"""The integrity rules (廉政监管) as pure functions: table-driven, with their boundaries, and
properties (the order of the facts never changes the findings; a finding's key is stable)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.calendar import clock
from approvals.supervision import integrity as rules
from approvals.supervision.integrity import (
    ActFact,
    ConflictFact,
    DecisionFact,
    Facts,
    OpinionFact,
    Period,
    Thresholds,
)

ZONE = ZoneInfo("Asia/Shanghai")
PERIOD = Period(datetime.date(2026, 9, 1), datetime.date(2026, 10, 1))
# 2026: Fri 25 Sep (Mid-autumn) off, Sun 27 Sep worked (as the bureau's calendar has it).
CALENDAR = clock.WorkingCalendar(
    version=1,
    years=frozenset({2026}),
    holidays=frozenset({datetime.date(2026, 9, 25)}),
    workdays=frozenset({datetime.date(2026, 9, 27)}),
)
THRESHOLDS = Thresholds(
    same_enterprise_max=3,
    fast_share_percent=25,
    fast_min_sample=4,
    peer_factor_percent=300,
    peer_min_count=3,
    office_start=datetime.time(8, 30),
    office_end=datetime.time(17, 30),
)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 9) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def decision(pk: int, **overrides: object) -> DecisionFact:
    fields: dict[str, object] = {
        "application_id": pk,
        "reference": f"SP2026-{pk:06d}",
        "decider_id": 1,
        "enterprise_id": 10,
        "enterprise_name": "测试企业",
        "item_id": 100,
        "item_name": "食品经营许可",
        "department_id": 7,
        "outcome": "approved",
        "decided_at": at(1 + pk % 20),
        "working_days": 10,
    }
    fields.update(overrides)
    return DecisionFact(**fields)  # type: ignore[arg-type]


def act(pk: int, actor: int, kind: str = rules.HANDLING, **overrides: object) -> ActFact:
    action = {rules.SUSPENSION: "clock_suspended", rules.EXTENSION: "extension_requested"}.get(kind, "opinion_given")
    fields: dict[str, object] = {
        "application_id": pk,
        "reference": f"SP2026-{pk:06d}",
        "enterprise_id": 10,
        "enterprise_name": "测试企业",
        "actor_id": actor,
        "department_id": 7,
        "action": action,
        "kind": kind,
        "at": at(2 + pk % 20),
    }
    fields.update(overrides)
    return ActFact(**fields)  # type: ignore[arg-type]


def facts(**parts: object) -> Facts:
    fields: dict[str, object] = {
        "period": PERIOD,
        "decisions": [],
        "baseline": [],
        "opinions": [],
        "acts": [],
        "conflicts": [],
        "calendar": CALENDAR,
    }
    fields.update(parts)
    return Facts(**fields)  # type: ignore[arg-type]


def codes(found: list[rules.Finding], rule: str) -> list[rules.Finding]:
    return [finding for finding in found if finding.rule == rule]


# --- the registry --------------------------------------------------------------------------------


def test_the_six_rules_are_registered_with_stable_codes_and_texts():
    assert set(rules.RULES) == {
        "same_decider_enterprise",
        "approval_over_objection",
        "decision_far_faster",
        "clock_stops_above_peers",
        "recused_person_acted",
        "decision_outside_hours",
    }
    for code, rule in rules.RULES.items():
        assert rule.code == code and code.islower() and " " not in code
        assert rule.title and rule.message


# --- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "start", "end"),
    [
        (datetime.date(2026, 9, 30), 1, datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)),
        (datetime.date(2026, 12, 31), 1, datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)),
        (datetime.date(2026, 5, 2), 3, datetime.date(2026, 4, 1), datetime.date(2026, 7, 1)),
        (datetime.date(2026, 1, 1), 12, datetime.date(2026, 1, 1), datetime.date(2027, 1, 1)),
        (datetime.date(2026, 8, 15), 6, datetime.date(2026, 7, 1), datetime.date(2027, 1, 1)),
    ],
)
def test_periods_are_fixed_windows_of_whole_months(day, months, start, end):
    period = rules.period_containing(day, months=months)
    assert (period.start, period.end) == (start, end)
    assert period.contains(day) and not period.contains(end)
    assert rules.period_before(period, months=months).end == period.start


def test_a_period_length_that_does_not_divide_the_year_is_refused():
    with pytest.raises(ValueError):
        rules.period_containing(datetime.date(2026, 1, 1), months=5)


# --- 1. the same decider, the same enterprise -----------------------------------------------------


@pytest.mark.parametrize(("count", "alerts"), [(2, 0), (3, 0), (4, 1), (6, 1)])
def test_same_decider_enterprise_needs_more_than_k_decisions(count, alerts):
    # Given `count` decisions by person 1 on enterprise 10 in the period (K = 3)
    decisions = [decision(pk) for pk in range(1, count + 1)]
    # When the rules run
    found = codes(rules.findings_all(facts(decisions=decisions), THRESHOLDS), rules.SAME_DECIDER_ENTERPRISE)
    # Then exactly K is no alert, K + 1 is one, with every case as evidence
    assert len(found) == alerts
    if alerts:
        assert found[0].person_id == 1 and found[0].subject == "enterprise:10"
        assert found[0].evidence["count"] == count and found[0].evidence["threshold"] == 3
        assert found[0].application_ids == tuple(range(1, count + 1))


def test_same_decider_enterprise_counts_per_person_and_enterprise_and_only_in_the_period():
    decisions = [
        decision(1),
        decision(2),
        decision(3, decider_id=2),  # another decider
        decision(4, enterprise_id=11),  # another enterprise
        decision(5, decided_at=at(30, month=8)),  # before the period
        decision(6),
    ]
    found = codes(rules.findings_all(facts(decisions=decisions), THRESHOLDS), rules.SAME_DECIDER_ENTERPRISE)
    assert found == []
    found = codes(
        rules.findings_all(facts(decisions=[*decisions, decision(7)]), THRESHOLDS), rules.SAME_DECIDER_ENTERPRISE
    )
    assert [f.application_ids for f in found] == [(1, 2, 6, 7)]


# --- 2. approval over a reasoned objection -------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "opinion", "reasons", "alerts"),
    [
        ("approved", "disagree", "消防通道不足", 1),
        ("refused", "disagree", "消防通道不足", 0),
        ("approved", "agree", "符合要求", 0),
        ("approved", "deemed_consent", "", 0),
        ("approved", "disagree", "   ", 0),
    ],
)
def test_approval_over_objection(outcome, opinion, reasons, alerts):
    found = codes(
        rules.findings_all(
            facts(
                decisions=[decision(1, outcome=outcome, override_justification="经集体讨论，风险可控")],
                opinions=[OpinionFact(1, 8, "消防审验处", opinion, reasons)],
            ),
            THRESHOLDS,
        ),
        rules.APPROVAL_OVER_OBJECTION,
    )
    assert len(found) == alerts
    if alerts:
        assert found[0].subject == "application:1"
        assert found[0].evidence["objections"] == [{"department": {"id": 8, "name": "消防审验处"}, "reasons": reasons}]
        assert found[0].evidence["justification"] == "经集体讨论，风险可控"


# --- 3. far faster than usual ---------------------------------------------------------------------


def _baseline(days: list[int], first: int = 100, **overrides: object) -> list[DecisionFact]:
    return [
        decision(first + i, working_days=d, decided_at=at(1, month=6), decider_id=9, **overrides)
        for i, d in enumerate(days)
    ]


@pytest.mark.parametrize(
    ("sample", "days", "alerts"),
    [
        ([8, 8, 8, 8], 1, 1),  # median 8, share 25 % = 2: 1 < 2
        ([8, 8, 8, 8], 2, 0),  # exactly the share is not an alert
        ([8, 8, 8], 0, 0),  # three others: below the minimum sample of four
        ([6, 8, 10, 12], 1, 1),  # median 9 (even sample), limit 2.25
        ([6, 8, 10, 12], 2, 1),
        ([6, 8, 10, 12], 3, 0),
        ([0, 0, 0, 0], 0, 0),  # nothing is faster than a median of nothing
    ],
)
def test_decision_far_faster_than_the_median(sample, days, alerts):
    subject = decision(1, working_days=days)
    found = codes(
        rules.findings_all(facts(decisions=[subject], baseline=[*_baseline(sample), subject]), THRESHOLDS),
        rules.DECISION_FAR_FASTER,
    )
    assert len(found) == alerts
    if alerts:
        assert found[0].evidence["working_days"] == days and found[0].evidence["sample"] == len(sample)


def test_decision_far_faster_compares_the_same_department_and_item_only():
    subject = decision(1, working_days=0)
    others = [
        *_baseline([9, 9], 100, item_id=101),
        *_baseline([9, 9], 200, department_id=8),
        *_baseline([9, 9, 9], 300),
    ]
    found = codes(
        rules.findings_all(facts(decisions=[subject], baseline=[*others, subject]), THRESHOLDS),
        rules.DECISION_FAR_FASTER,
    )
    assert found == []  # three of the same department and item
    found = codes(
        rules.findings_all(facts(decisions=[subject], baseline=[*others, *_baseline([9], 400), subject]), THRESHOLDS),
        rules.DECISION_FAR_FASTER,
    )
    assert [(f.evidence["median"], f.evidence["limit"]) for f in found] == [(9, 2.25)]


# --- 4. suspensions or extensions far above peers ------------------------------------------------


def _department(own_stops: int, own_cases: int, peer_stops: int, peer_cases: int, kind: str) -> list[ActFact]:
    """Person 1 and person 2 (the peer) each handle cases; some of their acts stop the clock."""
    acts = []
    for pk in range(own_cases):
        acts.append(act(pk + 1, 1))
    for pk in range(own_stops):
        acts.append(act(pk + 1, 1, kind))
    for pk in range(peer_cases):
        acts.append(act(500 + pk, 2))
    for pk in range(peer_stops):
        acts.append(act(500 + pk, 2, kind))
    if kind == rules.EXTENSION:
        # only decision makers' cases count for extensions: the acts above are decisions
        acts = [dataclasses.replace(a, action="decided") if a.kind == rules.HANDLING else a for a in acts]
    return acts


@pytest.mark.parametrize("kind", [rules.SUSPENSION, rules.EXTENSION])
@pytest.mark.parametrize(
    ("own_stops", "own_cases", "peer_stops", "peer_cases", "alerts"),
    [
        (3, 10, 1, 10, 0),  # 30 % against 10 %: exactly three times is not above
        (4, 10, 1, 10, 1),  # 40 % against 10 %
        (2, 10, 0, 10, 0),  # below the minimum count of three
        (3, 10, 0, 10, 1),  # peers never stop the clock
        (3, 3, 3, 3, 0),  # everyone does the same
    ],
)
def test_clock_stops_above_peers(kind, own_stops, own_cases, peer_stops, peer_cases, alerts):
    found = codes(
        rules.findings_all(facts(acts=_department(own_stops, own_cases, peer_stops, peer_cases, kind)), THRESHOLDS),
        rules.CLOCK_STOPS_ABOVE_PEERS,
    )
    assert [(f.person_id, f.evidence["measure"]) for f in found] == [(1, kind)] * alerts
    if alerts:
        assert found[0].evidence["count"] == own_stops and found[0].evidence["cases_handled"] == own_cases


def test_clock_stops_need_a_peer_in_the_department():
    acts = [act(pk, 1, rules.SUSPENSION) for pk in range(1, 6)]
    assert codes(rules.findings_all(facts(acts=acts), THRESHOLDS), rules.CLOCK_STOPS_ABOVE_PEERS) == []


def test_reviewers_are_not_an_extenders_peers():
    # Person 1 extends 3 of 10 decisions; person 2 only reviews (gives opinions) in the department
    acts = _department(3, 10, 0, 0, rules.EXTENSION) + [act(900 + pk, 2) for pk in range(50)]
    assert codes(rules.findings_all(facts(acts=acts), THRESHOLDS), rules.CLOCK_STOPS_ABOVE_PEERS) == []


# --- 5. work despite a recorded conflict ----------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "acted", "alerts"),
    [
        (at(3), at(4), 1),
        (at(4), at(4), 1),  # recorded at the very moment: in force
        (at(5), at(4), 0),  # the work came before the conflict was recorded
    ],
)
def test_recused_person_acted(recorded, acted, alerts):
    conflict = ConflictFact(1, 10, rules.INSPECTOR_CONFLICT, "配偶任该企业监事", recorded)
    found = codes(
        rules.findings_all(facts(acts=[act(1, 1, at=acted)], conflicts=[conflict]), THRESHOLDS),
        rules.RECUSED_PERSON_ACTED,
    )
    assert len(found) == alerts
    if alerts:
        assert found[0].subject == "enterprise:10" and found[0].evidence["conflicts"][0]["reason"] == "配偶任该企业监事"


def test_a_conflict_with_another_enterprise_or_person_is_no_alert():
    conflicts = [
        ConflictFact(1, 11, rules.INSPECTOR_CONFLICT, "亲属", at(1)),
        ConflictFact(2, 10, rules.CAMPAIGN_RECUSAL, "曾任顾问", at(1), "SC-2026-01"),
    ]
    found = rules.findings_all(facts(acts=[act(1, 1)], conflicts=conflicts), THRESHOLDS)
    assert codes(found, rules.RECUSED_PERSON_ACTED) == []


# --- 6. decisions outside working hours -----------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "alerts", "day_off"),
    [
        (at(14, 8, 29), 1, False),  # Monday, before the office opens
        (at(14, 8, 30), 0, False),  # opening time is inside
        (at(14, 17, 29), 0, False),
        (at(14, 17, 30), 1, False),  # closing time is outside
        (at(25, 10), 1, True),  # Mid-autumn holiday (a Friday)
        (at(26, 10), 1, True),  # Saturday
        (at(27, 10), 0, False),  # Sunday worked (调休)
    ],
)
def test_decision_outside_hours(moment, alerts, day_off):
    found = codes(
        rules.findings_all(facts(decisions=[decision(1, decided_at=moment)]), THRESHOLDS), rules.DECISION_OUTSIDE_HOURS
    )
    assert len(found) == alerts
    if alerts:
        assert found[0].evidence["day_off"] is day_off and found[0].evidence["calendar_provisional"] is False


def test_an_uncovered_year_counts_weekdays_only_and_says_so():
    period = Period(datetime.date(2027, 1, 1), datetime.date(2027, 2, 1))
    saturday = datetime.datetime(2027, 1, 9, 10, tzinfo=ZONE)
    found = rules.findings_all(facts(period=period, decisions=[decision(1, decided_at=saturday)]), THRESHOLDS)
    assert [(f.rule, f.evidence["calendar_provisional"]) for f in found] == [(rules.DECISION_OUTSIDE_HOURS, True)]


# --- properties -----------------------------------------------------------------------------------


def _world(seed: int) -> Facts:
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
    decisions = [
        decision(
            pk,
            decider_id=rng.choice([1, 2]),
            enterprise_id=rng.choice([10, 11]),
            decided_at=at(rng.randint(1, 30), rng.choice([7, 9, 12, 18])),
            working_days=rng.randint(0, 12),
            outcome=rng.choice(["approved", "refused"]),
        )
        for pk in range(1, 15)
    ]
    acts = [
        act(
            rng.randint(1, 14),
            rng.choice([1, 2, 3]),
            rng.choice(rules.ACT_KINDS),
            enterprise_id=rng.choice([10, 11]),
            at=at(rng.randint(1, 30), rng.randint(8, 20)),
        )
        for _ in range(30)
    ]
    opinions = [OpinionFact(pk, 8, "消防审验处", rng.choice(["agree", "disagree"]), "理由") for pk in range(1, 15)]
    conflicts = [ConflictFact(rng.choice([1, 2, 3]), 10, rules.INSPECTOR_CONFLICT, "亲属", at(rng.randint(1, 30)))]
    return facts(decisions=decisions, baseline=decisions, opinions=opinions, acts=acts, conflicts=conflicts)


def _shuffled(world: Facts, seed: int) -> Facts:
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)

    def mix(items: object) -> list[object]:
        copy = list(items)  # type: ignore[call-overload]
        rng.shuffle(copy)
        return copy

    return dataclasses.replace(
        world,
        decisions=mix(world.decisions),
        baseline=mix(world.baseline),
        opinions=mix(world.opinions),
        acts=mix(world.acts),
        conflicts=mix(world.conflicts),
    )


@settings(max_examples=60, deadline=None)
@given(world=st.integers(0, 10**6), order=st.integers(0, 10**6))
def test_the_order_of_the_facts_never_changes_the_findings(world, order):
    facts_ = _world(world)
    assert rules.findings_all(_shuffled(facts_, order), THRESHOLDS) == rules.findings_all(facts_, THRESHOLDS)


@settings(max_examples=40, deadline=None)
@given(world=st.integers(0, 10**6))
def test_findings_have_unique_keys_and_json_evidence_and_are_idempotent_on_duplicated_facts(world):
    facts_ = _world(world)
    found = rules.findings_all(facts_, THRESHOLDS)
    keys = [f.dedupe_key for f in found]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    for finding in found:
        assert json.loads(json.dumps(finding.evidence)) == finding.evidence
        assert finding.period == PERIOD and finding.dedupe_key.endswith(PERIOD.key)
    doubled = dataclasses.replace(
        facts_,
        decisions=[*facts_.decisions, *facts_.decisions],
        baseline=[*facts_.baseline, *facts_.baseline],
        acts=[*facts_.acts, *facts_.acts],
    )
    assert rules.findings_all(doubled, THRESHOLDS) == found


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 8), extra=st.integers(-3, 3))
def test_same_decider_enterprise_boundary_for_any_k(k, extra):
    count = max(k + extra, 0)
    thresholds = dataclasses.replace(THRESHOLDS, same_enterprise_max=k)
    found = codes(
        rules.findings_all(facts(decisions=[decision(pk) for pk in range(1, count + 1)]), thresholds),
        rules.SAME_DECIDER_ENTERPRISE,
    )
    assert len(found) == (1 if count > k else 0)


def test_thresholds_refuse_nonsense():
    with pytest.raises(ValueError):
        Thresholds(fast_share_percent=100)
    with pytest.raises(ValueError):
        Thresholds(peer_factor_percent=100)
    with pytest.raises(ValueError):
        Thresholds(office_start=datetime.time(18), office_end=datetime.time(9))
