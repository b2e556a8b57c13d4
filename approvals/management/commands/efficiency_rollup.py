"""Roll up the efficiency dashboard's complete months (``approvals.supervision.rollup``): by default
every month without a roll, ``--month YYYY-MM`` one month again, ``--all`` every complete month
again; ``--verify`` compares each rolled month with the same figures computed from the cases and
fails on any difference."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.models import EfficiencyMonth
from approvals.supervision import rollup


class Command(BaseCommand):
    help = "Roll up the efficiency dashboard's complete months (with progress); --verify compares them with the cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="roll up this month again (YYYY-MM)")
        parser.add_argument("--all", action="store_true", help="roll up every complete month again")
        parser.add_argument("--verify", action="store_true", help="compare the rolled months with the cases")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["verify"]:
            self._verify()
            return
        if options["month"]:
            try:
                month = datetime.date.fromisoformat(options["month"] + "-01")
            except ValueError:
                raise CommandError("--month must be YYYY-MM") from None
            try:
                self._roll([month])
            except ValueError as error:
                raise CommandError(str(error)) from None
        else:
            if options["all"]:
                EfficiencyMonth.objects.all().delete()
            self._roll(rollup.months_to_roll())
        self.stdout.write(f"done in {time.monotonic() - started:.1f} s")

    def _roll(self, months: list[datetime.date]) -> None:
        total = len(months)
        for done, month in enumerate(months, start=1):
            cells = rollup.efficiency_month_roll(month)
            self.stdout.write(f"{done}/{total} {month:%Y-%m}: {cells} cells")
        self.stdout.write(f"months rolled up: {total}")

    def _verify(self) -> None:
        months = sorted(EfficiencyMonth.objects.values_list("month", flat=True))
        differences: list[str] = []
        for done, month in enumerate(months, start=1):
            found = rollup.efficiency_rollup_verify([month])
            differences.extend(found)
            self.stdout.write(f"{done}/{len(months)} {month:%Y-%m}: {len(found)} differences")
        for line in differences:
            self.stderr.write(line)
        if differences:
            raise CommandError(f"{len(differences)} differences between the roll-up and the cases")
        self.stdout.write(f"months verified: {len(months)}, no difference")
