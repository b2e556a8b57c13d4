"""What every screen's forms share: one way to show a domain error on a form (``form_error``), the date
input, the bounds of a money field, the as-of form."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError


class DateInput(forms.DateInput):
    input_type = "date"


class AsOfForm(forms.Form):
    as_of = forms.DateField(label=_("Grade as of"), required=False, widget=DateInput)


MONEY = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0.01")}


def form_error(form: forms.Form, exc: DomainError, fields: Mapping[str, str] | None = None) -> None:
    """Put ``exc`` on ``form``: on the field ``fields`` names for its code, else as a form-wide
    error. The code travels with the message, so a test (or a client) can tell errors apart."""
    field_name = (fields or {}).get(exc.code)
    if field_name is not None and field_name not in form.fields:
        field_name = None
    form.add_error(field_name, forms.ValidationError(exc.message, code=exc.code))
