"""The facts of a closed case that efficiency supervision (效能监管) aggregates, pure: no Django, no
database. ``approvals.applications.close_facts`` stores them on the application when the case
closes (and its backfill for cases closed before the columns existed), so the dashboard's figures
are plain SQL aggregates over columns and never replay a clock per row.

Counting follows ``approvals.calendar.clock``: working days ``d`` with ``start < d <= end``, the
starting day itself never counted, weekdays only (provisionally) for a year the calendar does not
cover.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from approvals.calendar.clock import ClockFact, WorkingCalendar, due_after, working_days_between_lenient


@dataclass(frozen=True)
class CloseFacts:
    """``working_days`` is acceptance → close in working days less the excluded (suspended) ones;
    ``on_time_*`` compare the close day with each deadline (a limit is kept when the case closes on
    or before its due day, as ``clock.clock_standing`` reads it). All but ``closed_on`` and
    ``suspended_days`` are ``None`` for a case that was never accepted (no clock ran), and
    ``on_time_statutory`` also without a statutory limit."""

    closed_on: datetime.date
    working_days: int | None
    on_time_promised: bool | None
    on_time_statutory: bool | None
    suspended_days: int
    provisional: bool


def close_facts(
    events: Sequence[ClockFact],
    *,
    accepted_on: datetime.date | None,
    closed_on: datetime.date,
    promised_days: int,
    statutory_days: int | None,
    calendar: WorkingCalendar,
) -> CloseFacts:
    """The close facts of one case from its clock events (in order) and its acceptance day.

    ``accepted_on`` is the application's own column rather than the ``accepted`` event, because the
    commitment route (告知承诺) accepts and approves on the spot without a clock event. A suspension
    still open at the close (a withdrawal while the clock stood still) counts up to the close day:
    the clock never ran again. Extensions (art. 42) move the deadlines but are time taken: they are
    not subtracted from ``working_days``."""
    suspended_since: datetime.date | None = None
    suspended = 0
    extensions = 0
    provisional = False
    for event in events:
        if event.kind == "suspended" and suspended_since is None:
            suspended_since = event.on
        elif event.kind == "resumed" and suspended_since is not None:
            count = working_days_between_lenient(suspended_since, event.on, calendar=calendar)
            suspended += count.count
            provisional = provisional or count.provisional
            suspended_since = None
        elif event.kind == "extended":
            extensions += event.days or 0
    # The deadlines move only by closed suspensions (as ``clock.application_deadline``); the time
    # taken excludes an open one too.
    moved = suspended + extensions
    if suspended_since is not None:
        count = working_days_between_lenient(suspended_since, closed_on, calendar=calendar)
        suspended += count.count
        provisional = provisional or count.provisional
    if accepted_on is None:
        return CloseFacts(closed_on, None, None, None, suspended, provisional)
    elapsed = working_days_between_lenient(accepted_on, closed_on, calendar=calendar)
    provisional = provisional or elapsed.provisional
    promised_due = due_after(accepted_on, promised_days + moved, calendar=calendar)
    provisional = provisional or promised_due.provisional
    on_time_statutory: bool | None = None
    if statutory_days is not None:
        statutory_due = due_after(accepted_on, statutory_days + moved, calendar=calendar)
        provisional = provisional or statutory_due.provisional
        on_time_statutory = closed_on <= statutory_due.on
    return CloseFacts(
        closed_on=closed_on,
        working_days=max(0, elapsed.count - suspended),
        on_time_promised=closed_on <= promised_due.on,
        on_time_statutory=on_time_statutory,
        suspended_days=suspended,
        provisional=provisional,
    )
