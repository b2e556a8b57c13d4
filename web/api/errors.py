"""The API's one error shape, for every refusal::

    {"code": "application_not_draft", "message": "…", "fields": {"title": ["…"]}}

``code`` is stable: a domain error's own code (``core.exceptions.DomainError``), or one of the
codes below for what DRF refuses before a service runs. ``message`` is translated (the request's
language). ``fields`` is present for field errors only. The HTTP status says the class of refusal:
400 bad input, 401 no credentials, 403 not allowed, 404 not found (also for another tenant's object),
409 conflict (state or in-flight), 422 a domain rule refused, 429 throttled.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


class DomainRefused(exceptions.APIException):
    """A domain error raised by a service, carried to the client with its own code."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, error: DomainError) -> None:
        super().__init__(detail=str(error.message), code=error.code)
        self.error = error


class Conflict(exceptions.APIException):
    """A request that collides with another (in flight, or a state that moved on): 409."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def _flatten(detail: Any) -> Any:
    """DRF's nested ``ErrorDetail`` structure as plain strings."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: every refusal in the one shape."""
    if isinstance(exc, DomainError):
        exc = DomainRefused(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not ours to shape: a programming error stays a 500 with its traceback logged
    if isinstance(exc, DomainRefused):
        response.data = error_body(exc.error.code, str(exc.error.message))
    elif isinstance(exc, exceptions.ValidationError):
        detail: Any = exc.detail
        if isinstance(detail, dict):
            fields = _flatten(detail)
            general = fields.pop("non_field_errors", None)
            message = " ".join(general) if general else _("Check the fields of the request.")
            response.data = error_body("invalid", message, fields or None)
        else:
            messages = _flatten(detail)
            response.data = error_body("invalid", " ".join(messages) if isinstance(messages, list) else messages)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
        if isinstance(detail, dict):
            # raised with a ready body (``{"code": …, "message": …}``)
            response.data = error_body(str(detail.get("code", "error")), str(detail.get("message", "")))
        else:
            # DRF's default codes are stable (``not_authenticated``, ``permission_denied``,
            # ``not_found``, ``throttled`` …); an exception raised with ``code=`` keeps its own
            response.data = error_body(str(getattr(detail, "code", None) or "error"), str(detail))
    return response
