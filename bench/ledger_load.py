"""Loading a large hash-chained credit ledger fast, for the benchmarks (``credit_bench.py``,
``eligibility_bench.py``): entries hashed in Python exactly as ``credit_entry_append`` chains them
and written with COPY (the ledger's triggers allow INSERT), 50 000 rows at a time.

Import it after ``django.setup()``.
"""

from __future__ import annotations

import datetime
import io
import random
import time
from collections.abc import Callable
from typing import Any

COLUMNS = (
    "seq",
    "enterprise_id",
    "kind_id",
    "kind_code",
    "kind_version",
    "points",
    "occurred_at",
    "recorded_at",
    "deciding_authority",
    "document_number",
    "legal_basis",
    "source_type",
    "source_id",
    "reason",
    "recorded_by_id",
    "approved_by_id",
    "reverses_id",
    "hash_algorithm",
    "canonical_version",
    "prev_hash",
    "entry_hash",
)
AUTHORITY = "沈阳市市场监督管理局"
REASON = "基准数据"


def ledger_copy(
    *,
    total: int,
    start: datetime.datetime,
    span: datetime.timedelta,
    rng: random.Random,
    pick: Callable[[int], tuple[int, str, Any]],
    progress: Callable[[str, int, int, float], None],
) -> None:
    """Append ``total`` entries: entry ``seq`` belongs to the enterprise and kind ``pick(seq)``
    returns (pk, uscc, kind); recorded times ascend with seq over ``span`` from ``start``, each
    entry occurred up to 20 days before it was recorded. Moves the chain head to the last entry."""
    from django.db import connection, transaction

    from credit import ledger_hashing
    from credit.ledger_models import LedgerHead

    prev = ledger_hashing.GENESIS_HASH
    buffer = io.StringIO()
    load_started = time.monotonic()
    recorded = start
    with transaction.atomic():
        for seq in range(1, total + 1):
            pk, uscc, kind = pick(seq)
            recorded = start + span * (seq / total)
            occurred = recorded - datetime.timedelta(days=rng.randint(0, 20))
            fields = {
                "seq": seq,
                "enterprise_uscc": uscc,
                "kind_code": kind.code,
                "kind_version": kind.version,
                "points": kind.default_points,
                "occurred_at": occurred,
                "recorded_at": recorded,
                "deciding_authority": AUTHORITY,
                "document_number": f"沈市监〔2026〕{seq}号",
                "legal_basis": "",
                "source_type": "inspection",
                "source_id": f"bench:{seq}",
                "reason": REASON,
                "recorded_by": None,
                "approved_by": None,
                "reverses": None,
                "hash_algorithm": "sha256",
                "prev_hash": prev,
            }
            digest = ledger_hashing.entry_hash(fields)
            row = (
                seq,
                pk,
                kind.pk,
                kind.code,
                kind.version,
                kind.default_points,
                occurred.isoformat(),
                recorded.isoformat(),
                AUTHORITY,
                fields["document_number"],
                "",
                "inspection",
                fields["source_id"],
                REASON,
                "\\N",
                "\\N",
                "\\N",
                "sha256",
                1,
                prev,
                digest,
            )
            buffer.write("\t".join(str(v) for v in row) + "\n")
            prev = digest
            if seq % 50_000 == 0 or seq == total:
                buffer.seek(0)
                with connection.cursor() as cursor:
                    cursor.cursor.copy_expert(f"COPY credit_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN", buffer)
                buffer = io.StringIO()
            progress("entries", seq, total, load_started)
        LedgerHead.objects.filter(pk=1).update(seq=total, entry_hash=prev, recorded_at=recorded)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
