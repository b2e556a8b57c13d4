#!/usr/bin/env python
"""Throughput of the standard approval flow on PostgreSQL, measured against pgbench (issue 3).

Runs N applications through ``StandardApprovalFlow`` (accept → one review per co-review department
→ join → decide → certificate) with W worker *processes*, each with its own database connection,
and runs pgbench (TPC-B, W clients) against the same server before and after it. A *human step*
is one task claimed and completed by a staff member through ``workflows.actions.applications`` (the code the
views call), including the automatic nodes that follow it; claim and complete count as one step.

Usage (see bench/README.md for how to read the figures)::

    .venv/bin/python bench/flow_throughput.py --n 200 --workers 2
    .venv/bin/python bench/flow_throughput.py --n 200 --workers 2 --contended
    .venv/bin/python bench/flow_throughput.py --quick --json          # CI

The script creates and owns its databases: ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/reformflow_bench``) is dropped, recreated and migrated on
every run, and pgbench gets ``<that name>_pgbench``. Names without ``bench`` in them are refused,
so a mistyped URL can never drop a real database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import multiprocessing
import os
import queue
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from benchlib import percentile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reformflow_bench"
QUICK = {"n": 20, "workers": 2, "pgbench_seconds": 3}
FULL = {"n": 200, "workers": 2, "pgbench_seconds": 10}
KINDS = ("accept", "review", "decide")
# A worker that waits this long at a barrier is stuck (a deadlock, or a sibling that died).
BARRIER_TIMEOUT_S = 120.0
# Two pgbench runs of a quiet machine agree within a few per cent.
DRIFT_WARNING = 0.15


class BenchError(Exception):
    """A condition that makes the run meaningless; reported on stderr with exit status 2."""


class FlowIncompleteError(Exception):
    """The flow did not take every application the whole way once: a defect, exit status 1."""


def log(message: str) -> None:
    """Progress goes to stderr so that ``--json`` leaves stdout to the one JSON object."""
    # UTC on purpose: once Django is set up, the process's local time is the bureau's (Asia/Shanghai).
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr, flush=True)


# --- databases (no Django yet: it must not be configured before the database exists) -------------


@dataclass(frozen=True)
class PgTarget:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def libpq_env(self) -> dict[str, str]:
        """Environment for the PostgreSQL command-line tools (keeps the password off argv)."""
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def url(self, dbname: str | None = None) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{dbname or self.dbname}"


def pg_target_from_url(url: str) -> PgTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise BenchError(f"BENCH_DATABASE_URL must be a postgres:// URL, not {parts.scheme or url!r}.")
    dbname = unquote(parts.path.lstrip("/"))
    if "bench" not in dbname:
        # The database is dropped on every run: only ever drop one that is obviously ours.
        raise BenchError(f"Refusing to drop and recreate database {dbname!r}: its name must contain 'bench'.")
    return PgTarget(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=dbname,
    )


def database_recreate(target: PgTarget, dbname: str) -> None:
    """Drop ``dbname`` (closing any session a crashed earlier run left behind) and create it."""
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(
        host=target.host, port=target.port, user=target.user, password=target.password or None, dbname="postgres"
    )
    try:
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    finally:
        connection.close()


def pgbench_find() -> str:
    """Absolute path of pgbench: PATH first, then Debian's versioned directories."""
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise BenchError(
        "pgbench was not found (neither on PATH nor in /usr/lib/postgresql/*/bin/). Install it "
        "(Debian: apt-get install postgresql-contrib or postgresql-client) and run again."
    )


