"""The transactional outbox: written with the decision, delivered after commit once per channel,
retried with backoff, dead after the last attempt and replayable; the message centre."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.outbox import services
from core.outbox.kinds import NoticeKind, notice_kinds_register
from core.outbox.models import Delivery, OutboxMessage, ScheduledJob, SiteMessage
from core.scheduling import job_claim, job_run
from tests import factories
from tests.workflows.conftest import accept, file_application, make_item

pytestmark = pytest.mark.django_db

notice_kinds_register(NoticeKind("test.hello", "Hello %(name)s", "A test notice for %(name)s."))


def _notify(user, key="k1", **context):  # type: ignore[no-untyped-def]
    return services.notify(recipient=user, kind="test.hello", dedupe_key=key, context=context or {"name": "x"})


def test_the_message_commits_or_rolls_back_with_the_decision(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with (
        pytest.raises(RuntimeError),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        _notify(user)
        raise RuntimeError("the decision failed")
    assert not OutboxMessage.objects.exists() and not Delivery.objects.exists()
    assert callbacks == [] and mail.outbox == [] and not SiteMessage.objects.exists()


def test_same_dedupe_key_adds_nothing_and_one_delivery_per_channel(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(user)
    with django_capture_on_commit_callbacks(execute=True):
        again = _notify(user)
    assert first.pk == again.pk
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "site"]
    assert SiteMessage.objects.count() == 1 and len(mail.outbox) == 1


def test_no_email_delivery_for_a_user_without_an_address(django_capture_on_commit_callbacks):
    user = factories.UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["site"]


def test_delivery_is_idempotent_per_channel(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        message = _notify(user, name="张三")
    for delivery in Delivery.objects.all():
        assert services.delivery_attempt(delivery.pk) == "sent"  # already sent: nothing again
    assert SiteMessage.objects.count() == 1 and len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.extra_headers["Message-ID"] == f"<outbox-{message.pk}@reformflow.localhost>"
    assert Delivery.objects.get(channel="email").external_id == email.extra_headers["Message-ID"]
    # a lost acknowledgement: the row says queued again, the site channel finds its message
    Delivery.objects.filter(channel="site").update(status="queued")
    assert services.delivery_attempt(Delivery.objects.get(channel="site").pk) == "sent"
    assert SiteMessage.objects.count() == 1


def test_the_recipients_language_decides_the_texts(django_capture_on_commit_callbacks):
    user = factories.UserFactory(language="en")
    owner_zh = factories.UserFactory(language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipient=user,
            kind="application.accepted",
            dedupe_key="a",
            context={"reference": "SP2026-000001", "item": "x", "deadline": "2026-12-31"},
        )
        services.notify(
            recipient=owner_zh,
            kind="application.accepted",
            dedupe_key="b",
            context={"reference": "SP2026-000001", "item": "x", "deadline": "2026-12-31"},
        )
    english = SiteMessage.objects.get(recipient=user)
    chinese = SiteMessage.objects.get(recipient=owner_zh)
    assert english.title == "Application SP2026-000001 accepted"
    assert "2026-12-31" in english.body
    assert chinese.title != english.title and "SP2026-000001" in chinese.title
    assert "受理" in chinese.title
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "Dear" in bodies[user.email] and "Dear" not in bodies[owner_zh.email]


def test_failures_back_off_then_die_and_an_administrator_replays(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.core.test_outbox.FailingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    email = Delivery.objects.get(channel="email")
    assert email.status == "failed" and email.attempts == 1 and "SMTP down" in email.last_error
    assert email.next_attempt_at > timezone.now() + datetime.timedelta(seconds=25)  # base 30 s
    assert services.delivery_attempt(email.pk) == "not_due"
    for expected in ("failed", "dead"):
        Delivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        assert services.delivery_attempt(email.pk) == expected
    email.refresh_from_db()
    assert email.attempts == 3
    assert Delivery.objects.get(channel="site").status == "sent"  # one channel failing spares the other
    assert services.backoff(1) == datetime.timedelta(seconds=30)
    assert services.backoff(3) == datetime.timedelta(seconds=120)
    assert services.backoff(30) == datetime.timedelta(seconds=3600)
    admin = factories.UserFactory(is_superuser=True, is_staff=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.deliveries_replay(actor=admin, deliveries=[email]) == 1
    email.refresh_from_db()
    assert email.status == "sent" and len(mail.outbox) == 1


def test_the_sweep_takes_what_the_commit_hand_off_lost(settings):
    user = factories.UserFactory()
    _notify(user)  # no on-commit in this test transaction: as if the broker had been down
    assert Delivery.objects.filter(status="queued").count() == 2
    assert services.outbox_sweep() == 0  # younger than the grace period: the hand-off may still come
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert services.outbox_sweep(now=later) == 2  # eager in tests: delivered at once
    assert Delivery.objects.filter(status="sent").count() == 2
    assert services.outbox_sweep(now=later) == 0


def test_an_accepted_application_tells_the_applicant_once(
    bureau, owner, enterprise, django_capture_on_commit_callbacks
):
    version = make_item(bureau, co_review=0)
    with django_capture_on_commit_callbacks(execute=True):
        application = file_application(owner, enterprise, version)
    with django_capture_on_commit_callbacks(execute=True):
        accept(bureau, application)
    application.refresh_from_db()
    kinds = list(OutboxMessage.objects.filter(recipient=owner).order_by("id").values_list("kind", flat=True))
    assert kinds == ["application.submitted", "application.accepted"]
    accepted = SiteMessage.objects.get(message__kind="application.accepted")
    assert application.reference in accepted.title
    assert application.deadline.isoformat() in accepted.body
    assert [m.to for m in mail.outbox] == [[owner.email], [owner.email]]


def test_message_centre_only_for_the_recipient(client, django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    other = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user, name="王五")
    message = SiteMessage.objects.get()
    client.force_login(user)
    page = client.get(reverse("inbox:list"))
    assert page.status_code == 200 and "Hello 王五" in page.content.decode()
    assert page.context["unread_messages"] == 1
    detail = client.get(reverse("inbox:detail", args=[message.pk]))
    assert detail.status_code == 200 and "A test notice for 王五." in detail.content.decode()
    message.refresh_from_db()
    assert message.read_at is not None
    assert client.get(reverse("inbox:list")).context["unread_messages"] == 0
    client.force_login(other)
    assert client.get(reverse("inbox:detail", args=[message.pk])).status_code == 404
    assert "王五" not in client.get(reverse("inbox:list")).content.decode()
    client.logout()
    assert client.get(reverse("inbox:detail", args=[message.pk])).status_code == 302


def test_mark_all_read_is_a_post(client, django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user, key="a")
        _notify(user, key="b")
    client.force_login(user)
    assert client.get(reverse("inbox:read_all")).status_code == 405
    assert client.post(reverse("inbox:read_all")).status_code == 302
    assert not SiteMessage.objects.filter(read_at__isnull=True).exists()


def test_outbox_status_counts_by_channel_kind_and_state(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    out = io.StringIO()
    call_command("outbox_status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["channel", "kind", "queued", "failed", "sent", "dead"]
    assert sorted(line.split() for line in lines[1:]) == [
        ["email", "test.hello", "0", "0", "1", "0"],
        ["site", "test.hello", "0", "0", "1", "0"],
    ]


def test_a_job_runs_once_per_period_whatever_the_number_of_schedulers():
    now = timezone.now()
    gap = datetime.timedelta(seconds=30)
    assert job_claim("j", min_gap=gap, now=now)
    assert not job_claim("j", min_gap=gap, now=now + datetime.timedelta(seconds=10))  # the second beat
    assert job_claim("j", min_gap=gap, now=now + datetime.timedelta(seconds=31))
    calls = []
    assert job_run("k", lambda: calls.append(1) or "done", min_gap=gap) == "done"
    assert job_run("k", lambda: calls.append(1) or "done", min_gap=gap) is None
    job = ScheduledJob.objects.get(name="k")
    assert calls == [1] and job.runs == 1 and job.last_result == "done" and job.last_duration_ms is not None


class FailingBackend:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        pass

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("SMTP down")
