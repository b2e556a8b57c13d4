"""The auditor's view of inspection campaigns: list, the JSON export of a draw, its verification."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from approvals import permissions
from approvals.models import (
    Campaign,
)
from approvals.supervision import selectors as supervision_selectors
from core.audit_reads import audit_read_mark
from core.db_routing import replica_reads
from web.campaign_display import with_counts

PAGE_SIZE = 25


Status = Campaign.Status


def _require_auditor(request: HttpRequest) -> None:
    if not (request.user.is_authenticated and permissions.user_is_auditor(user=request.user)):
        raise Http404


@replica_reads
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    campaigns = with_counts(Campaign.objects.select_related("department")).order_by("-created_at", "-id")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type=Campaign._meta.label_lower, object_id="*", data={"page": page.number})
    return render(request, "audit/campaigns/list.html", {"page": page})


@replica_reads
@login_required
def audit_export(request: HttpRequest, code: str) -> HttpResponse:
    """The draw's export document, byte for byte what ``manage.py draw_export`` prints."""
    _require_auditor(request)
    campaign = get_object_or_404(Campaign, code=code, status=Status.DRAWN)
    body = supervision_selectors.export_json(supervision_selectors.campaign_export(campaign=campaign))
    audit_read_mark(
        request,
        object_type=Campaign._meta.label_lower,
        object_id=str(campaign.pk),
        data={"code": campaign.code, "download": "export.json"},
    )
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.code}-draw.json"'
    return response


@replica_reads
@login_required
def audit_verify(request: HttpRequest, code: str) -> HttpResponse:
    """What ``manage.py draw_verify`` says about one campaign."""
    _require_auditor(request)
    campaign = get_object_or_404(Campaign.objects.select_related("department"), code=code, status=Status.DRAWN)
    problems = supervision_selectors.campaign_verify(campaign=campaign)
    audit_read_mark(
        request,
        object_type=Campaign._meta.label_lower,
        object_id=str(campaign.pk),
        data={"code": campaign.code, "verify": not problems},
    )
    context = {
        "campaign": campaign,
        "problems": problems,
        "checked_at": timezone.now(),
        "export_url": reverse("audit_campaigns:export", args=[campaign.code]),
    }
    return render(request, "audit/campaigns/verify.html", context)
