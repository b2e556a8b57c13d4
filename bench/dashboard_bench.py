"""The efficiency dashboard on a large bureau (issue 13 item 4): N applications over three years
(default 1 000 000), closed ones with their close facts, one handled step each and some deemed
consents, written by SQL ``generate_series`` into its own PostgreSQL database; then the dashboard's
three tables (the chosen grouping, the monthly trend, the department ranking) are timed for the
whole bureau and for one department, and the plans of the main aggregates are printed.

    .venv/bin/python bench/dashboard_bench.py [--n 1000000] [--runs 20] [--keep]

``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/h_dashboard_bench``) is
dropped and recreated; a name without ``bench`` is refused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--departments", type=int, default=30)
    parser.add_argument("--items-per-department", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="reuse the database if it is filled already")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_dashboard_bench")
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit("BENCH_DATABASE_URL must name a database whose name contains 'bench'")
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench-not-secret-" + "x" * 32, DEBUG="0", STATIC_MANIFEST="0")  # noqa: S106
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import psycopg2

    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone()
        if exists and not args.keep:
            cursor.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from approvals.models import Application

    call_command("migrate", verbosity=0)
    if not Application.objects.exists():
        _fill(args)
    from approvals.models import Department
    from approvals.supervision import dashboard

    today = (
        Application.objects.filter(closed_on__isnull=False)
        .order_by("-closed_on")
        .values_list("closed_on", flat=True)
        .first()
    )
    assert today is not None
    period = dashboard.period_default(today=today)
    department = Department.objects.filter(kind="department").order_by("code").first()
    assert department is not None
    every = dashboard.figures_by_key()

    def page(scope: dashboard.Scope) -> None:
        dashboard.efficiency_table(scope=scope, period=period, grouping="department", today=today)
        dashboard.efficiency_table(
            scope=scope,
            period=period,
            grouping="month",
            today=today,
            figures=[every["completed"], every["on_time_rate"]],
        )
        dashboard.close_facts_missing_count()

    print(f"applications: {Application.objects.count()}, period {period.key()}")
    for label, scope in (
        ("whole bureau", dashboard.Scope()),
        ("one department", dashboard.Scope(department_ids=frozenset({department.pk}))),
    ):
        page(scope)  # warm the caches
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            page(scope)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{label}: median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {args.runs} runs")
    rows = dashboard.SOURCES["closed"].rows(scope=dashboard.Scope(), period=period, today=today)
    query = rows.values("item_version__lead_department_id").annotate(n=dashboard.Count("pk"))
    with connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(line for (line,) in cursor.fetchall()))


def _fill(args: argparse.Namespace) -> None:
    from django.db import connection

    from approvals.catalogue import services as catalogue
    from approvals.models import Jurisdiction
    from approvals.organisation import services as org
    from core.models import User
    from credit.enterprises.uscc import uscc_with_check_digit
    from credit.models import Enterprise

    started = time.perf_counter()
    jurisdiction = Jurisdiction.objects.create(code="SY", name="沈阳市", level="city")
    root = org.department_create(actor=None, code="BUREAU", name="行政审批局", kind="bureau", jurisdiction=jurisdiction)
    desk = org.department_create(
        actor=None, code="DESK", name="综合受理窗口", kind="department", jurisdiction=jurisdiction, parent=root
    )
    departments = [
        org.department_create(
            actor=None, code=f"D{i:02d}", name=f"审批处{i}", kind="department", jurisdiction=jurisdiction, parent=root
        )
        for i in range(args.departments)
    ]
    for department in departments:
        for j in range(args.items_per_department):
            version = catalogue.item_draft_create(
                actor=None,
                code=f"{department.code}I{j:02d}",
                co_review_departments=[],
                materials=[{"name": "申请书", "mandatory": True, "may_be_missing": False}],
                name=f"事项{department.code}{j}",
                legal_basis="依据",
                lead_department=department,
                desk_department=desk,
                statutory_limit_days=20,
                promised_limit_days=10,
                review_limit_days=5,
                max_extension_days=10,
            )
            catalogue.item_version_publish(actor=None, version=version)
    user = User.objects.create(username="bench", kind=User.Kind.STAFF)
    enterprise = Enterprise.objects.create(
        uscc=uscc_with_check_digit("91210100000000001"), name="企业", legal_representative="张伟"
    )
    with connection.cursor() as cursor:
        # Three years of cases, one a ~95 s apart; 85 % closed (approved/refused), 5 % open.
        cursor.execute(
            """
            INSERT INTO approvals_application (
                reference, enterprise_id, applicant_id, item_version_id, status, route, form_data,
                idempotency_key, created_at, updated_at, submitted_at, received_on, accepted_at,
                accepted_on, deemed_accepted, decided_at, withdrawn_at, deadline, deadline_provisional,
                clock_suspended, statutory_deadline, statutory_deadline_provisional, closed_on,
                working_days_taken, on_time_promised, on_time_statutory, suspended_working_days,
                supplement_requests, close_facts_provisional, extension_days, extension_cap)
            SELECT 'B-' || g, %(enterprise)s, %(user)s, v.ids[1 + g %% %(versions)s],
                   CASE WHEN g %% 20 = 0 THEN 'in_review' WHEN g %% 2 = 0 THEN 'approved' ELSE 'refused' END,
                   'standard', '{}'::jsonb, gen_random_uuid(), t, t, t, t::date, t, t::date, g %% 50 = 0,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE t + (g %% 30) * interval '1 day' END, NULL,
                   (t + interval '14 days')::date, false, false, (t + interval '28 days')::date, false,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE (t + (g %% 30) * interval '1 day')::date END,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 30) * 5 / 7 END,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 30) < 14 END,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 30) < 27 END,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE g %% 4 END,
                   CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 7 = 0)::int END, false, 0, 10
            FROM generate_series(1, %(n)s) AS g
            CROSS JOIN LATERAL (SELECT now() - interval '3 years' + g * (interval '3 years' / %(n)s) AS t) AS moment
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM approvals_approvalitemversion) AS v
            """,
            {
                "enterprise": enterprise.pk,
                "user": user.pk,
                "n": args.n,
                "versions": args.departments * args.items_per_department,
            },
        )
        cursor.execute(
            """
            INSERT INTO approvals_decision (application_id, outcome, reasons, override_justification, decider_id,
                                            decided_at, opinions)
            SELECT id, status, 'r', '', %(user)s, decided_at, '[]'::jsonb FROM approvals_application
            WHERE status IN ('approved', 'refused')
            """,
            {"user": user.pk},
        )
        cursor.execute(
            """
            INSERT INTO approvals_step (application_id, kind, department_id, opened_at, due_on, claimed_by_id,
                                        claimed_at, closed_at, outcome, due_provisional)
            SELECT a.id, 'decide', v.lead_department_id, a.accepted_at, a.deadline, %(user)s, a.accepted_at,
                   a.decided_at, 'done', false
            FROM approvals_application a JOIN approvals_approvalitemversion v ON v.id = a.item_version_id
            WHERE a.decided_at IS NOT NULL
            """,
            {"user": user.pk},
        )
        cursor.execute(
            """
            INSERT INTO approvals_reviewopinion (application_id, department_id, outcome, reasons, deemed_because, at)
            SELECT a.id, %(desk)s, 'deemed_consent', '', 'timeout', a.accepted_at + interval '6 days'
            FROM approvals_application a WHERE a.id %% 40 = 0
            """,
            {"desk": desk.pk},
        )
        cursor.execute("COMMIT")  # VACUUM runs outside a transaction block
        cursor.execute("VACUUM ANALYZE")
    print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
