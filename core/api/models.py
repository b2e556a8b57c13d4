"""Personal access tokens of enterprise users, and the API's idempotency records."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessToken(models.Model):
    """A personal access token (个人访问令牌) of an enterprise user for the API.

    Only the SHA-256 of the secret is stored; the secret itself is shown once, when the token is
    made. ``prefix`` (the first characters of the secret) lets the owner tell tokens apart on the
    page. ``enterprise_id`` narrows the token to one enterprise the user acts for; ``None`` gives
    it the portal's own scope (every enterprise the user acts for at the moment of the request).
    Either way the membership is checked on every request, so a token never outlives the user's
    right to act for the enterprise. It is a plain id rather than a foreign key: ``core`` knows no
    app above it."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="access_tokens"
    )
    enterprise_id = models.PositiveBigIntegerField(_("enterprise"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_sha256 = models.CharField(_("SHA-256 of the secret"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="accesstoken_expires_after_creation",
                violation_error_message=_("A token expires after it was made."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, *, now: datetime.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one actor: what the first request was (the hash of its method,
    path and body) and, once it finished, the answer it got, to replay for a retry.

    ``in_flight`` is committed before the work starts, so that a concurrent retry sees it and is
    told 409 instead of doing the work a second time; ``lease_until`` lets a record whose request
    died (a crashed worker) be taken over after a while instead of blocking the key for ever."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        DONE = "done", _("Done")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=200)
    request_sha256 = models.CharField(_("SHA-256 of the request"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    lease_until = models.DateTimeField(_("in flight until"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["actor", "key"], name="idempotency_key_once_per_actor"),
            models.CheckConstraint(
                condition=Q(state="in_flight") | (Q(response_status__isnull=False) & Q(finished_at__isnull=False)),
                name="idempotency_done_has_response",
                violation_error_message=_("A finished request records its answer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id}:{self.key} ({self.state})"
