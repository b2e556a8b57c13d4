"""Webhooks through a real Celery worker on the machine's Redis, against this test database: the
events of committed transactions reach a receiver on loopback, signed and in order; a rolled-back
one sends nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from core.webhooks import services
from core.webhooks.models import EventKind, WebhookDelivery, WebhookSubscription
from tests.concurrency.conftest import (
    WORKER_OPTIONS,
    CeleryProcess,
    broker_restore,
    broker_use,
    celery_environment,
    wait_for,
)
from tests.core.webhook_receiver import receiver_running

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("WEBHOOK_TEST_BROKER", "redis://127.0.0.1:6379/12")
KIND = EventKind.APPLICATION_DECIDED


@pytest.fixture
def worker(tmp_path: Path, celery_processes: Any) -> Iterator[CeleryProcess]:
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    process: CeleryProcess = celery_processes(
        "worker", "worker", *WORKER_OPTIONS, env=celery_environment(tmp_path, broker=BROKER)
    )
    broker_use(BROKER)
    try:
        yield process
    finally:
        broker_restore()


def test_committed_events_reach_the_receiver_through_the_worker_in_order(worker):
    with receiver_running() as receiver:
        subscription = WebhookSubscription.objects.create(name="portal", target_url=receiver.url, event_kinds=[KIND])
        receiver.secret = subscription.secret

        for number in range(5):
            with transaction.atomic():
                services.webhook_emit(kind=KIND, payload={"n": number}, dedupe_key=f"e{number}")
        with pytest.raises(RuntimeError), transaction.atomic():
            services.webhook_emit(kind=KIND, payload={"n": "rolled back"}, dedupe_key="rolled-back")
            raise RuntimeError("the decision failed")

        wait_for(lambda: len(receiver.accepted) >= 5, what="five deliveries at the receiver", logs=worker)
        expected = [str(d.public_id) for d in WebhookDelivery.objects.order_by("id")]
        assert receiver.deliveries == expected and len(expected) == 5
        assert [item.body["data"]["n"] for item in receiver.accepted] == [0, 1, 2, 3, 4]
        assert receiver.refused == []
        wait_for(
            lambda: set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"},
            what="every delivery recorded as sent",
            logs=worker,
        )
