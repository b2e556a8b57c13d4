"""Where the SMS channel hands its texts: a small backend interface with two implementations, a
console backend for development (the text goes to the log) and an HTTP gateway configured from
the environment (``SMS_*`` settings, README.md).

A backend either returns the gateway's id of the message or raises: the outbox records the
error and retries with backoff. Every send carries the caller's ``reference`` (one per outbox
message) as its idempotency key, so a retry after a lost answer is recognisable by the gateway
as the same SMS and not sent twice.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger("reformflow.sms")

CONSOLE = "console"
HTTP = "http"
BACKENDS = (CONSOLE, HTTP)

# An answer larger than this is no gateway's receipt; reading stops there.
_MAX_ANSWER_BYTES = 64 * 1024
# ``Delivery.external_id`` holds 200 characters; a longer id is a malformed answer.
_MAX_ID_CHARS = 200


class SmsGatewayError(Exception):
    """The gateway did not confirm the SMS (an error answer, no answer in time, no connection, or
    an answer that is not its receipt). The delivery is retried under the same reference."""


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str, reference: str) -> str:
        """Send ``text`` to ``phone``; return the gateway's id of the message."""
        ...


@dataclass(frozen=True)
class ConsoleSmsBackend:
    """Development: the SMS is written to the log (logger ``reformflow.sms``) and never sent."""

    def send(self, *, phone: str, text: str, reference: str) -> str:
        logger.info("SMS %s to %s: %s", reference, phone, text)
        return f"console-{reference}"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of the POST as a GET, carrying the bearer token to wherever
    the answer points; a redirect is refused instead (an HTTPError, so the delivery retries)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class HttpGatewaySmsBackend:
    """An HTTP SMS gateway: POST ``{"to", "text", "sender", "reference"}`` as JSON with a bearer
    token and ``Idempotency-Key: <reference>``; a 2xx answer is a JSON object whose ``id`` is the
    gateway's id of the message."""

    url: str
    token: str
    sender: str
    timeout: float

    def send(self, *, phone: str, text: str, reference: str) -> str:
        answer = self._post(self._request(phone=phone, text=text, reference=reference))
        return _message_id(answer)

    def _request(self, *, phone: str, text: str, reference: str) -> urllib.request.Request:
        payload = {"to": phone, "text": text, "sender": self.sender, "reference": reference}
        return urllib.request.Request(  # noqa: S310  (the URL is checked to be http(s) in settings)
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": reference,
            },
        )

    def _post(self, request: urllib.request.Request) -> bytes:
        # Built per call: the opener reads the proxy variables of the environment when it is made.
        opener = urllib.request.build_opener(_RefuseRedirects)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                body: bytes = response.read(_MAX_ANSWER_BYTES)
                status: int = response.status
        except urllib.error.HTTPError as exc:
            raise SmsGatewayError(f"the SMS gateway answered HTTP {exc.code}") from exc
        except urllib.error.URLError as exc:
            raise SmsGatewayError(f"the SMS gateway could not be reached: {exc.reason}") from exc
        except TimeoutError as exc:
            raise SmsGatewayError(f"the SMS gateway did not answer within {self.timeout} s") from exc
        except (http.client.HTTPException, OSError) as exc:
            raise SmsGatewayError(f"the SMS gateway connection failed: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise SmsGatewayError(f"the SMS gateway answered HTTP {status}")
        return body


def _message_id(answer: bytes) -> str:
    """The ``id`` of the gateway's JSON receipt, or ``SmsGatewayError``: an answer that is not a
    receipt does not prove the SMS was taken, so it counts as a failure (the retry carries the same
    idempotency key, so a gateway that did take it sends nothing twice)."""
    try:
        receipt = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SmsGatewayError(f"the SMS gateway's answer is not JSON: {answer[:100]!r}") from exc
    identifier = receipt.get("id") if isinstance(receipt, dict) else None
    if isinstance(identifier, bool) or not isinstance(identifier, str | int):
        raise SmsGatewayError(f"the SMS gateway's answer has no message id: {answer[:100]!r}")
    text = str(identifier).strip()
    if not text or len(text) > _MAX_ID_CHARS:
        raise SmsGatewayError(f"the SMS gateway's message id is empty or too long: {text[:100]!r}")
    return text


def sms_backend() -> SmsBackend:
    """The backend the settings name, read at each call (so ``override_settings`` takes effect);
    one instance per distinct configuration."""
    if settings.SMS_BACKEND == HTTP:
        return _http_backend(
            settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN, settings.SMS_SENDER, settings.SMS_GATEWAY_TIMEOUT
        )
    if settings.SMS_BACKEND == CONSOLE:
        return _CONSOLE
    raise ValueError(f"SMS_BACKEND={settings.SMS_BACKEND!r} is not one of {', '.join(BACKENDS)}")


_CONSOLE = ConsoleSmsBackend()


@lru_cache(maxsize=8)
def _http_backend(url: str, token: str, sender: str, timeout: float) -> HttpGatewaySmsBackend:
    return HttpGatewaySmsBackend(url=url, token=token, sender=sender, timeout=timeout)
