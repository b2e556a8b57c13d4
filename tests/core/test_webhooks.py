"""Webhooks end to end on a receiver on loopback that verifies every request with the reference
verifier: written with the event's transaction, sent signed after commit, each once; a receiver
that is down or failing gets retries with backoff and, once back, everything in order; dead
deliveries stop holding the others back; administrators replay in the admin."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.organisation.roles import StaffRole
from core.models import AuditEvent
from core.webhooks import services
from core.webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookSubscription, target_url_validate
from tests import factories
from tests.core.webhook_receiver import Receiver, free_port, receiver_running

pytestmark = pytest.mark.django_db
KIND = EventKind.APPLICATION_STATUS_CHANGED
Status = WebhookDelivery.Status


def subscribe(url: str, *, kinds: tuple[str, ...] = (KIND,), active: bool = True) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name=f"portal {WebhookSubscription.objects.count() + 1}",
        target_url=url,
        event_kinds=list(kinds),
        is_active=active,
    )


def emit(number: int, capture: Any, *, kind: str = KIND) -> None:
    """One event, in its own committed transaction (the hand-off runs at commit)."""
    with capture(execute=True), transaction.atomic():
        services.webhook_emit(kind=kind, payload={"application": {"id": number}}, dedupe_key=f"event:{number}")


def administrator():  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.ADMINISTRATOR, is_superuser=True, is_staff=True)


# --- the subscription ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://portal.example.cn/hooks", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/x"],
)
def test_https_anywhere_and_http_to_loopback_only_are_accepted(url):
    target_url_validate(url)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://portal.example.cn/hooks", "target_url_not_https"),
        ("http://10.0.0.5/hooks", "target_url_not_https"),
        ("ftp://portal.example.cn/", "target_url_invalid"),
        ("https://user:pw@portal.example.cn/", "target_url_credentials"),
        ("https://portal.example.cn/#x", "target_url_invalid"),
        ("https://portal.example.cn:99999/", "target_url_invalid"),
    ],
)
def test_other_urls_are_refused(url, code):
    with pytest.raises(ValidationError) as refused:
        target_url_validate(url)
    assert refused.value.code == code


def test_a_setting_allows_plain_http_on_a_closed_network(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    target_url_validate("http://10.0.0.5/hooks")


def test_an_administrator_adds_a_subscription_in_the_admin_and_gets_a_secret(client):
    client.force_login(administrator())
    url = reverse("admin:core_webhooksubscription_add")
    refused = client.post(url, {"name": "一网通办", "target_url": "http://portal.example.cn/h", "event_kinds": [KIND]})
    assert refused.status_code == 200 and not WebhookSubscription.objects.exists()
    assert "target_url" in refused.context["adminform"].form.errors
    no_kind = client.post(url, {"name": "一网通办", "target_url": "https://portal.example.cn/h"})
    assert no_kind.status_code == 200 and not WebhookSubscription.objects.exists()

    added = client.post(
        url, {"name": "一网通办", "target_url": "https://portal.example.cn/h", "event_kinds": [KIND], "is_active": "on"}
    )

    assert added.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_kinds == [KIND] and len(subscription.secret) >= 40
    event = AuditEvent.objects.get(action="webhooks.subscription_created")
    assert subscription.secret not in str(event.data)
    page = client.get(reverse("admin:core_webhooksubscription_change", args=[subscription.pk]))
    assert subscription.secret in page.content.decode()


def test_staff_without_superuser_see_no_subscription_nor_delivery(client):
    subscribe("https://portal.example.cn/h")
    client.force_login(factories.staff_with_role(StaffRole.ADMINISTRATOR, is_staff=True))
    assert client.get(reverse("admin:core_webhooksubscription_changelist")).status_code == 403
    assert client.get(reverse("admin:core_webhookdelivery_changelist")).status_code == 403


# --- emission ------------------------------------------------------------------------------------


def test_emit_writes_for_each_active_subscriber_of_the_kind_with_the_transaction(django_capture_on_commit_callbacks):
    wants = subscribe("https://a.example.cn/h")
    subscribe("https://b.example.cn/h", kinds=(EventKind.CREDIT_GRADE_CHANGED,))
    subscribe("https://c.example.cn/h", active=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.webhook_emit(kind=KIND, payload={"x": 1}, dedupe_key="rolled-back")
        raise RuntimeError("the decision failed")
    assert not WebhookDelivery.objects.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        assert services.webhook_emit(kind=KIND, payload={"x": 1}, dedupe_key="k") == 1
        services.webhook_emit(kind=KIND, payload={"x": 2}, dedupe_key="k")  # a retried service

    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.payload, delivery.status) == (wants, {"x": 1}, Status.QUEUED)
    assert len(callbacks) == 2  # one hand-off runs; the second finds the buffer empty


def test_an_event_nobody_asked_for_builds_no_payload():
    def payload() -> dict[str, Any]:
        raise AssertionError("built for nobody")

    assert services.webhook_emit(kind=KIND, payload=payload, dedupe_key="k") == 0


# --- delivery ------------------------------------------------------------------------------------


def test_a_delivery_reaches_the_receiver_signed_once(django_capture_on_commit_callbacks):
    with receiver_running() as receiver:
        subscription = subscribe(receiver.url)
        receiver.secret = subscription.secret

        emit(1, django_capture_on_commit_callbacks)

        delivery = WebhookDelivery.objects.get()
        assert delivery.status == Status.SENT and delivery.sent_at is not None and delivery.last_status_code == 200
        (received,) = receiver.accepted
        assert received.delivery == str(delivery.public_id) and received.event == KIND
        assert received.body == {
            "id": str(delivery.public_id),
            "event": KIND,
            "occurred_at": delivery.occurred_at.isoformat(),
            "data": {"application": {"id": 1}},
        }
        (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
        assert (attempt.number, attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (
            1,
            200,
            True,
            "ok",
        )
        assert attempt.signed_timestamp == received.timestamp and attempt.duration_ms < 10_000

        # When the worker gets the subscription again (a redelivered task, a sweep): nothing is resent
        assert services.subscription_deliver(subscription.pk) == {"idle": 1}
        assert services.webhooks_sweep(now=timezone.now() + datetime.timedelta(hours=1)) == 0
        assert receiver.requests == 1


def test_a_receiver_with_another_secret_refuses_and_the_attempt_is_logged(django_capture_on_commit_callbacks):
    with receiver_running(secret="not-the-subscriptions") as receiver:
        subscribe(receiver.url)
        started = timezone.now()

        emit(1, django_capture_on_commit_callbacks)

        delivery = WebhookDelivery.objects.get()
        assert receiver.refused == ["signature_mismatch"] and receiver.accepted == []
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Status.FAILED, 1, 401)
        assert delivery.last_error == "HTTP 401"
        assert WebhookAttempt.objects.get().response_excerpt == "signature_mismatch"
        wait = (delivery.next_attempt_at - started).total_seconds()
        assert 30 <= wait < 35  # WEBHOOK_RETRY_BASE_SECONDS


def test_a_receiver_that_is_down_then_failing_gets_everything_in_order_once_it_is_back(
    django_capture_on_commit_callbacks,
):
    receiver = Receiver(port=free_port())  # nothing listens there yet: connections are refused
    subscription = subscribe(receiver.url)
    receiver.secret = subscription.secret
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for number in (1, 2, 3):
            emit(number, django_capture_on_commit_callbacks)
        first, second, third = WebhookDelivery.objects.order_by("id")
        first.refresh_from_db()
        assert (first.status, first.attempts, first.last_status_code) == (Status.FAILED, 1, None)
        assert "Connection refused" in first.last_error or "ConnectionRefused" in first.last_error
        # the later ones wait behind it, unattempted: the receiver gets them in order
        assert list(WebhookDelivery.objects.order_by("id").values_list("status", "attempts")) == [
            (Status.FAILED, 1),
            (Status.QUEUED, 0),
            (Status.QUEUED, 0),
        ]
        assert services.webhooks_sweep() == 0  # not due yet

        clock.shift(31)
        assert services.webhooks_sweep() == 1
        first.refresh_from_db()
        assert (first.status, first.attempts) == (Status.FAILED, 2)
        assert 59 <= (first.next_attempt_at - timezone.now()).total_seconds() <= 60  # backoff doubles

        receiver.status = 500
        receiver.start()
        try:
            clock.shift(61)
            services.webhooks_sweep()
            first.refresh_from_db()
            assert (first.status, first.attempts, first.last_status_code) == (Status.FAILED, 3, 500)
            assert receiver.accepted == []

            receiver.status = 200
            clock.shift(121)
            assert services.webhooks_sweep() == 1
            assert receiver.deliveries == [str(d.public_id) for d in (first, second, third)]
            assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SENT}

            clock.shift(3600)
            assert services.webhooks_sweep() == 0
            assert services.subscription_deliver(subscription.pk) == {"idle": 1}
            # the two refused connections never reached it: one answered 500, then the three, once each
            assert len(receiver.accepted) == 3 and receiver.requests == 4
        finally:
            receiver.stop()
    assert list(
        WebhookAttempt.objects.filter(delivery=first).order_by("number").values_list("status_code", flat=True)
    ) == [
        None,
        None,
        500,
        200,
    ]


def test_a_redirect_is_not_followed(django_capture_on_commit_callbacks):
    with receiver_running() as elsewhere, receiver_running(status=302) as receiver:
        receiver.location = elsewhere.url
        subscription = subscribe(receiver.url)
        receiver.secret = elsewhere.secret = subscription.secret

        emit(1, django_capture_on_commit_callbacks)

        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
            Status.FAILED,
            302,
            "redirect not followed",
        )
        assert elsewhere.requests == 0


def test_a_dead_delivery_no_longer_holds_back_the_others_and_an_administrator_replays_it(
    client, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    with receiver_running(status=500) as receiver:
        subscription = subscribe(receiver.url)
        receiver.secret = subscription.secret
        emit(1, django_capture_on_commit_callbacks)
        dead = WebhookDelivery.objects.get()
        assert dead.status == Status.DEAD

        receiver.status = 200
        emit(2, django_capture_on_commit_callbacks)
        later = WebhookDelivery.objects.exclude(pk=dead.pk).get()
        assert receiver.deliveries == [str(later.public_id)]

        client.force_login(administrator())
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                reverse("admin:core_webhookdelivery_changelist"),
                {"action": "replay_selected", "_selected_action": [dead.pk, later.pk]},
            )

        assert answer.status_code == 302
        assert receiver.deliveries == [str(later.public_id), str(dead.public_id), str(later.public_id)]
        dead.refresh_from_db()
        assert (dead.status, dead.attempts, dead.replays) == (Status.SENT, 1, 1)
        assert list(dead.attempt_log.order_by("number").values_list("number", "status_code")) == [(1, 500), (2, 200)]
        assert AuditEvent.objects.filter(action="webhooks.replayed").count() == 2


def test_an_administrator_replays_a_subscription_since_an_instant(client, django_capture_on_commit_callbacks):
    with receiver_running() as receiver:
        subscription = subscribe(receiver.url)
        receiver.secret = subscription.secret
        emit(1, django_capture_on_commit_callbacks)
        emit(2, django_capture_on_commit_callbacks)
        older, newer = WebhookDelivery.objects.order_by("id")
        cut = timezone.localtime(timezone.now() - datetime.timedelta(hours=1))
        WebhookDelivery.objects.filter(pk=older.pk).update(occurred_at=cut - datetime.timedelta(days=1))

        client.force_login(administrator())
        url = reverse("admin:core_webhooksubscription_changelist")
        form = client.post(url, {"action": "replay_since", "_selected_action": [subscription.pk]})
        assert form.status_code == 200 and "since" in form.context["form"].fields
        future = timezone.localtime(timezone.now() + datetime.timedelta(days=1))
        refused = client.post(
            url,
            {"action": "replay_since", "_selected_action": [subscription.pk], "apply": "1",
             "since_0": future.date().isoformat(), "since_1": future.strftime("%H:%M:%S")},
        )  # fmt: skip
        assert refused.status_code == 200 and refused.context["form"].errors
        assert receiver.requests == 2
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(
                url,
                {"action": "replay_since", "_selected_action": [subscription.pk], "apply": "1",
                 "since_0": cut.date().isoformat(), "since_1": cut.strftime("%H:%M:%S")},
            )  # fmt: skip

        assert done.status_code == 302
        assert receiver.deliveries == [str(older.public_id), str(newer.public_id), str(newer.public_id)]
        event = AuditEvent.objects.get(action="webhooks.replayed_since")
        assert event.data["deliveries"] == 1


def test_an_inactive_subscription_keeps_its_deliveries_waiting(django_capture_on_commit_callbacks):
    with receiver_running() as receiver:
        subscription = subscribe(receiver.url)
        receiver.secret = subscription.secret
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            services.webhook_emit(kind=KIND, payload={}, dedupe_key="e1")
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)

        assert services.subscription_deliver(subscription.pk) == {"inactive": 1}
        assert services.webhooks_sweep(now=timezone.now() + datetime.timedelta(minutes=5)) == 0

        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True)
        assert services.webhooks_sweep(now=timezone.now() + datetime.timedelta(minutes=5)) == 1
        assert len(receiver.accepted) == 1


def test_a_new_secret_signs_from_then_on(client, django_capture_on_commit_callbacks):
    with receiver_running() as receiver:
        subscription = subscribe(receiver.url)
        old = subscription.secret
        client.force_login(administrator())
        client.post(
            reverse("admin:core_webhooksubscription_changelist"),
            {"action": "rotate_secret", "_selected_action": [subscription.pk]},
        )
        subscription.refresh_from_db()
        assert subscription.secret != old
        receiver.secret = subscription.secret

        emit(1, django_capture_on_commit_callbacks)

        assert len(receiver.accepted) == 1
        assert AuditEvent.objects.filter(action="webhooks.secret_rotated").exists()
