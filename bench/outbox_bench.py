"""The outbox under load: N queued notices (each an in-site message and an e-mail to a fake mail
backend that renders it and drops it) delivered by real Celery workers on Redis, against PostgreSQL.

    bench/outbox_bench.py [--quick] [--json] [--messages N] [--workers W]

Builds its own database (the name must contain "bench"; OUTBOX_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/reformflow_outbox_bench) and uses Redis database 13
(OUTBOX_BENCH_BROKER). The messages are written by ``notify`` in batches inside transactions, as
services write them; their deliveries are handed to the workers on commit (in tasks of up to
OUTBOX_BATCH_SIZE deliveries, which the workers read from the environment too). Reports
deliveries and messages per second (first commit to last delivery), the latency from the commit of
a message's transaction to its delivery (p50 / p95 / max), the peak RSS of each worker (VmHWM) and
the deliveries failed or dead at the end. Progress goes to stderr every few seconds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchlib
from benchlib import log, percentile, progress, recreate_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/reformflow_outbox_bench"
BROKER = os.environ.get("OUTBOX_BENCH_BROKER", "redis://127.0.0.1:6379/13")
FULL = {"messages": 100_000, "workers": 2, "recipients": 1_000, "batch": 500}
QUICK = {"messages": 1_000, "workers": 2, "recipients": 50, "batch": 100}
PROGRESS_EVERY_S = 5


def _worker_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": "",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "bench.outbox_worker.DiscardingEmailBackend",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _wait_for_deliveries(expected: int, started: float) -> dict[str, int]:
    """Poll until every delivery is sent or dead (an hour at most), logging progress every few
    seconds; returns the deliveries counted by status."""
    from django.db.models import Count

    from core.outbox.models import Delivery

    shown = previous = 0.0
    sent_before = 0
    while True:
        rows = Delivery.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
        counts = {"queued": 0, "failed": 0, "sent": 0, "dead": 0, **dict(rows)}
        now = time.monotonic()
        final = counts["sent"] + counts["dead"] >= expected
        if final or now - shown >= PROGRESS_EVERY_S:
            rate = (counts["sent"] - sent_before) / (now - previous) if previous else 0.0
            log(
                f"delivered: {counts['sent']}/{expected} ({100 * counts['sent'] / expected:5.1f}%) "
                f"{now - started:7.1f}s, {rate:6.1f}/s lately; failed {counts['failed']}, dead {counts['dead']}"
            )
            shown = previous = now
            sent_before = counts["sent"]
        if final:
            return counts
        if now - started > 3600:
            raise SystemExit(f"only {counts['sent']} of {expected} deliveries after an hour")
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    if args.messages:
        sizes["messages"] = args.messages
    if args.workers:
        sizes["workers"] = args.workers
    url = os.environ.get("OUTBOX_BENCH_DATABASE_URL", DEFAULT_URL)
    log(f"outbox bench: {sizes['messages']} messages, {sizes['workers']} workers, broker {BROKER}")
    recreate_database(url)
    os.environ["CELERY_BROKER_URL"] = BROKER
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    benchlib.setup_django(url, anchors="outbox-bench-anchors.jsonl")
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from core.models import User
    from core.outbox import services
    from core.outbox.kinds import NoticeKind, notice_kinds_register
    from core.outbox.models import Delivery

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(BROKER).flushdb()
    notice_kinds_register(NoticeKind("bench.notice", "Notice %(n)s", "Benchmark notice number %(n)s."))
    users = User.objects.bulk_create(
        [User(username=f"bench{i}", email=f"bench{i}@example.invalid") for i in range(sizes["recipients"])]
    )
    # The workers register the kind too: it must exist wherever messages are rendered.
    env = _worker_env(url)
    workers = [
        subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.outbox_worker",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"bench{index}@%h",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for index in range(sizes["workers"])
    ]
    time.sleep(3)
    total = sizes["messages"]
    # when each write transaction committed: the start of its messages' latency
    committed_at: list[datetime.datetime] = []
    started = time.monotonic()
    try:
        done = 0
        while done < total:
            with transaction.atomic():
                for number in range(done, min(total, done + sizes["batch"])):
                    services.notify(
                        recipient=users[number % len(users)],
                        kind="bench.notice",
                        dedupe_key=f"bench:{number}",
                        context={"n": number},
                    )
            committed_at.append(timezone.now())
            done = min(total, done + sizes["batch"])
            progress("written", done, total, started)
        written_s = time.monotonic() - started
        expected = 2 * total
        counts = _wait_for_deliveries(expected, started)
        rss = [_peak_rss_mb(worker.pid) for worker in workers]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    latencies: list[float] = []
    last_sent = committed_at[0]
    for key, sent_at in Delivery.objects.filter(status="sent", sent_at__isnull=False).values_list(
        "message__dedupe_key", "sent_at"
    ):
        assert sent_at is not None  # (filtered above; the type does not know it)
        committed = committed_at[int(key.removeprefix("bench:")) // sizes["batch"]]
        latencies.append((sent_at - committed).total_seconds() * 1000)
        last_sent = max(last_sent, sent_at)
    elapsed = (last_sent - committed_at[0]).total_seconds()
    results: dict[str, Any] = {
        "sizes": sizes,
        "batch_size": settings.OUTBOX_BATCH_SIZE,
        "command": " ".join(["bench/outbox_bench.py", *sys.argv[1:]]),
        "deliveries": expected,
        "write_s": round(written_s, 1),
        "deliveries_per_s": round(counts["sent"] / elapsed, 1) if elapsed else None,
        "messages_per_s": round(counts["sent"] / 2 / elapsed, 1) if elapsed else None,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "latency_max_ms": round(max(latencies, default=0), 1),
        "worker_peak_rss_mb": rss,
        "failed": counts["failed"],
        "dead": counts["dead"],
        "dead_or_failed": expected - counts["sent"],
        "cpus": os.cpu_count(),
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for key, value in results.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
