"""``manage.py outbox_status``: the deliveries counted by channel, kind and state (queued, failed
and waiting for a retry, sent, dead)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.outbox.models import Delivery
from core.outbox.selectors import outbox_status


class Command(BaseCommand):
    help = "Count the outbox's deliveries by channel, kind and state."

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = Delivery.Status.values
        header = ["channel", "kind", *statuses]
        rows = [[row["channel"], row["kind"], *(str(row[s]) for s in statuses)] for row in outbox_status()]
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
        for line in [header, *rows]:
            self.stdout.write("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
        if not rows:
            self.stdout.write("nothing queued or sent yet")
