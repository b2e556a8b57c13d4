from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_forms import ModelAdmin, ReadOnlyModelAdmin, SafeInputMixin, TabularInline, admin_actor
from core.exceptions import DomainError
from core.models import (
    AuditEvent,
    Delivery,
    ExternalIdentity,
    OutboxMessage,
    ScheduledJob,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from core.outbox.selectors import outbox_status
from core.outbox.services import deliveries_replay
from core.webhooks import services as webhook_services
from core.webhooks.models import EventKind


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


# --- webhooks --------------------------------------------------------------------------------------


class _SuperuserOnly:
    """Subscriptions hold the signing secrets: administrators (superusers) only, whatever model
    permissions a staff member was given."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self.has_module_permission(request)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)


class WebhookSubscriptionForm(forms.ModelForm):
    target_url = forms.URLField(label=_("target URL"), max_length=500, assume_scheme="https")
    event_kinds = forms.MultipleChoiceField(
        label=_("events"), choices=EventKind.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "target_url", "event_kinds", "is_active"]


class WebhookSubscriptionAdmin(_SuperuserOnly, ModelAdmin):
    """Subscriptions, their secret (shown on the subscription's page, to administrators only: the
    receiver needs it to verify), a new secret, and the replay of every event since an instant."""

    form = WebhookSubscriptionForm
    list_display = ("name", "target_url", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "target_url")
    actions = ["replay_since", "rotate_secret"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ("secret", "created_at", "updated_at") if obj else ()

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = ["name", "target_url", "event_kinds", "is_active"]
        return [*fields, "secret", "created_at", "updated_at"] if obj else fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # deliveries keep their subscription; deactivate it instead

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        try:
            webhook_services.webhook_subscription_save(actor=admin_actor(request), subscription=obj)
        except DomainError as exc:
            raise PermissionDenied(str(exc.message)) from exc

    @admin.action(description=_("Give the selected subscriptions a new secret"), permissions=["replay"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            webhook_services.webhook_subscription_secret_rotate(actor=admin_actor(request), subscription=subscription)
        self.message_user(
            request,
            _("New secrets made: give each receiver its new secret (shown on the subscription's page)."),
            messages.WARNING,
        )

    @admin.action(description=_("Send again every event since an instant…"), permissions=["replay"])
    def replay_since(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> TemplateResponse | None:
        form = ReplaySinceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            since = form.cleaned_data["since"]
            try:
                count = sum(
                    webhook_services.webhook_subscription_replay_since(
                        actor=admin_actor(request), subscription=subscription, since=since
                    )
                    for subscription in queryset
                )
            except DomainError as exc:
                form.add_error("since", ValidationError(exc.message, code=exc.code))
            else:
                self.message_user(request, _("%(count)s deliveries queued again.") % {"count": count}, messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send events again"),
            "opts": self.model._meta,
            "form": form,
            "subscriptions": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/core/webhooksubscription/replay_since.html", context)


class ReplaySinceForm(forms.Form):
    since = forms.SplitDateTimeField(
        label=_("Events since"),
        widget=AdminSplitDateTime,
        help_text=_("Every sent or dead delivery of an event at or after this instant goes out again, in order."),
    )

    def clean_since(self):  # type: ignore[no-untyped-def]
        since = self.cleaned_data["since"]
        if since > timezone.now():
            raise ValidationError(_("Choose an instant in the past."), code="since_in_future")
        return since


admin.site.register(WebhookSubscription, WebhookSubscriptionAdmin)


class WebhookAttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "duration_ms", "status_code", "succeeded", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_SuperuserOnly, ReadOnlyModelAdmin):
    """Every delivery with its attempts, and sending selected ones again."""

    list_display = (
        "id",
        "subscription",
        "event_kind",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "sent_at",
        "occurred_at",
    )
    list_filter = ("status", "event_kind", "subscription")
    search_fields = ("public_id", "dedupe_key")
    list_select_related = ("subscription",)
    readonly_fields = (
        "public_id",
        "subscription",
        "event_kind",
        "dedupe_key",
        "payload",
        "occurred_at",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "sent_at",
        "replays",
        "created_at",
    )
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    @admin.action(description=_("Send the selected sent or dead deliveries again"), permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhook_services.webhook_deliveries_replay(actor=admin_actor(request), deliveries=queryset)
        self.message_user(request, _("%(count)s deliveries queued again.") % {"count": count}, messages.SUCCESS)
