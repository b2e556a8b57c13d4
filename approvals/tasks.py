"""The approvals app's periodic work on Celery beat."""

from __future__ import annotations

from celery import shared_task

from core.scheduling import job_run


@shared_task(name="approvals.rectification_sweep", ignore_result=True)
def rectification_sweep() -> int | None:
    from approvals.supervision.services import rectification_deadlines_sweep

    # every settings.JOB_PERIODS["approvals.rectification_sweep"] seconds (core.scheduling)
    result: int | None = job_run("approvals.rectification_sweep", rectification_deadlines_sweep)
    return result


@shared_task(name="approvals.step_deadlines", ignore_result=True)
def step_deadlines() -> int | None:
    """Tell staff of steps due soon or overdue (each once per step and band)."""
    from approvals.applications.staff_notices import steps_deadlines_notify

    result: int | None = job_run("approvals.step_deadlines", steps_deadlines_notify)
    return result


@shared_task(name="approvals.integrity_scan", ignore_result=True)
def integrity_scan() -> int | None:
    """Run the integrity rules (廉政监管) over the previous and the current period; each finding is
    stored once, so a late or doubled run raises nothing twice."""
    from approvals.supervision.integrity_services import integrity_scan_recent

    result: int | None = job_run("approvals.integrity_scan", integrity_scan_recent)
    return result


@shared_task(name="approvals.efficiency_rollup", ignore_result=True)
def efficiency_rollup() -> int | None:
    """Roll up the efficiency dashboard's complete months that have no roll yet (usually none, or
    last month once it is past the lag); a second run finds nothing to do."""
    from approvals.supervision.rollup import efficiency_rollup_pending

    result: int | None = job_run("approvals.efficiency_rollup", efficiency_rollup_pending)
    return result
