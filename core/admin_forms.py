"""Admin form fields that turn malformed input into a form error instead of a 500.

Django's admin forms leave a few holes that a hand-typed or replayed POST reaches:

- a multiple choice (``filter_horizontal``, the groups' permissions) looks its values up with
  ``pk__in``; Django's integer-overflow guard covers ``=``/``<``/``>`` lookups only, so a 23-digit
  value reaches the driver (OverflowError on SQLite, DataError on PostgreSQL);
- an autocomplete select re-renders the submitted value with ``pk__in`` too, so text or a
  23-digit number in ``autocomplete_fields`` fails while the error page is drawn;
- a JSON field lets ``json.loads`` raise ``ValueError`` (a number of more than 4300 digits) past
  its ``JSONDecodeError`` handler, and PostgreSQL's ``jsonb`` refuses a ``\\u0000`` in a string;
- an integer field has no bound of its own, so a form's ``clean()`` or a service called from it
  may see a number the column cannot hold;
- the change, delete and history pages look the id of the URL up unguarded when the primary key
  is a relation (Django's overflow guard covers integer fields only).

``SafeInputMixin`` closes them for every field the admin builds from a model field. Every
ModelAdmin and inline of ours derives from ``ModelAdmin``, ``TabularInline`` or
``StackedInline`` here (``tests/approvals/test_admin_bad_input.py`` checks it and sweeps them).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.models import User


def admin_actor(request: HttpRequest) -> User:
    """The signed-in user of an admin view (the admin site lets no one else in)."""
    assert isinstance(request.user, User)
    return request.user


def key_is_valid(field: models.Field, value: object) -> bool:
    """Whether ``value`` can be looked up in ``field`` without the database refusing it: it
    converts (``to_python``) and passes the column's range validators, which Django derives from
    the connection for integer fields."""
    while field.remote_field is not None and hasattr(field, "target_field"):
        field = field.target_field  # a key that is itself a relation: the column it points at
    try:
        python = field.to_python(value)
        field.run_validators(python)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _target_field(model_field: models.Field) -> models.Field:
    remote = model_field.remote_field
    name = getattr(remote, "field_name", None) or remote.model._meta.pk.name
    return remote.model._meta.get_field(name)


class _ValidKeysOnly:
    """An autocomplete widget that re-renders only the submitted values its column can hold."""

    field: models.Field

    def optgroups(self, name: str, value: list[Any], attr: Any = None) -> Any:
        target = _target_field(self.field)
        return super().optgroups(name, [v for v in value if key_is_valid(target, v)], attr)  # type: ignore[misc]


class SafeAutocompleteSelect(_ValidKeysOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidKeysOnly, AutocompleteSelectMultiple):
    pass


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> Any:
        model = self.queryset.model
        target = model._meta.get_field(self.to_field_name) if self.to_field_name else model._meta.pk
        if isinstance(value, (list, tuple)):
            for key in value:
                if not isinstance(key, list) and not key_is_valid(target, key):
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": key}
                    )
        return super()._check_values(value)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class SafeJSONField(forms.JSONField):
    default_error_messages = {"nul": _("Null characters are not allowed.")}

    def to_python(self, value: Any) -> Any:
        try:
            converted = super().to_python(value)
        except ValueError:  # not JSONDecodeError: e.g. a number of more than 4300 digits
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None
        if _has_nul(converted):
            # PostgreSQL's jsonb has no \u0000; SQLite would store what PostgreSQL refuses.
            raise ValidationError(self.error_messages["nul"], code="null_characters_not_allowed")
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except ValueError:
            return InvalidJSONInput(data)


class SafeInputMixin:
    """For ModelAdmin and InlineModelAdmin: the form fields above, and integers bounded to the
    column's range (the connection's ``integer_field_range``) before any ``clean()`` runs."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django answers "no such object" for a malformed id because its integer lookups guard
        # their range; a primary key that is a relation (a one-to-one key) is looked up through
        # the related-field lookups, which pass the value to the driver. Refuse it here for all.
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)  # type: ignore[attr-defined]
        if not key_is_valid(field, object_id):
            return None
        return super().get_object(request, object_id, from_field)  # type: ignore[misc]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest | None, **kwargs: Any) -> Any:
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", SafeJSONField)
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(formfield, forms.IntegerField) and isinstance(db_field, models.IntegerField):
            _bound_integer(formfield, db_field)
        return formfield

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))  # type: ignore[attr-defined]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))  # type: ignore[attr-defined]
        kwargs.setdefault("form_class", BoundedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


def _bound_integer(formfield: forms.IntegerField, db_field: models.IntegerField) -> None:
    # The model field's validators carry the column's range; the form field gets the same bound
    # (and the widget its min/max) so that it fails in the form, before clean() and services.
    for validator in db_field.validators:
        if isinstance(validator, MinValueValidator) and (
            formfield.min_value is None or validator.limit_value > formfield.min_value
        ):
            formfield.min_value = validator.limit_value
            formfield.validators.append(MinValueValidator(validator.limit_value))
            formfield.widget.attrs["min"] = validator.limit_value
        elif isinstance(validator, MaxValueValidator) and (
            formfield.max_value is None or validator.limit_value < formfield.max_value
        ):
            formfield.max_value = validator.limit_value
            formfield.validators.append(MaxValueValidator(validator.limit_value))
            formfield.widget.attrs["max"] = validator.limit_value


class ModelAdmin(SafeInputMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


class ReadOnlyModelAdmin(ModelAdmin):
    """Rows written by services only (records, trails, ledgers): shown to whoever has the view
    permission, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class TabularInline(SafeInputMixin, admin.TabularInline):  # type: ignore[type-arg]
    pass


class StackedInline(SafeInputMixin, admin.StackedInline):  # type: ignore[type-arg]
    pass
