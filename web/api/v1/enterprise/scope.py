"""Who may use the enterprise resources, and what they see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from approvals.models import Application
from core.api.models import AccessToken
from core.exceptions import DomainError
from credit.enterprises import selectors as credit_selectors
from credit.models import Enterprise
from web.api.tokens import AUTHENTICATION, THROTTLES, TokenScopePermits

T = TypeVar("T")


class IsEnterpriseUser(BasePermission):
    """Signed in (else 401) as an enterprise user (else 403: staff use the staff resources)."""

    message = _("These resources are for enterprise users.")
    code = "enterprise_users_only"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_enterprise_user", False))


class EnterpriseView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsEnterpriseUser, TokenScopePermits]
    throttle_classes = THROTTLES


def enterprises_of(request: Request) -> QuerySet[Enterprise]:
    """The enterprises the request may act for: the portal's (confirmed memberships valid today),
    narrowed to the token's enterprise when it names one."""
    enterprises = credit_selectors.enterprises_for_user(user=request.user)  # type: ignore[arg-type]
    token = request.auth
    if isinstance(token, AccessToken) and token.enterprise_id is not None:
        enterprises = enterprises.filter(pk=token.enterprise_id)
    return enterprises


def own_enterprise(request: Request, pk: int) -> Enterprise:
    """The enterprise ``pk`` if the request may act for it, else 404 (foreign, pending, expired or
    missing look the same, as on the portal)."""
    enterprise = enterprises_of(request).filter(pk=pk).first()
    if enterprise is None:
        raise NotFound()
    return enterprise


def enterprise_filter(request: Request, queryset: QuerySet[Any], field: str = "enterprise_id") -> QuerySet[Any]:
    """The list's ``?enterprise=`` filter: one of the request's enterprises (another's gives an
    empty list, as the applications' filter does)."""
    value = request.query_params.get("enterprise", "")
    if not value:
        return queryset
    if not value.isdigit():
        raise ValidationError({"enterprise": [_("An enterprise id.")]})
    return queryset.filter(**{field: int(value)})


def applications_of(request: Request) -> QuerySet[Application]:
    return Application.objects.filter(enterprise__in=enterprises_of(request))


def own_application(request: Request, pk: int) -> Application:
    """The application ``pk`` if it belongs to one of the request's enterprises, else 404 (a
    foreign, missing or out-of-scope one look the same)."""
    application = applications_of(request).select_related("item_version__item", "enterprise").filter(pk=pk).first()
    if application is None:
        raise NotFound()
    return application


def service(call: Callable[[], T]) -> T:
    """Run one service call; its ``not_found`` (an object outside the actor's reach that the
    request named in its body) is the API's 404, every other domain error its own 422."""
    try:
        return call()
    except DomainError as exc:
        if exc.code == "not_found":
            raise NotFound(detail=str(exc.message)) from exc
        raise
