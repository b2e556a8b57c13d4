"""Working days and the statutory clock (行政许可法 arts. 32, 42, 45), pure: no Django, no
database. The calendar it counts on is a value (``WorkingCalendar``); ``approvals.calendar.selectors``
loads it and holds the strict public contract (``add_working_days``, ``working_days_between``,
``CalendarNotPublished``).

Strict counting raises ``YearNotCovered`` for a date in a year the calendar does not cover. The
deadline functions below catch it, count weekdays only for the uncovered part and mark the result
provisional. Counting follows Chinese law's counting of periods: the starting day itself is never
counted.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class YearNotCovered(Exception):  # noqa: N818
    """A day to be examined lies in a year the calendar does not cover."""

    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


@dataclass(frozen=True)
class WorkingCalendar:
    """The calendar as of one version: covered years and the exceptions to Monday–Friday."""

    version: int
    years: frozenset[int]
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    workdays: frozenset[datetime.date] = field(default_factory=frozenset)
    # A deadline this close (working days left, inclusive) is shown yellow (settings.CLOCK_YELLOW_DAYS).
    yellow_days: int = 2

    def is_working_day(self, day: datetime.date, *, strict: bool = True) -> bool:
        if day.year not in self.years:
            if strict:
                raise YearNotCovered(day.year)
            return day.weekday() < 5
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def _add(start: datetime.date, days: int, calendar: WorkingCalendar, *, strict: bool) -> datetime.date:
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day, strict=strict):
            counted += 1
    return day


def _between(start: datetime.date, end: datetime.date, calendar: WorkingCalendar, *, strict: bool) -> int:
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day, strict=strict):
            count += 1
    return count


def add_working_days(start: datetime.date, days: int, *, calendar: WorkingCalendar) -> datetime.date:
    """The ``days``-th working day after ``start`` (``start`` itself is never counted). Raises
    ``YearNotCovered`` when a day to be examined lies in a year the calendar does not cover."""
    return _add(start, days, calendar, strict=True)


def working_days_between(start: datetime.date, end: datetime.date, *, calendar: WorkingCalendar) -> int:
    """The number of working days ``d`` with ``start < d <= end`` (0 when ``end <= start``).
    Raises ``YearNotCovered`` for an uncovered year."""
    return _between(start, end, calendar, strict=True)


@dataclass(frozen=True)
class Due:
    """A computed date and whether it rests on weekdays only for some uncovered year."""

    on: datetime.date
    provisional: bool
    calendar_version: int


def due_after(start: datetime.date, days: int, *, calendar: WorkingCalendar) -> Due:
    """``add_working_days`` that never fails: an uncovered year counts weekdays only, provisionally."""
    try:
        return Due(_add(start, days, calendar, strict=True), False, calendar.version)
    except YearNotCovered:
        return Due(_add(start, days, calendar, strict=False), True, calendar.version)


def _between_lenient(start: datetime.date, end: datetime.date, calendar: WorkingCalendar) -> tuple[int, bool]:
    try:
        return _between(start, end, calendar, strict=True), False
    except YearNotCovered:
        return _between(start, end, calendar, strict=False), True


@dataclass(frozen=True)
class Count:
    count: int
    provisional: bool


def working_days_between_lenient(start: datetime.date, end: datetime.date, *, calendar: WorkingCalendar) -> Count:
    """``working_days_between`` that never fails: weekdays only for an uncovered year, provisionally."""
    count, provisional = _between_lenient(start, end, calendar)
    return Count(count, provisional)


class ClockFact(Protocol):
    kind: str
    on: datetime.date
    days: int | None


@dataclass(frozen=True)
class Deadline:
    """The state of an application's two clocks, derived from its events.

    ``due`` is the promised deadline (承诺时限, which supervision measures against); ``statutory_due``
    the statutory one (法定时限, 行政许可法 art. 42), ``None`` when no statutory limit was given. Both
    start on the same acceptance day and are moved by the same excluded periods and extensions."""

    state: str  # "not_started" | "running" | "suspended"
    due: Due | None
    accepted_on: datetime.date | None
    suspended_days: int
    extension_days: int
    suspended_since: datetime.date | None
    statutory_due: Due | None = None


def application_deadline(
    events: Sequence[ClockFact],
    *,
    promised_days: int,
    statutory_days: int | None = None,
    calendar: WorkingCalendar,
) -> Deadline:
    """Recompute both deadlines from the clock events, in order.

    promised  = add_working_days(accepted_on, promised + Σ suspended working days + Σ extensions)
    statutory = add_working_days(accepted_on, statutory + Σ suspended working days + Σ extensions)

    which is the same as moving a deadline later by ``working_days_between(suspended_on,
    resumed_on)`` for each suspension. An open suspension does not move either deadline yet.

    The same excluded days move both clocks: an art. 45 period (and a supplement request after
    acceptance) is not time the bureau had, and an art. 42 extension is approved by the head of the
    agency (every ``extended`` event names its approver, a database constraint), so neither is
    lateness against the law or against the published promise. The fast-track reduction shortens
    ``promised_days`` only (the caller passes it so): no policy shortens the law's limit.
    ``statutory_days=None`` computes the promised deadline alone (``statutory_due`` is ``None``).
    """
    accepted_on: datetime.date | None = None
    suspended_since: datetime.date | None = None
    suspended_days = 0
    extension_days = 0
    provisional = False
    for event in events:
        if event.kind == "accepted":
            accepted_on = event.on
        elif event.kind == "suspended" and suspended_since is None:
            suspended_since = event.on
        elif event.kind == "resumed" and suspended_since is not None:
            days, lenient = _between_lenient(suspended_since, event.on, calendar)
            suspended_days += days
            provisional = provisional or lenient
            suspended_since = None
        elif event.kind == "extended":
            extension_days += event.days or 0
    if accepted_on is None:
        return Deadline("not_started", None, None, 0, 0, None)
    start: datetime.date = accepted_on
    moved = suspended_days + extension_days

    def due_in(days: int) -> Due:
        due = due_after(start, days + moved, calendar=calendar)
        return Due(due.on, due.provisional or provisional, calendar.version)

    state = "suspended" if suspended_since is not None else "running"
    statutory = due_in(statutory_days) if statutory_days is not None else None
    return Deadline(
        state, due_in(promised_days), accepted_on, suspended_days, extension_days, suspended_since, statutory
    )


def warning_band(due_on: datetime.date | None, *, today: datetime.date, calendar: WorkingCalendar) -> str:
    """``green``, ``yellow`` (≤ ``calendar.yellow_days`` working days left) or ``red`` (overdue);
    ``none`` without a due date."""
    if due_on is None:
        return "none"
    if today > due_on:
        return "red"
    left, _provisional = _between_lenient(today, due_on, calendar)
    return "yellow" if left <= calendar.yellow_days else "green"


def working_days_left(due_on: datetime.date, *, today: datetime.date, calendar: WorkingCalendar) -> int:
    """Working days from today to the due date; negative when overdue."""
    if today > due_on:
        return -_between_lenient(due_on, today, calendar)[0]
    return _between_lenient(today, due_on, calendar)[0]


# The standing of a case against its two limits, from the mildest to the gravest.
NOT_STARTED = "not_started"
ON_TIME = "on_time"
DUE_SOON = "due_soon"  # the yellow band before the promised deadline
PROMISED_OVERRUN = "promised_overrun"  # 超承诺时限: supervision's lateness (电子监察)
STATUTORY_OVERRUN = "statutory_overrun"  # 超法定时限: unlawful delay, graver
STANDINGS = (NOT_STARTED, ON_TIME, DUE_SOON, PROMISED_OVERRUN, STATUTORY_OVERRUN)
_BAND = {
    NOT_STARTED: "none",
    ON_TIME: "green",
    DUE_SOON: "yellow",
    PROMISED_OVERRUN: "red",
    STATUTORY_OVERRUN: "red",
}


@dataclass(frozen=True)
class Standing:
    """Where a case stands against its promised and statutory deadlines on the day ``as_of``.

    ``*_days_left`` are working days from ``as_of`` to the deadline, negative once it has passed
    (``working_days_left``), ``None`` without that deadline."""

    state: str
    as_of: datetime.date
    promised_days_left: int | None
    statutory_days_left: int | None

    @property
    def band(self) -> str:
        """The warning band of the existing lights: red for either overrun."""
        return _BAND[self.state]

    @property
    def promised_days_shown(self) -> int | None:
        """The promised count for display: none when the limit passed on a day off right after its
        due day (no working day overrun yet, yet "0 working days left" would read as time left)."""
        return _shown(self.promised_days_left, passed=self.state in (PROMISED_OVERRUN, STATUTORY_OVERRUN))

    @property
    def statutory_days_shown(self) -> int | None:
        return _shown(self.statutory_days_left, passed=self.state == STATUTORY_OVERRUN)

    @property
    def gravity(self) -> int:
        """0 (not started) … 4 (past the statutory limit): sort by ``-gravity`` for urgency."""
        return STANDINGS.index(self.state)


def _shown(days_left: int | None, *, passed: bool) -> int | None:
    return None if passed and days_left == 0 else days_left


def clock_standing(
    promised_on: datetime.date | None,
    statutory_on: datetime.date | None,
    *,
    today: datetime.date,
    calendar: WorkingCalendar,
    suspended_since: datetime.date | None = None,
    closed_on: datetime.date | None = None,
) -> Standing:
    """On time, due soon (≤ ``calendar.yellow_days`` working days before the promised deadline),
    past the promised limit, or past the statutory limit (graver, and it wins).

    The clock is read on ``as_of``: ``today``, or earlier when it stands still — the day an open
    suspension began (an excluded period is not lateness, art. 45; the deadlines move only when the
    clock resumes, so read on ``today`` a case would turn late inside the excluded period itself)
    or the day the case was closed (a decided case is judged by its decision day, and is never due
    soon).

    A limit is passed once its due day is over (``as_of`` after it), as the red band; due days are
    working days, so the first overrun day may be a weekend day. The counts are in working days.
    """
    as_of = min(day for day in (today, suspended_since, closed_on) if day is not None)
    if promised_on is None and statutory_on is None:
        return Standing(NOT_STARTED, as_of, None, None)
    promised_left = working_days_left(promised_on, today=as_of, calendar=calendar) if promised_on else None
    statutory_left = working_days_left(statutory_on, today=as_of, calendar=calendar) if statutory_on else None
    if statutory_on is not None and as_of > statutory_on:
        state = STATUTORY_OVERRUN
    elif promised_on is not None and as_of > promised_on:
        state = PROMISED_OVERRUN
    elif closed_on is None and promised_left is not None and promised_left <= calendar.yellow_days:
        state = DUE_SOON
    else:
        state = ON_TIME
    return Standing(state, as_of, promised_left, statutory_left)


def uncovered_years(days: Iterable[datetime.date], calendar: WorkingCalendar) -> set[int]:
    return {day.year for day in days if day.year not in calendar.years}
