"""Recompute the warning ladder from the stored facts and compare it with the stored cards; exit
non-zero on any card missing, extra or altered."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.supervision.replay import supervision_replay


class Command(BaseCommand):
    help = (
        "Replay the warning ladder from the stored clock events and compare with the cards (non-zero on a difference)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="the day to replay up to (YYYY-MM-DD; default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options.get("today"):
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(f"--today: {exc}") from exc
        differences = 0
        for difference in supervision_replay(
            today=today, progress=lambda n: self.stdout.write(f"… {n} deadlines replayed")
        ):
            differences += 1
            subject, trigger, level = difference.key
            self.stdout.write(
                f"{difference.kind}: {subject} {level} ({trigger}) expected [{difference.expected}] "
                f"stored [{difference.stored}]"
            )
        if differences:
            raise CommandError(f"{differences} difference(s) between the stored cards and the replay")
        self.stdout.write(self.style.SUCCESS("The stored cards are exactly those the ladder gives."))
