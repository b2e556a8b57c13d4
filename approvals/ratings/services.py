"""Writes of 好差评: rating a finished case (once, and once more after the reply to a bad rating)
and each step of the 差评 loop. Each is one function, one transaction, an audit event; notices go
through the outbox in the same transaction.

Lock order (with ``approvals.lock_objects``): the flow's process row (taken by the action that moves
``BadRatingFlow``), then the application row (a rating), or the loop row (a step of the loop). A
step re-checks, under the loop's row lock, the status it expects, the actor's department role and
that the actor took the loop up, so a second click or a colleague's concurrent step changes nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import Application, Rating, RatingLoop
from approvals.ratings import notices
from approvals.ratings.models import BAD_LEVELS, COMMENT_MAX_LENGTH, LEVEL_FIELDS, TEXT_MAX_LENGTH
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from credit.enterprises import selectors as credit_selectors

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Working days from the day of the rating (Zhejiang practice, shared/notes/domain-practice.md §1.9):
# call the applicant back within one, rectify (and reply) within fifteen.
CALLBACK_DAYS = 1
RECTIFY_DAYS = 15

Status = RatingLoop.Status


class RatingError(DomainError):
    pass


@dataclass(frozen=True)
class RatingGiven:
    rating: Rating
    loop: RatingLoop | None  # the 差评 loop the rating opened (a bad first rating)


def _check_levels(levels: dict[str, object]) -> dict[str, int]:
    checked: dict[str, int] = {}
    for name in LEVEL_FIELDS:
        value = levels.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise RatingError("rating_level_invalid", _("Choose one of the five levels for every question."))
        checked[name] = value
    return checked


def _check_text(value: str, *, code: str, message: StrOrPromise, limit: int = TEXT_MAX_LENGTH) -> str:
    text = (value or "").strip()
    if not text:
        raise RatingError(code, message)
    if len(text) > limit:
        raise RatingError("text_too_long", _("At most %(limit)s characters.") % {"limit": limit})
    return text


def rating_loop_dues(rated_on: datetime.date, calendar: clock.WorkingCalendar) -> tuple[clock.Due, clock.Due]:
    """The callback's and the rectification's due days: working days after the day of the rating
    on ``calendar``; a year it does not cover counts weekdays only and makes the date provisional."""
    return (
        clock.due_after(rated_on, CALLBACK_DAYS, calendar=calendar),
        clock.due_after(rated_on, RECTIFY_DAYS, calendar=calendar),
    )


def rating_give(
    *,
    actor: User,
    application: Application,
    level: int,
    efficiency: int,
    guide_accuracy: int,
    convenience: int,
    usability: int,
    comment: str = "",
) -> RatingGiven:
    """Rate a finished case, or rate it again after the reply to its bad rating.

    Preconditions: ``actor`` acts for the applicant's enterprise today; the case has ended
    (approved, refused, not accepted or withdrawn). The first rating is allowed once; the one
    re-rating only after the department replied to a bad first rating. Effects: the rating (append-
    only), its audit event; a bad first rating (不满意, 非常不满意) also opens the 差评 loop with its
    due days, tells the department, and is returned with it (the caller starts ``BadRatingFlow`` in
    this transaction). Errors: ``not_found`` (not the actor's case), ``rating_level_invalid``,
    ``text_too_long``, ``rating_case_not_ended``, ``rating_already_given``, ``rerating_not_yet``,
    ``rerating_already_given``.
    """
    levels = _check_levels(
        {
            "level": level,
            "efficiency": efficiency,
            "guide_accuracy": guide_accuracy,
            "convenience": convenience,
            "usability": usability,
        }
    )
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise RatingError("text_too_long", _("At most %(limit)s characters.") % {"limit": COMMENT_MAX_LENGTH})
    if credit_selectors.enterprise_get_for_user(user=actor, pk=application.enterprise_id) is None:
        raise RatingError("not_found", _("No such application."))
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("item_version__item", "item_version__lead_department", "enterprise")
            .get(pk=application.pk)
        )
        if locked.status not in Application.CLOSED_STATUSES:
            raise RatingError("rating_case_not_ended", _("A case can be rated once it has ended."))
        given = {rating.round: rating for rating in Rating.objects.filter(application=locked)}
        first = given.get(Rating.Round.FIRST)
        if first is not None:
            if Rating.Round.RERATING in given:
                raise RatingError("rerating_already_given", _("This case has already been rated again."))
            loop = RatingLoop.objects.filter(rating=first).only("status").first()
            if loop is None:
                raise RatingError("rating_already_given", _("This case has already been rated."))
            if loop.status != Status.CLOSED:
                raise RatingError(
                    "rerating_not_yet", _("You may rate again once the department has replied to your rating.")
                )
        today = timezone.localdate()
        version = locked.item_version
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    application=locked,
                    round=Rating.Round.RERATING if first else Rating.Round.FIRST,
                    follows=first,
                    item=version.item,
                    department=version.lead_department,
                    rated_by=actor,
                    rated_on=today,
                    comment=comment,
                    **levels,
                )
        except IntegrityError as exc:
            # Only a concurrent rating of the same round gets here (the row lock above serialises
            # ratings of one case); it won, this one is the second.
            raise RatingError("rating_already_given", _("This case has already been rated.")) from exc
        audit_event_record(
            actor=actor,
            action="rating.given_again" if first else "rating.given",
            obj=rating,
            data={"application": locked.pk, "level": rating.level},
        )
        loop = None
        if first is None and rating.level in BAD_LEVELS:
            loop = _loop_open(rating, locked, today)
    return RatingGiven(rating=rating, loop=loop)


def _loop_open(rating: Rating, application: Application, rated_on: datetime.date) -> RatingLoop:
    calendar = calendar_selectors.calendar_load()
    callback, rectify = rating_loop_dues(rated_on, calendar)
    loop = RatingLoop.objects.create(
        rating=rating,
        application=application,
        department=application.item_version.lead_department,
        callback_due_on=callback.on,
        callback_due_provisional=callback.provisional,
        rectify_due_on=rectify.on,
        rectify_due_provisional=rectify.provisional,
        due_calendar_version=calendar.version,
    )
    loop.rating = rating
    loop.application = application
    audit_event_record(
        actor=None,
        action="rating_loop.opened",
        obj=loop,
        data={"application": application.pk, "callback_due_on": callback.on, "rectify_due_on": rectify.on},
    )
    notices.loop_opened_tell(loop)
    return loop


# --- the loop's steps ------------------------------------------------------------------------------


def _locked(loop: RatingLoop, *, actor: User, expected: tuple[str, ...]) -> RatingLoop:
    locked = (
        RatingLoop.objects.select_for_update(of=("self",))
        .select_related("department", "rating", "application__item_version", "application__enterprise")
        .get(pk=loop.pk)
    )
    if not permissions.user_may_work_rating_loop(user=actor, department=locked.department):
        raise RatingError("permission_denied", _("You do not work this department's bad-rating follow-ups."))
    if locked.status not in expected:
        raise RatingError(
            "rating_loop_state_changed",
            _("This follow-up has moved on (it is now: %(status)s). Reload the page.")
            % {"status": Status(locked.status).label},
        )
    return locked


def _locked_as_handler(loop: RatingLoop, *, actor: User, expected: str) -> RatingLoop:
    locked = _locked(loop, actor=actor, expected=(expected,))
    if locked.handler_id != actor.pk:
        raise RatingError("rating_loop_not_yours", _("Take this follow-up up before recording its steps."))
    return locked


def _saved(loop: RatingLoop, *, actor: User, action: str, fields: list[str], data: dict[str, object]) -> RatingLoop:
    loop.save(update_fields=fields)
    audit_event_record(actor=actor, action=action, obj=loop, data={"application": loop.application_id, **data})
    return loop


def rating_loop_claim(*, actor: User, loop: RatingLoop) -> RatingLoop:
    """Take an open loop up: its handler records each step. Errors: ``permission_denied``,
    ``rating_loop_state_changed`` (closed), ``rating_loop_taken`` (a colleague has it)."""
    with transaction.atomic():
        locked = _locked(loop, actor=actor, expected=RatingLoop.OPEN_STATUSES)
        if locked.handler_id == actor.pk:
            return locked
        if locked.handler_id is not None:
            raise RatingError("rating_loop_taken", _("A colleague has taken this follow-up up."))
        locked.handler, locked.claimed_at = actor, timezone.now()
        return _saved(locked, actor=actor, action="rating_loop.claimed", fields=["handler", "claimed_at"], data={})


def rating_loop_release(*, actor: User, loop: RatingLoop) -> RatingLoop:
    """Put a loop one took up back for the department. Errors: ``permission_denied``,
    ``rating_loop_state_changed``, ``rating_loop_not_yours``."""
    with transaction.atomic():
        locked = _locked(loop, actor=actor, expected=RatingLoop.OPEN_STATUSES)
        if locked.handler_id != actor.pk:
            raise RatingError("rating_loop_not_yours", _("Only the person who took this follow-up up can put it back."))
        locked.handler, locked.claimed_at = None, None
        return _saved(locked, actor=actor, action="rating_loop.released", fields=["handler", "claimed_at"], data={})


def rating_loop_call_back(
    *, actor: User, loop: RatingLoop, contacted_at: datetime.datetime, channel: str, notes: str
) -> RatingLoop:
    """Record the callback (回访): when and how the applicant was contacted, and what was said.
    ``contacted_at`` lies between the rating and now. Errors: those of every step
    (``permission_denied``, ``rating_loop_state_changed``, ``rating_loop_not_yours``),
    ``callback_time_invalid``, ``callback_channel_invalid``, ``callback_notes_required``,
    ``text_too_long``."""
    notes = _check_text(notes, code="callback_notes_required", message=_("Write down what was said."))
    if channel not in RatingLoop.Channel.values:
        raise RatingError("callback_channel_invalid", _("Choose how the applicant was contacted."))
    with transaction.atomic():
        locked = _locked_as_handler(loop, actor=actor, expected=Status.CALLBACK)
        now = timezone.now()
        # The form takes the contact to the minute: the minute of the rating itself counts.
        rated_minute = locked.rating.rated_at.replace(second=0, microsecond=0)
        if contacted_at.tzinfo is None or not rated_minute <= contacted_at <= now:
            raise RatingError(
                "callback_time_invalid", _("The contact lies between the rating and now: check its time.")
            )
        locked.contacted_at, locked.contact_channel, locked.callback_notes = contacted_at, channel, notes
        locked.callback_by, locked.callback_recorded_at, locked.status = actor, now, Status.VERIFY
        return _saved(
            locked,
            actor=actor,
            action="rating_loop.called_back",
            fields=[
                "contacted_at",
                "contact_channel",
                "callback_notes",
                "callback_by",
                "callback_recorded_at",
                "status",
            ],
            data={"channel": channel, "on_time": timezone.localtime(now).date() <= locked.callback_due_on},
        )


def rating_loop_verify(*, actor: User, loop: RatingLoop, confirmed: bool, findings: str) -> RatingLoop:
    """Record the verification (核实): whether the problem the applicant raised is confirmed, and the
    findings. Errors: those of every step, ``findings_required``, ``text_too_long``."""
    findings = _check_text(findings, code="findings_required", message=_("Write down what the verification found."))
    with transaction.atomic():
        locked = _locked_as_handler(loop, actor=actor, expected=Status.VERIFY)
        locked.problem_confirmed, locked.findings = bool(confirmed), findings
        locked.verified_by, locked.verified_at, locked.status = actor, timezone.now(), Status.RECTIFY
        return _saved(
            locked,
            actor=actor,
            action="rating_loop.verified",
            fields=["problem_confirmed", "findings", "verified_by", "verified_at", "status"],
            data={"confirmed": bool(confirmed)},
        )


def rating_loop_rectify(*, actor: User, loop: RatingLoop, rectification: str, nothing_to_rectify: bool) -> RatingLoop:
    """Record the rectification (整改): what was changed, or, for a problem that was not confirmed,
    that there is nothing to rectify and why. Errors: those of every step,
    ``rectification_required`` (text missing, or nothing to rectify for a confirmed problem),
    ``text_too_long``."""
    rectification = _check_text(
        rectification,
        code="rectification_required",
        message=_("Write down what was changed, or why nothing needs to change."),
    )
    with transaction.atomic():
        locked = _locked_as_handler(loop, actor=actor, expected=Status.RECTIFY)
        if nothing_to_rectify and locked.problem_confirmed:
            raise RatingError(
                "rectification_required", _("The problem was confirmed: record what was changed to put it right.")
            )
        locked.rectification, locked.nothing_to_rectify = rectification, bool(nothing_to_rectify)
        locked.rectified_by, locked.rectified_at, locked.status = actor, timezone.now(), Status.REPLY
        return _saved(
            locked,
            actor=actor,
            action="rating_loop.rectified",
            fields=["rectification", "nothing_to_rectify", "rectified_by", "rectified_at", "status"],
            data={"nothing_to_rectify": bool(nothing_to_rectify)},
        )


def rating_loop_reply(*, actor: User, loop: RatingLoop, reply: str) -> RatingLoop:
    """Reply to the applicant (反馈) and close the loop; the people acting for the enterprise are
    told the reply and that they may rate once more. Errors: those of every step,
    ``reply_required``, ``text_too_long``."""
    reply = _check_text(reply, code="reply_required", message=_("Write the reply to the applicant."))
    with transaction.atomic():
        locked = _locked_as_handler(loop, actor=actor, expected=Status.REPLY)
        now = timezone.now()
        locked.reply, locked.replied_by, locked.replied_at, locked.status = reply, actor, now, Status.CLOSED
        _saved(
            locked,
            actor=actor,
            action="rating_loop.replied",
            fields=["reply", "replied_by", "replied_at", "status"],
            data={"on_time": timezone.localtime(now).date() <= locked.rectify_due_on},
        )
        notices.loop_replied_tell(locked)
    return locked
