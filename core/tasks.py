"""Celery tasks of the outbox: deliver one delivery, and the periodic sweep."""

from __future__ import annotations

import datetime

from celery import shared_task

from core.outbox import services
from core.scheduling import job_run

SWEEP_EVERY = datetime.timedelta(seconds=60)


@shared_task(name="outbox.deliver", acks_late=True, ignore_result=True)
def outbox_deliver(delivery_id: int) -> str:
    return services.delivery_attempt(delivery_id)


@shared_task(name="outbox.sweep", ignore_result=True)
def outbox_sweep() -> int | None:
    result: int | None = job_run("outbox.sweep", services.outbox_sweep, min_gap=SWEEP_EVERY / 2)
    return result
