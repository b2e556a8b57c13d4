"""The credit ledger: the catalogue of entry kinds, the append-only hash-chained entries, and the
requests that lead to entries (manual proposals, objections, repairs, import batches).

The ledger table is protected by database triggers (UPDATE and DELETE refused, see migration
``0003_ledger_triggers``) and, on PostgreSQL, by the grants of the runtime role
(``manage.py ledger_runtime_role``). Every entry stores the hash of its canonical form
(``credit.ledger.hashing``) chained to the previous entry's hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from credit.ledger import hashing as ledger_hashing


class Tier(models.TextChoices):
    MINOR = "minor", _("Minor (轻微)")
    GENERAL = "general", _("General (一般)")
    SERIOUS = "serious", _("Serious (严重)")


# The column (an ORM lookup) behind each field of the canonical form, in its order
# (``credit.ledger.hashing.CANONICAL_FIELDS_V1``). Every column list of the ledger starts from this
# one definition: the verifier's rows, the auditor's export, the benchmark's bulk copy.
CANONICAL_COLUMNS_V1: tuple[str, ...] = tuple(
    {
        "enterprise_uscc": "enterprise__uscc",
        "recorded_by": "recorded_by_id",
        "approved_by": "approved_by_id",
        "reverses": "reverses_id",
    }.get(name, name)
    for name in ledger_hashing.CANONICAL_FIELDS_V1
)


class KindEffect(models.TextChoices):
    SCORE = "score", _("Counts towards the score")
    REPAIR = "repair", _("Repair: ends the effect of an earlier entry")
    REVERSAL = "reversal", _("Reversal: the earlier entry is void")


class CreditEntryKind(models.Model):
    """One version of a kind of credit event. Kinds are never edited in place: a change creates the
    next version (``credit.ledger.services.entry_kind_revise``) and entries keep the version they
    were recorded with, so an old grade is still computed with the rules of its time."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    default_points = models.IntegerField(_("default points"))
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    min_window_months = models.PositiveSmallIntegerField(_("minimum publication window (months)"))
    max_window_months = models.PositiveSmallIntegerField(_("maximum publication window (months)"))
    forces_grade_d = models.BooleanField(_("forces grade D while active"), default=False)
    effect = models.CharField(_("effect"), max_length=10, choices=KindEffect.choices, default=KindEffect.SCORE)
    is_current = models.BooleanField(_("current version"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit entry kind")
        verbose_name_plural = _("credit entry kinds")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="entrykind_code_version_unique"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(is_current=True),
                name="entrykind_one_current_version",
                violation_error_message=_("Only one version of a kind can be current."),
            ),
            models.CheckConstraint(
                condition=Q(min_window_months__lte=F("max_window_months")),
                name="entrykind_window_ordered",
                violation_error_message=_("The minimum window cannot exceed the maximum window."),
            ),
            models.CheckConstraint(
                # Publication windows in months per tier (信用修复管理办法, in force 2026-04-01):
                # minor at most 3, general 3 to 12, serious 12 to 36.
                condition=(Q(tier="minor") & Q(max_window_months__lte=3))
                | (Q(tier="general") & Q(min_window_months__gte=3) & Q(max_window_months__lte=12))
                | (Q(tier="serious") & Q(min_window_months__gte=12) & Q(max_window_months__lte=36)),
                name="entrykind_window_within_tier_limits",
                violation_error_message=_(
                    "Windows: minor at most 3 months; general 3 to 12 months; serious 12 to 36 months."
                ),
            ),
            models.CheckConstraint(
                condition=Q(effect="score") | Q(default_points=0),
                name="entrykind_correction_has_no_points",
                violation_error_message=_("Repair and reversal kinds carry no points."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name


class SourceType(models.TextChoices):
    APPLICATION = "application", _("Approval application")
    INSPECTION = "inspection", _("Inspection")
    IMPORT_BATCH = "import_batch", _("Import batch")
    MANUAL = "manual", _("Manual entry")
    REQUEST = "request", _("Objection or repair request")
    SYSTEM = "system", _("System")


class LookupPurpose(models.TextChoices):
    """What another authority may look an enterprise's grade up for (each look-up names one and is
    recorded with it): the uses of the grade the action plan names (§35, §36, §45)."""

    LOAN_GUARANTEE = "loan_guarantee", _("Government loan guarantee (贷款担保)")
    INTEREST_SUBSIDY = "interest_subsidy", _("Interest subsidy (贴息)")
    DEPOSIT_WAIVER = "deposit_waiver", _("Construction deposit waiver (保证金减免)")
    CREDIT_LENDING = "credit_lending", _("Credit decision of a bank (信贷审批)")
    PUBLIC_PROCUREMENT = "public_procurement", _("Public procurement and bidding (招标投标)")
    JUDICIAL = "judicial", _("Court proceedings and enforcement (司法执行)")
    SUPERVISION = "supervision", _("Supervision by an administrative authority (监管)")


class HashAlgorithm(models.TextChoices):
    SHA256 = "sha256", "SHA-256"
    SM3 = "sm3", "SM3"


class LedgerEntry(models.Model):
    """One append-only entry of the credit ledger.

    ``seq`` is the position in the one global chain (1, 2, 3 … without gaps), assigned under the
    chain-head lock. ``occurred_at`` is when the decision or fact happened (publication windows run
    from it), ``recorded_at`` when the ledger learnt of it (the grade as of T uses only entries
    recorded at or before T). People are referenced by id (``recorded_by``, ``approved_by``), never
    copied into the hashed content. Adding a field here means a new canonical-form version.
    """

    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.ForeignKey(CreditEntryKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    kind_code = models.SlugField(_("kind code"), max_length=40)
    kind_version = models.PositiveIntegerField(_("kind version"))
    points = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    deciding_authority = models.CharField(_("deciding authority"), max_length=200)
    document_number = models.CharField(_("document number (文书号)"), max_length=100, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    source_type = models.CharField(_("source type"), max_length=20, choices=SourceType.choices)
    source_id = models.CharField(_("source reference"), max_length=100)
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("ends the effect of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    hash_algorithm = models.CharField(_("hash algorithm"), max_length=10, choices=HashAlgorithm.choices)
    canonical_version = models.PositiveSmallIntegerField(_("canonical form version"))
    prev_hash = models.CharField(_("previous entry's hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("credit ledger entry")
        verbose_name_plural = _("credit ledger entries")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["enterprise", "seq"], name="ledgerentry_enterprise_seq"),
            models.Index(fields=["source_type", "source_id"], name="ledgerentry_source"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="ledgerentry_seq_positive"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(reverses__lt=F("seq")),
                name="ledgerentry_reverses_earlier_entry",
                violation_error_message=_("A correction can only refer to an earlier entry."),
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("recorded_by")),
                name="ledgerentry_four_eyes",
                violation_error_message=_("The person who proposed an entry cannot approve it."),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind_code} {self.points:+d}"


class LedgerHead(models.Model):
    """The chain head (one row, id 1): the lock that serialises appends, and the last sequence
    number and hash. Not trusted by verification, which recomputes from the entries."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ledger chain head")
        verbose_name_plural = _("ledger chain head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledgerhead_single_row")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.entry_hash[:12]}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ManualEntryProposal(models.Model):
    """A manual entry (or override) proposed by one credit-office member and approved or rejected
    by another (four-eyes). An approval appends the ledger entry naming both people."""

    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.ForeignKey(CreditEntryKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField(_("points"))
    occurred_on = models.DateField(_("date of the decision or fact"))
    deciding_authority = models.CharField(_("deciding authority"), max_length=200)
    document_number = models.CharField(_("document number (文书号)"), max_length=100, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    reason = models.TextField(_("reason"))
    justification = models.TextField(_("justification"))
    reverses = models.ForeignKey(
        LedgerEntry,
        verbose_name=_("ends the effect of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("ledger entry"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("manual entry proposal")
        verbose_name_plural = _("manual entry proposals")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="manualentry_four_eyes",
                violation_error_message=_("The person who proposed an entry cannot decide on it."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(decided_at__isnull=False) & Q(decided_by__isnull=False)),
                name="manualentry_decided_has_decider",
                violation_error_message=_("A decided proposal records who decided and when."),
            ),
            models.CheckConstraint(
                condition=~Q(status="granted") | Q(entry__isnull=False),
                name="manualentry_granted_has_entry",
                violation_error_message=_("An approved proposal refers to its ledger entry."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind.code} {self.points:+d} ({self.get_status_display()})"


class CreditRequest(models.Model):
    """An enterprise's objection (异议) to an entry or its request for credit repair (信用修复).

    Driven by ``workflows.credit_flows``; the decision is ``credit.ledger.services.credit_request_decide``.
    A granted objection appends a reversal, a granted repair a repair entry.
    """

    class Kind(models.TextChoices):
        OBJECTION = "objection", _("Objection (异议)")
        REPAIR = "repair", _("Credit repair (信用修复)")

    kind = models.CharField(_("request type"), max_length=10, choices=Kind.choices)
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="credit_requests"
    )
    entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, related_name="requests"
    )
    statement = models.TextField(_("statement"))
    evidence = models.TextField(_("evidence"))
    commitment = models.TextField(_("public credit commitment"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    due_on = models.DateField(_("decision due on"))
    # counted on weekdays only for a year the calendar does not cover yet (recomputed once entered)
    due_provisional = models.BooleanField(_("due date is provisional"), default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    result_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("resulting ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("objection or repair request")
        verbose_name_plural = _("objection and repair requests")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "kind"],
                condition=Q(status="pending"),
                name="creditrequest_one_open_per_entry_and_kind",
                violation_error_message=_("There is already an open request of this type for this entry."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(decided_at__isnull=False) & Q(decided_by__isnull=False)),
                name="creditrequest_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_reason=""),
                name="creditrequest_refusal_has_reason",
                violation_error_message=_("A refusal carries its reasons."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="repair") | ~Q(commitment=""),
                name="creditrequest_repair_has_commitment",
                violation_error_message=_("A repair request carries a public credit commitment."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.entry_id} ({self.get_status_display()})"


class ImportBatch(models.Model):
    """One CSV file of records from another authority, imported at most once (by content hash)."""

    file_name = models.CharField(_("file name"), max_length=200)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, unique=True)
    authority = models.CharField(_("supplying authority"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_added = models.PositiveIntegerField(_("rows added"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("rows already in the ledger"), default=0)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.authority})"


class GradeSnapshot(models.Model):
    """A stored grade, for speed only: always re-derivable from the ledger (tests compare
    stored snapshots with a recomputation). ``head_seq`` is the chain head the grade was computed on."""

    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateTimeField(_("as of"))
    head_seq = models.BigIntegerField(_("ledger head"))
    rule_version = models.CharField(_("rule version"), max_length=20)
    score = models.IntegerField(_("score"))
    grade = models.CharField(_("grade"), max_length=1)
    contributing = models.JSONField(_("contributing entries"), default=list)
    stable_until = models.DateTimeField(_("unchanged until"), null=True, blank=True)
    enterprise_last_seq = models.BigIntegerField(_("last entry of the enterprise"), default=0)
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade snapshot")
        verbose_name_plural = _("grade snapshots")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "as_of", "rule_version"], name="gradesnapshot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.score} @ {self.as_of:%Y-%m-%d %H:%M}"
