"""The efficiency dashboard (运行监管, 效能监管): figures by department, item, person or month,
charts, the cases behind every figure, and the CSV export of the table.

Supervisors and auditors read the whole bureau (and may pick a department); a department head —
a decision maker of a department — reads their own departments only (any other department: 404);
everyone else gets a 404. Auditors' reads are recorded (``audit_read_mark``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from approvals import permissions
from approvals.models import Department
from approvals.supervision import dashboard
from core.audit_reads import audit_read_mark
from core.db_routing import replica_reads
from web import charts
from web.efficiency_display import DashboardFilterForm, cell

CASES_PAGE_SIZE = 50
TREND_FIGURES = ("completed", "on_time_rate")
RANKING_FIGURES = ("completed", "on_time_rate", "median_days")


class _Filters:
    """The validated filters of a request, and the scope they give this viewer."""

    def __init__(self, request: HttpRequest) -> None:
        viewer = permissions.efficiency_department_ids(user=request.user)  # type: ignore[arg-type]
        if viewer is not None and not viewer:
            raise Http404
        self.today = timezone.localdate()
        self.form = DashboardFilterForm(request.GET, today=self.today)
        self.valid = self.form.is_valid()
        data = self.form.cleaned_data if self.valid else {}
        self.department: Department | None = None
        raw_department = request.GET.get("department", "")
        if raw_department:
            if not raw_department.isdigit():
                raise Http404
            self.department = Department.objects.filter(pk=int(raw_department)).first()
            if self.department is None or (viewer is not None and self.department.pk not in viewer):
                raise Http404
        if self.department is not None:
            departments: frozenset[int] | None = frozenset({self.department.pk})
        else:
            departments = None if viewer is None else frozenset(viewer)
        item = data.get("item")
        self.scope = dashboard.Scope(department_ids=departments, item_id=item.pk if item is not None else None)
        self.period: dashboard.Period = data.get("period") or dashboard.period_default(today=self.today)
        self.grouping: str = data.get("grouping") or dashboard.DEPARTMENT
        self.viewer_departments = viewer
        self.item = item

    def query(self, **extra: str) -> str:
        params = {
            "start": f"{self.period.first:%Y-%m}",
            "end": f"{self.period.last:%Y-%m}",
            "grouping": self.grouping,
        }
        if self.department is not None:
            params["department"] = str(self.department.pk)
        if self.item is not None:
            params["item"] = str(self.item.pk)
        params.update(extra)
        return urlencode(params)

    def audit_data(self) -> dict[str, Any]:
        return {
            "period": self.period.key(),
            "grouping": self.grouping,
            "department": self.department.pk if self.department else None,
            "item": self.item.pk if self.item else None,
        }


def _department_choices(filters: _Filters) -> Any:
    query = Department.objects.filter(is_active=True).exclude(kind=Department.Kind.BUREAU).order_by("code")
    if filters.viewer_departments is not None:
        query = query.filter(pk__in=filters.viewer_departments)
    return query


def _cells(table: dashboard.Table, filters: _Filters, row: dashboard.Row) -> list[dict[str, Any]]:
    cells = []
    for figure in table.figures:
        value = row.values.get(figure.key)
        link = None
        if value is not None and (not isinstance(value, int) or value > 0 or figure.unit != dashboard.COUNT):
            extra = {"figure": figure.key}
            if not row.is_total:
                extra["group"] = dashboard.group_param(table.grouping, row.key)
            link = "?" + filters.query(**extra)
        title = (
            f"{value.numerator}/{value.denominator}" if isinstance(value, dashboard.Rate) and value.denominator else ""
        )
        cells.append({"text": cell(value), "link": link, "title": title, "figure": figure})
    return cells


@replica_reads
@login_required
@require_GET
def efficiency_dashboard(request: HttpRequest) -> HttpResponse:
    filters = _Filters(request)
    context: dict[str, Any] = {
        "form": filters.form,
        "filters": filters,
        "departments": _department_choices(filters),
        "groupings": dashboard.GROUPINGS,
        "missing_facts": dashboard.close_facts_missing_count(),
    }
    if not filters.valid:
        return render(request, "workbench/dashboard.html", context, status=400)
    every = dashboard.figures_by_key()
    table = dashboard.efficiency_table(
        scope=filters.scope, period=filters.period, grouping=filters.grouping, today=filters.today
    )
    trend_table = dashboard.efficiency_table(
        scope=filters.scope,
        period=filters.period,
        grouping=dashboard.MONTH,
        today=filters.today,
        figures=[every[key] for key in TREND_FIGURES],
    )
    by_month = {row.key: row for row in trend_table.rows}
    months = []
    for month in filters.period.months:
        row = by_month.get(month)
        completed = int(row.values["completed"] or 0) if row else 0  # type: ignore[arg-type]
        rate = row.values["on_time_rate"] if row else None
        percent = rate.percent if isinstance(rate, dashboard.Rate) else None
        months.append((f"{month:%Y-%m}", completed, percent))
    ranking_table = (
        table
        if filters.grouping == dashboard.DEPARTMENT
        else dashboard.efficiency_table(
            scope=filters.scope,
            period=filters.period,
            grouping=dashboard.DEPARTMENT,
            today=filters.today,
            figures=[every[key] for key in RANKING_FIGURES],
        )
    )
    ranked = []
    for row in ranking_table.rows:
        rate = row.values.get("on_time_rate")
        if isinstance(rate, dashboard.Rate) and rate.denominator:
            ranked.append((row.label, rate.percent, f"{cell(rate)} ({rate.numerator}/{rate.denominator})"))
    ranked.sort(key=lambda entry: (-(entry[1] or 0), entry[0]))
    context.update(
        {
            "table": table,
            "rows": [{"row": row, "cells": _cells(table, filters, row)} for row in table.rows],
            "total": {"row": table.total, "cells": _cells(table, filters, table.total)},
            "trend": charts.trend(months),
            "ranking": charts.ranking_bars(ranked),
            "ranked": ranked,
            "export_query": filters.query(),
            "cases_url_query": filters.query(),
        }
    )
    audit_read_mark(request, object_type="approvals.efficiency", object_id="*", data=filters.audit_data())
    return render(request, "workbench/dashboard.html", context)


@replica_reads
@login_required
@require_GET
def efficiency_cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure of one row (or of the total), with the same filters."""
    filters = _Filters(request)
    if not filters.valid:
        return render(request, "workbench/dashboard_cases.html", {"form": filters.form, "filters": filters}, status=400)
    figure = dashboard.figures_by_key().get(request.GET.get("figure", ""))
    if figure is None:
        raise Http404
    raw_group = request.GET.get("group")
    group: Any = None
    grouping: str | None = None
    if raw_group is not None:
        grouping = filters.grouping
        try:
            group = dashboard.group_parse(grouping, raw_group)
        except ValueError:
            return render(
                request,
                "workbench/dashboard_cases.html",
                {"form": filters.form, "filters": filters, "bad_group": True},
                status=400,
            )
    try:
        cases = dashboard.figure_cases(
            figure_key=figure.key,
            scope=filters.scope,
            period=filters.period,
            grouping=grouping,
            group=group,
            today=filters.today,
        )
    except dashboard.UnknownFigureError:
        raise Http404 from None
    page = Paginator(cases, CASES_PAGE_SIZE).get_page(request.GET.get("page"))
    group_label = ""
    if grouping is not None:
        group_label = dashboard.group_label(grouping, group)
    audit_read_mark(
        request,
        object_type="approvals.application",
        object_id="*",
        data={**filters.audit_data(), "figure": figure.key, "group": raw_group},
    )
    context = {
        "filters": filters,
        "figure": figure,
        "drill_figure": dashboard.figures_by_key()[figure.drill_figure],
        "group_label": group_label,
        "page": page,
        "back_query": filters.query(),
    }
    return render(request, "workbench/dashboard_cases.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@replica_reads
@login_required
@require_GET
def efficiency_export(request: HttpRequest) -> HttpResponse:
    """The table as CSV: the same rows, figures and text as the page."""
    filters = _Filters(request)
    if not filters.valid:
        return render(
            request,
            "workbench/dashboard.html",
            {"form": filters.form, "filters": filters, "departments": _department_choices(filters)},
            status=400,
        )
    table = dashboard.efficiency_table(
        scope=filters.scope, period=filters.period, grouping=filters.grouping, today=filters.today
    )
    audit_read_mark(request, object_type="approvals.efficiency", object_id="export", data=filters.audit_data())
    writer = csv.writer(_Echo())
    header = [str(dict(dashboard.GROUPINGS)[table.grouping]), *(str(f.label) for f in table.figures)]

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in [*table.rows, table.total]:
            yield writer.writerow([row.label, *(cell(row.values.get(f.key)) for f in table.figures)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    name = f"efficiency-{filters.period.first:%Y%m}-{filters.period.last:%Y%m}-{table.grouping}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response  # type: ignore[return-value]
