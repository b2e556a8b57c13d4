"""The to-do lists the enterprise's home and the staff workbench open on: what the user has to do
next, each with its deadline and warning band, most urgent first, and their newest unread
messages. A constant number of queries whatever the number of rows (each source is capped)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.applications import selectors as application_selectors
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.supervision import selectors as supervision_selectors
from core.outbox.selectors import site_messages_of
from credit.enterprises import selectors as credit_selectors

if TYPE_CHECKING:
    from approvals.models import Step
    from core.models import User

LIMIT = 50  # per source: a to-do list is read at a glance; the full lists are one click away
UNREAD_SHOWN = 3


@dataclass(frozen=True)
class TodoItem:
    what: str
    subject: str
    url: str
    due: datetime.date | None
    band: str
    days_left: int | None


def _banded(
    what: str, subject: str, url: str, due: datetime.date | None, calendar: Any, today: datetime.date
) -> TodoItem:
    return TodoItem(
        what=what,
        subject=subject,
        url=url,
        due=due,
        band=clock.warning_band(due, today=today, calendar=calendar),
        days_left=clock.working_days_left(due, today=today, calendar=calendar) if due else None,
    )


def _ordered(items: list[TodoItem]) -> list[TodoItem]:
    return sorted(
        items,
        key=lambda item: (application_selectors.band_order(item.band), item.due or datetime.date.max, item.subject),
    )


def unread_newest(user: User) -> list[Any]:
    return list(site_messages_of(user=user, unread_only=True)[:UNREAD_SHOWN])


def enterprise_todo(user: User) -> list[TodoItem]:
    """补正 notices to answer and rectification orders to carry out, for every enterprise the user
    acts for today."""
    enterprise_ids = credit_selectors.enterprises_for_user(user=user).values("pk")
    calendar = calendar_selectors.calendar_load()
    today = timezone.localdate()
    items = []
    for notice in application_selectors.supplements_to_answer(enterprise_ids=enterprise_ids)[:LIMIT]:
        application = notice.application
        items.append(
            _banded(
                _("Supply the material asked for (补正)"),
                f"{application.reference or '#' + str(application.pk)} · {application.item_version.name}",
                reverse("portal:application", args=[application.pk]),
                None,
                calendar,
                today,
            )
        )
    for order in supervision_selectors.rectifications_due(enterprise_ids=enterprise_ids)[:LIMIT]:
        items.append(
            _banded(
                _("Rectify and report it done"),
                f"{order.task.enterprise.name} · {order.requirements[:80]}",
                reverse("portal:inspections"),
                order.deadline,
                calendar,
                today,
            )
        )
    return _ordered(items)


def staff_todo(user: User, steps: list[Step]) -> list[TodoItem]:
    """The user's own open tasks, queue tasks that are due soon or overdue, and their open
    inspections. ``steps`` are the workbench's open steps, already banded."""
    calendar = calendar_selectors.calendar_load()
    today = timezone.localdate()
    items = []
    for step in steps:
        mine = step.claimed_by_id == user.pk
        waiting = step.claimed_by_id is None and getattr(step, "band", "none") in ("red", "yellow")
        if not (mine or waiting):
            continue
        application = step.application
        items.append(
            TodoItem(
                what=(_("Complete: %(step)s") if mine else _("Take up: %(step)s")) % {"step": step.get_kind_display()},
                subject=f"{application.reference} · {application.item_version.name} · {application.enterprise.name}",
                url=reverse("workbench:task", args=[step.task_id])
                if mine
                else reverse("workbench:application", args=[application.pk]),
                due=step.due_on,
                band=getattr(step, "band", "none"),
                days_left=getattr(step, "days_left", None),
            )
        )
    for task in supervision_selectors.tasks_open_for_inspector(user=user)[:LIMIT]:
        items.append(
            _banded(
                _("Inspect: %(kind)s") % {"kind": task.get_kind_display()},
                task.enterprise.name,
                reverse("supervision:task", args=[task.pk]),
                task.due_on,
                calendar,
                today,
            )
        )
    return _ordered(items)
