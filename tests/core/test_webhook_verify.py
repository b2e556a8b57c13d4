"""The reference verifier: a signed delivery verifies; a tampered body, an old (or far future)
timestamp, a wrong secret, a missing or malformed header are refused with their codes."""

from __future__ import annotations

import pytest

from core.webhooks.verify import DEFAULT_WINDOW_SECONDS, WebhookSignatureError, sign, verify

SECRET = "s3cret-of-the-subscription"
BODY = b'{"data":{"to_status":"approved"},"event":"application.status_changed","id":"1"}'
NOW = 1_800_000_000


def _refusal(**overrides: object) -> str:
    values: dict[str, object] = {
        "secret": SECRET,
        "timestamp": str(NOW),
        "body": BODY,
        "signature": sign(SECRET, NOW, BODY),
        "now": NOW,
    }
    values.update(overrides)
    with pytest.raises(WebhookSignatureError) as refused:
        verify(**values)  # type: ignore[arg-type]
    return refused.value.code


def test_a_signed_delivery_verifies_within_the_window():
    signature = sign(SECRET, NOW, BODY)
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify(SECRET, str(NOW), BODY, signature, now=NOW + DEFAULT_WINDOW_SECONDS) == NOW
    assert verify(SECRET, str(NOW), BODY, signature, now=NOW - DEFAULT_WINDOW_SECONDS) == NOW


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_tampered_body_is_refused():
    assert _refusal(body=BODY.replace(b"approved", b"refused")) == "signature_mismatch"


def test_a_wrong_secret_is_refused():
    assert _refusal(secret="another-secret") == "signature_mismatch"


def test_an_old_timestamp_is_refused_even_with_its_own_valid_signature():
    old = NOW - DEFAULT_WINDOW_SECONDS - 1
    assert _refusal(timestamp=str(old), signature=sign(SECRET, old, BODY)) == "timestamp_outside_window"


def test_a_timestamp_far_in_the_future_is_refused():
    later = NOW + DEFAULT_WINDOW_SECONDS + 1
    assert _refusal(timestamp=str(later), signature=sign(SECRET, later, BODY)) == "timestamp_outside_window"


def test_a_signature_made_for_another_timestamp_is_refused():
    assert _refusal(timestamp=str(NOW - 10)) == "signature_mismatch"


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "1.5", "١٢٣", "9" * 40])
def test_a_malformed_timestamp_is_refused(timestamp):
    assert _refusal(timestamp=timestamp) == "timestamp_invalid"


@pytest.mark.parametrize("signature", ["", "sha256=abc", "v0=" + "0" * 64])
def test_a_missing_signature_is_refused(signature):
    assert _refusal(signature=signature) == "signature_missing"


def test_one_matching_value_among_several_is_enough():
    header = "v1=" + "0" * 64 + ", " + sign(SECRET, NOW, BODY) + " v1=garbage-é"
    assert verify(SECRET, str(NOW), BODY, header, now=NOW) == NOW


def test_a_narrower_window_is_the_receivers_choice():
    assert _refusal(now=NOW + 61, window=60) == "timestamp_outside_window"
