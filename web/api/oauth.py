"""The API's glue for the systems of other authorities (OAuth2 client credentials through
django-oauth-toolkit): who is calling, what its token may do, how often it may call.

- ``SystemClientAuthentication``: a bearer token of a client that is an active system account
  (``core.system_accounts``) authenticates as the account's service user, so every write is
  attributed to a real actor. No token → 401 ``not_authenticated``; a token that is unknown,
  expired or revoked → 401 ``token_invalid``; a client that is no (longer an) active system
  account → 401 ``client_inactive``. A session never authenticates here.
- ``ScopeRequired``: the endpoint's ``required_scope`` must be both in the token and still held by
  the account (a withdrawn scope stops tokens already issued) → else 403 ``scope_missing``.
- ``SystemClientThrottle``: per client (every token of one account counts together), at
  ``settings.API_SYSTEM_CLIENT_RATE``.
- ``token_patterns``: the token endpoint (and revocation) mounted at ``/oauth/``; no
  authorisation-code screens, no application self-service.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider import views as oauth2_views
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AbstractAccessToken
from oauth2_provider.settings import oauth2_settings
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.models import User
from core.system_accounts.models import SystemAccount

TOKEN_URL = "/oauth/token/"  # noqa: S105  (a path, not a secret)


def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Where django-oauth-toolkit's ``Application.get_absolute_url`` points (``oauth2_provider:detail``,
    e.g. the admin's "view on site"): the client's page in the admin, which checks who asks. The
    toolkit's own application screens are not mounted (no self-service clients)."""
    return HttpResponseRedirect(reverse("admin:oauth2_provider_application_change", args=[pk]))


token_patterns = [
    path("token/", oauth2_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("applications/<int:pk>/", application_detail, name="detail"),
]


def system_account_of(request: Request) -> SystemAccount | None:
    """The system account a request is authenticated as (``None`` for anyone else)."""
    user = request.user
    if isinstance(user, User) and user.is_system_account and isinstance(request.auth, AbstractAccessToken):
        return getattr(request, "system_account", None)
    return None


class SystemClientAuthentication(OAuth2Authentication):  # type: ignore[misc]
    www_authenticate_realm = "reformflow"

    def authenticate(self, request: Request) -> tuple[User, AbstractAccessToken] | None:
        result = super().authenticate(request)
        if result is None:
            header = request.META.get("HTTP_AUTHORIZATION", "")
            if header.split(" ", 1)[0].lower() == "bearer":
                raise exceptions.AuthenticationFailed(
                    _("The access token is unknown, expired or revoked."), code="token_invalid"
                )
            return None
        _user, token = result
        account = (
            SystemAccount.objects.select_related("user")
            .filter(application_id=token.application_id, is_active=True, user__is_active=True)
            .first()
        )
        if account is None:
            raise exceptions.AuthenticationFailed(
                _("This client is not an active system account."), code="client_inactive"
            )
        request.system_account = account  # type: ignore[attr-defined]
        return account.user, token


class ScopeRequired(BasePermission):
    """The view's ``required_scope`` is in the token and still held by its system account."""

    message = _("The access token lacks the scope this endpoint needs.")
    code = "scope_missing"

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = view.required_scope
        account = system_account_of(request)
        token = request.auth
        if account is None or not isinstance(token, AbstractAccessToken):
            return False
        return bool(token.allow_scopes([scope]) and account.allows(scope))


class SystemClientThrottle(SimpleRateThrottle):
    scope = "system_client"

    def get_rate(self) -> str:
        return str(settings.API_SYSTEM_CLIENT_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, AbstractAccessToken):
            return None  # nobody to count for: authentication has refused already
        return self.cache_format % {"scope": self.scope, "ident": f"client-{token.application_id}"}


class SystemClientScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The OAuth2 security scheme (client credentials) of the system endpoints, each operation
    naming the scope it needs."""

    target_class = "web.api.oauth.SystemClientAuthentication"
    name = "systemClient"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": str(_("Client credentials of a system account of another authority.")),
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": dict(oauth2_settings.SCOPES)}},
        }

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        scope = getattr(auto_schema.view, "required_scope", None)
        return {self.name: [scope] if scope else []}
