"""The credit office: its queue, manual entries under four-eyes, imports, objection and repair decisions."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError
from core.forms import form_error
from credit import permissions
from credit.ledger import selectors as ledger_selectors
from credit.ledger import services as ledger_services
from credit.ledger.models import CreditRequest, ImportBatch, LedgerEntry, ManualEntryProposal
from credit.models import Enterprise
from web.credit_office.forms import DecisionNoteForm, ImportForm, ManualEntryForm, RequestDecisionForm
from workflows.actions import credit_requests


def _require_credit_office(request: HttpRequest) -> None:
    if not permissions.user_is_credit_office(user=request.user):
        raise Http404


@login_required
@require_GET
def office_home(request: HttpRequest) -> HttpResponse:
    _require_credit_office(request)
    context = {
        "proposals": ledger_selectors.proposals_open(),
        "requests": ledger_selectors.requests_open(),
        "batches": ImportBatch.objects.select_related("imported_by").order_by("-imported_at", "-id")[:10],
        "today": timezone.localdate(),
    }
    return render(request, "credit_office/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def office_propose(request: HttpRequest) -> HttpResponse:
    _require_credit_office(request)
    form = ManualEntryForm(request.POST or None, initial={"occurred_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = Enterprise.objects.filter(uscc=data["uscc"]).first()
        reverses = None
        if data.get("reverses"):
            reverses = LedgerEntry.objects.filter(seq=data["reverses"]).select_related("kind").first()
        if enterprise is None:
            form.add_error("uscc", forms.ValidationError(_("No enterprise with this code."), code="enterprise_unknown"))
        elif data.get("reverses") and reverses is None:
            form.add_error("reverses", forms.ValidationError(_("No such entry."), code="entry_not_found"))
        else:
            try:
                ledger_services.manual_entry_propose(
                    actor=request.user,
                    enterprise=enterprise,
                    kind=data["kind"],
                    points=data["points"],
                    occurred_on=data["occurred_on"],
                    deciding_authority=data["deciding_authority"],
                    document_number=data["document_number"],
                    legal_basis=data["legal_basis"],
                    reason=data["reason"],
                    justification=data["justification"],
                    reverses=reverses,
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Proposed. A colleague in the credit office must approve it."))
                return redirect("credit_office:home")
    return render(request, "credit_office/propose.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def office_proposal_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    _require_credit_office(request)
    proposal = get_object_or_404(ManualEntryProposal, pk=pk)
    form = DecisionNoteForm(request.POST)
    if decision not in ("approve", "reject") or not form.is_valid():
        raise Http404
    try:
        if decision == "approve":
            entry = ledger_services.manual_entry_approve(
                actor=request.user, proposal=proposal, note=form.cleaned_data["note"]
            )
            messages.success(request, _("Approved: entry no. %(seq)s recorded.") % {"seq": entry.seq})
        else:
            ledger_services.manual_entry_reject(actor=request.user, proposal=proposal, note=form.cleaned_data["note"])
            messages.success(request, _("Rejected."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("credit_office:home")


@login_required
@require_http_methods(["GET", "POST"])
def office_import(request: HttpRequest) -> HttpResponse:
    _require_credit_office(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            form.add_error("file", forms.ValidationError(_("The file may be at most 5 MB."), code="file_too_large"))
        else:
            try:
                report = ledger_services.ledger_import_csv(
                    actor=request.user,
                    file_name=upload.name,
                    content=upload.read(),
                    authority=form.cleaned_data["authority"],
                )
            except DomainError as exc:
                form_error(form, exc)
    status = 400 if form.errors or (report is not None and report.rejected) else 200
    return render(request, "credit_office/import.html", {"form": form, "report": report}, status=status)


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
            credit_requests.credit_request_decide_and_route(
                actor=request.user, credit_request=credit_request, grant=grant, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("credit_office:home")
    context = {"credit_request": credit_request, "form": form, "process": credit_requests.process_of(credit_request)}
    return render(request, "credit_office/request_decide.html", context, status=400 if form.errors else 200)
