"""Writes of supervision cards: raising the rungs of the ladder, the department's answer and
rectification, the supervisor's acceptance, escalation and closing with accountability.

Each is one transaction with a ``CardEvent`` and an audit event; statuses move by compare-and-swap,
so two sweeps at once, or a supervisor and the sweep, never move a card twice. A card is raised once
per (subject, trigger, level): the unique constraint decides, inside a savepoint, who raised it.
The flow step (``workflows.actions.supervision_cards``) wraps these in the same transaction.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from approvals.applications.documents import NoticeDocument, notice_pdf
from approvals.calendar import clock
from approvals.models import CardEvent, Department, SupervisionCard
from approvals.supervision import ladder
from approvals.supervision.card_notices import card_tell
from approvals.supervision.watch import Target
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record

Card = SupervisionCard
Status = SupervisionCard.Status


class CardError(DomainError):
    pass


def _today() -> datetime.date:
    return timezone.localdate()


# --- who -------------------------------------------------------------------------------------------


def user_answers_for(*, user: User, card: SupervisionCard) -> bool:
    """Staff of the addressed department (any role there) or of the addressed office."""
    if card.office == Card.Office.CREDIT_OFFICE:
        return permissions.user_is_credit_office(user=user)
    if card.office == Card.Office.POLICY_OFFICE:
        return permissions.user_is_policy_office(user=user)
    assert card.department is not None
    return permissions.user_may_handle_department(user=user, department=card.department)


def user_supervises(*, user: User, card: SupervisionCard) -> bool:
    """A supervisor who takes no part in the addressed department: a card's process is never
    closed by the department it supervises."""
    return permissions.user_is_supervisor(user=user) and not user_answers_for(user=user, card=card)


def cards_visible_to(*, user: User) -> QuerySet[SupervisionCard]:
    """Supervisors and auditors see every card; staff the cards addressed to their departments and
    offices."""
    base = SupervisionCard.objects.all()
    if permissions.user_is_supervisor(user=user) or permissions.user_is_auditor(user=user):
        return base
    departments = permissions.handled_department_ids(user=user)
    offices = []
    if permissions.user_is_credit_office(user=user):
        offices.append(Card.Office.CREDIT_OFFICE)
    if permissions.user_is_policy_office(user=user):
        offices.append(Card.Office.POLICY_OFFICE)
    return base.filter(Q(department_id__in=departments) | Q(office__in=offices))


# --- raising ---------------------------------------------------------------------------------------


def _notice(card: SupervisionCard) -> None:
    """The written notice of a yellow (督办通知) or red card (整改通知), addressed to the department,
    numbered without gaps in the raising transaction, kept with its SHA-256."""
    from approvals.applications.services import reference_next

    yellow = card.level == Card.Level.YELLOW
    number = reference_next(prefix=f"{'DB' if yellow else 'ZG'}{card.raised_on.year}")
    addressee = card.department.name if card.department else str(card.get_office_display())
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "subject": card.subject_label,
            "what": str(card.get_subject_type_display()),
            "trigger": str(card.get_trigger_display()),
            "due": card.due_on.isoformat() if card.due_on else "—",
            "reply": card.reply_due_on.isoformat() if card.reply_due_on else "—",
        }
        if yellow:
            title = gettext("Supervision notice")
            paragraphs = [
                gettext("Electronic supervision found: %(what)s %(subject)s — %(trigger)s (deadline %(due)s).")
                % values,
                gettext(
                    "Deal with it at once and answer in writing by %(reply)s, stating the reasons and what was done. "
                    "Without an answer, or if it is still not done by then, a red card and accountability follow."
                )
                % values,
            ]
        else:
            title = gettext("Rectification notice")
            paragraphs = [
                gettext(
                    "Electronic supervision raises a red card: %(what)s %(subject)s — %(trigger)s (deadline %(due)s)."
                )
                % values,
                gettext(
                    "Rectify and report the rectification by %(reply)s. The supervisor will decide on accountability."
                )
                % values,
            ]
        document = NoticeDocument(
            bureau=str(settings.NOTICE_BUREAU_NAME),
            title=title,
            number=gettext("No. %(number)s") % {"number": number},
            addressee=gettext("%(name)s:") % {"name": addressee},
            paragraphs=paragraphs,
            issued_on=card.raised_on,
            verify_url="",
            verify_text="",
        )
    content = notice_pdf(document)
    card.notice_number = number
    card.notice_sha256 = hashlib.sha256(content).hexdigest()
    card.notice_file.save(f"{number}.pdf", ContentFile(content), save=False)
    SupervisionCard.objects.filter(pk=card.pk).update(
        notice_number=card.notice_number, notice_sha256=card.notice_sha256, notice_file=card.notice_file.name
    )


def card_raise(
    *,
    target: Target,
    rung: ladder.Rung,
    calendar_version: int,
    yellow: SupervisionCard | None = None,
    escalated_by: User | None = None,
) -> SupervisionCard | None:
    """Raise ``rung`` for ``target`` unless it exists (then ``None``): the card, its ``raised``
    event, the written notice of a yellow or red card, an audit event, and the notices to the
    handler, the department and its leaders (reminder) or the department (cards). A red card needs
    its yellow (a database constraint too)."""
    if rung.level == Card.Level.RED and yellow is None:
        raise CardError("yellow_missing", _("A red card follows a yellow card."))
    status: str = {
        ladder.REMINDER: Status.NOTIFIED,
        ladder.YELLOW: Status.AWAITING_ANSWER,
        ladder.RED: Status.AWAITING_RECTIFICATION,
    }[rung.level]
    with transaction.atomic():
        try:
            with transaction.atomic():
                card = SupervisionCard.objects.create(
                    subject_type=target.subject_type,
                    subject_id=target.subject_id,
                    subject_label=target.label[:80],
                    application_id=target.application_id,
                    department_id=target.department_id,
                    office=target.office,
                    handler_id=target.handler_id,
                    level=rung.level,
                    severity=SupervisionCard.SEVERITY[rung.level],
                    trigger=rung.trigger,
                    raised_on=rung.raised_on,
                    due_on=rung.due_on,
                    reply_due_on=rung.reply_due_on,
                    calendar_version=calendar_version,
                    yellow=yellow,
                    escalated_by=escalated_by,
                    status=status,
                )
        except IntegrityError:
            return None
        CardEvent.objects.create(card=card, action=CardEvent.Action.RAISED, on=rung.raised_on, actor=escalated_by)
        if card.level != Card.Level.REMINDER:
            _notice(card)
        audit_event_record(
            actor=escalated_by,
            action="supervision.card_raised",
            obj=card,
            data={"level": card.level, "trigger": card.trigger, "subject": f"{card.subject_type}:{card.subject_id}"},
        )
        card_tell(card, "raised")
    return card


# --- the department --------------------------------------------------------------------------------


def _move(card: SupervisionCard, *, from_statuses: tuple[str, ...], to_status: str, **fields: Any) -> None:
    changed = SupervisionCard.objects.filter(pk=card.pk, status__in=from_statuses).update(status=to_status, **fields)
    if changed != 1:
        raise CardError("card_state_changed", _("The card has moved on meanwhile. Reload the page."))
    card.status = to_status
    for name, value in fields.items():
        setattr(card, name, value)


def _text(value: str, code: str, message: Any) -> str:
    text = (value or "").strip()
    if not text:
        raise CardError(code, message)
    if len(text) > 4000:
        raise CardError("text_too_long", _("At most 4000 characters."))
    return text


def _record(card: SupervisionCard, action: str, *, actor: User | None, comment: str = "") -> None:
    CardEvent.objects.create(card=card, action=action, on=_today(), actor=actor, comment=comment)
    audit_event_record(actor=actor, action=f"supervision.card_{action}", obj=card, data={"level": card.level})


def card_answer(*, actor: User, card: SupervisionCard, answer: str) -> SupervisionCard:
    """The department explains or reports what it did about a yellow card. Errors:
    ``permission_denied``, ``answer_required``, ``card_state_changed``."""
    if not user_answers_for(user=actor, card=card):
        raise CardError("permission_denied", _("Only the department the card is addressed to answers it."))
    text = _text(answer, "answer_required", _("Write the department's answer."))
    with transaction.atomic():
        _move(card, from_statuses=(Status.AWAITING_ANSWER,), to_status=Status.ANSWERED)
        _record(card, CardEvent.Action.ANSWERED, actor=actor, comment=text)
        card_tell(card, "answered")
    return card


def card_rectified(*, actor: User, card: SupervisionCard, report: str) -> SupervisionCard:
    """The department reports the rectification a red card demands. Errors: ``permission_denied``,
    ``report_required``, ``card_state_changed``."""
    if not user_answers_for(user=actor, card=card):
        raise CardError("permission_denied", _("Only the department the card is addressed to reports on it."))
    text = _text(report, "report_required", _("Describe the rectification."))
    with transaction.atomic():
        _move(card, from_statuses=(Status.AWAITING_RECTIFICATION,), to_status=Status.RECTIFIED)
        _record(card, CardEvent.Action.RECTIFIED, actor=actor, comment=text)
        card_tell(card, "answered")
    return card


# --- the supervisor --------------------------------------------------------------------------------


def _require_supervisor(actor: User, card: SupervisionCard) -> None:
    if not permissions.user_is_supervisor(user=actor):
        raise CardError("permission_denied", _("Only the supervisor decides on a card."))
    if user_answers_for(user=actor, card=card):
        raise CardError("own_department", _("A card is not decided by someone of the department it supervises."))


def card_accept(*, actor: User, card: SupervisionCard, comment: str = "") -> SupervisionCard:
    """The supervisor accepts the department's answer to a yellow card: it ends there. Errors:
    ``permission_denied``, ``own_department``, ``card_state_changed``."""
    _require_supervisor(actor, card)
    with transaction.atomic():
        _move(card, from_statuses=(Status.ANSWERED,), to_status=Status.ACCEPTED)
        _record(card, CardEvent.Action.ACCEPTED, actor=actor, comment=(comment or "").strip()[:4000])
        card_tell(card, "accepted")
    return card


def card_escalate(
    *,
    actor: User | None,
    card: SupervisionCard,
    comment: str,
    target: Target | None = None,
    on: datetime.date | None = None,
) -> SupervisionCard:
    """Escalate a yellow card to red: by the supervisor (an answer found wanting, with reasons) or,
    ``actor=None``, by the sweep at the reply deadline. Returns the red card. Errors:
    ``permission_denied``, ``own_department``, ``reason_required``, ``card_state_changed``."""
    if actor is not None:
        _require_supervisor(actor, card)
        text = _text(comment, "reason_required", _("Give the reasons for the escalation."))
    else:
        text = comment
    day = on or _today()
    with transaction.atomic():
        _move(card, from_statuses=(Status.AWAITING_ANSWER, Status.ANSWERED), to_status=Status.ESCALATED)
        CardEvent.objects.create(card=card, action=CardEvent.Action.ESCALATED, on=day, actor=actor, comment=text)
        audit_event_record(actor=actor, action="supervision.card_escalated", obj=card, data={"level": card.level})
        rules_reply = _rectify_days(card)
        calendar = _calendar()
        rung = ladder.Rung(
            subject=f"{card.subject_type}:{card.subject_id}",
            level=ladder.RED,
            trigger=card.trigger,
            raised_on=day,
            due_on=card.due_on,
            reply_due_on=clock.due_after(day, rules_reply, calendar=calendar).on,
        )
        red = card_raise(
            target=target or _target_of(card),
            rung=rung,
            calendar_version=calendar.version,
            yellow=card,
            escalated_by=actor,
        )
        if red is None:
            raise CardError("card_state_changed", _("The card has moved on meanwhile. Reload the page."))
        SupervisionCard.objects.filter(pk=red.pk).update(process_id=card.process_id)
        red.process_id = card.process_id
    return red


def card_close(*, actor: User, card: SupervisionCard, accountability: str, reasons: str) -> SupervisionCard:
    """The supervisor closes a card with the accountability decided (问责) and its reasons: a
    yellow card answered or not, a red card once its rectification is reported. Errors:
    ``permission_denied``, ``own_department``, ``accountability_invalid``, ``reason_required``,
    ``card_state_changed``."""
    _require_supervisor(actor, card)
    if accountability not in Card.Accountability.values:
        raise CardError("accountability_invalid", _("Choose the accountability."))
    text = _text(reasons, "reason_required", _("Give the reasons for the accountability decided."))
    allowed = (Status.AWAITING_ANSWER, Status.ANSWERED) if card.level == Card.Level.YELLOW else (Status.RECTIFIED,)
    with transaction.atomic():
        _move(
            card,
            from_statuses=allowed,
            to_status=Status.CLOSED,
            closed_at=timezone.now(),
            closed_by=actor,
            accountability=accountability,
            accountability_reasons=text,
        )
        _record(card, CardEvent.Action.CLOSED, actor=actor, comment=text)
        card_tell(card, "closed")
    return card


# --- helpers ---------------------------------------------------------------------------------------


def _calendar() -> clock.WorkingCalendar:
    from approvals.calendar import selectors as calendar_selectors

    return calendar_selectors.calendar_load()


def _rectify_days(card: SupervisionCard) -> int:
    from approvals.supervision.watch import rules_for

    return rules_for(_RULES_KEY.get(card.subject_type, "default")).rectify_days


_RULES_KEY: dict[str, str] = {
    Card.Subject.CASE: "case",
    Card.Subject.STEP: "step",
    Card.Subject.OPINION: "opinion",
    Card.Subject.VERIFICATION: "verification",
    Card.Subject.RECTIFICATION: "rectification",
    Card.Subject.CREDIT_REQUEST: "credit_request",
    Card.Subject.RATING_CALLBACK: "rating_callback",
    Card.Subject.RATING_RECTIFICATION: "rating_rectification",
}


def _target_of(card: SupervisionCard) -> Target:
    """The addressee of a card's successor: the same as the card's."""
    watched = ladder.Watched(
        subject=f"{card.subject_type}:{card.subject_id}", trigger=card.trigger, opened_on=card.raised_on
    )
    return Target(
        watched,
        card.subject_type,
        card.subject_id,
        card.subject_label,
        _RULES_KEY.get(card.subject_type, "default"),
        application_id=card.application_id,
        department_id=card.department_id,
        office=card.office,
        handler_id=card.handler_id,
    )


def leaders_of(department: Department | None) -> list[User]:
    """The responsible leaders of a department: its decision makers."""
    if department is None:
        return []
    return list(permissions.department_staff(department=department, perm="approvals.decide_application"))
