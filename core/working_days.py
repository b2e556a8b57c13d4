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

_provider: WorkingDaysAdder | None = None


def working_days_provider_register(adder: WorkingDaysAdder) -> None:
    """Install the calendar that ``add_working_days`` counts on (approvals does, in ``ready()``)."""
    global _provider
    _provider = adder


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``start`` on the bureau's calendar. Raises the
    provider's domain error for a year the calendar does not cover."""
    if _provider is None:
        raise RuntimeError("no working-day calendar is registered (is the approvals app installed?)")
    return _provider(start, days)
