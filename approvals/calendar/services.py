"""Writes of the working-day calendar. Every change is a new ``CalendarVersion``."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from approvals.models import CalendarDay, CalendarVersion, CalendarYear
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record


class CalendarError(DomainError):
    pass


# The years the calendar can hold. Deadlines are counted in working days of these years; outside
# them a year is a typing error (``date(0, 1, 1)`` does not even exist).
CALENDAR_FIRST_YEAR = 2000
CALENDAR_LAST_YEAR = 2100


def _require_administrator(actor: User | None) -> None:
    if actor is not None and not (actor.is_active and actor.has_perm("approvals.administer")):
        raise CalendarError("permission_denied", _("Only an administrator may change the calendar."))


def _version_next(*, actor: User | None, note: str) -> CalendarVersion:
    # Serialise calendar edits on the newest version row so version numbers never collide.
    latest = CalendarVersion.objects.select_for_update().order_by("-number").first()
    return CalendarVersion.objects.create(
        number=(latest.number + 1) if latest else 1, created_by=actor, note=note[:300]
    )


def calendar_year_publish(
    *,
    actor: User | None,
    year: int,
    days: Iterable[tuple[datetime.date, str, str]],
    source: str = CalendarYear.Source.MANUAL,
    on_recompute: Callable[[int], None] | None = None,
) -> CalendarVersion:
    """Enter a year: its holidays and make-up working days ``(date, kind, name)``.

    Deadlines left provisional for lack of this year are recomputed (``on_recompute`` is told how
    many). Errors: ``permission_denied``, ``year_out_of_range``, ``year_already_published``,
    ``day_outside_year``, ``day_kind_invalid``.
    """
    _require_administrator(actor)
    if not CALENDAR_FIRST_YEAR <= year <= CALENDAR_LAST_YEAR:
        raise CalendarError(
            "year_out_of_range",
            _("The calendar holds the years %(first)s to %(last)s.")
            % {"first": CALENDAR_FIRST_YEAR, "last": CALENDAR_LAST_YEAR},
        )
    rows = list(days)
    for day, kind, _name in rows:
        if day.year != year:
            raise CalendarError("day_outside_year", _("%(day)s is not in %(year)s.") % {"day": day, "year": year})
        if kind not in CalendarDay.Kind.values:
            raise CalendarError("day_kind_invalid", _("Unknown kind of day."))
    with transaction.atomic():
        version = _version_next(actor=actor, note=f"publish {year}")
        if CalendarYear.objects.filter(year=year).exists():
            raise CalendarError("year_already_published", _("%(year)s is already in the calendar.") % {"year": year})
        CalendarYear.objects.create(year=year, source=source, added_in=version)
        CalendarDay.objects.filter(date__year=year, removed_in__isnull=True).update(removed_in=version)
        CalendarDay.objects.bulk_create(
            [CalendarDay(date=day, kind=kind, name=name[:100], added_in=version) for day, kind, name in rows]
        )
        audit_event_record(
            actor=actor, action="calendar.year_published", obj=version, data={"year": year, "days": len(rows)}
        )
        from approvals.applications.services import deadlines_recompute_provisional

        recomputed = deadlines_recompute_provisional()
        if on_recompute is not None:
            on_recompute(recomputed)
    return version


def calendar_day_set(*, actor: User | None, day: datetime.date, kind: str, name: str, note: str) -> CalendarVersion:
    """Mark ``day`` a holiday or a make-up working day, replacing any current entry for it.

    Errors: ``permission_denied``, ``day_kind_invalid``, ``note_required``."""
    _require_administrator(actor)
    if kind not in CalendarDay.Kind.values:
        raise CalendarError("day_kind_invalid", _("Unknown kind of day."))
    if not note.strip():
        raise CalendarError("note_required", _("Say why the calendar changes."))
    with transaction.atomic():
        version = _version_next(actor=actor, note=note)
        CalendarDay.objects.filter(date=day, removed_in__isnull=True).update(removed_in=version)
        CalendarDay.objects.create(date=day, kind=kind, name=name[:100], added_in=version)
        audit_event_record(
            actor=actor, action="calendar.day_set", obj=version, data={"day": day, "kind": kind, "note": note}
        )
    return version


def calendar_day_clear(*, actor: User | None, day: datetime.date, note: str) -> CalendarVersion:
    """Remove the entry for ``day`` (it becomes an ordinary weekday or weekend day).

    Errors: ``permission_denied``, ``day_has_no_entry``, ``note_required``."""
    _require_administrator(actor)
    if not note.strip():
        raise CalendarError("note_required", _("Say why the calendar changes."))
    with transaction.atomic():
        if not CalendarDay.objects.filter(date=day, removed_in__isnull=True).exists():
            raise CalendarError("day_has_no_entry", _("This day has no entry to remove."))
        version = _version_next(actor=actor, note=note)
        CalendarDay.objects.filter(date=day, removed_in__isnull=True).update(removed_in=version)
        audit_event_record(actor=actor, action="calendar.day_cleared", obj=version, data={"day": day, "note": note})
    return version


def calendar_years_from_package(years: Iterable[int]) -> dict[int, list[tuple[datetime.date, str, str]]]:
    """Holidays and make-up days per year from the ``chinese-calendar`` package, for the years it covers."""
    from chinese_calendar import constants

    result: dict[int, list[tuple[datetime.date, str, str]]] = {}
    covered = {day.year for day in constants.holidays} | {day.year for day in constants.workdays}
    for year in years:
        if year not in covered:
            continue
        rows = [
            (day, CalendarDay.Kind.HOLIDAY.value, str(name))
            for day, name in constants.holidays.items()
            if day.year == year
        ]
        rows += [
            (day, CalendarDay.Kind.WORKDAY.value, str(name))
            for day, name in constants.workdays.items()
            if day.year == year
        ]
        result[year] = sorted(rows)
    return result
