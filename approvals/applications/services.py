"""Writes of applications: each transition is one function, one transaction, the status checked
under the application's row lock, and an ``ApplicationEvent`` in the same transaction.

Lock order (see approvals/lock_objects.py): the viewflow process row (taken by the flow), then the
application row, then step rows. Services called outside a flow take the application row lock
themselves (``select_for_update`` in ``_transition``).
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals import permissions
from approvals.applications import close_facts, fast_track, notices, staff_notices, webhook_events
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApprovalItemVersion,
    Certificate,
    ClockEvent,
    Decision,
    Department,
    ExtensionRequest,
    ReferenceSequence,
    RequiredMaterial,
    ReviewOpinion,
    Step,
    SupplementNotice,
)
from approvals.supervision import rollup
from core import dates
from core.actors import real_actor
from core.exceptions import DomainError
from core.models import User
from core.uploads import CheckedUpload, upload_check, upload_store_name
from credit.enterprises import selectors as credit_selectors
from credit.ledger import services as credit_services
from credit.models import Enterprise
from credit.policies import services as policy_services

Status = Application.Status

# PDF, PNG and JPEG, recognised by their first bytes, never by the name or type the browser sent.


class ApplicationError(DomainError):
    pass


def _today() -> datetime.date:
    return timezone.localdate()


# --- helpers -------------------------------------------------------------------------------------


def _event(
    application: Application,
    *,
    actor: User | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    department: Department | None = None,
    data: dict[str, Any] | None = None,
) -> ApplicationEvent:
    event = ApplicationEvent.objects.create(
        application=application,
        actor=real_actor(actor),
        action=action,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        department=department,
        data=data or {},
    )
    notices.applicant_tell(application, event)
    return event


def _transition(
    application: Application,
    *,
    allowed_from: Sequence[str],
    to_status: str,
    actor: User | None,
    action: str,
    comment: str = "",
    department: Department | None = None,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Application:
    """Lock the row, check the status it is in under the lock, write the new status and the
    history event, and bring ``application`` up to date in memory (keeping what it had loaded)."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    current = locked.status
    if current not in allowed_from:
        raise ApplicationError(
            "application_state_changed",
            _("The application is no longer in a state that allows this (it is now: %(status)s). Reload the page.")
            % {"status": Status(current).label},
            status=current,
        )
    now = timezone.now()
    Application.objects.filter(pk=application.pk).update(status=to_status, updated_at=now, **fields)
    event = _event(
        application,
        actor=actor,
        action=action,
        from_status=current,
        to_status=to_status,
        comment=comment,
        department=department,
        data=data,
    )
    for field in Application._meta.concrete_fields:
        if not field.is_relation:
            setattr(application, field.attname, getattr(locked, field.attname))
    application.status = to_status
    application.updated_at = now
    for name, value in fields.items():
        setattr(application, name, value)
    if to_status in Application.CLOSED_STATUSES:
        close_facts.application_close_facts_store(application)
    webhook_events.status_changed(application, event)
    return application


def _lock_under_review(application: Application) -> Application:
    """Lock the row of an accepted, undecided application (clock actions need one)."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status not in (Status.IN_REVIEW, Status.AWAITING_DECISION):
        raise ApplicationError("application_state_changed", _("The application is not under review."))
    return locked


def _require_member(actor: User, application: Application) -> None:
    if credit_selectors.enterprise_get_for_user(user=actor, pk=application.enterprise_id) is None:
        raise ApplicationError("not_found", _("No such application."))


def _require_text(value: str, code: str, message: Any) -> str:
    text = (value or "").strip()
    if not text:
        raise ApplicationError(code, message)
    return text


def reference_next(*, prefix: str) -> str:
    """The next reference number for ``prefix`` (e.g. ``SP2026``), without gaps.

    Incremented under a row lock in the caller's transaction: a rolled-back submission rolls the
    counter back with it, so the sequence has no holes."""
    sequence = ReferenceSequence.objects.select_for_update().filter(prefix=prefix).first()
    if sequence is None:
        try:
            with transaction.atomic():
                ReferenceSequence.objects.create(prefix=prefix, last=0)
        except IntegrityError:
            pass  # created by a concurrent submission; lock it below
        sequence = ReferenceSequence.objects.select_for_update().get(prefix=prefix)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}-{sequence.last:06d}"


# --- the clock -----------------------------------------------------------------------------------


def application_clock_refresh(
    application: Application, *, calendar: clock.WorkingCalendar | None = None
) -> clock.Deadline:
    """Recompute both deadlines (promised and statutory) from the clock events and store the
    derived columns. ``application.item_version`` must be loadable (it is read for both limits)."""
    calendar = calendar or calendar_selectors.calendar_load()
    events = list(ClockEvent.objects.filter(application=application).order_by("at", "id"))
    # Fast track: the promised limit less the reduction granted by the decision stored at submission
    # (never below one working day), read from that decision and not from the policy, so that a
    # recomputation after a new policy version gives the same deadline. The statutory limit is the
    # law's and no policy shortens it.
    promised = fast_track.promised_days(application)
    result = clock.application_deadline(
        events,
        promised_days=promised,
        statutory_days=application.item_version.statutory_limit_days,
        calendar=calendar,
    )
    due, statutory = result.due, result.statutory_due
    fields = {
        "deadline": due.on if due else None,
        "deadline_provisional": due.provisional if due else False,
        "deadline_calendar_version": due.calendar_version if due else None,
        "statutory_deadline": statutory.on if statutory else None,
        "statutory_deadline_provisional": statutory.provisional if statutory else False,
        "clock_suspended": result.state == "suspended",
    }
    Application.objects.filter(pk=application.pk).update(**fields)
    for name, value in fields.items():
        setattr(application, name, value)
    return result


def _clock(
    application: Application, kind: str, *, actor: User | None, on: datetime.date | None = None, **fields: Any
) -> ClockEvent:
    return ClockEvent.objects.create(application=application, kind=kind, on=on or _today(), actor=actor, **fields)


def deadlines_recompute_provisional() -> int:
    """Recompute every application whose promised or statutory deadline was provisional, and every
    open step whose due date was, and the credit office's and the policy office's provisional
    decision deadlines (after a calendar year is entered). The statutory deadline lies
    later and so reaches into an uncovered year more often than the promised one. Returns how many
    were recomputed."""
    calendar = calendar_selectors.calendar_load()
    count = 0
    for application in Application.objects.filter(
        Q(deadline_provisional=True) | Q(statutory_deadline_provisional=True)
    ).select_related("item_version", "fast_track_decision"):
        application_clock_refresh(application, calendar=calendar)
        count += 1
    for step in Step.objects.filter(due_provisional=True, closed_at__isnull=True).select_related(
        "application__item_version"
    ):
        due = _step_due(
            step.application, step.kind, step.opened_at.astimezone(timezone.get_current_timezone()).date(), calendar
        )
        if due is not None:
            Step.objects.filter(pk=step.pk).update(due_on=due.on, due_provisional=due.provisional)
            _timeout_reschedule(step_task_id=step.task_id, due_on=due.on)
            count += 1
    count += credit_services.credit_request_dues_recompute()
    count += policy_services.policy_review_dues_recompute()
    return count


def _steps_pause(application: Application) -> None:
    """While the clock is suspended the open steps wait too: their timeouts are held (a timer
    without a time never fires) until the clock resumes."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    task_ids = list(
        Step.objects.filter(application=application, closed_at__isnull=True, task_id__isnull=False).values_list(
            "task_id", flat=True
        )
    )
    Task.objects.filter(previous__pk__in=task_ids, status=STATUS.SCHEDULED).update(scheduled=None)


