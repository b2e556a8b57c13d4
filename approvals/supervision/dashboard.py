"""Reads of efficiency supervision (效能监管, 电子监察's performance evaluation): the figures of a
period grouped by department, item, person or month, the cases behind each figure, and the public
monthly ranking of departments.

Every figure is one small aggregate over one *source* (the cases received, accepted or closed in
the period, the deemed consents, the steps handled, the cases open and overdue now) in the list
``FIGURES``; a rate is two of them divided. The figures of one source come from one SQL aggregate
per grouping (and one for the total), so a page costs a constant number of queries whatever the
size of the bureau. Closed cases are read through their close facts (``Application.closed_on``,
``working_days_taken`` …, stored by ``approvals.applications.close_facts``), never by replaying
clocks. Complete months are read from their monthly roll-up (``approvals.supervision.rollup``:
the same figures per department × item × person × working days), the others from the cases; the
median and 90th percentile are read off the working days' counts with PostgreSQL's
``percentile_cont`` interpolation (``weighted_percentile``), on every database.

A new figure (the warning ladder's cards, 好差评 satisfaction) is a ``Source`` for its table, when
it has a new one, and a ``Figure`` appended to ``FIGURES``: the table, the charts, the drill-down
and the CSV export take it from there.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, DateField, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from approvals.models import (
    Application,
    ApprovalItemVersion,
    ClockEvent,
    Department,
    EfficiencyCell,
    EfficiencyMonth,
    Rating,
    ReviewOpinion,
    Step,
    SupervisionCard,
)
from core import dates
from core.models import User

Status = Application.Status
DECIDED = (Status.APPROVED, Status.REFUSED)

DEPARTMENT, ITEM, PERSON, MONTH = "department", "item", "person", "month"
GROUPINGS: tuple[tuple[str, Promise], ...] = (
    (DEPARTMENT, _("Department")),
    (ITEM, _("Item")),
    (PERSON, _("Person")),
    (MONTH, _("Month")),
)
NO_PERSON = "system"  # the group of decisions without a decider (the commitment route)
MAX_MONTHS = 36


# --- the period --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole months, ``first`` to ``last`` (the first day of each)."""

    first: datetime.date
    last: datetime.date

    @property
    def end(self) -> datetime.date:
        """The day after the period."""
        return dates.add_months(self.last, 1)

    @property
    def months(self) -> list[datetime.date]:
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = dates.add_months(month, 1)
        return months

    def key(self) -> str:
        return f"{self.first:%Y-%m}..{self.last:%Y-%m}"


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def period_default(*, today: datetime.date) -> Period:
    """The last twelve months, this one included."""
    last = month_of(today)
    return Period(dates.add_months(last, -11), last)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


# --- the scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which cases count: every department (``None``) or some, every item or one."""

    department_ids: frozenset[int] | None = None
    item_id: int | None = None


