"""The enterprise's credit record and grade, and its objection or repair requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises import selectors
from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import CreditRequest, LedgerEntry
from web import credit_display
from web.portal.forms import CreditRequestForm
from workflows.actions import credit_requests


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
    explanation = credit_display.explanation(result, entries, hidden)
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
        "chart": credit_display.chart(enterprise, facts),
        "requests": ledger_selectors.requests_of(enterprise=enterprise),
    }
    return render(request, "portal/credit.html", context)


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
            credit_request = credit_requests.credit_request_submit_and_start(
                actor=request.user, enterprise=enterprise, entry=entry, kind=kind, **form.cleaned_data
            )
        except DomainError as exc:
            form_error(form, exc)
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
    return render(request, "portal/credit_request.html", context, status=400 if form.errors else 200)