def _steps_resume(application: Application, *, suspended_on: datetime.date, resumed_on: datetime.date) -> None:
    """Move the open steps' due dates later by the working days the clock stood still, and re-arm
    their timeouts."""
    calendar = calendar_selectors.calendar_load()
    days = clock.working_days_between_lenient(suspended_on, resumed_on, calendar=calendar)
    for step in Step.objects.filter(application=application, closed_at__isnull=True, due_on__isnull=False):
        assert step.due_on is not None
        due = clock.due_after(step.due_on, days.count, calendar=calendar)
        Step.objects.filter(pk=step.pk).update(
            due_on=due.on, due_provisional=step.due_provisional or due.provisional or days.provisional
        )
        _timeout_reschedule(step_task_id=step.task_id, due_on=due.on)


def _suspended_on(application: Application) -> datetime.date | None:
    last = (
        ClockEvent.objects.filter(application=application, kind__in=["suspended", "resumed"])
        .order_by("-at", "-id")
        .first()
    )
    return last.on if last is not None and last.kind == ClockEvent.Kind.SUSPENDED else None


def _timeout_reschedule(*, step_task_id: int | None, due_on: datetime.date) -> None:
    """Move the timeout of a step to its recomputed due date. The timer is viewflow's boundary
    task that follows the step's task; it fires at midnight after the due day (Asia/Shanghai)."""
    if step_task_id is None:
        return
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    Task.objects.filter(previous__pk=step_task_id, status=STATUS.SCHEDULED).update(scheduled=due_moment(due_on))


def due_moment(due_on: datetime.date | None) -> datetime.datetime:
    """A step due on day D is overdue from midnight after D (Asia/Shanghai); no due date: never
    (in practice: ten years on)."""
    if due_on is None:
        return timezone.now() + datetime.timedelta(days=3650)
    local = timezone.get_current_timezone()
    return datetime.datetime.combine(due_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=local)


# --- drafts, materials, submission ----------------------------------------------------------------


def item_version_published(*, pk: int) -> ApprovalItemVersion:
    version = ApprovalItemVersion.objects.filter(pk=pk, status=ApprovalItemVersion.Status.PUBLISHED).first()
    if version is None:
        raise ApplicationError("item_not_published", _("This item is not on the published list."))
    return version


def application_draft_save(
    *,
    actor: User,
    enterprise_id: int,
    item_version_id: int,
    form_data: dict[str, Any],
    idempotency_key: uuid.UUID,
) -> Application:
    """Create or update the draft identified by (actor, idempotency key).

    Errors: ``not_found`` (not the actor's enterprise), ``item_not_published``,
    ``application_not_draft``."""
    enterprise = credit_selectors.enterprise_get_for_user(user=actor, pk=enterprise_id)
    if enterprise is None:
        raise ApplicationError("not_found", _("No such enterprise."))
    version = item_version_published(pk=item_version_id)
    with transaction.atomic():
        existing = (
            Application.objects.select_for_update().filter(applicant=actor, idempotency_key=idempotency_key).first()
        )
        if existing is not None:
            if existing.status != Status.DRAFT:
                raise ApplicationError("application_not_draft", _("This application was already submitted."))
            if existing.enterprise_id != enterprise.pk or existing.item_version_id != version.pk:
                raise ApplicationError("draft_mismatch", _("This draft belongs to another enterprise or item."))
            existing.form_data = form_data
            existing.save(update_fields=["form_data", "updated_at"])
            return existing
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    enterprise=enterprise,
                    applicant=actor,
                    item_version=version,
                    form_data=form_data,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            # The same key arrived twice at once (a double click): the other request created it.
            # Its row is committed now; apply this request's data under the row lock rather than
            # answer "saved" and drop it (the later save wins, as it would one after the other).
            application = Application.objects.select_for_update().get(applicant=actor, idempotency_key=idempotency_key)
            if application.status != Status.DRAFT:
                raise ApplicationError("application_not_draft", _("This application was already submitted.")) from None
            if application.enterprise_id != enterprise.pk or application.item_version_id != version.pk:
                raise ApplicationError(
                    "draft_mismatch", _("This draft belongs to another enterprise or item.")
                ) from None
            application.form_data = form_data
            application.save(update_fields=["form_data", "updated_at"])
            return application
        _event(application, actor=actor, action="draft_created", to_status=Status.DRAFT)
    return application


