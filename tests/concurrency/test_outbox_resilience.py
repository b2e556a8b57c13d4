"""The outbox and the periodic jobs when processes die, with real Celery processes against this
test database: a worker killed mid-batch loses no notice and doubles no in-site message (the sweep
hands over what it left); a Redis that is down while requests commit holds none of them up, and
once it is back the sweep delivers everything once; two beats started at once never start a job
twice within three quarters of its period.

Each test runs its own redis-server on a free loopback port, not a database of the machine's
Redis: one test stops its broker, and a shared database number is only as private as everybody's
discipline (a benchmark on the same number once took this test's tasks and gave it its own).
"""

from __future__ import annotations

import collections
import datetime
import json
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.outbox import services
from core.outbox.channels import message_id
from core.outbox.kinds import EMAIL, SITE, NoticeKind, notice_kinds_register
from core.outbox.models import Delivery, OutboxMessage, ScheduledJob, SiteMessage
from core.scheduling import MIN_GAP_SHARE
from tests import factories
from tests.concurrency.conftest import (
    WORKER_OPTIONS,
    CeleryProcess,
    broker_restore,
    broker_use,
    celery_environment,
    mails_in,
    wait_for,
)
from tests.credit.ledger_helpers import append, kind

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# The workers import this module too (``-I``), so that they know the test's own kind of notice.
THIS_MODULE = "tests.concurrency.test_outbox_resilience"
WORKER = (*WORKER_OPTIONS, "-I", THIS_MODULE)

# Mandatory on both channels: the recipients' preferences cannot change the count of deliveries.
KIND = NoticeKind(
    "tests.resilience",
    "Notice %(number)s",
    "Notice number %(number)s of the resilience tests.",
    channels=(SITE, EMAIL),
    mandatory=(SITE, EMAIL),
    audience="tests",  # nobody's preferences page lists it
)
notice_kinds_register(KIND)


def _notify(recipient: Any, number: int) -> OutboxMessage:
    return services.notify(
        recipient=recipient, kind=KIND.code, dedupe_key=f"resilience-{number}", context={"number": number}
    )


# --- a Redis of the test's own -------------------------------------------------------------------


def _free_port() -> int:
    """A free loopback port below the kernel's ephemeral range: while the test's Redis is down
    (it comes back on the same port) no outgoing connection of any process can be given it."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    for port in random.sample(range(max(1025, low - 12000), low), 100):  # noqa: S311  (not a secret)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


@dataclass
class RedisServer:
    """A redis-server without persistence: started again, it is empty."""

    binary: str
    port: int
    directory: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    _stream: IO[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.directory.mkdir(parents=True, exist_ok=True)
        self._stream = self.log.open("a")
        self.process = subprocess.Popen(  # noqa: S603  (the installed redis-server, fixed options)
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--daemonize", "no"],
            stdout=self._stream, stderr=subprocess.STDOUT,
        )  # fmt: skip

        def answers() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
            except redis.RedisError:
                return False

        wait_for(answers, seconds=20, what=f"redis-server on port {self.port}", logs=self.log)

    def queue_length(self) -> int:
        import redis

        return int(redis.Redis(port=self.port).llen("celery"))

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self._stream is not None:
            self._stream.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server of this test's own; this process sends its tasks there."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: these tests run (and stop) a Redis of their own")
    server = RedisServer(binary=binary, port=_free_port(), directory=tmp_path / "redis", log=tmp_path / "redis.log")
    server.start()
    broker_use(server.url)
    try:
        yield server
    finally:
        server.kill()
        broker_restore()


def _assert_every_notice_delivered_once(messages: list[OutboxMessage], mail_dir: Path, *, resent: int) -> None:
    """Every delivery sent; one in-site message per notice; every notice mailed, and a mail's
    Message-ID always names the one notice it is; at most ``resent`` mails twice."""
    deliveries = Delivery.objects.filter(message__in=messages)
    assert dict(collections.Counter(deliveries.values_list("status", flat=True))) == {"sent": 2 * len(messages)}
    site = collections.Counter(SiteMessage.objects.filter(message__in=messages).values_list("message_id", flat=True))
    assert sorted(site) == sorted(m.pk for m in messages) and set(site.values()) == {1}
    expected = {message_id(m): m for m in messages}
    mailed = collections.Counter(mail["Message-ID"] for mail in mails_in(mail_dir))
    assert set(mailed) == set(expected), "a mail without a Message-ID of these notices, or a notice not mailed"
    for identifier, message in expected.items():
        assert deliveries.get(message=message, channel="email").external_id == identifier
    twice = {identifier: count for identifier, count in mailed.items() if count > 1}
    assert sum(count - 1 for count in twice.values()) <= resent, twice


# --- a worker killed -----------------------------------------------------------------------------


def test_a_worker_killed_mid_batch_loses_nothing_and_the_sweep_hands_over_what_it_left(
    tmp_path, own_redis, celery_processes
):
    # Given 200 notices to 4 people (400 deliveries) waiting in the broker
    recipients = [factories.UserFactory() for _ in range(4)]
    messages = [_notify(recipients[number % 4], number) for number in range(200)]
    deliveries = Delivery.objects.filter(message__in=messages)
    total = deliveries.count()
    assert total == 400
    env = celery_environment(tmp_path, broker=own_redis.url)

    # When a worker is killed (SIGKILL: no warm shutdown, no acknowledgement) part-way through
    first = celery_processes("worker-1", "worker", *WORKER, env=env)
    deadline = time.monotonic() + 60
    while deliveries.filter(status="sent").count() < total // 4:
        assert first.process.poll() is None and time.monotonic() < deadline, first.tail()
        time.sleep(0.02)
    first.kill()
    sent_at_kill = deliveries.filter(status="sent").count()
    assert sent_at_kill < total, "the worker finished before it was killed: the test proves nothing"

    # and a new worker takes the rest of the broker's queue, then the sweep (past its grace) what
    # the dead one held unacknowledged and had not recorded
    second = celery_processes("worker-2", "worker", *WORKER, env=env)
    wait_for(lambda: own_redis.queue_length() == 0, what="the new worker to drain the queue", logs=second)
    handed = services.outbox_sweep(now=timezone.now() + services.SWEEP_GRACE)
    wait_for(
        lambda: not deliveries.exclude(status="sent").exists(),
        what=f"every delivery sent ({sent_at_kill} at the kill, {handed} handed over by the sweep)",
        logs=[first, second],
    )

    # Then nothing is lost and no in-site message is doubled. An e-mail can be: the dead worker may
    # have handed one to the mail backend and died before its row committed, and that delivery is
    # sent again. With one solo worker killed once, at most that one mail — and its stable
    # Message-ID makes the copy recognisable as the same notice (the receiving side drops it).
    _assert_every_notice_delivered_once(messages, tmp_path / "mail", resent=1)


# --- Redis stopped and started again --------------------------------------------------------------

# A commit whose hand-off finds the broker down: a connection refused, Celery's publish retries
# (a few tenths of a second), then the rows wait for the sweep. Anything near this is a hang.
COMMIT_SECONDS = 5.0


def _commit_notice(user: Any, number: int) -> tuple[OutboxMessage, float]:
    """Commit one notice as a request does, in a thread of its own (own connection), so that a
    commit that hangs fails the test at once instead of at the suite's time-out."""
    outcome: list[Any] = []

    def request() -> None:
        try:
            started = time.monotonic()
            with transaction.atomic():
                message = _notify(user, number)
            outcome.append((message, time.monotonic() - started))
        except Exception as exc:  # noqa: BLE001  (re-raised below, in the test)
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    thread.join(4 * COMMIT_SECONDS)
    assert not thread.is_alive(), f"a commit hung for {4 * COMMIT_SECONDS} s with the broker down"
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    result: tuple[OutboxMessage, float] = outcome[0]
    return result


