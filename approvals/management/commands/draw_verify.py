"""Re-check the random draw of a campaign from what is stored: ``manage.py draw_verify CODE``.

Exit status 0 when everything matches (roster hashes recomputed from the stored rows, the ratios,
recusals and seed recorded at the freeze and the draw, the draw re-run against the stored
inspection tasks, the export checked by ``approvals.supervision.draw.export_check``); 1 with the list of
problems otherwise; 2 for an unknown campaign.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from approvals.management.campaign_command import CampaignCommand
from approvals.supervision import selectors as supervision_selectors


class Command(CampaignCommand):
    help = "Re-run a campaign's random draw from its stored rosters, parameters and seed and compare."

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = self.campaign(options)
        self.stderr.write(f"Checking campaign {campaign.code} ({campaign.status})…")
        problems = supervision_selectors.campaign_verify(campaign=campaign)
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
