"""Staff task pages (the window, each department's review, the decision), the queue actions
(claim, release, reassign), the clock actions, and the staff application page.

Every POST that moves the flow runs under the flow's process lock and one transaction: the
service call, ``activation.execute()`` and the automatic nodes that follow commit together or
not at all.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from approvals import permissions
from approvals.applications import selectors, services
from approvals.models import Application, Department
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from core.forms import form_error
from core.models import User
from web.portal.forms import application_field_labels
from web.workbench import forms as wf_forms
from workflows.actions import applications as actions
from workflows.nodes import task_department


def task_or_404(task_pk: int) -> Task:
    """A department task of the approval flow (window, review, decision), or 404. The API's staff
    resources find tasks through this too."""
    task = Task.objects.select_related("process").filter(pk=task_pk).first()
    if task is None or getattr(task.flow_task, "_step_kind", None) is None:
        raise Http404
    return task


def may_see_task(user: User, task: Task) -> bool:
    """The workbench's scoping of a task: staff who may do its step for its department (their
    own permission or a running delegation); the API's staff resources scope the same way."""
    return permissions.user_may_act_for_department(
        user=user, perm=task.owner_permission, department=task_department(task)
    )


@method_decorator(login_required, name="dispatch")
class TaskPage(View):
    """One human step. Works under viewflow's frontend (``request.activation`` set, lock held) and
    under ReformFlow's own URL ``/workbench/tasks/<task_pk>/``."""

    template_name = "workbench/task.html"
    form_class: type[forms.Form] = forms.Form
    title = ""

    def get_form(self, application: Application, data: Any = None) -> forms.Form:
        return self.form_class(data)

    def complete(self, form: forms.Form, task: Task, user: User) -> str:
        """Complete the task through its action (``workflows.actions.applications``) with the form's data."""
        raise NotImplementedError

    def render_page(self, request: HttpRequest, task: Task, form: forms.Form, status: int = 200) -> HttpResponse:
        application = task.process.application if hasattr(task.process, "application") else None
        if application is None:
            application = Application.objects.get(pk=task.process.artifact_object_id)
        context = selectors.application_page(application, labels=application_field_labels())
        context.update(
            {
                "task": task,
                "form": form,
                "title": self.title,
                "department": task_department(task),
                "can_execute": task.flow_task.can_execute(request.user, task) and task.status in actions.ACTIVE,
                "can_assign": task.flow_task.can_assign(request.user, task) and task.status == STATUS.NEW,
                "clock_forms": _clock_forms(application),
            }
        )
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, task_pk: int, **kwargs: Any) -> HttpResponse:
        task = task_or_404(task_pk)
        if not may_see_task(request.user, task):
            raise Http404
        application = Application.objects.get(pk=task.process.artifact_object_id)
        return self.render_page(request, task, self.get_form(application))

    def post(self, request: HttpRequest, task_pk: int, **kwargs: Any) -> HttpResponse:
        task = task_or_404(task_pk)
        if not may_see_task(request.user, task):
            raise Http404
        application = Application.objects.select_related("item_version").get(pk=task.process.artifact_object_id)
        form = self.get_form(application, request.POST)
        if not form.is_valid():
            return self.render_page(request, task, form, status=400)
        try:
            self.complete(form, task, request.user)
        except DomainError as exc:
            form_error(form, exc)
            return self.render_page(request, task, form, status=400)
        messages.success(request, _("Done: %(reference)s") % {"reference": application.reference})
        return HttpResponseRedirect(reverse("workbench:home"))


class AcceptTaskView(TaskPage):
    form_class = wf_forms.AcceptForm
    title = _("Acceptance at the window")  # type: ignore[assignment]

    def get_form(self, application: Application, data: Any = None) -> forms.Form:
        return wf_forms.AcceptForm(data, item_version=application.item_version)

    def complete(self, form: forms.Form, task: Task, user: User) -> str:
        data = form.cleaned_data
        return actions.accept_complete(
            actor=user,
            task=task,
            decision=data["decision"],
            material_ids=data["material_ids"],
            other=data["other"],
            text=data["text"],
        )


class ReviewTaskView(TaskPage):
    form_class = wf_forms.ReviewForm
    title = _("Department review")  # type: ignore[assignment]

    def complete(self, form: forms.Form, task: Task, user: User) -> str:
        data = form.cleaned_data
        return actions.review_complete(actor=user, task=task, outcome=data["outcome"], reasons=data["reasons"])


class DecideTaskView(TaskPage):
    form_class = wf_forms.DecideForm
    title = _("Decision")  # type: ignore[assignment]

    def complete(self, form: forms.Form, task: Task, user: User) -> str:
        data = form.cleaned_data
        return actions.decide_complete(
            actor=user,
            task=task,
            outcome=data["outcome"],
            reasons=data["reasons"],
            override_justification=data["override_justification"],
        )


def _clock_forms(application: Application) -> dict[str, forms.Form]:
    return {
        "supplement": wf_forms.SupplementAfterForm(item_version=application.item_version, prefix="supplement"),
        "suspend": wf_forms.SuspendForm(prefix="suspend"),
        "extend": wf_forms.ExtendForm(prefix="extend"),
    }


