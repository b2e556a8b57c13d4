"""Reads of the working-day calendar: the calendar as of a version (the one administrators edit,
loaded from the database and kept per version), the strict public contract other code and
integrations rely on, and the warnings about uncovered years.

``add_working_days`` and ``working_days_between`` are strict: a date in a year the calendar does
not cover raises ``CalendarNotPublished`` (a domain error with a stable code). The pure counting is
``approvals.calendar.clock``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.calendar import clock
from approvals.calendar.clock import WorkingCalendar
from core.exceptions import DomainError


class CalendarNotPublished(DomainError):  # noqa: N818  (the name is part of the public contract)
    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar_not_published",
            _("The working-day calendar for %(year)s has not been entered yet.") % {"year": year},
            year=year,
        )
        self.year = year


def calendar_load(version: int | None = None) -> WorkingCalendar:
    """The calendar as of ``version`` (default: the current one)."""
    from approvals.models import CalendarVersion

    query = CalendarVersion.objects.order_by("-number")
    if version is not None:
        query = query.filter(number=version)
    row = query.values_list("pk", "number", "created_at").first()
    if row is None:
        if version is not None:
            raise ValueError(f"calendar version {version} does not exist")
        calendar = WorkingCalendar(version=0, years=frozenset())
    else:
        calendar = _calendar_build(*row)
    return dataclasses.replace(calendar, yellow_days=settings.CLOCK_YELLOW_DAYS)


@functools.lru_cache(maxsize=16)
def _calendar_build(pk: int, number: int, created_at: datetime.datetime) -> WorkingCalendar:
    # A version never changes once written, so its calendar can be kept; (pk, created_at) in the
    # key keeps a reused number from a rolled-back test database from hitting a stale entry.
    from approvals.models import CalendarDay, CalendarYear

    years = frozenset(CalendarYear.objects.filter(added_in__number__lte=number).values_list("year", flat=True))
    holidays: set[datetime.date] = set()
    workdays: set[datetime.date] = set()
    rows = CalendarDay.objects.filter(added_in__number__lte=number).filter(
        Q(removed_in__isnull=True) | Q(removed_in__number__gt=number)
    )
    for day, kind in rows.values_list("date", "kind"):
        (workdays if kind == "workday" else holidays).add(day)
    return WorkingCalendar(version=number, years=years, holidays=frozenset(holidays), workdays=frozenset(workdays))


def add_working_days(start: datetime.date, days: int, *, calendar: WorkingCalendar | None = None) -> datetime.date:
    """The ``days``-th working day after ``start`` (``start`` itself is never counted), on
    ``calendar`` (default: the current one).

    Raises ``CalendarNotPublished`` when a day to be examined lies in a year the calendar does not
    cover."""
    try:
        return clock.add_working_days(start, days, calendar=calendar or calendar_load())
    except clock.YearNotCovered as exc:
        raise CalendarNotPublished(exc.year) from exc


def working_days_between(start: datetime.date, end: datetime.date, *, calendar: WorkingCalendar | None = None) -> int:
    """The number of working days ``d`` with ``start < d <= end`` (0 when ``end <= start``).

    Raises ``CalendarNotPublished`` for an uncovered year."""
    try:
        return clock.working_days_between(start, end, calendar=calendar or calendar_load())
    except clock.YearNotCovered as exc:
        raise CalendarNotPublished(exc.year) from exc


def calendar_warnings() -> dict[str, Any]:
    """Years that open deadlines reach into but the calendar does not cover yet."""
    from approvals.models import Application, Step

    calendar = calendar_load()
    # The statutory deadline lies later than the promised one: it alone may reach into the year.
    provisional = Application.objects.filter(
        Q(deadline_provisional=True) | Q(statutory_deadline_provisional=True), status__in=Application.OPEN_STATUSES
    )
    years = sorted(
        {
            d.year
            for pair in provisional.values_list("deadline", "statutory_deadline")
            for d in pair
            if d and d.year not in calendar.years
        }
    )
    steps = Step.objects.filter(due_provisional=True, closed_at__isnull=True).count()
    return {"years": years, "applications": provisional.count(), "steps": steps}
