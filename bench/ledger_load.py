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

AUTHORITY = "沈阳市市场监督管理局"
REASON = "基准数据"


def enterprises_bulk_create(total: int, *, progress: Callable[[str, int, int, float], None]) -> list[tuple[int, str]]:
    """``total`` enterprises with valid USCCs, by bulk insert; returns their (pk, uscc) in order."""
    from credit.enterprises.uscc import uscc_with_check_digit
    from credit.models import Enterprise

    started = time.monotonic()
    batch = []
    for number in range(1, total + 1):
        batch.append(
            Enterprise(
                uscc=uscc_with_check_digit(f"91210100{number:09d}"),
                name=f"基准企业{number}",
                legal_representative="张三",
            )
        )
        if len(batch) == 5000 or number == total:
            Enterprise.objects.bulk_create(batch)
            batch = []
            progress("enterprises", number, total, started)
    return list(Enterprise.objects.order_by("pk").values_list("pk", "uscc"))


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

    from credit.ledger import hashing as ledger_hashing
    from credit.ledger.models import CANONICAL_COLUMNS_V1, LedgerHead

    # The canonical form's columns (the enterprise by its key, not its USCC), then the keys and
    # how the entry was hashed.
    hashed = [name for name in ledger_hashing.CANONICAL_FIELDS_V1 if name != "enterprise_uscc"]
    columns = [name for name in CANONICAL_COLUMNS_V1 if name != "enterprise__uscc"] + [
        "enterprise_id",
        "kind_id",
        "canonical_version",
        "entry_hash",
    ]

    def text(value: Any) -> str:
        if value is None:
            return "\\N"
        return value.isoformat() if isinstance(value, datetime.datetime) else str(value)

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
            row = [text(fields[name]) for name in hashed] + [str(pk), str(kind.pk), "1", digest]
            buffer.write("\t".join(row) + "\n")
            prev = digest
            if seq % 50_000 == 0 or seq == total:
                buffer.seek(0)
                with connection.cursor() as cursor:
                    cursor.cursor.copy_expert(f"COPY credit_ledgerentry ({', '.join(columns)}) FROM STDIN", buffer)
                buffer = io.StringIO()
            progress("entries", seq, total, load_started)
        LedgerHead.objects.filter(pk=1).update(seq=total, entry_hash=prev, recorded_at=recorded)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