@dataclass
class Pgbench:
    """TPC-B on its own database, run before and after the flow: the machine's load can drift
    during a run (other jobs, checkpoints), and the two figures show by how much."""

    path: str
    target: PgTarget
    clients: int
    seconds: int
    scale: int
    runs: list[float] = field(default_factory=list)

    @property
    def dbname(self) -> str:
        return f"{self.target.dbname}_pgbench"

    @property
    def tps(self) -> float:
        return sum(self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def drift(self) -> float:
        """Relative difference of the two runs: above ~0.1, something else was loading the machine."""
        return (max(self.runs) - min(self.runs)) / max(self.runs) if len(self.runs) > 1 and max(self.runs) else 0.0

    def _call(self, *arguments: str) -> str:
        common = ["-h", self.target.host, "-p", str(self.target.port), "-U", self.target.user]
        # Trusted input: the path was resolved by pgbench_find and every argument is ours; no shell.
        completed = subprocess.run(  # noqa: S603
            [self.path, *arguments, *common, self.dbname],
            env=self.target.libpq_env(),
            check=True,
            capture_output=True,
            text=True,
        )
        return completed.stdout

    def initialise(self) -> None:
        database_recreate(self.target, self.dbname)
        self._call("-i", "-q", "-s", str(self.scale))

    def run(self) -> float:
        output = self._call("-c", str(self.clients), "-j", str(self.clients), "-T", str(self.seconds))
        match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output) or re.search(
            r"tps = ([0-9.]+)", output
        )
        if match is None:
            raise BenchError(f"Could not read the tps from pgbench's output:\n{output}")
        self.runs.append(float(match.group(1)))
        return self.runs[-1]


