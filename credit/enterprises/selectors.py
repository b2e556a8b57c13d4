"""Reads of enterprises and memberships."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.models import User
from credit.enterprises.models import Enterprise, Membership


def _today() -> datetime.date:
    return timezone.localdate()


def memberships_active(*, user: User, on: datetime.date | None = None) -> QuerySet[Membership]:
    """Memberships that grant ``user`` access on day ``on`` (default: today in Asia/Shanghai).

    Confirmed, and for an authorised agent only within the authorisation's validity period: an
    expired (or not yet valid) authorisation grants nothing.
    """
    day = on or _today()
    return Membership.objects.filter(user_id=user.pk, status=Membership.Status.CONFIRMED).filter(
        Q(role=Membership.Role.LEGAL_REPRESENTATIVE) | Q(valid_from__lte=day, valid_until__gte=day)
    )


def enterprise_members(*, enterprise: Enterprise, on: datetime.date | None = None) -> QuerySet[User]:
    """The active users who act for ``enterprise`` on day ``on`` (its confirmed legal
    representatives and agents within their authorisation): who is told about it. One query."""
    day = on or _today()
    memberships = Membership.objects.filter(enterprise=enterprise, status=Membership.Status.CONFIRMED).filter(
        Q(role=Membership.Role.LEGAL_REPRESENTATIVE) | Q(valid_from__lte=day, valid_until__gte=day)
    )
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True).order_by("pk")


def enterprises_for_user(*, user: User, on: datetime.date | None = None) -> QuerySet[Enterprise]:
    """The enterprises ``user`` may act for today. Empty for anonymous users and staff."""
    if not user.is_authenticated:
        return Enterprise.objects.none()
    return Enterprise.objects.filter(pk__in=memberships_active(user=user, on=on).values("enterprise_id")).order_by(
        "name", "id"
    )


def enterprise_get_for_user(*, user: User, pk: int) -> Enterprise | None:
    """The enterprise ``pk`` if ``user`` may act for it today, else ``None`` (the caller answers 404,
    so that a foreign enterprise's existence is never revealed)."""
    return enterprises_for_user(user=user).filter(pk=pk).first()


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """All of a user's memberships, whatever their state (for the user's own overview)."""
    return Membership.objects.filter(user_id=user.pk).select_related("enterprise").order_by("-requested_at", "-id")


def memberships_pending() -> QuerySet[Membership]:
    return Membership.objects.filter(status=Membership.Status.PENDING).select_related("enterprise", "user")
