"""The SMS channel: a notice goes to the gateway once, with its idempotency key; a failure (an error
answer, no answer in time, garbage, a redirect, no connection) is retried under the same key; the
console backend logs; the text is cut to SMS_MAX_CHARS. The gateway is a fake HTTP server on
loopback, in a thread."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from core.models import User
from core.outbox import services
from core.outbox.kinds import SITE, SMS, NoticeKind, notice_kinds_register
from core.outbox.models import Delivery, OutboxMessage
from core.outbox.sms import HttpGatewaySmsBackend, sms_backend
from tests import factories

pytestmark = pytest.mark.django_db

notice_kinds_register(
    NoticeKind(
        "test.sms",
        "Permit %(reference)s approved",
        "Your permit %(reference)s was approved. %(note)s",
        channels=(SITE, SMS),
    )
)

PHONE = "13800138000"
TOKEN = "test-gateway-token"
BUREAU = "测试审批局"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGateway:
    """An SMS gateway that takes one answer per request from ``answers`` (``ok`` when empty):

    - ``ok``: takes the SMS, deduplicated by ``Idempotency-Key`` (the same key gets the same id and
      is not sent again), answers 200 with its id;
    - ``slow``: takes the SMS the same way but answers only after the client has given up;
    - ``fail``: answers 500 and takes nothing; ``garbage``: 200 with a body that is not JSON;
      ``no_id``: 200 with JSON lacking an id; ``redirect``: 302 to another path.
    """

    url: str = ""
    answers: deque[str] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → id: the SMS really sent
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, *modes: str) -> None:
        self.answers.extend(modes)

    def take(self, key: str) -> str:
        return self.taken.setdefault(key, f"gw-{len(self.taken) + 1}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802  (the name http.server dispatches to)
        gateway = self.server.gateway
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        gateway.received.append(Received(self.path, dict(self.headers.items()), body))
        mode = gateway.answers.popleft() if gateway.answers else "ok"
        key = self.headers.get("Idempotency-Key", "")
        if mode == "ok":
            self._answer(200, json.dumps({"id": gateway.take(key)}).encode())
        elif mode == "slow":
            gateway.take(key)
            gateway.release.wait(timeout=5)
            self._answer(200, json.dumps({"id": gateway.taken[key]}).encode())
        elif mode == "fail":
            self._answer(500, b'{"error": "down"}')
        elif mode == "garbage":
            self._answer(200, b"<html>maintenance</html>")
        elif mode == "no_id":
            self._answer(200, b'{"status": "queued"}')
        elif mode == "redirect":
            self._answer(302, b"", location="/elsewhere")
        else:
            raise AssertionError(f"unknown mode {mode!r}")

    def _answer(self, status: int, payload: bytes, *, location: str = "") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    gateway: FakeGateway


@pytest.fixture
def gateway(settings, monkeypatch) -> Iterator[FakeGateway]:  # type: ignore[no-untyped-def]
    """The fake gateway on 127.0.0.1 (a free port), and the settings that send to it."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # loopback must not go through a proxy
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeGateway(url=f"http://127.0.0.1:{server.server_address[1]}/v1/sms")
    server.gateway = fake
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = fake.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    settings.SMS_SENDER = "ReformFlow"
    settings.SMS_GATEWAY_TIMEOUT = 1
    settings.NOTICE_BUREAU_NAME = BUREAU
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _user(**fields: Any) -> User:
    user: User = factories.UserFactory(phone=PHONE, language="en", **fields)
    return user


def _notify(user: User, *, note: str = "Collect it at window 3.", key: str = "sms-1") -> OutboxMessage:
    return services.notify(recipient=user, kind="test.sms", dedupe_key=key, context={"reference": "SP-1", "note": note})


def _sms_delivery() -> Delivery:
    return Delivery.objects.get(channel="sms")


