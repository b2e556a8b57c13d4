"""What the PostgreSQL benchmarks share: progress on stderr, their own scratch database (refused
unless its name contains "bench"), and Django set up against it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def progress(label: str, done: int, total: int, started: float) -> None:
    if done == total or done % max(1, total // 50) == 0:
        sys.stderr.write(
            f"\r{label}: {done}/{total} ({100 * done / max(total, 1):5.1f}%) {time.monotonic() - started:6.1f}s"
        )
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database name must contain 'bench'")
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        password=parts.password,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str, *, anchors: str) -> None:
    """Point Django at ``url`` (its own settings, whatever the shell had) and set it up; the ledger's
    checkpoints go to ``bench/out/<anchors>``."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CREDIT_LEDGER_ANCHOR_FILE"] = str(ROOT / "bench" / "out" / anchors)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported latency was really observed)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]
