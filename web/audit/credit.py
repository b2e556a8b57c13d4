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
from core.db_routing import replica_reads
from credit import permissions
from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import CANONICAL_COLUMNS_V1, LedgerEntry
from credit.models import Enterprise
from web import credit_display
from web.forms import AsOfForm

PAGE_SIZE = 50


def _require_auditor(request: HttpRequest) -> None:
    if not permissions.user_is_credit_auditor(user=request.user):
        raise Http404


@replica_reads
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


@replica_reads
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

    from credit.ledger.verify import AnchorFileError, ledger_verify

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


@replica_reads
@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _require_auditor(request)
    entries = LedgerEntry.objects.order_by("seq")
    enterprise_pk = request.GET.get("enterprise", "")
    if enterprise_pk.isdigit():
        entries = entries.filter(enterprise_id=int(enterprise_pk))
    audit_read_mark(request, object_type="credit.ledgerentry", object_id="export", data={"enterprise": enterprise_pk})
    # The canonical form's columns (the USCC with the enterprise's name beside it), then how the
    # entry was hashed: one definition for the export and the verifier.
    lookups = ["seq", "enterprise__uscc", "enterprise__name", *CANONICAL_COLUMNS_V1[2:]]
    lookups[-1:-1] = ["canonical_version"]
    lookups.append("entry_hash")
    columns = [{"enterprise__uscc": "uscc", "enterprise__name": "enterprise"}.get(name, name) for name in lookups]
    writer = csv.writer(_Echo())

    def cell(value: object) -> object:
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, datetime.datetime) else value

    def rows():  # type: ignore[no-untyped-def]
        yield "\ufeff" + writer.writerow(columns)
        for values in entries.values_list(*lookups).iterator(chunk_size=2000):
            yield writer.writerow([cell(value) for value in values])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="credit-ledger.csv"'
    return response
