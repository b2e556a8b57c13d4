"""Reads of personal access tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from core.api.models import AccessToken
from core.api.services import TOKEN_PREFIX, secret_sha256
from core.models import User


def access_token_for_secret(*, secret: str) -> AccessToken | None:
    """The token whose secret this is (revoked and expired included: the caller says which), or
    ``None``."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return AccessToken.objects.select_related("user").filter(key_sha256=secret_sha256(secret)).first()


def access_tokens_of(*, user: User) -> QuerySet[AccessToken]:
    """The user's tokens, newest first (revoked and expired ones too, for the record)."""
    return AccessToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id")
