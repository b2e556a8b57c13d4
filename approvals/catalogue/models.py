"""The published approval list (审批事项清单): items and their immutable published versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.organisation.models import Department


class ApprovalItem(models.Model):
    """The stable identity of one line of the list; its content lives in versions."""

    code = models.CharField(_("item code"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approval item")
        verbose_name_plural = _("approval items")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


# What a version of an item says, besides the item it belongs to and its co-review departments (a
# many-to-many): the fields a new draft copies and the admin edits.
VERSION_CONTENT_FIELDS: tuple[str, ...] = (
    "name",
    "legal_basis",
    "lead_department",
    "desk_department",
    "statutory_limit_days",
    "promised_limit_days",
    "review_limit_days",
    "max_extension_days",
    "fee",
    "reform_mode",
    "certificate_name",
    "certificate_validity_months",
    "conditions",
    "procedure",
    "commitment_min_grade",
    "commitment_notice",
    "proofs_waived",
    "verification_method",
    "verification_window_days",
    "supervising_department",
    "inspection_checklist",
)


class ApprovalItemVersion(models.Model):
    """One version of an item. Drafts are edited; a published version is never edited again —
    publishing a new one closes it, and applications keep pointing at the version they were
    filed under."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    class ReformMode(models.TextChoices):
        STANDARD = "standard", _("Standard approval")
        COMMITMENT = "commitment", _("Notification and commitment (告知承诺)")
        FILING = "filing", _("Filing (备案)")

    item = models.ForeignKey(ApprovalItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    name = models.CharField(_("name"), max_length=200)
    legal_basis = models.TextField(_("legal basis"))
    lead_department = models.ForeignKey(
        Department, verbose_name=_("lead department"), on_delete=models.PROTECT, related_name="led_item_versions"
    )
    desk_department = models.ForeignKey(
        Department, verbose_name=_("accepting window"), on_delete=models.PROTECT, related_name="desk_item_versions"
    )
    co_review_departments = models.ManyToManyField(
        Department, verbose_name=_("co-review departments"), blank=True, related_name="co_reviewed_item_versions"
    )
    statutory_limit_days = models.PositiveSmallIntegerField(_("statutory limit (working days)"))
    promised_limit_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    review_limit_days = models.PositiveSmallIntegerField(
        _("limit for each department's review (working days)"), default=5
    )
    max_extension_days = models.PositiveSmallIntegerField(_("longest extension (working days)"), default=10)
    fee = models.DecimalField(_("fee (yuan)"), max_digits=10, decimal_places=2, default=0)
    reform_mode = models.CharField(
        _("reform mode"), max_length=16, choices=ReformMode.choices, default=ReformMode.STANDARD
    )
    certificate_name = models.CharField(_("certificate name"), max_length=100, blank=True)
    certificate_validity_months = models.PositiveSmallIntegerField(
        _("certificate validity (months)"), null=True, blank=True, help_text=_("Empty: valid without time limit.")
    )
    conditions = models.TextField(_("conditions"), blank=True)
    procedure = models.TextField(_("procedure"), blank=True)
    # Commitment mode (告知承诺): who may use it, the notification shown and signed (versioned with
    # the item version: a new text is a new version), and the supervision that follows.
    commitment_min_grade = models.CharField(
        _("lowest credit grade for the commitment route"),
        max_length=1,
        choices=[("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")],
        blank=True,
    )
    commitment_notice = models.TextField(
        _("commitment notification"),
        blank=True,
        help_text=_(
            "Shown to the applicant and signed: conditions, proofs waived, verification method and window, "
            "liability for a false commitment."
        ),
    )
    proofs_waived = models.TextField(_("proofs waived by the commitment"), blank=True)
    verification_method = models.CharField(_("verification method"), max_length=200, blank=True)
    verification_window_days = models.PositiveSmallIntegerField(
        _("verification window (working days)"), null=True, blank=True
    )
    supervising_department = models.ForeignKey(
        Department,
        verbose_name=_("supervising department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_item_versions",
    )
    inspection_checklist = models.JSONField(
        _("inspection checklist"), default=list, blank=True, help_text=_("One line per item to check.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval item version")
        verbose_name_plural = _("approval item versions")
        ordering = ["item__code", "-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_extension_days__lte=15),
                name="itemversion_extension_within_art42",
                violation_error_message=_(
                    "Art. 42 allows at most 10 working days of extension (15 for joint processing)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(promised_limit_days__lte=F("statutory_limit_days")),
                name="itemversion_promised_within_statutory",
                violation_error_message=_("The promised limit cannot exceed the statutory limit."),
            ),
            models.CheckConstraint(
                condition=Q(promised_limit_days__gte=1),
                name="itemversion_promised_at_least_one_day",
                violation_error_message=_("The promised limit is at least one working day."),
            ),
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_number_unique_per_item"),
            models.CheckConstraint(
                condition=~Q(reform_mode="commitment")
                | (
                    ~Q(commitment_min_grade="")
                    & ~Q(commitment_notice="")
                    & Q(verification_window_days__gte=1)
                    & Q(supervising_department__isnull=False)
                ),
                name="itemversion_commitment_mode_complete",
                violation_error_message=_(
                    "A commitment-mode item needs a lowest grade, a notification, a verification window and a "
                    "supervising department."
                ),
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status="published"),
                name="itemversion_one_published_per_item",
                violation_error_message=_("An item has at most one published version."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="itemversion_published_has_published_at",
                violation_error_message=_("A published or closed version records when it was published."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="itemversion_closed_has_closed_at",
                violation_error_message=_("A closed version records when it was closed."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.name} (v{self.number})"


class RequiredMaterial(models.Model):
    """A material the applicant supplies for an item version."""

    item_version = models.ForeignKey(
        ApprovalItemVersion, verbose_name=_("item version"), on_delete=models.CASCADE, related_name="materials"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    may_be_missing = models.BooleanField(
        _("may be missing at acceptance (容缺受理)"),
        default=False,
        help_text=_("A secondary material the desk may accept without, to be supplied later."),
    )
    replaced_by_commitment = models.BooleanField(
        _("replaced by the commitment (告知承诺)"),
        default=False,
        help_text=_("On the commitment route the applicant signs instead of supplying this proof."),
    )

    class Meta:
        verbose_name = _("required material")
        verbose_name_plural = _("required materials")
        ordering = ["item_version", "position", "id"]

    def __str__(self) -> str:
        return self.name
