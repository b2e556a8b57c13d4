"""Run the warning ladder's sweep now (Celery beat runs it every 10 minutes): raise every card the
ladder says should exist by today. ``--full`` looks at every deadline ever recorded, not only the
recent ones (after an outage longer than ``SUPERVISION_SWEEP_LOOKBACK_DAYS``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflows.actions.supervision_cards import supervision_sweep


class Command(BaseCommand):
    help = "Raise the warning ladder's due cards (idempotent; --full: every deadline ever recorded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="look at every deadline, not only recent ones")

    def handle(self, *args: Any, **options: Any) -> None:
        report = supervision_sweep(
            full=options["full"], progress=lambda r: self.stdout.write(f"… {r.watched} deadlines watched")
        )
        raised = report.raised
        self.stdout.write(
            f"{report.watched} deadlines watched: {raised['reminder']} reminders, {raised['yellow']} yellow and "
            f"{raised['red']} red cards raised"
        )
