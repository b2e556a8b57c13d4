"""Screens of the credit ledger: the enterprise's credit page, the credit office's workbench, and
the auditor's ledger console (read-only, every read recorded)."""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from credit import charts, ledger_selectors, ledger_services, permissions, scoring, selectors
from credit.ledger_forms import AsOfForm, DecisionNoteForm, ImportForm, ManualEntryForm
from credit.ledger_models import CreditRequest, ImportBatch, LedgerEntry, ManualEntryProposal
from credit.models import Enterprise

PAGE_SIZE = 50


def _reason_label(code: str) -> str:
    labels = {
        scoring.EXPIRED: _("publication window over"),
        scoring.REPAIRED: _("repaired"),
        scoring.REVERSED: _("reversed"),
        scoring.NOT_YET_OCCURRED: _("dated after this instant"),
        scoring.CORRECTION: _("repair or reversal entry"),
    }
    return str(labels.get(code, code))


def _explanation(result: scoring.GradeResult, entries: dict[int, LedgerEntry], hidden: set[int]) -> dict[str, Any]:
    contributing = [{"c": c, "entry": entries.get(c.seq)} for c in result.contributing]
    excluded = [
        {"e": e, "entry": entries.get(e.seq), "reason": _reason_label(e.reason)}
        for e in result.excluded
        if e.seq not in hidden
    ]
    return {"result": result, "contributing": contributing, "excluded": excluded}


def _chart(enterprise: Enterprise, facts: list[scoring.EntryFact]) -> Any:
    series = scoring.score_series(facts, ledger_selectors.month_ends(months=36))
    return charts.score_chart(series, title=_("Credit score over the last three years"))


# --- enterprise -----------------------------------------------------------------------------------


