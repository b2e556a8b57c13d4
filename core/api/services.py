"""Writes of personal access tokens and idempotency records.

A token's secret is ``rfp_`` + 43 URL-safe characters (256 bits from ``secrets``); only its SHA-256
is stored, so a stolen database gives no usable token. A lookup by hash needs no constant-time
comparison: the database compares digests of secrets, not the secrets.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.api.models import AccessToken, IdempotencyRecord
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record

TOKEN_PREFIX = "rfp_"  # noqa: S105 (the fixed start of every secret, not a secret)
# Shown on the token page so the owner can tell tokens apart; 8 random characters reveal 48 of
# the secret's 256 bits.
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# A token in use is marked used at most this often: one write per minute, not per request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenError(DomainError):
    pass


class IdempotencyError(DomainError):
    pass


class IdempotencyInFlightError(IdempotencyError):
    """The first request with this key has not finished: the caller answers 409."""


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def access_token_create(
    *,
    actor: User,
    name: str,
    scope: str,
    expires_on: datetime.date,
    enterprise_id: int | None = None,
) -> tuple[AccessToken, str]:
    """Make a token for ``actor`` (an enterprise user) and return it with its secret, which is
    shown this once and never again. It expires at the end of ``expires_on`` (Asia/Shanghai),
    at most ``API_TOKEN_MAX_DAYS`` days from today. ``enterprise_id`` narrows it to one enterprise
    (it grants nothing there unless the user acts for it when the token is used).

    Errors: ``token_not_for_staff``, ``token_name_required``, ``token_scope_invalid``,
    ``token_expiry_invalid``."""
    if not actor.is_authenticated or not actor.is_enterprise_user:
        raise TokenError("token_not_for_staff", _("Personal access tokens are for enterprise users."))
    name = (name or "").strip()
    if not name:
        raise TokenError("token_name_required", _("Name the token (what it is for)."))
    if scope not in AccessToken.Scope.values:
        raise TokenError("token_scope_invalid", _("Choose read or read and write."))
    today = timezone.localdate()
    latest = today + datetime.timedelta(days=settings.API_TOKEN_MAX_DAYS)
    if not today < expires_on <= latest:
        raise TokenError(
            "token_expiry_invalid",
            _("A token expires after today and at most %(days)s days from now.")
            % {"days": settings.API_TOKEN_MAX_DAYS},
        )
    end_of_day = datetime.datetime.combine(
        expires_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=actor,
            enterprise_id=enterprise_id,
            name=name[:100],
            scope=scope,
            prefix=secret[:PREFIX_LENGTH],
            key_sha256=secret_sha256(secret),
            expires_at=end_of_day,
        )
        audit_event_record(
            actor=actor,
            action="access_token.created",
            obj=token,
            data={"name": token.name, "scope": scope, "expires_at": end_of_day, "enterprise_id": enterprise_id},
        )
    return token, secret


def access_token_revoke(*, actor: User, token_id: int) -> AccessToken:
    """Revoke one of ``actor``'s own tokens: it is refused from the next request on.

    Errors: ``not_found`` (not the actor's token), ``token_revoked`` (already revoked)."""
    now = timezone.now()
    with transaction.atomic():
        token = AccessToken.objects.select_for_update().filter(pk=token_id, user_id=actor.pk).first()
        if token is None:
            raise TokenError("not_found", _("No such token."))
        if token.revoked_at is not None:
            raise TokenError("token_revoked", _("This token was already revoked."))
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_event_record(actor=actor, action="access_token.revoked", obj=token, data={"name": token.name})
    return token


def access_token_mark_used(*, token: AccessToken) -> None:
    """Record that ``token`` was used now (at most once per ``LAST_USED_RESOLUTION``)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# --- idempotency --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotencyClaim:
    """The outcome of ``idempotency_begin``: the record, and whether the caller replays its
    stored answer (``replay``) or does the work and then calls finish or release."""

    record: IdempotencyRecord
    replay: bool


def idempotency_begin(*, actor: User, key: str, request_sha256: str) -> IdempotencyClaim:
    """Claim ``key`` for ``actor``'s request, or find what became of the first request with it.

    The claim (an ``in_flight`` record) is committed on its own, before the work: a concurrent
    request with the same key then collides with it on the unique (actor, key) constraint and is
    told so, instead of waiting or doing the work twice. A claim whose lease ran out (its request
    died) is taken over by compare-and-swap, so exactly one retry wins it.

    Errors: ``idempotency_key_reused`` (the key was used for another request),
    ``idempotency_in_flight`` (``IdempotencyInFlightError``: the first request is still running)."""
    lease = datetime.timedelta(seconds=settings.API_IDEMPOTENCY_LEASE_SECONDS)
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    actor=actor, key=key, request_sha256=request_sha256, created_at=now, lease_until=now + lease
                )
            return IdempotencyClaim(record=record, replay=False)
        except IntegrityError:
            pass
        record_or_none = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
        if record_or_none is None:
            continue  # released between our insert and our read: try to claim it again
        record = record_or_none
        if record.request_sha256 != request_sha256:
            raise IdempotencyError(
                "idempotency_key_reused", _("This Idempotency-Key was already used for another request.")
            )
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotencyClaim(record=record, replay=True)
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT, lease_until__lt=now
        ).update(lease_until=now + lease)
        if taken == 1:
            record.lease_until = now + lease
            return IdempotencyClaim(record=record, replay=False)
        raise IdempotencyInFlightError(
            "idempotency_in_flight", _("A request with this Idempotency-Key is still being processed; retry later.")
        )
    raise IdempotencyInFlightError(
        "idempotency_in_flight", _("A request with this Idempotency-Key is still being processed; retry later.")
    )


def idempotency_finish(*, record: IdempotencyRecord, status: int, body: object) -> None:
    """Store the answer of the claimed request, for every retry to replay."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).update(
        state=IdempotencyRecord.State.DONE, response_status=status, response_body=body, finished_at=timezone.now()
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request was refused or failed: nothing was written, so the key may be
    used again (for the corrected request)."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT).delete()