def test_redis_down_while_requests_commit_holds_none_up_and_the_sweep_delivers_everything_once(
    tmp_path, own_redis, celery_processes
):
    # Given a worker and this process on the test's Redis (publishing with Celery's own retry, as
    # production does), and notices delivered while it runs
    broker_use(own_redis.url, publish_retry=True)
    worker = celery_processes("worker", "worker", *WORKER, env=celery_environment(tmp_path, broker=own_redis.url))
    user = factories.UserFactory()
    messages = [_notify(user, number) for number in range(5)]
    wait_for(lambda: Delivery.objects.filter(status="sent").count() == 10, what="the first notices sent", logs=worker)

    # When Redis dies and requests go on committing notices
    own_redis.kill()
    took = []
    for number in range(5, 10):
        message, seconds = _commit_notice(user, number)
        messages.append(message)
        took.append(seconds)
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(user, 99)
        raise RuntimeError("the decision failed")

    # Then none of them waited on the broker, and their deliveries wait in the database
    assert max(took) < COMMIT_SECONDS, f"commits took {took} s with the broker down"
    assert Delivery.objects.filter(status="queued").count() == 10
    assert not OutboxMessage.objects.filter(dedupe_key="resilience-99").exists()

    # When Redis is back on the same port (empty: nothing reached it while it was down) and the
    # sweep runs, in this process whose connections to the old server are broken
    own_redis.start()
    assert services.outbox_sweep(now=timezone.now() + services.SWEEP_GRACE) == 10
    wait_for(
        lambda: Delivery.objects.filter(status="sent").count() == 20,
        what="the sweep's deliveries (the worker reconnects to the restarted Redis)",
        logs=[worker, own_redis.log],
    )

    # Then every notice reached its recipient once, on both channels
    _assert_every_notice_delivered_once(messages, tmp_path / "mail", resent=0)


# --- two beats -----------------------------------------------------------------------------------

# Timers every 0.375 s, the outbox sweep every 0.75 s, the rectification sweep and the ledger
# checkpoint every 7.5 s: three periods of the slowest jobs within the test's run.
SCALE = 0.0125
BEATS_RUN_SECONDS = 24
JOBS = (
    "workflows.timers",
    "outbox.sweep",
    "approvals.rectification_sweep",
    "approvals.step_deadlines",
    "credit.ledger_checkpoint",
)
# core.scheduling logs every run: "job <name> started <claimed moment>, done in <n> ms: <result>"
_DONE = re.compile(r"job (?P<name>\S+) started (?P<at>\S+), done in \d+ ms: (?P<result>.*)$", re.MULTILINE)


