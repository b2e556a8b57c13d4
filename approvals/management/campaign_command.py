"""The base of the commands that read one campaign by its code (``draw_export``, ``draw_verify``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from approvals.models import Campaign


class CampaignCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the campaign code")

    def campaign(self, options: dict[str, Any]) -> Campaign:
        """The campaign named on the command line; exit code 2 when there is none."""
        campaign = Campaign.objects.filter(code=options["code"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with code {options['code']!r}.", returncode=2)
        return campaign
