"""What the webhooks keep: who subscribes to which events at which address (with the secret the
deliveries are signed with), one delivery per event and subscription, and every attempt made."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel


class EventKind(models.TextChoices):
    """The events a subscription may ask for. The payload of each is documented in
    docs/webhooks.md and built by the service that decides the event."""

    APPLICATION_STATUS_CHANGED = "application.status_changed", _("Application status changed")
    APPLICATION_DECIDED = "application.decided", _("Application decided")
    CERTIFICATE_REVOKED = "certificate.revoked", _("Certificate revoked")
    CREDIT_ENTRY_RECORDED = "credit.entry_recorded", _("Credit entry recorded")
    CREDIT_GRADE_CHANGED = "credit.grade_changed", _("Credit grade changed")


def secret_generate() -> str:
    """A new subscription secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_url_validate(value: str) -> None:
    """An https URL with a host; http only to a loopback address (a receiver on this machine) or
    where ``WEBHOOK_ALLOW_HTTP`` allows it (a test network). No credentials in the URL (it is shown
    in the admin and in logs) and no fragment."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError on a port out of range)
    except ValueError:
        raise ValidationError(_("Enter a valid URL."), code="target_url_invalid") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise ValidationError(_("Enter an http(s) URL with a host."), code="target_url_invalid")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            _("Do not put credentials in the URL; the signature authenticates the sender."),
            code="target_url_credentials",
        )
    if parts.fragment:
        raise ValidationError(_("The URL cannot have a fragment (#…)."), code="target_url_invalid")
    if parts.scheme == "http" and not (_is_loopback(host) or settings.WEBHOOK_ALLOW_HTTP):
        raise ValidationError(
            _("Use https: plain http is allowed only to this machine (localhost, 127.0.0.1, ::1)."),
            code="target_url_not_https",
        )


class WebhookSubscription(models.Model):
    """An external system's subscription: the events it asked for go to ``target_url``, signed
    with ``secret``. The secret is stored as it is, because the server needs it to sign every
    delivery (a hash would not do); it is shown only in the admin, to administrators."""

    name = models.CharField(_("name"), max_length=100)
    target_url = models.URLField(_("target URL"), max_length=500, validators=[target_url_validate])
    event_kinds = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, default=secret_generate)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "An inactive subscription gets no new deliveries; the ones waiting go out when it is active again."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        kinds = self.event_kinds
        if not isinstance(kinds, list) or not kinds or any(kind not in EventKind.values for kind in kinds):
            raise ValidationError(
                {"event_kinds": ValidationError(_("Choose at least one event."), code="event_kinds_invalid")}
            )

    def wants(self, kind: str) -> bool:
        return self.is_active and kind in (self.event_kinds or [])


class WebhookDelivery(models.Model):
    """One event for one subscription. Written in the transaction that decided the event; sent
    after commit in the order of the subscription's deliveries (the oldest waiting one first), each
    once: a failure waits for its next attempt (exponential backoff) and holds back the later ones;
    after the last attempt it is dead until an administrator replays it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        FAILED = "failed", _("Failed, will retry")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Dead (no more retries)")

    public_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.PROTECT, related_name="deliveries"
    )
    event_kind = models.CharField(_("event"), max_length=40, choices=EventKind.choices)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(_("occurred at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    replays = models.PositiveSmallIntegerField(_("replays"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "dedupe_key"],
                name="webhookdelivery_once_per_subscription",
                violation_error_message=_("This event was already written for this subscription."),
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="webhookdelivery_sent_has_sent_at",
                violation_error_message=_("A sent delivery records when it was sent."),
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "status", "id"], name="webhookdelivery_waiting"),
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_kind} → {self.subscription_id}: {self.status}"


class WebhookAttempt(AppendOnlyModel):
    """One POST of a delivery and what came of it: the HTTP status (none when no answer came),
    how long it took, the error, the start of the answer's body."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    signed_timestamp = models.BigIntegerField(_("signed timestamp"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"))
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("answer (start)"), blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error[:40]}"
