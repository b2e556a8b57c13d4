"""Recompute the whole credit ledger chain and compare it with every anchor.

Exit status 0: intact. 1: tampering found, with the first bad entries listed. 2: cannot verify (no
anchor file, unreadable or malformed anchor file). What this catches and what it cannot is written
in docs/ledger.md: everything back to the last anchor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from credit.ledger.verify import AnchorFileError, default_workers, ledger_verify
from credit.management.progress import Progress


class Command(BaseCommand):
    help = "Verify the credit ledger's hash chain against the anchors. Exit 0 intact, 1 tampered, 2 cannot verify."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--anchor-file", help="default: the CREDIT_LEDGER_ANCHOR_FILE setting")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="processes for a large ledger on PostgreSQL (default: CPUs, at most 4)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["anchor_file"] or settings.CREDIT_LEDGER_ANCHOR_FILE)
        try:
            report = ledger_verify(
                anchor_file=path,
                progress=Progress("verify", enabled=options["verbosity"] > 0),
                workers=max(1, options["workers"]),
            )
        except AnchorFileError as exc:
            self.stderr.write(f"CANNOT VERIFY: {exc}")
            raise SystemExit(2) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "intact": report.intact,
                        "checked": report.checked,
                        "head_seq": report.head_seq,
                        "head_hash": report.head_hash,
                        "anchors_checked": report.anchors_checked,
                        "problem_count": report.problem_count,
                        "problems": [p.__dict__ for p in report.problems],
                    }
                )
            )
        elif report.intact:
            self.stdout.write(
                self.style.SUCCESS(
                    f"INTACT: {report.checked} entries, head #{report.head_seq} {report.head_hash}, "
                    f"{report.anchors_checked} anchors match"
                )
            )
        else:
            self.stdout.write(f"TAMPERED: {report.problem_count} problem(s); first bad entries:")
            for problem in report.problems:
                self.stdout.write(f"  #{problem.seq} {problem.code}: {problem.detail}")
        if not report.intact:
            raise SystemExit(1)
