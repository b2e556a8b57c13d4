"""Efficiency supervision on a large bureau (issue 13): the warning ladder's sweep over every open
deadline, the supervisor's card queue, and the efficiency dashboard.

    .venv/bin/python bench/supervision_bench.py [--quick] [--json] [--n 1000000] [--open-steps 100000]

Fills its own PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/reformflow_supervision_bench``; a name without ``bench`` is
refused) by SQL ``generate_series``: N applications over three years (the dashboard bench's mix:
30 departments × 10 items, 95 % closed with their close facts), of which the open 5 % were accepted
in the last weeks with their clock events, and ``--open-steps`` open review steps on them (two per
open case), due from a few days ago to seven weeks on, a third of them taken up by a clerk. Then:

1. the sweep on a bureau whose overdue work has not been carded yet (it raises the reminders,
   yellow and red cards, with their notices, PDFs and supervision processes);
2. the sweep again: the steady state every ten minutes (goal ≤ 10 s), which raises nothing new;
3. ``supervision_replay`` over the same deadlines: no difference;
4. the supervisor's card queue page through Django's test client, R requests (goal p95 ≤ 50 ms),
   and its query count with few and with many cards;
5. the dashboard (the department table and the monthly trend) for the whole bureau and one
   department, R runs each, with its query count: first read from the cases alone, then after the
   monthly roll-up of every complete month (timed, and verified against the cases: no
   difference), read from the roll-up (goal p95 ≤ 200 ms), and the whole page as the supervisor
   opens it.

Progress goes to stderr; ``--json`` prints the figures as one JSON object on stdout. ``--quick`` (CI)
uses 20 000 applications and 2 000 open steps.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

QUICK = {"n": 20_000, "open_steps": 2_000, "runs": 10}
FULL = {"n": 1_000_000, "open_steps": 100_000, "runs": 30}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * 0.95)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--n", type=int, help="applications (default 1 000 000)")
    parser.add_argument("--open-steps", type=int, help="open review steps (default 100 000)")
    parser.add_argument("--runs", type=int, help="requests per page (default 30)")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="reuse the database a previous run filled: forget its roll-up, then time the queue and the dashboard",
    )
    args = parser.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    for name in ("n", "open_steps", "runs"):
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reformflow_supervision_bench")
    if not args.pages_only:
        benchlib.recreate_database(url)
    os.environ["MEDIA_ROOT"] = str(benchlib.ROOT / "bench" / "out" / "supervision-media")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    benchlib.setup_django(url, anchors="supervision-bench-anchors.jsonl")
    from django.core.management import call_command

    started = time.monotonic()
    benchlib.log("migrating …")
    call_command("migrate", verbosity=0)
    results: dict[str, object] = {"sizes": sizes}
    if args.pages_only:
        from approvals.models import EfficiencyCell, EfficiencyMonth

        EfficiencyCell.objects.all().delete()
        EfficiencyMonth.objects.all().delete()
    else:
        fill = _fill(n=sizes["n"], open_steps=sizes["open_steps"])
        results["fill_s"] = round(time.monotonic() - started, 1)
        results.update(fill)
        results.update(_sweeps())
    results.update(_queue(runs=sizes["runs"]))
    results.update(_dashboard(runs=sizes["runs"]))
    results["total_s"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")


def _fill(*, n: int, open_steps: int) -> dict[str, object]:
    """The dashboard bench's bureau, then recent open cases with clock events and open steps."""
    import argparse as _argparse

    import dashboard_bench
    from django.db import connection
    from django.utils import timezone

    from approvals.calendar import services as calendar_services
    from approvals.models import Application, CalendarYear

    benchlib.log(f"filling {n} applications …")
    today = timezone.localdate()
    years = (today.year - 3, today.year - 2, today.year - 1, today.year, today.year + 1)
    available = calendar_services.calendar_years_from_package(years)
    for year in years:
        if not CalendarYear.objects.filter(year=year).exists():
            calendar_services.calendar_year_publish(
                actor=None, year=year, days=available.get(year, []), source=CalendarYear.Source.MANUAL
            )
    dashboard_bench._fill(_argparse.Namespace(n=n, departments=30, items_per_department=10))
    with connection.cursor() as cursor:
        # The open cases (5 %): accepted in the last 15 days, promised 10 / statutory 20 working days
        # (about 14 / 28 calendar days: one in 15 is past its promised limit), with their received and
        # accepted clock events.
        cursor.execute(
            """
            UPDATE approvals_application SET
                accepted_on = %(today)s - (id %% 15)::int, received_on = %(today)s - (id %% 15)::int - 1,
                accepted_at = (%(today)s - (id %% 15)::int)::timestamp + interval '10 hours',
                deadline = %(today)s - (id %% 15)::int + 14,
                statutory_deadline = %(today)s - (id %% 15)::int + 28
            WHERE status = 'in_review'
            """,
            {"today": today},
        )
        cursor.execute(
            """
            INSERT INTO approvals_clockevent (application_id, kind, "on", at, reason, comment, deemed)
            SELECT id, k.kind, CASE WHEN k.kind = 'received' THEN received_on ELSE accepted_on END,
                   accepted_at, '', '', false
            FROM approvals_application CROSS JOIN (VALUES ('received'), ('accepted')) AS k(kind)
            WHERE status = 'in_review'
            ORDER BY id, k.kind DESC
            """
        )
        # Two review steps per open case (a co-review department each), due from yesterday to seven
        # weeks on (one in 52 overdue), opened a week before; every third one taken up by a clerk.
        cursor.execute(
            """
            INSERT INTO approvals_step (application_id, kind, department_id, opened_at, due_on, claimed_by_id,
                                        claimed_at, closed_at, outcome, due_provisional)
            SELECT a.id, 'review', d.id,
                   (%(today)s + ((a.id + s) %% 52)::int - 8)::timestamp + interval '9 hours',
                   %(today)s + ((a.id + s) %% 52)::int - 1,
                   CASE WHEN (a.id + s) %% 3 = 0 THEN u.id END,
                   CASE WHEN (a.id + s) %% 3 = 0 THEN now() END, NULL, '', false
            FROM (SELECT id FROM approvals_application WHERE status = 'in_review' ORDER BY id LIMIT %(cases)s) AS a
            CROSS JOIN generate_series(0, 1) AS s
            CROSS JOIN LATERAL (
                SELECT id FROM approvals_department WHERE code LIKE 'D%%' ORDER BY id OFFSET ((a.id + s) %% 30)::int LIMIT 1
            ) AS d
            CROSS JOIN (SELECT id FROM core_user WHERE username = 'bench') AS u
            """,
            {"today": today, "cases": (open_steps + 1) // 2},
        )
        cursor.execute("COMMIT")
        cursor.execute("VACUUM ANALYZE")
    from approvals.models import Step

    return {
        "applications": Application.objects.count(),
        "open_cases": Application.objects.filter(status="in_review").count(),
        "open_steps": Step.objects.filter(closed_at__isnull=True).count(),
    }


def _sweeps() -> dict[str, object]:
    from approvals.models import SupervisionCard
    from approvals.supervision.replay import supervision_replay
    from workflows.actions.supervision_cards import supervision_sweep

    out: dict[str, object] = {}
    for label in ("first", "steady"):
        benchlib.log(f"{label} sweep …")
        begun = time.monotonic()
        report = supervision_sweep(progress=lambda r: benchlib.log(f"  … {r.watched} deadlines"))
        out[f"sweep_{label}_s"] = round(time.monotonic() - begun, 2)
        out[f"sweep_{label}_watched"] = report.watched
        out[f"sweep_{label}_raised"] = dict(report.raised)
    out["cards"] = SupervisionCard.objects.count()
    benchlib.log("replay …")
    begun = time.monotonic()
    differences = sum(1 for _ in supervision_replay(progress=lambda n: benchlib.log(f"  … {n} replayed")))
    out["replay_s"] = round(time.monotonic() - begun, 1)
    out["replay_differences"] = differences
    return out


def _client() -> object:
    from django.test import Client

    from approvals.organisation import services as org
    from approvals.organisation.roles import StaffRole
    from core.models import User

    user, created = User.objects.get_or_create(username="bench_supervisor", defaults={"kind": User.Kind.STAFF})
    if created:
        org.staff_role_grant(actor=None, user=user, role=StaffRole.SUPERVISOR, department=None)
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(pk=user.pk))
    return client