def django_configure(target: PgTarget, media_root: str) -> None:
    """Point Django at the bench database before ``django.setup()``; never at any other one."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = target.url()
    # A bench-only key: nothing is signed, but DEBUG=0 insists on a real one.
    os.environ["SECRET_KEY"] = "bench-only-secret-key-not-for-production-0123456789"  # noqa: S105
    # DEBUG=1 would keep every query in memory and inflate both time and RSS.
    os.environ["DEBUG"] = "0"
    os.environ["STATIC_MANIFEST"] = "0"
    os.environ["MEDIA_ROOT"] = media_root  # uploaded materials go to a scratch directory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- SQL accounting ------------------------------------------------------------------------------

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


def statement_label(sql: str) -> str:
    """``"SELECT approvals_step"``, ``"SELECT FOR UPDATE viewflow_process"``, ``"SAVEPOINT"`` …"""
    text = sql.lstrip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT" if verb == "SAVEPOINT" else f"{verb} SAVEPOINT"
    if verb == "SELECT" and " FOR UPDATE" in text.upper():
        verb = "SELECT FOR UPDATE"
    table = _TABLE.search(text)
    return f"{verb} {table.group(1)}" if table else verb


@dataclass
class SqlMeter:
    """A connection execute wrapper that counts and times the statements of the current phase."""

    phase: str | None = None
    counts: Counter[str] = field(default_factory=Counter)  # (phase) → statements
    seconds: Counter[str] = field(default_factory=Counter)  # (phase) → time inside execute
    labels: Counter[str] = field(default_factory=Counter)  # statement label → count, steps only
    labels_by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    label_seconds_by_kind: dict[str, Counter[str]] = field(default_factory=dict)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.phase is None:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[self.phase] += elapsed
            self.counts[self.phase] += 1
            if not self.phase.startswith("lookup"):
                label, kind = statement_label(sql), self.phase.split(":", 1)[0]
                self.labels[label] += 1
                self.labels_by_kind.setdefault(kind, Counter())[label] += 1
                self.label_seconds_by_kind.setdefault(kind, Counter())[label] += elapsed

    def committed(self, seconds: float) -> None:
        if self.phase is not None:
            self.counts[f"{self.phase}:COMMIT"] += 1
            self.seconds[f"{self.phase}:COMMIT"] += seconds

    @contextlib.contextmanager
    def measuring(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous


# --- the bureau ----------------------------------------------------------------------------------


@dataclass
class Bureau:
    """Ids only: the workers are forked and load what they need on their own connections."""

    desk_user_id: int
    decider_id: int
    reviewer_by_department: dict[int, int]
    item_version_id: int
    application_ids: list[int]


def bureau_build(*, n: int, co_review: int, enterprises: int = 10) -> Bureau:
    """Departments, staff with their roles, a calendar, one published item, and ``n`` submitted
    applications, all through the services (the same rows the portal and the admin would write)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from approvals.applications import services as application_services
    from approvals.calendar import services as calendar_services
    from approvals.catalogue import services as catalogue
    from approvals.models import Jurisdiction
    from approvals.organisation import services as org_services
    from approvals.organisation.roles import StaffRole
    from core.models import User
    from core.uploads import minimal_pdf
    from credit.enterprises.uscc import uscc_with_check_digit
    from credit.models import Enterprise, Membership
    from workflows.actions import applications as actions

    today = timezone.localdate()
    years = (today.year - 1, today.year, today.year + 1)
    available = calendar_services.calendar_years_from_package(years)
    for year in years:
        # A year the package does not know yet is entered as weekdays only, as an administrator would.
        calendar_services.calendar_year_publish(actor=None, year=year, days=available.get(year, []))

    city = org_services.jurisdiction_create(actor=None, code="BENCH", name="基准市", level=Jurisdiction.Level.CITY)
    bureau = org_services.department_create(actor=None, code="B0", name="行政审批局", kind="bureau", jurisdiction=city)

    def department(code: str, name: str) -> Any:
        return org_services.department_create(
            actor=None, code=code, name=name, kind="department", jurisdiction=city, parent=bureau
        )

    def staff(username: str, role: str, unit: Any) -> User:
        user = User(username=username, kind=User.Kind.STAFF, display_name=username)
        user.set_unusable_password()  # nobody logs in; Argon2 hashing would only slow the setup
        user.save()
        org_services.staff_role_grant(actor=None, user=user, role=role, department=unit)
        return user

    desk = department("DESK", "综合受理窗口")
    lead = department("LEAD", "市场准入审批处")
    co = [department(f"CO{i}", f"会审处{i}") for i in range(1, co_review + 1)]
    desk_user = staff("bench_desk", StaffRole.DESK, desk)
    decider = staff("bench_decider", StaffRole.DECIDER, lead)
    reviewers = {unit.pk: staff(f"bench_rev_{unit.code.lower()}", StaffRole.REVIEWER, unit).pk for unit in co}

    version = catalogue.item_version_publish(
        actor=None,
        version=catalogue.item_draft_create(
            actor=None,
            code="BENCH01",
            co_review_departments=co,
            materials=[
                {"name": "申请书", "mandatory": True, "may_be_missing": False},
                {"name": "场所平面图", "mandatory": True, "may_be_missing": True},
            ],
            name="食品经营许可",
            legal_basis="《中华人民共和国食品安全法》第三十五条",
            lead_department=lead,
            desk_department=desk,
            statutory_limit_days=20,
            promised_limit_days=10,
            review_limit_days=5,
            max_extension_days=10,
            certificate_name="食品经营许可证",
            certificate_validity_months=60,
        ),
    )
    application_material = version.materials.get(position=1)

    # Enterprises and confirmed memberships are fixtures, not part of what is measured: written
    # directly, as the test factories do, instead of through registration and an admin's review.
    owners: list[tuple[User, Enterprise]] = []
    for index in range(1, enterprises + 1):
        enterprise = Enterprise.objects.create(
            uscc=uscc_with_check_digit(f"9121019{index:010d}"),
            name=f"基准企业{index}有限公司",
            legal_representative="张伟",
        )
        owner = User(username=f"bench_ent{index}", kind=User.Kind.ENTERPRISE)
        owner.set_unusable_password()
        owner.save()
        Membership.objects.create(
            user=owner,
            enterprise=enterprise,
            role=Membership.Role.LEGAL_REPRESENTATIVE,
            status=Membership.Status.CONFIRMED,
            decided_at=timezone.now(),
        )
        owners.append((owner, enterprise))

    application_ids: list[int] = []
    for index in range(n):
        owner, enterprise = owners[index % len(owners)]
        draft = application_services.application_draft_save(
            actor=owner,
            enterprise_id=enterprise.pk,
            item_version_id=version.pk,
            form_data={"project_name": f"基准项目{index}"},
            idempotency_key=uuid.uuid4(),
        )
        application_services.application_material_attach(
            actor=owner,
            application=draft,
            required_material_id=application_material.pk,
            upload=ContentFile(minimal_pdf(), name="申请书.pdf"),
        )
        application_ids.append(actions.application_submit_and_start(actor=owner, application=draft).pk)
        if (index + 1) % 50 == 0:
            log(f"setup: {index + 1}/{n} applications submitted")
    return Bureau(
        desk_user_id=desk_user.pk,
        decider_id=decider.pk,
        reviewer_by_department=reviewers,
        item_version_id=version.pk,
        application_ids=application_ids,
    )


# --- workers -------------------------------------------------------------------------------------


@dataclass
class Plan:
    mode: str  # "normal" or "contended"
    workers: int
    bureau: Bureau
    profile_dir: str | None


