"""Calendar arithmetic every layer shares, pure (no Django): whole calendar months and the one
text form of an instant in stored documents (canonical ledger lines, eligibility inputs)."""

from __future__ import annotations

import calendar
import datetime
from typing import TypeVar

_D = TypeVar("_D", datetime.date, datetime.datetime)


def add_months(day: _D, months: int) -> _D:
    """``day`` plus whole calendar months, the day of the month capped at the month's last day
    (31 Jan + 1 month = 28/29 Feb). A datetime keeps its time and time zone: convert it to the
    zone whose calendar counts (Asia/Shanghai for the bureau) before calling."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def utc_text(moment: datetime.datetime) -> str:
    """``moment`` in UTC with microseconds and a ``Z``: the stored text form of an instant."""
    if moment.tzinfo is None:
        raise ValueError("times must be time-zone aware")
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
