"""Periodic jobs that a second scheduler cannot double.

A run of job ``name`` starts only if the last one started at least ``min_gap`` ago, decided by one
conditional UPDATE (atomic on every database): two Celery beats started by mistake tick twice as
often, and every second tick finds the job taken and skips. Each run's duration and result are
kept on the job's row and logged.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.outbox.models import ScheduledJob

logger = logging.getLogger("reformflow.jobs")


def job_claim(name: str, *, min_gap: datetime.timedelta, now: datetime.datetime | None = None) -> bool:
    """Take the job for a run now, or say that a run started less than ``min_gap`` ago."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            ScheduledJob.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created meanwhile by the other scheduler
    taken = ScheduledJob.objects.filter(
        Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - min_gap), name=name
    ).update(last_started_at=now)
    return taken == 1


def job_run(name: str, work: Callable[[], Any], *, min_gap: datetime.timedelta) -> Any:
    """Run ``work`` as job ``name`` unless a run started within ``min_gap``; returns its result, or
    ``None`` when skipped."""
    if not job_claim(name, min_gap=min_gap):
        logger.info("job %s skipped: it ran less than %s ago", name, min_gap)
        return None
    started = time.monotonic()
    result = work()
    duration_ms = int((time.monotonic() - started) * 1000)
    ScheduledJob.objects.filter(name=name).update(
        last_finished_at=timezone.now(), last_duration_ms=duration_ms, last_result=str(result)[:300], runs=F("runs") + 1
    )
    logger.info("job %s done in %s ms: %s", name, duration_ms, result)
    return result
