"""Pages of approve-then-supervise: the commitment route in the enterprise portal (check, read,
sign), the enterprise's inspections and rectification reports, and the inspectors' task pages
(record an inspection, correct a record). Foreign objects answer 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals import clock
from approvals.models import Application, Inspection, InspectionTask, RectificationOrder
from approvals.services import supervision as services
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from credit import policy_selectors
from credit import selectors as credit_selectors
from workflows import supervision_actions as actions
from workflows import supervision_forms as sv_forms
from workflows.portal_views import _enterprise_user, _own_application

# --- portal: the commitment route ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def commitment(request: HttpRequest, pk: int) -> HttpResponse:
    """Check eligibility (recorded), show the notification, sign. Not eligible → the reasons and
    the way back to the standard route."""
    application = _own_application(request, pk)
    if application.status != Application.Status.DRAFT:
        return HttpResponseRedirect(reverse("portal:application", args=[pk]))
    if not services.commitment_available(application.item_version):
        raise Http404
    text = services.commitment_notice_text(application=application)
    digest = services.notice_sha256(text)
    form = sv_forms.CommitmentSignForm(request.POST or None, initial={"shown_sha256": digest})
    decision = None
    if request.method == "POST" and form.is_valid():
        try:
            actions.commitment_sign_and_start(
                actor=request.user,
                application=application,
                signer_name=form.cleaned_data["signer_name"],
                confirmed=form.cleaned_data["confirmed"],
                shown_sha256=form.cleaned_data["shown_sha256"],
            )
        except DomainError as exc:
            form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
        else:
            messages.success(request, _("Commitment signed: the application is approved and the certificate issued."))
            return HttpResponseRedirect(reverse("portal:application", args=[pk]))
    if request.method == "GET" or form.errors:
        decision = services.commitment_eligibility(actor=request.user, application=application)
    context = {
        "application": application,
        "decision": decision,
        "reasons": policy_selectors.decision_reason_texts(decision) if decision else [],
        "hints": policy_selectors.decision_hint_texts(decision) if decision else [],
        "notice_text": text,
        "notice_sha256": digest,
        "form": form,
        "missing": services.missing_materials_on_commitment(application),
    }
    return render(request, "portal/commitment.html", context, status=400 if form.errors else 200)


# --- portal: inspections and rectification ---------------------------------------------------------


@login_required
def enterprise_inspections(request: HttpRequest) -> HttpResponse:
    _enterprise_user(request)
    enterprises = credit_selectors.enterprises_for_user(user=request.user)
    tasks = (
        InspectionTask.objects.filter(enterprise__in=enterprises)
        .select_related("enterprise", "application", "campaign", "department", "certificate")
        .prefetch_related(
            Prefetch("rectifications", queryset=RectificationOrder.objects.order_by("deadline", "id")),
            Prefetch("inspections", queryset=Inspection.objects.order_by("recorded_at", "id")),
        )
        .order_by("-opened_at", "-id")[:200]
    )
    return render(
        request,
        "portal/inspections.html",
        {"tasks": tasks, "report_form": sv_forms.RectificationReportForm()},
    )


@login_required
@require_POST
def rectification_report(request: HttpRequest, pk: int) -> HttpResponse:
    _enterprise_user(request)
    order = (
        RectificationOrder.objects.select_related("task")
        .filter(pk=pk, task__enterprise__in=credit_selectors.enterprises_for_user(user=request.user))
        .first()
    )
    if order is None:
        raise Http404
    form = sv_forms.RectificationReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Describe what was rectified."))
        return HttpResponseRedirect(reverse("portal:inspections"), status=303)
    try:
        services.rectification_report(actor=request.user, order=order, report=form.cleaned_data["report"])
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your rectification report was sent to the inspectors."))
    return HttpResponseRedirect(reverse("portal:inspections"), status=303)


# --- staff: inspection tasks -----------------------------------------------------------------------


@login_required
def my_inspections(request: HttpRequest) -> HttpResponse:
    if not request.user.is_bureau_staff:
        raise Http404
    tasks = list(services.tasks_open_for_inspector(user=request.user)[:500])
    calendar = clock.calendar_load()
    today = timezone.localdate()
    for task in tasks:
        task.band = clock.warning_band(task.due_on, today=today, calendar=calendar)
    return render(request, "supervision/my_inspections.html", {"tasks": tasks})


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
    if task is None or not services.user_may_view_task(user=request.user, task=task):
        raise Http404
    return task


def _results_for(task: InspectionTask) -> list[str]:
    reinspection = task.status == InspectionTask.Status.RECTIFYING
    return list(services._results_allowed(task, reinspection))


@login_required
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    may_record = services.user_may_record(user=request.user, task=task)
    checklist = services.checklist_of(task)
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
                form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
            else:
                messages.success(request, _("Inspection recorded."))
                return HttpResponseRedirect(reverse("supervision:task", args=[task.pk]), status=303)
    audit_read_mark(request, object_type="approvals.inspectiontask", object_id=str(task.pk))
    calendar = clock.calendar_load()
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
    return render(request, "supervision/task.html", context, status=400 if form is not None and form.errors else 200)
