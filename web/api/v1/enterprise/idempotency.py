"""``Idempotency-Key`` on a write of the API: the same key and the same request → the first answer,
replayed (header ``Idempotent-Replayed: true``); the same key with another request → 422
``idempotency_key_reused``; the same key while the first request runs → 409
``idempotency_in_flight``. A refused or failed request leaves the key free again: nothing was
written, and the corrected request may use it (``core.api.services.idempotency_*``)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import services as idempotency_services
from web.api.errors import Conflict

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")

PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A key the client chooses for this one request (a UUID is best), 8–200 letters, digits and . _ : -. "
        "A retry with the same key and body gets the first answer again; another body → 422 "
        "`idempotency_key_reused`; while the first is running → 409 `idempotency_in_flight`."
    ),
)


def request_sha256(request: Request) -> str:
    """What makes two requests "the same": method, path and the body as canonical JSON (so that
    whitespace or key order does not count)."""
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except TypeError:
        body = repr(sorted(request.data.items()))
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def idempotent(request: Request, run: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ParseError(_("Send an Idempotency-Key header with this request."), code="idempotency_key_required")
    if not KEY_PATTERN.match(key):
        raise ParseError(_("An Idempotency-Key is 8–200 letters, digits and . _ : -."), code="idempotency_key_invalid")
    try:
        claim = idempotency_services.idempotency_begin(
            actor=request.user,  # type: ignore[arg-type]
            key=key,
            request_sha256=request_sha256(request),
        )
    except idempotency_services.IdempotencyInFlightError as exc:
        raise Conflict(detail={"code": exc.code, "message": str(exc.message)}) from exc
    record = claim.record
    if claim.replay:
        return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})
    try:
        response = run()
    except BaseException:
        idempotency_services.idempotency_release(record=record)
        raise
    if 200 <= response.status_code < 300:
        idempotency_services.idempotency_finish(record=record, status=response.status_code, body=response.data)
    else:
        idempotency_services.idempotency_release(record=record)
    return response
