"""Landing page, the enterprise portal's home, the staff workbench and the auditor console."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from approvals import permissions
from approvals.models import Delegation
from core.models import AuditEvent
from core.services import audit_read_record
from credit import selectors as credit_selectors
from credit.models import Enterprise

PAGE_SIZE = 25


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html")
    if user.is_enterprise_user:
        return redirect("portal:home")
    return redirect("workbench:home")


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_enterprise_user:
        raise Http404
    context = {
        "enterprises": credit_selectors.enterprises_for_user(user=request.user),
        "memberships": credit_selectors.memberships_of_user(user=request.user),
        "today": timezone.localdate(),
    }
    return render(request, "approvals/portal_home.html", context)


@login_required
def workbench_home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_bureau_staff:
        raise Http404
    now = timezone.now()
    context = {
        "assignments": permissions.roles_of(user=request.user),
        "acting_for": Delegation.objects.filter(
            delegate=request.user, revoked_at__isnull=True, ends_at__gt=now
        ).select_related("delegator", "department"),
        "delegated_to": Delegation.objects.filter(
            delegator=request.user, revoked_at__isnull=True, ends_at__gt=now
        ).select_related("delegate", "department"),
        "now": now,
    }
    return render(request, "approvals/workbench_home.html", context)


def _require_auditor(request: HttpRequest) -> None:
    if not (request.user.is_authenticated and permissions.user_is_auditor(user=request.user)):
        raise Http404


@login_required
def audit_home(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    query = request.GET.get("q", "").strip()[:100]
    enterprises = Enterprise.objects.order_by("name", "id")
    if query:
        enterprises = enterprises.filter(Q(name__icontains=query) | Q(uscc__icontains=query.upper()))
    page = Paginator(enterprises, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read_record(
        actor=request.user, object_type="credit.enterprise", object_id="*", data={"q": query, "page": page.number}
    )
    return render(request, "approvals/audit_home.html", {"page": page, "q": query})


@login_required
def audit_enterprise(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    enterprise = get_object_or_404(Enterprise, pk=pk)
    audit_read_record(actor=request.user, object_type="credit.enterprise", object_id=str(enterprise.pk))
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
    return render(request, "approvals/audit_enterprise.html", context)


@login_required
def audit_events(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
    action = request.GET.get("action", "").strip()[:64]
    if action:
        events = events.filter(action=action)
    page = Paginator(events, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    audit_read_record(
        actor=request.user, object_type="core.auditevent", object_id="*", data={"action": action, "page": page.number}
    )
    return render(request, "approvals/audit_events.html", {"page": page, "action": action})
