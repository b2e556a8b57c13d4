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
    """The state of an application's statutory clock, derived from its events."""

    state: str  # "not_started" | "running" | "suspended"
    due: Due | None
    accepted_on: datetime.date | None
    suspended_days: int
    extension_days: int
    suspended_since: datetime.date | None


def application_deadline(events: Sequence[ClockFact], *, promised_days: int, calendar: WorkingCalendar) -> Deadline:
    """Recompute the deadline from the clock events, in order.

    deadline = add_working_days(accepted_on, promised + Σ suspended working days + Σ extensions),
    which is the same as moving the deadline later by ``working_days_between(suspended_on,
    resumed_on)`` for each suspension. An open suspension does not move the deadline yet.
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
    due = due_after(accepted_on, promised_days + suspended_days + extension_days, calendar=calendar)
    due = Due(due.on, due.provisional or provisional, calendar.version)
    state = "suspended" if suspended_since is not None else "running"
    return Deadline(state, due, accepted_on, suspended_days, extension_days, suspended_since)


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


def uncovered_years(days: Iterable[datetime.date], calendar: WorkingCalendar) -> set[int]:
    return {day.year for day in days if day.year not in calendar.years}
