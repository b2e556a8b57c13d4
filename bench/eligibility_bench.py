#!/usr/bin/env python
"""Eligibility-check benchmark on PostgreSQL (issue 6).

Builds N enterprises with M hash-chained ledger entries (a realistic mix of kinds, spread evenly),
publishes a loan-guarantee policy with a realistic decision table, then measures:

- ``policy_eligibility_check`` on random enterprises (goal: p95 ≤ 5 ms): each call reads the
  enterprise's ledger, evaluates the table with its hints, and records the decision with its inputs
  and an audit event, in its own transaction (the COMMIT is part of the time), as a screen would;
- queries per check, and the share of the time spent in SQL;
- ``eligibility_replay`` over the decisions just recorded (decisions per second);
- peak RSS of this process.

Usage::

    .venv/bin/python bench/eligibility_bench.py              # 100 000 enterprises, 1 000 000 entries
    .venv/bin/python bench/eligibility_bench.py --quick      # CI size
    .venv/bin/python bench/eligibility_bench.py --quick --json

The script owns its database: ``ELIGIBILITY_BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/reformflow_eligibility_bench``) is dropped, recreated and
migrated on every run; a database name without ``bench`` in it is refused. Progress goes to stderr.
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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import benchlib
from benchlib import log, percentile, progress, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reformflow_eligibility_bench"
FULL = {"enterprises": 100_000, "entries": 1_000_000, "checks": 2_000, "warmup": 50}
QUICK = {"enterprises": 1_000, "entries": 10_000, "checks": 200, "warmup": 20}
GOALS = {"p95_ms": 5.0}
SEED = 2026

# The mix of ledger entries (kind code → share): mostly inspections passed, commitments kept and
# minor penalties; about 2 % serious entries, so that roughly one enterprise in six has one within
# three years and is refused (a refusal costs more: its hints look for the day the answer turns).
KIND_MIX = {
    "inspection_passed": 0.32,
    "commitment_fulfilled": 0.20,
    "tax_grade_a": 0.10,
    "penalty_simplified": 0.16,
    "admin_penalty": 0.10,
    "rectification_overdue": 0.05,
    "wage_arrears": 0.05,
    "serious_violation": 0.008,
    "court_dishonest_debtor": 0.004,
    "false_commitment": 0.004,
    "tax_grade_d": 0.004,
}

# The decision table of the benchmark policy: what a loan guarantee (贷款担保) asks in practice.
CONDITIONS = [
    {"type": "min_grade", "grade": "B"},
    {"type": "no_serious_within_years", "years": 3},
    {"type": "no_rectification_overdue"},
    {"type": "no_court_dishonest_debtor"},
    {"type": "no_wage_arrears_within_months", "months": 24},
    {"type": "no_false_commitment_unrepaired"},
]
BENEFITS = {"guarantee_cap": "5000000.00", "max_term_months": 36, "fee_rate": "0.01"}


def setup_django(url: str) -> None:
    benchlib.setup_django(url, anchors="eligibility-bench-anchors.jsonl")


def build(sizes: dict[str, int]) -> dict[str, Any]:
    """Enterprises by bulk insert; entries hashed in Python and loaded with COPY (INSERT is allowed
    by the triggers), chained exactly as ``credit_entry_append`` would have chained them (as
    ``credit_bench.py`` does), so that the replay's ledger comparison holds."""
    from django.utils import timezone
    from ledger_load import enterprises_bulk_create, ledger_copy

    from credit.ledger.models import CreditEntryKind

    started = time.monotonic()
    enterprises = enterprises_bulk_create(sizes["enterprises"], progress=progress)
    kinds_by_code = {k.code: k for k in CreditEntryKind.objects.filter(is_current=True, code__in=KIND_MIX)}
    kinds = [kinds_by_code[code] for code in KIND_MIX]
    weights = list(KIND_MIX.values())
    rng = random.Random(SEED)  # noqa: S311  (benchmark data, not security)
    now = timezone.now()
    total = sizes["entries"]
    # Recorded times ascend with seq over three years; each entry occurred up to 20 days earlier.
    span = datetime.timedelta(days=3 * 365)
    start = now - span

    chosen_kinds = rng.choices(kinds, weights=weights, k=total)

    def pick(seq: int) -> tuple[int, str, Any]:
        pk, uscc = enterprises[rng.randrange(len(enterprises))]
        return pk, uscc, chosen_kinds[seq - 1]

    ledger_copy(total=total, start=start, span=span, rng=rng, pick=pick, progress=progress)
    return {"build_s": round(time.monotonic() - started, 1)}


def publish_policy() -> Any:
    from credit.policies import services as policy_services

    policy = policy_services.policy_create(
        actor=None,
        code="bench-loan-guarantee",
        name="基准贷款担保政策",
        kind="loan_guarantee",
        legal_basis="《沈阳市促进中小企业发展条例》第二十条",
        valid_from=datetime.date(2020, 1, 1),
        conditions=CONDITIONS,
        benefits=BENEFITS,
    )
    return policy_services.policy_version_publish(actor=None, version=policy.versions.get(number=1)).policy


