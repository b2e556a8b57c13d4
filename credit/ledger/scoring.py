"""Credit grade: pure functions of (entries, as-of instant, rule set). No ORM, no clock.

Bitemporal: the grade as of T uses only the entries *recorded* at or before T; publication windows
run from each entry's ``occurred_at``. Appending entries later, back-dated or not, therefore never
changes the grade as of a past instant.

Rule set ``2026.1``: score = base + points of every entry that, at T, has occurred, lies inside its
maximum publication window, and has not been ended by a repair or a reversal recorded by T (score
floored at 0). Grades by thresholds; hard rule: an active entry whose kind forces D, or any active
serious entry with negative points, forces grade D.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from core import dates

SHANGHAI = ZoneInfo("Asia/Shanghai")

SCORE = "score"
REPAIR = "repair"
REVERSAL = "reversal"
SERIOUS = "serious"

# Reasons an entry is left out of the score (stable codes; screens translate them).
EXPIRED = "expired"
REPAIRED = "repaired"
REVERSED = "reversed"
NOT_YET_OCCURRED = "not_yet_occurred"
CORRECTION = "correction"


@dataclass(frozen=True)
class EntryFact:
    """What the grade needs to know of one ledger entry."""

    seq: int
    kind_code: str
    tier: str
    points: int
    occurred_at: datetime.datetime
    recorded_at: datetime.datetime
    min_window_months: int
    max_window_months: int
    forces_grade_d: bool = False
    effect: str = SCORE
    reverses: int | None = None


@dataclass(frozen=True)
class RuleSet:
    version: str
    base: int
    thresholds: tuple[tuple[str, int], ...]  # (grade, minimum score), best first; the rest is D


RULES_2026_1 = RuleSet(version="2026.1", base=80, thresholds=(("A", 90), ("B", 70), ("C", 50)))
CURRENT_RULES = RULES_2026_1
GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Contribution:
    seq: int
    kind_code: str
    points: int
    occurred_at: datetime.datetime
    window_ends_at: datetime.datetime
    forces_grade_d: bool


@dataclass(frozen=True)
class Exclusion:
    seq: int
    kind_code: str
    points: int
    reason: str
    by_seq: int | None = None


@dataclass(frozen=True)
class GradeResult:
    as_of: datetime.datetime
    grade: str
    score: int
    rule_version: str
    base: int
    contributing: tuple[Contribution, ...] = field(default_factory=tuple)
    excluded: tuple[Exclusion, ...] = field(default_factory=tuple)
    forced_by: tuple[int, ...] = field(default_factory=tuple)
    # The grade, score and contributing entries stay exactly as they are for every instant in
    # [as_of, stable_until) as long as no entry is recorded; None: until an entry is recorded.
    stable_until: datetime.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["stable_until"] = self.stable_until.isoformat() if self.stable_until else None
        for item in data["contributing"]:
            item["occurred_at"] = item["occurred_at"].isoformat()
            item["window_ends_at"] = item["window_ends_at"].isoformat()
        return data


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """``moment`` plus whole calendar months in Asia/Shanghai (31 Jan + 1 month = 28/29 Feb)."""
    return dates.add_months(moment.astimezone(SHANGHAI), months)


def window_end(fact: EntryFact) -> datetime.datetime:
    return add_months(fact.occurred_at, fact.max_window_months)


def repair_possible_from(fact: EntryFact) -> datetime.datetime:
    """Repair may be requested once the minimum publication window has passed."""
    return add_months(fact.occurred_at, fact.min_window_months)


def grade_for_score(score: int, rules: RuleSet = CURRENT_RULES) -> str:
    for grade, minimum in rules.thresholds:
        if score >= minimum:
            return grade
    return "D"


def grade_as_of(entries: Iterable[EntryFact], as_of: datetime.datetime, rules: RuleSet = CURRENT_RULES) -> GradeResult:
    """The grade as of ``as_of`` with its explanation. ``entries`` may hold anything the ledger
    has, including entries recorded after ``as_of`` (they are ignored)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be time-zone aware")
    known = sorted((e for e in entries if e.recorded_at <= as_of), key=lambda e: e.seq)
    ended: dict[int, tuple[str, int]] = {}
    changes: list[datetime.datetime] = []
    for fact in known:
        if fact.effect in (REPAIR, REVERSAL) and fact.reverses is not None and fact.occurred_at > as_of:
            changes.append(fact.occurred_at)
        if fact.effect in (REPAIR, REVERSAL) and fact.reverses is not None and fact.occurred_at <= as_of:
            reason = REPAIRED if fact.effect == REPAIR else REVERSED
            # A reversal voids the entry whatever happened before; otherwise the first ending wins.
            if fact.reverses not in ended or reason == REVERSED:
                ended[fact.reverses] = (reason, fact.seq)
    contributing: list[Contribution] = []
    excluded: list[Exclusion] = []
    forced: list[int] = []
    for fact in known:
        if fact.effect != SCORE:
            excluded.append(Exclusion(fact.seq, fact.kind_code, fact.points, CORRECTION, fact.reverses))
            continue
        if fact.seq in ended:
            reason, by = ended[fact.seq]
            excluded.append(Exclusion(fact.seq, fact.kind_code, fact.points, reason, by))
            continue
        if fact.occurred_at > as_of:
            excluded.append(Exclusion(fact.seq, fact.kind_code, fact.points, NOT_YET_OCCURRED))
            changes.append(fact.occurred_at)
            continue
        ends = window_end(fact)
        if as_of >= ends:
            excluded.append(Exclusion(fact.seq, fact.kind_code, fact.points, EXPIRED))
            continue
        forces = fact.forces_grade_d or (fact.tier == SERIOUS and fact.points < 0)
        contributing.append(Contribution(fact.seq, fact.kind_code, fact.points, fact.occurred_at, ends, forces))
        changes.append(ends)
        if forces:
            forced.append(fact.seq)
    score = max(0, rules.base + sum(c.points for c in contributing))
    grade = "D" if forced else grade_for_score(score, rules)
    return GradeResult(
        as_of=as_of,
        grade=grade,
        score=score,
        rule_version=rules.version,
        base=rules.base,
        contributing=tuple(contributing),
        excluded=tuple(excluded),
        forced_by=tuple(forced),
        stable_until=min(changes) if changes else None,
    )


def grade_rank(grade: str) -> int:
    """0 for A … 3 for D: a higher rank is a worse grade."""
    return GRADES.index(grade)


def score_series(
    entries: Iterable[EntryFact], instants: Iterable[datetime.datetime], rules: RuleSet = CURRENT_RULES
) -> list[tuple[datetime.datetime, int, str]]:
    facts = list(entries)
    series = []
    for instant in instants:
        result = grade_as_of(facts, instant, rules)
        series.append((instant, result.score, result.grade))
    return series
