"""Periodic jobs that a second scheduler cannot double.

Each job's period is ``settings.JOB_PERIODS[name]``, the same number the beat schedule is built
from. A run of job ``name`` starts only if the last one started at least three quarters of a period
ago (``job_min_gap``), decided by one conditional UPDATE (atomic on every database). Two beats
started by mistake then run each job at most once per three quarters of a period wherever their
ticks fall (with half a period, two beats half a period out of step could both get through and
double it); one beat's tick may still come up to a quarter period late without being skipped.
Each run's duration and result are kept on the job's row and logged.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.outbox.models import ScheduledJob

logger = logging.getLogger("reformflow.jobs")
MIN_GAP_SHARE = 0.75


def job_period(name: str) -> datetime.timedelta:
    """The time between two runs of the periodic job ``name`` (a ``KeyError`` for a job that has
    no period in ``settings.JOB_PERIODS``)."""
    return datetime.timedelta(seconds=settings.JOB_PERIODS[name])


def job_min_gap(name: str) -> datetime.timedelta:
    """The least time between the starts of two runs of ``name``: three quarters of its period."""
    return job_period(name) * MIN_GAP_SHARE


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


def job_run(name: str, work: Callable[[], Any], *, min_gap: datetime.timedelta | None = None) -> Any:
    """Run ``work`` as job ``name`` unless a run started within ``min_gap`` (by default three
    quarters of the job's period, ``job_min_gap``); returns its result, or ``None`` when skipped."""
    gap = job_min_gap(name) if min_gap is None else min_gap
    started_at = timezone.now()
    if not job_claim(name, min_gap=gap, now=started_at):
        logger.info("job %s skipped: it ran less than %s ago", name, gap)
        return None
    started = time.monotonic()
    result = work()
    duration_ms = int((time.monotonic() - started) * 1000)
    ScheduledJob.objects.filter(name=name).update(
        last_finished_at=timezone.now(), last_duration_ms=duration_ms, last_result=str(result)[:300], runs=F("runs") + 1
    )
    # the start is the claimed moment, as stored on the row (tests measure the gaps between runs)
    logger.info("job %s started %s, done in %s ms: %s", name, started_at.isoformat(), duration_ms, result)
    return result
