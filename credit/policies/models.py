"""Credit-gated preferential policies (惠企政策, §36, §45) and construction deposits (§35).

The catalogue (``Policy``) is edited by administrators; its eligibility rules and benefit
parameters live in numbered ``PolicyVersion``s: a draft is edited, a published version never is
(``policy_services.policy_version_publish`` freezes it and records the digest of its content).
Every eligibility check is an append-only ``EligibilityDecision`` holding everything it was
evaluated from, so that ``manage.py eligibility_replay`` re-derives it. Decisions and disbursements
are append-only in the database too: triggers refuse UPDATE and DELETE (``credit.ledger.triggers``,
migration ``0006_policy_records_append_only``) and the runtime role may only SELECT and INSERT them. Applications, grants and
disbursements are the policy office's side (``policy_services``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.audit import register_action_labels
from core.models import AppendOnlyModel
from credit.policies import rules as policies

# The subject type of a deposit decision about a construction project (EligibilityDecision.source_type).
SUBJECT_CONSTRUCTION_PROJECT = "construction_project"


class PolicyKind(models.TextChoices):
    LOAN_GUARANTEE = policies.LOAN_GUARANTEE, _("Loan guarantee (贷款担保)")
    INTEREST_SUBSIDY = policies.INTEREST_SUBSIDY, _("Interest subsidy (贴息)")
    DEPOSIT_WAIVER = policies.DEPOSIT_WAIVER, _("Deposit waiver (保证金减免)")
    FAST_TRACK = policies.FAST_TRACK, _("Fast-track approval (快速通道)")


# Kinds an enterprise applies for (the others are decided on a project or an approval item).
APPLICATION_KINDS = (PolicyKind.LOAN_GUARANTEE, PolicyKind.INTEREST_SUBSIDY)


class Policy(models.Model):
    """One preferential policy of the catalogue. Its rules are in its versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PolicyKind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    valid_from = models.DateField(_("in force from"))
    valid_until = models.DateField(_("in force until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("preferential policy")
        verbose_name_plural = _("preferential policies")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="policy_validity_ordered",
                violation_error_message=_("A policy cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class PolicyVersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published (in force)")
    SUPERSEDED = "superseded", _("Superseded")


class PolicyVersion(models.Model):
    """One numbered version of a policy's eligibility rules (``conditions``, a decision table, see
    ``credit.policies.rules``) and benefit parameters (``benefits``).

    A published or superseded version is never edited: ``save()`` refuses, the admin shows it
    read-only, and ``content_digest`` (sha256 of its content, taken at publication) lets a replay
    detect an edit made behind the application's back.
    """

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=PolicyVersionStatus.choices, default=PolicyVersionStatus.DRAFT
    )
    conditions = models.JSONField(_("eligibility conditions"), default=list, blank=True)
    benefits = models.JSONField(_("benefit parameters"), default=dict, blank=True)
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    content_digest = models.CharField(_("content digest (SHA-256)"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["policy__code", "-number"]
        permissions = [("publish_policyversion", _("Can publish a policy version"))]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="policyversion_number_unique",
                violation_error_message=_("This policy already has a version with this number."),
            ),
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="published"),
                name="policyversion_one_published",
                violation_error_message=_("A policy has at most one published version."),
            ),
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="draft"),
                name="policyversion_one_draft",
                violation_error_message=_("A policy has at most one draft version."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="policyversion_number_positive",
                violation_error_message=_("Version numbers start at 1."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(published_at__isnull=False) & ~Q(content_digest="")),
                name="policyversion_published_has_published_at",
                violation_error_message=_("A published version records when it was published and its digest."),
            ),
            models.CheckConstraint(
                condition=~Q(status="superseded") | Q(superseded_at__isnull=False),
                name="policyversion_superseded_has_superseded_at",
                violation_error_message=_("A superseded version records when it was superseded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.code} v{self.number} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Why: a published rule version is the basis of stored decisions; it is never edited. The
        # publish service changes status by a compare-and-swap update, which does not come here.
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored != PolicyVersionStatus.DRAFT:
                raise ValueError("A published policy version is never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status != PolicyVersionStatus.DRAFT:
            raise ValueError("A published policy version is never deleted.")
        return super().delete(*args, **kwargs)

    @property
    def rule_version(self) -> str:
        return str(self.number)

    def content(self) -> dict[str, Any]:
        """What the content digest covers."""
        return {"conditions": self.conditions, "benefits": self.benefits}


class DecisionPurpose(models.TextChoices):
    COMMITMENT_ROUTE = "commitment_route", _("Commitment route (告知承诺)")
    POLICY_CHECK = "policy_check", _("Eligibility check")
    POLICY_APPLICATION = "policy_application", _("Policy application")
    DEPOSIT_WAIVER = "deposit_waiver", _("Construction deposit (§35)")
    FAST_TRACK = "fast_track", _("Fast-track approval")


class DepositTier(models.TextChoices):
    EXEMPT = policies.EXEMPT, _("Exempt")
    REDUCED = policies.REDUCED, _("Reduced")
    FULL = policies.FULL, _("Full deposit")


class EligibilityDecision(AppendOnlyModel):
    """One eligibility check, with everything it was evaluated from and its answer.

    Inputs: the rule snapshot (``rule_snapshot``, the exact conditions and benefit parameters; for a
    policy also the version it came from), the as-of instant, ``known_through_seq`` (the last
    ledger entry of the enterprise visible to the check: later commits are not what was known),
    the entries considered (``facts``: each entry's scoring fields and its ledger ``entry_hash``),
    the extra inputs (``context``: a project's amounts, an approval item's code) and the subject.
    ``input_digest`` is the sha256 of their canonical JSON (``credit.policies.inputs_document``).
    Outputs: grade, score, result, reasons, hints and, for a deposit, tier, rate and amount.

    Never updated or deleted (database triggers). The ``credit.eligibility_decided`` audit event
    written in the same transaction repeats the digest and the result; the replay compares them.
    """

    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=DecisionPurpose.choices)
    policy_version = models.ForeignKey(
        PolicyVersion,
        verbose_name=_("policy version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    rule_code = models.CharField(_("rule"), max_length=40)
    rule_version = models.CharField(_("rule version"), max_length=20)
    rule_snapshot = models.JSONField(_("rule as evaluated"))
    as_of = models.DateTimeField(_("as of"))
    known_through_seq = models.BigIntegerField(_("last ledger entry known"))
    facts = models.JSONField(_("entries considered"), default=list)
    context = models.JSONField(_("other inputs"), default=dict, blank=True)
    source_type = models.CharField(_("subject type"), max_length=40)
    source_id = models.CharField(_("subject reference"), max_length=100)
    score_rule_version = models.CharField(_("score rule version"), max_length=20)
    grade = models.CharField(_("grade"), max_length=1)
    score = models.IntegerField(_("score"))
    eligible = models.BooleanField(_("eligible"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    hints = models.JSONField(_("what would change the answer"), default=list, blank=True)
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)
    deposit_tier = models.CharField(_("deposit tier"), max_length=10, choices=DepositTier.choices, blank=True)
    deposit_rate = models.DecimalField(_("deposit rate"), max_digits=6, decimal_places=4, null=True, blank=True)
    deposit_amount = models.DecimalField(
        _("deposit amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    input_digest = models.CharField(_("input digest (SHA-256)"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("eligibility decision")
        verbose_name_plural = _("eligibility decisions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["enterprise", "-created_at"], name="eligdecision_enterprise"),
            models.Index(fields=["source_type", "source_id"], name="eligdecision_subject"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=["A", "B", "C", "D"]),
                name="eligibilitydecision_grade_valid",
                violation_error_message=_("The grade is one of A, B, C, D."),
            ),
            models.CheckConstraint(
                condition=(Q(purpose="commitment_route") & Q(policy_version__isnull=True))
                | (~Q(purpose="commitment_route") & Q(policy_version__isnull=False)),
                name="eligibilitydecision_policy_purpose_has_version",
                violation_error_message=_("A policy decision names its policy version; the commitment route none."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(purpose="deposit_waiver")
                    & ~Q(deposit_tier="")
                    & Q(deposit_rate__isnull=False)
                    & Q(deposit_amount__isnull=False)
                )
                | (
                    ~Q(purpose="deposit_waiver")
                    & Q(deposit_tier="")
                    & Q(deposit_rate__isnull=True)
                    & Q(deposit_amount__isnull=True)
                ),
                name="eligibilitydecision_deposit_has_amount",
                violation_error_message=_("A deposit decision records its tier, rate and amount; others none."),
            ),
            models.CheckConstraint(
                condition=Q(deposit_amount__isnull=True) | Q(deposit_amount__gte=0),
                name="eligibilitydecision_deposit_amount_not_negative",
                violation_error_message=_("A deposit amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(input_digest__regex=r"^[0-9a-f]{64}$"),
                name="eligibilitydecision_has_digest",
                violation_error_message=_("A decision records the digest of its inputs."),
            ),
            models.CheckConstraint(
                condition=~Q(source_type="") & ~Q(source_id=""),
                name="eligibilitydecision_has_subject",
                violation_error_message=_("A decision names what it was taken for."),
            ),
        ]

    def __str__(self) -> str:
        verdict = _("eligible") if self.eligible else _("not eligible")
        return f"{self.rule_code} v{self.rule_version} {verdict} ({self.grade}, {self.as_of:%Y-%m-%d %H:%M})"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted (eligibility being checked)")
    PENDING_REVIEW = "pending_review", _("Awaiting the policy office")
    INELIGIBLE = "ineligible", _("Refused: not eligible")
    REFUSED = "refused", _("Refused by the policy office")
    APPROVED = "approved", _("Approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# At most one application of an enterprise per policy is in one of these.
OPEN_APPLICATION_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.PENDING_REVIEW)
DECIDED_APPLICATION_STATUSES = (
    ApplicationStatus.INELIGIBLE,
    ApplicationStatus.REFUSED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.WITHDRAWN,
)


class PolicyApplication(models.Model):
    """An enterprise's application for a loan guarantee or an interest subsidy.

    ``submitted`` lasts only inside the submitting transaction: the eligibility decision is
    recorded at once and the application is either refused (``ineligible``, nothing granted) or
    waits for the policy office, which approves (a ``PolicyGrant``) or refuses with reasons.
    """

    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="policy_applications"
    )
    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="applications")
    policy_version = models.ForeignKey(
        PolicyVersion, verbose_name=_("policy version"), on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    requested_amount = models.DecimalField(
        _("amount requested (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    requested_term_months = models.PositiveSmallIntegerField(_("term requested (months)"), null=True, blank=True)
    statement = models.TextField(_("purpose of the funds"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    eligibility = models.ForeignKey(
        EligibilityDecision,
        verbose_name=_("eligibility decision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # the day the policy office must have decided an eligible application by (working days after
    # submission, POLICY_REVIEW_WORKING_DAYS): a deadline on the warning ladder
    review_due_on = models.DateField(_("review due on"), null=True, blank=True)
    review_due_provisional = models.BooleanField(_("review due date is provisional"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)

    class Meta:
        verbose_name = _("policy application")
        verbose_name_plural = _("policy applications")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "policy"],
                condition=Q(status__in=["submitted", "pending_review"]),
                name="policyapplication_one_open_per_policy",
                violation_error_message=_("The enterprise already has an open application for this policy."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "pending_review"]) | Q(decided_at__isnull=False),
                name="policyapplication_decided_has_decided_at",
                violation_error_message=_("A decided application records when it was decided."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "refused"]) | Q(decided_by__isnull=False),
                name="policyapplication_reviewed_has_decider",
                violation_error_message=_("An approval or refusal records who decided."),
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_reason=""),
                name="policyapplication_refusal_has_reason",
                violation_error_message=_("A refusal carries its reasons."),
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(eligibility__isnull=False),
                name="policyapplication_checked_has_decision",
                violation_error_message=_("An application past submission refers to its eligibility decision."),
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__isnull=True) | Q(requested_amount__gt=0),
                name="policyapplication_requested_amount_positive",
                violation_error_message=_("The amount requested must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(requested_term_months__isnull=True) | Q(requested_term_months__gt=0),
                name="policyapplication_requested_term_positive",
                violation_error_message=_("The term requested must be positive."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.code} #{self.pk} ({self.get_status_display()})"


class PolicyGrant(models.Model):
    """What the policy office granted on an approved application. ``disbursed_total`` is kept with
    the disbursements under the grant's row lock; the database refuses a total above the amount."""

    application = models.OneToOneField(
        PolicyApplication, verbose_name=_("application"), on_delete=models.PROTECT, related_name="grant"
    )
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="policy_grants"
    )
    policy_version = models.ForeignKey(
        PolicyVersion, verbose_name=_("policy version"), on_delete=models.PROTECT, related_name="grants"
    )
    amount = models.DecimalField(_("amount granted (yuan)"), max_digits=16, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    disbursed_total = models.DecimalField(_("disbursed so far (yuan)"), max_digits=16, decimal_places=2, default=0)
    granted_at = models.DateTimeField(_("granted at"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("policy grant")
        verbose_name_plural = _("policy grants")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="policygrant_amount_positive",
                violation_error_message=_("The amount granted must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(term_months__gt=0),
                name="policygrant_term_positive",
                violation_error_message=_("The term must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(disbursed_total__gte=0) & Q(disbursed_total__lte=F("amount")),
                name="policygrant_disbursed_within_amount",
                violation_error_message=_("The disbursements cannot exceed the amount granted."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_version.policy.code} {self.amount} ({self.term_months})"

    @property
    def remaining(self) -> Any:
        return self.amount - self.disbursed_total


class Disbursement(AppendOnlyModel):
    """One instalment paid on a grant (subsidies paid in instalments). Never updated or deleted
    (database triggers): it records money that was paid."""

    grant = models.ForeignKey(
        PolicyGrant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="disbursements"
    )
    number = models.PositiveSmallIntegerField(_("instalment"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("payment reference"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["grant", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "number"],
                name="disbursement_number_unique",
                violation_error_message=_("This instalment has already been recorded."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive",
                violation_error_message=_("A disbursement amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="disbursement_number_positive",
                violation_error_message=_("Instalments are numbered from 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.amount} ({self.paid_on})"


class ConstructionProject(models.Model):
    """A construction project of an enterprise, for the §35 wage-deposit decision: the deposit is
    ``wage_deposit_base`` × the rate the enterprise's credit earns (an ``EligibilityDecision`` with
    purpose ``deposit_waiver`` and subject ``construction_project:<id>``)."""

    enterprise = models.ForeignKey(
        "credit.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="construction_projects",
    )
    name = models.CharField(_("project name"), max_length=200)
    reference = models.CharField(_("project reference (e.g. construction permit number)"), max_length=100, blank=True)
    contract_amount = models.DecimalField(_("contract amount (yuan)"), max_digits=16, decimal_places=2)
    wage_deposit_base = models.DecimalField(_("wage-deposit base (yuan)"), max_digits=16, decimal_places=2)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("construction project")
        verbose_name_plural = _("construction projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contract_amount__gt=0),
                name="constructionproject_contract_amount_positive",
                violation_error_message=_("The contract amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(wage_deposit_base__gte=0) & Q(wage_deposit_base__lte=F("contract_amount")),
                name="constructionproject_base_within_contract",
                violation_error_message=_("The wage-deposit base lies between zero and the contract amount."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Why here: ``credit.apps`` registers the ledger's labels; these come with the models that need them.
register_action_labels(
    {
        "credit.policy_created": _("Preferential policy created"),
        "credit.policy_changed": _("Preferential policy changed"),
        "credit.policy_draft_created": _("Policy version drafted"),
        "credit.policy_draft_changed": _("Policy version draft changed"),
        "credit.policy_published": _("Policy version published"),
        "credit.eligibility_decided": _("Eligibility decided"),
        "credit.policy_application_submitted": _("Policy application submitted"),
        "credit.policy_application_ineligible": _("Policy application refused: not eligible"),
        "credit.policy_application_approved": _("Policy application approved"),
        "credit.policy_application_refused": _("Policy application refused"),
        "credit.policy_application_withdrawn": _("Policy application withdrawn"),
        "credit.disbursement_recorded": _("Disbursement recorded"),
        "credit.construction_project_registered": _("Construction project registered"),
    }
)
