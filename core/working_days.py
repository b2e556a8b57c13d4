"""The bureau's working-day calendar, as a hook for the layers below approvals.

The approvals app owns the calendar (administrators edit it; ``approvals.calendar``) and registers
its strict ``add_working_days`` here when it is ready. The credit office's request deadlines count
working days through this hook, so they use the same calendar and the same strict rules as every
other deadline (a year the calendar does not cover is refused, never guessed), without credit
importing approvals.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

WorkingDaysAdder = Callable[[datetime.date, int], datetime.date]
# (start, days) → (the day, whether it rests on weekdays only for a year the calendar lacks)
LenientAdder = Callable[[datetime.date, int], tuple[datetime.date, bool]]

_provider: WorkingDaysAdder | None = None
_lenient: LenientAdder | None = None


def working_days_provider_register(adder: WorkingDaysAdder, lenient: LenientAdder | None = None) -> None:
    """Install the calendar that ``add_working_days`` and ``due_after`` count on (approvals does, in
    ``ready()``)."""
    global _provider, _lenient
    _provider = adder
    _lenient = lenient


def due_after(start: datetime.date, days: int) -> tuple[datetime.date, bool]:
    """A deadline ``days`` working days after ``start`` that never fails: in a year the calendar
    does not cover yet, weekdays count, and the second value says the day is provisional (to be
    recomputed once the year is entered, as every provisional deadline is)."""
    if _lenient is None:
        raise RuntimeError("no working-day calendar is registered (is the approvals app installed?)")
    return _lenient(start, days)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``start`` on the bureau's calendar. Raises the
    provider's domain error for a year the calendar does not cover."""
    if _provider is None:
        raise RuntimeError("no working-day calendar is registered (is the approvals app installed?)")
    return _provider(start, days)
