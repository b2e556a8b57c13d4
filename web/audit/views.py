"""The auditor's console: home, one enterprise's file, the audit trail. Every read is recorded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from approvals import permissions
from core.audit_reads import audit_read_mark
from core.db_routing import replica_reads
from core.models import AuditEvent
from credit.models import Enterprise

PAGE_SIZE = 25


def _require_auditor(request: HttpRequest) -> None:
    if not (request.user.is_authenticated and permissions.user_is_auditor(user=request.user)):
        raise Http404


@replica_reads
@login_required
def audit_home(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    query = request.GET.get("q", "").strip()[:100]
    enterprises = Enterprise.objects.order_by("name", "id")
    if query:
        enterprises = enterprises.filter(Q(name__icontains=query) | Q(uscc__icontains=query.upper()))
    page = Paginator(enterprises, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type="credit.enterprise", object_id="*", data={"q": query, "page": page.number})
    return render(request, "audit/home.html", {"page": page, "q": query})


@replica_reads
@login_required
def audit_enterprise(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    enterprise = get_object_or_404(Enterprise, pk=pk)
    audit_read_mark(request, object_type="credit.enterprise", object_id=str(enterprise.pk))
    context = {
        "enterprise": enterprise,
        "history": enterprise.profile_changes.select_related("recorded_by").order_by("-effective_on", "-id"),
        "memberships": enterprise.memberships.select_related("user", "decided_by").order_by("-requested_at", "-id"),
        "events": AuditEvent.objects.filter(
            Q(object_type="credit.enterprise", object_id=str(enterprise.pk))
            | Q(
                object_type="credit.membership",
                object_id__in=[str(pk) for pk in enterprise.memberships.values_list("pk", flat=True)],
            )
        )
        .exclude(action="auditor.read")
        .select_related("actor")
        .order_by("-created_at", "-id")[:100],
    }
    return render(request, "audit/enterprise.html", context)


@replica_reads
@login_required
def audit_events(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
    action = request.GET.get("action", "").strip()[:64]
    if action:
        events = events.filter(action=action)
    page = Paginator(events, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type="core.auditevent", object_id="*", data={"action": action, "page": page.number})
    return render(request, "audit/events.html", {"page": page, "action": action})
