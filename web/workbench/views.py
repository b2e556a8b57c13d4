"""The staff workbench: the department queue and the supervisor's e-supervision list."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from approvals import permissions
from approvals.applications import selectors
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, Delegation, ExtensionRequest, InspectionTask
from core.audit_reads import audit_read_mark
from web import todo
from web.workbench.cards import any_open_cards_for


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
        "todo": todo.staff_todo(request.user, steps),
        "unread_newest": todo.unread_newest(request.user),
        "queue": [step for step in steps if step.claimed_by_id is None],
        "mine": [step for step in steps if step.claimed_by_id == request.user.pk],
        "others": [step for step in steps if step.claimed_by_id not in (None, request.user.pk)],
        "calendar_warnings": calendar_selectors.calendar_warnings() if show_calendar else None,
        "is_supervisor": permissions.user_is_supervisor(user=request.user)
        or permissions.user_is_auditor(user=request.user),
        "assignments": permissions.roles_of(user=request.user),
        "organises_campaigns": permissions.user_may_organise_any(user=request.user),
        "reads_efficiency": permissions.efficiency_department_ids(user=request.user) != set(),
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
        "open_cards": any_open_cards_for(request.user),
        "is_bureau_head": permissions.user_is_bureau_head(user=request.user),
        "extensions_pending": ExtensionRequest.objects.filter(status=ExtensionRequest.Status.PENDING).count()
        if permissions.user_is_bureau_head(user=request.user)
        else 0,
    }
    context.update(_rating_loops_summary(request))
    return render(request, "workbench/home.html", context)


def _rating_loops_summary(request: HttpRequest) -> dict[str, object]:
    """The link to the 差评 follow-ups, with how many are open, for those who may read them."""
    from approvals.ratings import selectors as rating_selectors

    visible = rating_selectors.rating_loop_department_ids_visible(user=request.user)
    if visible is not None and not visible:
        return {"works_rating_loops": False}
    open_loops = rating_selectors.rating_loops_for(user=request.user, status="open")
    return {"works_rating_loops": True, "rating_loops_open": open_loops.count()}


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    """电子监察: every open application by urgency, red and yellow first; read-only."""
    if not (permissions.user_is_supervisor(user=request.user) or permissions.user_is_auditor(user=request.user)):
        raise Http404
    calendar = calendar_selectors.calendar_load()
    today = timezone.localdate()
    applications = selectors.applications_annotate_standing(
        list(
            selectors.applications_with_clock(
                Application.objects.filter(status__in=Application.OPEN_STATUSES)
                .select_related("item_version__lead_department", "enterprise")
                .order_by("deadline", "submitted_at")
            )[:500]
        ),
        today=today,
    )
    # Past the statutory limit first (unlawful delay), then past the promised one, then due soon.
    # Once the promise is broken the statutory deadline is the next threshold: it orders those rows.
    applications.sort(
        key=lambda a: (
            -a.standing.gravity,
            (a.statutory_deadline if a.band == "red" else a.deadline) or a.deadline or datetime.date.max,
        )
    )
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
        "statutory_overruns": sum(a.standing.state == clock.STATUTORY_OVERRUN for a in applications),
        "promised_overruns": sum(a.standing.state == clock.PROMISED_OVERRUN for a in applications),
        "overdue_steps": overdue_steps,
        "inspection_tasks": inspection_tasks,
        "calendar_warnings": calendar_selectors.calendar_warnings(),
    }
    return render(request, "workbench/supervision.html", context)
