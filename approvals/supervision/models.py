"""Supervision after approval (批管衔接): signed commitments, inspection tasks and their append-only
inspection records, rectification orders, recorded conflicts of interest, and random-inspection
campaigns (双随机一公开) with their frozen rosters.

A campaign's rosters, ratios and recusals are frozen together with the SHA-256 of their canonical
forms *before* the seed is entered (``approvals.supervision.draw`` is the documented algorithm); the rows
refuse changes once their campaign has left the draft state, and ``manage.py draw_verify`` checks
the stored hashes and re-runs the draw.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.applications.models import Application, Certificate
from approvals.catalogue.models import ApprovalItem
from approvals.organisation.models import Department
from core.models import AppendOnlyModel


class Commitment(AppendOnlyModel):
    """The applicant's signed commitment (告知承诺书): the exact notification text shown, its hash,
    who signed, as whom, and when. Written once, in the transaction that approves the application."""

    application = models.OneToOneField(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="commitment"
    )
    eligibility_decision = models.ForeignKey(
        "credit.EligibilityDecision",
        verbose_name=_("eligibility decision"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    notice_text = models.TextField(_("notification text shown"))
    notice_sha256 = models.CharField(_("SHA-256 of the notification text"), max_length=64)
    notice_item_version = models.PositiveIntegerField(_("notification version (item version)"))
    signer_name = models.CharField(_("name typed by the signer"), max_length=100)
    legal_representative = models.CharField(_("legal representative at signing"), max_length=100)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("signed by"), on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("signed commitment")
        verbose_name_plural = _("signed commitments")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.application} {self.signer_name}"


class InspectorConflict(models.Model):
    """A recorded conflict of interest: the inspector never inspects this enterprise (recusal)."""

    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        ordering = ["enterprise", "inspector"]
        constraints = [
            models.UniqueConstraint(fields=["inspector", "enterprise"], name="conflict_one_per_inspector_enterprise"),
        ]

    def __str__(self) -> str:
        return f"{self.inspector} / {self.enterprise}"


class Campaign(models.Model):
    """A random-inspection campaign (双随机): draft → frozen (rosters, ratios and recusals fixed,
    their hashes stored) → drawn (seed entered, sample made into inspection tasks)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FROZEN = "frozen", _("Rosters frozen")
        DRAWN = "drawn", _("Drawn")
        # A draw refused (a drawn target without two eligible inspectors) ends the campaign: trying
        # another seed until the sample suits would defeat the draw. The rosters need a new campaign.
        REFUSED = "refused", _("Draw refused")

    code = models.SlugField(_("campaign code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("organising department"), on_delete=models.PROTECT, related_name="+"
    )
    items = models.ManyToManyField(ApprovalItem, verbose_name=_("items whose certificate holders are targets"))
    ratios = models.JSONField(_("sampling ratio per grade"), default=dict)
    inspection_due_on = models.DateField(_("inspections due on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("frozen by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    targets_sha256 = models.CharField(_("target roster SHA-256"), max_length=64, blank=True)
    inspectors_sha256 = models.CharField(_("inspector roster SHA-256"), max_length=64, blank=True)
    recusals_sha256 = models.CharField(_("recusals SHA-256"), max_length=64, blank=True)
    seed = models.CharField(_("seed"), max_length=200, blank=True)
    seed_source = models.CharField(_("where the seed comes from"), max_length=300, blank=True)
    seed_entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("seed entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("random-inspection campaign")
        verbose_name_plural = _("random-inspection campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(frozen_at__isnull=False) & ~Q(targets_sha256="")),
                name="campaign_frozen_has_hashes",
                violation_error_message=_("A frozen campaign records when and the roster hashes."),
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(seed=""),
                name="campaign_refused_has_seed",
                violation_error_message=_("A refused draw records the seed it was refused with."),
            ),
            models.CheckConstraint(
                condition=~Q(status="drawn") | (Q(drawn_at__isnull=False) & ~Q(seed="")),
                name="campaign_drawn_has_seed",
                violation_error_message=_("A drawn campaign records its seed and when it was drawn."),
            ),
            models.CheckConstraint(
                condition=Q(seed="") | ~Q(status="draft"),
                name="campaign_seed_only_after_freeze",
                violation_error_message=_("The seed is entered only after the rosters are frozen."),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class _FrozenWithCampaign(models.Model):
    """Roster rows: editable while their campaign is a draft, never after the freeze."""

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if Campaign.objects.filter(pk=self.campaign_id).exclude(status=Campaign.Status.DRAFT).exists():  # type: ignore[attr-defined]
            raise ValueError("The rosters of a frozen campaign cannot change.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if Campaign.objects.filter(pk=self.campaign_id).exclude(status=Campaign.Status.DRAFT).exists():  # type: ignore[attr-defined]
            raise ValueError("The rosters of a frozen campaign cannot change.")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]


class CampaignTarget(_FrozenWithCampaign):
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="targets")
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    uscc = models.CharField(_("USCC"), max_length=18)
    name = models.CharField(_("name"), max_length=200)
    grade = models.CharField(_("credit grade at freeze"), max_length=1)

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        ordering = ["campaign", "uscc"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "uscc"], name="campaigntarget_one_per_uscc"),
            models.CheckConstraint(
                condition=Q(grade__in=["A", "B", "C", "D"]),
                name="campaigntarget_grade_known",
                violation_error_message=_("The grade is A, B, C or D."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uscc} {self.name} ({self.grade})"


class CampaignInspector(_FrozenWithCampaign):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="inspectors"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT)
    username = models.CharField(_("username"), max_length=150)

    class Meta:
        verbose_name = _("campaign inspector")
        verbose_name_plural = _("campaign inspectors")
        ordering = ["campaign", "username"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "username"], name="campaigninspector_one_per_username"),
        ]

    def __str__(self) -> str:
        return self.username


class CampaignRecusal(_FrozenWithCampaign):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="recusals"
    )
    uscc = models.CharField(_("USCC"), max_length=18)
    username = models.CharField(_("inspector"), max_length=150)
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        ordering = ["campaign", "uscc", "username"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "uscc", "username"], name="campaignrecusal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.uscc} / {self.username}"


