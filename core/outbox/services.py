"""Writes of the outbox.

``notify`` is called by the service that decided, inside its transaction: the message and its
deliveries commit or roll back with the decision, and the delivery is handed to Celery only after
commit, in batches. ``deliveries_attempt`` is what the worker runs: under each delivery's row lock
(a second worker skips it), it sends once, records the outcome, and on failure schedules the next
attempt with exponential backoff until the last one, after which the delivery is dead.
"""

from __future__ import annotations

import datetime
import functools
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
    _hand_off_after_commit([delivery.pk for delivery in deliveries])
    return message


def _hand_off_after_commit(ids: list[int]) -> None:
    """Hand ``ids`` to the workers once the transaction commits, together with every other
    delivery written in it: each notice adds its ids to the connection's buffer and registers a
    callback; the first callback to run after the commit takes the whole buffer (one hand-off per
    transaction, not a task per message), the others find it empty. A rollback drops the callbacks;
    ids left in the buffer name rows that do not exist, which a worker skips."""
    connection = transaction.get_connection()
    buffer: list[int] = getattr(connection, "_outbox_pending", None) or []
    buffer.extend(ids)
    connection._outbox_pending = buffer
    transaction.on_commit(lambda: _hand_off_pending(connection))


def _hand_off_pending(connection: Any) -> None:
    pending: list[int] = getattr(connection, "_outbox_pending", None) or []
    connection._outbox_pending = []
    if pending:
        deliveries_enqueue(pending)


def deliveries_enqueue(ids: Iterable[int], *, countdown: float | None = None) -> None:
    """Hand deliveries to the workers, ``OUTBOX_BATCH_SIZE`` to a task (``outbox.deliver_batch``):
    one task per delivery spent more on the broker than on the delivery. A broker that is down
    loses nothing: the rows wait for the sweep."""
    from core.tasks import outbox_deliver_batch

    pending = list(ids)
    size = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(pending), size):
        chunk = pending[start : start + size]
        try:
            outbox_deliver_batch.apply_async(args=[chunk], countdown=countdown)
        except Exception:  # noqa: BLE001  (any broker failure; the sweep retries)
            logger.warning("outbox: deliveries %s not handed to a worker; the sweep will", chunk, exc_info=True)


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before attempt ``attempts + 1``: base · 2^(attempts - 1), capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


# Channels whose send is nothing but a write to this database (the in-site message): it commits or
# rolls back with the delivery's row, so the batch's deliveries on them share one transaction — a
# worker killed in it undoes messages and states together, and nobody outside saw anything. Every
# other channel reaches the outside world, which no rollback undoes: each of those deliveries
# commits on its own right after its send, so a crash resends at most the one in flight.
IN_DATABASE_CHANNELS = frozenset({Delivery.Channel.SITE})
_FIELDS = ["status", "attempts", "next_attempt_at", "last_error", "sent_at", "external_id"]


def _state_before(delivery: Delivery, now: datetime.datetime) -> str | None:
    """Why ``delivery`` is not to be sent now (its final state, or ``not_due``), else ``None``."""
    if delivery.status in (Status.SENT, Status.DEAD):
        return str(delivery.status)
    if delivery.next_attempt_at > now:
        return "not_due"
    return None


def _send_and_record(delivery: Delivery, retries: dict[float, list[int]]) -> str:
    """Send ``delivery`` (locked by the caller, in the caller's transaction) and save the outcome;
    a failure that will be retried adds the delivery to ``retries`` under its wait in seconds."""
    delivery.attempts += 1
    try:
        # A savepoint: a sender's database error must not abort the batch's transaction.
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
            delivery.next_attempt_at = timezone.now() + wait
            retries.setdefault(wait.total_seconds(), []).append(delivery.pk)
    else:
        delivery.status = Status.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
    delivery.save(update_fields=_FIELDS)
    return str(delivery.status)


def deliveries_attempt(delivery_ids: Iterable[int]) -> dict[int, str]:
    """Send each of ``delivery_ids`` that is due, once; returns what happened to each (``sent``,
    ``failed``, ``dead``, ``busy`` when another worker holds it or it does not exist, ``not_due``,
    or the final state it was already in).

    One query locks and loads the batch (``SKIP LOCKED``: a second worker given the same ids skips
    them). The deliveries on ``IN_DATABASE_CHANNELS`` are sent and recorded in that transaction,
    each in its own savepoint; the others are then taken one by one, each re-locked and re-read in
    its own transaction, sent and recorded before the next. So one delivery's failure never undoes
    another's outcome, a sent or dead delivery is never sent again (a redelivered batch), and a
    worker killed mid-batch leaves every delivery it had not recorded queued (or failed) for the
    sweep. A failure is retried after ``backoff``, by a batch task per wait, handed over after
    commit."""
    ids = sorted(set(delivery_ids))
    outcomes = dict.fromkeys(ids, "busy")
    retries: dict[float, list[int]] = {}
    now = timezone.now()
    outside: list[Delivery] = []
    with transaction.atomic():
        batch = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("message__recipient")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        for delivery in batch:
            state = _state_before(delivery, now)
            if state is not None:
                outcomes[delivery.pk] = state
            elif delivery.channel in IN_DATABASE_CHANNELS:
                outcomes[delivery.pk] = _send_and_record(delivery, retries)
            else:
                outside.append(delivery)
    for delivery in outside:
        with transaction.atomic():
            # Unlocked since the batch committed: another worker may have taken it meanwhile.
            current = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk=delivery.pk)
                .values("status", "attempts", "next_attempt_at")
                .first()
            )
            if current is None:
                continue
            delivery.status = current["status"]
            delivery.attempts = current["attempts"]
            delivery.next_attempt_at = current["next_attempt_at"]
            state = _state_before(delivery, now)
            outcomes[delivery.pk] = state or _send_and_record(delivery, retries)
    for wait, failed in retries.items():
        # (Immediate in a worker, which runs in no transaction; after the caller's commit otherwise.)
        transaction.on_commit(functools.partial(deliveries_enqueue, failed, countdown=wait))
    return outcomes


def delivery_attempt(delivery_id: int) -> str:
    """``deliveries_attempt`` of the one delivery ``delivery_id``: what happened to it."""
    return deliveries_attempt([delivery_id])[delivery_id]


def outbox_sweep(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Hand every due delivery to the workers again (one whose hand-off at commit was lost, or
    whose retry is due), in batch tasks of ``OUTBOX_BATCH_SIZE``. Returns how many."""
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
