"""Reads of applications: the staff queue, the warning bands, who may read which case, and the
read-model of a case page."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from approvals import permissions
from approvals.applications.fast_track import fast_track_summary
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, Certificate, ClockEvent, Step, SupplementNotice
from core.models import User

# Events of the bureau's own deliberation, kept from the applicant's timeline.
INTERNAL_EVENT_ACTIONS = ("extension_requested", "extension_refused")

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


def supplements_to_answer(*, enterprise_ids: Any) -> QuerySet[SupplementNotice]:
    """The supplement notices (补正) the enterprises have still to answer, oldest first: the first
    lines of an enterprise's to-do list."""
    return (
        SupplementNotice.objects.filter(
            application__enterprise_id__in=enterprise_ids,
            application__status__in=Application.OPEN_STATUSES,
            answered_at__isnull=True,
        )
        .select_related("application__item_version", "application__enterprise")
        .order_by("requested_at", "id")
    )


def band_order(band: str) -> int:
    return {"red": 0, "yellow": 1, "green": 2, "none": 3}[band]


def _suspensions_latest_first() -> QuerySet[ClockEvent]:
    return ClockEvent.objects.filter(kind=ClockEvent.Kind.SUSPENDED).order_by("-at", "-id")


def applications_with_clock(queryset: QuerySet[Application]) -> QuerySet[Application]:
    """``queryset`` with ``clock_suspended_since``: the day the latest suspension began (meaningful
    while ``clock_suspended``), read by a subquery in the same SQL statement, so that a list can
    place every row against its two limits without a query per row (``applications_annotate_standing``)."""
    return queryset.annotate(
        clock_suspended_since=Subquery(_suspensions_latest_first().filter(application=OuterRef("pk")).values("on")[:1])
    )


def _closed_on(application: Application) -> datetime.date | None:
    """The day the case's clock stopped for good: its decision (or non-acceptance), or withdrawal."""
    if application.is_open:
        return None
    moment = application.decided_at or application.withdrawn_at
    return timezone.localtime(moment).date() if moment else None


def application_standing(
    application: Application,
    *,
    today: datetime.date,
    calendar: clock.WorkingCalendar,
    suspended_since: datetime.date | None = None,
) -> clock.Standing:
    """Where ``application`` stands against its promised and statutory deadlines (see
    ``clock.clock_standing``). ``suspended_since`` is the day its open suspension began
    (``applications_with_clock`` annotates it); it is ignored while the clock runs."""
    return clock.clock_standing(
        application.deadline,
        application.statutory_deadline,
        today=today,
        calendar=calendar,
        suspended_since=suspended_since if application.clock_suspended else None,
        closed_on=_closed_on(application),
    )


def applications_annotate_standing(
    applications: list[Application], *, today: datetime.date | None = None
) -> list[Application]:
    """Set ``standing`` and ``band`` (the warning light, ``none`` once closed) on each application
    of a list read through ``applications_with_clock``; no query but the calendar's."""
    calendar = calendar_selectors.calendar_load()
    today = today or timezone.localdate()
    for application in applications:
        standing = application_standing(
            application,
            today=today,
            calendar=calendar,
            suspended_since=getattr(application, "clock_suspended_since", None),
        )
        application.standing = standing  # type: ignore[attr-defined]
        application.band = standing.band if application.is_open else "none"  # type: ignore[attr-defined]
    return applications


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
    suspended_since = (
        _suspensions_latest_first().filter(application=application).values_list("on", flat=True).first()
        if application.clock_suspended
        else None
    )
    standing = application_standing(application, today=today, calendar=calendar, suspended_since=suspended_since)
    return {
        "application": application,
        "standing": standing,
        "deadline_band": standing.band if application.is_open else "none",
        "days_left": standing.promised_days_shown if application.is_open else None,
        "statutory_days_left": standing.statutory_days_shown if application.is_open else None,
        "form_items": [(labels.get(key, key), value) for key, value in application.form_data.items()],
        "steps": steps,
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
        **_clock_periods(application, calendar=calendar, today=today),
    }


def _clock_periods(
    application: Application, *, calendar: clock.WorkingCalendar, today: datetime.date
) -> dict[str, Any]:
    """The periods the clock stood still (ground, from, to, expected and counted working days) and
    the extensions, for the page's "excluded days" section: what moved both deadlines."""
    events = list(application.clock_events.select_related("approver", "actor").order_by("at", "id"))
    periods: list[dict[str, Any]] = []
    open_period: dict[str, Any] | None = None
    for event in events:
        if event.kind == ClockEvent.Kind.SUSPENDED and open_period is None:
            open_period = {
                "ground": event.get_reason_display(),
                "reason": event.reason,
                "start": event.on,
                "expected": event.days,
                "end": None,
                "counted": None,
            }
        elif event.kind == ClockEvent.Kind.RESUMED and open_period is not None:
            open_period["end"] = event.on
            open_period["counted"] = clock.working_days_between_lenient(
                open_period["start"], event.on, calendar=calendar
            ).count
            periods.append(open_period)
            open_period = None
    if open_period is not None:
        open_period["so_far"] = clock.working_days_between_lenient(open_period["start"], today, calendar=calendar).count
        periods.append(open_period)
    extensions = [event for event in events if event.kind == ClockEvent.Kind.EXTENDED]
    return {
        "excluded_periods": periods,
        "excluded_days": sum(period["counted"] or 0 for period in periods),
        "extensions": extensions,
        "extension_requests": list(
            application.extension_requests.select_related("requested_by", "decided_by").order_by("requested_at", "id")
        ),
    }


def certificate_state(certificate: Certificate, *, today: datetime.date | None = None) -> str:
    """What the public verification says of a certificate: ``revoked``, ``expired`` or ``valid``."""
    today = today or timezone.localdate()
    if certificate.status == Certificate.Status.REVOKED:
        return "revoked"
    if certificate.valid_until is not None and certificate.valid_until < today:
        return "expired"
    return "valid"