class SqlMeter:
    """Counts the statements and the time spent in ``cursor.execute`` (round trip and server)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        begun = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - begun
            self.count += 1


@contextmanager
def metered(meter: SqlMeter) -> Iterator[None]:
    from django.db import connection

    with connection.execute_wrapper(meter):
        yield


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def measure_checks(policy: Any, sizes: dict[str, int]) -> dict[str, Any]:
    """``checks`` eligibility checks on enterprises drawn at random (with replacement), after
    ``warmup`` untimed ones. The enterprise and the policy are loaded beforehand, as the calling
    view has them; everything the service does is timed."""
    from credit.models import Enterprise
    from credit.policies import services as policy_services

    rng = random.Random(SEED + 1)  # noqa: S311  (benchmark data, not security)
    ids = list(Enterprise.objects.values_list("pk", flat=True))
    total = sizes["warmup"] + sizes["checks"]
    drawn = [ids[rng.randrange(len(ids))] for _ in range(total)]
    enterprises = Enterprise.objects.in_bulk(set(drawn))
    times: list[float] = []
    by_answer: dict[bool, list[float]] = {True: [], False: []}
    queries: list[int] = []
    facts: list[int] = []
    sql_seconds = 0.0
    decision_ids: list[int] = []
    begun = time.monotonic()
    for number, pk in enumerate(drawn, start=1):
        meter = SqlMeter()
        with metered(meter):
            started = time.perf_counter()
            decision = policy_services.policy_eligibility_check(
                actor=None, enterprise=enterprises[pk], policy=policy, source_type="enterprise", source_id=str(pk)
            )
            elapsed = (time.perf_counter() - started) * 1000
        decision_ids.append(decision.pk)
        if number > sizes["warmup"]:
            times.append(elapsed)
            by_answer[decision.eligible].append(elapsed)
            queries.append(meter.count)
            facts.append(len(decision.facts))
            sql_seconds += meter.seconds
        progress("checks", number, total, begun)
    result: dict[str, Any] = {
        "checks": len(times),
        **latency(times),
        "eligible_share": round(len(by_answer[True]) / max(1, len(times)), 3),
        "eligible": latency(by_answer[True]),
        "not_eligible": latency(by_answer[False]),
        "queries_per_check": round(statistics.fmean(queries), 2),
        "queries_per_check_max": max(queries),
        "db_time_share": round(sql_seconds * 1000 / max(sum(times), 1e-9), 3),
        "entries_per_check_mean": round(statistics.fmean(facts), 1),
        "entries_per_check_max": max(facts),
    }
    return {"check": result, "decision_ids": decision_ids}


def measure_replay(decision_ids: list[int]) -> dict[str, Any]:
    from credit.policies import selectors as policy_selectors

    begun = time.monotonic()
    report = policy_selectors.eligibility_replay(
        decision_ids=decision_ids, progress=lambda d, t: progress("replay", d, t, begun)
    )
    elapsed = time.monotonic() - begun
    if not report.all_agree:
        first = report.mismatches[0]
        raise SystemExit(f"the replay disagrees with {len(report.mismatches)} decision(s), e.g. {first}")
    return {
        "replay_decisions": report.checked,
        "replay_s": round(elapsed, 2),
        "replay_decisions_per_s": round(report.checked / max(elapsed, 1e-9), 1),
        "replay_all_agree": report.all_agree,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--enterprises", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument("--checks", type=int, help="timed checks (default 2000, --quick 200)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the database the previous run built (no rebuild)"
    )
    args = parser.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    for name in ("enterprises", "entries", "checks"):
        if getattr(args, name):
            sizes[name] = getattr(args, name)
    url = os.environ.get("ELIGIBILITY_BENCH_DATABASE_URL", DEFAULT_URL)
    log(
        f"eligibility bench: {sizes['enterprises']} enterprises, {sizes['entries']} entries, "
        f"{sizes['checks']} checks on {urlsplit(url).path[1:]}"
    )
    if not args.reuse:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    results: dict[str, Any] = {"sizes": sizes, "command": " ".join(["bench/eligibility_bench.py", *sys.argv[1:]])}
    if args.reuse:
        from credit.ledger.models import LedgerEntry
        from credit.models import Enterprise
        from credit.policies.models import Policy

        policy = Policy.objects.filter(code="bench-loan-guarantee").first()
        if policy is None or not LedgerEntry.objects.exists():
            raise SystemExit("--reuse: the benchmark database holds no ledger; run without --reuse first")
        results["build_s"] = None
        results["sizes"] = {
            **sizes,
            "enterprises": Enterprise.objects.count(),
            "entries": LedgerEntry.objects.count(),
        }
    else:
        results.update(build(sizes))
        policy = publish_policy()
    measured = measure_checks(policy, sizes)
    results.update(measured["check"])
    results.update(measure_replay(measured["decision_ids"]))
    results["policy"] = {"kind": policy.kind, "conditions": CONDITIONS}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["cpus"] = os.cpu_count()
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["goals"] = GOALS
    results["goals_met"] = {name: results[name] <= limit for name, limit in GOALS.items() if name in results}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for key, value in results.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