# --- queue actions --------------------------------------------------------------------------------


def _queue_action(request: HttpRequest, task_pk: int, action: str) -> HttpResponse:
    task = task_or_404(task_pk)
    if not may_see_task(request.user, task):
        raise Http404
    try:
        if action == "claim":
            actions.task_claim(actor=request.user, task=task)
        elif action == "release":
            actions.task_release(actor=request.user, task=task)
        else:
            form = wf_forms.ReassignForm(request.POST)
            colleague = User.objects.filter(username=form.data.get("username", "")[:150], is_active=True).first()
            if colleague is None:
                raise DomainError("colleague_not_eligible", _("No such colleague."))
            actions.task_reassign(actor=request.user, task=task, colleague=colleague)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("workbench:home"))
    if action == "claim":
        return HttpResponseRedirect(reverse("workbench:task", args=[task.pk]))
    return HttpResponseRedirect(reverse("workbench:home"))


@login_required
@require_POST
def task_claim(request: HttpRequest, task_pk: int) -> HttpResponse:
    return _queue_action(request, task_pk, "claim")


@login_required
@require_POST
def task_release(request: HttpRequest, task_pk: int) -> HttpResponse:
    return _queue_action(request, task_pk, "release")


@login_required
@require_POST
def task_reassign(request: HttpRequest, task_pk: int) -> HttpResponse:
    return _queue_action(request, task_pk, "reassign")


def task_page(request: HttpRequest, task_pk: int) -> HttpResponse:
    task = task_or_404(task_pk)
    view_class = {"accept": AcceptTaskView, "review": ReviewTaskView, "decide": DecideTaskView}[
        task.flow_task._step_kind
    ]
    return view_class.as_view()(request, task_pk=task_pk)


# --- clock actions on the staff application page --------------------------------------------------


def _staff_application(request: HttpRequest, pk: int) -> Application:
    application = Application.objects.select_related("item_version", "enterprise").filter(pk=pk).first()
    if application is None or not permissions.user_may_view_application(user=request.user, application=application):
        raise Http404
    return application


@login_required
def staff_application(request: HttpRequest, pk: int) -> HttpResponse:
    application = _staff_application(request, pk)
    audit_read_mark(request, object_type="approvals.application", object_id=str(application.pk))
    context = selectors.application_page(application, labels=application_field_labels())
    context["clock_forms"] = _clock_forms(application)
    context["acting_departments"] = _acting_departments(request.user, application)
    context["workable_steps"] = [
        step
        for step in context["steps"]
        if step.closed_at is None
        and step.task_id is not None
        and permissions.user_may_act_for_department(
            user=request.user, perm=selectors.STEP_PERMISSION[step.kind], department=step.department
        )
    ]
    return render(request, "workbench/application.html", context)


def _acting_departments(user: User, application: Application) -> list[Department]:
    version = application.item_version
    candidates = [version.lead_department, *version.co_review_departments.all()]
    return [d for d in candidates if permissions.user_may_handle_case(user=user, department=d)]


def _cleaned(form: forms.Form, message: str) -> dict[str, Any]:
    """The form's data, or the refusal ``form_invalid`` with its errors in ``message``."""
    if not form.is_valid():
        raise DomainError("form_invalid", message % {"errors": form.errors.as_text()})
    return form.cleaned_data


@login_required
@require_POST
def clock_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    application = _staff_application(request, pk)
    departments = _acting_departments(request.user, application)
    if action not in {"supplement", "suspend", "resume", "extend"}:
        raise Http404
    department_id = request.POST.get("department")
    department = next((d for d in departments if str(d.pk) == department_id), departments[0] if departments else None)
    try:
        if department is None and action != "extend":
            raise DomainError("permission_denied", _("You take no part in this application."))
        if action == "supplement":
            data = _cleaned(
                wf_forms.SupplementAfterForm(request.POST, item_version=application.item_version, prefix="supplement"),
                _("Check the supplement request: %(errors)s"),
            )
            services.application_supplement_after_acceptance(
                actor=request.user,
                application=application,
                department=department,
                material_ids=data["material_ids"],
                other=data["other"],
                message=data["message"],
            )
        elif action == "suspend":
            data = _cleaned(wf_forms.SuspendForm(request.POST, prefix="suspend"), _("Check the suspension: %(errors)s"))
            services.application_suspend(
                actor=request.user,
                application=application,
                department=department,
                reason=data["reason"],
                comment=data["comment"],
                expected_days=data["expected_days"],
            )
        elif action == "resume":
            services.application_resume(actor=request.user, application=application, department=department)
        else:
            data = _cleaned(wf_forms.ExtendForm(request.POST, prefix="extend"), _("Check the extension: %(errors)s"))
            services.application_extension_request(
                actor=request.user,
                application=application,
                days=data["days"],
                reason=data["reason"],
            )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Recorded."))
    return HttpResponseRedirect(reverse("workbench:application", args=[application.pk]))
