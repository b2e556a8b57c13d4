"""Landing page, the enterprise portal's home, the staff workbench and the auditor console."""

from __future__ import annotations

import datetime
import io

import segno
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from approvals import clock, permissions, selectors
from approvals.models import Application, ApprovalItemVersion, Certificate, Delegation, Department, InspectionTask
from approvals.services import campaigns
from core.audit_reads import audit_read_mark
from core.models import AuditEvent
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
    steps = selectors.steps_annotate_band(list(selectors.steps_open_for(user=request.user)[:200]))
    steps.sort(key=lambda step: (selectors.band_order(step.band), step.due_on or datetime.date.max, step.pk))
    show_calendar = permissions.user_is_administrator(user=request.user) or permissions.user_is_supervisor(
        user=request.user
    )
    context = {
        "queue": [step for step in steps if step.claimed_by_id is None],
        "mine": [step for step in steps if step.claimed_by_id == request.user.pk],
        "others": [step for step in steps if step.claimed_by_id not in (None, request.user.pk)],
        "calendar_warnings": selectors.calendar_warnings() if show_calendar else None,
        "is_supervisor": permissions.user_is_supervisor(user=request.user)
        or permissions.user_is_auditor(user=request.user),
        "assignments": permissions.roles_of(user=request.user),
        "organises_campaigns": campaigns.user_may_organise_any(user=request.user),
        "inspections_open": InspectionTask.objects.filter(Q(inspector_1=request.user) | Q(inspector_2=request.user))
        .exclude(status=InspectionTask.Status.CLOSED)
        .count(),
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
    audit_read_mark(request, object_type="credit.enterprise", object_id="*", data={"q": query, "page": page.number})
    return render(request, "approvals/audit_home.html", {"page": page, "q": query})


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
    return render(request, "approvals/audit_enterprise.html", context)


@login_required
def audit_events(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")
    action = request.GET.get("action", "").strip()[:64]
    if action:
        events = events.filter(action=action)
    page = Paginator(events, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type="core.auditevent", object_id="*", data={"action": action, "page": page.number})
    return render(request, "approvals/audit_events.html", {"page": page, "action": action})


# --- supervision ----------------------------------------------------------------------------------


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    """电子监察: every open application by urgency, red and yellow first; read-only."""
    if not (permissions.user_is_supervisor(user=request.user) or permissions.user_is_auditor(user=request.user)):
        raise Http404
    applications = list(
        Application.objects.filter(status__in=Application.OPEN_STATUSES)
        .select_related("item_version__lead_department", "enterprise")
        .order_by("deadline", "submitted_at")[:500]
    )
    calendar = clock.calendar_load()
    today = timezone.localdate()
    for application in applications:
        application.band = clock.warning_band(application.deadline, today=today, calendar=calendar)
    applications.sort(key=lambda a: (selectors.band_order(a.band), a.deadline or datetime.date.max))
    overdue_steps = selectors.steps_annotate_band(
        list(
            selectors.Step.objects.filter(closed_at__isnull=True, due_on__lt=today, task_id__isnull=False)
            .select_related("application", "department", "claimed_by")
            .order_by("due_on")[:200]
        )
    )
    inspection_tasks = list(
        InspectionTask.objects.exclude(status=InspectionTask.Status.CLOSED)
        .select_related("enterprise", "application", "campaign", "department", "inspector_1", "inspector_2")
        .order_by("due_on", "id")[:500]
    )
    for task in inspection_tasks:
        task.band = clock.warning_band(task.due_on, today=today, calendar=calendar)
    audit_read_mark(request, object_type="approvals.supervision", object_id="*")
    context = {
        "applications": applications,
        "overdue_steps": overdue_steps,
        "inspection_tasks": inspection_tasks,
        "calendar_warnings": selectors.calendar_warnings(),
    }
    return render(request, "approvals/supervision.html", context)


# --- public pages ---------------------------------------------------------------------------------


def service_list(request: HttpRequest) -> HttpResponse:
    """The published approval list (清单), searchable by department and keyword; no login."""
    query = request.GET.get("q", "").strip()[:100]
    department_raw = request.GET.get("department", "")
    department_id = int(department_raw) if department_raw.isdigit() else None
    versions = selectors.items_published(department_id=department_id, query=query)
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    departments = Department.objects.filter(is_active=True, kind=Department.Kind.DEPARTMENT).order_by("code")
    context = {"page": page, "q": query, "department_id": department_id, "departments": departments}
    return render(request, "approvals/service_list.html", context)


def service_guide(request: HttpRequest, code: str) -> HttpResponse:
    """The service guide (办事指南) of one item's published version."""
    version = (
        ApprovalItemVersion.objects.filter(item__code=code, status=ApprovalItemVersion.Status.PUBLISHED)
        .select_related("item", "lead_department", "desk_department", "supervising_department")
        .first()
    )
    if version is None:
        raise Http404
    context = {
        "version": version,
        "materials": version.materials.all(),
        "co_review": version.co_review_departments.order_by("code"),
    }
    return render(request, "approvals/service_guide.html", context)


def certificate_verify(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Public verification (no login): valid / revoked / expired, and nothing private."""
    number = request.GET.get("number", "").strip()[:64]
    certificate = None
    looked_up = False
    if code is not None:
        certificate = Certificate.objects.select_related("issuer").filter(verification_code=code).first()
        looked_up = True
        if certificate is None:
            raise Http404
    elif number:
        certificate = Certificate.objects.select_related("issuer").filter(number=number.upper()).first()
        looked_up = True
    state = None
    if certificate is not None:
        today = timezone.localdate()
        if certificate.status == Certificate.Status.REVOKED:
            state = "revoked"
        elif certificate.valid_until is not None and certificate.valid_until < today:
            state = "expired"
        else:
            state = "valid"
    context = {"certificate": certificate, "state": state, "number": number, "looked_up": looked_up}
    return render(request, "approvals/certificate_verify.html", context, status=200)


def certificate_qr(request: HttpRequest, code: str) -> HttpResponse:
    """An SVG QR code pointing at the public verification page of a certificate."""
    if not Certificate.objects.filter(verification_code=code).exists():
        raise Http404
    url = request.build_absolute_uri(reverse("certificate_verify_code", args=[code]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
