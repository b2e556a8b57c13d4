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

from core.outbox import channels, services
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


@pytest.fixture
def handed_over(monkeypatch):  # type: ignore[no-untyped-def]
    """The batch tasks handed to the broker, as ``(ids, countdown)``, instead of running them."""
    from core.tasks import outbox_deliver_batch

    calls: list[tuple[list[int], float | None]] = []

    def record(*, args, countdown=None):  # type: ignore[no-untyped-def]
        calls.append((list(args[0]), countdown))

    monkeypatch.setattr(outbox_deliver_batch, "apply_async", record)
    return calls


def _queued(user, count):  # type: ignore[no-untyped-def]
    """``count`` notices whose deliveries are queued and not handed over (no on-commit here)."""
    return [_notify(user, key=f"q{number}", name=str(number)) for number in range(count)]


def test_a_failing_delivery_in_a_batch_spares_the_others_and_backs_off_alone(
    monkeypatch, handed_over, django_capture_on_commit_callbacks
):
    # given three notices, where the second one's e-mail fails and its in-site message fails after
    # writing (the write must not survive)
    user = factories.UserFactory()
    messages = _queued(user, 3)
    doomed = messages[1]
    real_site, real_email = channels.SENDERS["site"], channels.SENDERS["email"]

    def site(delivery):  # type: ignore[no-untyped-def]
        reference = real_site(delivery)
        if delivery.message_id == doomed.pk:
            raise RuntimeError("the message centre is down")
        return reference

    def email(delivery):  # type: ignore[no-untyped-def]
        if delivery.message_id == doomed.pk:
            raise ConnectionRefusedError("SMTP down")
        return real_email(delivery)

    monkeypatch.setitem(channels.SENDERS, "site", site)
    monkeypatch.setitem(channels.SENDERS, "email", email)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    # when the six deliveries go as one batch
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.deliveries_attempt(ids)
    # then the other notices are sent on both channels, the doomed one's two deliveries failed
    failed = set(Delivery.objects.filter(message=doomed).values_list("pk", flat=True))
    assert outcomes == {pk: "failed" if pk in failed else "sent" for pk in ids}
    assert set(SiteMessage.objects.values_list("message_id", flat=True)) == {messages[0].pk, messages[2].pk}
    assert len(mail.outbox) == 2
    for delivery in Delivery.objects.filter(pk__in=failed):
        assert delivery.attempts == 1 and delivery.sent_at is None
        assert delivery.next_attempt_at >= before + services.backoff(1)
    assert {d.channel: d.last_error for d in Delivery.objects.filter(pk__in=failed)} == {
        "site": "RuntimeError: the message centre is down",
        "email": "ConnectionRefusedError: SMTP down",
    }
    # and each failed delivery is handed over again after its own backoff, and nothing else is
    assert sorted(handed_over) == [(sorted(failed), services.backoff(1).total_seconds())]


def test_a_batch_delivered_twice_sends_nothing_again(django_assert_max_num_queries):
    # given two notices delivered as one batch
    user = factories.UserFactory()
    _queued(user, 2)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert set(services.deliveries_attempt(ids).values()) == {"sent"}
    # when the broker gives the same batch again, it costs one query and sends nothing
    with django_assert_max_num_queries(3):  # the lock-and-load query, in a savepoint here
        assert set(services.deliveries_attempt(ids).values()) == {"sent"}
    # and when the site deliveries' sent state was lost (the worker died before its ack), the
    # message centre finds the messages it made
    Delivery.objects.filter(channel="site").update(status="queued")
    assert set(services.deliveries_attempt(ids).values()) == {"sent"}
    assert SiteMessage.objects.count() == 2 and len(mail.outbox) == 2
    assert Delivery.objects.filter(channel="email", attempts=1).count() == 2