@dataclass
class WorkerResult:
    index: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    sql_counts: dict[str, int] = field(default_factory=dict)
    sql_seconds: dict[str, float] = field(default_factory=dict)
    sql_labels: dict[str, int] = field(default_factory=dict)
    sql_labels_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    sql_label_seconds_by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    phase_ends: dict[str, float] = field(default_factory=dict)
    max_rss_kb: int = 0
    error: str | None = None


class Worker:
    """One forked process: its own connection, its own share of the steps."""

    def __init__(self, index: int, plan: Plan, start: Any, barrier: Any, done: Any) -> None:
        self.index = index
        self.plan = plan
        self.start = start  # the workers and the parent: the clock starts when all are connected
        self.barrier = barrier  # the workers only: the rounds of the contended mode
        self.done = done
        self.meter = SqlMeter()
        self.result = WorkerResult(index=index)

    # Loaded in the worker, on its own connection: no model instance (and no per-instance
    # permission cache) crosses the fork, as with separate web workers.
    def load_actors(self) -> None:
        from core.models import User

        bureau = self.plan.bureau
        users = User.objects.in_bulk([bureau.desk_user_id, bureau.decider_id, *bureau.reviewer_by_department.values()])
        self.desk = users[bureau.desk_user_id]
        self.decider = users[bureau.decider_id]
        self.reviewers = {dept: users[pk] for dept, pk in bureau.reviewer_by_department.items()}

    def tasks(self, application_id: int, node: str) -> list[Any]:
        """The open tasks of one node, as a staff queue would list them (not part of the step)."""
        from approvals.models import Application
        from workflows.actions import applications as actions

        with self.meter.measuring(f"lookup:{node}"):
            return [t for t in actions.open_tasks(Application(pk=application_id)) if t.flow_task.name == node]

    def step(self, kind: str, task: Any) -> None:
        """One human step: claim, then complete; the automatic nodes run inside the completion."""
        from workflows.actions import applications as actions

        if kind == "accept":
            actor = self.desk
        elif kind == "review":
            actor = self.reviewers[int(task.owner_permission_obj_pk)]
        else:
            actor = self.decider
        started = time.perf_counter()
        with self.meter.measuring(f"{kind}:claim"):
            claimed = actions.task_claim(actor=actor, task=task)
        with self.meter.measuring(f"{kind}:complete"):
            if kind == "accept":
                actions.accept_complete(actor=actor, task=claimed, decision="accept")
            elif kind == "review":
                actions.review_complete(actor=actor, task=claimed, outcome="agree")
            else:
                actions.decide_complete(actor=actor, task=claimed, outcome="approved")
        self.result.latencies[kind].append(time.perf_counter() - started)
        with self.done.get_lock():
            self.done.value += 1

    def run_normal(self) -> None:
        """Whole applications per worker: accept, every review, decide."""
        ids = self.plan.bureau.application_ids[self.index :: self.plan.workers]
        for application_id in ids:
            for task in self.tasks(application_id, "accept"):
                self.step("accept", task)
            for task in self.tasks(application_id, "review"):
                self.step("review", task)
            for task in self.tasks(application_id, "decide"):
                self.step("decide", task)

    def run_contended(self) -> None:
        """Accept everything, then all workers attack the review branches of one application at
        once (the process row lock and the Join are what is measured), then decide everything."""
        ids = self.plan.bureau.application_ids
        workers, index = self.plan.workers, self.index
        for application_id in ids[index::workers]:
            for task in self.tasks(application_id, "accept"):
                self.step("accept", task)
        self.barrier.wait(BARRIER_TIMEOUT_S)
        self.result.phase_ends["accept"] = time.monotonic()
        for application_id in ids:
            # Every worker sees the same branches in the same order and takes every W-th one.
            mine = self.tasks(application_id, "review")[index::workers]
            self.barrier.wait(BARRIER_TIMEOUT_S)
            for task in mine:
                self.step("review", task)
        self.barrier.wait(BARRIER_TIMEOUT_S)
        self.result.phase_ends["review"] = time.monotonic()
        for application_id in ids[index::workers]:
            for task in self.tasks(application_id, "decide"):
                self.step("decide", task)

    def run(self) -> WorkerResult:
        from django.db import connection

        profiler = None
        # COMMIT does not pass through execute wrappers, yet it is where the WAL is flushed:
        # time it by wrapping the backend's commit (private API, acceptable in a benchmark).
        commit = connection._commit

        def timed_commit() -> None:
            started = time.perf_counter()
            try:
                commit()
            finally:
                self.meter.committed(time.perf_counter() - started)

        connection._commit = timed_commit  # type: ignore[method-assign]
        try:
            with connection.execute_wrapper(self.meter):
                connection.ensure_connection()
                self.load_actors()
                self.start.wait(BARRIER_TIMEOUT_S)
                self.result.started = time.monotonic()
                if self.plan.profile_dir:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                if self.plan.mode == "contended":
                    self.run_contended()
                else:
                    self.run_normal()
                self.result.finished = time.monotonic()
        except Exception:  # noqa: BLE001  (reported to the parent, which fails the run)
            self.result.error = traceback.format_exc()
            # Release the siblings (and the parent) waiting for this worker instead of a hang.
            self.start.abort()
            self.barrier.abort()
        finally:
            if profiler is not None and self.plan.profile_dir:
                profiler.disable()
                profiler.dump_stats(os.path.join(self.plan.profile_dir, f"worker-{self.index}.pstats"))
            connection.close()
        self.result.sql_counts = dict(self.meter.counts)
        self.result.sql_seconds = dict(self.meter.seconds)
        self.result.sql_labels = dict(self.meter.labels)
        self.result.sql_labels_by_kind = {kind: dict(counter) for kind, counter in self.meter.labels_by_kind.items()}
        self.result.sql_label_seconds_by_kind = {
            kind: dict(counter) for kind, counter in self.meter.label_seconds_by_kind.items()
        }
        self.result.max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self.result


