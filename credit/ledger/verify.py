"""Verification of the hash chain and the anchors (checkpoints) kept outside the database.

What is caught (see docs/ledger.md): any edited hashed field, a deleted row (a gap in ``seq``), an
inserted, duplicated or reordered row (broken link or wrong hash), a rewritten tail with recomputed
hashes that reaches back to or before an anchor (the anchor's hash no longer matches), a truncated
tail that removes an anchored entry. What is *not* caught: a consistent rewrite or truncation of
only the entries after the last anchor — checkpoint often.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from credit.ledger import hashing as ledger_hashing
from credit.ledger.models import CANONICAL_COLUMNS_V1, LedgerEntry

MAX_PROBLEMS = 20


class AnchorFileError(Exception):
    """The anchor file is missing, unreadable or malformed: verification cannot conclude."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    entry_hash: str
    at: str
    line: int


@dataclass(frozen=True)
class Problem:
    seq: int
    code: str  # hash_mismatch, link_broken, gap, out_of_sequence, kind_mismatch, anchor_mismatch, anchor_missing
    detail: str


@dataclass
class VerifyReport:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = ledger_hashing.GENESIS_HASH
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


# --- anchors --------------------------------------------------------------------------------------


def anchors_read(path: Path) -> list[Anchor]:
    """Every anchor of the file, in order. Raises ``AnchorFileError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnchorFileError(f"no anchor file at {path}: run `manage.py ledger_checkpoint` first") from None
    except OSError as exc:
        raise AnchorFileError(f"cannot read the anchor file {path}: {exc.strerror or exc}") from None
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchor = Anchor(seq=int(data["seq"]), entry_hash=str(data["hash"]), at=str(data["at"]), line=number)
        except (ValueError, KeyError, TypeError):
            raise AnchorFileError(f"line {number} of the anchor file {path} is not an anchor record") from None
        if anchor.seq < 0 or len(anchor.entry_hash) != 64:
            raise AnchorFileError(f"line {number} of the anchor file {path} is not an anchor record")
        anchors.append(anchor)
    if not anchors:
        raise AnchorFileError(f"the anchor file {path} holds no anchor")
    return anchors


def anchor_line(*, seq: int, entry_hash: str, algorithm: str, at: datetime.datetime | None = None) -> str:
    moment = (at or timezone.now()).astimezone(datetime.UTC)
    record = {"seq": seq, "hash": entry_hash, "alg": algorithm, "at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def anchor_append(path: Path, line: str) -> None:
    """Append one line and fsync: the file is append-only (opened with O_APPEND, never rewritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- the chain ------------------------------------------------------------------------------------

# The hashed fields in canonical order, then what the check compares them with.
_ROW_FIELDS = (*CANONICAL_COLUMNS_V1, "canonical_version", "entry_hash", "kind__code", "kind__version")
_AT = {name: position for position, name in enumerate(_ROW_FIELDS)}


_HASHED = len(ledger_hashing.CANONICAL_FIELDS_V1)


# PostgreSQL: one server-side cursor over plain SQL, with the times already in the canonical text
# form, is several times faster than the ORM on a million rows (the benchmark's verify goal).
_UTC_TEXT = """to_char(e.{0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_SQL_OF = {"enterprise__uscc": "ent.uscc", "kind__code": "k.code", "kind__version": "k.version"}
_SELECT = ", ".join(
    _SQL_OF.get(name) or (_UTC_TEXT.format(name) if name.endswith("_at") else f"e.{name}") for name in _ROW_FIELDS
)
# The select list comes from constants of this module only (no input reaches it).
_POSTGRES_ROWS = f"""
    SELECT {_SELECT}
    FROM credit_ledgerentry e
    LEFT JOIN credit_enterprise ent ON ent.id = e.enterprise_id
    LEFT JOIN credit_creditentrykind k ON k.id = e.kind_id
    WHERE e.seq > %s AND e.seq <= %s
    ORDER BY e.seq
"""  # noqa: S608


def _rows(start_after: int, until: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Rows of ``_ROW_FIELDS`` with ``start_after < seq <= until``; on PostgreSQL the two times come
    as canonical UTC text already."""
    from django.db import connection, transaction

    upper = until if until is not None else 2**62
    if connection.vendor == "postgresql":
        with transaction.atomic():
            connection.ensure_connection()
            cursor = connection.connection.cursor(name=f"ledger_verify_{id(object())}")
            cursor.itersize = 20000
            try:
                cursor.execute(_POSTGRES_ROWS, [start_after, upper])
                yield from cursor
            finally:
                cursor.close()
        return
    queryset = LedgerEntry.objects.filter(seq__gt=start_after, seq__lte=upper).order_by("seq").values_list(*_ROW_FIELDS)
    yield from queryset.iterator(chunk_size=10000)


def _verify_range(
    *,
    start_after: int,
    start_hash: str | None,
    until: int | None,
    by_seq: dict[int, Anchor],
    tick: Callable[[int], None] | None,
) -> tuple[VerifyReport, set[int]]:
    """Verify the entries with ``start_after < seq <= until`` given the hash the first one must point
    at. Returns the report and the anchored sequence numbers that were found."""
    report = VerifyReport(head_seq=start_after, head_hash=start_hash or "")
    found: set[int] = set()
    expected_seq = start_after + 1
    prev = start_hash
    for row in _rows(start_after, until):
        seq, kind_code, kind_version = row[_AT["seq"]], row[_AT["kind_code"]], row[_AT["kind_version"]]
        stored_prev, version, stored_hash = row[_AT["prev_hash"]], row[_AT["canonical_version"]], row[_AT["entry_hash"]]
        fk_code, fk_version = row[_AT["kind__code"]], row[_AT["kind__version"]]
        if seq != expected_seq:
            if seq > expected_seq:
                report.add(Problem(expected_seq, "gap", f"entries {expected_seq}–{seq - 1} are missing"))
            else:
                report.add(Problem(seq, "out_of_sequence", f"expected {expected_seq}"))
        if stored_prev != prev:
            report.add(Problem(seq, "link_broken", "does not point at the previous entry's hash"))
        try:
            if isinstance(row[_AT["occurred_at"]], str):
                recomputed = ledger_hashing.entry_hash_of_row(row[:_HASHED], version=version)
            else:
                fields = dict(zip(ledger_hashing.CANONICAL_FIELDS_V1, row[:_HASHED], strict=True))
                recomputed = ledger_hashing.entry_hash(fields, version=version)
        except (ValueError, TypeError) as exc:
            recomputed = f"unverifiable: {exc}"
        if recomputed != stored_hash:
            report.add(Problem(seq, "hash_mismatch", "content differs from what was hashed"))
        if (fk_code, fk_version) != (kind_code, kind_version):
            report.add(Problem(seq, "kind_mismatch", "the kind reference differs from the hashed kind"))
        anchor = by_seq.get(seq)
        if anchor is not None:
            found.add(seq)
            report.anchors_checked += 1
            if anchor.entry_hash != stored_hash:
                report.add(Problem(seq, "anchor_mismatch", f"differs from the anchor on line {anchor.line}"))
        prev = stored_hash
        expected_seq = max(expected_seq, seq) + 1
        report.checked += 1
        report.head_seq, report.head_hash = seq, stored_hash
        if tick is not None and report.checked % 10000 == 0:
            tick(10000)
    if until is not None and expected_seq <= until:
        report.add(Problem(expected_seq, "gap", f"entries {expected_seq}–{until} are missing"))
    if tick is not None:
        tick(report.checked % 10000)
    return report, found


# Ledgers smaller than this are verified in one process (and always inside a test's transaction).
PARALLEL_MIN_ENTRIES = 200_000


def _verify_parallel(
    *, anchors: dict[int, Anchor], last_seq: int, total: int, workers: int, progress: Callable[[int, int], None] | None
) -> tuple[VerifyReport, set[int]]:
    """The chain cut into ``workers`` ranges of sequence numbers, each verified by its own process.
    Every range starts from the stored hash of the entry before it, which the previous range
    verifies, so together they check exactly what one pass would."""
    import multiprocessing

    from django.db import connections

    from credit.ledger import verify_worker as worker

    step = -(-last_seq // workers)
    bounds = []
    for lower in range(0, last_seq, step):
        upper = min(last_seq, lower + step)
        bounds.append((lower, upper, {s: a for s, a in anchors.items() if lower < s <= upper}))
    # Spawned, not forked: a fork copies whatever locks the parent's other threads (a live server,
    # a browser driver, logging) hold at that instant, and a child can wait on them for ever.
    database = {
        key: value
        for key, value in connections["default"].settings_dict.items()
        if key in ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    }
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    with context.Pool(len(bounds), initializer=worker.init, initargs=(counter, database)) as pool:
        pending = pool.map_async(worker.verify_chunk, bounds)
        while not pending.ready():
            pending.wait(0.5)
            if progress is not None:
                progress(min(counter.value, total), total)
        parts = pending.get()
    report = VerifyReport()
    found: set[int] = set()
    for part, part_found in parts:
        report.checked += part.checked
        report.anchors_checked += part.anchors_checked
        report.problem_count += part.problem_count
        report.problems.extend(part.problems)
        found |= part_found
        if part.checked:
            report.head_seq, report.head_hash = part.head_seq, part.head_hash
    report.problems = sorted(report.problems, key=lambda p: p.seq)[:MAX_PROBLEMS]
    if progress is not None:
        progress(total, total)
    return report, found


def chain_verify(
    *,
    anchors: list[Anchor],
    start_after: int = 0,
    start_hash: str = ledger_hashing.GENESIS_HASH,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> VerifyReport:
    """Recompute the chain from ``start_after`` (0: the genesis) and check every anchor beyond it.
    With ``workers`` > 1, a large ledger on PostgreSQL is verified by that many processes."""
    from django.db import connection
    from django.db.models import Max

    total = LedgerEntry.objects.filter(seq__gt=start_after).count()
    by_seq = {anchor.seq: anchor for anchor in anchors if anchor.seq > start_after}
    if workers > 1 and start_after == 0 and total >= PARALLEL_MIN_ENTRIES and connection.vendor == "postgresql":
        last_seq = LedgerEntry.objects.aggregate(m=Max("seq"))["m"] or 0
        report, found = _verify_parallel(
            anchors=by_seq, last_seq=last_seq, total=total, workers=workers, progress=progress
        )
    else:
        done = [0]

        def tick(count: int) -> None:
            done[0] += count
            if progress is not None:
                progress(done[0], total)

        report, found = _verify_range(
            start_after=start_after, start_hash=start_hash, until=None, by_seq=by_seq, tick=tick
        )
    for seq, anchor in sorted(by_seq.items()):
        if seq not in found:
            report.anchors_checked += 1
            report.add(Problem(seq, "anchor_missing", f"anchored on line {anchor.line} but no longer in the ledger"))
    return report


def default_workers() -> int:
    import os

    return max(1, min(4, os.cpu_count() or 1))


def ledger_verify(
    *, anchor_file: Path, progress: Callable[[int, int], None] | None = None, workers: int = 1
) -> VerifyReport:
    """Verify the whole chain against every anchor. Raises ``AnchorFileError`` (cannot verify)."""
    anchors = anchors_read(anchor_file)
    return chain_verify(anchors=anchors, progress=progress, workers=workers)