# --- sources and figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A table and the condition of its rows that count for a period.

    ``lookups`` names, per grouping, the column a row is grouped by (``None``: the source cannot be
    grouped so, its figures show "—"); ``month`` groups by ``date_field``, and a source without a
    date field (open cases, counted now) is not grouped by month. ``application`` leads from a row
    to its case."""

    key: str
    model: type[models.Model]
    condition: Callable[[datetime.date], Q]
    date_field: str | None
    date_is_moment: bool
    lookups: dict[str, str | None]
    department: str
    item: str
    application: str = "pk"
    # read from the monthly roll-up for rolled months (``approvals.supervision.rollup``)
    rolled: bool = False
    # the field whose distribution the percentiles read (a cell's ``days``)
    histogram: str | None = None
    # every figure a count or sum and every row in one group of each grouping: the total is the sum
    # of the groups (not so for a count of distinct cases over rows of several departments)
    additive: bool = True

    def rows(
        self, *, scope: Scope, period: Period, today: datetime.date, months: Sequence[datetime.date] | None = None
    ) -> QuerySet[Any]:
        """The rows that count in ``period`` (or only in ``months`` of it, for a dated source)."""
        query = self.model._default_manager.filter(self.condition(today)).order_by()
        if self.date_field is not None:
            if months is None:
                query = query.filter(self.in_range(period.first, period.end))
            else:
                query = query.filter(self.in_months(months))
        if scope.department_ids is not None:
            query = query.filter(**{f"{self.department}__in": sorted(scope.department_ids)})
        if scope.item_id is not None:
            query = query.filter(**{self.item: scope.item_id})
        return query

    def in_range(self, start: datetime.date, end: datetime.date) -> Q:
        assert self.date_field is not None
        low: datetime.date = _local_midnight(start) if self.date_is_moment else start
        high: datetime.date = _local_midnight(end) if self.date_is_moment else end
        return Q(**{f"{self.date_field}__gte": low, f"{self.date_field}__lt": high})

    def in_months(self, months: Sequence[datetime.date]) -> Q:
        """The rows dated in any of ``months``: one range per run of consecutive months."""
        condition = Q(pk__in=[])
        runs: list[list[datetime.date]] = []
        for month in sorted(months):
            if runs and dates.add_months(runs[-1][-1], 1) == month:
                runs[-1].append(month)
            else:
                runs.append([month])
        for run in runs:
            condition |= self.in_range(run[0], dates.add_months(run[-1], 1))
        return condition

    def group_expression(self, grouping: str) -> Any:
        if grouping == MONTH:
            if self.date_field is None:
                return None
            return Trunc(self.date_field, "month", output_field=DateField())
        lookup = self.lookups.get(grouping)
        return F(lookup) if lookup else None

    def group_filter(self, grouping: str, value: Any) -> Q:
        if grouping == MONTH:
            assert isinstance(value, datetime.date)
            return self.in_range(value, dates.add_months(value, 1))
        lookup = self.lookups[grouping]
        assert lookup is not None
        if value is None:
            return Q(**{f"{lookup}__isnull": True})
        return Q(**{lookup: value})


def _open_overdue(today: datetime.date, *, deadline: str) -> Q:
    """Open cases past ``deadline`` (the promised or the statutory column) on ``today``. An open
    suspension stops the clock on the day it began (art. 45): such a case is overdue only if its
    deadline had passed by then, as ``clock.clock_standing`` reads it."""
    suspended_since = Subquery(
        ClockEvent.objects.filter(application=OuterRef("pk"), kind=ClockEvent.Kind.SUSPENDED)
        .order_by("-at", "-id")
        .values("on")[:1]
    )
    # ``deadline < today`` holds in both branches (a suspension began by today): stated once more so
    # the (status, deadline) index narrows the rows
    return Q(status__in=Application.OPEN_STATUSES, accepted_on__isnull=False, **{f"{deadline}__lt": today}) & (
        Q(clock_suspended=False) | Q(clock_suspended=True, **{f"{deadline}__lt": suspended_since})
    )


_APPLICATION_LOOKUPS = {DEPARTMENT: "item_version__lead_department_id", ITEM: "item_version__item_id", PERSON: None}

SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source(
            key="received",
            model=Application,
            rolled=True,
            condition=lambda today: ~Q(status=Status.DRAFT),
            date_field="received_on",
            date_is_moment=False,
            lookups=_APPLICATION_LOOKUPS,
            department="item_version__lead_department_id",
            item="item_version__item_id",
        ),
        Source(
            key="accepted",
            model=Application,
            rolled=True,
            condition=lambda today: Q(),
            date_field="accepted_on",
            date_is_moment=False,
            lookups=_APPLICATION_LOOKUPS,
            department="item_version__lead_department_id",
            item="item_version__item_id",
        ),
        Source(
            key="closed",
            model=Application,
            rolled=True,
            histogram="working_days_taken",
            condition=lambda today: Q(status__in=DECIDED),
            date_field="closed_on",
            date_is_moment=False,
            lookups={**_APPLICATION_LOOKUPS, PERSON: "decision__decider_id"},
            department="item_version__lead_department_id",
            item="item_version__item_id",
        ),
        Source(
            # Recorded against the co-review department that stayed silent or disagreed without
            # reasons (联动审批), not against the lead department.
            key="deemed_consent",
            model=ReviewOpinion,
            additive=False,
            condition=lambda today: Q(outcome=ReviewOpinion.Outcome.DEEMED_CONSENT),
            date_field="at",
            date_is_moment=True,
            lookups={
                DEPARTMENT: "department_id",
                ITEM: "application__item_version__item_id",
                PERSON: None,
            },
            department="department_id",
            item="application__item_version__item_id",
            application="application_id",
        ),
        Source(
            key="steps",
            model=Step,
            rolled=True,
            condition=lambda today: Q(closed_at__isnull=False, claimed_by__isnull=False),
            date_field="closed_at",
            date_is_moment=True,
            lookups={
                DEPARTMENT: "department_id",
                ITEM: "application__item_version__item_id",
                PERSON: "claimed_by_id",
            },
            department="department_id",
            item="application__item_version__item_id",
            application="application_id",
        ),
        Source(
            # the warning ladder's yellow and red cards on cases and their steps, by the department
            # they were addressed to (the credit and policy offices' cards are not a department's)
            key="cards",
            model=SupervisionCard,
            condition=lambda today: Q(level__in=["yellow", "red"], application__isnull=False),
            date_field="raised_on",
            date_is_moment=False,
            lookups={
                DEPARTMENT: "department_id",
                ITEM: "application__item_version__item_id",
                PERSON: "handler_id",
            },
            department="department_id",
            item="application__item_version__item_id",
            application="application_id",
        ),
        Source(
            # 好差评: first ratings and re-ratings, by the lead department that answers for the item
            key="ratings",
            model=Rating,
            condition=lambda today: Q(),
            date_field="rated_on",
            date_is_moment=False,
            lookups={DEPARTMENT: "department_id", ITEM: "item_id", PERSON: None},
            department="department_id",
            item="item_id",
            application="application_id",
        ),
        *(
            Source(
                key=key,
                model=Application,
                condition=functools.partial(_open_overdue, deadline=deadline),
                date_field=None,
                date_is_moment=False,
                lookups=_APPLICATION_LOOKUPS,
                department="item_version__lead_department_id",
                item="item_version__item_id",
            )
            for key, deadline in (("open_overdue", "deadline"), ("open_statutory_overdue", "statutory_deadline"))
        ),
    )
}

COUNT, RATE, DAYS = "count", "rate", "days"


@dataclass(frozen=True)
class Figure:
    """One column. A count or sum is ``aggregate`` over its source's rows (``cases`` narrows the
    rows to those counted, for the drill-down); a percentile is ``percentile`` of ``field``; a rate
    is ``numerator`` / ``denominator`` (two figures' keys) and its drill-down lists the
    denominator's cases."""

    key: str
    label: Promise
    unit: str
    source: str = ""
    aggregate: Callable[[], Any] | None = None
    cases: Q = field(default_factory=Q)
    percentile: float | None = None
    field: str = ""
    numerator: str = ""
    denominator: str = ""
    help: Promise | str = ""
    shown: bool = True
    # the roll-up cell's column holding ``aggregate`` (a figure of a rolled source)
    measure: str = ""

    @property
    def drill_figure(self) -> str:
        return self.denominator if self.unit == RATE else self.key


FIGURES: list[Figure] = [
    Figure("received", _("Received"), COUNT, "received", lambda: Count("*"), measure="rows"),
    Figure("accepted", _("Accepted"), COUNT, "accepted", lambda: Count("*"), measure="rows"),
    Figure(
        "completed", _("Completed"), COUNT, "closed", lambda: Count("*"), help=_("Approved or refused"), measure="rows"
    ),
    Figure(
        "on_time_promised",
        _("Within the promised limit"),
        COUNT,
        "closed",
        lambda: Count("pk", filter=Q(on_time_promised=True)),
        cases=Q(on_time_promised=True),
        shown=False,
        measure="on_time_promised",
    ),
    Figure(
        "on_time_statutory",
        _("Within the statutory limit"),
        COUNT,
        "closed",
        lambda: Count("pk", filter=Q(on_time_statutory=True)),
        cases=Q(on_time_statutory=True),
        shown=False,
        measure="on_time_statutory",
    ),
    Figure(
        "on_time_rate",
        _("On time (promised limit)"),
        RATE,
        numerator="on_time_promised",
        denominator="completed",
        help=_("Completed within the promised limit (承诺时限), of all completed"),
    ),
    Figure(
        "statutory_rate",
        _("On time (statutory limit)"),
        RATE,
        numerator="on_time_statutory",
        denominator="completed",
        help=_("Completed within the statutory limit (法定时限), of all completed"),
    ),
    Figure(
        "median_days",
        _("Median working days"),
        DAYS,
        "closed",
        percentile=0.5,
        field="working_days_taken",
        help=_("Acceptance to decision, excluded days not counted"),
    ),
    Figure("p90_days", _("90th percentile working days"), DAYS, "closed", percentile=0.9, field="working_days_taken"),
    Figure(
        "supplemented",
        _("Completed after a supplement request"),
        COUNT,
        "closed",
        lambda: Count("pk", filter=Q(supplement_requests__gt=0)),
        cases=Q(supplement_requests__gt=0),
        shown=False,
        measure="supplemented",
    ),
    Figure(
        "supplement_rate",
        _("Supplement rate"),
        RATE,
        numerator="supplemented",
        denominator="completed",
        help=_("Completed cases that needed a supplement request (补正), of all completed"),
    ),
    Figure(
        "suspended_days",
        _("Suspended working days"),
        COUNT,
        "closed",
        lambda: Sum("suspended_working_days", default=0),
        cases=Q(suspended_working_days__gt=0),
        measure="suspended_days",
        help=_("Excluded periods of the completed cases (art. 45, supplement requests)"),
    ),
    Figure(
        "deemed_accepted",
        _("Deemed acceptances"),
        COUNT,
        "accepted",
        lambda: Count("pk", filter=Q(deemed_accepted=True)),
        cases=Q(deemed_accepted=True),
        measure="deemed_accepted",
        help=_("Accepted by operation of law: the window did not answer in time (art. 32)"),
    ),
    Figure(
        "deemed_consent",
        _("Cases with a deemed consent"),
        COUNT,
        "deemed_consent",
        lambda: Count("application", distinct=True),
        help=_("A co-review department did not answer in time or disagreed without reasons"),
    ),
    Figure("steps_handled", _("Steps handled"), COUNT, "steps", lambda: Count("*"), measure="rows"),
    Figure(
        "steps_late",
        _("Steps closed late"),
        COUNT,
        "steps",
        lambda: Count("pk", filter=Q(closed_at__date__gt=F("due_on"))),
        cases=Q(closed_at__date__gt=F("due_on")),
        measure="late",
        help=_("A step past its own due day, even when the case kept its limit"),
    ),
    Figure(
        "cards_raised",
        _("Cards raised"),
        COUNT,
        "cards",
        lambda: Count("*"),
        help=_("Yellow and red supervision cards raised in the period (电子监察)"),
    ),
    Figure(
        "cards_red",
        _("Red cards"),
        COUNT,
        "cards",
        lambda: Count("pk", filter=Q(level="red")),
        cases=Q(level="red"),
        help=_("Red cards: no answer, or still not done, at the yellow card's deadline; or past the statutory limit"),
    ),
    Figure(
        "cards_settled",
        _("Cards settled"),
        COUNT,
        "cards",
        lambda: Count("pk", filter=Q(status__in=["accepted", "closed", "escalated"])),
        cases=Q(status__in=["accepted", "closed", "escalated"]),
        help=_("Of the cards raised in the period: answer accepted, closed with accountability, or escalated"),
    ),
    Figure("ratings", _("Ratings"), COUNT, "ratings", lambda: Count("*"), help=_("好差评, re-ratings included")),
    Figure(
        "ratings_satisfied",
        _("Ratings rated good"),
        COUNT,
        "ratings",
        lambda: Count("pk", filter=Q(level__gte=3)),
        cases=Q(level__gte=3),
        shown=False,
    ),
    Figure(
        "satisfaction_rate",
        _("Rated good (好评率)"),
        RATE,
        numerator="ratings_satisfied",
        denominator="ratings",
        help=_("Ratings rated good (好评: very satisfied, satisfied or fairly satisfied), of all ratings"),
    ),
    Figure(
        "ratings_bad",
        _("Bad ratings (差评)"),
        COUNT,
        "ratings",
        lambda: Count("pk", filter=Q(level__lte=2)),
        cases=Q(level__lte=2),
        help=_("Dissatisfied or very dissatisfied: each opens the callback and rectification loop"),
    ),
    Figure(
        "open_overdue",
        _("Open and overdue now"),
        COUNT,
        "open_overdue",
        lambda: Count("*"),
        help=_("Open cases past their promised limit today"),
    ),
    Figure(
        "open_statutory_overdue",
        _("Open and past the statutory limit now"),
        COUNT,
        "open_statutory_overdue",
        lambda: Count("*"),
        help=_("Open cases past their statutory limit today (超法定时限)"),
    ),
]


def figures_by_key(figures: Iterable[Figure] | None = None) -> dict[str, Figure]:
    return {figure.key: figure for figure in (FIGURES if figures is None else figures)}


# --- percentiles -----------------------------------------------------------------------------------


# --- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        return None if not self.denominator else round(100 * self.numerator / self.denominator, 1)


Value = int | float | Rate | None


@dataclass
class Row:
    key: Any
    label: str
    values: dict[str, Value]
    is_total: bool = False


@dataclass
class Table:
    grouping: str
    figures: list[Figure]
    rows: list[Row]
    total: Row
    # figure key → does its source group by this grouping (else its cells are "—")
    groupable: dict[str, bool]


def _needed(figures: Iterable[Figure]) -> list[Figure]:
    """The figures to compute: those asked for and the counts their rates divide."""
    every = figures_by_key()
    result: dict[str, Figure] = {}
    for figure in figures:
        if figure.unit == RATE:
            result[figure.numerator] = every[figure.numerator]
            result[figure.denominator] = every[figure.denominator]
        result[figure.key] = figure
    return list(result.values())


def _group_key(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _source_values(
    source: Source,
    figures: list[Figure],
    *,
    grouping: str | None,
    scope: Scope,
    period: Period,
    today: datetime.date,
) -> dict[Any, dict[str, Value]]:
    """The figures of one source that is not rolled up: per group (``grouping``) or for the total
    (key ``None`` when ``grouping`` is ``None``). One aggregate query. (Percentiles are figures of a
    rolled source only: ``_rolled_values``.)"""
    rows = source.rows(scope=scope, period=period, today=today)
    aggregates = {f.key: f.aggregate() for f in figures if f.aggregate is not None}
    if any(f.percentile is not None for f in figures):
        raise ValueError(f"percentiles need a rolled source, not {source.key!r}")
    result: dict[Any, dict[str, Value]] = defaultdict(dict)
    if grouping is None:
        if aggregates:
            result[None] = dict(rows.aggregate(**aggregates))
    else:
        expression = source.group_expression(grouping)
        for values in (
            rows.annotate(group=expression).values("group").annotate(**aggregates).values("group", *aggregates)
        ):
            group = _group_key(values.pop("group"))
            result[group] = dict(values)
    return result


def weighted_percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """``percentile_cont`` of the values ``histogram`` counts (value → how many), without expanding
    them: the same interpolation between the values at the positions around ``fraction × (n − 1)``."""
    total = sum(histogram.values())
    if not total:
        return None
    position = fraction * (total - 1)
    low_index, high_index = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > low_index:
            low = value
        if seen > high_index:
            high = value
            break
    assert low is not None and high is not None
    return float(low + (high - low) * (position - low_index))


# a cell's column per grouping (the roll-up's own columns)
_CELL_GROUPS = {DEPARTMENT: "department_id", ITEM: "item_id", PERSON: "person_id", MONTH: "month"}


def rolled_months(period: Period) -> set[datetime.date]:
    """The months of ``period`` read from the roll-up (one query)."""
    return set(EfficiencyMonth.objects.filter(month__in=period.months).values_list("month", flat=True))


def _rolled_values(
    source: Source,
    figures: list[Figure],
    *,
    grouping: str,
    scope: Scope,
    period: Period,
    today: datetime.date,
    rolled: set[datetime.date],
) -> tuple[dict[Any, dict[str, Value]], dict[str, Value]]:
    """The figures of a rolled source per group and in total: the rolled months from their cells
    (one query), the others from the rows (one query), merged. Each row falls in one group, so the
    total is the sum of the groups, and a percentile is read off the merged working-days counts."""
    can_group = source.group_expression(grouping) is not None
    measures = sorted({f.measure for f in figures if f.measure})
    percentiles = [f for f in figures if f.percentile is not None]
    if percentiles and "rows" not in measures:
        measures.append("rows")
    by_measure = {f.measure: f for f in dashboard_measure_figures(source)}
    sums: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    histograms: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(group: Any, days: Any, values: dict[str, Any]) -> None:
        for measure in measures:
            sums[group][measure] += int(values[f"m_{measure}"] or 0)
        if percentiles and days is not None:
            histograms[group][int(days)] += int(values["m_rows"] or 0)

    none = models.Value(None, output_field=models.IntegerField())
    live_months = [month for month in period.months if month not in rolled]
    if live_months:
        rows = source.rows(scope=scope, period=period, today=today, months=live_months)
        keys = {
            "r_group": source.group_expression(grouping) if can_group else none,
            "r_days": F(source.histogram) if (percentiles and source.histogram) else none,
        }
        aggregates = {f"m_{measure}": by_measure[measure].aggregate() for measure in measures}  # type: ignore[misc]
        for values in rows.annotate(**keys).values(*keys).annotate(**aggregates).order_by():
            add(_group_key(values["r_group"]), values["r_days"], values)
    rolled_in = [month for month in period.months if month in rolled]
    if rolled_in:
        cells = EfficiencyCell.objects.filter(source=source.key, month__in=rolled_in)
        if scope.department_ids is not None:
            cells = cells.filter(department_id__in=sorted(scope.department_ids))
        if scope.item_id is not None:
            cells = cells.filter(item_id=scope.item_id)
        keys = {
            "r_group": F(_CELL_GROUPS[grouping]) if can_group else none,
            "r_days": F("days") if percentiles else none,
        }
        sums_of = {f"m_{measure}": Sum(measure) for measure in measures}
        for values in cells.annotate(**keys).values(*keys).annotate(**sums_of).order_by():
            add(_group_key(values["r_group"]), values["r_days"], values)

    def finish(totals: dict[str, int], histogram: dict[int, int]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for figure in figures:
            if figure.measure:
                out[figure.key] = totals.get(figure.measure, 0)
            elif figure.percentile is not None:
                value = weighted_percentile(histogram, figure.percentile)
                out[figure.key] = None if value is None else round(value, 1)
        return out

    grand: dict[str, int] = defaultdict(int)
    grand_histogram: dict[int, int] = defaultdict(int)
    grouped: dict[Any, dict[str, Value]] = {}
    for group in set(sums) | set(histograms):
        for measure, value in sums[group].items():
            grand[measure] += value
        for days, count in histograms[group].items():
            grand_histogram[days] += count
        if can_group and (any(sums[group].values()) or histograms[group]):
            grouped[group] = finish(sums[group], histograms[group])
    return grouped, finish(grand, grand_histogram)


def dashboard_measure_figures(source: Source) -> list[Figure]:
    """The figures of ``source`` that a roll-up cell holds (one column each)."""
    return [f for f in FIGURES if f.source == source.key and f.measure and f.aggregate is not None]


def _count(value: Value) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _labels(grouping: str, keys: Iterable[Any]) -> dict[Any, str]:
    """Names of the groups, one query."""
    keys = [key for key in keys if key is not None]
    if grouping == MONTH:
        return {key: f"{key:%Y-%m}" for key in keys}
    if grouping == DEPARTMENT:
        return dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    if grouping == ITEM:
        names: dict[Any, str] = {}
        for item_id, code, name in (
            ApprovalItemVersion.objects.filter(item_id__in=keys)
            .order_by("item_id", "-number")
            .values_list("item_id", "item__code", "name")
        ):
            names.setdefault(item_id, f"{code} {name}")
        return names
    return {
        pk: display or username
        for pk, username, display in User.objects.filter(pk__in=keys).values_list("pk", "username", "display_name")
    }


NO_PERSON_LABEL = _("Commitment route (no decider)")


def group_label(grouping: str, key: Any) -> str:
    """The name of one group (one query, none for a month)."""
    if key is None:
        return str(NO_PERSON_LABEL)
    return _labels(grouping, [key]).get(key, str(key))


def _sort_key(grouping: str, label: str, key: Any) -> tuple[Any, ...]:
    if grouping == MONTH:
        return (key,)
    return (key is None, label, str(key))


def _finish(values: dict[str, Value], figures: list[Figure]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for figure in figures:
        if figure.unit == RATE:
            numerator = values.get(figure.numerator)
            denominator = values.get(figure.denominator)
            out[figure.key] = Rate(int(numerator or 0), int(denominator or 0))  # type: ignore[arg-type]
        elif figure.aggregate is not None and figure.key not in values:
            out[figure.key] = 0
        else:
            out[figure.key] = values.get(figure.key)
    return out


def efficiency_table(
    *,
    scope: Scope,
    period: Period,
    grouping: str,
    today: datetime.date | None = None,
    figures: Sequence[Figure] | None = None,
    live: bool = False,
) -> Table:
    """The figures of ``period`` in ``scope``, one row per group of ``grouping`` and a total row.

    Queries: one for the rolled-up months of the period; per rolled source (cases received,
    accepted, closed; steps), one over the cells of the rolled months and one over the rows of the
    others, the total being the sum of the groups; per other source one grouped aggregate and one
    total; and one for the group names — constant in the size of the data. ``live`` reads every
    month from the rows (the roll-up's verification). A group appears when any of its figures has a
    row."""
    if grouping not in dict(GROUPINGS):
        raise ValueError(f"unknown grouping {grouping!r}")
    today = today or timezone.localdate()
    shown = [f for f in (FIGURES if figures is None else figures) if f.shown]
    needed = _needed(shown)
    by_source: dict[str, list[Figure]] = defaultdict(list)
    for figure in needed:
        if figure.source:
            by_source[figure.source].append(figure)
    grouped: dict[Any, dict[str, Value]] = defaultdict(dict)
    total: dict[str, Value] = {}
    groupable: dict[str, bool] = {}
    rolled = set() if live else rolled_months(period)
    for key, source_figures in by_source.items():
        source = SOURCES[key]
        can_group = source.group_expression(grouping) is not None
        for figure in source_figures:
            groupable[figure.key] = can_group
        if source.rolled:
            groups, source_total = _rolled_values(
                source, source_figures, grouping=grouping, scope=scope, period=period, today=today, rolled=rolled
            )
            for group, values in groups.items():
                grouped[group].update(values)
            total.update(source_total)
            continue
        if can_group:
            groups = _source_values(source, source_figures, grouping=grouping, scope=scope, period=period, today=today)
            for group, values in groups.items():
                grouped[group].update(values)
            if source.additive:
                # each row counts in one group: the total is their sum, no second query
                for figure in source_figures:
                    total[figure.key] = sum(_count(values.get(figure.key)) for values in groups.values())
                continue
        total.update(
            _source_values(source, source_figures, grouping=None, scope=scope, period=period, today=today).get(None, {})
        )
    for figure in needed:
        if figure.unit == RATE:
            groupable[figure.key] = groupable.get(figure.numerator, False) and groupable.get(figure.denominator, False)
    labels = _labels(grouping, grouped)
    rows = []
    for group, values in grouped.items():
        label = labels.get(group) or (str(NO_PERSON_LABEL) if group is None else str(group))
        finished = _finish(values, shown)
        for figure in shown:
            if not groupable.get(figure.key, False):
                finished[figure.key] = None
        rows.append(Row(key=group, label=label, values=finished))
    rows.sort(key=lambda row: _sort_key(grouping, row.label, row.key))
    return Table(
        grouping=grouping,
        figures=shown,
        rows=rows,
        total=Row(key="", label=str(_("Total")), values=_finish(total, shown), is_total=True),
        groupable=groupable,
    )


# --- the cases behind a figure -------------------------------------------------------------------


class UnknownFigureError(LookupError):
    pass


def figure_cases(
    *,
    figure_key: str,
    scope: Scope,
    period: Period,
    grouping: str | None,
    group: Any,
    today: datetime.date | None = None,
) -> QuerySet[Application]:
    """The applications counted by one cell of the table: ``figure_key`` in the row ``group`` of
    ``grouping`` (``grouping=None``: the total row). A rate's cases are its denominator's; a
    percentile's are its source's cases with the value. One query for a page of them (and one to
    count)."""
    every = figures_by_key()
    figure = every.get(figure_key)
    if figure is None:
        raise UnknownFigureError(figure_key)
    figure = every[figure.drill_figure]
    source = SOURCES[figure.source]
    today = today or timezone.localdate()
    rows = source.rows(scope=scope, period=period, today=today).filter(figure.cases)
    if figure.percentile is not None:
        rows = rows.filter(**{f"{figure.field}__isnull": False})
    if grouping is not None:
        if source.group_expression(grouping) is None:
            raise UnknownFigureError(figure_key)
        rows = rows.filter(source.group_filter(grouping, group))
    if source.model is Application:
        cases = Application.objects.filter(pk__in=rows.values("pk"))
    else:
        cases = Application.objects.filter(pk__in=rows.values(source.application))
    return cases.select_related("item_version__lead_department", "enterprise").order_by("-closed_on", "-id")


def group_parse(grouping: str, raw: str) -> Any:
    """The group key of a drill-down link (as ``group_param`` writes it); ``ValueError`` if bad."""
    if grouping == MONTH:
        return month_of(datetime.date.fromisoformat(raw + "-01" if len(raw) == 7 else raw))
    if grouping == PERSON and raw == NO_PERSON:
        return None
    if not raw.isdigit():
        raise ValueError(raw)
    return int(raw)


def group_param(grouping: str, key: Any) -> str:
    if grouping == MONTH:
        return f"{key:%Y-%m}"
    if key is None:
        return NO_PERSON
    return str(key)


# --- notices and the public ranking --------------------------------------------------------------


def close_facts_missing_count() -> int:
    """Closed cases the backfill has not reached (they are not counted yet). One query, on the
    partial index ``application_facts_missing``."""
    return Application.objects.filter(status__in=Application.CLOSED_STATUSES, closed_on__isnull=True).count()


RANKING_FIGURES = ("completed", "on_time_rate", "median_days")


@dataclass(frozen=True)
class RankingRow:
    rank: int
    department: str
    completed: int
    on_time: Rate
    median_days: float | None


def published_months(*, today: datetime.date, count: int = MAX_MONTHS) -> list[datetime.date]:
    """The months whose ranking is published: complete months before this one, newest first."""
    current = month_of(today)
    return [dates.add_months(current, -n) for n in range(1, count + 1)]


def department_ranking(*, month: datetime.date, today: datetime.date | None = None) -> list[RankingRow]:
    """The lead departments by on-time rate against the promised limit in ``month`` (then by
    median working days, then by cases completed), with no personal data. ``month`` must be a
    published month (``published_months``)."""
    today = today or timezone.localdate()
    every = figures_by_key()
    table = efficiency_table(
        scope=Scope(),
        period=Period(month, month),
        grouping=DEPARTMENT,
        today=today,
        figures=[every[key] for key in RANKING_FIGURES],
    )
    ranked = []
    for row in table.rows:
        completed = int(row.values["completed"] or 0)  # type: ignore[arg-type]
        if not completed:
            continue
        rate = row.values["on_time_rate"]
        median = row.values["median_days"]
        assert isinstance(rate, Rate)
        ranked.append((row.label, completed, rate, median if isinstance(median, float) else None))
    ranked.sort(key=lambda r: (-(r[2].percent or 0), r[3] if r[3] is not None else math.inf, -r[1], r[0]))
    result = []
    for position, (label, completed, rate, median) in enumerate(ranked, start=1):
        result.append(RankingRow(position, label, completed, rate, median))
    return result
