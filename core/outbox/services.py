"""Writes of the outbox.

``notify`` is called by the service that decided, inside its transaction: the message and its
deliveries commit or roll back with the decision, and the delivery is handed to Celery only after
commit. ``delivery_attempt`` is what the worker runs: under the delivery's row lock (a second
worker skips it), it sends once, records the outcome, and on failure schedules the next attempt
with exponential backoff until the last one, after which the delivery is dead.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import User
from core.outbox.channels import SENDERS
from core.outbox.kinds import notice_kind
from core.outbox.models import Delivery, OutboxMessage, SiteMessage
from core.outbox.preferences import channels_for
from core.services import audit_event_record

logger = logging.getLogger("reformflow.outbox")

Status = Delivery.Status
# A queued delivery younger than this is left to the hand-off at commit; the sweep takes the rest.
SWEEP_GRACE = datetime.timedelta(seconds=30)


def _language_of(recipient: User) -> str:
    return recipient.language or settings.LANGUAGE_CODE


def notify(
    *,
    recipient: User,
    kind: str,
    dedupe_key: str,
    context: Mapping[str, Any] | None = None,
    obj: models.Model | None = None,
) -> OutboxMessage:
    """Tell ``recipient`` about ``kind`` (with the values ``context`` gives its texts), about
    ``obj``. Written in the caller's transaction; the same ``dedupe_key`` again returns the
    message already written and adds nothing."""
    spec = notice_kind(kind)
    now = timezone.now()
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe_key[:200],
            defaults={
                "recipient": recipient,
                "kind": kind,
                "context": dict(context or {}),
                "language": _language_of(recipient),
                "object_type": obj._meta.label_lower if obj is not None else "",
                "object_id": str(obj.pk) if obj is not None else "",
            },
        )
        if not created:
            return message
        channels = channels_for(recipient, spec)
        deliveries = Delivery.objects.bulk_create(
            [Delivery(message=message, channel=channel, next_attempt_at=now) for channel in channels]
        )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: deliveries_enqueue(ids))
    return message


def deliveries_enqueue(ids: Iterable[int], *, countdown: float | None = None) -> None:
    """Hand deliveries to the workers. A broker that is down loses nothing: the rows wait for the
    sweep."""
    from core.tasks import outbox_deliver

    for pk in ids:
        try:
            outbox_deliver.apply_async(args=[pk], countdown=countdown)
        except Exception:  # noqa: BLE001  (any broker failure; the sweep retries)
            logger.warning("outbox: delivery %s not handed to a worker; the sweep will", pk, exc_info=True)


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before attempt ``attempts + 1``: base · 2^(attempts - 1), capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def delivery_attempt(delivery_id: int) -> str:
    """Send one delivery if it is due; returns what happened (``sent``, ``failed``, ``dead``,
    ``busy`` when another worker holds it, ``not_due``, or the final state it was already in)."""
    now = timezone.now()
    retry_in: float | None = None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("message__recipient")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "busy"
        if delivery.status in (Status.SENT, Status.DEAD):
            return delivery.status
        if delivery.next_attempt_at > now:
            return "not_due"
        delivery.attempts += 1
        try:
            with transaction.atomic():
                delivery.external_id = SENDERS[delivery.channel](delivery)
        except Exception as exc:  # noqa: BLE001  (a channel may fail in any way; it is recorded)
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                delivery.status = Status.DEAD
                logger.error("outbox: delivery %s is dead after %s attempts", delivery.pk, delivery.attempts)
            else:
                delivery.status = Status.FAILED
                wait = backoff(delivery.attempts)
                delivery.next_attempt_at = now + wait
                retry_in = wait.total_seconds()
        else:
            delivery.status = Status.SENT
            delivery.sent_at = now
            delivery.last_error = ""
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "sent_at", "external_id"])
        outcome = delivery.status
    if retry_in is not None:
        deliveries_enqueue([delivery_id], countdown=retry_in)
    return outcome


def outbox_sweep(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Hand every due delivery to the workers again (one whose hand-off at commit was lost, or
    whose retry is due). Returns how many."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        models.Q(status=Status.QUEUED, next_attempt_at__lte=now - SWEEP_GRACE)
        | models.Q(status=Status.FAILED, next_attempt_at__lte=now)
    ).order_by("next_attempt_at", "id")
    ids = list(due.values_list("pk", flat=True)[:limit])
    deliveries_enqueue(ids)
    return len(ids)


def deliveries_replay(*, actor: User, deliveries: Iterable[Delivery]) -> int:
    """An administrator sends dead deliveries again (attempts start over)."""
    if not (actor.is_active and actor.is_superuser):
        raise DomainError("permission_denied", _("Only an administrator replays deliveries."))
    ids: list[int] = []
    with transaction.atomic():
        for delivery in Delivery.objects.select_for_update().filter(
            pk__in=[d.pk for d in deliveries], status=Status.DEAD
        ):
            delivery.status = Status.QUEUED
            delivery.attempts = 0
            delivery.next_attempt_at = timezone.now()
            delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
            audit_event_record(actor=actor, action="outbox.replayed", obj=delivery, data={"channel": delivery.channel})
            ids.append(delivery.pk)
    transaction.on_commit(lambda: deliveries_enqueue(ids))
    return len(ids)


def site_message_read(*, user: User, site_message: SiteMessage) -> SiteMessage:
    """Mark ``user``'s own message read (the first reading counts)."""
    if site_message.recipient_id != user.pk:
        raise DomainError("not_found", _("No such message."))
    if site_message.read_at is None:
        SiteMessage.objects.filter(pk=site_message.pk, read_at__isnull=True).update(read_at=timezone.now())
        site_message.refresh_from_db(fields=["read_at"])
    return site_message


def site_messages_read_all(*, user: User) -> int:
    return SiteMessage.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