def application_draft_update(*, actor: User, application: Application, form_data: dict[str, Any]) -> Application:
    """Replace the form data of the actor's own draft (the API's edit; the portal edits through
    ``application_draft_save`` with the draft's key). A colleague's draft is theirs to edit, as on
    the portal, where the filing page only finds the user's own drafts.

    Errors: ``not_found``, ``draft_not_yours``, ``application_not_draft``, ``item_not_published``."""
    _require_member(actor, application)
    if application.applicant_id != actor.pk:
        raise ApplicationError("draft_not_yours", _("Only the person who started a draft can edit it."))
    return application_draft_save(
        actor=actor,
        enterprise_id=application.enterprise_id,
        item_version_id=application.item_version_id,
        form_data=form_data,
        idempotency_key=application.idempotency_key,
    )


def material_check(upload: UploadedFile) -> CheckedUpload:
    """Read the whole file and refuse anything that is not what it claims (``core.uploads``).

    Errors: those of ``upload_check`` (``file_empty``, ``file_too_large``, ``file_type_not_allowed``,
    ``file_damaged``, ``file_active_content``, ``file_too_many_pixels``)."""
    return upload_check(upload, max_bytes=settings.MATERIAL_MAX_BYTES)


def application_material_attach(
    *,
    actor: User,
    application: Application,
    required_material_id: int | None,
    upload: UploadedFile,
    supplement: SupplementNotice | None = None,
) -> ApplicationMaterial:
    """Store an uploaded material. Drafts take any material; after submission only an answer to an
    open supplement notice may add files. Errors: ``not_found``, ``material_not_of_item``,
    ``application_not_draft``, and those of ``material_check``."""
    _require_member(actor, application)
    if (
        required_material_id is not None
        and not RequiredMaterial.objects.filter(
            pk=required_material_id, item_version_id=application.item_version_id
        ).exists()
    ):
        raise ApplicationError("material_not_of_item", _("This material is not part of the item."))
    checked = material_check(upload)  # before the lock: it reads the whole file
    with transaction.atomic():
        # The status the caller saw may be stale (a submission in another request): decide under
        # the row lock, like every other transition, so no file joins an application once submitted.
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if supplement is None:
            if locked.status != Status.DRAFT:
                raise ApplicationError("application_not_draft", _("Materials can only be changed on a draft."))
        elif (
            not SupplementNotice.objects.filter(
                pk=supplement.pk, application_id=locked.pk, answered_by=actor, answered_at__isnull=False
            ).exists()
            or locked.status not in Application.OPEN_STATUSES
        ):
            # Only inside the answer of this notice (application_supplement_answer marks it answered
            # first, in the same transaction) may files join a submitted application.
            raise ApplicationError("application_not_draft", _("Materials can only be changed on a draft."))
        return _material_store(
            application=locked,
            actor=actor,
            required_material_id=required_material_id,
            upload=upload,
            checked=checked,
            supplement=supplement,
        )


def _material_store(
    *,
    application: Application,
    actor: User,
    required_material_id: int | None,
    upload: UploadedFile,
    checked: CheckedUpload,
    supplement: SupplementNotice | None,
) -> ApplicationMaterial:
    material = ApplicationMaterial(
        application=application,
        required_material_id=required_material_id,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        supplement=supplement,
    )
    material.file.save(upload_store_name(checked), upload, save=False)
    material.save()
    return material


def application_submit(*, actor: User, application: Application) -> Application:
    """Submit a draft: a gapless reference number, the ``received`` clock event (the statutory
    clock has not started; the window has ``DEEMED_ACCEPTANCE_DAYS`` working days to answer).

    Fast track (issue 6): the published fast-track policies covering the item are checked for the
    enterprise and every decision is recorded (``fast_track.fast_track_decide``); the granting one
    is stored on ``fast_track_decision``. Its privileges apply from here: a 容缺 material may be
    missing (``allow_missing_secondary``), the promised limit is shorter (``promised_days_reduction``,
    see ``application_clock_refresh``).

    The caller (the portal view) starts the workflow in the same transaction. Errors:
    ``not_found``, ``material_missing``, ``item_not_published``, ``application_state_changed``."""
    _require_member(actor, application)
    if application.status != Status.DRAFT:
        return application  # a retry of a submission that went through: idempotent
    item_version_published(pk=application.item_version_id)
    now = timezone.now()
    with transaction.atomic():
        # Take the row first: the reference number must only be drawn by the one request that wins.
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.DRAFT:
            return locked
        # The fast-track check comes before the materials check, which needs its privileges, and
        # after the row lock, so a double click records one set of decisions. Its decisions are
        # written in this transaction: if the submission then fails (a material missing, anything
        # later in the caller's transaction), they roll back with it, refusals included. That is
        # acceptable: no submission happened, so nothing was refused on their strength, and the
        # next attempt decides again on the ledger as it is then.
        grant = fast_track.fast_track_decide(actor=actor, application=application)
        privileges = fast_track.privileges_of_decision(grant.decision if grant else None)
        missing = fast_track.materials_blocking(application, privileges=privileges)
        if missing:
            raise ApplicationError(
                "material_missing",
                _("Mandatory materials are missing: %(names)s.") % {"names": "、".join(m.name for m in missing)},
                missing=[m.pk for m in missing],
            )
        today = _today()
        reference = reference_next(prefix=f"SP{today.year}")
        granted: dict[str, Any] = {}
        event_data: dict[str, Any] | None = None
        if grant is not None:
            granted = {"fast_track_decision": grant.decision}
            event_data = {"fast_track_decision": grant.decision.pk, "fast_track_policy": grant.policy.code}
        _transition(
            application,
            allowed_from=[Status.DRAFT],
            to_status=Status.SUBMITTED,
            actor=actor,
            action="submitted",
            data=event_data,
            reference=reference,
            submitted_at=now,
            received_on=today,
            extension_cap=min(application.item_version.max_extension_days, 15),
            **granted,
        )
        _clock(application, ClockEvent.Kind.RECEIVED, actor=actor, on=today)
    return application


