"""The order of steps. Flows route; every rule lives in ``approvals.organisation.services``.

StandardApprovalFlow (seed §34, linked approval):

    start → accept (window; timeout: deemed acceptance, art. 32)
          → [supplement notice → wait for the applicant → accept again] | [not accepted → end]
          → one review per co-review department of the item, in parallel (timeout: deemed consent)
          → join → decide (lead department) → end   (the certificate is issued by the decision)
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from approvals import permissions
from approvals.applications import services
from approvals.models import Application, Department, Step
from workflows.models import ApplicationProcess
from workflows.nodes import DepartmentTask, DynamicSplit, screen, step_timeout, timed_out_task

Status = Application.Status


def _desk(activation: Any) -> Department:
    return activation.process.application.item_version.desk_department


def _lead(activation: Any) -> Department:
    return activation.process.application.item_version.lead_department


def _review_department(activation: Any) -> Department:
    return Department.objects.get(pk=activation.task.data["department_id"])


class StandardApprovalFlow(flow.Flow):
    process_class = ApplicationProcess
    # Row lock on the process, waiting rather than NOWAIT-and-sleep: parallel reviews finishing
    # together must queue on the Join, not fail or stall (shared/notes/viewflow-2.4.md §6.3).
    lock_impl = lock.SelectForUpdateLock(nowait=False)
    process_title = _("Standard approval")
    process_description = _("Window acceptance, linked parallel review, decision and e-certificate.")

    start = flow.StartHandle(this.start_process).Next(this.accept)

    accept = (
        DepartmentTask(
            screen("web.staff.task_pages.OpenOnOurTaskPage"),
            step_kind=Step.Kind.ACCEPT,
            perm=permissions.ACCEPT,
            department=_desk,
        )
        .Annotation(title=_("Accept at the window"))
        .OnTimeout(step_timeout, this.deem_accepted, title=_("Deemed acceptance (art. 32)"))
        .Next(this.after_accept)
    )
    after_accept = (
        flow.Switch()
        .Case(this.wait_supplement, lambda act: act.process.application.status == Status.AWAITING_SUPPLEMENT)
        .Case(this.not_accepted, lambda act: act.process.application.status == Status.NOT_ACCEPTED)
        .Default(this.check_co_review)
    )
    wait_supplement = (
        flow.Handle(this.supplement_answered).Annotation(title=_("Applicant supplies material")).Next(this.accept)
    )
    deem_accepted = flow.Function(this.deem_acceptance).Next(this.check_co_review)

    check_co_review = flow.If(this.has_co_review).Then(this.fan_out).Else(this.reviews_complete)
    fan_out = DynamicSplit().Next(this.review, data_source=this.review_departments)
    review = (
        DepartmentTask(
            screen("web.staff.task_pages.OpenOnOurTaskPage"),
            step_kind=Step.Kind.REVIEW,
            perm=permissions.REVIEW,
            department=_review_department,
        )
        .Annotation(title=_("Department review"))
        .OnTimeout(step_timeout, this.deem_consent, title=_("Deemed consent"))
        .Next(this.join)
    )
    deem_consent = flow.Function(this.record_deemed_consent).Next(this.join)
    join = flow.Join().Next(this.reviews_complete)
    reviews_complete = flow.Function(this.complete_reviews).Next(this.decide)

    decide = (
        DepartmentTask(
            screen("web.staff.task_pages.OpenOnOurTaskPage"),
            step_kind=Step.Kind.DECIDE,
            perm=permissions.DECIDE,
            department=_lead,
        )
        .Annotation(title=_("Decision"))
        .Next(this.decided)
    )
    decided = flow.End()
    not_accepted = flow.End()

    # --- callbacks: routing glue only; the rules are in the services ---------------------------

    def start_process(self, activation: Any, application: Application) -> Any:
        activation.process.artifact_content_type = ContentType.objects.get_for_model(Application)
        activation.process.artifact_object_id = application.pk
        activation.process.save()
        return activation.process

    def supplement_answered(self, activation: Any) -> None:
        """The applicant answered the 补正 notice (the portal ran the service); back to the window."""

    def deem_acceptance(self, activation: Any) -> None:
        accept_task = timed_out_task(activation)
        services.application_deem_accepted(application=activation.process.application)
        if accept_task is not None:
            services.step_close(task_id=accept_task.pk, outcome="deemed_accepted")

    def has_co_review(self, activation: Any) -> bool:
        return activation.process.application.item_version.co_review_departments.exists()

    def review_departments(self, activation: Any) -> list[dict[str, Any]]:
        departments = activation.process.application.item_version.co_review_departments.order_by("code")
        return [{"department_id": department.pk} for department in departments]

    def record_deemed_consent(self, activation: Any) -> None:
        review_task = timed_out_task(activation)
        department = Department.objects.get(pk=review_task.data["department_id"])
        services.review_opinion_deem(application=activation.process.application, department=department)
        services.step_close(task_id=review_task.pk, outcome="deemed_consent")

    def complete_reviews(self, activation: Any) -> None:
        services.application_reviews_complete(application=activation.process.application)