def test_a_batch_reports_deliveries_not_due_and_missing():
    user = factories.UserFactory()
    _queued(user, 1)
    site, email = Delivery.objects.get(channel="site"), Delivery.objects.get(channel="email")
    Delivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))
    outcomes = services.deliveries_attempt([site.pk, email.pk, 999_999])
    assert outcomes == {site.pk: "sent", email.pk: "not_due", 999_999: "busy"}
    assert len(mail.outbox) == 0


def test_the_sweep_hands_over_in_chunks_of_the_batch_size(settings, handed_over):
    # given eight queued deliveries older than the grace period, and batches of three
    settings.OUTBOX_BATCH_SIZE = 3
    _queued(factories.UserFactory(), 4)
    # when the sweep runs
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert services.outbox_sweep(now=later) == 8
    # then it handed them over as three tasks of at most three, each delivery once
    assert [len(ids) for ids, _countdown in handed_over] == [3, 3, 2]
    assert sorted(pk for ids, _countdown in handed_over for pk in ids) == sorted(
        Delivery.objects.values_list("pk", flat=True)
    )
    assert {countdown for _ids, countdown in handed_over} == {None}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_batch_send_each_delivery_once(monkeypatch):
    # (A real-thread race, as in tests/concurrency/: it needs PostgreSQL's SKIP LOCKED.)
    # given ten notices, and an e-mail channel slow enough for two workers to overlap
    import threading
    import time

    from tests.concurrency.conftest import run_concurrently

    with monkeypatch.context() as patch:
        patch.setattr(services, "deliveries_enqueue", lambda ids, countdown=None: None)  # not handed over
        _queued(factories.UserFactory(), 10)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    real_email = channels.SENDERS["email"]
    first_email = threading.Event()

    def slow_email(delivery):  # type: ignore[no-untyped-def]
        first_email.set()
        time.sleep(0.02)
        return real_email(delivery)

    monkeypatch.setitem(channels.SENDERS, "email", slow_email)

    def second_worker() -> dict[int, str]:
        # starts once the first has committed its in-site deliveries and holds its first e-mail
        assert first_email.wait(10)
        return services.deliveries_attempt(ids)

    # when a second worker gets the same batch while the first sends its e-mails
    first, second = run_concurrently(lambda: services.deliveries_attempt(ids), second_worker)
    # then every delivery was sent exactly once, whichever worker sent it
    assert not isinstance(first, BaseException) and not isinstance(second, BaseException)
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 20
    assert SiteMessage.objects.count() == 10 and len(mail.outbox) == 10
    assert all("sent" in (first[pk], second[pk]) for pk in ids)


def test_a_chunk_the_broker_refuses_leaves_the_others_handed_over(settings, monkeypatch):
    from core.tasks import outbox_deliver_batch

    settings.OUTBOX_BATCH_SIZE = 2
    sent: list[list[int]] = []

    def flaky(*, args, countdown=None):  # type: ignore[no-untyped-def]
        if not sent:
            sent.append([])
            raise ConnectionError("broker down")
        sent.append(list(args[0]))

    monkeypatch.setattr(outbox_deliver_batch, "apply_async", flaky)
    services.deliveries_enqueue([1, 2, 3, 4, 5])
    assert sent == [[], [3, 4], [5]]


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


def test_one_hand_off_per_transaction_and_none_lost_to_a_rolled_back_savepoint(
    handed_over, django_capture_on_commit_callbacks
):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _notify(user, key="a")
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(user, key="rolled-back")
            raise RuntimeError("this part failed")
        _notify(user, key="b")
    # one hand-off for the whole transaction, with every delivery that committed
    committed = set(Delivery.objects.values_list("pk", flat=True))
    assert len(committed) == 4 and len(handed_over) == 1 and committed <= set(handed_over[0][0])
    # the deliveries written after a rolled-back savepoint are handed over all the same
    handed_over.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(user, key="inner")
            raise RuntimeError("this part failed")
        after = _notify(user, key="after")
    assert len(handed_over) == 1
    assert set(after.deliveries.values_list("pk", flat=True)) <= set(handed_over[0][0])
