"""The enterprise's side of supervision: signing a commitment, its inspections, reporting rectification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals.models import Application, Inspection, InspectionTask, RectificationOrder
from approvals.supervision import services
from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises import selectors as credit_selectors
from credit.policies import selectors as policy_selectors
from web.portal import forms as sv_forms
from web.portal.applications import _enterprise_user, _own_application
from workflows.actions import supervision as actions


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
            form_error(form, exc)
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