# --- steps ---------------------------------------------------------------------------------------


def complete_on(application: Application) -> datetime.date:
    """The day the application was complete at the window: the day it was received, or the day the
    applicant answered the 补正 notice. Art. 32's five working days count from here."""
    answered = (
        SupplementNotice.objects.filter(
            application=application, stage=SupplementNotice.Stage.BEFORE_ACCEPTANCE, answered_at__isnull=False
        )
        .values_list("answered_at", flat=True)
        .first()
    )
    if answered is not None:
        return timezone.localtime(answered).date()
    assert application.received_on is not None
    return application.received_on


def _step_due(
    application: Application, kind: str, opened_on: datetime.date, calendar: clock.WorkingCalendar
) -> clock.Due | None:
    version = application.item_version
    if kind == Step.Kind.ACCEPT:
        return clock.due_after(complete_on(application), settings.DEEMED_ACCEPTANCE_DAYS, calendar=calendar)
    if kind == Step.Kind.REVIEW:
        return clock.due_after(opened_on, version.review_limit_days, calendar=calendar)
    if application.deadline is not None:
        return clock.Due(application.deadline, application.deadline_provisional, calendar.version)
    return None


def step_open(*, application: Application, kind: str, department: Department, task_id: int | None) -> Step:
    """Record a human step of the flow with its own deadline (called by the flow when a task is created)."""
    calendar = calendar_selectors.calendar_load()
    due = _step_due(application, kind, _today(), calendar)
    step = Step.objects.create(
        application=application,
        kind=kind,
        department=department,
        task_id=task_id,
        due_on=due.on if due else None,
        due_provisional=due.provisional if due else False,
    )
    staff_notices.staff_tell_step_waiting(step)
    return step


def step_claim(*, step: Step, actor: User) -> Step:
    now = timezone.now()
    Step.objects.filter(pk=step.pk).update(claimed_by=actor, claimed_at=now)
    _event(step.application, actor=actor, action="step_claimed", department=step.department, data={"step": step.kind})
    step.claimed_by, step.claimed_at = actor, now
    return step


def step_hand_over(*, step: Step, actor: User, colleague: User) -> Step:
    """``actor`` hands the claimed ``step`` to ``colleague``, who is told."""
    step = step_claim(step=step, actor=colleague)
    staff_notices.staff_tell_handed_over(step, by=actor, colleague=colleague)
    return step


def step_release(*, step: Step, actor: User) -> Step:
    Step.objects.filter(pk=step.pk).update(claimed_by=None, claimed_at=None)
    _event(step.application, actor=actor, action="step_released", department=step.department, data={"step": step.kind})
    step.claimed_by, step.claimed_at = None, None
    return step


def step_close(*, task_id: int, outcome: str) -> None:
    Step.objects.filter(task_id=task_id, closed_at__isnull=True).update(closed_at=timezone.now(), outcome=outcome[:32])


# --- the window ----------------------------------------------------------------------------------


def application_accept(*, actor: User, application: Application, comment: str = "") -> Application:
    """Accept at the window: the statutory clock starts today.

    Errors: ``permission_denied``, ``material_missing``, ``application_state_changed``."""
    if not permissions.user_may_accept(user=actor, department=application.item_version.desk_department):
        raise ApplicationError("permission_denied", _("You may not accept applications for this window."))
    # A fast-tracked application may be accepted without its 容缺 materials (to be supplied later).
    missing = fast_track.materials_blocking(application, privileges=fast_track.privileges_of(application))
    if missing:
        raise ApplicationError(
            "material_missing",
            _("Mandatory materials are missing: %(names)s. Send a supplement notice instead.")
            % {"names": "、".join(m.name for m in missing)},
        )
    today = _today()
    with transaction.atomic():
        _transition(
            application,
            allowed_from=[Status.SUBMITTED],
            to_status=Status.IN_REVIEW,
            actor=actor,
            action="accepted",
            comment=comment,
            department=application.item_version.desk_department,
            accepted_at=timezone.now(),
            accepted_on=today,
        )
        _clock(application, ClockEvent.Kind.ACCEPTED, actor=actor, on=today)
        application_clock_refresh(application)
        notices.applicant_tell_latest(application, "accepted")
    return application


def application_deem_accepted(*, application: Application) -> Application:
    """行政许可法 art. 32: the window did not answer within the limit, so the application counts as
    accepted on the day it was received complete. Run by the flow's timer."""
    accepted_on = complete_on(application)
    with transaction.atomic():
        _transition(
            application,
            allowed_from=[Status.SUBMITTED],
            to_status=Status.IN_REVIEW,
            actor=None,
            action="deemed_accepted",
            comment=str(_("Not answered within the time limit: accepted by operation of law (art. 32).")),
            accepted_at=timezone.now(),
            accepted_on=accepted_on,
            deemed_accepted=True,
        )
        _clock(application, ClockEvent.Kind.ACCEPTED, actor=None, on=accepted_on, deemed=True)
        # accepted on the day it was received complete: in a rolled-up month, if the timer ran late
        rollup.efficiency_month_touched(accepted_on)
        application_clock_refresh(application)
        notices.applicant_tell_latest(application, "deemed_accepted")
    return application


def application_not_accept(*, actor: User, application: Application, reasons: str) -> Application:
    """Refuse to accept (不予受理), with reasons. Errors: ``permission_denied``, ``reasons_required``,
    ``application_state_changed``."""
    if not permissions.user_may_accept(user=actor, department=application.item_version.desk_department):
        raise ApplicationError("permission_denied", _("You may not decide on acceptance for this window."))
    text = _require_text(reasons, "reasons_required", _("Give the reasons for not accepting."))
    with transaction.atomic():
        _transition(
            application,
            allowed_from=[Status.SUBMITTED],
            to_status=Status.NOT_ACCEPTED,
            actor=actor,
            action="not_accepted",
            comment=text,
            department=application.item_version.desk_department,
            decided_at=timezone.now(),
        )
    return application


