"""The enterprise portal's forms: filing an application, answering a supplement notice, withdrawing, commitments, rectification, policy applications, projects, credit requests."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from approvals.models import (
    ApprovalItemVersion,
    SupplementNotice,
)
from core.uploads import CheckedFileField
from credit.models import Enterprise
from credit.policies import rules as policies
from credit.policies.models import PolicyKind, PolicyVersion
from web.forms import MONEY


class CreditRequestForm(forms.Form):
    statement = forms.CharField(label=_("Your statement"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    evidence = forms.CharField(
        label=_("Evidence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("Describe the documents that show the facts (payment receipts, rectification report …)."),
    )
    commitment = forms.CharField(
        label=_("Public credit commitment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        help_text=_("Required for a repair: the commitment is published with the repair."),
    )


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


class CommitmentSignForm(forms.Form):
    signer_name = forms.CharField(
        label=_("Legal representative's name"),
        max_length=100,
        help_text=_("Type the name exactly as registered: this is your signature."),
    )
    confirmed = forms.BooleanField(
        label=_("I have read the notification, the enterprise meets the conditions, and I accept the liability."),
        required=True,
    )
    shown_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RectificationReportForm(forms.Form):
    report = forms.CharField(label=_("What was rectified"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ApplicationForm(forms.Form):
    """The applicant's part of the form (the same for every item in this release)."""

    enterprise = forms.TypedChoiceField(label=_("Applying enterprise"), coerce=int)
    project_name = forms.CharField(label=_("Project or business name"), max_length=200)
    project_address = forms.CharField(label=_("Address"), max_length=300)
    description = forms.CharField(label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_phone = forms.RegexField(
        label=_("Contact phone"),
        regex=r"^[0-9+\-() ]{7,20}$",
        error_messages={"invalid": _("Enter a valid phone number.")},
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    FORM_DATA_FIELDS = ("project_name", "project_address", "description", "contact_name", "contact_phone")

    def __init__(self, *args: Any, enterprises: list[Any], item_version: ApprovalItemVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [(e.pk, f"{e.name} ({e.uscc})") for e in enterprises]
        self.material_fields: list[tuple[Any, str]] = []
        for material in item_version.materials.all():
            name = f"material_{material.pk}"
            help_text = material.description
            self.fields[name] = CheckedFileField(
                label=material.name, required=False, help_text=help_text, max_bytes_setting="MATERIAL_MAX_BYTES"
            )
            self.fields[name].material = material  # type: ignore[attr-defined]
            # Checked at submission (a draft may be saved without it), so say what is needed.
            if material.mandatory and not material.may_be_missing:
                hint = _("required to submit")
            elif material.mandatory:
                hint = _("may be supplied after acceptance (容缺受理)")
            else:
                hint = _("optional")
            self.fields[name].hint = hint  # type: ignore[attr-defined]
            self.material_fields.append((material, name))

    def form_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FORM_DATA_FIELDS}


class SupplementAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, notice: SupplementNotice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One slot per item the notice lists: a catalogue material must be sent; an item outside
        # the catalogue takes a file or an explanation in the answer.
        self.other_slots: list[str] = []
        for index, item in enumerate(notice.items):
            if item.get("material") is not None:
                self.fields[f"material_{int(item['material'])}"] = CheckedFileField(
                    label=item["name"], required=True, max_bytes_setting="MATERIAL_MAX_BYTES"
                )
            else:
                name = f"other_{index}"
                self.other_slots.append(name)
                self.fields[name] = CheckedFileField(
                    label=item["name"],
                    required=False,
                    max_bytes_setting="MATERIAL_MAX_BYTES",
                    help_text=_("Attach it, or explain in your answer why it is not needed."),
                )
        self.order_fields([*(f for f in self.fields if f != "answer"), "answer"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.other_slots and not any(cleaned.get(n) for n in self.other_slots) and not cleaned.get("answer"):
            self.add_error("answer", forms.ValidationError(_("Attach the other items or explain."), code="required"))
        return cleaned

    def uploads(self) -> list[tuple[int | None, Any]]:
        """(material id or None, file) for every slot that carries a file."""
        found: list[tuple[int | None, Any]] = []
        for name, value in self.cleaned_data.items():
            if value and name.startswith("material_"):
                found.append((int(name.removeprefix("material_")), value))
            elif value and name in self.other_slots:
                found.append((None, value))
        return found


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)


def application_field_labels() -> dict[str, Any]:
    """The filing form's label of each stored form-data field, for the facts table of a case."""
    return {name: ApplicationForm.base_fields[name].label for name in ApplicationForm.FORM_DATA_FIELDS}
