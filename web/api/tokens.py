"""Personal access tokens on the API: ``Authorization: Bearer rfp_…``.

- ``BearerTokenAuthentication`` refuses an unknown, expired or revoked token with 401 (codes
  ``token_invalid``, ``token_expired``, ``token_revoked``) and an inactive owner likewise; a request
  without the header is left to the next class (the browser session);
- ``TokenScopePermits``: a ``read`` token may only read (403 ``token_scope_insufficient``); the
  session is not a token and keeps the screens' rights;
- ``TokenRateThrottle``: each token has its own budget (``API_TOKEN_RATE``), keyed on the token,
  not the user, so one runaway script does not starve its owner's other tokens;
  ``AnonRateThrottle`` gives anonymous callers of the public resources one budget per address.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, throttling
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from core.api import selectors as token_selectors
from core.api import services as token_services
from core.api.models import AccessToken


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as “Authorization: Bearer <token>”."), code="token_invalid"
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Unknown token."), code="token_invalid") from None
        token = token_selectors.access_token_for_secret(secret=secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Unknown token."), code="token_invalid")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."), code="token_revoked")
        if not token.is_usable():
            raise exceptions.AuthenticationFailed(_("This token has expired."), code="token_expired")
        token_services.access_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Its presence makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class TokenScopePermits(BasePermission):
    """A token's scope bounds what it may do: ``read`` only safe methods, ``write`` everything its
    owner may do. A browser session is not a token and is not bounded here."""

    message = _("This token may only read.")
    code = "token_scope_insufficient"

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, AccessToken) or request.method in SAFE_METHODS:
            return True
        return token.scope == AccessToken.Scope.WRITE


class TokenRateThrottle(throttling.SimpleRateThrottle):
    scope = "api_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, AccessToken):
            return None  # not a token: not throttled here
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonRateThrottle(throttling.AnonRateThrottle):
    scope = "api_anon"


# What every endpoint of the enterprise and public resources authenticates with, in this order:
# the bearer token first, so that a request without credentials is told 401 with its challenge.
AUTHENTICATION = [BearerTokenAuthentication, SessionAuthentication]
THROTTLES = [TokenRateThrottle, AnonRateThrottle]


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The token in the OpenAPI schema: an HTTP bearer scheme."""

    target_class = BearerTokenAuthentication
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (rfp_…) made on the portal's token page; read or write scope.",
        }