def _supplement_items(application: Application, material_ids: Iterable[int], other: str) -> list[dict[str, Any]]:
    ids = set(material_ids)
    materials = {m.pk: m for m in application.item_version.materials.filter(pk__in=ids)}
    if set(materials) != ids:
        raise ApplicationError("material_not_of_item", _("A listed material is not part of the item."))
    items: list[dict[str, Any]] = [{"material": pk, "name": materials[pk].name} for pk in sorted(ids)]
    if other.strip():
        items.append({"material": None, "name": other.strip()})
    if not items:
        raise ApplicationError("supplement_items_required", _("List every missing or insufficient item."))
    return items


def application_supplement_before_acceptance(
    *, actor: User, application: Application, material_ids: Iterable[int], other: str, message: str
) -> SupplementNotice:
    """The one 补正 notice, listing every missing item; the clock has not started.

    Errors: ``permission_denied``, ``supplement_items_required``, ``supplement_already_sent``,
    ``application_state_changed``."""
    desk = application.item_version.desk_department
    if not permissions.user_may_accept(user=actor, department=desk):
        raise ApplicationError("permission_denied", _("You may not send supplement notices for this window."))
    items = _supplement_items(application, material_ids, other)
    with transaction.atomic():
        if SupplementNotice.objects.filter(
            application=application, stage=SupplementNotice.Stage.BEFORE_ACCEPTANCE
        ).exists():
            raise ApplicationError(
                "supplement_already_sent",
                _("A supplement notice was already sent; the law allows one that lists everything at once."),
            )
        _transition(
            application,
            allowed_from=[Status.SUBMITTED],
            to_status=Status.AWAITING_SUPPLEMENT,
            actor=actor,
            action="supplement_requested",
            comment=message,
            department=desk,
        )
        notice = SupplementNotice.objects.create(
            application=application,
            stage=SupplementNotice.Stage.BEFORE_ACCEPTANCE,
            department=desk,
            items=items,
            message=message.strip(),
            requested_by=actor,
        )
    return notice


def application_supplement_after_acceptance(
    *,
    actor: User,
    application: Application,
    department: Department,
    material_ids: Iterable[int],
    other: str,
    message: str,
) -> SupplementNotice:
    """A reviewer or the lead department asks for supplementary material: the clock is suspended
    until the applicant answers. Errors: ``permission_denied``, ``supplement_items_required``,
    ``supplement_open``, ``application_state_changed``."""
    if not permissions.user_may_handle_case(user=actor, department=department):
        raise ApplicationError("permission_denied", _("You may not ask for material on behalf of this department."))
    items = _supplement_items(application, material_ids, other)
    with transaction.atomic():
        locked = _lock_under_review(application)
        if (
            locked.clock_suspended
            or SupplementNotice.objects.filter(application=application, answered_at__isnull=True).exists()
        ):
            raise ApplicationError("supplement_open", _("The clock is already suspended for this application."))
        notice = SupplementNotice.objects.create(
            application=application,
            stage=SupplementNotice.Stage.AFTER_ACCEPTANCE,
            department=department,
            items=items,
            message=message.strip(),
            requested_by=actor,
        )
        _clock(
            application, ClockEvent.Kind.SUSPENDED, actor=actor, reason=ClockEvent.Reason.SUPPLEMENT, comment=message
        )
        _event(application, actor=actor, action="supplement_requested", department=department, comment=message)
        _steps_pause(application)
        application_clock_refresh(application)
    return notice


def supplement_requested_material_ids(notice: SupplementNotice) -> set[int]:
    """The catalogue materials a notice asks for (each needs a file in the answer)."""
    return {int(item["material"]) for item in notice.items if item.get("material") is not None}


def supplement_lists_other_items(notice: SupplementNotice) -> bool:
    """Does the notice list an item outside the catalogue (a file or an explanation answers it)?"""
    return any(item.get("material") is None for item in notice.items)


def application_supplement_answer(
    *,
    actor: User,
    application: Application,
    notice: SupplementNotice,
    answer: str,
    uploads: Sequence[tuple[int | None, UploadedFile]],
) -> SupplementNotice:
    """The applicant answers a supplement notice with material. Before acceptance the application
    returns to the window; after acceptance the clock resumes.

    Every catalogue material the notice lists needs a file, and no other catalogue material may be
    sent; an item outside the catalogue is answered by a file (material ``None``) or the answer text.

    Errors: ``not_found``, ``supplement_answered``, ``supplement_answer_empty``,
    ``supplement_material_missing``, ``material_not_requested``, file errors."""
    _require_member(actor, application)
    if notice.application_id != application.pk:
        raise ApplicationError("not_found", _("No such supplement notice."))
    if not uploads and not answer.strip():
        raise ApplicationError("supplement_answer_empty", _("Attach the requested material or explain."))
    requested = supplement_requested_material_ids(notice)
    given = {material_id for material_id, _upload in uploads if material_id is not None}
    if given - requested:
        raise ApplicationError("material_not_requested", _("Only the materials the notice lists may be sent."))
    if requested - given:
        names = [item["name"] for item in notice.items if item.get("material") in requested - given]
        raise ApplicationError(
            "supplement_material_missing",
            _("The notice asks for these materials: %(names)s.") % {"names": "、".join(names)},
            missing=sorted(requested - given),
        )
    if supplement_lists_other_items(notice) and not answer.strip() and not any(m is None for m, _u in uploads):
        raise ApplicationError(
            "supplement_answer_empty", _("Attach the other items the notice lists, or explain in your answer.")
        )
    for _material_id, upload in uploads:
        material_check(upload)  # refuse a bad file before anything is written
    with transaction.atomic():
        changed = SupplementNotice.objects.filter(pk=notice.pk, answered_at__isnull=True).update(
            answered_at=timezone.now(), answered_by=actor, answer=answer.strip()
        )
        if changed != 1:
            raise ApplicationError("supplement_answered", _("This notice was already answered."))
        for material_id, upload in uploads:
            application_material_attach(
                actor=actor, application=application, required_material_id=material_id, upload=upload, supplement=notice
            )
        if notice.stage == SupplementNotice.Stage.BEFORE_ACCEPTANCE:
            _transition(
                application,
                allowed_from=[Status.AWAITING_SUPPLEMENT],
                to_status=Status.SUBMITTED,
                actor=actor,
                action="supplement_answered",
                comment=answer,
            )
        else:
            suspended_on = _suspended_on(application)
            _clock(application, ClockEvent.Kind.RESUMED, actor=actor, comment=str(_("Supplementary material received")))
            _event(application, actor=actor, action="supplement_answered", comment=answer)
            if suspended_on is not None:
                _steps_resume(application, suspended_on=suspended_on, resumed_on=_today())
            application_clock_refresh(application)
    notice.refresh_from_db()
    return notice


