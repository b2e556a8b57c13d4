"""Canonical form and hash of a ledger entry. Pure functions, no ORM.

Canonical form version 1 is the UTF-8 encoding of a JSON object with sorted keys, no whitespace,
no ASCII escaping, holding exactly the fields listed in ``CANONICAL_FIELDS_V1``. Times are UTC in
ISO 8601 with microseconds. People are referenced by their user id, never by name. The hash is
``H(canonical form)`` where the canonical form contains ``prev``, the previous entry's hash, so each
entry commits to the whole chain before it. A change to this list requires version 2: old rows
keep verifying with the version they name.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from core.dates import utc_text

GENESIS_HASH = "0" * 64
CURRENT_CANONICAL_VERSION = 1
ALGORITHMS = ("sha256", "sm3")

CANONICAL_FIELDS_V1 = (
    "seq",
    "enterprise_uscc",
    "kind_code",
    "kind_version",
    "points",
    "occurred_at",
    "recorded_at",
    "deciding_authority",
    "document_number",
    "legal_basis",
    "source_type",
    "source_id",
    "reason",
    "recorded_by",
    "approved_by",
    "reverses",
    "hash_algorithm",
    "prev_hash",
)


def canonical_bytes_reference(fields: dict[str, Any], *, version: int = CURRENT_CANONICAL_VERSION) -> bytes:
    """The definition of the canonical form (``json.dumps``); ``canonical_bytes`` must equal it."""
    if version != 1:
        raise ValueError(f"unknown canonical form version {version}")
    document: dict[str, Any] = {"v": 1}
    for name in CANONICAL_FIELDS_V1:
        value = fields[name]
        if isinstance(value, datetime.datetime):
            value = utc_text(value)
        document[name] = value
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# One encoder for every call: ``json.dumps`` builds a new one each time, which costs more than the
# encoding itself when verification runs a million times. Same options, so the same bytes.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_bytes(fields: dict[str, Any], *, version: int = CURRENT_CANONICAL_VERSION) -> bytes:
    """The canonical form of an entry given as a mapping with the ``CANONICAL_FIELDS_V1`` keys
    (byte for byte ``canonical_bytes_reference``; a property test holds them equal)."""
    if version != 1:
        raise ValueError(f"unknown canonical form version {version}")
    document: dict[str, Any] = {"v": 1}
    for name in CANONICAL_FIELDS_V1:
        value = fields[name]
        document[name] = utc_text(value) if isinstance(value, datetime.datetime) else value
    return _ENCODER.encode(document).encode("utf-8")


_ENCODER_PRESORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# (key, position in a row of CANONICAL_FIELDS_V1 values, or None for "v"), in sorted key order: a
# dict built in this order encodes like sort_keys=True without sorting a million times.
_ROW_LAYOUT = tuple(
    (key, None if key == "v" else CANONICAL_FIELDS_V1.index(key)) for key in sorted((*CANONICAL_FIELDS_V1, "v"))
)


def entry_hash_of_row(row: Sequence[Any], *, version: int = CURRENT_CANONICAL_VERSION) -> str:
    """The hash of an entry given as values in ``CANONICAL_FIELDS_V1`` order, times already in their
    canonical text form (verification's fast path on PostgreSQL)."""
    if version != 1 or len(row) != len(CANONICAL_FIELDS_V1):
        raise ValueError(f"unknown canonical form version {version} or malformed row")
    document = {key: 1 if index is None else row[index] for key, index in _ROW_LAYOUT}
    return digest(_ENCODER_PRESORTED.encode(document).encode("utf-8"), str(document["hash_algorithm"]))


def digest(data: bytes, algorithm: str) -> str:
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, data).hexdigest()


def entry_hash(fields: dict[str, Any], *, version: int = CURRENT_CANONICAL_VERSION) -> str:
    return digest(canonical_bytes(fields, version=version), fields["hash_algorithm"])
