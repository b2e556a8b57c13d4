"""Signing and verifying a webhook delivery: the one definition both sides share (no Django, no
other import of ours, so a receiver can copy this file as it is).

A delivery is a POST whose body is JSON, with these headers:

- ``X-ReformFlow-Timestamp``: the Unix time (whole seconds) the attempt was signed at;
- ``X-ReformFlow-Signature``: ``v1=<hex>``, the HMAC-SHA256 under the subscription's secret of
  ``<timestamp>.<body>`` (the timestamp's ASCII digits, a full stop, the body's exact bytes);
- ``X-ReformFlow-Event``: the event kind, e.g. ``application.status_changed``;
- ``X-ReformFlow-Delivery``: the delivery's id (a UUID), the same on every attempt and replay.

A receiver verifies the signature over the raw body *before* parsing it, refuses a timestamp more
than ``window`` seconds away from its own clock (default 300: a captured request cannot be replayed
later), and remembers the delivery ids it has processed (a retry after a lost answer, or an
administrator's replay, carries the same id). Each attempt is signed anew, so a retry an hour
later still carries a fresh timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"
DEFAULT_WINDOW_SECONDS = 300


class WebhookSignatureError(ValueError):
    """A delivery that must be refused; ``code`` says why (stable, for logs and tests)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-ReformFlow-Signature`` for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    window: float = DEFAULT_WINDOW_SECONDS,
) -> int:
    """Check a delivery as received: ``timestamp`` and ``signature`` are the header values as
    sent, ``body`` the raw bytes, ``now`` the receiver's Unix time. Returns the timestamp; raises
    ``WebhookSignatureError`` (``timestamp_invalid``, ``timestamp_outside_window``,
    ``signature_missing``, ``signature_mismatch``) for anything to refuse.

    ``signature`` may list several ``v1=`` values separated by commas or spaces; one matching is
    enough (room for a sender that signs with an old and a new secret while it rotates them)."""
    text = (timestamp or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise WebhookSignatureError("timestamp_invalid", "the timestamp is not a Unix time in seconds")
    signed_at = int(text)
    if abs(now - signed_at) > window:
        raise WebhookSignatureError("timestamp_outside_window", "the timestamp is outside the replay window")
    offered = [
        part.strip()[len(SCHEME) + 1 :]
        for part in (signature or "").replace(",", " ").split()
        if part.strip().startswith(f"{SCHEME}=")
    ]
    if not offered:
        raise WebhookSignatureError("signature_missing", f"no {SCHEME}= signature")
    expected = sign(secret, signed_at, body)[len(SCHEME) + 1 :]
    # compare_digest on every value offered: the time taken says nothing about which was close.
    matches = [hmac.compare_digest(expected.encode("ascii"), value.encode("ascii", "replace")) for value in offered]
    if not any(matches):
        raise WebhookSignatureError("signature_mismatch", "the signature does not match the body")
    return signed_at
