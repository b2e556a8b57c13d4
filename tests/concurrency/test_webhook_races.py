"""Webhook deliveries on PostgreSQL with real threads: two sweeps and two redelivered tasks at once
send each delivery once, in order per subscription; a send in progress (the subscription's row
locked FOR NO KEY UPDATE) never blocks a service writing the next event for that subscription."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.webhooks import services
from core.webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.concurrency.conftest import run_concurrently
from tests.core.webhook_receiver import receiver_running

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
KIND = EventKind.CREDIT_ENTRY_RECORDED


def _queue(subscription: WebhookSubscription, count: int) -> list[str]:
    """Deliveries written as a service would, but not handed over (the sweep is under test)."""
    past = timezone.now() - datetime.timedelta(minutes=5)
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event_kind=KIND,
                dedupe_key=f"e{number}",
                payload={"seq": number},
                occurred_at=past,
                next_attempt_at=past,
            )
            for number in range(count)
        ]
    )
    return [str(row.public_id) for row in rows]


def test_two_sweeps_and_two_redelivered_tasks_send_each_delivery_once_in_order():
    with receiver_running(delay=0.02) as receiver:
        subscriptions = [
            WebhookSubscription.objects.create(name=f"s{n}", target_url=receiver.url, event_kinds=[KIND], secret="k")
            for n in range(3)
        ]
        receiver.secret = "k"
        expected = {s.pk: _queue(s, 5) for s in subscriptions}

        results = run_concurrently(
            services.webhooks_sweep,
            services.webhooks_sweep,
            lambda: services.subscription_deliver(subscriptions[0].pk),
            lambda: services.subscription_deliver(subscriptions[1].pk),
        )

        assert not [r for r in results if isinstance(r, Exception)], results
        sent = receiver.deliveries
        assert sorted(sent) == sorted(d for ids in expected.values() for d in ids)  # each once
        for ids in expected.values():
            assert [d for d in sent if d in ids] == ids  # in order per subscription
        assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}
        assert WebhookAttempt.objects.count() == 15
        assert receiver.requests == 15


def test_a_send_in_progress_does_not_block_the_next_event_of_its_subscription():
    with receiver_running(delay=2.0) as receiver:
        subscription = WebhookSubscription.objects.create(
            name="slow", target_url=receiver.url, event_kinds=[KIND], secret="k"
        )
        receiver.secret = "k"
        _queue(subscription, 1)
        sending = threading.Event()
        took: list[float] = []

        def send() -> object:
            sending.set()
            return services.subscription_deliver(subscription.pk)

        def write_next_event() -> None:
            sending.wait(5)
            time.sleep(0.5)  # the send holds the subscription's row by now
            started = time.monotonic()
            try:
                with transaction.atomic():
                    # as a service does (webhook_emit), but without the hand-off at commit
                    WebhookDelivery.objects.create(
                        subscription=subscription,
                        event_kind=KIND,
                        dedupe_key="next",
                        payload={},
                        occurred_at=timezone.now(),
                        next_attempt_at=timezone.now(),
                    )
                took.append(time.monotonic() - started)
            finally:
                connection.close()

        writer = threading.Thread(target=write_next_event)
        writer.start()
        (outcome,) = run_concurrently(send)
        writer.join(10)

        assert outcome == {"sent": 2, "idle": 1}  # the event written meanwhile went out next
        assert took and took[0] < 1.0, took  # not held up for the 2 s the receiver took
