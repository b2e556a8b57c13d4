"""One way to show a domain error on a form, for the screens and the admin alike."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from core.exceptions import DomainError


def domain_validation_error(exc: DomainError) -> forms.ValidationError:
    """``exc`` as a validation error; the code travels with the message, so a test (or a client)
    can tell errors apart."""
    return forms.ValidationError(exc.message, code=exc.code)


def form_error(form: forms.BaseForm, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
    """Put ``exc`` on ``form``: on the field ``fields`` names for its code, else as a form-wide
    error."""
    field_name = (fields or {}).get(exc.code)
    if field_name is not None and field_name not in form.fields:
        field_name = None
    form.add_error(field_name, domain_validation_error(exc))
