#!/usr/bin/env python
"""Random-inspection draw benchmark (双随机一公开): ``approvals.supervision.draw.draw`` on a synthetic campaign.

Generates N targets (random 18-character codes of the USCC alphabet, no check digit: the pure module
checks only the shape) with the grade mix A 65 %, B 25 %, C 8 %, D 2 %, M inspectors and recusals
for 1 % of the targets, then draws several times with the default ratios and reports:

- min / median / max seconds per draw (goal ≤ 1 s for 100 000 targets and 200 inspectors on a
  2-core machine), in the default mode (``workers=None``: a helper process above
  ``PARALLEL_THRESHOLD`` inspector hashes) and, for comparison, in one process (``workers=1``);
- the sample size per grade, and whether every run, in either mode, gave the same sample (a
  SHA-256 of the sample);
- the export of the last draw: its size, and the time ``export_check`` takes (what
  ``manage.py draw_verify`` spends re-running the draw).

Usage::

    .venv/bin/python bench/draw_bench.py              # 100 000 targets, 200 inspectors
    .venv/bin/python bench/draw_bench.py --quick      # CI size: 5 000 targets, 20 inspectors
    .venv/bin/python bench/draw_bench.py --quick --json

No database. Progress goes to stderr; stdout holds the report, or with ``--json`` one JSON object.
Exit status 1 if two runs disagree or the export does not check clean; the time goal only shows as
``goal_met`` (shared machines are too noisy for a threshold).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FULL = {"targets": 100_000, "inspectors": 200, "runs": 5}
QUICK = {"targets": 5_000, "inspectors": 20, "runs": 5}
MIX = {"A": 0.65, "B": 0.25, "C": 0.08}  # D takes the rest: 2 %
RECUSAL_SHARE = 0.01
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SEED = "上证指数 2026-05-29 收盘 3345.12"
CAMPAIGN = "SJ-BENCH-001"
GOAL_S = 1.0


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def build(targets: int, inspectors: int, seed: int) -> tuple[list[Any], list[str], list[tuple[str, str]]]:
    from approvals.supervision.draw import Target

    rng = random.Random(seed)  # noqa: S311  (benchmark data, not security)
    usccs: set[str] = set()
    while len(usccs) < targets:
        usccs.add("".join(rng.choices(USCC_ALPHABET, k=18)))
    codes = sorted(usccs)
    rng.shuffle(codes)
    counts = {grade: round(share * targets) for grade, share in MIX.items()}
    counts["D"] = targets - sum(counts.values())
    grades = [grade for grade, count in counts.items() for _ in range(count)]
    roster = [Target(uscc, grade) for uscc, grade in zip(codes, grades, strict=True)]
    names = [f"inspector{number:03d}" for number in range(inspectors)]
    recusals = [(target.uscc, rng.choice(names)) for target in rng.sample(roster, int(targets * RECUSAL_SHARE))]
    return roster, names, recusals


def sample_digest(result: Any) -> str:
    text = "\n".join(f"{entry.uscc},{entry.inspectors[0]},{entry.inspectors[1]}" for entry in result.sample)
    return hashlib.sha256(text.encode()).hexdigest()


def measure(
    label: str, runs: int, workers: int | None, roster: list[Any], names: list[str], recusals: list[tuple[str, str]]
) -> tuple[dict[str, Any], Any, set[str]]:
    from approvals.supervision.draw import DEFAULT_RATIOS, draw

    times, digests, result = [], set(), None
    for run in range(1, runs + 1):
        began = time.perf_counter()
        result = draw(
            seed=SEED,
            campaign_code=CAMPAIGN,
            targets=roster,
            inspectors=names,
            recusals=recusals,
            ratios=DEFAULT_RATIOS,
            workers=workers,
        )
        times.append(time.perf_counter() - began)
        digests.add(sample_digest(result))
        log(f"{label}: run {run}/{runs} {times[-1]:.3f} s")
    figures = {
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "times_s": [round(t, 3) for t in times],
    }
    return figures, result, digests


def measure_export(result: Any, roster: list[Any], names: list[str], recusals: list[tuple[str, str]]) -> dict[str, Any]:
    from approvals.supervision.draw import DEFAULT_RATIOS, export_check, export_document, export_dumps

    began = time.perf_counter()
    text = export_dumps(
        export_document(
            campaign_code=CAMPAIGN,
            seed=result.seed,
            ratios=DEFAULT_RATIOS,
            targets=roster,
            inspectors=names,
            recusals=recusals,
            sample=result.sample,
            roster_hashes=result.roster_hashes,
        )
    )
    built = time.perf_counter() - began
    document = json.loads(text)
    began = time.perf_counter()
    problems = export_check(document)
    checked = time.perf_counter() - began
    log(f"export: {len(text.encode()) / 1e6:.1f} MB, built in {built:.3f} s, checked in {checked:.3f} s")
    return {
        "export_bytes": len(text.encode()),
        "export_build_s": round(built, 3),
        "export_check_s": round(checked, 3),
        "export_problems": problems[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size: 5 000 targets, 20 inspectors")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--targets", type=int, help="number of targets (default 100 000, quick 5 000)")
    parser.add_argument("--inspectors", type=int, help="number of inspectors (default 200, quick 20)")
    parser.add_argument("--runs", type=int, help="draws per mode (default 5)")
    parser.add_argument(
        "--workers",
        default="auto",
        help="'auto' (draw's default: a helper process above PARALLEL_THRESHOLD hashes) or a number of processes",
    )
    parser.add_argument("--no-serial", action="store_true", help="skip the one-process comparison runs")
    parser.add_argument("--data-seed", type=int, default=2026, help="seed of the synthetic rosters")
    args = parser.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("targets", "inspectors", "runs"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    workers = None if args.workers == "auto" else int(args.workers)
    sys.path.insert(0, str(ROOT))
    from approvals.supervision.draw import PARALLEL_THRESHOLD

    log(f"draw bench: {sizes['targets']} targets, {sizes['inspectors']} inspectors, {sizes['runs']} runs")
    began = time.perf_counter()
    roster, names, recusals = build(sizes["targets"], sizes["inspectors"], args.data_seed)
    log(f"built the rosters in {time.perf_counter() - began:.1f} s")

    results: dict[str, Any] = {
        "command": " ".join(["bench/draw_bench.py", *sys.argv[1:]]),
        "sizes": {**sizes, "recusals": len(recusals)},
        "roster_per_grade": {grade: sum(1 for t in roster if t.grade == grade) for grade in "ABCD"},
        "workers": args.workers,
        "parallel_threshold_hashes": PARALLEL_THRESHOLD,
    }
    figures, result, digests = measure(f"workers={args.workers}", sizes["runs"], workers, roster, names, recusals)
    results.update(figures)
    results["sample_per_grade"] = result.sample_sizes
    results["sample_total"] = len(result.sample)
    results["inspector_hashes"] = len(result.sample) * len(names)
    if not args.no_serial and workers != 1:
        serial, _, serial_digests = measure("workers=1", sizes["runs"], 1, roster, names, recusals)
        results["serial"] = serial
        digests |= serial_digests
    results["identical"] = len(digests) == 1
    results["sample_sha256"] = sorted(digests)[0]
    results.update(measure_export(result, roster, names, recusals))
    results["goal_s"] = GOAL_S
    results["goal_met"] = results["median_s"] <= GOAL_S
    results["cpus"] = os.cpu_count()
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        for key, value in results.items():
            print(f"{key:>26}: {value}")
    if not results["identical"] or results["export_problems"]:
        log("FAILED: runs disagree or the export does not check clean")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
