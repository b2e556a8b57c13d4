"""好差评: the applicant's ratings of a finished case, and the 差评 loop a bad rating opens.

A ``Rating`` is written once and never changed (``AppendOnlyModel`` and database triggers, see
``core.append_only``); the only thing that may follow it is the one re-rating, allowed after the
department has replied to a bad rating. A ``RatingLoop`` is the artifact of ``BadRatingFlow``: the
callback, the verification, the rectification and the reply, each recorded by one service, with
due dates in working days from the day of the rating.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.applications.models import Application
from approvals.catalogue.models import ApprovalItem
from approvals.organisation.models import Department
from core.models import AppendOnlyModel

COMMENT_MAX_LENGTH = 500
TEXT_MAX_LENGTH = 2000


class Level(models.IntegerChoices):
    """The five levels of the national 好差评 scale; 1 and 2 are a bad rating (差评)."""

    VERY_SATISFIED = 5, _("Very satisfied (非常满意)")
    SATISFIED = 4, _("Satisfied (满意)")
    FAIRLY_SATISFIED = 3, _("Fairly satisfied (基本满意)")
    DISSATISFIED = 2, _("Dissatisfied (不满意)")
    VERY_DISSATISFIED = 1, _("Very dissatisfied (非常不满意)")


BAD_LEVELS = (Level.DISSATISFIED, Level.VERY_DISSATISFIED)
GOOD_MIN_LEVEL = Level.FAIRLY_SATISFIED

# The standard indicators of an online rating (efficiency, accuracy of the service guide,
# convenience, platform usability), each on the same five levels as the overall rating.
INDICATORS = ("efficiency", "guide_accuracy", "convenience", "usability")
LEVEL_FIELDS = ("level", *INDICATORS)


def _levels_in_range() -> Q:
    condition = Q()
    for name in LEVEL_FIELDS:
        condition &= Q(**{f"{name}__gte": 1, f"{name}__lte": 5})
    return condition


class Rating(AppendOnlyModel):
    """One rating of one finished case by a person acting for the applicant's enterprise."""

    class Round(models.IntegerChoices):
        FIRST = 1, _("Rating")
        RERATING = 2, _("Re-rating after the reply")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="ratings"
    )
    round = models.PositiveSmallIntegerField(_("round"), choices=Round.choices, default=Round.FIRST)
    # The re-rating names the first rating it follows (a database trigger checks that it is the
    # first rating of the same application).
    follows = models.OneToOneField(
        "self",
        verbose_name=_("follows the rating"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rerating",
    )
    # Copied from the case when it is rated, so the public scores group by them without a join
    # through the item version, and stay what they were when a later version changes the lead.
    item = models.ForeignKey(ApprovalItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="+"
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT, related_name="+"
    )
    rated_at = models.DateTimeField(_("rated at"), auto_now_add=True)
    rated_on = models.DateField(_("day of the rating"))
    level = models.PositiveSmallIntegerField(_("overall rating"), choices=Level.choices)
    efficiency = models.PositiveSmallIntegerField(_("efficiency of the handling"), choices=Level.choices)
    guide_accuracy = models.PositiveSmallIntegerField(_("accuracy of the service guide"), choices=Level.choices)
    convenience = models.PositiveSmallIntegerField(_("convenience"), choices=Level.choices)
    usability = models.PositiveSmallIntegerField(_("usability of the online platform"), choices=Level.choices)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["application", "round"]
        indexes = [
            models.Index(fields=["item", "level"], name="rating_item_level"),
            models.Index(fields=["department", "level"], name="rating_department_level"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(round=1),
                name="rating_one_first_per_application",
                violation_error_message=_("This case has already been rated."),
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(round=2),
                name="rating_one_rerating_per_application",
                violation_error_message=_("This case has already been rated again."),
            ),
            models.CheckConstraint(
                condition=(Q(round=1) & Q(follows__isnull=True)) | (Q(round=2) & Q(follows__isnull=False)),
                name="rating_rerating_follows_first",
                violation_error_message=_("A re-rating follows the first rating; a first rating follows none."),
            ),
            models.CheckConstraint(
                condition=_levels_in_range(),
                name="rating_levels_one_to_five",
                violation_error_message=_("Every level is between 1 and 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.round}: {self.level}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class RatingLoop(models.Model):
    """The 差评 loop: callback within 1 working day, verification, rectification within 15 working
    days of the rating, reply to the applicant; then the applicant may rate once more."""

    class Status(models.TextChoices):
        CALLBACK = "callback", _("Awaiting the callback")
        VERIFY = "verify", _("Awaiting verification")
        RECTIFY = "rectify", _("Awaiting rectification")
        REPLY = "reply", _("Awaiting the reply")
        CLOSED = "closed", _("Replied")

    OPEN_STATUSES = (Status.CALLBACK, Status.VERIFY, Status.RECTIFY, Status.REPLY)

    class Channel(models.TextChoices):
        PHONE = "phone", _("Telephone")
        SMS = "sms", _("Text message")
        VISIT = "visit", _("Visit or meeting")
        ONLINE = "online", _("Online message")

    rating = models.OneToOneField(Rating, verbose_name=_("rating"), on_delete=models.PROTECT, related_name="loop")
    application = models.OneToOneField(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="rating_loop"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="rating_loops"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CALLBACK)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    callback_due_on = models.DateField(_("callback due on"))
    callback_due_provisional = models.BooleanField(_("callback due date is provisional"), default=False)
    rectify_due_on = models.DateField(_("rectification due on"))
    rectify_due_provisional = models.BooleanField(_("rectification due date is provisional"), default=False)
    due_calendar_version = models.PositiveIntegerField(_("calendar version of the due dates"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # the callback (回访)
    contacted_at = models.DateTimeField(_("applicant contacted at"), null=True, blank=True)
    contact_channel = models.CharField(_("contacted by"), max_length=16, choices=Channel.choices, blank=True)
    callback_notes = models.TextField(_("what was said"), max_length=TEXT_MAX_LENGTH, blank=True)
    callback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("callback by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    callback_recorded_at = models.DateTimeField(_("callback recorded at"), null=True, blank=True)
    # the verification (核实)
    problem_confirmed = models.BooleanField(_("problem confirmed"), null=True, blank=True)
    findings = models.TextField(_("findings"), max_length=TEXT_MAX_LENGTH, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # the rectification (整改)
    nothing_to_rectify = models.BooleanField(_("nothing to rectify"), default=False)
    rectification = models.TextField(_("what was changed"), max_length=TEXT_MAX_LENGTH, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rectified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    # the reply (反馈)
    reply = models.TextField(_("reply to the applicant"), max_length=TEXT_MAX_LENGTH, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bad-rating loop")
        verbose_name_plural = _("bad-rating loops")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["department", "status", "callback_due_on"], name="ratingloop_department_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="callback")
                | (Q(contacted_at__isnull=False) & ~Q(contact_channel="") & ~Q(callback_notes="")),
                name="ratingloop_past_callback_has_callback",
                violation_error_message=_("A loop past the callback records when and how the applicant was contacted."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["callback", "verify"]) | (Q(problem_confirmed__isnull=False) & ~Q(findings="")),
                name="ratingloop_past_verify_has_findings",
                violation_error_message=_("A verified loop records whether the problem was confirmed, and why."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["callback", "verify", "rectify"]) | ~Q(rectification=""),
                name="ratingloop_past_rectify_has_rectification",
                violation_error_message=_("A rectified loop records what was changed, or why nothing was."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(replied_at__isnull=False) & ~Q(reply="")),
                name="ratingloop_closed_has_reply",
                violation_error_message=_("A closed loop records the reply to the applicant."),
            ),
            models.CheckConstraint(
                condition=Q(nothing_to_rectify=False) | Q(problem_confirmed=False),
                name="ratingloop_nothing_to_rectify_only_unconfirmed",
                violation_error_message=_("Only a problem that was not confirmed may leave nothing to rectify."),
            ),
            models.CheckConstraint(
                condition=Q(callback_due_on__lte=models.F("rectify_due_on")),
                name="ratingloop_callback_due_before_rectification",
                violation_error_message=_("The callback is due before the rectification."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def current_due_on(self) -> datetime.date | None:
        """The deadline the open step is held to: the callback's, then the rectification's (which
        also bounds the reply)."""
        if not self.is_open:
            return None
        return self.callback_due_on if self.status == self.Status.CALLBACK else self.rectify_due_on