@login_required
@require_GET
def enterprise_credit(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = selectors.enterprise_get_for_user(user=request.user, pk=pk)
    if enterprise is None:
        raise Http404
    facts = ledger_selectors.entry_facts(enterprise=enterprise)
    now = timezone.now()
    result = scoring.grade_as_of(facts, now)
    hidden = ledger_selectors.hidden_from_public(enterprise=enterprise)
    entries = {e.seq: e for e in ledger_selectors.entries_of(enterprise=enterprise)}
    open_requests = set(
        CreditRequest.objects.filter(enterprise=enterprise, status="pending").values_list("entry_id", "kind")
    )
    explanation = _explanation(result, entries, hidden)
    for row in explanation["contributing"]:
        entry = row["entry"]
        repair_from = scoring.add_months(entry.occurred_at, entry.kind.min_window_months)
        row["repair_from"] = repair_from
        row["may_object"] = entry.points < 0 and (entry.seq, "objection") not in open_requests
        row["may_repair"] = entry.points < 0 and now >= repair_from and (entry.seq, "repair") not in open_requests
    context = {
        "enterprise": enterprise,
        "explanation": explanation,
        "with_actions": True,
        "chart": _chart(enterprise, facts),
        "requests": ledger_selectors.requests_of(enterprise=enterprise),
    }
    return render(request, "credit/credit_overview.html", context)


# --- credit office --------------------------------------------------------------------------------


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
    return render(request, "credit/office_home.html", context)


def _form_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(None, forms.ValidationError(exc.message, code=exc.code))


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
                _form_error(form, exc)
            else:
                messages.success(request, _("Proposed. A colleague in the credit office must approve it."))
                return redirect("credit_office:home")
    return render(request, "credit/office_propose.html", {"form": form}, status=400 if form.errors else 200)


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
                _form_error(form, exc)
    status = 400 if form.errors or (report is not None and report.rejected) else 200
    return render(request, "credit/office_import.html", {"form": form, "report": report}, status=status)


# --- auditor --------------------------------------------------------------------------------------


def _require_auditor(request: HttpRequest) -> None:
    if not permissions.user_is_credit_auditor(user=request.user):
        raise Http404


@login_required
@require_GET
def audit_ledger(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    query = request.GET.get("q", "").strip()[:40]
    entries = LedgerEntry.objects.select_related("enterprise", "kind", "recorded_by", "approved_by").order_by("-seq")
    if query:
        entries = (
            entries.filter(enterprise__uscc=query.upper())
            if len(query) == 18
            else entries.filter(enterprise__name__icontains=query)
        )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type="credit.ledgerentry", object_id="*", data={"q": query, "page": page.number})
    return render(request, "credit/audit_ledger.html", {"page": page, "q": query})


@login_required
@require_GET
def audit_enterprise_credit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    enterprise = get_object_or_404(Enterprise, pk=pk)
    form = AsOfForm(request.GET or None)
    as_of = timezone.now()
    if form.is_valid() and form.cleaned_data.get("as_of"):
        as_of = timezone.make_aware(
            datetime.datetime.combine(form.cleaned_data["as_of"], datetime.time.max), scoring.SHANGHAI
        )
    facts = ledger_selectors.entry_facts(enterprise=enterprise)
    result = scoring.grade_as_of(facts, as_of)
    entries = {e.seq: e for e in ledger_selectors.entries_of(enterprise=enterprise)}
    audit_read_mark(
        request,
        object_type="credit.enterprise.credit",
        object_id=str(enterprise.pk),
        data={"as_of": as_of.isoformat(), "grade": result.grade},
    )
    context = {
        "enterprise": enterprise,
        "form": form,
        "as_of": as_of,
        "explanation": _explanation(result, entries, set()),
        "chart": _chart(enterprise, facts),
        "entries": list(entries.values()),
        "requests": ledger_selectors.requests_of(enterprise=enterprise).select_related("decided_by", "submitted_by"),
    }
    return render(request, "credit/audit_credit.html", context)


@login_required
@require_GET
def audit_verify(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    from credit.ledger_verify import AnchorFileError, ledger_verify

    _require_auditor(request)
    report = error = None
    if request.GET.get("run") == "1":
        try:
            report = ledger_verify(anchor_file=settings.CREDIT_LEDGER_ANCHOR_FILE)
        except AnchorFileError as exc:
            error = str(exc)
        audit_read_mark(
            request,
            object_type="credit.ledger",
            object_id="verify",
            data={
                "intact": report.intact if report else None,
                "checked": report.checked if report else 0,
                "error": error,
            },
        )
    else:
        audit_read_mark(request, object_type="credit.ledger", object_id="verify-page")
    return render(request, "credit/audit_verify.html", {"report": report, "error": error})


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _require_auditor(request)
    entries = LedgerEntry.objects.select_related("enterprise").order_by("seq")
    enterprise_pk = request.GET.get("enterprise", "")
    if enterprise_pk.isdigit():
        entries = entries.filter(enterprise_id=int(enterprise_pk))
    audit_read_mark(request, object_type="credit.ledgerentry", object_id="export", data={"enterprise": enterprise_pk})
    columns = [
        "seq",
        "uscc",
        "enterprise",
        "kind_code",
        "kind_version",
        "points",
        "occurred_at",
        "recorded_at",
        "deciding_authority",
        "document_number",
        "legal_basis",
        "source_type",
        "source_id",
        "reason",
        "recorded_by_id",
        "approved_by_id",
        "reverses_id",
        "hash_algorithm",
        "canonical_version",
        "prev_hash",
        "entry_hash",
    ]
    writer = csv.writer(_Echo())

    def rows():  # type: ignore[no-untyped-def]
        yield "\ufeff" + writer.writerow(columns)
        for e in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.seq,
                    e.enterprise.uscc,
                    e.enterprise.name,
                    e.kind_code,
                    e.kind_version,
                    e.points,
                    e.occurred_at.isoformat(),
                    e.recorded_at.isoformat(),
                    e.deciding_authority,
                    e.document_number,
                    e.legal_basis,
                    e.source_type,
                    e.source_id,
                    e.reason,
                    e.recorded_by_id or "",
                    e.approved_by_id or "",
                    e.reverses_id or "",
                    e.hash_algorithm,
                    e.canonical_version,
                    e.prev_hash,
                    e.entry_hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credit-ledger.csv"'
    return response
