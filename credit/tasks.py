"""The credit app's periodic work on Celery beat: the ledger checkpoint (nothing written when the
chain head is unchanged)."""

from __future__ import annotations

from celery import shared_task

from core.scheduling import job_run


def _checkpoint() -> str:
    from pathlib import Path

    from django.conf import settings

    from credit.management.commands.ledger_checkpoint import checkpoint_write

    status, line = checkpoint_write(anchor_file=Path(settings.CREDIT_LEDGER_ANCHOR_FILE), verbose=False)
    return f"{status}: {line}"


@shared_task(name="credit.ledger_checkpoint", ignore_result=True)
def ledger_checkpoint() -> str | None:
    # every settings.JOB_PERIODS["credit.ledger_checkpoint"] seconds (core.scheduling)
    result: str | None = job_run("credit.ledger_checkpoint", _checkpoint)
    return result
