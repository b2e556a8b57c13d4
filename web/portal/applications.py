"""The enterprise portal's applications: file (draft, materials, submit), follow, answer a
supplement notice, withdraw. Our own views, scoped to the user's enterprises; anything else is 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from approvals.applications import selectors
from approvals.models import Application, ApprovalItemVersion, SupplementNotice
from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises import selectors as credit_selectors
from web.portal import forms as wf_forms
from workflows.actions import applications as actions

PAGE_SIZE = 20


def _enterprise_user(request: HttpRequest) -> None:
    if not request.user.is_enterprise_user:
        raise Http404


def _own_application(request: HttpRequest, pk: int) -> Application:
    _enterprise_user(request)
    application = (
        Application.objects.select_related("item_version__item", "enterprise")
        .filter(pk=pk, enterprise__in=credit_selectors.enterprises_for_user(user=request.user))
        .first()
    )
    if application is None:
        raise Http404
    return application


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    _enterprise_user(request)
    applications = selectors.applications_with_clock(
        Application.objects.filter(enterprise__in=credit_selectors.enterprises_for_user(user=request.user))
        .select_related("item_version", "enterprise")
        .order_by("-created_at", "-id")
    )
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    # The same light as the case page: a suspended case does not turn red inside an excluded period.
    selectors.applications_annotate_standing(list(page))
    return render(request, "portal/application_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def application_file(request: HttpRequest, version_pk: int) -> HttpResponse:
    """File an application for a published item: save as draft, or submit (idempotent)."""
    _enterprise_user(request)
    version = ApprovalItemVersion.objects.filter(pk=version_pk, status=ApprovalItemVersion.Status.PUBLISHED).first()
    if version is None:
        raise Http404
    enterprises = list(credit_selectors.enterprises_for_user(user=request.user))
    if not enterprises:
        messages.error(request, _("You do not act for any enterprise yet."))
        return HttpResponseRedirect(reverse("portal:home"))
    draft = None
    draft_pk = request.GET.get("draft") or request.POST.get("draft")
    if draft_pk and draft_pk.isdigit():
        draft = Application.objects.filter(
            pk=int(draft_pk), applicant=request.user, status=Application.Status.DRAFT, item_version=version
        ).first()
    initial: dict[str, Any] = {"idempotency_key": draft.idempotency_key if draft else uuid.uuid4()}
    if draft:
        initial.update(draft.form_data, enterprise=draft.enterprise_id)
    form = wf_forms.ApplicationForm(
        request.POST or None, request.FILES or None, enterprises=enterprises, item_version=version, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            application = actions.application_file(
                actor=request.user,
                enterprise_id=form.cleaned_data["enterprise"],
                item_version_id=version.pk,
                form_data=form.form_data(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                uploads=[
                    (material.pk, request.FILES[name])
                    for material, name in form.material_fields
                    if name in request.FILES
                ],
                submit=submit,
            )
        except DomainError as exc:
            if exc.code == "application_not_draft":
                # A retry of a submission that already went through: show it, create nothing.
                existing = Application.objects.get(
                    applicant=request.user, idempotency_key=form.cleaned_data["idempotency_key"]
                )
                return HttpResponseRedirect(reverse("portal:application_submitted", args=[existing.pk]))
            form_error(form, exc)
        else:
            if submit:
                return HttpResponseRedirect(reverse("portal:application_submitted", args=[application.pk]))
            if "commitment" in request.POST and application.status == Application.Status.DRAFT:
                return HttpResponseRedirect(reverse("portal:commitment", args=[application.pk]))
            messages.success(request, _("Draft saved."))
            return HttpResponseRedirect(
                reverse("portal:application_file", args=[version.pk]) + f"?draft={application.pk}"
            )
    context = {
        "form": form,
        "version": version,
        "draft": draft,
        "draft_materials": draft.materials.select_related("required_material") if draft else [],
    }
    return render(request, "portal/application_file.html", context, status=400 if form.errors else 200)


@login_required
def application_submitted(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    if application.status == Application.Status.DRAFT:
        raise Http404
    return render(request, "portal/application_submitted.html", {"application": application})


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    return render(request, "portal/application_detail.html", _detail_context(application))


def _detail_context(
    application: Application, *, answer_form: wf_forms.SupplementAnswerForm | None = None
) -> dict[str, Any]:
    context = selectors.application_page(application, labels=wf_forms.application_field_labels())
    # the bureau's internal deliberation on an extension is not the applicant's: they see the
    # extension once the head of the bureau granted it (and its written notice)
    context["events"] = context["events"].exclude(action__in=selectors.INTERNAL_EVENT_ACTIONS)
    context.pop("extension_requests", None)
    open_notice = application.supplements.filter(answered_at__isnull=True).first()
    context["open_notice"] = open_notice
    if open_notice is not None and answer_form is None:
        answer_form = wf_forms.SupplementAnswerForm(notice=open_notice)
    context["answer_form"] = answer_form if open_notice is not None else None
    context["withdraw_form"] = wf_forms.WithdrawForm() if application.is_open else None
    from web.portal.ratings import rating_context  # (that module builds on this one)

    context.update(rating_context(application))
    return context


@login_required
@require_POST
def supplement_answer(request: HttpRequest, pk: int, notice_pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    notice = SupplementNotice.objects.filter(pk=notice_pk, application=application).first()
    if notice is None:
        raise Http404
    form = wf_forms.SupplementAnswerForm(request.POST, request.FILES, notice=notice)
    if form.is_valid():
        try:
            actions.supplement_answer_and_route(
                actor=request.user,
                application=application,
                notice=notice,
                answer=form.cleaned_data["answer"],
                uploads=form.uploads(),
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your answer was sent."))
            return HttpResponseRedirect(reverse("portal:application", args=[pk]))
    # Show the page again with the form's errors beside its slots (nothing was written).
    return render(request, "portal/application_detail.html", _detail_context(application, answer_form=form), status=400)


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own_application(request, pk)
    form = wf_forms.WithdrawForm(request.POST)
    reason = form.data.get("reason", "")[:1000]
    try:
        actions.application_withdraw_and_cancel(actor=request.user, application=application, reason=reason)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The application was withdrawn."))
    return HttpResponseRedirect(reverse("portal:application", args=[pk]))
