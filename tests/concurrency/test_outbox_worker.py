"""The outbox with a real Celery worker on the machine's Redis, against this test database: an
accepted application reaches the applicant once per channel; a broker that is down when requests
commit loses nothing (the sweep delivers); a rolled-back transaction sends nothing."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from core.outbox import services
from core.outbox.models import Delivery, OutboxMessage, SiteMessage
from tests import factories
from tests.workflows.conftest import accept, file_application, make_item

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("OUTBOX_TEST_BROKER", "redis://127.0.0.1:6379/14")
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: a broker that is down


def _broker(url: str) -> None:
    """Send this process's tasks to ``url`` from now on: the app's pools and kombu's global ones
    (keyed by connection, so a closed one would be found again) are dropped."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None  # noqa: SLF001
    celery_app.amqp._producer_pool = None  # noqa: SLF001
    celery_app.conf.update(broker_url=url, task_always_eager=False, task_publish_retry=False)


@pytest.fixture
def worker(tmp_path: Path, settings: Any) -> Iterator[dict[str, Any]]:
    import redis

    settings.MEDIA_ROOT = tmp_path / "media"

    redis.Redis.from_url(BROKER).flushdb()
    db = connection.settings_dict
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
        "CREDIT_TEST_RUNTIME_ROLE": "",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--without-heartbeat",
         "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    _broker(BROKER)
    try:
        yield {"mail_dir": mail_dir, "log": tmp_path / "worker.log", "process": process}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        _broker("memory://")
        celery_app.conf.update(task_always_eager=True)


def _wait_for(condition: Any, *, seconds: float = 60, what: str = "", log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    detail = log.read_text()[-3000:] if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def _mails(mail_dir: Path) -> list[email.message.Message]:
    if not mail_dir.exists():
        return []
    found = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                found.append(email.message_from_string(chunk.strip()))
    return found


def test_an_accepted_application_reaches_the_applicant_once_per_channel(worker, bureau, owner, enterprise):
    version = make_item(bureau, co_review=0)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    _wait_for(
        lambda: Delivery.objects.filter(status="sent").count() == 4,
        what="four deliveries sent",
        log=worker["log"],
    )
    kinds = sorted(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == ["application.accepted", "application.submitted"]
    assert SiteMessage.objects.filter(recipient=owner).count() == 2
    mails = _mails(worker["mail_dir"])
    assert len(mails) == 2
    pdfs = [part for m in mails for part in m.walk() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1  # the notice of acceptance, attached to the "accepted" mail
    ids = {m["Message-ID"] for m in mails}
    assert ids == set(Delivery.objects.filter(channel="email").values_list("external_id", flat=True))
    # the worker gets the same deliveries again (a redelivered task): nothing new is sent
    services.deliveries_enqueue(list(Delivery.objects.values_list("pk", flat=True)))
    time.sleep(2)
    assert SiteMessage.objects.count() == 2 and len(_mails(worker["mail_dir"])) == 2


def test_a_broker_down_at_commit_loses_nothing_and_a_rollback_sends_nothing(worker):
    user = factories.UserFactory()
    _broker(NOWHERE)
    started = time.monotonic()
    for number in range(5):
        services.notify(recipient=user, kind="application.submitted", dedupe_key=f"down-{number}",
                        context={"reference": f"SP-{number}", "item": "x"})  # fmt: skip
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(recipient=user, kind="application.submitted", dedupe_key="rolled-back", context={})
        raise RuntimeError("the decision failed")
    assert time.monotonic() - started < 30  # the requests did not hang on the broker
    assert Delivery.objects.filter(status="queued").count() == 10
    _broker(BROKER)
    assert services.outbox_sweep(now=timezone.now() + services.SWEEP_GRACE) == 10
    _wait_for(
        lambda: Delivery.objects.filter(status="sent").count() == 10, what="the sweep's deliveries", log=worker["log"]
    )
    assert SiteMessage.objects.filter(recipient=user).count() == 5
    assert len(_mails(worker["mail_dir"])) == 5
    assert not OutboxMessage.objects.filter(dedupe_key="rolled-back").exists()
