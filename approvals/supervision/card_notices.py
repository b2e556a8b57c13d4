"""What the ladder tells people, through the outbox: the handler and the department's leaders
of a reminder; the department of a yellow or red card and of the supervisor's decision; the
supervisors of an answer. In-site and SMS by default for cards (practice: 短信提醒)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from approvals import permissions
from core.outbox.kinds import SITE, SMS, STAFF, NoticeKind, notice_kinds_register
from core.outbox.services import notify

if TYPE_CHECKING:
    from approvals.supervision.card_models import SupervisionCard
    from core.models import User


def _labels(context: Mapping[str, Any]) -> dict[str, str]:
    from approvals.supervision.card_models import SupervisionCard

    subject, trigger = context.get("subject_type"), context.get("trigger")
    return {
        "what": str(SupervisionCard.Subject(subject).label) if subject in SupervisionCard.Subject.values else "",
        "why": str(SupervisionCard.Trigger(trigger).label) if trigger in SupervisionCard.Trigger.values else "",
    }


def _kind(code: str, title: Any, body: Any, label: Any, channels: tuple[str, ...] = (SITE,)) -> NoticeKind:
    return NoticeKind(code, title, body, label=label, channels=channels, audience=STAFF, labels=_labels)


KINDS = (
    _kind(
        "supervision.reminder",
        _("Reminder: %(what)s %(subject)s is due on %(due)s"),
        _("Electronic supervision reminds you: %(what)s %(subject)s is due on %(due)s (%(why)s)."),
        _("Supervision reminder before a deadline"),
        channels=(SITE, SMS),
    ),
    _kind(
        "supervision.yellow",
        _("Yellow card: %(what)s %(subject)s"),
        _(
            "Electronic supervision raised a yellow card on %(what)s %(subject)s (%(why)s, deadline %(due)s). The "
            "department answers by %(reply)s."
        ),
        _("A yellow card for my department"),
        channels=(SITE, SMS),
    ),
    _kind(
        "supervision.red",
        _("Red card: %(what)s %(subject)s"),
        _(
            "Electronic supervision raised a red card on %(what)s %(subject)s (%(why)s). Rectify and report by "
            "%(reply)s; accountability will be decided."
        ),
        _("A red card for my department"),
        channels=(SITE, SMS),
    ),
    _kind(
        "supervision.answered",
        _("The department answered the card on %(subject)s"),
        _("The department answered the %(level)s card on %(what)s %(subject)s; it awaits your decision."),
        _("A department answered a card (supervisors)"),
    ),
    _kind(
        "supervision.decided",
        _("The supervisor decided the card on %(subject)s"),
        _("The supervisor decided the card on %(what)s %(subject)s: %(decision)s."),
        _("The supervisor decided a card of my department"),
    ),
)
notice_kinds_register(*KINDS)


def _context(card: SupervisionCard) -> dict[str, Any]:
    return {
        "subject_type": card.subject_type,
        "trigger": card.trigger,
        "subject": card.subject_label,
        "due": card.due_on.isoformat() if card.due_on else "—",
        "reply": card.reply_due_on.isoformat() if card.reply_due_on else "—",
        "level": str(card.get_level_display()),
        "decision": str(card.get_status_display()),
    }


def department_people(card: SupervisionCard) -> list[User]:
    from core.models import User

    if card.office:
        perm = "credit.work_credit_office" if card.office == "credit_office" else "credit.work_policy_office"
        app_label, codename = perm.split(".")
        return list(
            User.objects.filter(
                is_active=True,
                groups__permissions__codename=codename,
                groups__permissions__content_type__app_label=app_label,
            ).distinct()
        )
    assert card.department is not None
    people: dict[int, User] = {}
    for perm in sorted(permissions.DEPARTMENT_PERMISSIONS):
        for user in permissions.department_staff(department=card.department, perm=perm):
            people[user.pk] = user
    return list(people.values())


def _recipients(card: SupervisionCard, event: str) -> list[User]:
    from approvals.supervision.card_services import leaders_of
    from core.models import User

    if event == "answered":
        return list(
            User.objects.filter(
                is_active=True,
                groups__permissions__codename="supervise",
                groups__permissions__content_type__app_label="approvals",
            ).distinct()
        )
    if event == "raised" and card.level == "reminder":
        people = {user.pk: user for user in leaders_of(card.department)}
        if card.handler_id is not None and card.handler is not None:
            people[card.handler_id] = card.handler
        if not people:
            people = {user.pk: user for user in department_people(card)}
        return list(people.values())
    return department_people(card)


def card_tell(card: SupervisionCard, event: str) -> int:
    """Tell the people concerned by ``event`` (raised, answered, accepted, closed) on ``card``."""
    if event == "raised":
        kind = {"reminder": "supervision.reminder", "yellow": "supervision.yellow", "red": "supervision.red"}[
            card.level
        ]
    elif event == "answered":
        kind = "supervision.answered"
    else:
        kind = "supervision.decided"
    recipients = _recipients(card, event)
    for recipient in recipients:
        notify(
            recipient=recipient,
            kind=kind,
            dedupe_key=f"card:{card.pk}:{event}:{recipient.pk}",
            context=_context(card),
            obj=card,
        )
    return len(recipients)
