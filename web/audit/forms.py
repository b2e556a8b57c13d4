"""The auditor's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from credit.policies.models import DecisionPurpose

RESULTS = [("", _("Any result")), ("eligible", _("Eligible")), ("ineligible", _("Not eligible"))]


class DecisionFilterForm(forms.Form):
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("Any purpose")), *DecisionPurpose.choices], required=False
    )
    result = forms.ChoiceField(label=pgettext_lazy("eligibility decision", "Result"), choices=RESULTS, required=False)

    def clean_uscc(self) -> str:
        return (self.cleaned_data.get("uscc") or "").strip().upper()
