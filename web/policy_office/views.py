"""The policy office's screens (``/policy-office/``): the queue of applications awaiting review
(oldest first, with the recorded eligibility), the review page (approve with amount and term, or
refuse with reasons: the service and the flow step in one transaction), grants with their
disbursements, and construction projects with their deposit decisions.

Only users of the policy office (``credit.permissions.user_is_policy_office``); anyone else 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import DomainError
from core.forms import form_error
from credit.permissions import user_is_policy_office
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import (
    ApplicationStatus,
    ConstructionProject,
    Disbursement,
    PolicyApplication,
    PolicyGrant,
    PolicyKind,
)
from web.policy_display import benefit_texts, condition_texts, decision_views, project_context
from web.policy_office.forms import ApproveForm, DisbursementForm, RefuseForm
from workflows.actions import policies as policy_actions

PAGE_SIZE = 30


def _require_policy_office(request: HttpRequest) -> None:
    if not user_is_policy_office(user=request.user):
        raise Http404


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _require_policy_office(request)
    page = Paginator(policy_selectors.applications_pending_review(), PAGE_SIZE).get_page(request.GET.get("page"))
    texts = decision_views([a.eligibility for a in page])
    for application in page:
        application.view = texts.get(application.eligibility_id) if application.eligibility_id else None
    counts = PolicyApplication.objects.aggregate(
        pending=Count("pk", filter=Q(status=ApplicationStatus.PENDING_REVIEW)),
        granted=Count("pk", filter=Q(status=ApplicationStatus.APPROVED)),
    )
    return render(request, "policy_office/queue.html", {"page": page, "counts": counts})


_APPROVE_FIELDS = {
    "amount_invalid": "amount",
    "amount_over_cap": "amount",
    "amount_over_requested": "amount",
    "term_invalid": "term_months",
    "term_over_max": "term_months",
    "term_over_requested": "term_months",
    "note_too_long": "note",
}


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (amount and term within the policy's caps) or refuse with reasons."""
    _require_policy_office(request)
    application = get_object_or_404(policy_selectors.applications_with_details(PolicyApplication.objects.all()), pk=pk)
    pending = application.status == ApplicationStatus.PENDING_REVIEW
    action = request.POST.get("action", "") if request.method == "POST" else ""
    approve_form = ApproveForm(
        request.POST if action == "approve" else None,
        initial={"amount": application.requested_amount, "term_months": application.requested_term_months},
        prefix="approve",
    )
    refuse_form = RefuseForm(request.POST if action == "refuse" else None, prefix="refuse")
    action_error = ""
    if request.method == "POST":
        if not pending:
            messages.error(request, _("This application is not awaiting a decision."))
            return HttpResponseRedirect(reverse("policy_office:review", args=[pk]))
        if action == "approve" and approve_form.is_valid():
            data = approve_form.cleaned_data
            try:
                policy_actions.policy_approve_and_route(
                    actor=request.user,
                    application=application,
                    amount=data["amount"],
                    term_months=data["term_months"],
                    note=data["note"],
                )
            except DomainError as exc:
                form_error(approve_form, exc, _APPROVE_FIELDS)
            else:
                messages.success(request, _("Approved: the grant is recorded."))
                return HttpResponseRedirect(reverse("policy_office:home"))
        elif action == "refuse" and refuse_form.is_valid():
            try:
                policy_actions.policy_refuse_and_route(
                    actor=request.user, application=application, reason=refuse_form.cleaned_data["reason"]
                )
            except DomainError as exc:
                form_error(refuse_form, exc, {"reason_required": "reason"})
            else:
                messages.success(request, _("Refused. The enterprise sees your reasons."))
                return HttpResponseRedirect(reverse("policy_office:home"))
        elif action not in ("approve", "refuse"):
            # Neither form was bound: the error goes to the page, not into an unchecked form.
            action_error = _("Choose approve or refuse.")
    texts = decision_views([application.eligibility])
    version = application.policy_version
    context = {
        "action_error": action_error,
        "application": application,
        "view": texts.get(application.eligibility_id) if application.eligibility_id else None,
        "grant": getattr(application, "grant", None),
        "conditions": condition_texts(version.conditions),
        "benefits": benefit_texts(application.policy.kind, version.benefits),
        "approve_form": approve_form if pending else None,
        "refuse_form": refuse_form if pending else None,
        "process": policy_actions.process_of(application),
    }
    failed = approve_form.errors or refuse_form.errors or action_error
    return render(request, "policy_office/review.html", context, status=400 if failed else 200)


@login_required
@require_GET
def grant_list(request: HttpRequest) -> HttpResponse:
    _require_policy_office(request)
    grants = PolicyGrant.objects.select_related(
        "enterprise", "policy_version__policy", "application", "granted_by"
    ).order_by("-granted_at", "-id")
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "policy_office/grants.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A grant, its disbursements, and (interest subsidies) the form for the next instalment."""
    _require_policy_office(request)
    grant = get_object_or_404(
        PolicyGrant.objects.select_related(
            "enterprise", "policy_version__policy", "application", "granted_by"
        ).prefetch_related(
            Prefetch("disbursements", queryset=Disbursement.objects.select_related("recorded_by").order_by("number"))
        ),
        pk=pk,
    )
    disbursable = grant.policy_version.policy.kind == PolicyKind.INTEREST_SUBSIDY and grant.remaining > 0
    form = DisbursementForm(request.POST or None, initial={"paid_on": timezone.localdate()}) if disbursable else None
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Nothing remains to be paid on this grant."))
            return HttpResponseRedirect(reverse("policy_office:grant", args=[pk]))
        if form.is_valid():
            data = form.cleaned_data
            try:
                disbursement = policy_services.disbursement_record(
                    actor=request.user,
                    grant=grant,
                    amount=data["amount"],
                    paid_on=data["paid_on"],
                    reference=data["reference"],
                )
            except DomainError as exc:
                form_error(
                    form,
                    exc,
                    {
                        "amount_invalid": "amount",
                        "disbursement_exceeds_grant": "amount",
                        "reference_required": "reference",
                        "paid_in_future": "paid_on",
                        "paid_before_grant": "paid_on",
                    },
                )
            else:
                messages.success(request, _("Instalment %(n)s recorded.") % {"n": disbursement.number})
                return HttpResponseRedirect(reverse("policy_office:grant", args=[pk]))
    instalments = grant.policy_version.benefits.get("instalments")
    context = {"grant": grant, "form": form, "instalments": instalments}
    return render(request, "policy_office/grant.html", context, status=400 if form is not None and form.errors else 200)


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    _require_policy_office(request)
    projects = ConstructionProject.objects.select_related("enterprise").order_by("-created_at", "-id")
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    latest = policy_selectors.latest_deposit_decisions(page)
    texts = decision_views(list(latest.values()))
    for project in page:
        decision = latest.get(project.pk)
        project.view = texts[decision.pk] if decision else None
    return render(request, "_partials/policies/projects_page.html", {"page": page, "area": "office"})


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_policy_office(request)
    project = get_object_or_404(ConstructionProject.objects.select_related("enterprise"), pk=pk)
    return render(request, "_partials/policies/project_page.html", {**project_context(project), "area": "office"})
