"""The enterprise user's personal access tokens for the API: list, make (the secret is shown on
this one answer and never again), revoke."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.api import selectors as token_selectors
from core.api import services as token_services
from core.api.models import AccessToken
from core.exceptions import DomainError
from core.forms import form_error
from credit.enterprises import selectors as credit_selectors

DEFAULT_DAYS = 90


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “filing system”."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"), choices=AccessToken.Scope.choices, initial=AccessToken.Scope.READ
    )
    enterprise = forms.TypedChoiceField(label=gettext_lazy("Enterprise"), coerce=int, required=False, empty_value=None)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The token stops working at the end of this day."),
    )

    def __init__(self, *args: object, enterprises: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["enterprise"]
        field.choices = [("", _("Every enterprise I act for")), *enterprises]  # type: ignore[attr-defined]


def _enterprise_user(request: HttpRequest) -> None:
    if not request.user.is_enterprise_user:
        raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    _enterprise_user(request)
    enterprises = [(e.pk, f"{e.name} ({e.uscc})") for e in credit_selectors.enterprises_for_user(user=request.user)]
    today = timezone.localdate()
    form = TokenForm(
        request.POST or None,
        enterprises=enterprises,
        initial={"expires_on": today + datetime.timedelta(days=min(DEFAULT_DAYS, settings.API_TOKEN_MAX_DAYS))},
    )
    secret = None
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = token_services.access_token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_on=form.cleaned_data["expires_on"],
                enterprise_id=form.cleaned_data["enterprise"],
            )
        except DomainError as exc:
            form_error(form, exc, {"token_expiry_invalid": "expires_on", "token_name_required": "name"})
        else:
            form = TokenForm(enterprises=enterprises, initial={"expires_on": form.cleaned_data["expires_on"]})
    names = dict(enterprises)
    tokens = list(token_selectors.access_tokens_of(user=request.user))
    now = timezone.now()
    for token in tokens:
        token.enterprise_label = names.get(token.enterprise_id, "") if token.enterprise_id else ""  # type: ignore[attr-defined]
        token.usable = token.is_usable(now=now)  # type: ignore[attr-defined]
    context = {
        "form": form,
        "tokens": tokens,
        "secret": secret,
        "created": created,
        "max_days": settings.API_TOKEN_MAX_DAYS,
    }
    return render(request, "portal/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _enterprise_user(request)
    try:
        token_services.access_token_revoke(actor=request.user, token_id=pk)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The token was revoked."))
    return HttpResponseRedirect(reverse("portal:tokens"))