class InspectionTask(models.Model):
    """Something an inspector pair must inspect by a date: the verification of a commitment, or a
    target drawn in a campaign. Its inspections are append-only records."""

    class Kind(models.TextChoices):
        VERIFICATION = "verification", _("Commitment verification (核查)")
        RANDOM = "random", _("Random inspection (双随机)")

    class Status(models.TextChoices):
        OPEN = "open", _("To inspect")
        RECTIFYING = "rectifying", _("Rectification ordered")
        CLOSED = "closed", _("Inspection closed")

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        RECTIFIED = "rectified", _("Passed after rectification")
        REVOKED = "revoked", _("Approval revoked")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
    )
    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
    )
    draw_position = models.PositiveIntegerField(_("position in the draw"), null=True, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("supervising department"), on_delete=models.PROTECT, related_name="+"
    )
    inspector_1 = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first inspector"), on_delete=models.PROTECT, related_name="+"
    )
    inspector_2 = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("second inspector"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due on"))
    due_provisional = models.BooleanField(_("due date is provisional"), default=False)
    flow_task_id = models.PositiveIntegerField(_("workflow task"), null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="inspectiontask_status_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(inspector_1=F("inspector_2")),
                name="inspectiontask_two_different_inspectors",
                violation_error_message=_("An inspection needs two different inspectors."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="inspectiontask_closed_has_outcome",
                violation_error_message=_("A closed inspection task records its outcome and when."),
            ),
            models.CheckConstraint(
                condition=(Q(kind="verification") & Q(application__isnull=False))
                | (Q(kind="random") & Q(campaign__isnull=False)),
                name="inspectiontask_kind_has_subject",
                violation_error_message=_("A verification has its application; a random inspection its campaign."),
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(kind="verification"),
                name="inspectiontask_one_verification_per_application",
            ),
            models.UniqueConstraint(
                fields=["campaign", "enterprise"],
                condition=Q(kind="random"),
                name="inspectiontask_one_per_campaign_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def inspector_ids(self) -> tuple[int, int]:
        return (self.inspector_1_id, self.inspector_2_id)  # type: ignore[return-value]


def _inspection_attachment_path(instance: InspectionAttachment, filename: str) -> str:
    # ``filename`` is generated by ``core.uploads.upload_store_name``.
    return f"inspections/{instance.inspection.task_id}/{filename}"


class Inspection(AppendOnlyModel):
    """One recorded inspection, never edited: a correction is a new record naming the one it
    corrects (and the newest record of a task is the one that counts)."""

    class Result(models.TextChoices):
        PASS = "pass", _("Conforms")
        RECTIFY = "rectify", _("Rectification needed")
        FALSE_COMMITMENT = "false_commitment", _("False commitment")
        FAIL = "fail", _("Does not conform")

    task = models.ForeignKey(
        InspectionTask, verbose_name=_("inspection task"), on_delete=models.PROTECT, related_name="inspections"
    )
    reinspection = models.BooleanField(_("re-inspection after rectification"), default=False)
    inspected_on = models.DateField(_("inspected on"))
    inspector_1 = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first inspector"), on_delete=models.PROTECT, related_name="+"
    )
    inspector_2 = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("second inspector"), on_delete=models.PROTECT, related_name="+"
    )
    checklist = models.JSONField(_("checklist"), default=list, encoder=DjangoJSONEncoder)
    findings = models.TextField(_("findings"))
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection record")
        verbose_name_plural = _("inspection records")
        ordering = ["task", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(inspector_1=F("inspector_2")),
                name="inspection_two_different_inspectors",
                violation_error_message=_("An inspection needs two different inspectors."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.inspected_on} {self.result}"


class InspectionAttachment(AppendOnlyModel):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=_inspection_attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("inspection attachment")
        verbose_name_plural = _("inspection attachments")
        ordering = ["inspection", "id"]


class RectificationOrder(models.Model):
    """An order to rectify within a deadline (限期整改), issued by an inspection. The enterprise
    reports completion; a deadline that passes unmet appends a credit entry; the re-inspection
    closes the order."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting rectification")
        REPORTED = "reported", _("Completion reported")
        MISSED = "missed", _("Deadline missed")
        MET = "met", _("Rectified")
        FAILED = "failed", _("Not rectified")

    task = models.ForeignKey(
        InspectionTask, verbose_name=_("inspection task"), on_delete=models.PROTECT, related_name="rectifications"
    )
    issued_by = models.OneToOneField(
        Inspection, verbose_name=_("ordered by inspection"), on_delete=models.PROTECT, related_name="rectification"
    )
    requirements = models.TextField(_("what must be rectified"))
    deadline = models.DateField(_("rectify by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reported_at = models.DateTimeField(_("completion reported at"), null=True, blank=True)
    report = models.TextField(_("completion report"), blank=True)
    missed_entry_seq = models.BigIntegerField(_("credit entry for the missed deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="reported") | Q(reported_at__isnull=False),
                name="rectification_reported_has_time",
                violation_error_message=_("A reported rectification records when."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["met", "failed"]) | Q(closed_at__isnull=False),
                name="rectification_closed_has_time",
                violation_error_message=_("A closed rectification order records when."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.deadline}"
