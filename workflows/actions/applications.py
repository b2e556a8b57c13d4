"""Moving the flow together with the service call, in one transaction under the process lock.

The lock (``SelectForUpdateLock``) opens the transaction; ``atomic(savepoint=False)`` inside it
joins that transaction instead of adding a savepoint per call.

Views, the demo seed, the benchmark and the tests all go through these functions, so that a step
taken anywhere is the same step: claim, complete (service + ``activation.execute()`` + the
automatic nodes that follow), release, reassign; submit and start; answer and route; withdraw and
cancel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals import permissions
from approvals.applications import services
from approvals.models import Application, Step, SupplementNotice
from core.exceptions import DomainError
from core.models import User
from workflows.flows import StandardApprovalFlow
from workflows.models import ApplicationProcess
from workflows.nodes import task_department

ACTIVE = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def process_of(application: Application) -> ApplicationProcess:
    process = ApplicationProcess.objects.filter(
        artifact_object_id=application.pk, flow_class=StandardApprovalFlow
    ).first()
    if process is None:
        raise DomainError("process_missing", _("This application has no running procedure."))
    return process


def open_tasks(application: Application) -> list[Task]:
    """The open human tasks of the application's procedure, oldest first."""
    return list(
        Task.objects.filter(
            process__artifact_object_id=application.pk,
            process__flow_class=StandardApprovalFlow,
            status__in=ACTIVE,
            flow_task_type="HUMAN",
        ).order_by("pk")
    )


def task_claim(*, actor: User, task: Task) -> Task:
    """Errors: ``task_not_claimable``."""
    with task.activation() as activation, transaction.atomic(savepoint=False):
        if not (activation.task.status == STATUS.NEW and activation.flow_task.can_assign(actor, activation.task)):
            raise DomainError("task_not_claimable", _("This task was claimed by someone else or is closed."))
        activation.assign(actor)
        step = Step.objects.filter(task_id=task.pk).select_related("application", "department").first()
        if step is not None:
            services.step_claim(step=step, actor=actor)
    return activation.task


def task_release(*, actor: User, task: Task) -> Task:
    """Errors: ``task_not_yours``."""
    with task.activation() as activation, transaction.atomic(savepoint=False):
        if not (
            activation.task.status == STATUS.ASSIGNED and activation.flow_task.can_unassign(actor, activation.task)
        ):
            raise DomainError("task_not_yours", _("Only the person who claimed a task can release it."))
        activation.unassign()
        step = Step.objects.filter(task_id=task.pk).select_related("application", "department").first()
        if step is not None:
            services.step_release(step=step, actor=actor)
    return activation.task


def task_reassign(*, actor: User, task: Task, colleague: User) -> Task:
    """Hand a claimed task to a colleague who may work it. Errors: ``task_not_yours``,
    ``colleague_not_eligible``."""
    with task.activation() as activation, transaction.atomic(savepoint=False):
        if not (
            activation.task.status == STATUS.ASSIGNED and activation.flow_task.can_unassign(actor, activation.task)
        ):
            raise DomainError("task_not_yours", _("Only the person who claimed a task can hand it over."))
        if not permissions.user_may_act_for_department(
            user=colleague, perm=activation.task.owner_permission, department=task_department(activation.task)
        ):
            raise DomainError("colleague_not_eligible", _("That colleague may not work this department's tasks."))
        activation.reassign(user=colleague)
        step = Step.objects.filter(task_id=task.pk).select_related("application", "department").first()
        if step is not None:
            services.step_hand_over(step=step, actor=actor, colleague=colleague)
    return activation.task


def task_complete(*, actor: User, task: Task, perform: Callable[[Application, Task], str]) -> str:
    """Complete a claimed task: ``perform`` runs the service; then the flow moves on. All or nothing.
    Errors: ``task_not_yours``, ``permission_denied`` and the service's own."""
    with task.activation() as activation, transaction.atomic(savepoint=False):
        if activation.task.status != STATUS.ASSIGNED or activation.task.owner_id != actor.pk:
            raise DomainError("task_not_yours", _("Claim this task before completing it."))
        if not activation.flow_task.can_execute(actor, activation.task):
            raise DomainError("permission_denied", _("You may not complete this task."))
        # The process object is shared by every node the completion runs, so the application
        # loaded here is the one the switch, the join and the callbacks see (one read, not five).
        application = activation.process.application
        activation.start(None)
        outcome = perform(application, activation.task)
        activation.execute()
        services.step_close(task_id=activation.task.pk, outcome=outcome)
    return outcome


