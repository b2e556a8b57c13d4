"""viewflow's timers on Celery beat: deemed acceptance, deemed consent, rectification deadlines."""

from __future__ import annotations

from celery import shared_task

from core.scheduling import job_run


def _fire() -> str:
    from viewflow.workflow.timers import fire_due_conditions, fire_due_start_timers, fire_due_timers

    return f"{fire_due_timers()} timers, {fire_due_start_timers()} starts, {fire_due_conditions()} conditions"


@shared_task(name="workflows.timers", ignore_result=True)
def workflow_timers() -> str | None:
    # every settings.JOB_PERIODS["workflows.timers"] seconds; a second beat's tick within half of it skips
    result: str | None = job_run("workflows.timers", _fire)
    return result


def _sweep() -> str:
    from workflows.actions.supervision_cards import supervision_sweep

    report = supervision_sweep()
    raised = report.raised
    return f"{report.watched} deadlines, {raised['reminder']} reminders, {raised['yellow']} yellow, {raised['red']} red"


@shared_task(name="workflows.supervision_sweep", ignore_result=True)
def supervision_sweep() -> str | None:
    """The warning ladder (issue 13): every settings.JOB_PERIODS entry's seconds, under the job lock."""
    result: str | None = job_run("workflows.supervision_sweep", _sweep)
    return result
