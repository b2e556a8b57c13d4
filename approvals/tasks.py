"""The approvals app's periodic work on Celery beat."""

from __future__ import annotations

import datetime

from celery import shared_task

from core.scheduling import job_run

RECTIFICATION_EVERY = datetime.timedelta(minutes=10)


@shared_task(name="approvals.rectification_sweep", ignore_result=True)
def rectification_sweep() -> int | None:
    from approvals.supervision.services import rectification_deadlines_sweep

    result: int | None = job_run(
        "approvals.rectification_sweep", rectification_deadlines_sweep, min_gap=RECTIFICATION_EVERY / 2
    )
    return result
