"""Forms of the preferential-policy screens: the enterprise's application and construction project,
the policy office's review and disbursements, the auditor's decision filter.

The forms refuse what is plainly wrong (a missing amount, a term above the policy's maximum) so
that the user sees it next to the field; the services check everything again and their errors are
shown on the form too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from credit import policies
from credit.models import Enterprise
from credit.policy_models import DecisionPurpose, PolicyKind, PolicyVersion

MONEY = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0.01")}


class DateInput(forms.DateInput):
    input_type = "date"


def _enterprise_field(enterprises: Sequence[Enterprise]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("Enterprise"), choices=[(e.pk, f"{e.name} ({e.uscc})") for e in enterprises], coerce=int
    )


class PolicyApplyForm(forms.Form):
    """An application for a loan guarantee or an interest subsidy (``version``: the published
    version it is filed under; its caps bound the amount and the term)."""

    enterprise = forms.TypedChoiceField(label=_("Enterprise"), coerce=int)
    requested_amount = forms.DecimalField(**MONEY)  # type: ignore[arg-type]
    requested_term_months = forms.IntegerField(min_value=1, max_value=600)
    statement = forms.CharField(
        label=_("Purpose of the funds"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the loan finances, and how the enterprise will repay it."),
    )

    def __init__(self, *args: Any, enterprises: Sequence[Enterprise], version: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["enterprise"] = _enterprise_field(enterprises)
        benefits = version.benefits or {}
        amount, term = self.fields["requested_amount"], self.fields["requested_term_months"]
        if version.policy.kind == PolicyKind.LOAN_GUARANTEE:
            amount.label = _("Loan amount to be guaranteed (yuan)")
            self.cap = policies.decimal_or_none(benefits.get("guarantee_cap"))
        else:
            amount.label = _("Interest subsidy requested (yuan)")
            self.cap = policies.decimal_or_none(benefits.get("max_amount"))
        term.label = _("Loan term (months)")
        self.max_term = benefits.get("max_term_months") if isinstance(benefits.get("max_term_months"), int) else None
        if self.cap is not None:
            amount.help_text = _("At most %(cap)s yuan.") % {"cap": f"{self.cap:,}"}
        if self.max_term is not None:
            term.help_text = _("At most %(months)s months.") % {"months": self.max_term}

    def clean_requested_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["requested_amount"]
        if self.cap is not None and amount > self.cap:
            raise forms.ValidationError(
                _("The policy's cap is %(cap)s yuan.") % {"cap": f"{self.cap:,}"}, code="amount_over_cap"
            )
        return amount

    def clean_requested_term_months(self) -> int:
        term: int = self.cleaned_data["requested_term_months"]
        if self.max_term is not None and term > self.max_term:
            raise forms.ValidationError(
                _("The policy's maximum is %(months)s months.") % {"months": self.max_term}, code="term_over_max"
            )
        return term


class ProjectForm(forms.Form):
    """A construction project, for the §35 wage-deposit decision."""

    enterprise = forms.TypedChoiceField(label=_("Enterprise"), coerce=int)
    name = forms.CharField(label=_("Project name"), max_length=200)
    reference = forms.CharField(
        label=_("Construction permit number"),
        max_length=100,
        required=False,
        help_text=_("Or another reference of the project."),
    )
    contract_amount = forms.DecimalField(label=_("Contract amount (yuan)"), **MONEY)  # type: ignore[arg-type]
    wage_deposit_base = forms.DecimalField(
        label=_("Wage-deposit base (yuan)"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_("The amount the wage deposit is a percentage of, as the contract states it."),
    )

    def __init__(self, *args: Any, enterprises: Sequence[Enterprise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"] = _enterprise_field(enterprises)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contract, base = data.get("contract_amount"), data.get("wage_deposit_base")
        if contract is not None and base is not None and base > contract:
            self.add_error(
                "wage_deposit_base",
                forms.ValidationError(_("The base cannot exceed the contract amount."), code="base_invalid"),
            )
        return data


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


RESULTS = [("", _("Any result")), ("eligible", _("Eligible")), ("ineligible", _("Not eligible"))]


class DecisionFilterForm(forms.Form):
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", _("Any purpose")), *DecisionPurpose.choices], required=False
    )
    result = forms.ChoiceField(label=pgettext_lazy("eligibility decision", "Result"), choices=RESULTS, required=False)

    def clean_uscc(self) -> str:
        return (self.cleaned_data.get("uscc") or "").strip().upper()
