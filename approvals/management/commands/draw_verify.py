"""Re-check the random draw of a campaign from what is stored: ``manage.py draw_verify CODE``.

Exit status 0 when everything matches (roster hashes recomputed from the stored rows, the ratios,
recusals and seed recorded at the freeze and the draw, the draw re-run against the stored
inspection tasks, the export checked by ``approvals.draw.export_check``); 1 with the list of
problems otherwise; 2 for an unknown campaign.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.models import Campaign
from approvals.services import campaigns


class Command(BaseCommand):
    help = "Re-run a campaign's random draw from its stored rosters, parameters and seed and compare."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the campaign code")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(code=options["code"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with code {options['code']!r}.", returncode=2)
        self.stderr.write(f"Checking campaign {campaign.code} ({campaign.status})…")
        problems = campaigns.campaign_verify(campaign=campaign)
        if problems:
            for problem in problems:
                self.stdout.write(f"PROBLEM: {problem}")
            raise CommandError(f"{len(problems)} problem(s) in campaign {campaign.code}.", returncode=1)
        tasks = campaign.inspection_tasks.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: campaign {campaign.code}: roster hashes, parameters, seed and the {tasks} drawn "
                "inspection task(s) match."
            )
        )
