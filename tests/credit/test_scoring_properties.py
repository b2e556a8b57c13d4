"""Properties of the pure grade function (Hypothesis)."""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.dates import utc_text
from credit.ledger import scoring

UTC = datetime.UTC
EPOCH = datetime.datetime(2023, 1, 1, tzinfo=UTC)
TIERS = {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)}


@st.composite
def entry(draw, seq: int, *, points=None, tier=None, occurred=None, recorded=None):  # type: ignore[no-untyped-def]
    tier = tier or draw(st.sampled_from(sorted(TIERS)))
    low, high = TIERS[tier]
    min_w = draw(st.integers(low, high))
    max_w = draw(st.integers(max(min_w, 1), high)) if high else 0
    occurred_days = draw(st.integers(0, 1400)) if occurred is None else occurred
    occurred_at = EPOCH + datetime.timedelta(days=occurred_days)
    recorded_at = occurred_at + datetime.timedelta(days=draw(st.integers(0, 60))) if recorded is None else recorded
    return scoring.EntryFact(
        seq=seq,
        kind_code=f"k_{tier}",
        tier=tier,
        points=draw(st.integers(-50, 20)) if points is None else points,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        min_window_months=min_w,
        max_window_months=max_w,
        forces_grade_d=draw(st.booleans()) if tier == "serious" else False,
    )


@st.composite
def ledgers(draw, max_size: int = 12):  # type: ignore[no-untyped-def]
    size = draw(st.integers(0, max_size))
    facts = [draw(entry(seq)) for seq in range(1, size + 1)]
    # repairs and reversals of earlier entries
    for target in list(facts):
        if draw(st.integers(0, 5)) == 0:
            facts.append(
                scoring.EntryFact(
                    seq=len(facts) + 1,
                    kind_code="repair",
                    tier="minor",
                    points=0,
                    occurred_at=target.recorded_at + datetime.timedelta(days=draw(st.integers(0, 400))),
                    recorded_at=target.recorded_at + datetime.timedelta(days=draw(st.integers(0, 400))),
                    min_window_months=0,
                    max_window_months=0,
                    effect=draw(st.sampled_from([scoring.REPAIR, scoring.REVERSAL])),
                    reverses=target.seq,
                )
            )
    return facts


instants = st.integers(0, 1800).map(lambda d: EPOCH + datetime.timedelta(days=d, hours=12))


@settings(max_examples=200, deadline=None)
@given(ledgers(), instants, st.integers(-50, -1), st.sampled_from(["minor", "general"]), st.integers(0, 1500))
def test_adding_a_negative_entry_never_raises_the_grade(facts, as_of, points, tier, day):
    before = scoring.grade_as_of(facts, as_of)
    low, high = TIERS[tier]
    extra = scoring.EntryFact(
        seq=len(facts) + 1,
        kind_code="neg",
        tier=tier,
        points=points,
        occurred_at=EPOCH + datetime.timedelta(days=day),
        recorded_at=EPOCH + datetime.timedelta(days=day),
        min_window_months=low,
        max_window_months=high,
    )
    after = scoring.grade_as_of([*facts, extra], as_of)
    assert scoring.grade_rank(after.grade) >= scoring.grade_rank(before.grade)
    assert after.score <= before.score


@settings(max_examples=200, deadline=None)
@given(ledgers(), st.data())
def test_an_entry_past_its_maximum_window_has_no_effect(facts, data):
    extra = data.draw(entry(len(facts) + 1))
    as_of = scoring.window_end(extra) + datetime.timedelta(seconds=data.draw(st.integers(0, 10**8)))
    as_of = max(as_of, extra.recorded_at)
    with_extra = scoring.grade_as_of([*facts, extra], as_of)
    without = scoring.grade_as_of(facts, as_of)
    assert (with_extra.grade, with_extra.score) == (without.grade, without.score)
    assert any(e.seq == extra.seq and e.reason == scoring.EXPIRED for e in with_extra.excluded)


@settings(max_examples=200, deadline=None)
@given(ledgers(), st.data())
def test_an_active_serious_negative_entry_forces_d(facts, data):
    serious = data.draw(entry(len(facts) + 1, tier="serious", points=data.draw(st.integers(-50, -1))))
    span = (scoring.window_end(serious) - serious.recorded_at).total_seconds()
    if span <= 0:
        return
    as_of = serious.recorded_at + datetime.timedelta(seconds=data.draw(st.integers(0, int(span) - 1)))
    assert scoring.grade_as_of([*facts, serious], as_of).grade == "D"