def worker_main(index: int, plan: Plan, start: Any, barrier: Any, done: Any, results: Any) -> None:
    results.put(Worker(index, plan, start, barrier, done).run())


def workers_run(plan: Plan, *, total_steps: int) -> tuple[list[WorkerResult], float]:
    """Fork the workers (after the setup data exists), start them together, collect results."""
    from django.db import connections

    # A forked child must never reuse the parent's socket: two processes on one connection
    # interleave protocol messages. Close here; each child opens its own on first use.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(plan.workers + 1)
    barrier = context.Barrier(plan.workers)
    done = context.Value("i", 0)
    results = context.Queue()
    processes = [
        context.Process(target=worker_main, args=(i, plan, start, barrier, done, results), name=f"bench-worker-{i}")
        for i in range(plan.workers)
    ]
    for process in processes:
        process.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(BARRIER_TIMEOUT_S)  # a worker that failed first reports its error below
    started = time.monotonic()
    collected: list[WorkerResult] = []
    last_report = started
    while len(collected) < plan.workers:
        try:
            collected.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(p.is_alive() for p in processes) and results.empty():
                raise BenchError("a worker died without reporting (see its traceback above)") from None
        now = time.monotonic()
        if now - last_report >= 2.0:
            rate = done.value / (now - started)
            log(f"steps: {done.value}/{total_steps} ({rate:.1f}/s)")
            last_report = now
    for process in processes:
        process.join()
    return sorted(collected, key=lambda r: r.index), started


# --- figures -------------------------------------------------------------------------------------


def flow_verify(bureau: Bureau, co_review: int) -> dict[str, int]:
    """The run only counts if every application really went the whole way, once."""
    from django.db import connection

    from approvals.models import Application, Certificate
    from workflows.flows import StandardApprovalFlow
    from workflows.models import ApplicationProcess

    ids = bureau.application_ids
    counts = {
        "approved": Application.objects.filter(pk__in=ids, status=Application.Status.APPROVED).count(),
        "certificates": Certificate.objects.filter(application_id__in=ids).count(),
        "processes_done": ApplicationProcess.objects.filter(artifact_object_id__in=ids, status="DONE").count(),
        "join_tasks": StandardApprovalFlow.task_class.objects.filter(flow_task=StandardApprovalFlow.join).count(),
    }
    connection.close()
    expected_joins = len(ids) if co_review else 0
    wrong = {
        key: value for key, value in counts.items() if value != (expected_joins if key == "join_tasks" else len(ids))
    }
    if wrong:
        raise FlowIncompleteError(f"the flow did not complete correctly: {wrong} (expected {len(ids)} each)")
    return counts


