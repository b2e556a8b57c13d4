"""The outbox under load: N queued notices (each an in-site message and an e-mail to a fake mail
backend) delivered by real Celery workers on Redis, against PostgreSQL.

    bench/outbox_bench.py [--quick] [--json] [--messages N] [--workers W]

Builds its own database (the name must contain "bench"; OUTBOX_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/reformflow_outbox_bench) and uses Redis database 13
(OUTBOX_BENCH_BROKER). The messages are written by ``notify`` in batches inside transactions, as
services write them; their deliveries are handed to the workers on commit. Reports deliveries per
second (first hand-off to last delivery), the latency from the message's commit to its delivery
(p50 / p95 / max), and the peak RSS of each worker (VmHWM).
"""

from __future__ import annotations

import argparse
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


def _worker_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": "",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
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
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import F, Max, Min

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
            done = min(total, done + sizes["batch"])
            progress("written", done, total, started)
        written_s = time.monotonic() - started
        expected = 2 * total
        while True:
            sent = Delivery.objects.filter(status="sent").count()
            progress("delivered", sent, expected, started)
            if sent >= expected:
                break
            if time.monotonic() - started > 3600:
                raise SystemExit(f"only {sent} of {expected} deliveries after an hour")
            time.sleep(1)
        rss = [_peak_rss_mb(worker.pid) for worker in workers]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    span = Delivery.objects.aggregate(first=Min("message__created_at"), last=Max("sent_at"))
    elapsed = (span["last"] - span["first"]).total_seconds()
    latencies = [
        lag.total_seconds() * 1000
        for lag in Delivery.objects.annotate(lag=F("sent_at") - F("message__created_at")).values_list("lag", flat=True)
    ]
    results: dict[str, Any] = {
        "sizes": sizes,
        "command": " ".join(["bench/outbox_bench.py", *sys.argv[1:]]),
        "deliveries": expected,
        "write_s": round(written_s, 1),
        "deliveries_per_s": round(expected / elapsed, 1) if elapsed else None,
        "messages_per_s": round(total / elapsed, 1) if elapsed else None,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "latency_max_ms": round(max(latencies), 1),
        "worker_peak_rss_mb": rss,
        "dead_or_failed": Delivery.objects.exclude(status="sent").count(),
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
