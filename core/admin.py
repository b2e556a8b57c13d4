from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin_forms import ReadOnlyModelAdmin, SafeInputMixin, TabularInline, admin_actor
from core.models import AuditEvent, Delivery, ExternalIdentity, OutboxMessage, ScheduledJob, User
from core.outbox.selectors import outbox_status
from core.outbox.services import deliveries_replay


@admin.register(User)
class UserAdmin(SafeInputMixin, DjangoUserAdmin):
    list_display = ("username", "display_name", "kind", "email", "is_active", "last_login")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email", "phone", "employee_id")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "email", "phone", "kind", "employee_id")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "kind", "display_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyModelAdmin):
    """Identities of the provincial identity service, linked at single sign-on (approvals.organisation.sso)."""

    list_display = ("subject", "issuer", "user", "created_at", "last_login_at")
    search_fields = ("subject", "user__username", "user__display_name")
    list_select_related = ("user",)


# Django's own group screen, with the bad-input guards of ours: its permission list is a multiple
# choice, looked up with ``pk__in`` (core/admin_forms.py).
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SafeInputMixin, DjangoGroupAdmin):
    pass


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "action", "object_type", "object_id", "actor")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "action", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)


# --- the outbox ------------------------------------------------------------------------------------


class DeliveryInline(TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error", "external_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "kind", "recipient", "language", "object_type", "object_id")
    list_filter = ("kind", "language")
    search_fields = ("dedupe_key", "recipient__username", "object_id")
    list_select_related = ("recipient",)
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyModelAdmin):
    """Every delivery by channel and state, the counts above the list (``outbox_status``), and
    the replay of dead ones."""

    list_display = ("id", "message", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "channel", "message__kind")
    list_select_related = ("message",)
    actions = ["replay_selected"]
    change_list_template = "admin/core/delivery/change_list.html"

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = {**(extra_context or {}), "status_rows": outbox_status(), "statuses": Delivery.Status}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description=_("Send the selected dead deliveries again"), permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_replay(actor=admin_actor(request), deliveries=queryset)
        self.message_user(request, _("%(count)s deliveries queued again.") % {"count": count}, messages.SUCCESS)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "last_started_at", "last_finished_at", "last_duration_ms", "runs", "last_result")


# --- system accounts of other authorities (OAuth2 client credentials) -----------------------------

# django-oauth-toolkit registers its own models; only the client list is of use here (client
# credentials issue neither grants, refresh tokens nor ID tokens, and deactivating a system account
# stops its tokens at once). Its admin module is imported first so that there is something to
# unregister whichever app the admin discovers first.
import oauth2_provider.admin  # noqa: E402, F401
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model  # noqa: E402

from core.system_accounts.models import SystemAccount  # noqa: E402
from core.system_accounts.services import known_scopes, system_account_register, system_account_update  # noqa: E402

for _model in (get_access_token_model(), get_grant_model(), get_id_token_model(), get_refresh_token_model()):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class SystemAccountForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        label=_("allowed scopes"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = SystemAccount
        fields = ("authority", "authority_kind", "scopes", "is_active")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["scopes"].choices = sorted(known_scopes().items())  # type: ignore[attr-defined]


class SystemAccountAddForm(SystemAccountForm):
    name = forms.CharField(label=_("name of the system"), max_length=255)

    class Meta(SystemAccountForm.Meta):
        fields = ("authority", "authority_kind", "scopes")


@admin.register(SystemAccount)
class SystemAccountAdmin(SafeInputMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Register a system of another authority (its client secret is shown once, on this page's
    next screen) and change its scopes, or deactivate it; both through the services."""

    list_display = ("authority", "authority_kind", "application", "user", "scopes", "is_active", "created_at")
    list_filter = ("authority_kind", "is_active")
    search_fields = ("authority", "application__name", "application__client_id", "user__username")
    list_select_related = ("application", "user")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = SystemAccountForm if obj is not None else SystemAccountAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ("name", "authority", "authority_kind", "scopes")
        return ("client", "user", "authority", "authority_kind", "scopes", "is_active")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ("client", "user") if obj is not None else ()

    @admin.display(description=_("client id"))
    def client(self, obj: SystemAccount) -> str:
        return f"{obj.application.name} · {obj.application.client_id}"

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        data = form.cleaned_data
        if change:
            system_account_update(
                actor=admin_actor(request),
                account=obj,
                authority=data["authority"],
                authority_kind=data["authority_kind"],
                scopes=data["scopes"],
                is_active=data["is_active"],
            )
            return
        registered = system_account_register(
            actor=admin_actor(request),
            name=data["name"],
            authority=data["authority"],
            authority_kind=data["authority_kind"],
            scopes=data["scopes"],
        )
        # The admin goes on with ``obj`` (its log line, its redirect): make it the saved row.
        obj.pk = registered.account.pk
        obj.application_id = registered.account.application_id
        obj.user_id = registered.account.user_id
        obj._state.adding = False
        self.message_user(
            request,
            _("Client id %(id)s, client secret %(secret)s — copy the secret now: it is shown only once.")
            % {"id": registered.client_id, "secret": registered.client_secret},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # its writes name its user: deactivate instead