# --- suspension and extension (arts. 42, 45) ------------------------------------------------------


def application_suspend(
    *,
    actor: User,
    application: Application,
    department: Department,
    reason: str,
    comment: str,
    expected_days: int | None = None,
) -> Application:
    """Open an excluded period of art. 45 on one of its grounds — hearing, bidding or auction,
    testing / inspection / quarantine, appraisal, expert review, nothing else — with the working days
    it is expected to take: the clock stops, and the applicant receives the written notice of the
    ground and the expected time (art. 45: "应当将所需时间书面告知申请人"). Errors:
    ``permission_denied``, ``reason_invalid``, ``expected_days_invalid``, ``comment_required``,
    ``clock_already_suspended``, ``application_state_changed``."""
    if not permissions.user_may_handle_case(user=actor, department=department):
        raise ApplicationError("permission_denied", _("You may not suspend the clock for this department."))
    if reason not in ClockEvent.ART45_GROUNDS:
        raise ApplicationError(
            "reason_invalid",
            _("Choose a ground of art. 45: hearing, bidding or auction, testing, appraisal or expert review."),
        )
    if expected_days is None or not 1 <= expected_days <= 250:
        raise ApplicationError(
            "expected_days_invalid", _("Give the working days the excluded period is expected to take (1 to 250).")
        )
    text = _require_text(comment, "comment_required", _("Describe the excluded period."))
    with transaction.atomic():
        locked = _lock_under_review(application)
        if locked.clock_suspended:
            raise ApplicationError("clock_already_suspended", _("The clock is already suspended."))
        _clock(application, ClockEvent.Kind.SUSPENDED, actor=actor, reason=reason, days=expected_days, comment=text)
        _event(
            application,
            actor=actor,
            action="clock_suspended",
            department=department,
            comment=text,
            data={"reason": reason, "expected_days": expected_days},
        )
        _steps_pause(application)
        application_clock_refresh(application)
    return application


def application_resume(
    *, actor: User, application: Application, department: Department, comment: str = ""
) -> Application:
    """Close an excluded period; the deadline moves later by the working days it lasted. Errors:
    ``permission_denied``, ``clock_not_suspended``, ``supplement_open`` (a supplement request is
    closed by the applicant's answer, not here)."""
    if not permissions.user_may_handle_case(user=actor, department=department):
        raise ApplicationError("permission_denied", _("You may not resume the clock for this department."))
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if not locked.clock_suspended:
            raise ApplicationError("clock_not_suspended", _("The clock is not suspended."))
        if SupplementNotice.objects.filter(application=application, answered_at__isnull=True).exists():
            raise ApplicationError(
                "supplement_open", _("The clock resumes when the applicant answers the supplement request.")
            )
        suspended_on = _suspended_on(application)
        _clock(application, ClockEvent.Kind.RESUMED, actor=actor, comment=comment)
        _event(application, actor=actor, action="clock_resumed", department=department, comment=comment)
        if suspended_on is not None:
            _steps_resume(application, suspended_on=suspended_on, resumed_on=_today())
        application_clock_refresh(application)
        notices.applicant_tell_latest(application, "clock_resumed")
    return application


def application_extension_request(*, actor: User, application: Application, days: int, reason: str) -> ExtensionRequest:
    """A decision maker of the lead department asks the head of the bureau to extend the time limit
    (art. 42); the heads are told. Errors: ``permission_denied``, ``reason_required``,
    ``extension_days_invalid``, ``extension_over_cap``, ``extension_pending``,
    ``application_state_changed``."""
    lead = application.item_version.lead_department
    if not permissions.user_may_decide(user=actor, department=lead):
        raise ApplicationError(
            "permission_denied", _("Only a decision maker of the lead department asks for an extension.")
        )
    text = _require_text(reason, "reason_required", _("Give the reason for the extension."))
    if days < 1:
        raise ApplicationError("extension_days_invalid", _("An extension is at least one working day."))
    with transaction.atomic():
        locked = _lock_under_review(application)
        _extension_within_cap(locked, days)
        if ExtensionRequest.objects.filter(application=application, status=ExtensionRequest.Status.PENDING).exists():
            raise ApplicationError(
                "extension_pending", _("An extension request for this application awaits the head of the bureau.")
            )
        request = ExtensionRequest.objects.create(application=application, days=days, reason=text, requested_by=actor)
        _event(
            application,
            actor=actor,
            action="extension_requested",
            department=lead,
            comment=text,
            data={"days": days, "request": request.pk},
        )
        staff_notices.heads_tell_extension_requested(request)
    return request


def _extension_within_cap(application: Application, days: int) -> None:
    if application.extension_days + days > application.extension_cap:
        raise ApplicationError(
            "extension_over_cap",
            _("Extensions may total at most %(cap)s working days; %(used)s are used.")
            % {"cap": application.extension_cap, "used": application.extension_days},
        )


