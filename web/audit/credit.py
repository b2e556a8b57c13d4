"""The auditor's credit ledger: the list, one enterprise's record as of any instant, chain verification, CSV export."""

from __future__ import annotations

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.audit_reads import audit_read_mark
from credit import ledger_selectors, permissions, scoring
from credit.ledger_models import LedgerEntry
from credit.models import Enterprise
from web import credit_display
from web.forms import AsOfForm

PAGE_SIZE = 50


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
    return render(request, "audit/credit/ledger.html", {"page": page, "q": query})


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
        "explanation": credit_display.explanation(result, entries, set()),
        "chart": credit_display.chart(enterprise, facts),
        "entries": list(entries.values()),
        "requests": ledger_selectors.requests_of(enterprise=enterprise).select_related("decided_by", "submitted_by"),
    }
    return render(request, "audit/credit/enterprise.html", context)


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
    return render(request, "audit/credit/verify.html", {"report": report, "error": error})


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
