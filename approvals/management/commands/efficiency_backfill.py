"""Fill the close facts (效能监管) of cases closed before the columns existed, and with
``--provisional`` recompute those that rest on a calendar year entered since. Idempotent and
resumable: a batch per transaction, a filled case is not read again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.applications import close_facts


class Command(BaseCommand):
    help = "Store the close facts of closed applications that have none (idempotent, in batches, with progress)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="cases per transaction (default 1000)")
        parser.add_argument(
            "--provisional",
            action="store_true",
            help="also recompute the cases whose facts were computed on weekdays only for an uncovered year",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"{done}/{total}")

        count = close_facts.close_facts_backfill(
            batch_size=batch_size, provisional=options["provisional"], progress=progress
        )
        self.stdout.write(f"close facts stored: {count}")
