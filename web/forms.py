"""What every screen's forms share: one way to show a domain error on a form."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from core.exceptions import DomainError


def form_error(form: forms.Form, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
    """Put ``exc`` on ``form``: on the field ``fields`` names for its code, else as a form-wide
    error. The code travels with the message, so a test (or a client) can tell errors apart."""
    field_name = (fields or {}).get(exc.code)
    if field_name is not None and field_name not in form.fields:
        field_name = None
    form.add_error(field_name, forms.ValidationError(exc.message, code=exc.code))
