"""The credit office's forms: a manual entry, a four-eyes decision, an import, an objection or repair decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import domain_validation_error
from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.ledger.models import CreditEntryKind, KindEffect
from web.forms import DateInput


class ManualEntryForm(forms.Form):
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=40)
    kind = forms.ModelChoiceField(label=_("Kind"), queryset=CreditEntryKind.objects.none())
    points = forms.IntegerField(
        label=_("Points"), min_value=-100, max_value=100, help_text=_("Leave empty for the kind's default points.")
    )
    occurred_on = forms.DateField(label=_("Date of the decision or fact"), widget=DateInput)
    deciding_authority = forms.CharField(label=_("Deciding authority"), max_length=200)
    document_number = forms.CharField(label=_("Document number (文书号)"), max_length=100, required=False)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)
    reverses = forms.IntegerField(
        label=_("Ends the effect of entry no."),
        required=False,
        min_value=1,
        help_text=_("Only for a repair or reversal: the sequence number of the entry it ends."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    justification = forms.CharField(
        label=_("Justification for the manual entry"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("Why this entry is recorded by hand. A colleague must approve it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = CreditEntryKind.objects.filter(is_current=True).order_by("code")
        self.fields["points"].required = False
        self.fields["kind"].label_from_instance = lambda k: f"{k.label} ({k.default_points:+d})"  # type: ignore[attr-defined]

    def clean_uscc(self) -> str:
        try:
            return uscc_validate(self.cleaned_data["uscc"])
        except InvalidUSCCError as exc:
            raise domain_validation_error(exc) from None

    def clean_occurred_on(self) -> Any:
        day = self.cleaned_data["occurred_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot lie in the future."), code="occurred_in_future")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind is not None and data.get("points") is None:
            data["points"] = kind.default_points
        if kind is not None and kind.effect != KindEffect.SCORE and not data.get("reverses"):
            self.add_error("reverses", forms.ValidationError(_("Name the entry to end."), code="reverses_required"))
        return data


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    authority = forms.CharField(
        label=_("Supplying authority"),
        max_length=200,
        help_text=_("E.g. 沈阳市中级人民法院, 国家税务总局沈阳市税务局."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 with a header row: uscc, kind, occurred_on, document_number, legal_basis, reason."),
    )


class RequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("grant", _("Grant")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
