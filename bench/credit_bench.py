#!/usr/bin/env python
"""Credit-ledger benchmark on PostgreSQL (issue 4).

Builds N enterprises with M hash-chained ledger entries (one enterprise gets a long history of its
own), then measures:

- grade of that one enterprise with all its entries (goal ≤ 5 ms), median of repeated runs;
- re-grade of every enterprise as of now, streaming the whole ledger (goal ≤ 60 s);
- ``ledger_verify`` of the whole chain (goal ≤ 20 s);
- appends per second with 4 concurrent writers (threads, one connection each, through the service);
- peak RSS of this process.

Usage::

    .venv/bin/python bench/credit_bench.py              # 100 000 enterprises, 1 000 000 entries
    .venv/bin/python bench/credit_bench.py --quick      # CI size
    .venv/bin/python bench/credit_bench.py --quick --json

The script owns its database: ``CREDIT_BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/reformflow_credit_bench``) is dropped, recreated and migrated on
every run; a database name without ``bench`` in it is refused. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import benchlib
from benchlib import log, progress, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reformflow_credit_bench"
FULL = {"enterprises": 100_000, "entries": 1_000_000, "big": 10_000, "appends": 500, "grade_runs": 30}
QUICK = {"enterprises": 1_000, "entries": 10_000, "big": 2_000, "appends": 100, "grade_runs": 10}
WRITERS = 4
GOALS = {"grade_one_ms": 5.0, "regrade_all_s": 60.0, "verify_s": 20.0}


def setup_django(url: str) -> None:
    benchlib.setup_django(url, anchors="credit-bench-anchors.jsonl")


def build(sizes: dict[str, int]) -> dict[str, Any]:
    """Enterprises by bulk insert; entries hashed in Python and loaded with COPY (INSERT is allowed
    by the triggers), exactly as ``credit_entry_append`` would have chained them."""
    from django.utils import timezone
    from ledger_load import enterprises_bulk_create, ledger_copy

    from credit.ledger.models import CreditEntryKind

    started = time.monotonic()
    enterprises = enterprises_bulk_create(sizes["enterprises"], progress=progress)
    kinds = list(CreditEntryKind.objects.filter(is_current=True, effect="score"))
    rng = random.Random(2026)  # noqa: S311  (benchmark data, not security)
    now = timezone.now()
    total = sizes["entries"]
    big_pk, big_uscc = enterprises[0]
    others = enterprises[1:]
    # Occurred/recorded times ascend with seq, spread over three years.
    span = datetime.timedelta(days=3 * 365)
    start = now - span

    def pick(seq: int) -> tuple[int, str, Any]:
        pk, uscc = (
            (big_pk, big_uscc) if seq % max(1, total // sizes["big"]) == 0 else others[rng.randrange(len(others))]
        )
        return pk, uscc, kinds[rng.randrange(len(kinds))]

    ledger_copy(total=total, start=start, span=span, rng=rng, pick=pick, progress=progress)
    big_count = sum(1 for seq in range(1, total + 1) if seq % max(1, total // sizes["big"]) == 0)
    return {"build_s": round(time.monotonic() - started, 1), "big_enterprise_id": big_pk, "big_entries": big_count}


def measure_grade_one(enterprise_id: int, runs: int) -> dict[str, Any]:
    """Median of ``runs`` gradings of the enterprise with the long history, as of now: the full
    recomputation with its explanation (every entry fetched and scored), and the snapshot path
    (``credit_grade_current``: a stored snapshot that is provably still exact, else recomputed)."""
    from django.utils import timezone

    from credit.ledger import selectors as ledger_selectors
    from credit.ledger import services as ledger_services
    from credit.models import Enterprise

    enterprise = Enterprise.objects.get(pk=enterprise_id)
    ledger_selectors.credit_grade_as_of(enterprise=enterprise)  # warm the connection and caches
    full = []
    for _ in range(runs):
        begun = time.perf_counter()
        result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=timezone.now())
        full.append((time.perf_counter() - begun) * 1000)
    begun = time.perf_counter()
    first = ledger_services.credit_grade_current(enterprise=enterprise)
    cold = (time.perf_counter() - begun) * 1000
    cached = []
    for _ in range(runs):
        begun = time.perf_counter()
        summary = ledger_services.credit_grade_current(enterprise=enterprise, as_of=timezone.now())
        cached.append((time.perf_counter() - begun) * 1000)
    if (summary.grade, summary.score) != (result.grade, result.score) or not summary.from_snapshot:
        raise SystemExit("the snapshot path disagrees with the recomputation")
    return {
        "grade_one_ms": round(statistics.median(cached), 2),
        "grade_one_full_ms": round(statistics.median(full), 2),
        "grade_one_cold_snapshot_ms": round(cold, 2),
        "grade_one_grade": first.grade,
        "grade_one_entries": len(result.contributing) + len(result.excluded),
    }


def measure_regrade_all() -> dict[str, Any]:
    from django.utils import timezone

    from credit.ledger import scoring
    from credit.ledger import selectors as ledger_selectors

    begun = time.monotonic()
    now = timezone.now()
    from credit.ledger.models import LedgerEntry

    total = LedgerEntry.objects.values("enterprise_id").distinct().count()
    grades: dict[str, int] = {}
    number = 0
    for number, (_enterprise_id, facts) in enumerate(ledger_selectors.entry_facts_grouped(), start=1):
        grade = scoring.grade_as_of(facts, now).grade
        grades[grade] = grades.get(grade, 0) + 1
        if number % 10_000 == 0 or number == total:
            progress("re-grade", number, total, begun)
    return {
        "regrade_all_s": round(time.monotonic() - begun, 2),
        "regrade_enterprises": number,
        "grade_distribution": dict(sorted(grades.items())),
    }


def measure_verify() -> dict[str, Any]:
    from credit.ledger.verify import chain_verify, default_workers

    begun = time.monotonic()
    workers = default_workers()
    report = chain_verify(anchors=[], progress=lambda d, t: progress("verify", d, t, begun), workers=workers)
    elapsed = time.monotonic() - begun
    if not report.intact:
        raise SystemExit(f"the benchmark chain does not verify: {report.problems[:3]}")
    return {"verify_s": round(elapsed, 2), "verify_entries": report.checked, "verify_workers": workers}


def measure_appends(count: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from credit.ledger import services as ledger_services
    from credit.ledger.models import CreditEntryKind
    from credit.models import Enterprise

    kind = CreditEntryKind.objects.get(code="commitment_fulfilled", is_current=True)
    targets = list(Enterprise.objects.order_by("pk")[:WRITERS])
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(enterprise: Enterprise) -> None:
        try:
            barrier.wait(timeout=60)
            for number in range(count):
                ledger_services.credit_entry_append(
                    actor=None,
                    enterprise=enterprise,
                    kind=kind,
                    occurred_at=timezone.now(),
                    deciding_authority="沈阳市行政审批局",
                    reason="基准追加",
                    source_type="application",
                    source_id=f"bench-append:{enterprise.pk}:{number}",
                )
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(e,)) for e in targets]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begun
    if errors:
        raise SystemExit(f"append failed: {errors[0]!r}")
    return {
        "appends_per_s": round(WRITERS * count / elapsed, 1),
        "appends_total": WRITERS * count,
        "append_writers": WRITERS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--enterprises", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the database the previous run built (no rebuild)"
    )
    parser.add_argument(
        "--only",
        default="grade,regrade,verify,appends",
        help="comma-separated measures to run (grade, regrade, verify, appends); default all",
    )
    args = parser.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    if args.enterprises:
        sizes["enterprises"] = args.enterprises
    if args.entries:
        sizes["entries"] = args.entries
    url = os.environ.get("CREDIT_BENCH_DATABASE_URL", DEFAULT_URL)
    log(f"credit bench: {sizes['enterprises']} enterprises, {sizes['entries']} entries on {urlsplit(url).path[1:]}")
    if not args.reuse:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    results: dict[str, Any] = {"sizes": sizes, "command": " ".join(["bench/credit_bench.py", *sys.argv[1:]])}
    if args.reuse:
        from django.db.models import Count

        from credit.ledger.models import LedgerEntry

        biggest = LedgerEntry.objects.values("enterprise_id").annotate(n=Count("seq")).order_by("-n").first()
        if biggest is None:
            raise SystemExit("--reuse: the benchmark database holds no ledger; run without --reuse first")
        results.update({"build_s": None, "big_enterprise_id": biggest["enterprise_id"], "big_entries": biggest["n"]})
        results["sizes"] = {**sizes, "entries": LedgerEntry.objects.count()}
    else:
        results.update(build(sizes))
    only = {name.strip() for name in args.only.split(",")}
    if "grade" in only:
        results.update(measure_grade_one(results["big_enterprise_id"], sizes["grade_runs"]))
    if "regrade" in only:
        results.update(measure_regrade_all())
    if "verify" in only:
        results.update(measure_verify())
    if "appends" in only:
        results.update(measure_appends(sizes["appends"]))
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["cpus"] = os.cpu_count()
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["goals"] = GOALS
    results["goals_met"] = {name: results[name] <= limit for name, limit in GOALS.items() if name in results}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for key, value in results.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
