"""What the outbox keeps: one message per thing to tell one person, one delivery per channel,
the in-site message the site channel makes, and the scheduled jobs' last runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """Something to tell ``recipient``: a notice kind (``core.outbox.kinds``) with the values its
    texts name, in the recipient's language. Written once, by the service that decided, in its
    transaction; ``dedupe_key`` makes a second write of the same notice a no-op."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=60)
    context = models.JSONField(_("values"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class Delivery(models.Model):
    """One channel's delivery of a message: queued until a worker sends it; a failure waits for its
    next attempt (exponential backoff) and, after the last one, is dead until an administrator
    replays it."""

    class Channel(models.TextChoices):
        SITE = "site", _("In-site message")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        FAILED = "failed", _("Failed, will retry")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Dead (no more retries)")

    message = models.ForeignKey(
        OutboxMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    external_id = models.CharField(_("channel reference"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["message", "channel"], name="delivery_one_per_channel")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.channel}: {self.status}"


class SiteMessage(models.Model):
    """A message in the recipient's in-site message centre. One per outbox message (the site
    channel's idempotency: a retry finds it and makes no second one)."""

    message = models.OneToOneField(
        OutboxMessage, verbose_name=_("message"), on_delete=models.PROTECT, related_name="site_message"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("in-site message")
        verbose_name_plural = _("in-site messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="sitemessage_unread")]

    def __str__(self) -> str:
        return self.title


class ScheduledJob(models.Model):
    """A periodic job's last run. A run starts only when the last one started at least three
    quarters of a period ago (``core.scheduling``): two schedulers running by mistake never double
    a job."""

    name = models.CharField(_("job"), max_length=80, primary_key=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_result = models.CharField(_("last result"), max_length=300, blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name


class NoticePreference(models.Model):
    """A user's choice for one channel of one notice kind, where the kind lets them choose
    (``core.outbox.preferences``). Without a row the kind's default holds."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=60)
    channel = models.CharField(_("channel"), max_length=10, choices=Delivery.Channel.choices)
    enabled = models.BooleanField(_("enabled"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="noticepreference_one_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}/{self.channel}={self.enabled}"
