"""Screens that drive the objection and repair flows: the enterprise submits, the credit office
decides. Our own views (not viewflow's frontend, which is not row-scoped)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from core.exceptions import DomainError
from credit import ledger_services, permissions, scoring, selectors
from credit.ledger_forms import CreditRequestForm, RequestDecisionForm
from credit.ledger_models import CreditRequest, LedgerEntry
from workflows.credit_flows import flow_for


def _process_of(request_obj: CreditRequest) -> Process | None:
    flow_class = flow_for(request_obj.kind)
    return Process.objects.filter(flow_class=flow_class, data__request=request_obj.pk).order_by("-pk").first()


@login_required
@require_http_methods(["GET", "POST"])
def request_start(request: HttpRequest, pk: int, seq: int, kind: str) -> HttpResponse:
    enterprise = selectors.enterprise_get_for_user(user=request.user, pk=pk)
    if enterprise is None or kind not in CreditRequest.Kind.values:
        raise Http404
    entry = LedgerEntry.objects.filter(seq=seq, enterprise=enterprise).select_related("kind").first()
    if entry is None:
        raise Http404
    form = CreditRequestForm(request.POST or None)
    if kind == CreditRequest.Kind.REPAIR:
        form.fields["commitment"].required = True
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                credit_request = ledger_services.credit_request_submit(
                    actor=request.user, enterprise=enterprise, entry=entry, kind=kind, **form.cleaned_data
                )
                flow_for(kind).start.run(request=credit_request)
        except DomainError as exc:
            form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
        else:
            messages.success(
                request,
                _("Submitted. The credit office decides by %(date)s.") % {"date": credit_request.due_on.isoformat()},
            )
            return redirect("credit:credit", pk=enterprise.pk)
    repair_from = scoring.add_months(entry.occurred_at, entry.kind.min_window_months)
    context = {
        "enterprise": enterprise,
        "entry": entry,
        "kind": kind,
        "form": form,
        "repair_from": repair_from,
        "too_early": kind == CreditRequest.Kind.REPAIR and timezone.now() < repair_from,
    }
    return render(request, "credit/request_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not permissions.user_is_credit_office(user=request.user):
        raise Http404
    credit_request = get_object_or_404(
        CreditRequest.objects.select_related("enterprise", "entry", "entry__kind", "submitted_by", "decided_by"), pk=pk
    )
    form = RequestDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        grant = form.cleaned_data["decision"] == "grant"
        try:
            with transaction.atomic():
                decided = ledger_services.credit_request_decide(
                    actor=request.user, request=credit_request, grant=grant, reason=form.cleaned_data["reason"]
                )
                process = _process_of(decided)
                if process is not None:
                    flow_class = flow_for(decided.kind)
                    task = Task.objects.filter(process=process, flow_task=flow_class.decide, status=STATUS.NEW).first()
                    if task is not None:
                        flow_class.decide.run(task)
        except DomainError as exc:
            form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("credit_office:home")
    context = {"credit_request": credit_request, "form": form, "process": _process_of(credit_request)}
    return render(request, "credit/request_decide.html", context, status=400 if form.errors else 200)


urlpatterns = [
    path(
        "portal/enterprises/<int:pk>/credit/entries/<int:seq>/<str:kind>/",
        request_start,
        name="credit_request_start",
    ),
    path("credit-office/requests/<int:pk>/", request_decide, name="credit_request_decide"),
]
