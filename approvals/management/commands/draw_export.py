"""Print a drawn campaign's export document: ``manage.py draw_export CODE > CODE-draw.json``.

The output is exactly the file auditors download from the audit console
(``approvals.draw.export_dumps`` of ``campaign_export``), and ``approvals.draw.export_check`` or any
implementation of ``docs/random-draw.md`` can re-run the draw from it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.models import Campaign
from approvals.services import campaigns
from core.exceptions import DomainError


class Command(BaseCommand):
    help = "Print the export JSON of a drawn random-inspection campaign."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the campaign code")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(code=options["code"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with code {options['code']!r}.", returncode=2)
        try:
            document = campaigns.campaign_export(campaign=campaign)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stderr.write(
            f"Campaign {campaign.code}: {len(document['targets'])} targets, {len(document['sample'])} drawn."
        )
        # write() would add a newline: the text already ends with one, and must match the download.
        self.stdout.write(campaigns.export_json(document), ending="")
