"""The efficiency dashboard's monthly roll-up (``EfficiencyMonth`` / ``EfficiencyCell``): writes.

A complete month is rolled up once it is ``SUPERVISION_ROLLUP_LAG_DAYS`` past its end (so a
transition begun before midnight of its last day has committed): per rolled source of the
dashboard (cases received, accepted, closed; steps handled), the rows of the month grouped by
department, item, person and working days taken, each measure computed by its figure's own
aggregate (``dashboard.FIGURES``). The dashboard reads rolled months from the cells and the other
months live from the cases, and the two give the same figures (``efficiency_rollup_verify``).

A rolled month's facts change only by exception (a close-facts backfill or recomputation, a
deemed acceptance dated back into it): those writers call ``efficiency_month_touched(day)`` in
their transaction, which removes the month's marker and cells, and the month is read live until
the next roll. Both take the month's lock (a PostgreSQL advisory lock), so a roll and a touch of
the same month are serialised: the roll either sees the touching write or is undone by it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, IntegerField, Min, Value
from django.utils import timezone

from approvals.models import Application, EfficiencyCell, EfficiencyMonth
from approvals.supervision import dashboard
from core import dates

logger = logging.getLogger("reformflow.supervision")

_LOCK_NAMESPACE = 0x45464652  # "EFFR": the advisory-lock space of the roll-up's months


def _month_lock(month: datetime.date) -> None:
    """Serialise the roll and the touches of one month (inside the caller's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, month.toordinal()])


def rollup_lag_days() -> int:
    return int(getattr(settings, "SUPERVISION_ROLLUP_LAG_DAYS", 2))


def rollable_before(today: datetime.date) -> datetime.date:
    """The first month not yet rollable on ``today``: months before it have ended at least the lag
    ago."""
    return dashboard.month_of(today - datetime.timedelta(days=rollup_lag_days()))


def efficiency_month_touched(day: datetime.date | None) -> bool:
    """A fact dated ``day`` was written or changed: if its month may be rolled up, forget the roll
    (in the caller's transaction). No query for a day of the current month (every ordinary
    transition). Returns whether a roll was removed."""
    if day is None:
        return False
    month = dashboard.month_of(day)
    if month >= dashboard.month_of(timezone.localdate()):
        return False
    _month_lock(month)
    EfficiencyCell.objects.filter(month=month).delete()
    removed, _ = EfficiencyMonth.objects.filter(month=month).delete()
    return bool(removed)


def _cells_of(source: dashboard.Source, month: datetime.date) -> list[EfficiencyCell]:
    aggregates = {f"m_{f.measure}": f.aggregate() for f in dashboard.dashboard_measure_figures(source) if f.aggregate}
    person = source.lookups.get(dashboard.PERSON)
    keys: dict[str, Any] = {
        "r_department": F(source.department),
        "r_item": F(source.item),
        "r_person": F(person) if person else Value(None, output_field=IntegerField()),
        "r_days": F(source.histogram) if source.histogram else Value(None, output_field=IntegerField()),
    }
    rows = source.rows(scope=dashboard.Scope(), period=dashboard.Period(month, month), today=month)
    cells = []
    for values in rows.annotate(**keys).values(*keys).annotate(**aggregates).order_by():
        measures = {name[2:]: int(values[name] or 0) for name in aggregates}
        cells.append(
            EfficiencyCell(
                month=month,
                source=source.key,
                department_id=values["r_department"],
                item_id=values["r_item"],
                person_id=values["r_person"],
                days=values["r_days"],
                **measures,
            )
        )
    return cells


def efficiency_month_roll(month: datetime.date) -> int:
    """Roll up ``month`` (replacing an earlier roll): one transaction, under the month's lock.
    Returns the number of cells. Refuses a month that is not yet rollable."""
    month = dashboard.month_of(month)
    if month >= rollable_before(timezone.localdate()):
        raise ValueError(f"{month:%Y-%m} is not complete yet (lag {rollup_lag_days()} days)")
    with transaction.atomic():
        _month_lock(month)
        EfficiencyCell.objects.filter(month=month).delete()
        cells: list[EfficiencyCell] = []
        for source in dashboard.SOURCES.values():
            if source.rolled:
                cells.extend(_cells_of(source, month))
        EfficiencyCell.objects.bulk_create(cells, batch_size=2000)
        EfficiencyMonth.objects.update_or_create(
            month=month, defaults={"rolled_at": timezone.now(), "cells": len(cells)}
        )
    return len(cells)


def months_to_roll(*, today: datetime.date | None = None) -> list[datetime.date]:
    """Complete months from the first case received to the last rollable one that have no roll."""
    today = today or timezone.localdate()
    first = Application.objects.aggregate(first=Min("received_on"))["first"]
    if first is None:
        return []
    end = rollable_before(today)
    rolled = set(EfficiencyMonth.objects.values_list("month", flat=True))
    months, month = [], dashboard.month_of(first)
    while month < end:
        if month not in rolled:
            months.append(month)
        month = dates.add_months(month, 1)
    return months


def efficiency_rollup_pending(
    *, today: datetime.date | None = None, progress: Callable[[datetime.date, int], None] | None = None
) -> int:
    """Roll up every complete month that has no roll (the periodic job): the number of months."""
    months = months_to_roll(today=today)
    for month in months:
        count = efficiency_month_roll(month)
        if progress is not None:
            progress(month, count)
    if months:
        logger.info("efficiency roll-up: %d months rolled", len(months))
    return len(months)


def efficiency_rollup_verify(months: Iterable[datetime.date] | None = None) -> list[str]:
    """Compare each rolled month's figures with the same figures computed live from the cases, for
    the bureau by department and by person: the differences, as sentences (empty: none)."""
    rolled = sorted(EfficiencyMonth.objects.values_list("month", flat=True)) if months is None else list(months)
    today = timezone.localdate()
    figures = [f for f in dashboard.FIGURES if f.source and dashboard.SOURCES[f.source].rolled]
    differences = []
    for month in rolled:
        period = dashboard.Period(month, month)
        for grouping in (dashboard.DEPARTMENT, dashboard.PERSON):
            read = dashboard.efficiency_table(
                scope=dashboard.Scope(), period=period, grouping=grouping, today=today, figures=figures
            )
            live = dashboard.efficiency_table(
                scope=dashboard.Scope(), period=period, grouping=grouping, today=today, figures=figures, live=True
            )
            read_rows = {row.key: row.values for row in [*read.rows, read.total]}
            live_rows = {row.key: row.values for row in [*live.rows, live.total]}
            for key in sorted(set(read_rows) | set(live_rows), key=str):
                if read_rows.get(key) != live_rows.get(key):
                    differences.append(
                        f"{month:%Y-%m} {grouping} {key}: rolled {read_rows.get(key)} != live {live_rows.get(key)}"
                    )
    return differences
