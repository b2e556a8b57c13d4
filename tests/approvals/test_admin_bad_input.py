"""Bad input on the admin forms: every malformed value is a form error and writes nothing, never a 500.

A superuser administrator POSTs malformed variants (text where a number goes, a 23-digit number, 0,
-1, empty, a very long string, a NUL byte; for JSON fields also valid JSON holding ``\\u0000``, which
PostgreSQL's jsonb refuses) into every field of the add form of every ModelAdmin of
the site, and into every editable field of the change form of one object of each, inline forms
included. A form redisplayed with errors must not have written a row (no INSERT, UPDATE or DELETE
ran during the request; the session and the login throttle's tables aside).

The test client re-raises a view's exception; the sweep catches it to list every 500 at once.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.calendar import services as calendar_services
from approvals.catalogue import services as catalogue
from approvals.models import ApprovalItem, ApprovalItemVersion, CalendarYear, Campaign, InspectorConflict
from approvals.organisation.roles import StaffRole
from approvals.supervision import campaigns as campaign_services
from core.admin_forms import SafeInputMixin, key_is_valid
from core.webhooks.models import WebhookSubscription
from credit.policies.models import PolicyVersion
from tests import factories
from tests.credit.test_policy_services import make_policy
from tests.workflows.conftest import make_item

pytestmark = pytest.mark.django_db

VARIANTS = {
    "text": "abc",
    "digits_23": "12345678901234567890123",
    "zero": "0",
    "minus_one": "-1",
    "empty": "",
    "very_long": "9" * 5_000,  # digits: above Python's 4300-digit limit of int(str)
    "nul": "12\x0034",
}
# Written by every request whatever the form says (the session, the login throttle of django-axes).
BOOKKEEPING_TABLES = ("django_session", "axes_")
_unique = itertools.count(1)


def _administrator():  # type: ignore[no-untyped-def]
    return factories.staff_with_role(StaffRole.ADMINISTRATOR, is_superuser=True, is_staff=True)


# --- turning a rendered admin form back into the POST a browser would send ------------------------


def _value_for(field: forms.Field) -> Any:
    """A plausible valid value for a required field the test has no override for."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return []
    if isinstance(field, forms.ModelChoiceField):
        first = field.queryset.first()
        return "" if first is None else str(first.pk)
    if isinstance(field, forms.ChoiceField):
        return next((str(value) for value, _label in field.choices if value not in ("", None)), "")
    if isinstance(field, forms.SplitDateTimeField):
        return ["2030-01-02", "09:00:00"]
    if isinstance(field, forms.DateField):
        return "2030-01-02"
    if isinstance(field, (forms.IntegerField, forms.DecimalField)):
        return "1"
    if isinstance(field, forms.JSONField):
        return "[]"
    if isinstance(field, forms.BooleanField):
        return None
    return f"v{next(_unique)}"


def _form_data(form: forms.BaseForm, *, fill_required: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        if isinstance(field, forms.ModelMultipleChoiceField):
            value = [str(getattr(v, "pk", v)) for v in (value or [])]
        elif isinstance(field, forms.ModelChoiceField):
            value = "" if value is None else str(getattr(value, "pk", value))
        elif isinstance(field.widget, forms.MultiWidget):
            value = field.widget.decompress(value) if value and not isinstance(value, list) else value
        if fill_required and field.required and value in (None, "", [], [None, None]):
            value = _value_for(field)
        _put(data, bound, field, value)
    return data


def _put(data: dict[str, Any], bound: forms.BoundField, field: forms.Field, value: Any) -> None:
    if isinstance(field.widget, forms.MultiWidget):
        parts = value if isinstance(value, (list, tuple)) else [value] * len(field.widget.widgets)
        for index, part in enumerate(parts):
            data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
    elif isinstance(field, forms.BooleanField):
        if value:
            data[bound.html_name] = "on"
        else:
            data.pop(bound.html_name, None)
    elif value is None:
        data[bound.html_name] = ""
    else:
        data[bound.html_name] = value


def _page_data(response, *, fill_required: bool, extra_inline_form: bool) -> tuple[dict[str, Any], list]:  # type: ignore[no-untyped-def]
    """The POST of the page as rendered, and the (bound field, field) pairs a variant may go into."""
    form = response.context["adminform"].form
    data = _form_data(form, fill_required=fill_required)
    targets = [(form[name], field) for name, field in form.fields.items()]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms_ = list(formset.initial_forms)
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(len(forms_))
        data[f"{formset.prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{formset.prefix}-MAX_NUM_FORMS"] = "1000"
        for sub in forms_:
            data.update(_form_data(sub, fill_required=False))
        # One extra form (the add form's "add another" row) carries the variants of the inline.
        if extra_inline_form and inline.has_add_permission:
            sub = formset._construct_form(len(forms_))
            data.update(_form_data(sub, fill_required=True))
            targets += [(sub[name], field) for name, field in sub.fields.items() if name not in ("id", "DELETE")]
            forms_.append(sub)
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(len(forms_))
    return data, targets


def _editable_admins() -> Iterator[tuple[type, admin.ModelAdmin]]:
    yield from sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"][:120]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and not any(table in query["sql"] for table in BOOKKEEPING_TABLES)
    ]