def _period(name: str) -> datetime.timedelta:
    """The period of ``name`` in the processes this test starts (this process's settings hold the
    unscaled one, unless the run itself sets JOB_PERIOD_SCALE)."""
    return datetime.timedelta(seconds=settings.JOB_PERIODS[name] / settings.JOB_PERIOD_SCALE * SCALE)


def _ticks(beat: CeleryProcess, name: str) -> int:
    return beat.log.read_text().count(f"Sending due task {name} ({name})")


def _judged(worker: CeleryProcess, name: str) -> int:
    """How many of ``name``'s ticks the worker ran or skipped."""
    text = worker.log.read_text()
    return text.count(f"job {name} skipped") + sum(1 for m in _DONE.finditer(text) if m["name"] == name)


def test_two_beats_at_once_never_double_a_job(tmp_path, own_redis, celery_processes, enterprise):
    # Given one worker and two beats started at once, each with its own schedule file, every
    # period scaled from the one place they are set (JOB_PERIODS)
    anchors = tmp_path / "anchors.jsonl"
    env = celery_environment(
        tmp_path, broker=own_redis.url, JOB_PERIOD_SCALE=str(SCALE), CREDIT_LEDGER_ANCHOR_FILE=str(anchors)
    )
    kind("admin_penalty")
    worker = celery_processes("worker", "worker", *WORKER_OPTIONS, env=env)
    beats = [
        celery_processes(f"beat-{n}", "beat", "--schedule", str(tmp_path / f"beat-{n}.schedule"), "-l", "INFO", env=env)
        for n in (1, 2)
    ]
    everyone = [worker, *beats]
    wait_for(
        lambda: "ready." in worker.log.read_text() and all("beat: Starting" in b.log.read_text() for b in beats),
        what="the worker and both beats to start",
        logs=everyone,
    )

    # When they run for several periods of every job, the credit ledger growing meanwhile (so that
    # every checkpoint has a new chain head to write)
    started = time.monotonic()
    while time.monotonic() - started < BEATS_RUN_SECONDS:
        for process in everyone:
            assert process.process.poll() is None, process.tail()
        append(enterprise, days_ago=1)
        time.sleep(0.5)
    for beat in beats:
        beat.stop()
    sent = {name: [_ticks(beat, name) for beat in beats] for name in JOBS}
    # Every tick has reached the worker and been run or skipped; a beat stopped while sending may
    # have logged a tick it never sent (one per beat at most).
    wait_for(
        lambda: all(_judged(worker, name) >= sum(sent[name]) - len(beats) for name in JOBS),
        seconds=30,
        what=f"the worker to judge the beats' ticks {sent}",
        logs=everyone,
    )
    worker.stop()  # a warm shutdown: the run in progress ends, its row and log line with it
    text = worker.log.read_text()
    for name in JOBS:
        assert sum(sent[name]) - len(beats) <= _judged(worker, name) <= sum(sent[name]), (name, sent[name])

    # Then every job ran, and never twice within three quarters of its period, whatever the two beats sent
    starts: dict[str, list[datetime.datetime]] = collections.defaultdict(list)
    for match in _DONE.finditer(text):
        starts[match["name"]].append(datetime.datetime.fromisoformat(match["at"]))
    runs = dict(ScheduledJob.objects.filter(name__in=JOBS).values_list("name", "runs"))
    for name in JOBS:
        assert min(sent[name]) >= 2, f"{name}: ticks per beat {sent[name]}: both beats must run several periods"
        assert runs.get(name) == len(starts[name]) >= 2, (name, runs.get(name), starts[name])
        gaps = [later - earlier for earlier, later in zip(starts[name], starts[name][1:], strict=False)]
        # What core.scheduling guarantees: two runs never start less than three quarters of a
        # period apart, wherever the two beats' ticks fall: the job is not doubled.
        assert min(gaps) >= _period(name) * MIN_GAP_SHARE, f"{name}: runs {sorted(gaps)[:3]} apart; ticks {sent[name]}"

    # and the ledger checkpoint wrote one line per run that found a new head, none within three
    # quarters of a period of another
    lines = [json.loads(line) for line in anchors.read_text().splitlines() if line.strip()]
    results = [m["result"] for m in _DONE.finditer(text) if m["name"] == "credit.ledger_checkpoint"]
    assert len(lines) >= 2 and len(lines) == sum(result.startswith("written") for result in results), results
    assert [line["seq"] for line in lines] == sorted({line["seq"] for line in lines})
    moments = [datetime.datetime.fromisoformat(line["at"].replace("Z", "+00:00")) for line in lines]
    # the file records whole seconds, and its line is written after the claim: a second of slack
    least = _period("credit.ledger_checkpoint") * MIN_GAP_SHARE - datetime.timedelta(seconds=1)
    assert all(later - earlier >= least for earlier, later in zip(moments, moments[1:], strict=False)), moments
