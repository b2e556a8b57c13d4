"""Entry points of the processes that verify one range of the chain each (``ledger_verify`` with
``--workers``). Spawned processes import this module before Django is set up, so it imports nothing
of Django or of our apps at module level."""

from __future__ import annotations

from typing import Any

_counter: Any = None


def init(counter: Any, database: dict[str, Any]) -> None:
    """Set Django up on the same database as the parent (in tests, the test database)."""
    global _counter
    _counter = counter
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"].update(database)


def verify_chunk(bounds: tuple[int, int, dict[int, Any]]) -> Any:
    """Verify the entries with ``lower < seq <= upper``, starting from the stored hash of ``lower``."""
    from django.db import connections

    from credit.ledger import hashing as ledger_hashing
    from credit.ledger.models import LedgerEntry
    from credit.ledger.verify import _verify_range

    lower, upper, by_seq = bounds
    start_hash = (
        ledger_hashing.GENESIS_HASH
        if lower == 0
        else LedgerEntry.objects.filter(seq=lower).values_list("entry_hash", flat=True).first()
    )

    def tick(count: int) -> None:
        with _counter.get_lock():
            _counter.value += count

    try:
        return _verify_range(start_after=lower, start_hash=start_hash, until=upper, by_seq=by_seq, tick=tick)
    finally:
        connections.close_all()