def accept_complete(
    *, actor: User, task: Task, decision: str, material_ids: Sequence[int] = (), other: str = "", text: str = ""
) -> str:
    def perform(application: Application, _task: Task) -> str:
        if decision == "accept":
            services.application_accept(actor=actor, application=application, comment=text)
        elif decision == "supplement":
            services.application_supplement_before_acceptance(
                actor=actor, application=application, material_ids=material_ids, other=other, message=text
            )
        elif decision == "not_accept":
            services.application_not_accept(actor=actor, application=application, reasons=text)
        else:
            raise DomainError("decision_invalid", _("Choose accept, supplement notice or not accepted."))
        return decision

    return task_complete(actor=actor, task=task, perform=perform)


def review_complete(*, actor: User, task: Task, outcome: str, reasons: str = "") -> str:
    def perform(application: Application, current: Task) -> str:
        opinion = services.review_opinion_record(
            actor=actor, application=application, department=task_department(current), outcome=outcome, reasons=reasons
        )
        return opinion.outcome

    return task_complete(actor=actor, task=task, perform=perform)


def decide_complete(
    *, actor: User, task: Task, outcome: str, reasons: str = "", override_justification: str = ""
) -> str:
    def perform(application: Application, _task: Task) -> str:
        decision = services.application_decide(
            actor=actor,
            application=application,
            outcome=outcome,
            reasons=reasons,
            override_justification=override_justification,
        )
        return decision.outcome

    return task_complete(actor=actor, task=task, perform=perform)


def application_file(
    *,
    actor: User,
    enterprise_id: int,
    item_version_id: int,
    form_data: dict[str, Any],
    idempotency_key: Any,
    uploads: Sequence[tuple[int, UploadedFile]],
    submit: bool,
) -> Application:
    """The filing form's one step, all or nothing: save the draft (created once per idempotency
    key), store the uploaded materials (``(required material, file)`` pairs) while it is a draft,
    and, when ``submit``, submit and start the procedure. Errors: those of the three services
    (``application_not_draft`` for a retry of a submission that went through)."""
    with transaction.atomic():
        application = services.application_draft_save(
            actor=actor,
            enterprise_id=enterprise_id,
            item_version_id=item_version_id,
            form_data=form_data,
            idempotency_key=idempotency_key,
        )
        if application.status == Application.Status.DRAFT:
            for material_id, upload in uploads:
                services.application_material_attach(
                    actor=actor, application=application, required_material_id=material_id, upload=upload
                )
        if submit:
            application_submit_and_start(actor=actor, application=application)
    return application


def application_submit_and_start(*, actor: User, application: Application) -> Application:
    """Submit and start the procedure in one transaction: a failure leaves a draft and no process;
    a retry of a submission that went through changes nothing."""
    with transaction.atomic():
        was_draft = Application.objects.select_for_update().get(pk=application.pk).status == Application.Status.DRAFT
        services.application_submit(actor=actor, application=application)
        if was_draft:
            StandardApprovalFlow.start.run(application=application)
    application.refresh_from_db()
    return application


def supplement_answer_and_route(
    *,
    actor: User,
    application: Application,
    notice: SupplementNotice,
    answer: str,
    uploads: Sequence[tuple[int | None, UploadedFile]],
) -> SupplementNotice:
    """The applicant answers; before acceptance the procedure returns to the window."""
    process = process_of(application)
    with transaction.atomic(), StandardApprovalFlow.lock(process.pk):
        services.application_supplement_answer(
            actor=actor, application=application, notice=notice, answer=answer, uploads=uploads
        )
        if notice.stage == SupplementNotice.Stage.BEFORE_ACCEPTANCE:
            waiting = Task.objects.filter(
                process=process, flow_task=StandardApprovalFlow.wait_supplement, status=STATUS.NEW
            ).first()
            if waiting is not None:
                StandardApprovalFlow.wait_supplement.run(waiting)
    notice.refresh_from_db()
    return notice


def application_withdraw_and_cancel(*, actor: User, application: Application, reason: str) -> Application:
    """Withdraw and cancel the procedure with its open tasks and timers, in one transaction."""
    process = process_of(application)
    with transaction.atomic(), StandardApprovalFlow.lock(process.pk):
        services.application_withdraw(actor=actor, application=application, reason=reason)
        for task in Task.objects.filter(process=process, status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.SCHEDULED]):
            activation: Any = task.flow_task.activation_class(task)
            activation.cancel()
            services.step_close(task_id=task.pk, outcome="withdrawn")
        process.status = "CANCELED"
        process.finished = timezone.now()
        process.save(update_fields=["status", "finished"])
    application.refresh_from_db()
    return application
