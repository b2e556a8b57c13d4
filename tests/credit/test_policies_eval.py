"""The pure eligibility decision table (credit.policies.rules): one case per rule kind with its
boundaries, the deposit tiers, validation, and Hypothesis properties."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.ledger import scoring
from credit.policies import rules as policies

SH = scoring.SHANGHAI
T0 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SH)
DAY = datetime.timedelta(days=1)
KINDS = {
    # code: (tier, points, min window, max window, forces D)
    "admin_penalty": ("general", -15, 3, 12, False),
    "penalty_simplified": ("minor", -5, 0, 3, False),
    "tax_grade_a": ("general", 10, 3, 12, False),
    "rectification_overdue": ("general", -10, 3, 12, False),
    "wage_arrears": ("general", -20, 3, 12, False),
    "false_commitment": ("serious", -30, 12, 36, True),
    "serious_violation": ("serious", -40, 12, 36, True),
    "court_dishonest_debtor": ("serious", -50, 12, 36, True),
}


def fact(seq: int, code: str, occurred: datetime.datetime, *, recorded=None, points=None) -> scoring.EntryFact:  # type: ignore[no-untyped-def]
    tier, default, min_w, max_w, forces = KINDS[code]
    return scoring.EntryFact(
        seq=seq,
        kind_code=code,
        tier=tier,
        points=default if points is None else points,
        occurred_at=occurred,
        recorded_at=recorded or occurred,
        min_window_months=min_w,
        max_window_months=max_w,
        forces_grade_d=forces,
    )


def ending(seq: int, target: int, occurred: datetime.datetime, *, effect: str = "repair", recorded=None):  # type: ignore[no-untyped-def]
    return scoring.EntryFact(
        seq=seq,
        kind_code=effect,
        tier="minor",
        points=0,
        occurred_at=occurred,
        recorded_at=recorded or occurred,
        min_window_months=0,
        max_window_months=0,
        effect=effect,
        reverses=target,
    )


def rule(*conditions: dict, kind: str = "loan_guarantee", valid_from=None, valid_until=None, benefits=None) -> dict:  # type: ignore[no-untyped-def]
    return {
        "code": "test_policy",
        "version": "1",
        "kind": kind,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "conditions": list(conditions),
        "benefits": benefits or {},
    }


def codes(issues: list[dict]) -> list[str]:
    return [issue["code"] for issue in issues]


def hint(evaluation: policies.Evaluation, code: str) -> list[dict]:
    return [h["params"] for h in evaluation.hints if h["code"] == code]


# --- min grade and min score ----------------------------------------------------------------------


def test_exactly_the_minimum_grade_is_eligible():
    # Given score 80 - 10 = 70, exactly the lowest B score
    facts = [fact(1, "rectification_overdue", T0)]
    # When the minimum is B, then eligible; when it is A, then not
    assert policies.evaluate(rule({"type": "min_grade", "grade": "B"}), facts, T0 + DAY).eligible
    result = policies.evaluate(rule({"type": "min_grade", "grade": "A"}), facts, T0 + DAY)
    assert not result.eligible
    assert result.reasons == [{"code": "grade_too_low", "params": {"required": "A", "grade": "B", "score": 70}}]
    assert hint(result, "score_points_needed") == [{"points": 20, "grade": "A", "score": 90}]


def test_grade_too_low_says_which_entry_stops_counting_and_when_eligible():
    # Given a penalty of 2026-03-02 that brings the score to 65 (grade C)
    facts = [fact(1, "admin_penalty", T0)]
    as_of = T0 + 10 * DAY
    result = policies.evaluate(rule({"type": "min_grade", "grade": "B"}), facts, as_of)
    assert not result.eligible and result.grade == "C" and result.score == 65
    # Then: it stops counting on 2027-03-02, repair possible from 2026-06-02, eligible on 2027-03-02
    stops = hint(result, "entry_stops_counting")
    assert stops == [
        {"seq": 1, "kind_code": "admin_penalty", "points": -15, "occurred_on": "2026-03-02", "until": "2027-03-02"}
    ]
    assert hint(result, "repair_possible_from") == [{"seq": 1, "kind_code": "admin_penalty", "date": "2026-06-02"}]
    assert hint(result, "eligible_on") == [{"date": "2027-03-02"}]


def test_an_entry_that_stops_counting_today_no_longer_counts():
    facts = [fact(1, "admin_penalty", T0)]
    table = rule({"type": "min_grade", "grade": "B"})
    window_end = scoring.add_months(T0, 12)
    assert not policies.evaluate(table, facts, window_end - datetime.timedelta(microseconds=1)).eligible
    assert policies.evaluate(table, facts, window_end).eligible


def test_min_score_boundary():
    facts = [fact(1, "admin_penalty", T0)]  # 65
    assert policies.evaluate(rule({"type": "min_score", "score": 65}), facts, T0 + DAY).eligible
    result = policies.evaluate(rule({"type": "min_score", "score": 66}), facts, T0 + DAY)
    assert result.reasons == [{"code": "score_too_low", "params": {"required": 66, "score": 65}}]
    assert hint(result, "score_points_needed") == [{"points": 1, "grade": None, "score": 66}]


def test_repair_of_an_entry_restores_the_grade_from_the_day_it_takes_effect():
    repaired_at = T0 + 100 * DAY
    facts = [fact(1, "admin_penalty", T0), ending(2, 1, repaired_at)]
    table = rule({"type": "min_grade", "grade": "B"})
    assert not policies.evaluate(table, facts, repaired_at - DAY).eligible
    assert policies.evaluate(table, facts, repaired_at).eligible


# --- entries ----------------------------------------------------------------------------------------


def test_active_serious_entry_refuses_until_its_window_ends():
    facts = [fact(1, "serious_violation", T0)]
    table = rule({"type": "no_active_serious"})
    result = policies.evaluate(table, facts, T0 + DAY)
    assert codes(result.reasons) == ["serious_entry_active"]
    assert result.reasons[0]["params"]["entries"] == [
        {"seq": 1, "kind_code": "serious_violation", "occurred_on": "2026-03-02"}
    ]
    assert hint(result, "entry_stops_counting")[0]["until"] == "2029-03-02"
    assert hint(result, "repair_possible_from") == [{"seq": 1, "kind_code": "serious_violation", "date": "2027-03-02"}]
    assert hint(result, "eligible_on") == [{"date": "2029-03-02"}]
    assert policies.evaluate(table, facts, scoring.add_months(T0, 36)).eligible


@pytest.mark.parametrize("effect", ["repair", "reversal"])
def test_a_repaired_or_reversed_serious_entry_is_not_active(effect):
    facts = [fact(1, "serious_violation", T0), ending(2, 1, T0 + 400 * DAY, effect=effect)]
    assert policies.evaluate(rule({"type": "no_active_serious"}), facts, T0 + 401 * DAY).eligible


def test_serious_entry_within_years_counts_after_its_window_until_the_period_ends():
    # Given a serious entry whose publication window (36 months) has ended
    facts = [fact(1, "serious_violation", T0)]
    table = rule({"type": "no_serious_within_years", "years": 4})
    as_of = scoring.add_months(T0, 40)
    result = policies.evaluate(table, facts, as_of)
    # Then it still falls within 4 years, until exactly occurred + 4 years
    assert codes(result.reasons) == ["serious_entry_within_years"]
    assert result.reasons[0]["params"]["years"] == 4
    assert hint(result, "entry_leaves_period") == [
        {"seq": 1, "kind_code": "serious_violation", "occurred_on": "2026-03-02", "until": "2030-03-02"}
    ]
    assert policies.evaluate(table, facts, scoring.add_months(T0, 48)).eligible
    assert not policies.evaluate(table, facts, scoring.add_months(T0, 48) - DAY).eligible


def test_serious_entry_within_years_repaired_counts_only_when_asked():
    facts = [fact(1, "serious_violation", T0), ending(2, 1, T0 + 400 * DAY)]
    as_of = T0 + 500 * DAY
    assert policies.evaluate(rule({"type": "no_serious_within_years", "years": 3}), facts, as_of).eligible
    strict = rule({"type": "no_serious_within_years", "years": 3, "count_repaired": True})
    result = policies.evaluate(strict, facts, as_of)
    assert codes(result.reasons) == ["serious_entry_within_years"]
    assert not hint(result, "repair_possible_now")  # a repair would not help here


def test_reversed_entry_never_counts_even_when_repaired_ones_do():
    facts = [fact(1, "serious_violation", T0), ending(2, 1, T0 + 10 * DAY, effect="reversal")]
    strict = rule({"type": "no_serious_within_years", "years": 3, "count_repaired": True})
    assert policies.evaluate(strict, facts, T0 + 20 * DAY).eligible


def test_false_commitment_on_record_until_repaired_even_after_its_window():
    facts = [fact(1, "false_commitment", T0)]
    table = rule({"type": "no_false_commitment_unrepaired"})
    late = scoring.add_months(T0, 40)
    result = policies.evaluate(table, facts, late)
    assert codes(result.reasons) == ["false_commitment_unrepaired"]
    assert hint(result, "repair_possible_now") == [{"seq": 1, "kind_code": "false_commitment"}]
    assert not hint(result, "eligible_on")  # time alone never helps
    assert policies.evaluate(table, [*facts, ending(2, 1, late)], late).eligible
    assert policies.evaluate(table, [*facts, ending(2, 1, late, effect="reversal")], late).eligible


def test_overdue_rectification_refuses_while_in_force():
    facts = [fact(1, "rectification_overdue", T0)]
    table = rule({"type": "no_rectification_overdue"})
    assert codes(policies.evaluate(table, facts, T0 + DAY).reasons) == ["rectification_overdue"]
    assert policies.evaluate(table, facts, scoring.add_months(T0, 12)).eligible


def test_court_dishonest_debtor_listing_refuses_while_active():
    facts = [fact(1, "court_dishonest_debtor", T0)]
    table = rule({"type": "no_court_dishonest_debtor"})
    assert codes(policies.evaluate(table, facts, T0 + DAY).reasons) == ["court_dishonest_debtor"]
    removed = [*facts, ending(2, 1, T0 + 30 * DAY, effect="reversal")]
    assert policies.evaluate(table, removed, T0 + 31 * DAY).eligible


def test_wage_arrears_within_months_boundary():
    facts = [fact(1, "wage_arrears", T0)]
    table = rule({"type": "no_wage_arrears_within_months", "months": 18})
    result = policies.evaluate(table, facts, scoring.add_months(T0, 17))
    assert codes(result.reasons) == ["wage_arrears"] and result.reasons[0]["params"]["months"] == 18
    assert hint(result, "eligible_on") == [{"date": "2027-09-02"}]
    assert policies.evaluate(table, facts, scoring.add_months(T0, 18)).eligible


def test_eligible_on_waits_for_the_period_of_an_entry_already_out_of_the_score():
    # Given wage arrears 13 months old (out of the score after 12) and a bonus that ends sooner
    as_of = scoring.add_months(T0, 13)
    facts = [fact(1, "wage_arrears", T0), fact(2, "tax_grade_a", scoring.add_months(T0, 4))]
    table = rule({"type": "no_wage_arrears_within_months", "months": 18})
    result = policies.evaluate(table, facts, as_of)
    # Then the answer turns when the 18 months are over, not when the score next changes
    assert hint(result, "eligible_on") == [{"date": "2027-09-02"}]


def test_any_kind_within_months():
    facts = [fact(1, "penalty_simplified", T0)]
    table = rule({"type": "no_kind_within_months", "kind_codes": ["penalty_simplified", "admin_penalty"], "months": 6})
    assert codes(policies.evaluate(table, facts, T0 + DAY).reasons) == ["entry_of_kind_within_months"]
    assert policies.evaluate(table, facts, scoring.add_months(T0, 6)).eligible


def test_every_failed_condition_gives_its_reason_in_table_order():
    facts = [fact(1, "wage_arrears", T0), fact(2, "court_dishonest_debtor", T0 + DAY)]
    table = rule(
        {"type": "min_grade", "grade": "B"},
        {"type": "no_court_dishonest_debtor"},
        {"type": "no_wage_arrears_within_months", "months": 24},
        {"type": "no_rectification_overdue"},
    )
    result = policies.evaluate(table, facts, T0 + 2 * DAY)
    assert codes(result.reasons) == ["grade_too_low", "court_dishonest_debtor", "wage_arrears"]
    assert result.grade == "D"


# --- bitemporal -------------------------------------------------------------------------------------


def test_entries_recorded_after_the_instant_are_not_known():
    as_of = T0 + 10 * DAY
    late = fact(1, "serious_violation", T0, recorded=as_of + datetime.timedelta(seconds=1))
    result = policies.evaluate(rule({"type": "no_active_serious"}), [late], as_of)
    assert result.eligible and result.known == ()


def test_a_repair_recorded_after_the_instant_does_not_count():
    as_of = T0 + 400 * DAY
    facts = [fact(1, "serious_violation", T0), ending(2, 1, as_of - DAY, recorded=as_of + DAY)]
    assert not policies.evaluate(rule({"type": "no_active_serious"}), facts, as_of).eligible


# --- validity ---------------------------------------------------------------------------------------


def test_policy_not_yet_in_force_says_from_when():
    table = rule(valid_from="2026-04-01", valid_until="2026-12-31")
    result = policies.evaluate(table, [], T0)
    assert result.reasons == [
        {
            "code": "policy_not_in_force",
            "params": {"date": "2026-03-02", "valid_from": "2026-04-01", "valid_until": "2026-12-31"},
        }
    ]
    assert hint(result, "policy_in_force_from") == [{"date": "2026-04-01"}]
    assert hint(result, "eligible_on") == [{"date": "2026-04-01"}]


def test_policy_in_force_on_its_last_day_and_not_after():
    table = rule(valid_from="2026-01-01", valid_until="2026-03-02")
    assert policies.evaluate(table, [], T0.replace(hour=23, minute=59)).eligible
    result = policies.evaluate(table, [], T0 + DAY)
    assert codes(result.reasons) == ["policy_not_in_force"] and not hint(result, "eligible_on")


@pytest.mark.parametrize(
    ("moment", "in_force"),
    [
        (datetime.datetime(2026, 1, 1, 0, 0, tzinfo=SH), True),  # first day, Shanghai midnight
        (datetime.datetime(2025, 12, 31, 16, 0, tzinfo=datetime.UTC), True),  # the same instant in UTC
        (datetime.datetime(2025, 12, 31, 23, 59, tzinfo=SH), False),
        (datetime.datetime(2026, 3, 2, 23, 59, tzinfo=SH), True),  # last day
        (datetime.datetime(2026, 3, 2, 16, 0, tzinfo=datetime.UTC), False),  # 3 March in Shanghai
    ],
)
def test_validity_issue_is_the_evaluations_test(moment, in_force):
    """The approval's in-force check (``validity_issue``) agrees with the evaluation's, day by
    day in Asia/Shanghai."""
    table = rule(valid_from="2026-01-01", valid_until="2026-03-02")
    issue = policies.validity_issue(table, moment)
    assert (issue is None) is in_force
    evaluated = policies.evaluate(table, [], moment)
    assert ("policy_not_in_force" not in codes(evaluated.reasons)) is in_force
    if issue is not None:
        assert issue in evaluated.reasons


def test_validity_issue_without_end():
    assert policies.validity_issue(rule(valid_from="2026-01-01"), T0 + 3650 * DAY) is None


def test_eligible_on_is_never_after_the_policy_ends():
    facts = [fact(1, "admin_penalty", T0)]  # grade C until 2027-03-02
    table = rule({"type": "min_grade", "grade": "B"}, valid_from="2026-01-01", valid_until="2026-12-31")
    assert not hint(policies.evaluate(table, facts, T0 + DAY), "eligible_on")


# --- the commitment route ---------------------------------------------------------------------------


def test_commitment_rule_snapshot():
    snapshot = policies.commitment_rule("B")
    assert snapshot["code"] == "commitment_route" and snapshot["version"] == policies.COMMITMENT_RULE_VERSION
    assert [c["type"] for c in snapshot["conditions"]] == [
        "min_grade",
        "no_active_serious",
        "no_false_commitment_unrepaired",
    ]
    assert not policies.conditions_validate(snapshot["conditions"])


def test_commitment_route_false_commitment_refuses_three_ways_until_repaired():
    facts = [fact(1, "false_commitment", T0)]
    result = policies.evaluate(policies.commitment_rule("C"), facts, T0 + DAY)
    assert codes(result.reasons) == ["grade_too_low", "serious_entry_active", "false_commitment_unrepaired"]
    repaired = [*facts, ending(2, 1, scoring.add_months(T0, 12))]
    assert policies.evaluate(policies.commitment_rule("B"), repaired, scoring.add_months(T0, 12)).eligible


# --- deposit (§35) ----------------------------------------------------------------------------------

DEPOSIT = rule(
    kind="deposit_waiver",
    benefits={"deposit_rates": {"A": "0", "B": "0.5", "C": "1", "D": "1"}, "wage_arrears_full_within_months": 24},
)


def test_deposit_grade_a_is_exempt():
    facts = [fact(1, "tax_grade_a", T0)]  # 90: A
    result = policies.deposit_evaluate(DEPOSIT, facts, T0 + DAY, wage_deposit_base=Decimal("123456.78"))
    assert result.deposit == policies.DepositOutcome("exempt", Decimal("0"), Decimal("0.00"))
    assert result.eligible and result.reasons == [
        {"code": "deposit_tier_for_grade", "params": {"grade": "A", "rate": "0", "tier": "exempt"}}
    ]


def test_deposit_grade_b_is_reduced_with_the_amount_rounded_half_up():
    result = policies.deposit_evaluate(DEPOSIT, [], T0, wage_deposit_base=Decimal("100.01"))
    assert result.grade == "B"
    assert result.deposit == policies.DepositOutcome("reduced", Decimal("0.5"), Decimal("50.01"))  # 50.005 → 50.01
    assert hint(result, "better_tier_with_grade") == [{"grade": "A", "tier": "exempt", "rate": "0"}]


def test_deposit_wage_arrears_within_the_period_means_full_until_the_period_ends():
    facts = [fact(1, "tax_grade_a", T0), fact(2, "tax_grade_a", T0), fact(3, "wage_arrears", T0)]  # 80: B
    as_of = scoring.add_months(T0, 13)  # the arrears no longer count in the score, but within 24 months
    result = policies.deposit_evaluate(DEPOSIT, facts, as_of, wage_deposit_base=Decimal("1000"))
    assert result.grade == "B" and result.deposit.tier == "full" and result.deposit.amount == Decimal("1000.00")
    assert not result.eligible
    assert codes(result.reasons) == ["deposit_tier_for_grade", "wage_arrears"]
    assert hint(result, "deposit_tier_improves_on") == [{"tier": "reduced", "date": "2028-03-02"}]


def test_deposit_failed_condition_means_full():
    table = {**DEPOSIT, "conditions": [{"type": "no_court_dishonest_debtor"}]}
    facts = [fact(1, "court_dishonest_debtor", T0)]
    result = policies.deposit_evaluate(table, facts, T0 + DAY, wage_deposit_base=Decimal("10"))
    assert result.deposit.tier == "full" and "court_dishonest_debtor" in codes(result.reasons)


# --- validation and serialisation -------------------------------------------------------------------


def test_conditions_validate_names_each_problem():
    problems = policies.conditions_validate(
        [
            {"type": "min_grade", "grade": "E"},
            {"type": "nonsense"},
            {"type": "no_serious_within_years"},
            {"type": "no_wage_arrears_within_months", "months": 12, "colour": "red"},
            {"type": "min_grade", "grade": "B"},
        ]
    )
    assert [code for code, _params in problems] == [
        "condition_param_invalid",
        "condition_type_unknown",
        "condition_param_missing",
        "condition_param_unknown",
        "condition_repeated",
    ]
    assert policies.conditions_validate("min_grade") == [("conditions_not_list", {})]
    assert policies.conditions_validate([{"type": "min_score", "score": True}])  # a bool is no score


@pytest.mark.parametrize(
    ("kind", "benefits", "ok"),
    [
        ("loan_guarantee", {"guarantee_cap": "5000000", "max_term_months": 36}, True),
        ("loan_guarantee", {"guarantee_cap": 0.5}, False),  # floats are refused
        ("interest_subsidy", {"subsidy_rate": "0.5", "max_amount": "200000", "instalments": 4}, True),
        ("interest_subsidy", {"subsidy_rate": "1.5"}, False),
        ("deposit_waiver", {"deposit_rates": {"A": "0", "B": "0.5", "C": "1", "D": "1"}}, True),
        ("deposit_waiver", {"deposit_rates": {"A": "0", "B": "0.12345", "C": "1", "D": "1"}}, False),
        ("deposit_waiver", {}, False),
        ("fast_track", {"item_codes": ["SY-001"], "privileges": {"promised_days_reduction": 3}}, True),
        ("fast_track", {"item_codes": [], "privileges": {"promised_days_reduction": 3}}, False),
        ("fast_track", {"item_codes": ["SY-001"], "privileges": {"skip_review": True}}, False),
        ("loan_guarantee", {"colour": "red"}, False),
    ],
)
def test_benefits_validate(kind, benefits, ok):
    assert (policies.benefits_validate(kind, benefits) == []) is ok


def test_facts_survive_their_json_form():
    original = fact(7, "admin_penalty", T0, recorded=T0 + datetime.timedelta(microseconds=5))
    stored = policies.fact_to_json(original, "ab" * 32)
    assert stored["entry_hash"] == "ab" * 32 and stored["occurred_at"].endswith("Z")
    assert policies.fact_from_json(stored) == original


def test_digest_is_of_the_canonical_form():
    assert policies.digest({"b": 1, "a": "信用"}) == policies.digest({"a": "信用", "b": 1})
    assert policies.canonical_json({"b": 1, "a": "信用"}) == '{"a":"信用","b":1}'.encode()


# --- properties -------------------------------------------------------------------------------------

EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
CONDITIONS = [
    {"type": "min_grade", "grade": "B"},
    {"type": "min_score", "score": 60},
    {"type": "no_active_serious"},
    {"type": "no_serious_within_years", "years": 3},
    {"type": "no_false_commitment_unrepaired"},
    {"type": "no_rectification_overdue"},
    {"type": "no_court_dishonest_debtor"},
    {"type": "no_wage_arrears_within_months", "months": 18},
]


@st.composite
def ledgers(draw):  # type: ignore[no-untyped-def]
    size = draw(st.integers(0, 8))
    facts = []
    for seq in range(1, size + 1):
        occurred = EPOCH + datetime.timedelta(days=draw(st.integers(0, 1200)))
        recorded = occurred + datetime.timedelta(days=draw(st.integers(0, 30)))
        facts.append(fact(seq, draw(st.sampled_from(sorted(KINDS))), occurred, recorded=recorded))
    for target in list(facts):
        if draw(st.integers(0, 4)) == 0:
            at = target.recorded_at + datetime.timedelta(days=draw(st.integers(0, 800)))
            facts.append(ending(len(facts) + 1, target.seq, at, effect=draw(st.sampled_from(["repair", "reversal"]))))
    return facts


tables = st.lists(st.sampled_from(CONDITIONS), max_size=4, unique_by=lambda c: c["type"]).map(lambda cs: rule(*cs))
instants = st.integers(0, 1600).map(lambda days: EPOCH + datetime.timedelta(days=days, hours=7))


@settings(max_examples=150, deadline=None)
@given(ledgers(), tables, instants)
def test_stored_inputs_reproduce_the_evaluation(facts, table, as_of):
    first = policies.evaluate(table, facts, as_of)
    replayed = policies.evaluate(
        table, [policies.fact_from_json(policies.fact_to_json(f, "0" * 64)) for f in first.known], as_of
    )
    assert (replayed.eligible, replayed.reasons, replayed.hints, replayed.grade, replayed.score) == (
        first.eligible,
        first.reasons,
        first.hints,
        first.grade,
        first.score,
    )
    assert first.eligible == (first.reasons == [])


@settings(max_examples=150, deadline=None)
@given(ledgers(), ledgers(), tables, instants)
def test_entries_recorded_later_never_change_a_past_answer(facts, later, table, as_of):
    before = policies.evaluate(table, facts, as_of)
    shifted = [
        dataclasses.replace(f, seq=f.seq + 100, recorded_at=as_of + datetime.timedelta(seconds=1))
        for f in later
        if f.effect == "score"
    ]
    after = policies.evaluate(table, facts + shifted, as_of)
    assert (after.eligible, after.reasons, after.hints) == (before.eligible, before.reasons, before.hints)


@settings(max_examples=150, deadline=None)
@given(ledgers(), instants, st.sampled_from(scoring.GRADES), st.sampled_from(scoring.GRADES))
def test_a_lower_minimum_grade_never_refuses_what_a_higher_one_allows(facts, as_of, one, other):
    high, low = sorted((one, other), key=scoring.grade_rank)
    if policies.evaluate(rule({"type": "min_grade", "grade": high}), facts, as_of).eligible:
        assert policies.evaluate(rule({"type": "min_grade", "grade": low}), facts, as_of).eligible


@settings(max_examples=100, deadline=None)
@given(ledgers(), tables, instants, st.integers(1, 400))
def test_not_eligible_before_the_day_it_says(facts, table, as_of, probe_days):
    result = policies.evaluate(table, facts, as_of)
    dates = hint(result, "eligible_on")
    if result.eligible or not dates:
        return
    day = datetime.date.fromisoformat(dates[0]["date"])
    probe = as_of + datetime.timedelta(days=probe_days)
    if probe.astimezone(SH).date() < day:
        assert not policies.evaluate(table, result.known, probe).eligible


@settings(max_examples=100, deadline=None)
@given(ledgers(), instants, st.decimals(min_value=0, max_value=10**9, places=2))
def test_deposit_amount_is_base_times_rate_and_tier_follows_rate(facts, as_of, base):
    result = policies.deposit_evaluate(DEPOSIT, facts, as_of, wage_deposit_base=base)
    deposit = result.deposit
    assert deposit is not None
    assert deposit.amount == (base * deposit.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert deposit.tier == policies.deposit_tier(deposit.rate)
    assert result.eligible == (deposit.tier != "full")


def _change_instants(table: dict, known: tuple[scoring.EntryFact, ...], as_of: datetime.datetime) -> list:
    """Every instant at which anything a condition reads can change (a superset), brute force."""
    months = [12 * c["years"] for c in table["conditions"] if "years" in c]
    months += [c["months"] for c in table["conditions"] if "months" in c]
    months += [table["benefits"]["wage_arrears_full_within_months"]] if "deposit_rates" in table["benefits"] else []
    moments = set()
    for f in known:
        moments |= {f.occurred_at, scoring.window_end(f)} | {scoring.add_months(f.occurred_at, m) for m in months}
    if table["valid_from"]:
        moments.add(datetime.datetime.combine(datetime.date.fromisoformat(table["valid_from"]), datetime.time(), SH))
    return sorted(m for m in moments if m > as_of)


@settings(max_examples=150, deadline=None)
@given(ledgers(), tables, instants)
def test_eligible_on_is_the_first_change_instant_at_which_the_answer_turns(facts, table, as_of):
    result = policies.evaluate(table, facts, as_of)
    if result.eligible:
        assert not hint(result, "eligible_on")
        return
    expected = None
    for moment in _change_instants(table, result.known, as_of):
        if policies.evaluate(table, result.known, moment, with_hints=False).eligible:
            expected = moment.astimezone(SH).date().isoformat()
            break
    assert hint(result, "eligible_on") == ([{"date": expected}] if expected else [])


@settings(max_examples=100, deadline=None)
@given(ledgers(), instants)
def test_deposit_improves_on_the_first_change_instant_with_a_lower_rate(facts, as_of):
    base = Decimal("1000")
    result = policies.deposit_evaluate(DEPOSIT, facts, as_of, wage_deposit_base=base)
    expected = None
    for moment in _change_instants(DEPOSIT, result.known, as_of):
        later = policies.deposit_evaluate(DEPOSIT, result.known, moment, wage_deposit_base=base, with_hints=False)
        if later.deposit.rate < result.deposit.rate:
            expected = {"tier": later.deposit.tier, "date": moment.astimezone(SH).date().isoformat()}
            break
    assert hint(result, "deposit_tier_improves_on") == ([expected] if expected else [])
