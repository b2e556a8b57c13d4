"""Administrator screens for the policy catalogue, its versions and the (read-only) decisions,
applications, grants and projects. Every change goes through ``credit.policies.services``: a draft
is edited and published by the services, a published version is read-only, decisions are never
changed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_forms import ModelAdmin, ReadOnlyModelAdmin, TabularInline, admin_actor
from core.exceptions import DomainError
from core.forms import form_error
from core.models import User
from credit import permissions
from credit.policies import models as policy_models
from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import EligibilityDecision, Policy, PolicyVersion, PolicyVersionStatus


def _problems(problems: list[policies.Problem]) -> list[str]:
    return [f"{code} {params}" if params else code for code, params in problems]


class ReadOnlyAdmin(ReadOnlyModelAdmin):
    """Written by services only; shown to whoever has the view permission."""


class PolicyVersionInline(TabularInline):
    model = PolicyVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("number", "status", "note", "published_at", "superseded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    """Validation asks the service whether it would accept the data (``policy_create_check`` /
    ``policy_update_check``, which write nothing), so that a refusal — a code the catalogue does not
    accept, a validity that ends before it starts — is a form error; ``save_model`` then calls the
    service itself."""

    class Meta:
        model = Policy
        fields = ["code", "name", "name_en", "kind", "legal_basis", "description", "valid_from", "valid_until"]

    def service_arguments(self) -> dict[str, Any]:
        """What the service is called with: every field for a new policy; for an existing one the
        changed fields but the code (it names the policy in stored decisions) and the kind (it gives
        the benefits their meaning), both read-only once the policy exists."""
        data = self.cleaned_data
        if self.instance._state.adding:
            return {
                "code": data["code"],
                "name": data["name"],
                "name_en": data.get("name_en", ""),
                "kind": data["kind"],
                "legal_basis": data["legal_basis"],
                "description": data.get("description", ""),
                "valid_from": data["valid_from"],
                "valid_until": data.get("valid_until"),
            }
        return {name: data[name] for name in self.changed_data if name in data and name not in ("code", "kind")}

    request_user: User | None = None  # set by PolicyAdmin.get_form

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        adding = self.instance._state.adding
        actor = self.request_user
        try:
            if adding:
                policy_services.policy_create_check(actor=actor, **self.service_arguments())
            elif changes := self.service_arguments():
                policy = Policy.objects.get(pk=self.instance.pk)
                policy_services.policy_update_check(actor=actor, policy=policy, **changes)
        except DomainError as exc:
            form_error(self, exc)
        return data


@admin.register(Policy)
class PolicyAdmin(ModelAdmin):
    """The catalogue: editable by administrators; a new policy gets an empty draft version 1."""

    form = PolicyForm
    list_display = ("code", "name", "kind", "valid_from", "valid_until", "published_version")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en")

    def get_inlines(self, request, obj):  # type: ignore[no-untyped-def]
        return [PolicyVersionInline] if obj else []

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code names the policy in stored decisions; the kind decides what the benefits mean.
        return ("code", "kind", "created_at", "updated_at") if obj else ()

    @admin.display(description=_("Version in force"))
    def published_version(self, obj: Policy) -> str:
        version = policy_selectors.policy_version_published(policy=obj)
        return f"v{version.number}" if version else "—"

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user  # type: ignore[attr-defined]
        return form

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # The form checked the same arguments with the service's own check; a refusal now (another
        # administrator took the code a moment ago) is a 403 with the reason, never a half-save.
        arguments = form.service_arguments()
        try:
            if not change:
                obj.pk = policy_services.policy_create(actor=admin_actor(request), **arguments).pk
            elif arguments:
                policy = Policy.objects.get(pk=obj.pk)
                policy_services.policy_update(actor=admin_actor(request), policy=policy, **arguments)
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class PolicyVersionForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    class Meta:
        model = PolicyVersion
        fields = ["conditions", "benefits", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = policies.conditions_validate(data.get("conditions"))
        if problems:
            self.add_error("conditions", _problems(problems))
        if "benefits" not in self.errors and data.get("benefits") is None:
            data["benefits"] = {}  # left empty: not filled in yet (the column's default, never NULL)
        benefits = data.get("benefits")
        # An empty object is a draft not filled in yet; any other value (0, [], "") is checked.
        if benefits is not None and benefits != {} and self.instance.pk:
            problems = policies.benefits_validate(self.instance.policy.kind, benefits)
            if problems:
                self.add_error("benefits", _problems(problems))
        return data


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ModelAdmin):
    """Drafts are edited here; a published or superseded version is read-only. Publishing and
    "new draft from" are actions that call the services."""

    form = PolicyVersionForm
    list_display = ("policy", "number", "status", "note", "published_at", "superseded_at")
    list_filter = ("status", "policy__kind")
    list_select_related = ("policy",)
    search_fields = ("policy__code", "policy__name")
    actions = ["publish_selected", "new_draft_from_selected"]
    _readonly = (
        "policy",
        "number",
        "status",
        "conditions",
        "benefits",
        "note",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "superseded_at",
        "content_digest",
    )

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._readonly

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.status == PolicyVersionStatus.DRAFT:
            return tuple(f for f in self._readonly if f not in ("conditions", "benefits", "note"))
        return self._readonly

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # drafts come from a new policy or "new draft from"

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.status != PolicyVersionStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(permissions.PUBLISH_POLICY)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        try:
            policy_services.policy_version_draft_update(
                actor=admin_actor(request),
                version=obj,
                conditions=form.cleaned_data["conditions"],
                benefits=form.cleaned_data["benefits"],
                note=form.cleaned_data.get("note", ""),
            )
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc

    @admin.action(description=_("Publish the selected drafts"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset.select_related("policy"):
            try:
                policy_services.policy_version_publish(actor=admin_actor(request), version=version)
            except DomainError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(version)s published.") % {"version": version}, messages.SUCCESS)

    @admin.action(description=_("New draft from the selected version"), permissions=["draft"])
    def new_draft_from_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset.select_related("policy"):
            try:
                draft = policy_services.policy_version_draft_create(
                    actor=admin_actor(request),
                    policy=version.policy,
                    from_version=version,
                )
            except DomainError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("Draft %(version)s created.") % {"version": draft}, messages.SUCCESS)

    def has_draft_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credit.add_policyversion")


@admin.register(EligibilityDecision)
class EligibilityDecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "enterprise", "purpose", "rule_code", "rule_version", "grade", "score", "eligible", "as_of")
    list_filter = ("purpose", "eligible", "grade")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__uscc", "enterprise__name", "rule_code", "source_id")
    fields = (
        "enterprise",
        "purpose",
        "policy_version",
        "rule_code",
        "rule_version",
        "source_type",
        "source_id",
        "as_of",
        "grade",
        "score",
        "score_rule_version",
        "eligible",
        "reason_texts",
        "hint_texts",
        "deposit_tier",
        "deposit_rate",
        "deposit_amount",
        "outcome",
        "rule_snapshot",
        "known_through_seq",
        "facts",
        "context",
        "input_digest",
        "actor",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("Reasons"))
    def reason_texts(self, obj: EligibilityDecision) -> str:
        return format_html_join("\n", "<p>{}</p>", ((t,) for t in policy_selectors.decision_reason_texts(obj)))

    @admin.display(description=_("What would change the answer"))
    def hint_texts(self, obj: EligibilityDecision) -> str:
        return format_html_join("\n", "<p>{}</p>", ((t,) for t in policy_selectors.decision_hint_texts(obj)))


@admin.register(policy_models.PolicyApplication)
class PolicyApplicationAdmin(ReadOnlyAdmin):
    list_display = ("id", "enterprise", "policy", "status", "requested_amount", "submitted_at", "decided_at")
    list_filter = ("status", "policy")
    list_select_related = ("enterprise", "policy")
    search_fields = ("enterprise__uscc", "enterprise__name")


class DisbursementInline(TabularInline):
    model = policy_models.Disbursement
    extra = 0
    can_delete = False
    fields = ("number", "amount", "paid_on", "reference", "recorded_by", "recorded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(policy_models.PolicyGrant)
class PolicyGrantAdmin(ReadOnlyAdmin):
    list_display = ("id", "enterprise", "policy_version", "amount", "disbursed_total", "term_months", "granted_at")
    list_select_related = ("enterprise", "policy_version__policy")
    search_fields = ("enterprise__uscc", "enterprise__name")
    inlines = [DisbursementInline]


@admin.register(policy_models.ConstructionProject)
class ConstructionProjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "enterprise", "contract_amount", "wage_deposit_base", "created_at")
    list_select_related = ("enterprise",)
    search_fields = ("name", "reference", "enterprise__uscc", "enterprise__name")
