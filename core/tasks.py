"""Celery tasks of the outbox (deliver a batch of deliveries, the periodic sweep) and of the
webhooks (send a subscription's waiting deliveries, the periodic sweep).

Every hand-off (at commit, a retry after its backoff, the sweep) sends ``outbox.deliver_batch``.
``outbox.deliver`` (one delivery) stays registered for the tasks an earlier release left in the
broker, which would otherwise be rejected as unknown and wait for the sweep."""

from __future__ import annotations

from collections import Counter

from celery import shared_task

from core.outbox import services
from core.scheduling import job_run
from core.webhooks import services as webhook_services


@shared_task(name="outbox.deliver", acks_late=True, ignore_result=True)
def outbox_deliver(delivery_id: int) -> str:
    return services.delivery_attempt(delivery_id)


# acks_late: a worker killed mid-batch gets the batch again; what it had recorded is skipped.
@shared_task(name="outbox.deliver_batch", acks_late=True, ignore_result=True)
def outbox_deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    """What happened to the batch, counted by outcome (for the worker's log)."""
    return dict(Counter(services.deliveries_attempt(delivery_ids).values()))


@shared_task(name="outbox.sweep", ignore_result=True)
def outbox_sweep() -> int | None:
    # every settings.JOB_PERIODS["outbox.sweep"] seconds (core.scheduling)
    result: int | None = job_run("outbox.sweep", services.outbox_sweep)
    return result


# acks_late: a worker killed mid-send gets the task again; what it had recorded is not resent.
@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def webhooks_deliver(subscription_id: int) -> dict[str, int]:
    """What happened to the subscription's deliveries, counted by outcome (for the worker's log)."""
    return webhook_services.subscription_deliver(subscription_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def webhooks_sweep() -> int | None:
    # every settings.JOB_PERIODS["webhooks.sweep"] seconds (core.scheduling)
    result: int | None = job_run("webhooks.sweep", webhook_services.webhooks_sweep)
    return result
