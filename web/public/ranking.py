"""The monthly published ranking of departments (per-department comparison published monthly,
电子监察): for a complete past month, the lead departments by on-time rate against the promised
limit, with the cases completed and the median working days. No personal data: departments only."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from approvals.supervision import dashboard
from core.db_routing import replica_reads
from web import charts
from web.efficiency_display import cell, month_parse


@replica_reads
@require_GET
def monthly_ranking(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    months = dashboard.published_months(today=today)
    raw = request.GET.get("month", "")
    if raw:
        month = month_parse(raw)
        if month is None:
            context: dict[str, Any] = {"months": months, "month": None, "bad_month": raw[:20]}
            return render(request, "public/ranking.html", context, status=400)
        if month not in months:
            raise Http404  # the current month, a future one or one too old: not published
    else:
        month = months[0]
    ranking = dashboard.department_ranking(month=month, today=today)
    bars = charts.ranking_bars(
        [
            (row.department, row.on_time.percent, f"{cell(row.on_time)} ({row.on_time.numerator}/{row.completed})")
            for row in ranking
        ]
    )
    context = {
        "months": months,
        "month": month,
        "ranking": [{"row": row, "on_time": cell(row.on_time), "median": cell(row.median_days)} for row in ranking],
        "chart": bars,
    }
    return render(request, "public/ranking.html", context)
