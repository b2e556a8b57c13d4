"""Registering an enterprise and claiming membership of one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import domain_validation_error
from core.models import User
from core.uploads import CheckedFileField
from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.models import Membership


class DateInput(forms.DateInput):
    input_type = "date"


class EnterpriseClaimForm(forms.Form):
    """Which enterprise, and in what capacity, the user wants to act for."""

    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("18 characters, as printed on the business licence. Spaces and lower case are fine."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    enterprise_name = forms.CharField(label=_("Enterprise name"), max_length=200)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100)
    role = forms.ChoiceField(label=_("You act as"), choices=Membership.Role.choices, widget=forms.RadioSelect)
    authorisation_document = CheckedFileField(
        label=_("Letter of authorisation"),
        required=False,
        max_bytes_setting="AUTHORISATION_DOCUMENT_MAX_BYTES",
        code_prefix="document_",
        help_text=_("Required for an authorised agent: PDF, PNG or JPEG, signed and stamped by the enterprise."),
    )
    valid_from = forms.DateField(label=_("Authorised from"), required=False, widget=DateInput)
    valid_until = forms.DateField(label=_("Authorised until"), required=False, widget=DateInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("authorisation_document", "valid_from", "valid_until"):
            self.fields[name].required_for_agent = True  # type: ignore[attr-defined]  # shown as such, not as optional

    def clean_uscc(self) -> str:
        try:
            return uscc_validate(self.cleaned_data["uscc"])
        except InvalidUSCCError as exc:
            raise domain_validation_error(exc) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("role") == Membership.Role.AGENT:
            if not cleaned.get("authorisation_document"):
                self.add_error(
                    "authorisation_document",
                    forms.ValidationError(
                        _("An authorised agent must upload the letter of authorisation."), code="document_required"
                    ),
                )
            start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
            if start is None:
                self.add_error(
                    "valid_from",
                    forms.ValidationError(_("Enter the first day of the authorisation."), code="validity_required"),
                )
            if end is None:
                self.add_error(
                    "valid_until",
                    forms.ValidationError(_("Enter the last day of the authorisation."), code="validity_required"),
                )
            if start and end and end < start:
                self.add_error(
                    "valid_until",
                    forms.ValidationError(
                        _("The authorisation cannot end before it starts."), code="validity_reversed"
                    ),
                )
            elif end and end < timezone.localdate():
                self.add_error(
                    "valid_until",
                    forms.ValidationError(_("This authorisation has already expired."), code="validity_expired"),
                )
        return cleaned


class EnterpriseRegistrationForm(EnterpriseClaimForm):
    """A new enterprise account together with its first enterprise claim."""

    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("Letters, digits and @ . + - _ only."),
        error_messages={"invalid": _("Use only letters, digits and @ . + - _ in the user name.")},
    )
    display_name = forms.CharField(label=_("Full name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.RegexField(
        label=_("Mobile phone"),
        regex=r"^1[3-9]\d{9}$",
        error_messages={"invalid": _("Enter an 11-digit mainland mobile number.")},
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    field_order = [
        "username",
        "display_name",
        "email",
        "phone",
        "password1",
        "password2",
        "uscc",
        "enterprise_name",
        "legal_representative",
        "role",
        "authorisation_document",
        "valid_from",
        "valid_until",
    ]

    ACCOUNT_FIELDS = ("username", "display_name", "email", "phone", "password1", "password2")

    @property
    def account_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ACCOUNT_FIELDS]

    @property
    def enterprise_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.ACCOUNT_FIELDS]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is already taken."), code="username_taken")
        return str(username)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", forms.ValidationError(_("The two passwords differ."), code="password_mismatch"))
        elif p1:
            candidate = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                display_name=cleaned.get("display_name", ""),
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
