"""Preferential policies in the enterprise portal (``/portal/policies/``): which policies the user's
enterprises are eligible for right now and why, applying, following an application to its grant
and disbursements, and construction projects with their §35 wage-deposit decision.

Our own views, scoped to the user's enterprises: anything of another enterprise is 404. The shared
display helpers (conditions, benefits, reason and hint texts) are used by the policy office's and
the auditor's screens too (``policy_office_views``, ``policy_audit_views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises.selectors import enterprises_for_user
from credit.models import Enterprise
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import (
    APPLICATION_KINDS,
    OPEN_APPLICATION_STATUSES,
    ApplicationStatus,
    ConstructionProject,
    PolicyApplication,
    PolicyKind,
    PolicyVersion,
)
from web.policy_display import benefit_texts, condition_texts, decision_views, project_context
from web.portal.forms import PolicyApplyForm, ProjectForm
from workflows.actions import policies as policy_actions

PAGE_SIZE = 20

# --- enterprise portal ------------------------------------------------------------------------------


def _enterprises(request: HttpRequest) -> list[Enterprise]:
    if not (request.user.is_authenticated and request.user.is_enterprise_user):
        raise Http404
    return list(enterprises_for_user(user=request.user))


def _own_application(request: HttpRequest, pk: int) -> PolicyApplication:
    enterprises = _enterprises(request)
    application = (
        policy_selectors.applications_with_details(PolicyApplication.objects.filter(enterprise__in=enterprises))
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def _own_project(request: HttpRequest, pk: int) -> ConstructionProject:
    enterprises = _enterprises(request)
    project = ConstructionProject.objects.filter(pk=pk, enterprise__in=enterprises).select_related("enterprise").first()
    if project is None:
        raise Http404
    return project


@dataclass
class PolicyRow:
    version: PolicyVersion
    conditions: list[str]
    benefits: list[str]
    applicable: bool
    checks: list[dict[str, Any]] = field(default_factory=list)


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    """Every published policy with, for each of the user's enterprises, the newest recorded answer
    and why. Reading the page writes nothing: the answer is recorded (purpose ``policy_check``, so
    that what the enterprise was told can be replayed) when the user asks for a check ("check
    now", ``policy_check``). A deposit waiver is decided per construction project instead."""
    enterprises = _enterprises(request)
    versions = list(policy_selectors.policies_published())
    open_applications = {
        (row["enterprise_id"], row["policy_id"]): row["pk"]
        for row in PolicyApplication.objects.filter(
            enterprise__in=enterprises, status__in=OPEN_APPLICATION_STATUSES
        ).values("pk", "enterprise_id", "policy_id")
    }
    latest = policy_selectors.eligibility_checks_latest(enterprises=enterprises, versions=versions)
    texts = decision_views(list(latest.values()))
    rows: list[PolicyRow] = []
    for version in versions:
        policy = version.policy
        row = PolicyRow(
            version=version,
            conditions=condition_texts(version.conditions),
            benefits=benefit_texts(policy.kind, version.benefits),
            applicable=policy.kind in APPLICATION_KINDS,
        )
        if policy.kind != PolicyKind.DEPOSIT_WAIVER:
            for enterprise in enterprises:
                decision = latest.get((enterprise.pk, version.pk))
                row.checks.append(
                    {
                        "enterprise": enterprise,
                        "decision": decision,
                        "view": texts[decision.pk] if decision is not None else None,
                        "open_application": open_applications.get((enterprise.pk, policy.pk)),
                    }
                )
        rows.append(row)
    context = {"rows": rows, "enterprises": enterprises, "checked": bool(latest)}
    return render(request, "portal/policies/list.html", context)


@login_required
@require_POST
def policy_check(request: HttpRequest) -> HttpResponse:
    """Check now: every enterprise of the user against every published policy, recorded."""
    enterprises = _enterprises(request)
    if not enterprises:
        messages.error(request, _("You do not act for any enterprise yet."))
    else:
        decisions = policy_services.policy_eligibility_check_all(actor=request.user, enterprises=enterprises)
        messages.success(
            request, _("Eligibility checked as of now: %(count)s answers recorded.") % {"count": len(decisions)}
        )
    return HttpResponseRedirect(reverse("policies:list"))


@login_required
@require_http_methods(["GET", "POST"])
def policy_apply(request: HttpRequest, policy_pk: int) -> HttpResponse:
    enterprises = _enterprises(request)
    version = (
        policy_selectors.policies_published()
        .filter(policy_id=policy_pk, policy__kind__in=list(APPLICATION_KINDS))
        .first()
    )
    if version is None:
        raise Http404
    if not enterprises:
        messages.error(request, _("You do not act for any enterprise yet."))
        return HttpResponseRedirect(reverse("policies:list"))
    initial: dict[str, Any] = {}
    chosen = request.GET.get("enterprise", "")
    if chosen.isdigit():
        initial["enterprise"] = int(chosen)
    form = PolicyApplyForm(request.POST or None, enterprises=enterprises, version=version, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next(e for e in enterprises if e.pk == data["enterprise"])
        try:
            application = policy_actions.policy_apply_and_start(
                actor=request.user,
                enterprise=enterprise,
                policy=version.policy,
                requested_amount=data["requested_amount"],
                requested_term_months=data["requested_term_months"],
                statement=data["statement"],
            )
        except DomainError as exc:
            form_error(
                form,
                exc,
                {
                    "amount_invalid": "requested_amount",
                    "term_invalid": "requested_term_months",
                    "statement_too_long": "statement",
                },
            )
        else:
            if application.status == ApplicationStatus.PENDING_REVIEW:
                messages.success(
                    request, _("Submitted. You are eligible; the policy office will review the application.")
                )
            else:
                messages.warning(request, _("The application was refused at once: the enterprise is not eligible."))
            return HttpResponseRedirect(reverse("policies:application", args=[application.pk]))
    context = {
        "version": version,
        "policy": version.policy,
        "conditions": condition_texts(version.conditions),
        "benefits": benefit_texts(version.policy.kind, version.benefits),
        "form": form,
    }
    return render(request, "portal/policies/apply.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    enterprises = _enterprises(request)
    applications = policy_selectors.applications_with_details(
        PolicyApplication.objects.filter(enterprise__in=enterprises).order_by("-submitted_at", "-id")
    )
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    texts = decision_views([a.eligibility for a in page])
    for application in page:
        application.view = texts.get(application.eligibility_id) if application.eligibility_id else None
    return render(request, "portal/policies/applications.html", {"page": page})


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    texts = decision_views([application.eligibility])
    context = {
        "application": application,
        "view": texts.get(application.eligibility_id) if application.eligibility_id else None,
        "grant": getattr(application, "grant", None),
        "process": policy_actions.process_of(application),
    }
    return render(request, "portal/policies/application.html", context)


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    try:
        policy_actions.policy_withdraw_and_cancel(actor=request.user, application=application)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The application was withdrawn."))
    return HttpResponseRedirect(reverse("policies:application", args=[pk]))


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    enterprises = _enterprises(request)
    projects = (
        ConstructionProject.objects.filter(enterprise__in=enterprises)
        .select_related("enterprise")
        .order_by("-created_at", "-id")
    )
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    latest = policy_selectors.latest_deposit_decisions(page)
    texts = decision_views(list(latest.values()))
    for project in page:
        decision = latest.get(project.pk)
        project.view = texts[decision.pk] if decision else None
    return render(request, "_partials/policies/projects_page.html", {"page": page, "area": "portal"})


_PROJECT_ERROR_FIELDS = {
    "name_required": "name",
    "reference_too_long": "reference",
    "amount_invalid": "contract_amount",
    "base_invalid": "wage_deposit_base",
}


@login_required
@require_http_methods(["GET", "POST"])
def project_register(request: HttpRequest) -> HttpResponse:
    """Register a project and decide its wage deposit at once (both or neither)."""
    enterprises = _enterprises(request)
    if not enterprises:
        messages.error(request, _("You do not act for any enterprise yet."))
        return HttpResponseRedirect(reverse("policies:projects"))
    form = ProjectForm(request.POST or None, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next(e for e in enterprises if e.pk == data["enterprise"])
        try:
            project = policy_services.construction_project_register_and_decide(
                actor=request.user,
                enterprise=enterprise,
                name=data["name"],
                reference=data["reference"],
                contract_amount=data["contract_amount"],
                wage_deposit_base=data["wage_deposit_base"],
            )
        except DomainError as exc:
            form_error(form, exc, _PROJECT_ERROR_FIELDS)
        else:
            messages.success(request, _("The project is registered and its wage deposit decided."))
            return HttpResponseRedirect(reverse("policies:project", args=[project.pk]))
    return render(request, "portal/policies/project_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _own_project(request, pk)
    return render(request, "_partials/policies/project_page.html", {**project_context(project), "area": "portal"})


@login_required
@require_POST
def project_decide_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Decide the deposit again from the credit record as it stands now (a new decision; the
    earlier ones stay on record)."""
    project = _own_project(request, pk)
    try:
        policy_services.deposit_waiver_decide(actor=request.user, project=project)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The wage deposit was decided again from the current credit record."))
    return HttpResponseRedirect(reverse("policies:project", args=[pk]))