def _timed_get(client: object, path: str, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # type: ignore[attr-defined]  # warm
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            begun = time.perf_counter()
            response = client.get(path)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured.captured_queries)
    return times, queries


def _queue(*, runs: int) -> dict[str, object]:
    from django.test.utils import override_settings

    benchlib.log("card queue …")
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        client = _client()
        times, queries = _timed_get(client, "/workbench/supervision/cards/", runs)
        all_times, all_queries = _timed_get(client, "/workbench/supervision/cards/?state=all&page=2", runs)
    return {
        "queue_p50_ms": round(statistics.median(times), 1),
        "queue_p95_ms": round(p95(times), 1),
        "queue_queries": queries,
        "queue_all_page2_p95_ms": round(p95(all_times), 1),
        "queue_all_page2_queries": all_queries,
    }


def _dashboard(*, runs: int) -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from approvals.models import Department, EfficiencyCell
    from approvals.supervision import dashboard, rollup

    today = timezone.localdate()
    period = dashboard.period_default(today=today)
    every = dashboard.figures_by_key()
    department = Department.objects.filter(code="D00").first()
    assert department is not None

    def page(scope: dashboard.Scope) -> None:
        dashboard.efficiency_table(scope=scope, period=period, grouping="department", today=today)
        dashboard.efficiency_table(
            scope=scope,
            period=period,
            grouping="month",
            today=today,
            figures=[every["completed"], every["on_time_rate"]],
        )

    def timed(label: str) -> dict[str, object]:
        out: dict[str, object] = {}
        for scope_label, scope in (
            ("bureau", dashboard.Scope()),
            ("department", dashboard.Scope(department_ids=frozenset({department.pk}))),
        ):
            page(scope)
            times = []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    begun = time.perf_counter()
                    page(scope)
                    times.append((time.perf_counter() - begun) * 1000)
            out[f"dashboard_{label}{scope_label}_p50_ms"] = round(statistics.median(times), 1)
            out[f"dashboard_{label}{scope_label}_p95_ms"] = round(p95(times), 1)
            out[f"dashboard_{label}{scope_label}_queries"] = len(captured.captured_queries)
        return out

    out: dict[str, object] = {"dashboard_period": period.key()}
    # 1. every month read from the cases (no roll-up yet: a bureau that has just upgraded)
    benchlib.log("dashboard from the cases …")
    out.update(timed("live_"))
    # 2. the roll-up of every complete month (what the hourly job does once per month)
    benchlib.log("roll-up of the complete months …")
    begun = time.monotonic()
    months = rollup.efficiency_rollup_pending(progress=lambda month, cells: benchlib.log(f"  {month:%Y-%m}: {cells}"))
    out["rollup_months"] = months
    out["rollup_s"] = round(time.monotonic() - begun, 1)
    out["rollup_cells"] = EfficiencyCell.objects.count()
    begun = time.monotonic()
    out["rollup_verify_differences"] = len(rollup.efficiency_rollup_verify())
    out["rollup_verify_s"] = round(time.monotonic() - begun, 1)
    # 3. the dashboard on the roll-up: complete months from cells, this month from the cases
    benchlib.log("dashboard on the roll-up …")
    out.update(timed(""))
    # 4. the whole page as the supervisor opens it (the default grouping and the trend)
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        client = _client()
        times, queries = _timed_get(client, "/workbench/supervision/dashboard/", runs)
    out["dashboard_page_p50_ms"] = round(statistics.median(times), 1)
    out["dashboard_page_p95_ms"] = round(p95(times), 1)
    out["dashboard_page_queries"] = queries
    return out


if __name__ == "__main__":
    main()
