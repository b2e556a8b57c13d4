"""Write the current chain head to the anchor file (outside the database) and print it.

Run it on a schedule (cron, every hour or more often): it writes nothing when the head is unchanged.
Before writing, it verifies the entries added since the last anchor, so a tampered tail is never
anchored. Exit status: 0 written or unchanged, 1 the new segment does not verify, 2 the anchor file
cannot be read.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from credit.ledger import hashing as ledger_hashing
from credit.ledger.verify import AnchorFileError, anchor_append, anchor_line, anchors_read, chain_verify
from credit.management.progress import Progress


def checkpoint_write(*, anchor_file: Any, verbose: bool = True) -> tuple[str, str]:
    """Returns (status, line) with status ``written``, ``unchanged`` or ``broken``."""
    last = None
    if anchor_file.exists():
        last = anchors_read(anchor_file)[-1]
    start_after, start_hash = (last.seq, last.entry_hash) if last else (0, ledger_hashing.GENESIS_HASH)
    from credit.ledger.models import LedgerEntry

    if last is not None and last.seq > 0:
        anchored = LedgerEntry.objects.filter(seq=last.seq).values_list("entry_hash", flat=True).first()
        if anchored != last.entry_hash:
            return "broken", f"entry {last.seq} no longer matches the last anchor"
    report = chain_verify(
        anchors=[], start_after=start_after, start_hash=start_hash, progress=Progress("verify", enabled=verbose)
    )
    if not report.intact:
        first = report.problems[0]
        return "broken", f"entry {first.seq}: {first.code} ({first.detail})"
    if last is not None and (report.head_seq, report.head_hash) == (last.seq, last.entry_hash):
        return "unchanged", anchor_line(seq=last.seq, entry_hash=last.entry_hash, algorithm="")
    algorithm = (
        LedgerEntry.objects.filter(seq=report.head_seq).values_list("hash_algorithm", flat=True).first() or "sha256"
    )
    line = anchor_line(seq=report.head_seq, entry_hash=report.head_hash, algorithm=algorithm)
    anchor_append(anchor_file, line)
    return "written", line


class Command(BaseCommand):
    help = "Append the credit ledger's chain head to the anchor file (nothing when unchanged)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--anchor-file", help="default: the CREDIT_LEDGER_ANCHOR_FILE setting")

    def handle(self, *args: Any, **options: Any) -> None:
        from pathlib import Path

        path = Path(options["anchor_file"] or settings.CREDIT_LEDGER_ANCHOR_FILE)
        try:
            status, line = checkpoint_write(anchor_file=path, verbose=options["verbosity"] > 0)
        except AnchorFileError as exc:
            self.stderr.write(f"cannot checkpoint: {exc}")
            raise SystemExit(2) from None
        if status == "broken":
            raise CommandError(f"not checkpointed: the ledger does not verify: {line}", returncode=1)
        if status == "unchanged":
            self.stdout.write(f"unchanged, nothing written: {line}")
            return
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"checkpoint appended to {path}"))
