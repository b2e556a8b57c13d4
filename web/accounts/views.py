"""Accounts: an enterprise user registers an enterprise or asks to join one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises import services
from web.accounts.forms import EnterpriseClaimForm, EnterpriseRegistrationForm

# Where a service error is shown in the form; others go to the top of the form.
_ERROR_FIELDS = {
    "username_taken": "username",
    "document_required": "authorisation_document",
    "document_empty": "authorisation_document",
    "document_too_large": "authorisation_document",
    "document_type_not_allowed": "authorisation_document",
    "document_damaged": "authorisation_document",
    "document_active_content": "authorisation_document",
    "document_too_many_pixels": "authorisation_document",
    "validity_required": "valid_from",
    "validity_reversed": "valid_until",
    "validity_expired": "valid_until",
    "name_required": "enterprise_name",
    "legal_representative_required": "legal_representative",
}


def _add_domain_error(form: EnterpriseClaimForm, exc: DomainError) -> None:
    # every uscc_* refusal belongs to the code's field
    form_error(form, exc, {**_ERROR_FIELDS, exc.code: "uscc"} if exc.code.startswith("uscc_") else _ERROR_FIELDS)


def _membership_terms(data: dict[str, Any]) -> dict[str, Any]:
    """What a membership request states besides the enterprise: who the user is for it (role and
    legal representative) and, for an agent, the authorisation letter and its validity."""
    return {
        "legal_representative": data["legal_representative"],
        "role": data["role"],
        "authorisation_document": data.get("authorisation_document"),
        "valid_from": data.get("valid_from"),
        "valid_until": data.get("valid_until"),
    }


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = EnterpriseRegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, _membership = services.enterprise_user_register(
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
                email=data["email"],
                phone=data["phone"],
                uscc=data["uscc"],
                enterprise_name=data["enterprise_name"],
                **_membership_terms(data),
            )
        except DomainError as exc:
            _add_domain_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Your account is ready. An administrator will confirm that you may act for the enterprise."),
            )
            return redirect("portal:home")
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def membership_join(request: HttpRequest) -> HttpResponse:
    if not request.user.is_enterprise_user:
        raise Http404
    form = EnterpriseClaimForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.enterprise_claim(
                actor=request.user,
                uscc=data["uscc"],
                name=data["enterprise_name"],
                **_membership_terms(data),
            )
        except DomainError as exc:
            _add_domain_error(form, exc)
        else:
            messages.success(request, _("Your request was sent. An administrator will confirm it."))
            return redirect("portal:home")
    return render(request, "accounts/membership_join.html", {"form": form}, status=400 if form.errors else 200)
