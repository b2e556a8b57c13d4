"""Reads of applications: the staff queue, the warning bands, who may read which case, and the
read-model of a case page."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from approvals import permissions
from approvals.applications.fast_track import fast_track_summary
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, Step
from core.models import User

STEP_PERMISSION = {
    Step.Kind.ACCEPT: permissions.ACCEPT,
    Step.Kind.REVIEW: permissions.REVIEW,
    Step.Kind.DECIDE: permissions.DECIDE,
}


def steps_open_for(*, user: User) -> QuerySet[Step]:
    """Open steps the user may work (own department permissions and running delegations), most
    urgent first. A constant number of queries whatever the number of rows."""
    condition = Q(pk__in=[])
    for kind, perm in STEP_PERMISSION.items():
        departments = permissions.department_ids_for(user=user, perm=perm)
        if departments:
            condition |= Q(kind=kind, department_id__in=departments)
    return (
        Step.objects.filter(condition, closed_at__isnull=True, task_id__isnull=False)
        .select_related("application__item_version", "application__enterprise", "department", "claimed_by")
        .order_by("due_on", "opened_at", "id")
    )


def steps_annotate_band(steps: list[Step], *, today: datetime.date | None = None) -> list[Step]:
    calendar = calendar_selectors.calendar_load()
    today = today or timezone.localdate()
    for step in steps:
        step.band = clock.warning_band(step.due_on, today=today, calendar=calendar)  # type: ignore[attr-defined]
        step.days_left = (  # type: ignore[attr-defined]
            clock.working_days_left(step.due_on, today=today, calendar=calendar) if step.due_on else None
        )
    return steps


def band_order(band: str) -> int:
    return {"red": 0, "yellow": 1, "green": 2, "none": 3}[band]


def application_ids_visible_to(*, user: User) -> QuerySet[Any] | None:
    """Ids of the applications a staff member may read (``None``: all of them, for the auditor
    and the supervisor). A department takes part through the item: window, lead or co-review."""
    from approvals.models import Application

    if permissions.user_is_auditor(user=user) or permissions.user_is_supervisor(user=user):
        return None
    departments: set[int] = {a.department_id for a in permissions.roles_of(user=user) if a.department_id is not None}
    for perm in permissions.DEPARTMENT_PERMISSIONS:
        departments |= permissions.department_ids_for(user=user, perm=perm)
    return (
        Application.objects.filter(
            Q(item_version__desk_department_id__in=departments)
            | Q(item_version__lead_department_id__in=departments)
            | Q(item_version__co_review_departments__id__in=departments)
            | Q(item_version__supervising_department_id__in=departments)
        )
        .values("pk")
        .distinct()
    )


def application_page(
    application: Application, *, labels: Mapping[str, Any], today: datetime.date | None = None
) -> dict[str, Any]:
    """What every page about one application shows: facts, clock, steps, opinions, history.

    ``labels`` names the form's fields (the filing form's labels) for the facts table."""
    calendar = calendar_selectors.calendar_load()
    today = today or timezone.localdate()
    steps = list(application.steps.select_related("department", "claimed_by").order_by("opened_at", "id"))
    for step in steps:
        step.band = (  # type: ignore[attr-defined]
            clock.warning_band(step.due_on, today=today, calendar=calendar) if step.closed_at is None else "none"
        )
        step.days_left = (  # type: ignore[attr-defined]
            clock.working_days_left(step.due_on, today=today, calendar=calendar)
            if step.due_on and step.closed_at is None
            else None
        )
    deadline_band = (
        clock.warning_band(application.deadline, today=today, calendar=calendar) if application.is_open else "none"
    )
    days_left = (
        clock.working_days_left(application.deadline, today=today, calendar=calendar)
        if application.deadline and application.is_open
        else None
    )
    return {
        "application": application,
        "form_items": [(labels.get(key, key), value) for key, value in application.form_data.items()],
        "steps": steps,
        "deadline_band": deadline_band,
        "days_left": days_left,
        "fast_track": fast_track_summary(application),
        "materials": application.materials.select_related("required_material").order_by("uploaded_at", "id"),
        "opinions": application.opinions.select_related("department", "reviewer").order_by("department__code"),
        "events": application.events.select_related("actor", "department").order_by("at", "id"),
        "clock_events": application.clock_events.select_related("actor", "approver").order_by("at", "id"),
        "supplements": application.supplements.select_related("department").order_by("requested_at", "id"),
        "written_notices": application.written_notices.order_by("issued_at", "id"),
        "certificate": getattr(application, "certificate", None)
        if application.status == Application.Status.APPROVED
        else None,
        "decision": getattr(application, "decision", None) if application.decided_at else None,
        "commitment": getattr(application, "commitment", None)
        if application.route == Application.Route.COMMITMENT
        else None,
        "inspection_tasks": application.inspection_tasks.select_related("department").prefetch_related(
            "rectifications", "inspections"
        )
        if application.route == Application.Route.COMMITMENT
        else [],
    }
