"""Helpers for real-thread race tests on PostgreSQL, and for tests that run real Celery processes
(workers, beats) against the test database."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run_concurrently(*calls: Callable[[], Any], timeout: float = 30) -> list[Any]:
    """Run each call in its own thread (own database connection), released together by a barrier.

    Returns, per call, its result or the exception it raised.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001  (the test inspects it)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing thread hung"
    return results


# --- real Celery processes -------------------------------------------------------------------------


def broker_use(url: str, *, publish_retry: bool = False) -> None:
    """Send this process's tasks to ``url`` from now on: the app's pools and kombu's global ones
    (keyed by connection, so a closed one would be found again) are dropped. ``publish_retry``
    keeps Celery's own retry of a failed publish (what production does)."""
    from kombu import pools

    from config.celery import app as celery_app

    pools.reset()
    celery_app._pool = None  # noqa: SLF001
    celery_app.amqp._producer_pool = None  # noqa: SLF001
    celery_app.conf.update(broker_url=url, task_always_eager=False, task_publish_retry=publish_retry)


def broker_restore() -> None:
    """Back to what the other tests expect: tasks run eagerly, nothing reaches a broker."""
    from config.celery import app as celery_app

    broker_use("memory://", publish_retry=True)
    celery_app.conf.update(task_always_eager=True)


def celery_environment(tmp_path: Path, *, broker: str, **extra: str) -> dict[str, str]:
    """The environment of a Celery process working on this test database through ``broker``;
    e-mail goes to files under ``tmp_path / "mail"``."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
        "CREDIT_TEST_RUNTIME_ROLE": "",
        **extra,
    }


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"(no log at {path})"


@dataclass
class CeleryProcess:
    """A ``celery -A config <role>`` subprocess and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    _stream: IO[str] = field(repr=False)

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} ({self.log}) ---\n{log_tail(self.log, chars)}"

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no rollback but the database's own."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._stream.close()


WORKER_OPTIONS = ("--pool=solo", "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "INFO")


@pytest.fixture
def celery_processes(tmp_path: Path) -> Iterator[Callable[..., CeleryProcess]]:
    """Start Celery processes: ``start("worker-1", "worker", *options, env=...)``. Every one
    started is stopped when the test ends, whatever happened."""
    started: list[CeleryProcess] = []

    def start(name: str, role: str, *options: str, env: Mapping[str, str]) -> CeleryProcess:
        log = tmp_path / f"{name}.log"
        stream = log.open("w")
        process = subprocess.Popen(  # noqa: S603  (this interpreter, celery, the test's own options)
            [sys.executable, "-m", "celery", "-A", "config", role, *options],
            cwd=ROOT, env=dict(env), stdout=stream, stderr=subprocess.STDOUT,
        )  # fmt: skip
        handle = CeleryProcess(name=name, process=process, log=log, _stream=stream)
        started.append(handle)
        return handle

    try:
        yield start
    finally:
        for handle in started:
            handle.stop()


def wait_for(
    condition: Callable[[], Any],
    *,
    seconds: float = 60,
    what: str = "",
    logs: Path | CeleryProcess | Sequence[Path | CeleryProcess] = (),
) -> None:
    """Poll ``condition`` until true; on time-out fail with ``what`` and the tails of ``logs``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    sources = [logs] if isinstance(logs, Path | CeleryProcess) else list(logs)
    detail = "\n".join(s.tail() if isinstance(s, CeleryProcess) else log_tail(s) for s in sources)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}\n{detail}")


def mails_in(mail_dir: Path) -> list[email.message.Message]:
    """The mails the filebased backend wrote (one file per connection, separated by 79 dashes)."""
    if not mail_dir.exists():
        return []
    found = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                found.append(email.message_from_string(chunk.strip()))
    return found