@settings(max_examples=200, deadline=None)
@given(ledgers(), ledgers(max_size=6), instants)
def test_grade_as_of_t_is_unchanged_by_later_appends(facts, later, as_of):
    before = scoring.grade_as_of(facts, as_of)
    # later entries: recorded after T (they may be back-dated to any occurred_at, and may repair)
    shifted = [
        scoring.EntryFact(
            **{
                **fact.__dict__,
                "seq": len(facts) + fact.seq,
                "recorded_at": as_of + datetime.timedelta(seconds=1 + fact.seq),
                "reverses": fact.reverses and len(facts) + fact.reverses,
            }
        )
        for fact in later
    ]
    assert scoring.grade_as_of([*facts, *shifted], as_of) == before


def test_thresholds_and_explanation():
    now = EPOCH + datetime.timedelta(days=100)
    facts = [
        scoring.EntryFact(1, "admin_penalty", "general", -15, EPOCH, EPOCH, 3, 12),
        scoring.EntryFact(2, "penalty_simplified", "minor", -5, EPOCH, EPOCH, 0, 3),
        scoring.EntryFact(3, "wage_arrears", "general", -20, EPOCH, EPOCH, 3, 12),
        scoring.EntryFact(4, "repair", "minor", 0, now, now, 0, 0, effect=scoring.REPAIR, reverses=3),
    ]
    result = scoring.grade_as_of(facts, now)
    assert (result.score, result.grade, result.rule_version) == (65, "C", "2026.1")
    assert [c.seq for c in result.contributing] == [1]
    reasons = {e.seq: e.reason for e in result.excluded}
    assert reasons == {2: scoring.EXPIRED, 3: scoring.REPAIRED, 4: scoring.CORRECTION}
    assert scoring.grade_as_of(facts, now - datetime.timedelta(days=1)).score == 45


@settings(max_examples=200, deadline=None)
@given(ledgers(), instants, st.floats(0, 1, exclude_max=True))
def test_result_is_unchanged_until_stable_until(facts, as_of, fraction):
    """What makes a stored snapshot exact between its instant and ``stable_until``."""
    first = scoring.grade_as_of(facts, as_of)
    horizon = first.stable_until or as_of + datetime.timedelta(days=4000)
    span = horizon - as_of
    later = as_of + min(span * fraction, span - datetime.timedelta(microseconds=1))
    known = [f for f in facts if f.recorded_at <= as_of]  # nothing recorded in between
    second = scoring.grade_as_of(known, later)
    assert (second.grade, second.score, [c.seq for c in second.contributing]) == (
        first.grade,
        first.score,
        [c.seq for c in first.contributing],
    )


_text = st.text(st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "seq": st.integers(1, 10**12),
            "enterprise_uscc": _text,
            "kind_code": _text,
            "kind_version": st.integers(1, 99),
            "points": st.integers(-1000, 1000),
            "occurred_at": st.datetimes(timezones=st.just(datetime.UTC)),
            "recorded_at": st.datetimes(timezones=st.just(datetime.UTC)),
            "deciding_authority": _text,
            "document_number": _text,
            "legal_basis": _text,
            "source_type": _text,
            "source_id": _text,
            "reason": _text,
            "recorded_by": st.none() | st.integers(1, 10**9),
            "approved_by": st.none() | st.integers(1, 10**9),
            "reverses": st.none() | st.integers(1, 10**9),
            "hash_algorithm": st.sampled_from(["sha256", "sm3"]),
            "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
        }
    )
)
def test_canonical_form_fast_paths_equal_the_definition(fields):
    from credit.ledger import hashing as ledger_hashing

    reference = ledger_hashing.canonical_bytes_reference(fields)
    assert ledger_hashing.canonical_bytes(fields) == reference
    as_text = {k: (utc_text(v) if isinstance(v, datetime.datetime) else v) for k, v in fields.items()}
    row = [as_text[name] for name in ledger_hashing.CANONICAL_FIELDS_V1]
    assert ledger_hashing.entry_hash_of_row(row) == ledger_hashing.digest(reference, fields["hash_algorithm"])