def _make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_notice_with_the_sms_channel_reaches_the_gateway_once(gateway, django_capture_on_commit_callbacks):
    # given a user with a mobile number
    user = _user()
    # when a notice of a kind with the SMS channel is delivered
    with django_capture_on_commit_callbacks(execute=True):
        message = _notify(user)
    # then the gateway got exactly one request with the token, the idempotency key and the text
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["site", "sms"]
    assert len(gateway.received) == 1
    request = gateway.received[0]
    assert request.path == "/v1/sms"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == f"outbox-{message.pk}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.body == {
        "to": PHONE,
        "text": f"【{BUREAU}】Permit SP-1 approved: Your permit SP-1 was approved. Collect it at window 3.",
        "sender": "ReformFlow",
        "reference": f"outbox-{message.pk}",
    }
    delivery = _sms_delivery()
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.last_error == ""
    assert delivery.external_id == gateway.taken[f"outbox-{message.pk}"] == "gw-1"
    # and a second run of the task sends nothing again
    assert services.delivery_attempt(delivery.pk) == "sent"
    assert len(gateway.received) == 1


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("fail", "answered HTTP 500"),
        ("slow", "did not answer within"),
        ("garbage", "is not JSON"),
        ("no_id", "has no message id"),
        ("redirect", "answered HTTP 302"),
    ],
)
def test_a_failed_send_is_retried_with_the_same_idempotency_key(
    gateway, django_capture_on_commit_callbacks, mode, error
):
    # given a gateway whose first answer is an error, none in time, or not a receipt
    gateway.answer(mode)
    user = _user()
    # when the notice is delivered
    with django_capture_on_commit_callbacks(execute=True):
        message = _notify(user)
    # then the SMS delivery failed, the error is recorded and the next attempt waits
    delivery = _sms_delivery()
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.external_id == ""
    assert delivery.last_error.startswith("SmsGatewayError: ") and error in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert services.delivery_attempt(delivery.pk) == "not_due"
    # when the retry is due and runs
    _make_due(delivery)
    assert services.delivery_attempt(delivery.pk) == "sent"
    # then it carried the same key, and the gateway sent the SMS once (a slow answer's SMS included)
    reference = f"outbox-{message.pk}"
    assert [r.headers["Idempotency-Key"] for r in gateway.received] == [reference, reference]
    assert [r.path for r in gateway.received] == ["/v1/sms", "/v1/sms"]  # a redirect is not followed
    assert gateway.taken == {reference: "gw-1"}
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.external_id == "gw-1" and delivery.last_error == ""


def test_a_gateway_that_cannot_be_reached_is_retried(gateway, settings, django_capture_on_commit_callbacks):
    # given a gateway address where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/v1/sms"
    # when a notice is delivered
    with django_capture_on_commit_callbacks(execute=True):
        _notify(_user())
    # then the delivery failed and will retry
    delivery = _sms_delivery()
    assert delivery.status == "failed" and "could not be reached" in delivery.last_error
    # and once the gateway is back, the retry sends it
    settings.SMS_GATEWAY_URL = gateway.url
    _make_due(delivery)
    assert services.delivery_attempt(delivery.pk) == "sent"
    assert len(gateway.received) == 1


def test_no_sms_delivery_for_a_user_without_a_phone(gateway, django_capture_on_commit_callbacks):
    user = _user()
    User.objects.filter(pk=user.pk).update(phone="")
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(user)
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["site"]
    assert gateway.received == []


def test_the_sms_channel_refuses_a_recipient_whose_phone_was_removed(gateway):
    # given an SMS delivery written while the user had a number (no commit here: not yet sent)
    user = _user()
    _notify(user)
    User.objects.filter(pk=user.pk).update(phone="")
    # when it is delivered
    delivery = _sms_delivery()
    assert services.delivery_attempt(delivery.pk) == "failed"
    # then nothing reached the gateway and the reason is recorded
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("ValueError: ")
    assert gateway.received == []


def test_the_console_backend_logs_the_sms(settings, caplog, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "console"
    settings.NOTICE_BUREAU_NAME = BUREAU
    caplog.set_level(logging.INFO, logger="reformflow.sms")
    with django_capture_on_commit_callbacks(execute=True):
        message = _notify(_user())
    delivery = _sms_delivery()
    assert delivery.status == "sent" and delivery.external_id == f"console-outbox-{message.pk}"
    logged = [record.getMessage() for record in caplog.records if record.name == "reformflow.sms"]
    assert len(logged) == 1
    assert PHONE in logged[0] and f"outbox-{message.pk}" in logged[0]
    assert f"【{BUREAU}】Permit SP-1 approved" in logged[0]


def test_the_text_is_cut_to_sms_max_chars(gateway, settings, django_capture_on_commit_callbacks):
    settings.SMS_MAX_CHARS = 80
    with django_capture_on_commit_callbacks(execute=True):
        _notify(_user(), note="x" * 500)
    whole = f"【{BUREAU}】Permit SP-1 approved: Your permit SP-1 was approved. " + "x" * 500
    text = gateway.received[0].body["text"]
    assert len(text) == 80
    assert text == whole[:79] + "…"
    assert _sms_delivery().status == "sent"


def test_the_backend_follows_the_settings_at_call_time(settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = "https://sms.example.invalid/a"
    settings.SMS_GATEWAY_TOKEN = TOKEN
    first = sms_backend()
    assert isinstance(first, HttpGatewaySmsBackend) and first.url == "https://sms.example.invalid/a"
    assert sms_backend() is first
    settings.SMS_GATEWAY_URL = "https://sms.example.invalid/b"
    second = sms_backend()
    assert isinstance(second, HttpGatewaySmsBackend) and second.url == "https://sms.example.invalid/b"
    settings.SMS_BACKEND = "console"
    assert not isinstance(sms_backend(), HttpGatewaySmsBackend)
