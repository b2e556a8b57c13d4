"""Import a CSV file of records from another authority into the credit ledger, with progress.

    manage.py ledger_import court-2026-05.csv --authority 沈阳市中级人民法院

Columns: uscc, kind, occurred_on, document_number, legal_basis, reason (UTF-8, header row). All or
nothing: any rejected row is reported (line, code, value) and nothing is written (exit status 1).
Importing the same file again adds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from credit.ledger import services as ledger_services
from credit.management.progress import Progress


class Command(BaseCommand):
    help = "Import another authority's records (CSV) into the credit ledger; all rows or none."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--authority", required=True, help="the supplying authority, e.g. 沈阳市中级人民法院")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            report = ledger_services.ledger_import_csv(
                actor=None,
                file_name=path.name,
                content=content,
                authority=options["authority"],
                progress=Progress("import", enabled=options["verbosity"] > 0),
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        if report.already_imported:
            self.stdout.write("This file was imported before: nothing added.")
            return
        if report.rejected:
            for line, code, detail in report.rejected:
                self.stdout.write(f"  line {line}: {code} {detail}")
            raise CommandError(f"{len(report.rejected)} row(s) rejected; nothing was recorded", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(f"{report.added} entries recorded, {report.duplicates} already in the ledger.")
        )
