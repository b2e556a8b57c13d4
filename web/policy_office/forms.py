"""The policy office's forms: approve, refuse, a disbursement."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from web.forms import MONEY


class DateInput(forms.DateInput):
    input_type = "date"


class ApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount granted (yuan)"), **MONEY)  # type: ignore[arg-type]
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons for the refusal"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The enterprise sees these reasons."),
    )


class DisbursementForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount paid (yuan)"), **MONEY)  # type: ignore[arg-type]
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput)
    reference = forms.CharField(label=_("Payment reference"), max_length=100)

    def clean_paid_on(self) -> Any:
        day = self.cleaned_data["paid_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be dated in the future."), code="paid_in_future")
        return day
