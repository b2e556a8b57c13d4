"""Administrator screens for enterprises and memberships. Every change goes through a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import admin_forms as safe_admin
from core.admin_forms import admin_actor
from core.exceptions import DomainError
from core.forms import domain_validation_error, form_error
from credit.enterprises import services
from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.models import Enterprise, EnterpriseProfileChange, Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class EnterpriseAddForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "legal_representative"]

    def clean_uscc(self) -> str:
        try:
            return uscc_validate(self.cleaned_data["uscc"])
        except InvalidUSCCError as exc:
            raise domain_validation_error(exc) from None


class ProfileChangeForm(forms.Form):
    name = forms.CharField(label=_("Enterprise name"), max_length=200)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=100)
    effective_on = forms.DateField(label=_("Effective on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Reason"), max_length=300, help_text=_("E.g. the business-registration change notice number.")
    )


class ProfileHistoryInline(safe_admin.TabularInline):
    model = EnterpriseProfileChange
    extra = 0
    can_delete = False
    fields = ("effective_on", "name", "legal_representative", "reason", "recorded_at", "recorded_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(safe_admin.ModelAdmin):
    list_display = ("name", "uscc", "legal_representative", "created_at")
    search_fields = ("name", "uscc", "legal_representative")

    def get_inlines(self, request, obj):  # type: ignore[no-untyped-def]
        return [ProfileHistoryInline] if obj else []

    change_form_template = "admin/credit/enterprise/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = EnterpriseAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Name and legal representative change only through "record a change", which keeps history.
        return ("uscc", "name", "legal_representative", "created_at") if obj else ()

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            return
        try:
            created = services.enterprise_register(
                actor=admin_actor(request), uscc=obj.uscc, name=obj.name, legal_representative=obj.legal_representative
            )
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:pk>/profile-change/",
                self.admin_site.admin_view(self.profile_change_view),
                name="credit_enterprise_profile_change",
            )
        ] + super().get_urls()

    def profile_change_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        enterprise = get_object_or_404(Enterprise, pk=pk)
        if not self.has_change_permission(request, enterprise):
            raise PermissionDenied
        initial = {
            "name": enterprise.name,
            "legal_representative": enterprise.legal_representative,
            "effective_on": timezone.localdate(),
        }
        form = ProfileChangeForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.enterprise_change_profile(
                    actor=admin_actor(request), enterprise=enterprise, **form.cleaned_data
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("The change was recorded."))
                return HttpResponseRedirect(reverse("admin:credit_enterprise_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "enterprise": enterprise,
            "opts": self.model._meta,
            "title": _("Record a change of name or legal representative"),
        }
        return render(request, "admin/credit/enterprise/profile_change.html", context)


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Membership)
class MembershipAdmin(safe_admin.ModelAdmin):
    list_display = ("user", "status", "enterprise", "role", "validity", "requested_at")
    list_filter = ("status", "role")
    search_fields = ("user__username", "user__display_name", "enterprise__name", "enterprise__uscc")
    list_select_related = ("user", "enterprise")
    actions = ["confirm_selected"]
    readonly_fields = (
        "user",
        "enterprise",
        "role",
        "status",
        "document_link",
        "valid_from",
        "valid_until",
        "requested_at",
        "decided_at",
        "decided_by",
        "decision_note",
    )
    fields = readonly_fields
    change_form_template = "admin/credit/membership/change_form.html"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.display(description=_("Authorised period"))
    def validity(self, obj: Membership) -> str:
        if obj.valid_from is None or obj.valid_until is None:
            return "—"
        return f"{obj.valid_from:%Y-%m-%d} – {obj.valid_until:%Y-%m-%d}"

    @admin.display(description=_("Letter of authorisation"))
    def document_link(self, obj: Membership) -> str:
        if not obj.authorisation_document:
            return "—"
        # The one download view (``workflows.files``): an attachment with the type recorded at upload.
        return format_html('<a href="{}">{}</a>', reverse("letter_download", args=[obj.pk]), _("Download"))

    @admin.action(description=_("Confirm the selected pending memberships"), permissions=["confirm"])
    def confirm_selected(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        done = refused = 0
        for membership in queryset:
            try:
                services.membership_confirm(actor=admin_actor(request), membership=membership)
                done += 1
            except DomainError:
                refused += 1
        if done:
            self.message_user(request, _("%(count)d membership(s) confirmed.") % {"count": done}, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                _("%(count)d were not pending and were left as they were.") % {"count": refused},
                messages.WARNING,
            )

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credit.confirm_membership")

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:pk>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="credit_membership_decide",
            ),
        ] + super().get_urls()

    def decide_view(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        membership = get_object_or_404(Membership, pk=pk)
        if not self.has_confirm_permission(request):
            raise PermissionDenied
        actions: dict[str, tuple[Callable[..., Membership], StrPromise]] = {
            "confirm": (services.membership_confirm, _("Confirm membership")),
            "reject": (services.membership_reject, _("Reject membership")),
            "revoke": (services.membership_revoke, _("Revoke membership")),
        }
        if decision not in actions:
            raise Http404
        service, title = actions[decision]
        form = DecisionForm(request.POST or None)
        if decision == "confirm":
            form.fields["note"].required = False
        if request.method == "POST" and form.is_valid():
            try:
                service(actor=admin_actor(request), membership=membership, note=form.cleaned_data["note"])
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Done."))
                return HttpResponseRedirect(reverse("admin:credit_membership_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "membership": membership,
            "opts": self.model._meta,
            "title": title,
        }
        return render(request, "admin/credit/membership/decide.html", context, status=400 if form.errors else 200)


# --- credit ledger --------------------------------------------------------------------------------

from credit.ledger import services as ledger_services  # noqa: E402
from credit.ledger.models import CreditEntryKind, LedgerEntry  # noqa: E402


@admin.register(CreditEntryKind)
class CreditEntryKindAdmin(safe_admin.ModelAdmin):
    """The catalogue of entry kinds. Saving a change makes the next version (the old one stays, with
    the entries recorded under it); nothing is ever edited in place or deleted."""

    list_display = (
        "code",
        "version",
        "name",
        "default_points",
        "tier",
        "min_window_months",
        "max_window_months",
        "forces_grade_d",
        "effect",
        "is_current",
    )
    list_filter = ("is_current", "tier", "effect")
    search_fields = ("code", "name", "name_en")
    fields = (
        "code",
        "version",
        "name",
        "name_en",
        "default_points",
        "tier",
        "min_window_months",
        "max_window_months",
        "forces_grade_d",
        "effect",
        "is_current",
    )

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ("version", "is_current")
        if not obj.is_current:
            return self.fields
        return ("code", "version", "effect", "is_current")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.version, obj.is_current = 1, True
            super().save_model(request, obj, form, change)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if not changes:
            return
        original = CreditEntryKind.objects.get(pk=obj.pk)
        try:
            revised = ledger_services.entry_kind_revise(actor=admin_actor(request), kind=original, **changes)
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc
        obj.pk = revised.pk
        messages.info(request, _("Saved as version %(version)s.") % {"version": revised.version})

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(safe_admin.ReadOnlyModelAdmin):
    """Read-only: entries are appended by the services only."""

    list_display = ("seq", "enterprise", "kind_code", "points", "occurred_at", "recorded_at", "source_type")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__uscc", "enterprise__name", "document_number")
    list_filter = ("source_type", "hash_algorithm")


# The policy catalogue's screens live in their own module; importing it registers them.
from credit.policies import admin as policy_admin  # noqa: E402, F401