def _post(client, url: str, data: dict[str, Any]) -> tuple[Any, list[str]]:  # type: ignore[no-untyped-def]
    """POST in a savepoint rolled back afterwards: a variant that happens to be valid (a name
    "0") must not change what the next variant meets (a taken code)."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, data)
        transaction.set_rollback(True)
    return response, _writes(queries)


def _has_errors(response) -> bool:  # type: ignore[no-untyped-def]
    context = response.context
    if context is None or "adminform" not in context:
        return False
    if context["adminform"].form.errors:
        return True
    return any(inline.formset.total_error_count() for inline in context["inline_admin_formsets"])


def _variants(field: forms.Field) -> dict[str, str]:
    if isinstance(field, forms.BooleanField):
        # A checkbox is "on" for every non-empty value: two variants say all there is to say.
        return {name: VARIANTS[name] for name in ("text", "empty")}
    if isinstance(field, forms.JSONField):
        # Valid JSON holding a NUL: PostgreSQL's jsonb refuses it (a DataError, not a form error).
        return {**VARIANTS, "json_nul": '["\\u0000"]'}
    return VARIANTS


def _sweep(client, url: str, data: dict[str, Any], targets: list, label: str, failures: list[str]) -> None:  # type: ignore[no-untyped-def]
    for bound, field in targets:
        for variant, value in _variants(field).items():
            posted = dict(data)
            if isinstance(field.widget, forms.MultiWidget):
                _put(posted, bound, field, [value] * len(field.widget.widgets))
            elif isinstance(field, forms.ModelMultipleChoiceField):
                posted[bound.html_name] = [value]
            else:
                posted[bound.html_name] = value
            where = f"{label} {bound.html_name}={variant}"
            try:
                response, writes = _post(client, url, posted)
            except Exception as exc:  # noqa: BLE001  (a 500: list them all, then fail)
                failures.append(f"{where}: {type(exc).__name__}: {str(exc)[:160]}")
                continue
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")
            elif response.status_code == 403:
                # The form was shown to this user: a refusal of the input belongs in the form.
                failures.append(f"{where}: 403 instead of a form error")
            elif response.status_code == 200 and writes:
                failures.append(f"{where}: form error but wrote {writes}")
            elif response.status_code == 200 and not _has_errors(response):
                failures.append(f"{where}: 200 without a form error")


# --- a valid POST per add form, so the variants reach the form's clean() and the services ---------


def _valid_overrides(bureau) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    staff = factories.UserFactory(staff=True)
    enterprise = factories.EnterpriseFactory()
    reviewer_department = bureau.co[0]
    return {
        "auth.Group": {"name": "审批组"},
        "core.User": {
            "username": "new-user",
            "kind": "staff",
            "usable_password": "true",
            "password1": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
        "credit.Enterprise": {"uscc": factories.next_uscc(), "name": "新企业有限公司", "legal_representative": "张三"},
        "credit.CreditEntryKind": {
            "code": "new_kind",
            "tier": "minor",
            "default_points": "5",
            "min_window_months": "1",
            "max_window_months": "3",
        },
        "credit.Policy": {"code": "new_policy", "valid_from": "2030-01-01", "valid_until": ""},
        "approvals.Jurisdiction": {"code": "NEW", "parent": ""},
        "approvals.Department": {
            "code": "NEW",
            "kind": "department",
            "jurisdiction": str(bureau.desk.jurisdiction_id),
            "parent": str(bureau.desk.parent_id),
        },
        "approvals.RoleAssignment": {
            "user": str(staff.pk),
            "role": StaffRole.REVIEWER,
            "department": str(reviewer_department.pk),
        },
        "approvals.Delegation": {
            "delegator": str(bureau.reviewers[reviewer_department.pk].pk),
            "delegate": str(staff.pk),
            "department": str(reviewer_department.pk),
            "starts_at_0": "2030-01-02",
            "starts_at_1": "09:00:00",
            "ends_at_0": "2030-01-09",
            "ends_at_1": "09:00:00",
        },
        "approvals.ApprovalItem": {"code": "NEW-ITEM"},
        "approvals.ApprovalItemVersion": {
            "item": str(ApprovalItem.objects.create(code="SWEEP").pk),
            "lead_department": str(bureau.lead.pk),
            "desk_department": str(bureau.desk.pk),
            "statutory_limit_days": "20",
            "promised_limit_days": "10",
            "reform_mode": ApprovalItemVersion.ReformMode.STANDARD,
            "fee": "0",
        },
        "approvals.CalendarDay": {"date": "2027-03-02", "kind": "holiday", "name": "假日", "note": "测试"},
        "approvals.CalendarYear": {"year": "2031"},
        "approvals.InspectorConflict": {"inspector": str(staff.pk), "enterprise": str(enterprise.pk), "reason": "亲属"},
        "core.WebhookSubscription": {
            "name": "一网通办",
            "target_url": "https://portal.example.cn/hooks",
            "event_kinds": ["application.status_changed"],
        },
        "core.SystemAccount": {
            "name": "省公共信用信息平台",
            "authority": "辽宁省公共信用信息中心",
            "authority_kind": "credit_platform",
            "scopes": ["credit:grade"],
        },
        # a system's OAuth2 client: client credentials need no redirect URI
        "oauth2_provider.Application": {
            "name": "省公共信用信息平台",
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
            "redirect_uris": "",
            "algorithm": "",
        },
    }


def test_malformed_values_in_every_add_form_are_form_errors(client, bureau):
    # Given the superuser administrator and a small bureau to choose from
    client.force_login(_administrator())
    overrides = _valid_overrides(bureau)
    failures: list[str] = []
    swept: list[str] = []
    for model, _model_admin in _editable_admins():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        page = client.get(url)
        if page.status_code == 403:  # no add form: written by services only
            continue
        assert page.status_code == 200, url
        data, targets = _page_data(page, fill_required=True, extra_inline_form=True)
        for name, value in overrides.get(model._meta.label, {}).items():
            data[name] = value
        # When each field in turn gets each malformed value
        _sweep(client, url, data, targets, model._meta.label, failures)
        # (and the untouched POST is valid, so the variants did reach clean() and the services)
        valid = {key: value for key, value in data.items() if not key.startswith("materials-")}
        valid.update({"materials-TOTAL_FORMS": "0", "materials-INITIAL_FORMS": "0"})
        response, _writes_ = _post(client, url, valid)
        if response.status_code != 302:
            errors = response.context["adminform"].form.errors if response.context else response.status_code
            failures.append(f"{model._meta.label}: the valid POST failed: {errors}")
        swept.append(model._meta.label)

    # Then every answer was a form error (or a success), none a 500, none wrote on an error
    assert failures == [], "\n".join(failures)
    assert {
        "approvals.InspectorConflict",
        "approvals.CalendarYear",
        "approvals.ApprovalItemVersion",
        "core.WebhookSubscription",
    } <= set(swept)


def _seed(bureau, administrator) -> None:  # type: ignore[no-untyped-def]
    """One object for each change form that can change anything."""
    version = make_item(bureau)
    catalogue.item_version_copy(actor=None, version=version)  # a draft, with its materials
    enterprise = factories.EnterpriseFactory()
    factories.MembershipFactory(enterprise=enterprise)
    InspectorConflict.objects.create(
        inspector=bureau.desk_user, enterprise=enterprise, reason="亲属", recorded_by=administrator
    )
    campaign_services.campaign_create(
        actor=bureau.decider,
        code="SJ-SWEEP",
        name="抽查",
        department=bureau.lead,
        items=[version.item],
        ratios=None,
        inspection_due_on=datetime.date(2030, 6, 1),
    )
    make_policy()
    make_policy("draft_policy", publish=False)
    WebhookSubscription.objects.create(
        name="一网通办", target_url="https://portal.example.cn/hooks", event_kinds=["application.status_changed"]
    )


def test_malformed_values_in_every_change_form_are_form_errors(client, bureau):
    # Given the superuser administrator and one object of each kind
    administrator = _administrator()
    client.force_login(administrator)
    _seed(bureau, administrator)
    failures: list[str] = []
    swept: list[str] = []
    for model, _model_admin in _editable_admins():
        obj = _changeable(model, model._default_manager)
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        page = client.get(url)
        assert page.status_code == 200, url  # the view-only pages too
        if not page.context["has_change_permission"]:
            continue  # a view-only page: Django refuses its POST (403) before any form
        data, targets = _page_data(page, fill_required=False, extra_inline_form=False)
        if not targets:
            continue
        # When each editable field in turn gets each malformed value
        _sweep(client, url, data, targets, f"{model._meta.label}#{obj.pk}", failures)
        swept.append(model._meta.label)

    # Then every answer was a form error (or a success), none a 500, none wrote on an error
    assert failures == [], "\n".join(failures)
    assert {
        "approvals.InspectorConflict",
        "approvals.ApprovalItemVersion",
        "approvals.Campaign",
        "credit.Policy",
        "credit.PolicyVersion",
        "core.WebhookSubscription",
    } <= set(swept)


def _changeable(model, queryset):  # type: ignore[no-untyped-def]
    if model in (ApprovalItemVersion, PolicyVersion, Campaign):
        return queryset.filter(status="draft").first()
    if model is CalendarYear:
        return None  # no change form: years are entered once
    return queryset.order_by("pk").first()


def test_calendar_year_zero_is_a_form_error(client, bureau):
    client.force_login(_administrator())
    years = CalendarYear.objects.count()

    response = client.post(reverse("admin:approvals_calendaryear_add"), {"year": "0"})

    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("year")
    assert CalendarYear.objects.count() == years


def test_inspector_conflict_with_a_non_number_is_a_form_error(client, bureau):
    client.force_login(_administrator())
    enterprise = factories.EnterpriseFactory()

    response = client.post(
        reverse("admin:approvals_inspectorconflict_add"),
        {"inspector": "abc", "enterprise": str(enterprise.pk), "reason": "亲属"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("inspector")
    assert not InspectorConflict.objects.exists()


OUR_APPS = ("core", "credit", "approvals", "workflows")
# credit/admin.py is being rewritten elsewhere; none of its forms has a field the guards change
# today (the sweep above passes), and it moves to core.admin_forms.ModelAdmin with the rewrite.
NOT_YET_GUARDED_MODULES: set[str] = set()


def test_every_admin_of_ours_has_the_bad_input_guards():
    # The sweep covers the forms that exist today; the guards (core/admin_forms.py) cover the next.
    unguarded = [
        type(model_admin).__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in (*OUR_APPS, "auth")
        and not isinstance(model_admin, SafeInputMixin)
        and type(model_admin).__module__ not in NOT_YET_GUARDED_MODULES
    ]
    inlines = [
        inline.__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
        for inline in model_admin.inlines
        if not issubclass(inline, SafeInputMixin)
    ]

    assert unguarded == []
    assert inlines == []


@pytest.mark.parametrize(
    ("value", "valid"),
    [("5", True), ("abc", False), ("99999999999999999999", False), ("9" * 5000, False), ("1\x002", False)],
)
def test_key_is_valid_for_a_big_auto_key(value, valid):
    assert key_is_valid(InspectorConflict._meta.pk, value) is valid


def test_a_relation_key_is_checked_against_the_column_it_points_at():
    inspector = InspectorConflict._meta.get_field("inspector")

    assert key_is_valid(inspector, "7")
    assert not key_is_valid(inspector, "99999999999999999999")


@pytest.mark.parametrize("year", [0, 1999, 2101, 99999])
def test_calendar_year_publish_refuses_a_year_out_of_range(year):
    with pytest.raises(calendar_services.CalendarError) as refused:
        calendar_services.calendar_year_publish(actor=None, year=year, days=[])

    assert refused.value.code == "year_out_of_range"
    assert not CalendarYear.objects.filter(year=year).exists()
