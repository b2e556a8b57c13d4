"""Writes of the webhooks.

``webhook_emit`` is called by the service that decided an event, inside its transaction: one
delivery per active subscription that asked for the event's kind commits or rolls back with the
decision, and the subscriptions are handed to Celery after commit (``webhooks.deliver``).

``subscription_deliver`` is what the worker runs for one subscription: it sends the subscription's
waiting deliveries one at a time, oldest first, each under the subscription's row lock (``SKIP
LOCKED``: a second worker, a second sweep or a redelivered task finds it taken and leaves), and
records each attempt before the lock is released. So a delivery is never sent twice at once, a
sent one is never sent again by a worker, and the receiver gets the events of a subscription in
the order they were written. A failure waits ``backoff`` and holds back the later deliveries of its
subscription; after ``WEBHOOK_MAX_ATTEMPTS`` it is dead (it no longer holds the others back) until
an administrator replays it.

Lock order: the subscription row (``FOR NO KEY UPDATE``, so that a service inserting a delivery,
whose foreign key takes ``FOR KEY SHARE`` on it, is never blocked by a send in progress), then
delivery rows.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from core.webhooks import transport
from core.webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookSubscription, secret_generate
from core.webhooks.verify import sign

logger = logging.getLogger("reformflow.webhooks")

Status = WebhookDelivery.Status
WAITING = (Status.QUEUED, Status.FAILED)
# A queued delivery younger than this is left to the hand-off at commit; the sweep takes the rest.
SWEEP_GRACE = datetime.timedelta(seconds=30)
# Deliveries one task sends before it hands the subscription on to a fresh task (a long backlog
# does not keep one worker busy for ever).
DRAIN_LIMIT = 100
USER_AGENT = "ReformFlow-Webhooks/1"


def _require_administrator(actor: User) -> None:
    if not (actor.is_active and actor.is_superuser):
        raise DomainError("permission_denied", _("Only an administrator manages webhooks."))


# --- emission --------------------------------------------------------------------------------------


def webhook_emit(
    *,
    kind: str,
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    dedupe_key: str,
    occurred_at: datetime.datetime | None = None,
) -> int:
    """Write ``kind`` with ``payload`` (plain JSON values, or a function returning them, called
    only when someone subscribes: an event nobody asked for costs one query) for every active
    subscription that asked for it, in the caller's transaction; returns how many. The same
    ``dedupe_key`` again adds nothing for a subscription that has it already. ``occurred_at``
    defaults to now."""
    if kind not in EventKind.values:
        raise ValueError(f"unknown webhook event kind {kind!r}")
    subscriptions = [
        pk
        for pk, kinds in WebhookSubscription.objects.filter(is_active=True).values_list("pk", "event_kinds")
        if kind in (kinds or [])
    ]
    if not subscriptions:
        return 0
    now = timezone.now()
    key = dedupe_key[:200]
    data = dict(payload() if callable(payload) else payload)
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription_id=pk,
                    event_kind=kind,
                    dedupe_key=key,
                    payload=data,
                    occurred_at=occurred_at or now,
                    next_attempt_at=now,
                )
                for pk in subscriptions
            ],
            ignore_conflicts=True,
        )
    _hand_off_after_commit(subscriptions)
    return len(subscriptions)


def _hand_off_after_commit(subscription_ids: list[int]) -> None:
    """Hand the subscriptions to the workers once the transaction commits: one task per
    subscription and transaction, however many events it wrote (the connection's buffer, as the
    outbox does). A rollback drops the callback."""
    connection = transaction.get_connection()
    buffer: set[int] = getattr(connection, "_webhooks_pending", None) or set()
    buffer.update(subscription_ids)
    connection._webhooks_pending = buffer
    transaction.on_commit(lambda: _hand_off_pending(connection))


def _hand_off_pending(connection: Any) -> None:
    pending: set[int] = getattr(connection, "_webhooks_pending", None) or set()
    connection._webhooks_pending = set()
    if pending:
        subscriptions_enqueue(sorted(pending))


def subscriptions_enqueue(subscription_ids: Iterable[int], *, countdown: float | None = None) -> None:
    """Hand subscriptions to the workers (``webhooks.deliver``). A broker that is down loses
    nothing: the deliveries wait for the sweep."""
    from core.tasks import webhooks_deliver

    for pk in subscription_ids:
        try:
            webhooks_deliver.apply_async(args=[pk], countdown=countdown)
        except Exception:  # noqa: BLE001  (any broker failure; the sweep retries)
            logger.warning("webhooks: subscription %s not handed to a worker; the sweep will", pk, exc_info=True)


# --- delivery --------------------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before attempt ``attempts + 1``: base · 2^(attempts - 1), capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The body of every attempt of ``delivery``: the same bytes each time (sorted keys, no
    spaces, UTF-8)."""
    envelope = {
        "id": str(delivery.public_id),
        "event": delivery.event_kind,
        "occurred_at": delivery.occurred_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def delivery_headers(delivery: WebhookDelivery, *, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-ReformFlow-Event": delivery.event_kind,
        "X-ReformFlow-Delivery": str(delivery.public_id),
        "X-ReformFlow-Timestamp": str(timestamp),
        "X-ReformFlow-Signature": sign(secret, timestamp, body),
    }


def _attempt(subscription: WebhookSubscription, delivery: WebhookDelivery) -> str:
    """POST ``delivery`` (both rows locked by the caller) and record the attempt and the outcome
    in the caller's transaction."""
    started_at = timezone.now()
    timestamp = int(started_at.timestamp())
    body = delivery_body(delivery)
    headers = delivery_headers(delivery, secret=subscription.secret, timestamp=timestamp, body=body)
    started = time.monotonic()
    answer = transport.post(subscription.target_url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    duration_ms = int((time.monotonic() - started) * 1000)
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=WebhookAttempt.objects.filter(delivery=delivery).count() + 1,
        started_at=started_at,
        signed_timestamp=timestamp,
        duration_ms=duration_ms,
        status_code=answer.status,
        succeeded=answer.ok,
        error=answer.error,
        response_excerpt=answer.excerpt,
    )
    delivery.last_status_code = answer.status
    if answer.ok:
        delivery.status = Status.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = Status.DEAD
        delivery.last_error = answer.error
        logger.error("webhooks: delivery %s is dead after %s attempts", delivery.pk, delivery.attempts)
    else:
        delivery.status = Status.FAILED
        delivery.last_error = answer.error
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_status_code", "last_error", "sent_at"])
    return str(delivery.status)


def _deliver_next(subscription_id: int) -> tuple[str, WebhookDelivery | None]:
    """Send the oldest waiting delivery of the subscription, if it is due: ``sent``, ``failed``,
    ``dead``; or why nothing was sent: ``busy`` (another worker holds the subscription),
    ``missing``, ``inactive``, ``idle`` (nothing waits), ``not_due`` (the oldest waits for its
    retry)."""
    with transaction.atomic():
        subscription = (
            WebhookSubscription.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None:
            exists = WebhookSubscription.objects.filter(pk=subscription_id).exists()
            return ("busy" if exists else "missing"), None
        if not subscription.is_active:
            return "inactive", None
        delivery = (
            WebhookDelivery.objects.select_for_update(no_key=True)
            .filter(subscription=subscription, status__in=WAITING)
            .order_by("id")
            .first()
        )
        if delivery is None:
            return "idle", None
        if delivery.next_attempt_at > timezone.now():
            return "not_due", delivery
        return _attempt(subscription, delivery), delivery


def subscription_deliver(subscription_id: int) -> dict[str, int]:
    """Send the waiting deliveries of one subscription in order until one fails, none is due, or
    ``DRAIN_LIMIT`` went out (then a fresh task takes the rest). A failure is retried after its
    backoff by a task handed over with that countdown (the sweep is the backstop). Returns the
    outcomes counted."""
    outcomes: Counter[str] = Counter()
    for _sent in range(DRAIN_LIMIT):
        outcome, delivery = _deliver_next(subscription_id)
        outcomes[outcome] += 1
        if outcome == "failed" and delivery is not None:
            wait = max(0.0, (delivery.next_attempt_at - timezone.now()).total_seconds())
            subscriptions_enqueue([subscription_id], countdown=wait)
        if outcome not in (Status.SENT, Status.DEAD):
            break
    else:
        subscriptions_enqueue([subscription_id])
    return dict(outcomes)


def webhooks_sweep(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Hand to the workers every active subscription whose oldest waiting delivery is due (its
    hand-off at commit was lost, or its retry is due). Returns how many subscriptions."""
    now = now or timezone.now()
    oldest = WebhookDelivery.objects.filter(subscription=OuterRef("pk"), status__in=WAITING).order_by("id")
    due = (
        WebhookSubscription.objects.filter(is_active=True)
        .annotate(
            oldest_status=Subquery(oldest.values("status")[:1]),
            oldest_due=Subquery(oldest.values("next_attempt_at")[:1]),
        )
        .filter(
            Q(oldest_status=Status.QUEUED, oldest_due__lte=now - SWEEP_GRACE)
            | Q(oldest_status=Status.FAILED, oldest_due__lte=now)
        )
        .order_by("pk")
    )
    ids = list(due.values_list("pk", flat=True)[:limit])
    subscriptions_enqueue(ids)
    return len(ids)


# --- administration --------------------------------------------------------------------------------


def _subscription_facts(subscription: WebhookSubscription) -> dict[str, Any]:
    # Never the secret: the audit trail is read by auditors.
    return {
        "name": subscription.name,
        "target_url": subscription.target_url,
        "event_kinds": list(subscription.event_kinds or []),
        "is_active": subscription.is_active,
    }


def webhook_subscription_save(*, actor: User, subscription: WebhookSubscription) -> WebhookSubscription:
    """Create or change a subscription (validated with ``full_clean``: the URL rule, the event
    kinds). A new one gets a generated secret. Errors: ``permission_denied``; a
    ``ValidationError`` for a bad field."""
    _require_administrator(actor)
    created = subscription.pk is None
    if not subscription.secret:
        subscription.secret = secret_generate()
    subscription.full_clean()
    with transaction.atomic():
        subscription.save()
        audit_event_record(
            actor=actor,
            action="webhooks.subscription_created" if created else "webhooks.subscription_changed",
            obj=subscription,
            data=_subscription_facts(subscription),
        )
    return subscription


def webhook_subscription_secret_rotate(*, actor: User, subscription: WebhookSubscription) -> WebhookSubscription:
    """Give the subscription a new secret: every attempt from the commit on is signed with it (the
    receiver must be given it at the same time). Errors: ``permission_denied``."""
    _require_administrator(actor)
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        locked.secret = secret_generate()
        locked.save(update_fields=["secret", "updated_at"])
        audit_event_record(actor=actor, action="webhooks.secret_rotated", obj=locked, data={"name": locked.name})
    return locked


def _replay(deliveries: QuerySet[WebhookDelivery]) -> tuple[list[WebhookDelivery], set[int]]:
    now = timezone.now()
    replayed = []
    for delivery in deliveries.select_for_update().filter(status__in=(Status.SENT, Status.DEAD)).order_by("id"):
        delivery.status = Status.QUEUED
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.sent_at = None
        delivery.last_error = ""
        delivery.replays += 1
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "sent_at", "last_error", "replays"])
        replayed.append(delivery)
    return replayed, {delivery.subscription_id for delivery in replayed}


def webhook_deliveries_replay(*, actor: User, deliveries: Iterable[WebhookDelivery]) -> int:
    """An administrator sends dead or sent deliveries again: each is queued with its attempts
    starting over and keeps its delivery id (a receiver that processed it recognises it), and its
    attempt log grows. Being the oldest waiting ones of their subscriptions, they go out before
    anything newer that waits. Deliveries still waiting are left as they are. Returns how many.
    Errors: ``permission_denied``."""
    _require_administrator(actor)
    with transaction.atomic():
        replayed, subscriptions = _replay(WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]))
        for delivery in replayed:
            audit_event_record(
                actor=actor, action="webhooks.replayed", obj=delivery, data={"subscription": delivery.subscription_id}
            )
    transaction.on_commit(lambda: subscriptions_enqueue(sorted(subscriptions)))
    return len(replayed)


def webhook_subscription_replay_since(
    *, actor: User, subscription: WebhookSubscription, since: datetime.datetime
) -> int:
    """An administrator sends again every sent or dead delivery of ``subscription`` whose event
    occurred at or after ``since`` (a receiver restored from a backup), in their original order.
    Returns how many. Errors: ``permission_denied``, ``since_in_future``."""
    _require_administrator(actor)
    if since > timezone.now():
        raise DomainError("since_in_future", _("Choose an instant in the past."))
    with transaction.atomic():
        replayed, _subscriptions = _replay(
            WebhookDelivery.objects.filter(subscription=subscription, occurred_at__gte=since)
        )
        audit_event_record(
            actor=actor,
            action="webhooks.replayed_since",
            obj=subscription,
            data={"since": since.isoformat(), "deliveries": len(replayed)},
        )
    transaction.on_commit(lambda: subscriptions_enqueue([subscription.pk]))
    return len(replayed)
