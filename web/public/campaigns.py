"""The public results of random-inspection campaigns (一公开), no login."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from approvals.models import (
    Campaign,
    CampaignInspector,
    CampaignTarget,
    InspectionTask,
)
from approvals.supervision import draw
from approvals.supervision import selectors as supervision_selectors
from core.db_routing import replica_reads
from web.campaign_display import items_with_names, with_counts

PAGE_SIZE = 25


SAMPLE_PAGE_SIZE = 100


Status = Campaign.Status


@replica_reads
def public_list(request: HttpRequest) -> HttpResponse:
    """Every campaign whose rosters are frozen: hashes are public from that moment."""
    campaigns = with_counts(Campaign.objects.exclude(status=Status.DRAFT).select_related("department")).order_by(
        "-frozen_at", "-id"
    )
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public/campaigns.html", {"page": page})


@replica_reads
def public_detail(request: HttpRequest, code: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.exclude(status=Status.DRAFT).select_related("department"), code=code)
    target_total = CampaignTarget.objects.filter(campaign=campaign).count()
    context: dict[str, Any] = {
        "campaign": campaign,
        "items": items_with_names(campaign),
        "ratios": [(grade, campaign.ratios.get(grade, "")) for grade in draw.GRADES],
        "target_total": target_total,
        "inspector_total": CampaignInspector.objects.filter(campaign=campaign).count(),
        "refused_draws": supervision_selectors.campaign_refused_draws(campaign=campaign),
    }
    if campaign.status == Status.DRAWN:
        # Name, USCC and outcome only: the query reads nothing else of the task.
        tasks = (
            InspectionTask.objects.filter(campaign=campaign)
            .order_by("draw_position", "id")
            .values("draw_position", "enterprise__name", "enterprise__uscc", "status", "outcome", "closed_at")
        )
        page = Paginator(tasks, SAMPLE_PAGE_SIZE).get_page(request.GET.get("page"))
        statuses = dict(InspectionTask.Status.choices)
        outcomes = dict(InspectionTask.Outcome.choices)
        for row in page.object_list:
            row["result"] = outcomes.get(row["outcome"]) if row["outcome"] else statuses.get(row["status"])
        context["page"] = page
        context["tally"] = campaign_tally(campaign)
    return render(request, "public/campaign.html", context)


def campaign_tally(campaign: Campaign) -> list[dict[str, Any]]:
    """How many tasks stand at each status or outcome (one query)."""
    rows = (
        InspectionTask.objects.filter(campaign=campaign)
        .values_list("status", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    statuses = dict(InspectionTask.Status.choices)
    outcomes = dict(InspectionTask.Outcome.choices)
    counts: dict[tuple[str, str], int] = {}
    for status, outcome, number in rows:
        key = ("", status) if not outcome else (outcome, status)
        counts[key] = counts.get(key, 0) + number
    order = [("", InspectionTask.Status.OPEN), ("", InspectionTask.Status.RECTIFYING)] + [
        (outcome, InspectionTask.Status.CLOSED) for outcome in InspectionTask.Outcome.values
    ]
    return [
        {
            "outcome": outcome,
            "status": status,
            "label": str(outcomes.get(outcome) or statuses.get(status)),
            "count": counts[(outcome, status)],
        }
        for outcome, status in order
        if counts.get((outcome, status))
    ]
