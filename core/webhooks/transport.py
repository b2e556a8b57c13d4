"""The one HTTP call of a webhook delivery: a POST through the standard library, with a bounded
timeout, never following a redirect, reading at most ``EXCERPT_BYTES`` of the answer."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXCERPT_BYTES = 1000


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its HTTP status (``None`` when no answer came), the start of its
    body, and the error when the attempt failed."""

    status: int | None
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer like any other non-2xx: the signed body never goes to a URL the
    # administrator did not enter (another host, or plain http).
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def _excerpt(stream: Any) -> str:
    try:
        data: bytes = stream.read(EXCERPT_BYTES)
    except (OSError, http.client.HTTPException):
        return ""
    return data.decode("utf-8", "replace")


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to ``url``. Never raises for what the network or the receiver does: every
    outcome is an ``Answer``."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  (http(s) only, validated on the subscription)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Answer(response.status, _excerpt(response), "")
    except urllib.error.HTTPError as exc:
        excerpt = _excerpt(exc)
        exc.close()
        reason = "redirect not followed" if 300 <= exc.code < 400 else f"HTTP {exc.code}"
        return Answer(exc.code, excerpt, reason)
    except urllib.error.URLError as exc:
        return Answer(None, "", f"{type(exc.reason).__name__}: {exc.reason}"[:2000])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # a time-out while reading, a connection reset, a malformed answer
        return Answer(None, "", f"{type(exc).__name__}: {exc}"[:2000])
