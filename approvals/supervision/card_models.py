"""Supervision cards (督办): the reminders, yellow and red cards of the warning ladder
(``approvals.supervision.ladder``), and their append-only trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from approvals.organisation.models import Department
from approvals.supervision import ladder
from core.models import AppendOnlyModel


class SupervisionCard(models.Model):
    """One rung of the ladder for one deadline. Raised once per (subject, trigger, level) — the
    database refuses a second — by the sweep or by a supervisor's escalation; its raising facts never
    change, its status only moves forward (compare-and-swap in the services), and every move is a
    ``CardEvent``."""

    class Level(models.TextChoices):
        REMINDER = ladder.REMINDER, _("Reminder")
        YELLOW = ladder.YELLOW, _("Yellow card (督办)")
        RED = ladder.RED, _("Red card (整改)")

    class Trigger(models.TextChoices):
        APPROACHING = ladder.APPROACHING, _("Deadline approaching")
        OVERDUE = ladder.OVERDUE, _("Deadline passed")
        STEP_OVERRUN = ladder.STEP_OVERRUN, _("A step overran its own limit")
        NOT_ACCEPTED_IN_WINDOW = ladder.NOT_ACCEPTED_IN_WINDOW, _("Not accepted or refused within the window")
        STATUTORY_OVERRUN = ladder.STATUTORY_OVERRUN, _("Past the statutory time limit")
        REFUSAL_WITHOUT_REASONS = ladder.REFUSAL_WITHOUT_REASONS, _("Disagreement without reasons")

    class Subject(models.TextChoices):
        CASE = "case", pgettext_lazy("supervision card subject", "Case")
        STEP = "step", _("Step of a case")
        OPINION = "opinion", _("Review opinion")
        VERIFICATION = "verification", _("Inspection or commitment verification")
        RECTIFICATION = "rectification", _("Rectification report")
        CREDIT_REQUEST = "credit_request", _("Credit objection or repair decision")
        POLICY_REVIEW = "policy_review", _("Policy application review")
        RATING_CALLBACK = "rating_callback", _("Callback after a bad rating (差评)")
        RATING_RECTIFICATION = "rating_rectification", _("Rectification and reply after a bad rating (差评)")

    class Office(models.TextChoices):
        """Bureau-wide offices a card may be addressed to instead of a department."""

        NONE = "", _("—")
        CREDIT_OFFICE = "credit_office", _("Credit office")
        POLICY_OFFICE = "policy_office", _("Policy office")

    class Status(models.TextChoices):
        NOTIFIED = "notified", _("Reminder sent")
        AWAITING_ANSWER = "awaiting_answer", _("Awaiting the department's answer")
        ANSWERED = "answered", _("Answered, awaiting the supervisor")
        ACCEPTED = "accepted", _("Answer accepted")
        ESCALATED = "escalated", _("Escalated to a red card")
        AWAITING_RECTIFICATION = "awaiting_rectification", _("Awaiting rectification")
        RECTIFIED = "rectified", _("Rectification reported, awaiting the supervisor")
        CLOSED = "closed", _("Closed with accountability decided")

    OPEN_STATUSES = (
        Status.AWAITING_ANSWER,
        Status.ANSWERED,
        Status.AWAITING_RECTIFICATION,
        Status.RECTIFIED,
    )

    class Accountability(models.TextChoices):
        """问责: what the supervisor decides when closing a card, with reasons."""

        NONE = "none", _("No accountability (objective reasons established)")
        REMINDER_TALK = "reminder_talk", _("Reminder talk (提醒谈话)")
        CRITICISM = "criticism", _("Criticism and education (批评教育)")
        WRITTEN_SELF_EXAMINATION = "written_self_examination", _("Written self-examination ordered (书面检查)")
        CIRCULATED_CRITICISM = "circulated_criticism", _("Circulated criticism (通报批评)")
        ADMONISHMENT = "admonishment", _("Admonishment talk (诫勉谈话)")
        REFERRED = "referred", _("Referred to the discipline inspection body (移送纪检监察)")

    subject_type = models.CharField(_("subject"), max_length=24, choices=Subject.choices)
    subject_id = models.PositiveIntegerField(_("subject id"))
    subject_label = models.CharField(_("subject reference"), max_length=80)
    application = models.ForeignKey(
        "approvals.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervision_cards",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("addressed to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervision_cards",
    )
    office = models.CharField(_("addressed to office"), max_length=16, choices=Office.choices, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    # 0 red, 1 yellow, 2 reminder: the queue's order, as a column its index can serve
    severity = models.PositiveSmallIntegerField(_("severity"), default=2)
    trigger = models.CharField(_("trigger"), max_length=32, choices=Trigger.choices)
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    due_on = models.DateField(_("deadline measured"), null=True, blank=True)
    reply_due_on = models.DateField(_("answer due on"), null=True, blank=True)
    calendar_version = models.PositiveIntegerField(_("calendar version"))
    yellow = models.ForeignKey(
        "self",
        verbose_name=_("yellow card"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="red_cards",
    )
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    process_id = models.PositiveIntegerField(_("supervision process"), null=True, blank=True)
    # the written notice: 督办通知 for a yellow card, 整改通知 for a red one (a PDF kept with its hash)
    notice_number = models.CharField(_("notice number"), max_length=40, blank=True)
    notice_file = models.FileField(_("notice"), upload_to="supervision/", max_length=200, blank=True)
    notice_sha256 = models.CharField(_("notice SHA-256"), max_length=64, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accountability = models.CharField(_("accountability"), max_length=32, choices=Accountability.choices, blank=True)
    accountability_reasons = models.TextField(_("reasons"), blank=True)

    class Meta:
        verbose_name = _("supervision card")
        verbose_name_plural = _("supervision cards")
        ordering = ["-raised_on", "-id"]
        indexes = [
            models.Index(fields=["status", "level", "raised_on"], name="card_queue"),
            # the supervisor's open cards, most urgent first (the queue's default page)
            models.Index(
                "severity",
                "reply_due_on",
                models.F("raised_on").desc(),
                "id",
                condition=Q(status__in=["awaiting_answer", "answered", "awaiting_rectification", "rectified"]),
                name="card_open_by_urgency",
            ),
            models.Index(fields=["department", "status"], name="card_by_department"),
            models.Index(fields=["application"], name="card_by_application"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "trigger", "level"],
                name="card_once_per_subject_trigger_level",
                violation_error_message=_("This card was already raised."),
            ),
            models.CheckConstraint(
                condition=~Q(level="red") | Q(yellow__isnull=False),
                name="card_red_has_yellow",
                violation_error_message=_("A red card follows a yellow card."),
            ),
            models.CheckConstraint(
                condition=Q(level="reminder") | Q(reply_due_on__isnull=False),
                name="card_yellow_red_have_reply_due",
                violation_error_message=_("A yellow or red card names the day its answer is due."),
            ),
            models.CheckConstraint(
                condition=Q(department__isnull=False) | ~Q(office=""),
                name="card_has_addressee",
                violation_error_message=_("A card is addressed to a department or an office."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    Q(closed_at__isnull=False)
                    & Q(closed_by__isnull=False)
                    & ~Q(accountability="")
                    & ~Q(accountability_reasons="")
                ),
                name="card_closed_has_accountability",
                violation_error_message=_("A closed card records who closed it, the accountability and the reasons."),
            ),
            models.CheckConstraint(
                condition=Q(level="red", severity=0) | Q(level="yellow", severity=1) | Q(level="reminder", severity=2),
                name="card_severity_follows_level",
                violation_error_message=_("A card's severity follows its level."),
            ),
            models.CheckConstraint(
                condition=Q(yellow__isnull=True) | ~Q(yellow=F("id")),
                name="card_yellow_not_itself",
                violation_error_message=_("A card cannot follow itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.subject_label}"

    SEVERITY: dict[str, int] = {ladder.RED: 0, ladder.YELLOW: 1, ladder.REMINDER: 2}

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.severity = self.SEVERITY.get(self.level, 2)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def key(self) -> tuple[str, str, str]:
        return (f"{self.subject_type}:{self.subject_id}", self.trigger, self.level)


class CardEvent(AppendOnlyModel):
    """The trail of a card: raised, answered, accepted, escalated, rectified, closed — who, when,
    what they wrote. Append-only in the database."""

    class Action(models.TextChoices):
        RAISED = "raised", _("Raised")
        ANSWERED = "answered", _("Department answered")
        ACCEPTED = "accepted", _("Answer accepted")
        ESCALATED = "escalated", _("Escalated to a red card")
        RECTIFIED = "rectified", _("Rectification reported")
        CLOSED = "closed", _("Closed with accountability")

    card = models.ForeignKey(SupervisionCard, verbose_name=_("card"), on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    on = models.DateField(_("day"))
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("card event")
        verbose_name_plural = _("card events")
        ordering = ["card", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "action"],
                name="cardevent_once_per_action",
                violation_error_message=_("This step of the card was already recorded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} {self.action}"
