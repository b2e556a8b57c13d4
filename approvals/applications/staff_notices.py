"""What bureau staff are told about the steps of applications: a step waiting in their
department's queue, a step due soon, a step overdue, a task a colleague handed to them. In-site
messages by default (a clerk may add e-mail or SMS on the preferences page); written through the
outbox in the transaction of the step's change. The deadline notices come from a periodic sweep
(``steps_deadlines_notify``), each once per step and band."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from approvals.applications.selectors import STEP_PERMISSION
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from core.outbox.kinds import SITE, STAFF, NoticeKind, notice_kinds_register
from core.outbox.models import OutboxMessage
from core.outbox.services import notify

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from approvals.applications.models import Step
    from core.models import User


def _labels(context: Mapping[str, Any]) -> dict[str, str]:
    from approvals.applications.models import Step

    code = context.get("step_kind")
    return {"step": str(Step.Kind(code).label) if code in Step.Kind.values else str(code)}


def _staff_kind(code: str, title: StrOrPromise, body: StrOrPromise, label: StrOrPromise) -> NoticeKind:
    """A staff notice about a step: in-site by default, the step named in the reader's language."""
    return NoticeKind(code, title, body, label=label, channels=(SITE,), audience=STAFF, labels=_labels)


KINDS = (
    _staff_kind(
        "task.waiting",
        _("%(step)s of %(reference)s waits in your queue"),
        _("%(step)s of application %(reference)s (%(item)s) waits in the queue of %(department)s. Due: %(due)s."),
        _("A task waits in my department's queue"),
    ),
    _staff_kind(
        "task.due_soon",
        _("%(step)s of %(reference)s is due soon"),
        _("%(step)s of application %(reference)s (%(item)s) in %(department)s is due on %(due)s."),
        _("A task is due soon"),
    ),
    _staff_kind(
        "task.overdue",
        _("%(step)s of %(reference)s is overdue"),
        _("%(step)s of application %(reference)s (%(item)s) in %(department)s was due on %(due)s and is still open."),
        _("A task is overdue"),
    ),
    _staff_kind(
        "task.handed_over",
        _("%(colleague)s handed you %(step)s of %(reference)s"),
        _("%(colleague)s handed you %(step)s of application %(reference)s (%(item)s) in %(department)s. Due: %(due)s."),
        _("A colleague handed me a task"),
    ),
)
notice_kinds_register(*KINDS)


def _context(step: Step) -> dict[str, Any]:
    application = step.application
    return {
        # the texts are rendered in each recipient's language: keep the code, not a label
        "step_kind": step.kind,
        "reference": application.reference or f"#{application.pk}",
        "item": application.item_version.name,
        "department": step.department.name,
        "due": step.due_on.isoformat() if step.due_on else "—",
    }


def step_staff(step: Step) -> QuerySet[User]:
    """Who works ``step``: whoever claimed it, else everyone who may take it from the queue."""
    from core.models import User

    if step.claimed_by_id is not None:
        return User.objects.filter(pk=step.claimed_by_id, is_active=True)
    return permissions.department_staff(department=step.department, perm=STEP_PERMISSION[step.kind])


def staff_tell_step_waiting(step: Step) -> int:
    """Tell everyone who may take ``step`` that it waits in their department's queue."""
    context = _context(step)
    recipients = list(step_staff(step))
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind="task.waiting",
            dedupe_key=f"step:{step.pk}:waiting:{recipient.pk}",
            context=context,
            obj=step.application,
        )
    return len(recipients)


def staff_tell_handed_over(step: Step, *, by: User, colleague: User) -> None:
    """Tell ``colleague`` that ``by`` handed them ``step`` (once per hand-over)."""
    notify(
        recipient=colleague,
        kind="task.handed_over",
        dedupe_key=f"step:{step.pk}:handed:{colleague.pk}:{timezone.now().isoformat()}",
        context={**_context(step), "colleague": str(by)},
        obj=step.application,
    )


def steps_deadlines_notify(*, today: datetime.date | None = None) -> int:
    """Tell the people who work each open step that it is due soon (yellow band) or overdue
    (red), once per step and band. Steps of a suspended clock wait. Returns how many notices."""
    from approvals.applications.models import Step

    today = today or timezone.localdate()
    calendar = calendar_selectors.calendar_load()
    # a generous calendar bound keeps the scan to steps near their due date
    horizon = today + datetime.timedelta(days=calendar.yellow_days * 2 + 14)
    steps = (
        Step.objects.filter(
            closed_at__isnull=True,
            due_on__isnull=False,
            due_on__lte=horizon,
            application__clock_suspended=False,
        )
        .select_related("application__item_version", "department")
        .order_by("due_on", "pk")
    )
    sent = 0
    for step in steps.iterator(chunk_size=500):
        band = clock.warning_band(step.due_on, today=today, calendar=calendar)
        kind = {"yellow": "task.due_soon", "red": "task.overdue"}.get(band)
        if kind is None:
            continue
        keys = {recipient: f"step:{step.pk}:{kind}:{recipient.pk}" for recipient in step_staff(step)}
        told = set(OutboxMessage.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
        context = _context(step)
        for recipient, key in keys.items():
            if key in told:
                continue
            with transaction.atomic():
                notify(recipient=recipient, kind=kind, dedupe_key=key, context=context, obj=step.application)
            sent += 1
    return sent


# --- art. 42 extensions: asked by a decision maker, decided by the head of the bureau ---------------

EXTENSION_KINDS = (
    NoticeKind(
        "extension.requested",
        _("An extension of %(reference)s awaits your decision"),
        _(
            "%(requester)s asks to extend the time limit of application %(reference)s (%(item)s) by %(days)s working "
            "days: %(reason)s"
        ),
        label=_("An extension awaits my decision (head of the bureau)"),
        channels=(SITE,),
        audience=STAFF,
    ),
    NoticeKind(
        "extension.decided",
        _("Your extension request for %(reference)s was decided"),
        _("The head of the bureau %(decision)s the extension of application %(reference)s by %(days)s working days."),
        label=_("My extension request was decided"),
        channels=(SITE,),
        audience=STAFF,
        labels=lambda context: {"decision": str(_("approved")) if context.get("approved") else str(_("refused"))},
    ),
)
notice_kinds_register(*EXTENSION_KINDS)


def _extension_context(request: Any) -> dict[str, Any]:
    application = request.application
    return {
        "reference": application.reference or f"#{application.pk}",
        "item": application.item_version.name,
        "days": request.days,
        "reason": request.reason,
        "requester": str(request.requested_by),
    }


def heads_tell_extension_requested(request: Any) -> None:
    """Tell every head of the bureau that ``request`` awaits a decision."""
    for head in permissions.bureau_heads():
        if head.pk == request.requested_by_id:
            continue
        notify(
            recipient=head,
            kind="extension.requested",
            dedupe_key=f"extension:{request.pk}:requested:{head.pk}",
            context=_extension_context(request),
            obj=request.application,
        )


def requester_tell_extension_decided(request: Any) -> None:
    notify(
        recipient=request.requested_by,
        kind="extension.decided",
        dedupe_key=f"extension:{request.pk}:decided",
        context={**_extension_context(request), "approved": request.status == "approved"},
        obj=request.application,
    )