def figures(
    *, args: argparse.Namespace, results: list[WorkerResult], started: float, pgbench: Pgbench, setup_s: float
) -> dict[str, Any]:
    latencies = {kind: [x for r in results for x in r.latencies[kind]] for kind in KINDS}
    all_latencies = [x for values in latencies.values() for x in values]
    steps = len(all_latencies)
    elapsed = max(r.finished for r in results) - started
    counts: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    labels_by_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    label_seconds_by_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for r in results:
        counts.update(r.sql_counts)
        seconds.update(r.sql_seconds)
        labels.update(r.sql_labels)
        for kind, kind_labels in r.sql_labels_by_kind.items():
            labels_by_kind[kind].update(kind_labels)
        for kind, kind_seconds in r.sql_label_seconds_by_kind.items():
            label_seconds_by_kind[kind].update(kind_seconds)
    step_sql = sum(v for k, v in counts.items() if not k.startswith("lookup") and not k.endswith("COMMIT"))
    step_db_s = sum(v for k, v in seconds.items() if not k.startswith("lookup") and not k.endswith("COMMIT"))
    step_commits = sum(v for k, v in counts.items() if not k.startswith("lookup") and k.endswith("COMMIT"))
    step_commit_s = sum(v for k, v in seconds.items() if not k.startswith("lookup") and k.endswith("COMMIT"))
    steps_per_s = steps / elapsed if elapsed else 0.0

    def per(value: float, n: int) -> float:
        return round(value / n, 2) if n else 0.0

    by_kind = {
        kind: {
            "steps": len(latencies[kind]),
            "p50_ms": round(percentile(latencies[kind], 50) * 1000, 1),
            "p95_ms": round(percentile(latencies[kind], 95) * 1000, 1),
            "max_ms": round(max(latencies[kind], default=0.0) * 1000, 1),
            "sql_claim": per(counts[f"{kind}:claim"], len(latencies[kind])),
            "sql_complete": per(counts[f"{kind}:complete"], len(latencies[kind])),
            "db_ms_per_step": round(
                (seconds[f"{kind}:claim"] + seconds[f"{kind}:complete"]) * 1000 / max(1, len(latencies[kind])), 2
            ),
            "commit_ms_per_step": round(
                (seconds[f"{kind}:claim:COMMIT"] + seconds[f"{kind}:complete:COMMIT"])
                * 1000
                / max(1, len(latencies[kind])),
                2,
            ),
            # The wait for the process row lock (and the lock's own round trip) per step.
            "lock_ms_per_step": round(
                label_seconds_by_kind[kind]["SELECT FOR UPDATE viewflow_process"] * 1000 / max(1, len(latencies[kind])),
                2,
            ),
            "sql_by_statement": {
                label: per(count, len(latencies[kind])) for label, count in labels_by_kind[kind].most_common()
            },
            "sql_ms_by_statement": {
                label: round(seconds_ * 1000 / max(1, len(latencies[kind])), 2)
                for label, seconds_ in label_seconds_by_kind[kind].most_common()
            },
        }
        for kind in KINDS
    }
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    worker_rss = max((r.max_rss_kb for r in results), default=0)
    phases = {}
    if args.contended:
        accept_end = max(r.phase_ends.get("accept", started) for r in results)
        review_end = max(r.phase_ends.get("review", accept_end) for r in results)
        phases = {
            "accept_s": round(accept_end - started, 3),
            "review_s": round(review_end - accept_end, 3),
            "decide_s": round(max(r.finished for r in results) - review_end, 3),
            "review_steps_per_s": round(len(latencies["review"]) / (review_end - accept_end), 2)
            if review_end > accept_end
            else 0.0,
        }
    return {
        "steps_per_s": round(steps_per_s, 2),
        "pgbench_tps": round(pgbench.tps, 1),
        "ratio_steps_per_tps": round(steps_per_s / pgbench.tps, 4) if pgbench.tps else None,
        "sql_per_step": per(step_sql, steps),
        "p50_ms": round(percentile(all_latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(all_latencies, 95) * 1000, 1),
        "peak_rss_mb": round(max(self_rss, children_rss, worker_rss) / 1024, 1),
        "mode": "contended" if args.contended else "normal",
        "n": args.n,
        "workers": args.workers,
        "co_review": args.co_review,
        "lock": args.lock,
        "steps": steps,
        "steps_per_application": per(steps, args.n),
        "elapsed_s": round(elapsed, 3),
        "setup_s": round(setup_s, 2),
        "db_time_share": round(step_db_s / sum(all_latencies), 3) if all_latencies else 0.0,
        "commit_time_share": round(step_commit_s / sum(all_latencies), 3) if all_latencies else 0.0,
        "commits_per_step": per(step_commits, steps),
        "sql_lookup_per_step": per(sum(v for k, v in counts.items() if k.startswith("lookup")), steps),
        "sql_by_statement": {label: per(count, steps) for label, count in labels.most_common()},
        "by_kind": by_kind,
        "phases": phases,
        "rss_mb": {
            "parent": round(self_rss / 1024, 1),
            "largest_worker": round(worker_rss / 1024, 1),
            "largest_child": round(children_rss / 1024, 1),
        },
        "pgbench": {
            "tps": round(pgbench.tps, 1),
            "clients": pgbench.clients,
            "seconds": pgbench.seconds,
            "scale": pgbench.scale,
            "runs_tps": [round(tps, 1) for tps in pgbench.runs],
            "drift": round(pgbench.drift, 3),
        },
        "profiled": bool(args.profile),
        "quick": args.quick,
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def report_print(result: dict[str, Any]) -> None:
    ratio = result["ratio_steps_per_tps"]
    print(
        f"StandardApprovalFlow, {result['mode']} mode: n={result['n']} applications, workers={result['workers']}, "
        f"co_review={result['co_review']}, lock={result['lock']}, {result['steps']} human steps in "
        f"{result['elapsed_s']:.1f} s"
    )
    print(f"  human steps/s          {result['steps_per_s']:.1f}")
    print(
        f"  pgbench tps            {result['pgbench_tps']:.0f}  (TPC-B, {result['pgbench']['clients']} clients, "
        f"scale {result['pgbench']['scale']}, {result['pgbench']['seconds']} s before and after the flow: "
        f"{' / '.join(f'{tps:.0f}' for tps in result['pgbench']['runs_tps'])})"
    )
    print(f"  steps/s ÷ pgbench tps  {ratio:.4f}  ({ratio * 100:.1f} %; issue 3 goal ≥ 10 %)")
    print(f"  SQL per step           {result['sql_per_step']:.1f}  (+{result['sql_lookup_per_step']:.1f} queue lookup)")
    print(f"  step latency           p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms")
    print(
        f"  time inside SQL        {result['db_time_share'] * 100:.0f} % of step time, in COMMIT "
        f"{result['commit_time_share'] * 100:.0f} % ({result['commits_per_step']:.1f} per step), the rest Python"
    )
    print(f"  peak RSS               {result['peak_rss_mb']:.1f} MB")
    for kind, data in result["by_kind"].items():
        print(
            f"  {kind:<7} {data['steps']:>5} steps  p50 {data['p50_ms']:>7.1f} ms  p95 {data['p95_ms']:>7.1f} ms  "
            f"SQL claim {data['sql_claim']:>4.1f} + complete {data['sql_complete']:>5.1f}  "
            f"db {data['db_ms_per_step']:.1f} + commit {data['commit_ms_per_step']:.1f} ms/step "
            f"(process lock {data['lock_ms_per_step']:.1f})"
        )
    if result["phases"]:
        phases = result["phases"]
        print(
            f"  phases                 accept {phases['accept_s']:.1f} s, contended reviews {phases['review_s']:.1f} s "
            f"({phases['review_steps_per_s']:.1f} steps/s), decide {phases['decide_s']:.1f} s"
        )
    print("  SQL per step by statement (top 12):")
    for label, count in list(result["sql_by_statement"].items())[:12]:
        print(f"    {count:>6.2f}  {label}")


# --- main ----------------------------------------------------------------------------------------


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--n", type=int, help="applications to run through the flow (default 200; --quick 20)")
    parser.add_argument("--workers", type=int, help="worker processes and pgbench clients (default 2)")
    parser.add_argument("--co-review", type=int, default=2, help="co-review departments of the item (default 2)")
    parser.add_argument(
        "--contended",
        action="store_true",
        help="accept all, then the workers complete the review branches of one application at the same time",
    )
    parser.add_argument(
        "--lock",
        choices=("flow", "wait", "nowait"),
        default="flow",
        help="process lock: as the flow declares (default), SelectForUpdateLock(nowait=False), or "
        "viewflow's NOWAIT-and-sleep select_for_update_lock",
    )
    parser.add_argument("--quick", action="store_true", help="a small run for CI (20 applications, 2 × 3 s pgbench)")
    parser.add_argument(
        "--pgbench-seconds", type=int, help="length of each of the two pgbench runs (default 10; --quick 3)"
    )
    parser.add_argument("--pgbench-scale", type=int, default=1, help="pgbench scale factor (default 1)")
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile of each worker to DIR/worker-<i>.pstats")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    args.n = args.n if args.n is not None else defaults["n"]
    args.workers = args.workers if args.workers is not None else defaults["workers"]
    args.pgbench_seconds = args.pgbench_seconds if args.pgbench_seconds is not None else defaults["pgbench_seconds"]
    if args.n < 1 or args.workers < 1 or args.co_review < 0 or args.pgbench_seconds < 1 or args.pgbench_scale < 1:
        parser.error("--n, --workers, --pgbench-seconds and --pgbench-scale must be positive, --co-review ≥ 0")
    if args.contended and (args.workers < 2 or args.co_review < 2):
        parser.error("--contended needs at least 2 workers and 2 co-review departments")
    return args


def profile_summary(path: str) -> None:
    """The functions worker 0 spent its own time in, and the calls that took the most in all."""
    import pstats

    if not os.path.exists(path):
        return
    stats = pstats.Stats(path, stream=sys.stderr)
    stats.strip_dirs().sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(25)


def lock_select(name: str) -> None:
    """Swap the flow's lock in this process only (to compare the two, as HOUSE_STYLE asks)."""
    from viewflow.workflow import lock

    from workflows.actions.applications import StandardApprovalFlow

    if name == "wait":
        StandardApprovalFlow.lock_impl = lock.SelectForUpdateLock(nowait=False)
    elif name == "nowait":
        StandardApprovalFlow.lock_impl = lock.select_for_update_lock


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        pgbench_path = pgbench_find()
        target = pg_target_from_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
        media_root = tempfile.mkdtemp(prefix="reformflow-bench-media-")
        try:
            started = time.monotonic()
            log(f"recreating database {target.dbname!r} on {target.host}:{target.port}")
            database_recreate(target, target.dbname)
            django_configure(target, media_root)
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
            lock_select(args.lock)
            log(f"migrated in {time.monotonic() - started:.1f} s; building the bureau and {args.n} applications")
            bureau = bureau_build(n=args.n, co_review=args.co_review)
            setup_s = time.monotonic() - started
            bench = Pgbench(
                path=pgbench_path,
                target=target,
                clients=args.workers,
                seconds=args.pgbench_seconds,
                scale=args.pgbench_scale,
            )
            log(f"pgbench: TPC-B, scale {bench.scale}, {bench.clients} clients, {bench.seconds} s")
            bench.initialise()
            log(f"pgbench before the flow: {bench.run():.0f} tps")
            steps_total = args.n * (2 + args.co_review)
            mode = "contended" if args.contended else "normal"
            log(f"setup done in {setup_s:.1f} s; {args.workers} workers, {mode} mode, {steps_total} steps")
            if args.profile:
                os.makedirs(args.profile, exist_ok=True)
            plan = Plan(mode=mode, workers=args.workers, bureau=bureau, profile_dir=args.profile)
            results, flow_started = workers_run(plan, total_steps=steps_total)
            failed = [r for r in results if r.error]
            if failed:
                for r in failed:
                    log(f"worker {r.index} failed:\n{r.error}")
                return 1
            if args.profile:
                profile_summary(os.path.join(args.profile, "worker-0.pstats"))
            verified = flow_verify(bureau, args.co_review)
            log(f"flow verified: {verified}")
            log(f"pgbench after the flow: {bench.run():.0f} tps")
            if bench.drift > DRIFT_WARNING:
                log(
                    f"warning: pgbench changed by {bench.drift:.0%} between before and after the flow: "
                    "the machine was busy with something else, the figures are unreliable; rerun"
                )
            result = figures(args=args, results=results, started=flow_started, pgbench=bench, setup_s=setup_s)
            result["verified"] = verified
        finally:
            shutil.rmtree(media_root, ignore_errors=True)
    except FlowIncompleteError as error:
        log(f"error: {error}")
        return 1
    except BenchError as error:
        log(f"error: {error}")
        return 2
    except subprocess.CalledProcessError as error:
        log(f"error: {' '.join(error.cmd[:2])} failed with status {error.returncode}:\n{error.stderr}")
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        report_print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