def application_extension_decide(
    *, actor: User, request: ExtensionRequest, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """The head of the bureau (本行政机关负责人) approves or refuses an extension request — never
    their own. Approved: the ``extended`` clock event names the head as approver, both deadlines
    move, the total is held to the cap by the database (``application_extension_within_cap``), and
    the applicant receives the written notice of extension with the reasons (art. 42). Refused: the
    reasons are recorded and the requester told. Errors: ``permission_denied``,
    ``own_request``, ``reason_required``, ``extension_decided``, ``extension_over_cap``,
    ``application_state_changed``."""
    if not permissions.user_is_bureau_head(user=actor):
        raise ApplicationError("permission_denied", _("Only the head of the bureau decides an extension."))
    if request.requested_by_id == actor.pk:
        raise ApplicationError("own_request", _("An extension is decided by someone other than the person who asked."))
    text = (comment or "").strip()
    if not approve and not text:
        raise ApplicationError("reason_required", _("Give the reasons for refusing the extension."))
    application = request.application
    with transaction.atomic():
        locked = _lock_under_review(application)
        now = timezone.now()
        status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REFUSED
        changed = ExtensionRequest.objects.filter(pk=request.pk, status=ExtensionRequest.Status.PENDING).update(
            status=status, decided_by=actor, decided_at=now, decision_comment=text
        )
        if changed != 1:
            raise ApplicationError("extension_decided", _("This extension request was already decided."))
        lead = application.item_version.lead_department
        if approve:
            _extension_within_cap(locked, request.days)
            Application.objects.filter(pk=application.pk).update(extension_days=F("extension_days") + request.days)
            application.extension_days = locked.extension_days + request.days
            _clock(
                application,
                ClockEvent.Kind.EXTENDED,
                actor=request.requested_by,
                days=request.days,
                approver=actor,
                comment=request.reason,
            )
            _event(
                application,
                actor=actor,
                action="extended",
                department=lead,
                comment=request.reason,
                data={"days": request.days, "request": request.pk, "requested_by": request.requested_by_id},
            )
            application_clock_refresh(application)
            # the decision step is held to the case's deadline: it moves with it
            Step.objects.filter(application=application, kind=Step.Kind.DECIDE, closed_at__isnull=True).update(
                due_on=application.deadline, due_provisional=application.deadline_provisional
            )
            notices.applicant_tell_latest(application, "extended")
        else:
            _event(
                application,
                actor=actor,
                action="extension_refused",
                department=lead,
                comment=text,
                data={"days": request.days, "request": request.pk},
            )
        request.status, request.decided_by, request.decided_at, request.decision_comment = status, actor, now, text
        staff_notices.requester_tell_extension_decided(request)
    return request


# --- review and decision -------------------------------------------------------------------------


def review_opinion_record(
    *, actor: User, application: Application, department: Department, outcome: str, reasons: str
) -> ReviewOpinion:
    """A co-review department's opinion. 不同意 without reasons is recorded as deemed consent
    against the department. Errors: ``permission_denied``, ``outcome_invalid``,
    ``opinion_exists``, ``application_state_changed``."""
    if not permissions.user_may_review(user=actor, department=department):
        raise ApplicationError("permission_denied", _("You may not review for this department."))
    if outcome not in (
        ReviewOpinion.Outcome.AGREE,
        ReviewOpinion.Outcome.DISAGREE,
        ReviewOpinion.Outcome.AGREE_FORWARD,
    ):
        raise ApplicationError("outcome_invalid", _("Choose agree, disagree or agree to be forwarded."))
    text = (reasons or "").strip()
    deemed_because = ""
    if outcome == ReviewOpinion.Outcome.DISAGREE and not text:
        outcome, deemed_because = ReviewOpinion.Outcome.DEEMED_CONSENT, ReviewOpinion.DeemedBecause.NO_REASONS
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.IN_REVIEW:
            raise ApplicationError("application_state_changed", _("The application is not in review."))
        try:
            with transaction.atomic():
                opinion = ReviewOpinion.objects.create(
                    application=application,
                    department=department,
                    outcome=outcome,
                    reasons=text,
                    reviewer=actor,
                    deemed_because=deemed_because,
                )
        except IntegrityError:
            raise ApplicationError("opinion_exists", _("This department has already given its opinion.")) from None
        _event(
            application,
            actor=actor,
            action="opinion_deemed" if deemed_because else "opinion_given",
            department=department,
            comment=text,
            data={"outcome": outcome},
        )
    return opinion


def review_opinion_deem(*, application: Application, department: Department) -> ReviewOpinion | None:
    """The department missed its step deadline: deemed consent against it (run by the flow's timer).
    Returns ``None`` if it answered meanwhile."""
    with transaction.atomic():
        Application.objects.select_for_update().get(pk=application.pk)
        if ReviewOpinion.objects.filter(application=application, department=department).exists():
            return None
        opinion = ReviewOpinion.objects.create(
            application=application,
            department=department,
            outcome=ReviewOpinion.Outcome.DEEMED_CONSENT,
            deemed_because=ReviewOpinion.DeemedBecause.TIMEOUT,
        )
        _event(
            application,
            actor=None,
            action="opinion_deemed",
            department=department,
            comment=str(_("No opinion by the step deadline: deemed consent recorded against the department.")),
            data={"outcome": ReviewOpinion.Outcome.DEEMED_CONSENT},
        )
    return opinion


def application_reviews_complete(*, application: Application) -> Application:
    """All opinions are in (or there was no co-review): the lead department decides."""
    with transaction.atomic():
        _transition(
            application,
            allowed_from=[Status.IN_REVIEW],
            to_status=Status.AWAITING_DECISION,
            actor=None,
            action="reviews_complete",
            department=application.item_version.lead_department,
        )
    return application


def _opinion_snapshot(application: Application) -> list[dict[str, Any]]:
    return [
        {
            "department": opinion.department.code,
            "department_name": opinion.department.name,
            "outcome": opinion.outcome,
            "reasons": opinion.reasons,
            "deemed_because": opinion.deemed_because,
            "reviewer": opinion.reviewer.username if opinion.reviewer else None,
        }
        for opinion in application.opinions.select_related("department", "reviewer").order_by("department__code")
    ]


def application_decide(
    *, actor: User, application: Application, outcome: str, reasons: str, override_justification: str = ""
) -> Decision:
    """The lead department decides after all opinions are in. Approval over a reasoned 不同意
    needs its own justification; approval issues the e-certificate in the same transaction.

    Errors: ``permission_denied``, ``outcome_invalid``, ``reasons_required``,
    ``override_justification_required``, ``application_state_changed``."""
    lead = application.item_version.lead_department
    if not permissions.user_may_decide(user=actor, department=lead):
        raise ApplicationError("permission_denied", _("Only a decision maker of the lead department decides."))
    if outcome not in Decision.Outcome.values:
        raise ApplicationError("outcome_invalid", _("Choose approve or refuse."))
    text = (reasons or "").strip()
    if outcome == Decision.Outcome.REFUSED and not text:
        raise ApplicationError("reasons_required", _("A refusal needs reasons."))
    objections = application.opinions.filter(outcome=ReviewOpinion.Outcome.DISAGREE)
    justification = (override_justification or "").strip()
    if outcome == Decision.Outcome.APPROVED and objections.exists() and not justification:
        raise ApplicationError(
            "override_justification_required",
            _("A department disagreed with reasons; explain why the application is approved nonetheless."),
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.clock_suspended:
            raise ApplicationError("clock_suspended", _("The clock is suspended; resume it before deciding."))
        to_status = Status.APPROVED if outcome == Decision.Outcome.APPROVED else Status.REFUSED
        _transition(
            application,
            allowed_from=[Status.AWAITING_DECISION],
            to_status=to_status,
            actor=actor,
            action="decided",
            comment=text,
            department=lead,
            data={"outcome": outcome},
            decided_at=timezone.now(),
        )
        decision = Decision.objects.create(
            application=application,
            outcome=outcome,
            reasons=text,
            override_justification=justification,
            decider=actor,
            opinions=_opinion_snapshot(application),
        )
        _clock(application, ClockEvent.Kind.STOPPED, actor=actor)
        certificate = certificate_issue(application=application) if outcome == Decision.Outcome.APPROVED else None
        webhook_events.decided(application, decision, certificate)
    return decision


def application_withdraw(*, actor: User, application: Application, reason: str) -> Application:
    """The applicant withdraws before the decision. The caller cancels the workflow in the same
    transaction. Errors: ``not_found``, ``application_state_changed``."""
    _require_member(actor, application)
    with transaction.atomic():
        _transition(
            application,
            allowed_from=list(Application.OPEN_STATUSES),
            to_status=Status.WITHDRAWN,
            actor=actor,
            action="withdrawn",
            comment=reason.strip(),
            withdrawn_at=timezone.now(),
        )
        if application.accepted_on is not None:
            _clock(application, ClockEvent.Kind.STOPPED, actor=actor)
    return application


# --- e-certificates ------------------------------------------------------------------------------


def certificate_number(*, item_code: str, issuer_code: str, serial: str) -> str:
    """``<item>-<issuer>-<serial>-<check>``: an identifier in the spirit of GB/T 36904, whose last
    character is an ISO 7064 MOD 37,36 check character over the rest (letters and digits only)."""
    from stdnum.iso7064 import mod_37_36

    body = f"{item_code}{issuer_code}{serial}".upper()
    cleaned = "".join(ch for ch in body if ch.isalnum())
    return f"{item_code}-{issuer_code}-{serial}-{mod_37_36.calc_check_digit(cleaned)}"


def certificate_issue(*, application: Application) -> Certificate:
    """Issue the e-certificate of an approved application (inside the decision's transaction)."""
    version = application.item_version
    issuer = version.lead_department
    today = _today()
    serial = reference_next(prefix=f"ZZ{today.year}").split("-")[-1]
    enterprise: Enterprise = application.enterprise
    certificate = Certificate.objects.create(
        number=certificate_number(item_code=version.item.code, issuer_code=issuer.code, serial=f"{today.year}{serial}"),
        verification_code=secrets.token_urlsafe(12),
        application=application,
        enterprise=enterprise,
        item_version=version,
        certificate_type=version.certificate_name or version.name,
        holder_name=enterprise.name,
        holder_code=enterprise.uscc,
        issuer=issuer,
        valid_from=today,
        valid_until=dates.add_months(today, version.certificate_validity_months)
        if version.certificate_validity_months
        else None,
    )
    _event(application, actor=None, action="certificate_issued", data={"number": certificate.number})
    return certificate


def certificate_revoke(*, actor: User | None, certificate: Certificate, reason: str) -> Certificate:
    """Revoke a certificate with a reason shown on the public verification page. ``actor`` is
    ``None`` for the system (later issues revoke on a false commitment). Errors:
    ``permission_denied``, ``reason_required``, ``certificate_already_revoked``."""
    if actor is not None and not permissions.user_may_decide(user=actor, department=certificate.issuer):
        raise ApplicationError("permission_denied", _("Only the issuing department may revoke this certificate."))
    text = _require_text(reason, "reason_required", _("Give the reason for the revocation."))
    with transaction.atomic():
        changed = Certificate.objects.filter(pk=certificate.pk, status=Certificate.Status.VALID).update(
            status=Certificate.Status.REVOKED, revoked_at=timezone.now(), revoked_by=actor, revocation_reason=text
        )
        if changed != 1:
            raise ApplicationError("certificate_already_revoked", _("This certificate is already revoked."))
        _event(
            certificate.application,
            actor=actor,
            action="certificate_revoked",
            comment=text,
            data={"number": certificate.number},
        )
        certificate.refresh_from_db()
        webhook_events.certificate_revoked(certificate)
    return certificate
