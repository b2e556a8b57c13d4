"""The public 好差评 scores: per approval item and per lead department, the rated cases, the
average, the share rated good and the number of bad ratings (差评). Figures only: no rater, no
enterprise, no comment."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from approvals.ratings import selectors
from core.db_routing import replica_reads

PAGE_SIZE = 25


@replica_reads
@require_GET
def rating_scores(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    department_raw = request.GET.get("department", "")
    department_id = int(department_raw) if department_raw.isdigit() and len(department_raw) < 10 else None
    departments = selectors.rating_scores_by_department()
    items = selectors.rating_scores_by_item(department_id=department_id, query=query)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": selectors.rating_scores_page(list(page)),
        "departments": departments,
        "department_id": department_id,
        "q": query,
    }
    return render(request, "public/ratings.html", context)
