"""An inspector's inspections: the list and one inspection task's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from approvals import permissions
from approvals.calendar import clock
from approvals.calendar import selectors as calendar_selectors
from approvals.models import InspectionTask
from approvals.supervision import selectors as supervision_selectors
from approvals.supervision import services
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from core.forms import form_error
from web.workbench import forms as sv_forms
from workflows.actions import supervision as actions


@login_required
def my_inspections(request: HttpRequest) -> HttpResponse:
    if not request.user.is_bureau_staff:
        raise Http404
    tasks = list(supervision_selectors.tasks_open_for_inspector(user=request.user)[:500])
    calendar = calendar_selectors.calendar_load()
    today = timezone.localdate()
    for task in tasks:
        task.band = clock.warning_band(task.due_on, today=today, calendar=calendar)
    return render(request, "workbench/inspections/mine.html", {"tasks": tasks})


def _task_for(request: HttpRequest, pk: int) -> InspectionTask:
    task = (
        InspectionTask.objects.select_related(
            "enterprise",
            "application__item_version__item",
            "campaign",
            "department",
            "certificate",
            "inspector_1",
            "inspector_2",
        )
        .filter(pk=pk)
        .first()
    )
    if task is None or not permissions.user_may_view_task(user=request.user, task=task):
        raise Http404
    return task


def _results_for(task: InspectionTask) -> list[str]:
    reinspection = task.status == InspectionTask.Status.RECTIFYING
    return list(services._results_allowed(task, reinspection))


@login_required
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    may_record = permissions.user_may_record(user=request.user, task=task)
    checklist = supervision_selectors.checklist_of(task)
    records = list(
        task.inspections.select_related("recorded_by", "inspector_1", "inspector_2", "corrects")
        .prefetch_related("attachments")
        .order_by("recorded_at", "id")
    )
    latest = records[-1] if records else None
    correcting = request.POST.get("corrects") if request.method == "POST" else request.GET.get("correct")
    correcting_record = latest if (correcting and latest and str(latest.pk) == str(correcting)) else None
    results = [correcting_record.result] if correcting_record is not None else _results_for(task)
    form = None
    if may_record and (task.status != InspectionTask.Status.CLOSED or correcting_record is not None):
        form = sv_forms.InspectionForm(
            request.POST or None, request.FILES or None, task=task, checklist=checklist, results=results
        )
    if request.method == "POST":
        if form is None:
            raise Http404
        if correcting and correcting_record is None:
            # A correction of anything but the latest record is refused, never saved as a new one.
            form.is_valid()
            form.add_error(
                None,
                forms.ValidationError(
                    _("Only the latest record can be corrected, and a correction keeps its result."),
                    code="correction_invalid",
                ),
            )
        elif form.is_valid():
            fields: dict[str, Any] = {
                "inspected_on": form.cleaned_data["inspected_on"],
                "checklist": form.checklist_answers(),
                "findings": form.cleaned_data["findings"],
                "result": form.cleaned_data["result"],
                "attachments": form.cleaned_data.get("attachments") or [],
                "rectification_requirements": form.cleaned_data.get("rectification_requirements") or "",
                "rectification_deadline": form.cleaned_data.get("rectification_deadline"),
                "corrects": correcting_record,
            }
            try:
                actions.inspection_record_and_route(actor=request.user, task=task, **fields)
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Inspection recorded."))
                return HttpResponseRedirect(reverse("supervision:task", args=[task.pk]), status=303)
    audit_read_mark(request, object_type="approvals.inspectiontask", object_id=str(task.pk))
    calendar = calendar_selectors.calendar_load()
    today = timezone.localdate()
    band = (
        clock.warning_band(task.due_on, today=today, calendar=calendar)
        if task.status != InspectionTask.Status.CLOSED
        else "none"
    )
    context = {
        "task": task,
        "band": band,
        "records": records,
        "latest": latest,
        "orders": task.rectifications.select_related("issued_by").order_by("id"),
        "form": form,
        "correcting": correcting_record,
        "may_record": may_record,
    }
    return render(
        request, "workbench/inspections/task.html", context, status=400 if form is not None and form.errors else 200
    )
