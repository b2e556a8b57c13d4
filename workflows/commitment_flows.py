"""CommitmentApprovalFlow: approve on a signed commitment, then supervise (告知承诺, 批管衔接).

    start (the commitment signed; approval and certificate already issued in that transaction)
      → verify (the inspector pair of the supervising department, due within the item's window)
      → passed | revoked (false commitment) | reinspect after a rectification order
    reinspect (due a few working days after the rectification deadline;
               a non-interrupting timer at the deadline appends the missed-deadline credit entry)
      → passed (rectified) | revoked (rectification failed)

The flow routes; every rule (who records, what a result does to the certificate and the credit
ledger) lives in ``approvals.supervision.services``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from approvals import permissions
from approvals.applications import services as application_services
from approvals.models import Application, InspectionTask, RectificationOrder
from approvals.supervision import services
from workflows.models import ApplicationProcess
from workflows.nodes import screen


class InspectionNode(flow.View):
    """A human task of the supervising department that only the task's inspector pair may take.
    On creation it opens the verification (``reinspection=False``) or moves the existing
    inspection task on to this flow task (the re-inspection)."""

    def __init__(self, view: Any, *, reinspection: bool, **kwargs: Any) -> None:
        super().__init__(view, **kwargs)
        self._reinspection = reinspection
        self.Permission(permissions.INSPECT)

    def calc_owner_permission_obj(self, activation: Any) -> Any:
        return activation.process.application.item_version.supervising_department

    def _create(self, prev_activation: Any, token: Any, data: Any = None, seed: Any = None) -> Any:
        activation = self.activation_class.create(self, prev_activation, token, data=data, seed=seed)
        application = activation.process.application
        if self._reinspection:
            InspectionTask.objects.filter(application=application, kind=InspectionTask.Kind.VERIFICATION).update(
                flow_task_id=activation.task.pk
            )
        else:
            services.verification_task_open(application=application, flow_task_id=activation.task.pk)
        for boundary_event in self._boundary_events:
            boundary_event._arm(activation)
        return activation

    def _inspection_task(self, task: Any) -> InspectionTask | None:
        return InspectionTask.objects.filter(flow_task_id=task.pk).select_related("department").first()

    def can_assign(self, user: Any, task: Any) -> bool:
        inspection = self._inspection_task(task)
        return (
            task.owner_id is None
            and inspection is not None
            and user.is_authenticated
            and permissions.user_may_record(user=user, task=inspection)
        )

    def can_unassign(self, user: Any, task: Any) -> bool:
        return task.owner_id is not None and task.owner_id == user.pk

    def can_execute(self, user: Any, task: Any) -> bool:
        inspection = self._inspection_task(task)
        return (
            task.owner_id == user.pk
            and inspection is not None
            and permissions.user_may_record(user=user, task=inspection)
        )


def rectification_timeout(activation: Any) -> Any:
    """The rectification deadline of the case: the end of the deadline day."""
    application = activation.process.application
    order = RectificationOrder.objects.filter(task__application=application, status="open").order_by("-id").first()
    return application_services.due_moment(order.deadline if order else None)


class CommitmentApprovalFlow(flow.Flow):
    process_class = ApplicationProcess
    lock_impl = lock.SelectForUpdateLock(nowait=False)
    process_title = _("Commitment approval (告知承诺)")
    process_description = _("Approval on a signed commitment, then verification by an inspector pair.")

    start = flow.StartHandle(this.start_process).Next(this.verify)
    verify = (
        InspectionNode(screen("web.staff.task_pages.OpenInspectionPage"), reinspection=False)
        .Annotation(title=_("Verify the commitment"))
        .Next(this.after_verify)
    )
    after_verify = (
        flow.Switch()
        .Case(this.reinspect, lambda act: act.process.data.get("outcome") == "rectify")
        .Case(this.revoked, lambda act: act.process.data.get("outcome") == InspectionTask.Outcome.REVOKED)
        .Default(this.passed)
    )
    reinspect = (
        InspectionNode(screen("web.staff.task_pages.OpenInspectionPage"), reinspection=True)
        .Annotation(title=_("Re-inspect after rectification"))
        .OnTimeout(
            rectification_timeout,
            this.deadline_missed,
            interrupting=False,
            title=_("Rectification deadline"),
        )
        .Next(this.after_reinspect)
    )
    deadline_missed = flow.Function(this.record_deadline_missed).Next(this.deadline_noted)
    deadline_noted = flow.End()
    after_reinspect = (
        flow.If(lambda act: act.process.data.get("outcome") == InspectionTask.Outcome.RECTIFIED)
        .Then(this.passed)
        .Else(this.revoked)
    )
    passed = flow.End()
    revoked = flow.End()

    def start_process(self, activation: Any, application: Application) -> Any:
        from django.contrib.contenttypes.models import ContentType

        activation.process.artifact_content_type = ContentType.objects.get_for_model(Application)
        activation.process.artifact_object_id = application.pk
        activation.process.save()
        return activation.process

    def record_deadline_missed(self, activation: Any) -> None:
        application = activation.process.application
        for order in RectificationOrder.objects.filter(task__application=application, status="open"):
            services.rectification_deadline_pass(order=order)
