"""What every screen's forms share: the date input, the bounds of a money field, the as-of form.
Domain errors reach forms through ``core.forms.form_error``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    input_type = "date"


class AsOfForm(forms.Form):
    as_of = forms.DateField(label=_("Grade as of"), required=False, widget=DateInput)


MONEY = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0.01")}
