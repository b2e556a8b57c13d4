"""The commitment route and inspections, moved together with the CommitmentApprovalFlow: one
transaction under the process lock per action (see ``workflows.actions.applications`` for the pattern)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals.models import Application, Commitment, Inspection, InspectionTask
from approvals.supervision import services
from core.exceptions import DomainError
from core.models import User
from workflows.commitment_flows import CommitmentApprovalFlow


def commitment_sign_and_start(
    *, actor: User, application: Application, signer_name: str, confirmed: bool, shown_sha256: str
) -> Commitment:
    """Check eligibility (recorded in its own transaction, so a refusal is on record too), then
    sign, approve, issue the certificate and open the verification — all or nothing.
    Errors: those of ``commitment_eligibility``, ``application_commit`` and
    ``verification_task_open``."""
    decision = services.commitment_eligibility(actor=actor, application=application)
    if not decision.eligible:
        raise services.SupervisionError(
            "commitment_not_eligible",
            _("The enterprise may not use the commitment route; use the standard route."),
            decision=decision.pk,
        )
    with transaction.atomic():
        commitment = services.application_commit(
            actor=actor,
            application=application,
            decision=decision,
            signer_name=signer_name,
            confirmed=confirmed,
            shown_sha256=shown_sha256,
        )
        CommitmentApprovalFlow.start.run(application=application)
    application.refresh_from_db()
    return commitment


def inspection_record_and_route(*, actor: User, task: InspectionTask, **fields: Any) -> Inspection:
    """Record an inspection; when the task belongs to a commitment case, complete its flow task in
    the same transaction (claimed for the recording inspector on the way) so the case moves on.
    A correction never moves the flow."""
    if task.flow_task_id is None or fields.get("corrects") is not None:
        return services.inspection_record(actor=actor, task=task, **fields)
    flow_task = Task.objects.get(pk=task.flow_task_id)
    with flow_task.activation() as activation, transaction.atomic(savepoint=False):
        current = activation.task
        if current.status not in (STATUS.NEW, STATUS.ASSIGNED):
            raise DomainError("task_closed", _("This inspection task is closed."))
        if current.status == STATUS.NEW:
            if not activation.flow_task.can_assign(actor, current):
                raise DomainError("permission_denied", _("Only the two assigned inspectors record this inspection."))
            activation.assign(actor)
        elif current.owner_id != actor.pk:
            activation.reassign(user=actor)
        inspection = services.inspection_record(actor=actor, task=task, **fields)
        task.refresh_from_db()
        process = activation.process
        process.data = dict(process.data or {})
        process.data["outcome"] = "rectify" if task.status == InspectionTask.Status.RECTIFYING else task.outcome
        process.save(update_fields=["data"])
        activation.start(None)
        activation.execute()
    return inspection
