"""The outbox with a real Celery worker on the machine's Redis, against this test database: an
accepted application reaches the applicant once per channel; a broker that is down when requests
commit loses nothing (the sweep delivers); a rolled-back transaction sends nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.signals import after_task_publish
from django.db import transaction
from django.utils import timezone

from core.outbox import services
from core.outbox.models import Delivery, OutboxMessage, SiteMessage
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
from tests.workflows.conftest import accept, file_application, make_item

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = os.environ.get("OUTBOX_TEST_BROKER", "redis://127.0.0.1:6379/14")
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: a broker that is down


@pytest.fixture
def worker(tmp_path: Path, settings: Any, celery_processes: Any) -> Iterator[CeleryProcess]:
    import redis

    settings.MEDIA_ROOT = tmp_path / "media"
    redis.Redis.from_url(BROKER).flushdb()
    process: CeleryProcess = celery_processes(
        "worker", "worker", *WORKER_OPTIONS, env=celery_environment(tmp_path, broker=BROKER)
    )
    broker_use(BROKER)
    try:
        yield process
    finally:
        broker_restore()


def test_an_accepted_application_reaches_the_applicant_once_per_channel(worker, tmp_path, bureau, owner, enterprise):
    # Given an application filed and accepted (other people, e.g. the staff whose queue a step
    # waits in, may be told too: only the applicant's notices are counted)
    version = make_item(bureau, co_review=0)
    application = file_application(owner, enterprise, version)
    accept(bureau, application)
    mail_dir = tmp_path / "mail"
    theirs = Delivery.objects.filter(message__recipient=owner)

    def their_mails() -> list[Any]:
        return [m for m in mails_in(mail_dir) if m["To"] == owner.email]

    # When the worker has delivered them
    wait_for(lambda: theirs.filter(status="sent").count() == 4, what="the applicant's four deliveries", logs=worker)

    # Then one in-site message and one e-mail per notice, the PDF on the "accepted" mail
    kinds = sorted(OutboxMessage.objects.filter(recipient=owner).values_list("kind", flat=True))
    assert kinds == ["application.accepted", "application.submitted"]
    assert sorted(theirs.values_list("channel", flat=True)) == ["email", "email", "site", "site"]
    assert SiteMessage.objects.filter(recipient=owner).count() == 2
    mails = their_mails()
    assert len(mails) == 2
    pdfs = {m["Message-ID"]: [p for p in m.walk() if p.get_content_type() == "application/pdf"] for m in mails}
    accepted = OutboxMessage.objects.get(recipient=owner, kind="application.accepted")
    submitted = OutboxMessage.objects.get(recipient=owner, kind="application.submitted")
    accepted_id = theirs.get(message=accepted, channel="email").external_id
    submitted_id = theirs.get(message=submitted, channel="email").external_id
    assert {mid: len(parts) for mid, parts in pdfs.items()} == {accepted_id: 1, submitted_id: 0}
    assert {m["Message-ID"] for m in mails} == set(theirs.filter(channel="email").values_list("external_id", flat=True))

    # When the worker gets the same deliveries again (a redelivered task): nothing new is sent
    published: list[str] = []

    def record(headers: dict[str, Any] | None = None, **_: Any) -> None:
        published.append((headers or {})["id"])

    after_task_publish.connect(record, weak=False)
    try:
        services.deliveries_enqueue(list(theirs.values_list("pk", flat=True)))
    finally:
        after_task_publish.disconnect(record)
    assert published  # one task per delivery or per batch: the hand-off decides
    wait_for(
        lambda: all(f"[{task_id}] succeeded" in worker.log.read_text() for task_id in published),
        what=f"the redelivered tasks {published} to finish",
        logs=worker,
    )
    assert SiteMessage.objects.filter(recipient=owner).count() == 2 and len(their_mails()) == 2
    assert theirs.filter(status="sent").count() == 4


def test_a_broker_down_at_commit_loses_nothing_and_a_rollback_sends_nothing(worker, tmp_path):
    user = factories.UserFactory()
    broker_use(NOWHERE)
    started = time.monotonic()
    for number in range(5):
        services.notify(recipient=user, kind="application.submitted", dedupe_key=f"down-{number}",
                        context={"reference": f"SP-{number}", "item": "x"})  # fmt: skip
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(recipient=user, kind="application.submitted", dedupe_key="rolled-back", context={})
        raise RuntimeError("the decision failed")
    assert time.monotonic() - started < 30  # the requests did not hang on the broker
    assert Delivery.objects.filter(status="queued").count() == 10
    broker_use(BROKER)
    assert services.outbox_sweep(now=timezone.now() + services.SWEEP_GRACE) == 10
    wait_for(lambda: Delivery.objects.filter(status="sent").count() == 10, what="the sweep's deliveries", logs=worker)
    assert SiteMessage.objects.filter(recipient=user).count() == 5
    assert len(mails_in(tmp_path / "mail")) == 5
    assert not OutboxMessage.objects.filter(dedupe_key="rolled-back").exists()
