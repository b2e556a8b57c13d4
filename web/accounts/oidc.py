"""Single sign-on through the province's OpenID Connect identity service (统一身份认证).

mozilla-django-oidc runs the authorisation-code flow (state, nonce and PKCE kept in the session,
the ID token's signature checked against the provider's JWKS); this module adapts it to the site:

- everything is off unless ``settings.SSO_ENABLED``: the views answer 404, the backend ignores
  every call, so a password log-in never reaches it;
- the provider's endpoints come from the settings or, lazily, from its discovery document
  (``provider_setting``), never fetched at start-up;
- the ID token must also name our client as its audience and the expected issuer (the library
  checks neither), and the userinfo claims must be the same subject's;
- which account the verified person opens is decided by ``approvals.organisation.sso``; a refusal
  is a page saying why, never an account for a stranger;
- signing out ends the provider's session too when it publishes an end-session endpoint.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from approvals.organisation.sso import SSORefusedError, sso_login_resolve

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600

# Our setting → the discovery document's key (OpenID Connect Discovery 1.0, § 3).
_DISCOVERY_KEYS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
    "OIDC_OP_ISSUER": "issuer",
}


class ProviderUnavailableError(Exception):
    """The identity service could not be reached or answered nonsense."""


def sso_enabled() -> bool:
    return bool(getattr(settings, "SSO_ENABLED", False))


def discovery_url() -> str:
    url = settings.OIDC_OP_DISCOVERY_URL
    if url and not url.rstrip("/").endswith(DISCOVERY_SUFFIX):
        url = url.rstrip("/") + DISCOVERY_SUFFIX
    return str(url)


def _discovery_document() -> dict[str, Any]:
    url = discovery_url()
    key = "oidc-discovery:" + hashlib.sha256(url.encode()).hexdigest()
    document = cache.get(key)
    if document is None:
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()  # Any until the check below
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailableError(f"discovery document {url}: {exc}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailableError(f"discovery document {url} is not a JSON object")
        # OpenID Connect Discovery § 4.3: the issuer it names is the URL it was read from, so a
        # document served elsewhere cannot make us trust another issuer's tokens.
        if document.get("issuer") != url.removesuffix(DISCOVERY_SUFFIX):
            raise ProviderUnavailableError(f"discovery document {url} names issuer {document.get('issuer')!r}")
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return cast(dict[str, Any], document)


def provider_setting(name: str) -> str:
    """An endpoint (or the issuer) of the provider: the setting when given, else its discovery
    document's value, else ``""``. Raises ``ProviderUnavailableError`` when the document is needed
    and cannot be read."""
    explicit = str(getattr(settings, name, "") or "")
    if explicit or not settings.OIDC_OP_DISCOVERY_URL:
        return explicit
    value = _discovery_document().get(_DISCOVERY_KEYS[name], "")
    return value if isinstance(value, str) else ""


class ProvincialIdentityBackend(OIDCAuthenticationBackend):
    """Answers only the OIDC callback (the call that carries a nonce), and only with SSO on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads (and requires) every endpoint here, but Django builds each backend at
        # every password log-in and every request's session look-up: read them when used instead.
        self.UserModel = get_user_model()

    def _configure(self) -> None:
        self.OIDC_OP_TOKEN_ENDPOINT = provider_setting("OIDC_OP_TOKEN_ENDPOINT")
        self.OIDC_OP_USER_ENDPOINT = provider_setting("OIDC_OP_USER_ENDPOINT")
        self.OIDC_OP_JWKS_ENDPOINT = provider_setting("OIDC_OP_JWKS_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.expected_issuer = provider_setting("OIDC_OP_ISSUER")
        if not (self.OIDC_OP_TOKEN_ENDPOINT and self.OIDC_OP_USER_ENDPOINT and self.OIDC_OP_JWKS_ENDPOINT):
            raise ProviderUnavailableError("the provider's discovery document lacks an endpoint")

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if request is None or not sso_enabled() or "nonce" not in kwargs or "username" in kwargs:
            return None
        self._configure()
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        if self.expected_issuer and payload.get("iss") != self.expected_issuer:
            raise SuspiciousOperation("The ID token names another issuer.")
        if not payload.get("sub") or not payload.get("iss"):
            raise SuspiciousOperation("The ID token names no subject or issuer.")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(claims, dict) or claims.get("sub") != payload["sub"]:
            # OpenID Connect Core § 5.3.2: userinfo of another subject must not be used.
            raise SuspiciousOperation("The userinfo answer is about another subject.")
        return sso_login_resolve(issuer=payload["iss"], subject=str(payload["sub"]), claims=claims).user

    def get_user(self, user_id: Any) -> Any:
        # The library's own get_user would keep a disabled account's session alive.
        return ModelBackend.get_user(self, user_id)

    # Permissions are ModelBackend's and guardian's business, not this backend's.
    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return False


def _refusal(request: HttpRequest, *, code: str, message: Any, status: int) -> HttpResponse:
    return render(request, "accounts/sso_refused.html", {"code": code, "message": message}, status=status)


def _provider_down(request: HttpRequest) -> HttpResponse:
    return _refusal(
        request,
        code="sso_provider_unavailable",
        message=_(
            "The provincial identity service cannot be reached just now. Try again later or log in with your password."
        ),
        status=502,
    )


class SSOAuthenticateView(OIDCAuthenticationRequestView):
    """GET: off to the provider's authorisation endpoint, with state, nonce and PKCE challenge."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailableError:
            return _provider_down(request)
        if not self.OIDC_OP_AUTH_ENDPOINT:
            return _provider_down(request)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().get(request)
        return response


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """GET from the provider with ``code`` and ``state``: verify, map, sign in, or say why not."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            response: HttpResponse = super().get(request)
        except SSORefusedError as exc:
            return _refusal(request, code=exc.code, message=exc.message, status=403)
        except SuspiciousOperation:
            # An unknown state (a replayed or forged callback), a nonce, signature, audience or
            # issuer that does not match: nothing is believed, nobody is signed in.
            return _refusal(
                request,
                code="sso_verification_failed",
                message=_("The answer of the identity service could not be verified. Start the log-in again."),
                status=400,
            )
        except (requests.RequestException, ProviderUnavailableError, ValueError):
            return _provider_down(request)
        return response

    def login_failure(self) -> HttpResponse:
        return _refusal(
            self.request,
            code="sso_failed",
            message=_("The identity service did not sign you in. Start the log-in again."),
            status=400,
        )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sso_enabled": sso_enabled()}


class LogoutView(auth_views.LogoutView):
    """Sign out here and, after an SSO log-in, at the provider's end-session endpoint too
    (OpenID Connect RP-Initiated Logout 1.0), which sends the browser back to our home page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response: HttpResponse = super().post(request, *args, **kwargs)
        if not (id_token and sso_enabled()):
            return response
        try:
            end_session = provider_setting("OIDC_OP_LOGOUT_ENDPOINT")
        except ProviderUnavailableError:
            return response  # signed out here; the provider's session ends on its own
        if not end_session:
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
            }
        )
        return HttpResponseRedirect(f"{end_session}{'&' if '?' in end_session else '?'}{query}")
