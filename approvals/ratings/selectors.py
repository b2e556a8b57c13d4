"""Reads of 好差评: the rating panel of a case page, the department's list of 差评 loops, the open
loops' deadlines (what the warning ladder watches) and the public scores per item and department."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from approvals import permissions
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, ApprovalItemVersion, Department, Rating, RatingLoop
from approvals.ratings.models import BAD_LEVELS, GOOD_MIN_LEVEL
from core.models import User

Status = RatingLoop.Status


# --- the case page ---------------------------------------------------------------------------------


def rating_panel(*, application: Application) -> dict[str, Any]:
    """What the case page shows of the case's ratings: the first rating, the re-rating, the loop
    a bad rating opened, and whether the case may be rated (or rated again) now. Two queries."""
    ratings = {r.round: r for r in Rating.objects.filter(application=application).order_by("round")}
    first = ratings.get(Rating.Round.FIRST)
    rerating = ratings.get(Rating.Round.RERATING)
    loop = (
        RatingLoop.objects.filter(rating=first).select_related("department").first()
        if first is not None and first.is_bad
        else None
    )
    ended = application.status in Application.CLOSED_STATUSES
    return {
        "rating": first,
        "rerating": rerating,
        "rating_loop": loop,
        "may_rate": ended and first is None,
        "may_rerate": ended and loop is not None and loop.status == Status.CLOSED and rerating is None,
    }


# --- the department's loops --------------------------------------------------------------------------


def _with_current_due(queryset: QuerySet[RatingLoop]) -> QuerySet[RatingLoop]:
    return queryset.annotate(
        is_closed=Case(When(status=Status.CLOSED, then=Value(True)), default=Value(False), output_field=BooleanField()),
        current_due=Case(
            When(status=Status.CLOSED, then=Value(None)),
            When(status=Status.CALLBACK, then=F("callback_due_on")),
            default=F("rectify_due_on"),
            output_field=DateField(),
        ),
    )


def rating_loop_department_ids_visible(*, user: User) -> set[int] | None:
    """The departments whose loops ``user`` may read (``None``: every one, for the supervisor and
    the auditor)."""
    if permissions.user_is_supervisor(user=user) or permissions.user_is_auditor(user=user):
        return None
    return permissions.rating_loop_department_ids(user=user)


def rating_loops_for(
    *, user: User, status: str = "", department_id: int | None = None, query: str = ""
) -> QuerySet[RatingLoop]:
    """The loops ``user`` may read, open ones first, each group by its current due day; filtered by
    status (``open``, ``closed`` or one status), department and a case's reference or item."""
    visible = rating_loop_department_ids_visible(user=user)
    loops = RatingLoop.objects.all() if visible is None else RatingLoop.objects.filter(department_id__in=visible)
    if status == "open":
        loops = loops.filter(status__in=RatingLoop.OPEN_STATUSES)
    elif status in Status.values:
        loops = loops.filter(status=status)
    if department_id is not None:
        loops = loops.filter(department_id=department_id)
    if query:
        loops = loops.filter(
            Q(application__reference__icontains=query) | Q(application__item_version__name__icontains=query)
        )
    return (
        _with_current_due(loops)
        .select_related("application__item_version", "application__enterprise", "department", "rating", "handler")
        .order_by("is_closed", "current_due", "-opened_at", "-id")
    )


def rating_loops_annotate_band(loops: list[RatingLoop], *, today: datetime.date | None = None) -> list[RatingLoop]:
    """Set ``band`` and ``days_left`` of each loop's current deadline (none once closed); no query
    but the calendar's."""
    calendar = calendar_selectors.calendar_load()
    today = today or timezone.localdate()
    for loop in loops:
        due = loop.current_due_on
        loop.band = clock.warning_band(due, today=today, calendar=calendar) if due else "none"  # type: ignore[attr-defined]
        loop.days_left = (  # type: ignore[attr-defined]
            clock.working_days_left(due, today=today, calendar=calendar) if due else None
        )
    return loops


def rating_loop_get(*, pk: int) -> RatingLoop | None:
    return (
        RatingLoop.objects.select_related(
            "application__item_version__item",
            "application__enterprise",
            "department",
            "rating__rated_by",
            "rating__rerating",
            "handler",
            "callback_by",
            "verified_by",
            "rectified_by",
            "replied_by",
        )
        .filter(pk=pk)
        .first()
    )


