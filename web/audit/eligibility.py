"""The auditor's eligibility console (``/audit/eligibility/``): every stored eligibility decision
(filter by enterprise, purpose and result), a decision with every input it was evaluated from, and
a replay that re-derives it from those inputs and from the credit ledger as of its instant.

Read-only: every page and every replay writes exactly one audit-read line and nothing else.
Auditors only (``approvals.permissions.user_is_auditor``); anyone else 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from approvals.permissions import user_is_auditor
from core.audit_reads import audit_read_mark
from core.db_routing import replica_reads
from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies.models import EligibilityDecision
from web.audit.forms import DecisionFilterForm
from web.policy_display import decision_views

PAGE_SIZE = 50
OBJECT_TYPE = "credit.eligibilitydecision"


def _require_auditor(request: HttpRequest) -> None:
    if not user_is_auditor(user=request.user):
        raise Http404


@replica_reads
@login_required
@require_GET
def decision_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = DecisionFilterForm(request.GET or None)
    filters: dict[str, str] = {}
    decisions = EligibilityDecision.objects.select_related("enterprise", "policy_version__policy", "actor").order_by(
        "-created_at", "-id"
    )
    if form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value}
        if filters.get("uscc"):
            decisions = decisions.filter(enterprise__uscc=filters["uscc"])
        if filters.get("purpose"):
            decisions = decisions.filter(purpose=filters["purpose"])
        if filters.get("result"):
            decisions = decisions.filter(eligible=filters["result"] == "eligible")
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read_mark(request, object_type=OBJECT_TYPE, object_id="*", data={**filters, "page": page.number})
    context = {"page": page, "form": form}
    return render(request, "audit/eligibility/list.html", context)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def _detail_context(decision: EligibilityDecision) -> dict[str, Any]:
    view = decision_views([decision])[decision.pk]
    return {
        "decision": decision,
        "view": view,
        "reason_rows": list(zip(decision.reasons, view.reasons, strict=True)),
        "hint_rows": list(zip(decision.hints, view.hints, strict=True)),
        "rule_json": _pretty(decision.rule_snapshot),
        "context_json": _pretty(decision.context),
        "outcome_json": _pretty(decision.outcome),
        "facts": [fact for fact in decision.facts if isinstance(fact, dict)],
        "inputs_json": _pretty(policy_selectors.decision_inputs_document(decision)),
        "digest_now": policies.digest(policy_selectors.decision_inputs_document(decision)),
    }


def _decision(pk: int) -> EligibilityDecision:
    return get_object_or_404(
        EligibilityDecision.objects.select_related("enterprise", "policy_version__policy", "actor"), pk=pk
    )


@replica_reads
@login_required
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request)
    decision = _decision(pk)
    audit_read_mark(request, object_type=OBJECT_TYPE, object_id=str(decision.pk))
    return render(request, "audit/eligibility/decision.html", _detail_context(decision))


@login_required
@require_POST
def decision_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-evaluate the decision (``eligibility_replay``) and show whether it agrees. Writes only
    its audit-read line (with the result), never to the decision."""
    _require_auditor(request)
    decision = _decision(pk)
    report = policy_selectors.eligibility_replay(decision_ids=[decision.pk])
    problems = [problem for mismatch in report.mismatches for problem in mismatch.problems]
    # A POST, and still a read: the auditor-read middleware records a marked read of any method.
    audit_read_mark(
        request,
        object_type=OBJECT_TYPE,
        object_id=str(decision.pk),
        data={"replay": True, "all_agree": report.all_agree, "problems": [p.code for p in problems]},
    )
    context = _detail_context(decision)
    context["replay"] = {
        "checked": report.checked,
        "agrees": report.all_agree,
        "problems": [{"code": p.code, "text": policy_selectors.replay_problem_text(p)} for p in problems],
    }
    return render(request, "audit/eligibility/decision.html", context)
