"""Append the missed-deadline credit entry for every rectification order whose deadline passed with
nothing reported. Commitment cases get this from their flow's timer; campaign inspections have no
flow, so the demo's timer loop (scripts/run) and production's scheduler run this command."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from approvals.supervision import services as supervision


class Command(BaseCommand):
    help = "Record missed rectification deadlines as credit entries (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = supervision.rectification_deadlines_sweep()
        self.stdout.write(f"missed rectification deadlines recorded: {count}")