def rating_loop_departments_of(*, user: User) -> QuerySet[Department]:
    """The departments offered in the list's filter."""
    visible = rating_loop_department_ids_visible(user=user)
    departments = Department.objects.filter(rating_loops__isnull=False).distinct()
    return (departments if visible is None else departments.filter(pk__in=visible)).order_by("code")


# --- what the warning ladder watches -------------------------------------------------------------------


@dataclass(frozen=True)
class RatingLoopDeadline:
    """One open loop's current step and the deadline it is held to."""

    loop_id: int
    step: str  # a ``RatingLoop.Status`` of an open loop: callback, verify, rectify or reply
    department: Department
    due_on: datetime.date
    due_provisional: bool
    handler: User | None
    application: Application


def rating_loop_deadlines_open() -> list[RatingLoopDeadline]:
    """Every open 差评 loop with its step, department, due day (the callback's while it waits for
    the callback, then the rectification's, which the verification and the reply are held to as
    well), whether that day is provisional, the handler if someone took it up, and the
    application; earliest due first. One query."""
    loops = (
        RatingLoop.objects.filter(status__in=RatingLoop.OPEN_STATUSES)
        .select_related("department", "handler", "application__item_version", "application__enterprise")
        .order_by("pk")
    )
    rows = []
    for loop in loops:
        callback = loop.status == Status.CALLBACK
        rows.append(
            RatingLoopDeadline(
                loop_id=loop.pk,
                step=loop.status,
                department=loop.department,
                due_on=loop.callback_due_on if callback else loop.rectify_due_on,
                due_provisional=loop.callback_due_provisional if callback else loop.rectify_due_provisional,
                handler=loop.handler,
                application=loop.application,
            )
        )
    rows.sort(key=lambda row: (row.due_on, row.loop_id))
    return rows


# --- the public scores ----------------------------------------------------------------------------------


def _effective() -> QuerySet[Rating]:
    """The rating that counts for each rated case: the re-rating where there is one, else the first."""
    return Rating.objects.annotate(rated_again=Exists(Rating.objects.filter(follows=OuterRef("pk"))))


def _scores(rows: QuerySet[Any]) -> QuerySet[Any]:
    counted = Q(rated_again=False)
    scored: QuerySet[Any] = rows.annotate(
        cases=Count("pk", filter=counted),
        average=Avg("level", filter=counted),
        good=Count("pk", filter=counted & Q(level__gte=GOOD_MIN_LEVEL)),
        bad_first=Count("pk", filter=Q(round=Rating.Round.FIRST, level__in=BAD_LEVELS)),
    )
    return scored


def _with_shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["good_share"] = (row["good"] * 100 / row["cases"]) if row["cases"] else None
    return rows


def rating_scores_by_item(*, department_id: int | None = None, query: str = "") -> QuerySet[Any]:
    """Per approval item: rated cases, average level, how many rated it good (基本满意 or better)
    and how many first ratings were bad (差评). Rows are dicts; ``item_names`` names them."""
    ratings = _effective()
    if department_id is not None:
        ratings = ratings.filter(department_id=department_id)
    if query:
        names = ApprovalItemVersion.objects.filter(name__icontains=query).values("item_id")
        ratings = ratings.filter(Q(item__code__icontains=query) | Q(item_id__in=names))
    return _scores(ratings.values("item_id", "item__code")).order_by("item__code")


def item_names(item_ids: list[int]) -> dict[int, str]:
    """The name of each item: its published version's, else its newest version's. One query."""
    names: dict[int, str] = {}
    versions = ApprovalItemVersion.objects.filter(item_id__in=item_ids).order_by(
        "item_id",
        Case(
            When(status=ApprovalItemVersion.Status.PUBLISHED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "-pk",
    )
    for item_id, name in versions.values_list("item_id", "name"):
        names.setdefault(item_id, name)
    return names


def rating_scores_by_department() -> list[dict[str, Any]]:
    """Per lead department, the same figures as per item. Rows are dicts."""
    rows = _scores(_effective().values("department_id", "department__name", "department__code"))
    return _with_shares(list(rows.order_by("department__code")))


def rating_scores_page(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of item rows with their names and shares."""
    names = item_names([row["item_id"] for row in rows])
    for row in rows:
        row["name"] = names.get(row["item_id"], row["item__code"])
    return _with_shares(rows)
