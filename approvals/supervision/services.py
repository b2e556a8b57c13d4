"""Approve, then supervise (告知承诺, 批管衔接): the commitment route, verification and inspection
records, rectification orders. Random-inspection campaigns are in ``approvals.supervision.campaigns``.

Credit facts that follow from supervision (a commitment fulfilled, a false commitment, a missed
rectification deadline) are appended to the credit ledger through ``credit`` services, so credit
rules never read these tables.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import permissions
from approvals.applications import fast_track, webhook_events
from approvals.applications import services as application_services
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import (
    Application,
    ApprovalItemVersion,
    Certificate,
    Commitment,
    Decision,
    Inspection,
    InspectionAttachment,
    InspectionTask,
    RectificationOrder,
)
from approvals.supervision import draw
from approvals.supervision.selectors import checklist_of, inspectors_of, recusals_for
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from core.uploads import upload_store_name
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditEntryKind, SourceType
from credit.models import Enterprise
from credit.policies import services as credit_policies

Status = Application.Status
Mode = ApprovalItemVersion.ReformMode
Result = Inspection.Result

# The label mixed into the inspector ordering of a commitment verification (the seed is the
# application's reference number), so the pair is reproducible like a campaign draw.
VERIFICATION_DRAW_LABEL = "verification"
REINSPECTION_DAYS = 5
# The longest rectification period an inspection may order (calendar days): a longer one is a typo.
MAX_RECTIFICATION_DAYS = 366


class SupervisionError(DomainError):
    pass


def _today() -> datetime.date:
    return timezone.localdate()


def _normalise_name(value: str) -> str:
    return "".join((value or "").split())


# --- who inspects ----------------------------------------------------------------------------------


def verification_pair(*, application: Application) -> tuple[User, User]:
    """The inspector pair of a commitment verification: the supervising department's inspectors
    ordered as in a campaign draw (seed = the reference number), recused people skipped.
    Errors: ``too_few_inspectors``."""
    department = application.item_version.supervising_department
    assert department is not None
    inspectors = {user.username: user for user in inspectors_of(department=department)}
    enterprise = application.enterprise
    recused = set(recusals_for(enterprise_ids=[enterprise.pk])[enterprise.pk])
    try:
        first, second = draw.inspector_pair(
            seed=application.reference or str(application.pk),
            campaign_code=VERIFICATION_DRAW_LABEL,
            uscc=enterprise.uscc,
            inspectors=sorted(inspectors),
            recused=recused,
        )
    except draw.DrawError as error:
        raise SupervisionError(
            "too_few_inspectors",
            _("%(department)s has fewer than two inspectors who may verify this enterprise.")
            % {"department": department.name},
        ) from error
    return inspectors[first], inspectors[second]


# --- the commitment route --------------------------------------------------------------------------


def commitment_available(version: ApprovalItemVersion) -> bool:
    return version.reform_mode == Mode.COMMITMENT and version.status == ApprovalItemVersion.Status.PUBLISHED


def commitment_eligibility(*, actor: User, application: Application) -> Any:
    """Check (and record, in its own transaction) whether the enterprise may use the commitment
    route for this item: grade ≥ the item's lowest grade, no active serious entry, no false
    commitment unless repaired. Returns the credit ``EligibilityDecision``.
    Errors: ``not_found``, ``commitment_not_offered``."""
    application_services._require_member(actor, application)
    version = application.item_version
    if not commitment_available(version):
        raise SupervisionError("commitment_not_offered", _("This item has no commitment route."))
    return credit_policies.commitment_eligibility_check(
        actor=actor,
        enterprise=application.enterprise,
        min_grade=version.commitment_min_grade,
        source_type=SourceType.APPLICATION,
        source_id=f"application:{application.pk}",
    )


def commitment_notice_text(*, application: Application) -> str:
    """The exact notification the applicant reads and signs (告知承诺书). Built from the item
    version (its notification is versioned with it) and the enterprise; its SHA-256 is stored with
    the signature."""
    version = application.item_version
    enterprise = application.enterprise
    department = version.supervising_department
    lines = [
        _("Notification and commitment (告知承诺书)"),
        _("Item: %(code)s %(name)s, version %(version)s")
        % {
            "code": version.item.code,
            "name": version.name,
            "version": version.number,
        },
        _("Applicant: %(name)s (%(uscc)s), legal representative %(rep)s")
        % {"name": enterprise.name, "uscc": enterprise.uscc, "rep": enterprise.legal_representative},
        "",
        version.commitment_notice.strip(),
        "",
        _("Proofs waived: %(proofs)s") % {"proofs": version.proofs_waived.strip() or "—"},
        _("Verification: %(method)s, within %(days)s working days of approval, by %(department)s")
        % {
            "method": version.verification_method or _("on-site inspection"),
            "days": version.verification_window_days,
            "department": department.name if department else "—",
        },
        _(
            "Liability: a false commitment revokes the approval and its certificate, is recorded as a serious "
            "entry in the enterprise credit ledger, and closes the commitment route until the entry is repaired."
        ),
    ]
    return "\n".join(lines)


def notice_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# A signature must follow the eligibility check it relies on closely (the page checks, then signs).
ELIGIBILITY_FRESH_FOR = datetime.timedelta(minutes=5)


def _decision_min_grade(decision: Any) -> str:
    for condition in (decision.rule_snapshot or {}).get("conditions", []):
        if condition.get("type") == "min_grade":
            return str(condition.get("grade", ""))
    return ""


def _is_legal_representative(actor: User, enterprise_id: int) -> bool:
    from credit.enterprises import selectors as credit_selectors
    from credit.models import Membership

    return (
        credit_selectors.memberships_active(user=actor)
        .filter(enterprise_id=enterprise_id, role=Membership.Role.LEGAL_REPRESENTATIVE)
        .exists()
    )


def missing_materials_on_commitment(application: Application) -> list[Any]:
    blocking = fast_track.materials_blocking(application, privileges=fast_track.NO_PRIVILEGES)
    return [material for material in blocking if not material.replaced_by_commitment]


def application_commit(
    *,
    actor: User,
    application: Application,
    decision: Any,
    signer_name: str,
    confirmed: bool,
    shown_sha256: str,
) -> Commitment:
    """Sign the commitment and approve on the spot: reference number, approval, decision and
    certificate in one transaction (the caller starts the verification flow in the same one).

    ``decision`` is the eligibility decision recorded just before (``commitment_eligibility``).
    The typed name must be the legal representative's; ``shown_sha256`` is the hash of the text
    the applicant read, which must still be the current text.

    Errors: ``not_found``, ``commitment_not_offered``, ``commitment_not_eligible``,
    ``confirmation_required``, ``signer_mismatch``, ``notice_changed``, ``material_missing``,
    ``application_state_changed``."""
    application_services._require_member(actor, application)
    version = application.item_version
    if not commitment_available(version):
        raise SupervisionError("commitment_not_offered", _("This item has no commitment route."))
    if (
        decision is None
        or not decision.eligible
        or decision.enterprise_id != application.enterprise_id
        or decision.source_id != f"application:{application.pk}"
        or decision.purpose != "commitment_route"
        or _decision_min_grade(decision) != version.commitment_min_grade
        or timezone.now() - decision.created_at > ELIGIBILITY_FRESH_FOR
    ):
        raise SupervisionError(
            "commitment_not_eligible", _("The enterprise may not use the commitment route; use the standard route.")
        )
    if not _is_legal_representative(actor, application.enterprise_id):
        raise SupervisionError(
            "signer_not_legal_representative",
            _("Only the legal representative signs a commitment: the liability is the enterprise's."),
        )
    if not confirmed:
        raise SupervisionError("confirmation_required", _("Confirm that you have read and accept the commitment."))
    enterprise: Enterprise = application.enterprise
    if not signer_name.strip() or _normalise_name(signer_name) != _normalise_name(enterprise.legal_representative):
        raise SupervisionError(
            "signer_mismatch", _("Type the legal representative's name exactly as registered to sign.")
        )
    text = commitment_notice_text(application=application)
    digest = notice_sha256(text)
    if shown_sha256 != digest:
        raise SupervisionError("notice_changed", _("The notification changed since you opened it; read it again."))
    missing = missing_materials_on_commitment(application)
    if missing:
        raise SupervisionError(
            "material_missing",
            _("Mandatory materials are missing: %(names)s.") % {"names": "、".join(m.name for m in missing)},
        )
    now = timezone.now()
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.DRAFT:
            raise SupervisionError("application_state_changed", _("This application was already submitted."))
        today = _today()
        reference = application_services.reference_next(prefix=f"SP{today.year}")
        application_services._transition(
            application,
            allowed_from=[Status.DRAFT],
            to_status=Status.APPROVED,
            actor=actor,
            action="commitment_signed",
            data={"notice_sha256": digest, "eligibility_decision": decision.pk},
            reference=reference,
            route=Application.Route.COMMITMENT,
            submitted_at=now,
            received_on=today,
            accepted_at=now,
            accepted_on=today,
            decided_at=now,
        )
        commitment = Commitment.objects.create(
            application=application,
            eligibility_decision=decision,
            notice_text=text,
            notice_sha256=digest,
            notice_item_version=version.number,
            signer_name=signer_name.strip(),
            legal_representative=enterprise.legal_representative,
            signed_by=actor,
        )
        approval = Decision.objects.create(
            application=application,
            outcome=Decision.Outcome.APPROVED,
            reasons=_("Approved on the signed commitment (告知承诺)."),
            decider=None,
            opinions=[],
        )
        certificate = application_services.certificate_issue(application=application)
        webhook_events.decided(application, approval, certificate)
    return commitment


def verification_task_open(*, application: Application, flow_task_id: int | None) -> InspectionTask:
    """The verification of a signed commitment, due within the item's verification window in
    working days, assigned to an inspector pair (called by the flow when its task is created).
    Errors: ``too_few_inspectors``."""
    version = application.item_version
    # A commitment-mode item names its supervising department (a check constraint on the version).
    assert version.supervising_department is not None
    first, second = verification_pair(application=application)
    due = clock.due_after(_today(), version.verification_window_days or 1, calendar=calendar_selectors.calendar_load())
    task = InspectionTask.objects.create(
        kind=InspectionTask.Kind.VERIFICATION,
        enterprise_id=application.enterprise_id,
        application=application,
        certificate=Certificate.objects.filter(application=application).first(),
        department=version.supervising_department,
        inspector_1=first,
        inspector_2=second,
        due_on=due.on,
        due_provisional=due.provisional,
        flow_task_id=flow_task_id,
    )
    application_services._event(
        application,
        actor=None,
        action="verification_opened",
        department=version.supervising_department,
        data={"inspectors": [first.username, second.username], "due_on": due.on.isoformat()},
    )
    return task


# --- inspections -----------------------------------------------------------------------------------


def _entry_kind(code: str) -> CreditEntryKind:
    return CreditEntryKind.objects.get(code=code, is_current=True)


def _credit_entry(task: InspectionTask, *, code: str, reason: str, source: str) -> int:
    entry = ledger_services.credit_entry_append(
        actor=None,
        enterprise=task.enterprise,
        kind=_entry_kind(code),
        occurred_at=timezone.now(),
        deciding_authority=task.department.name,
        reason=reason,
        source_type=SourceType.INSPECTION,
        source_id=source,
    )
    return entry.seq


def _results_allowed(task: InspectionTask, reinspection: bool) -> Sequence[str]:
    if reinspection:
        return (Result.PASS, Result.FAIL)
    if task.kind == InspectionTask.Kind.VERIFICATION:
        return (Result.PASS, Result.RECTIFY, Result.FALSE_COMMITMENT)
    return (Result.PASS, Result.RECTIFY, Result.FAIL)


def _lock_task(task: InspectionTask) -> InspectionTask:
    return InspectionTask.objects.select_for_update().get(pk=task.pk)


def inspection_record(
    *,
    actor: User,
    task: InspectionTask,
    inspected_on: datetime.date,
    checklist: dict[str, str],
    findings: str,
    result: str,
    attachments: Sequence[UploadedFile] = (),
    rectification_requirements: str = "",
    rectification_deadline: datetime.date | None = None,
    corrects: Inspection | None = None,
) -> Inspection:
    """Record an inspection (never edited afterwards) and apply its outcome.

    - verification pass → task closed, ``commitment_fulfilled`` credit entry;
    - random pass → task closed, ``inspection_passed`` credit entry;
    - rectify → a rectification order with a deadline, the task waits for the re-inspection;
    - false commitment, or a failed re-inspection of a commitment → certificate revoked (reason
      public), ``false_commitment`` serious entry (closes the commitment route until repaired);
    - random fail / failed re-inspection → task closed as failed.
    A correction (``corrects``) is a new record of the latest one with the same result; it changes
    details, never the outcome already applied.

    Errors: ``permission_denied``, ``task_closed``, ``result_invalid``, ``findings_required``,
    ``date_invalid``, ``checklist_incomplete``, ``rectification_deadline_invalid``,
    ``rectification_requirements_required``, ``correction_invalid``, ``material_*`` (attachments)."""
    if not permissions.user_may_record(user=actor, task=task):
        raise SupervisionError("permission_denied", _("Only the two assigned inspectors record this inspection."))
    text = (findings or "").strip()
    if not text:
        raise SupervisionError("findings_required", _("Describe the findings."))
    today = _today()
    if inspected_on > today or inspected_on < timezone.localdate(task.opened_at):
        raise SupervisionError("date_invalid", _("The inspection date lies between the task's opening and today."))
    lines = checklist_of(task)
    answers: list[dict[str, str]] = []
    for line in lines:
        answer = checklist.get(line, "")
        if answer not in ("ok", "not_ok", "na"):
            raise SupervisionError("checklist_incomplete", _("Answer every checklist item."))
        answers.append({"item": line, "answer": answer})
    checked = [application_services.material_check(upload) for upload in attachments]
    with transaction.atomic():
        locked = _lock_task(task)
        latest = locked.inspections.order_by("-recorded_at", "-id").first()
        if corrects is not None:
            if latest is None or corrects.pk != latest.pk or result != latest.result:
                raise SupervisionError(
                    "correction_invalid",
                    _("Only the latest record can be corrected, and a correction keeps its result."),
                )
            reinspection = latest.reinspection
        else:
            if locked.status == InspectionTask.Status.CLOSED:
                raise SupervisionError("task_closed", _("This inspection task is closed."))
            reinspection = locked.status == InspectionTask.Status.RECTIFYING
            if reinspection:
                ordered = (
                    locked.rectifications.order_by("-id").values_list("issued_by__inspected_on", flat=True).first()
                )
                if ordered is not None and inspected_on < ordered:
                    raise SupervisionError(
                        "date_invalid",
                        _("A re-inspection cannot predate the inspection that ordered the rectification."),
                    )
            if result not in _results_allowed(locked, reinspection):
                raise SupervisionError("result_invalid", _("Choose one of the offered results."))
            if result == Result.RECTIFY:
                if not (rectification_requirements or "").strip():
                    raise SupervisionError("rectification_requirements_required", _("Say what must be rectified."))
                if (
                    rectification_deadline is None
                    or rectification_deadline <= today
                    or rectification_deadline > today + datetime.timedelta(days=MAX_RECTIFICATION_DAYS)
                ):
                    raise SupervisionError(
                        "rectification_deadline_invalid",
                        _("The rectification deadline lies after today and within %(days)d days.")
                        % {"days": MAX_RECTIFICATION_DAYS},
                    )
        inspection = Inspection.objects.create(
            task=locked,
            reinspection=reinspection,
            inspected_on=inspected_on,
            inspector_1_id=locked.inspector_1_id,
            inspector_2_id=locked.inspector_2_id,
            checklist=answers,
            findings=text,
            result=result,
            corrects=corrects,
            recorded_by=actor,
        )
        for upload, check in zip(attachments, checked, strict=True):
            attachment = InspectionAttachment(
                inspection=inspection,
                original_name=check.original_name,
                content_type=check.content_type,
                size=check.size,
                sha256=check.sha256,
            )
            upload.seek(0)
            attachment.file.save(upload_store_name(check), upload, save=False)
            attachment.save()
        audit_event_record(
            actor=actor,
            action="inspection.recorded" if corrects is None else "inspection.corrected",
            obj=inspection,
            data={"task": locked.pk, "result": result, "reinspection": reinspection},
        )
        if corrects is None:
            _apply_outcome(
                actor=actor,
                task=locked,
                inspection=inspection,
                reinspection=reinspection,
                requirements=(rectification_requirements or "").strip(),
                deadline=rectification_deadline,
            )
    task.refresh_from_db()
    return inspection


def _close(task: InspectionTask, outcome: str) -> None:
    changed = (
        InspectionTask.objects.filter(pk=task.pk)
        .exclude(status=InspectionTask.Status.CLOSED)
        .update(status=InspectionTask.Status.CLOSED, outcome=outcome, closed_at=timezone.now())
    )
    if changed != 1:  # pragma: no cover - the row is locked by the caller
        raise SupervisionError("task_closed", _("This inspection task is closed."))


def _case_event(task: InspectionTask, *, actor: User | None, action: str, comment: str = "", **data: Any) -> None:
    if task.application_id is not None:
        application_services._event(
            task.application,  # type: ignore[arg-type]
            actor=actor,
            action=action,
            department=task.department,
            comment=comment,
            data=data,
        )


def _revoke_for_false_commitment(task: InspectionTask, *, actor: User, inspection: Inspection, why: str) -> None:
    certificate = task.certificate
    if certificate is not None and certificate.status == Certificate.Status.VALID:
        application_services.certificate_revoke(actor=None, certificate=certificate, reason=why)
    _credit_entry(
        task,
        code="false_commitment",
        reason=why,
        source=f"inspection:{inspection.pk}",
    )


def _apply_outcome(
    *,
    actor: User,
    task: InspectionTask,
    inspection: Inspection,
    reinspection: bool,
    requirements: str,
    deadline: datetime.date | None,
) -> None:
    verification = task.kind == InspectionTask.Kind.VERIFICATION
    result = inspection.result
    order = task.rectifications.filter(status__in=["open", "reported", "missed"]).first() if reinspection else None
    if result == Result.PASS and not reinspection:
        _close(task, InspectionTask.Outcome.PASSED)
        _credit_entry(
            task,
            code="commitment_fulfilled" if verification else "inspection_passed",
            reason=_("Verification passed: %(findings)s") % {"findings": inspection.findings}
            if verification
            else _("Random inspection passed: %(findings)s") % {"findings": inspection.findings},
            source=f"inspection:{inspection.pk}",
        )
        _case_event(task, actor=actor, action="verification_passed", comment=inspection.findings)
    elif result == Result.RECTIFY:
        assert deadline is not None
        order = RectificationOrder.objects.create(
            task=task, issued_by=inspection, requirements=requirements, deadline=deadline
        )
        # The re-inspection is due a few working days after the rectification deadline.
        InspectionTask.objects.filter(pk=task.pk).update(
            status=InspectionTask.Status.RECTIFYING, due_on=reinspection_due(order)
        )
        _case_event(
            task, actor=actor, action="rectification_ordered", comment=requirements, deadline=deadline.isoformat()
        )
    elif result == Result.PASS and reinspection:
        if order is not None:
            RectificationOrder.objects.filter(pk=order.pk).update(status="met", closed_at=timezone.now())
        _close(task, InspectionTask.Outcome.RECTIFIED)
        _case_event(task, actor=actor, action="rectification_met", comment=inspection.findings)
    elif verification:  # a false commitment, or a failed re-inspection of a commitment
        if order is not None:
            RectificationOrder.objects.filter(pk=order.pk).update(status="failed", closed_at=timezone.now())
        why = (
            _("False commitment found by verification: %(findings)s")
            if result == Result.FALSE_COMMITMENT
            else _("Rectification of the commitment failed: %(findings)s")
        ) % {"findings": inspection.findings}
        _revoke_for_false_commitment(task, actor=actor, inspection=inspection, why=why)
        _close(task, InspectionTask.Outcome.REVOKED)
        _case_event(task, actor=actor, action="commitment_revoked", comment=why)
    else:  # a random inspection that failed, first time or after rectification
        if order is not None:
            RectificationOrder.objects.filter(pk=order.pk).update(status="failed", closed_at=timezone.now())
        _close(task, InspectionTask.Outcome.FAILED)


def rectification_report(*, actor: User, order: RectificationOrder, report: str) -> RectificationOrder:
    """The enterprise reports the rectification done. After the deadline the report is still taken,
    but the missed deadline is recorded first (a ``rectification_overdue`` credit entry).
    Errors: ``not_found``, ``report_required``, ``rectification_not_open``."""
    from credit.enterprises import selectors as credit_selectors

    task = order.task
    if credit_selectors.enterprise_get_for_user(user=actor, pk=task.enterprise_id) is None:
        raise SupervisionError("not_found", _("No such rectification order."))
    text = (report or "").strip()
    if not text:
        raise SupervisionError("report_required", _("Describe what was rectified."))
    with transaction.atomic():
        # A report that arrives after the deadline does not undo the miss: the missed-deadline
        # entry is appended first (once), whether or not the sweep or the timer got there before.
        locked = RectificationOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status == "open" and _today() > locked.deadline:
            rectification_deadline_pass(order=locked)
        now = timezone.now()
        changed = RectificationOrder.objects.filter(pk=order.pk, status__in=["open", "missed"]).update(
            status="reported", reported_at=now, report=text
        )
        if changed != 1:
            raise SupervisionError("rectification_not_open", _("This rectification order is no longer open."))
        audit_event_record(actor=actor, action="rectification.reported", obj=order, data={"task": task.pk})
        _case_event(task, actor=actor, action="rectification_reported", comment=text)
    order.refresh_from_db()
    return order


def rectification_deadline_pass(*, order: RectificationOrder, today: datetime.date | None = None) -> int | None:
    """A deadline that passed with nothing reported appends a ``rectification_overdue`` credit
    entry (once) and marks the order missed; returns the entry's seq, or None when nothing was due."""
    moment = today or _today()
    with transaction.atomic():
        locked = RectificationOrder.objects.select_for_update().select_related("task").get(pk=order.pk)
        if locked.status != "open" or moment <= locked.deadline or locked.missed_entry_seq is not None:
            return None
        task = locked.task
        seq = _credit_entry(
            task,
            code="rectification_overdue",
            reason=_("Rectification ordered by %(date)s was not reported done: %(requirements)s")
            % {"date": locked.deadline.isoformat(), "requirements": locked.requirements},
            source=f"rectification:{locked.pk}",
        )
        RectificationOrder.objects.filter(pk=locked.pk).update(status="missed", missed_entry_seq=seq)
        audit_event_record(actor=None, action="rectification.missed", obj=locked, data={"entry": seq})
        _case_event(task, actor=None, action="rectification_missed", entry=seq)
    return seq


def rectification_deadlines_sweep(*, today: datetime.date | None = None) -> int:
    """Every open order whose deadline passed (campaign orders have no flow timer). Returns count."""
    moment = today or _today()
    count = 0
    for order in RectificationOrder.objects.filter(status="open", deadline__lt=moment, missed_entry_seq__isnull=True):
        if rectification_deadline_pass(order=order, today=moment) is not None:
            count += 1
    return count


def reinspection_due(order: RectificationOrder) -> datetime.date:
    return clock.due_after(order.deadline, REINSPECTION_DAYS, calendar=calendar_selectors.calendar_load()).on
