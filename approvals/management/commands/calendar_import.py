"""Load holiday years from the chinese-calendar package into the working-day calendar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from approvals.calendar.services import calendar_year_publish, calendar_years_from_package
from approvals.models import CalendarYear


class Command(BaseCommand):
    help = "Enter the years the chinese-calendar package covers (default: 2020 to this year); idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from-year", type=int, default=2020)
        parser.add_argument("--to-year", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = options["from_year"], options["to_year"] or timezone.localdate().year
        if last < first:
            raise CommandError("--to-year is before --from-year")
        wanted = [year for year in range(first, last + 1) if not CalendarYear.objects.filter(year=year).exists()]
        available = calendar_years_from_package(wanted)
        for number, year in enumerate(sorted(available), start=1):
            calendar_year_publish(actor=None, year=year, days=available[year], source=CalendarYear.Source.PACKAGE)
            self.stderr.write(f"[{number}/{len(available)}] {year}: {len(available[year])} days")
        missing = sorted(set(wanted) - set(available))
        if missing:
            self.stderr.write(
                self.style.WARNING(
                    f"Not in the chinese-calendar package: {', '.join(map(str, missing))}. "
                    "Enter these years in the admin once the State Council publishes them."
                )
            )
        self.stdout.write(f"{len(available)} year(s) entered.")
