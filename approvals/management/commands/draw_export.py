"""Print a drawn campaign's export document: ``manage.py draw_export CODE > CODE-draw.json``.

The output is exactly the file auditors download from the audit console
(``approvals.supervision.draw.export_dumps`` of ``campaign_export``), and ``approvals.supervision.draw.export_check`` or any
implementation of ``docs/random-draw.md`` can re-run the draw from it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from approvals.management.campaign_command import CampaignCommand
from approvals.supervision import selectors as supervision_selectors
from core.exceptions import DomainError


class Command(CampaignCommand):
    help = "Print the export JSON of a drawn random-inspection campaign."

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = self.campaign(options)
        try:
            document = supervision_selectors.campaign_export(campaign=campaign)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stderr.write(
            f"Campaign {campaign.code}: {len(document['targets'])} targets, {len(document['sample'])} drawn."
        )
        # write() would add a newline: the text already ends with one, and must match the download.
        self.stdout.write(supervision_selectors.export_json(document), ending="")
