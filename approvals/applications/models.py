"""Applications and everything that happens to them: history, the statutory clock, steps,
opinions, the decision and the e-certificate."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from approvals.catalogue.models import ApprovalItemVersion, RequiredMaterial
from approvals.organisation.models import Department
from core.models import AppendOnlyModel

# The close facts the efficiency figures read, carried in the covering indexes below.
CLOSE_FACT_COLUMNS = [
    "item_version",
    "status",
    "on_time_promised",
    "on_time_statutory",
    "working_days_taken",
    "suspended_working_days",
    "supplement_requests",
]


class Application(models.Model):
    """The artifact of the standard approval flow (申请)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted, awaiting the window")
        AWAITING_SUPPLEMENT = "awaiting_supplement", _("Awaiting supplement (补正)")
        IN_REVIEW = "in_review", _("In review")
        AWAITING_DECISION = "awaiting_decision", _("Awaiting decision")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        NOT_ACCEPTED = "not_accepted", _("Not accepted (不予受理)")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (
        Status.SUBMITTED,
        Status.AWAITING_SUPPLEMENT,
        Status.IN_REVIEW,
        Status.AWAITING_DECISION,
    )
    CLOSED_STATUSES = (Status.APPROVED, Status.REFUSED, Status.NOT_ACCEPTED, Status.WITHDRAWN)

    class Route(models.TextChoices):
        STANDARD = "standard", _("Standard route")
        COMMITMENT = "commitment", _("Commitment route (告知承诺)")

    reference = models.CharField(_("reference number"), max_length=32, unique=True, null=True, blank=True)
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="applications"
    )
    item_version = models.ForeignKey(
        ApprovalItemVersion, verbose_name=_("item"), on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.DRAFT)
    route = models.CharField(_("route"), max_length=16, choices=Route.choices, default=Route.STANDARD)
    # The fast-track eligibility decision (credit policy) that granted this application a privilege
    # (a shorter promised limit, 容缺 acceptance), if any: shown on the application.
    fast_track_decision = models.ForeignKey(
        "credit.EligibilityDecision",
        verbose_name=_("fast track granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    form_data = models.JSONField(_("form data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    idempotency_key = models.UUIDField(_("idempotency key"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    deemed_accepted = models.BooleanField(_("deemed accepted (art. 32)"), default=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Derived from the clock events by approvals.calendar.clock.application_deadline; refreshed by the
    # service that appends an event, kept as columns so queues can sort by urgency in SQL.
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("deadline is provisional"), default=False)
    deadline_calendar_version = models.PositiveIntegerField(
        _("calendar version of the deadline"), null=True, blank=True
    )
    clock_suspended = models.BooleanField(_("clock suspended"), default=False)
    # The statutory limit's deadline (法定时限, 行政许可法 art. 42) on the same events; ``deadline``
    # above is the promised one (承诺时限). Null before acceptance, and on rows written before the
    # column existed until their clock is next refreshed (pages show "—").
    statutory_deadline = models.DateField(_("statutory deadline"), null=True, blank=True)
    statutory_deadline_provisional = models.BooleanField(_("statutory deadline is provisional"), default=False)
    # 行政许可法 art. 42: the working days of approved extensions, and their cap (the item's, copied
    # when the application is submitted). The database refuses a total above the cap.
    extension_days = models.PositiveSmallIntegerField(_("extension working days granted"), default=0)
    extension_cap = models.PositiveSmallIntegerField(_("longest extension (working days)"), default=10)
    # The close facts (效能监管): written once, when the case closes, by
    # approvals.applications.close_facts from the clock events and the calendar (and by its backfill
    # for cases closed before these columns existed), so that the efficiency figures are SQL
    # aggregates over columns. ``closed_on`` is null while the case is open (and on a closed case the
    # backfill has not reached yet); the clock facts are null for a case that was never accepted.
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    working_days_taken = models.PositiveSmallIntegerField(
        _("working days taken (acceptance to close, less excluded days)"), null=True, blank=True
    )
    on_time_promised = models.BooleanField(_("closed within the promised limit"), null=True, blank=True)
    on_time_statutory = models.BooleanField(_("closed within the statutory limit"), null=True, blank=True)
    suspended_working_days = models.PositiveSmallIntegerField(_("suspended working days"), null=True, blank=True)
    supplement_requests = models.PositiveSmallIntegerField(_("supplement requests"), null=True, blank=True)
    close_facts_provisional = models.BooleanField(_("close facts are provisional"), default=False)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["enterprise", "-created_at"], name="application_enterprise_recent"),
            models.Index(fields=["status", "deadline"], name="application_status_deadline"),
            # The dashboard's figures of closed cases for the whole bureau: a range of close days.
            # Covering (PostgreSQL INCLUDE), so the aggregate reads the index only, never the rows.
            models.Index(
                fields=["closed_on"],
                include=CLOSE_FACT_COLUMNS,
                condition=Q(closed_on__isnull=False),
                name="application_closed_by_day",
            ),
            # The same for one department or one item: its item versions, each a range of close days
            # (a department filter is ``item_version IN (its versions)``, see bench/dashboard_bench.py
            # for why the lead department is not copied onto the row).
            models.Index(
                fields=["item_version", "closed_on"],
                include=CLOSE_FACT_COLUMNS[1:],
                condition=Q(closed_on__isnull=False),
                name="application_closed_by_item",
            ),
            # "Received" and "accepted, deemed accepted" in a period: a range of days, the version for
            # the department, index only.
            models.Index(fields=["received_on", "item_version"], name="application_received_by_day"),
            models.Index(
                fields=["accepted_on", "item_version"], include=["deemed_accepted"], name="application_accepted_by_day"
            ),
            # The closed cases the backfill has still to reach (its work list, and the dashboard's
            # warning that some are not counted yet): empty once it has run.
            models.Index(
                fields=["id"],
                condition=Q(status__in=["approved", "refused", "not_accepted", "withdrawn"], closed_on__isnull=True),
                name="application_facts_missing",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                name="application_idempotency_key_unique_per_applicant",
                violation_error_message=_("This submission was already received."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(reference__isnull=False) & Q(submitted_at__isnull=False) & Q(received_on__isnull=False)),
                name="application_submitted_has_reference",
                violation_error_message=_("A submitted application has a reference number and a submission time."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["in_review", "awaiting_decision", "approved", "refused"])
                | Q(accepted_on__isnull=False),
                name="application_accepted_has_accepted_on",
                violation_error_message=_("An application under review or decided records its acceptance day."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "refused", "not_accepted"]) | Q(decided_at__isnull=False),
                name="application_decided_has_decided_at",
                violation_error_message=_("A decided application records when it was decided."),
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(withdrawn_at__isnull=False),
                name="application_withdrawn_has_withdrawn_at",
                violation_error_message=_("A withdrawn application records when it was withdrawn."),
            ),
            models.CheckConstraint(
                condition=Q(extension_days__lte=models.F("extension_cap")) & Q(extension_cap__lte=15),
                name="application_extension_within_cap",
                violation_error_message=_(
                    "Extensions may not exceed the item's cap (art. 42: 10 working days, 15 for joint processing)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(
                    status__in=["approved", "refused", "not_accepted", "withdrawn"],
                    suspended_working_days__isnull=False,
                ),
                name="application_close_facts_only_when_closed",
                violation_error_message=_(
                    "Only a closed application has close facts, and they name its suspended days."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(working_days_taken__isnull=True)
                    & Q(on_time_promised__isnull=True)
                    & Q(on_time_statutory__isnull=True)
                )
                | (
                    Q(closed_on__isnull=False)
                    & Q(accepted_on__isnull=False)
                    & Q(working_days_taken__isnull=False)
                    & Q(on_time_promised__isnull=False)
                ),
                name="application_cycle_facts_need_acceptance_and_close",
                violation_error_message=_(
                    "Working days taken and keeping the limits are recorded together, for a case accepted and closed."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(on_time_statutory=False) | Q(on_time_promised=False),
                name="application_statutory_overrun_is_promised_overrun",
                violation_error_message=_(
                    "A case past its statutory limit is past its promised limit too (promised ≤ statutory)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.reference or _("Draft %(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ReferenceSequence(models.Model):
    """The last reference number issued per prefix; incremented under a row lock in the
    submitting transaction, so a rolled-back submission leaves no gap."""

    prefix = models.CharField(max_length=32, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference sequence")
        verbose_name_plural = _("reference sequences")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


def _material_path(instance: ApplicationMaterial, filename: str) -> str:
    # ``filename`` is generated by ``core.uploads.upload_store_name``: nothing the uploader chose
    # reaches the file system, and two uploads never collide.
    return f"applications/{instance.application_id}/{filename}"


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="materials"
    )
    required_material = models.ForeignKey(
        RequiredMaterial, verbose_name=_("material"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to=_material_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    supplement = models.ForeignKey(
        "SupplementNotice",
        verbose_name=_("in answer to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="materials",
    )

    class Meta:
        verbose_name = _("application material")
        verbose_name_plural = _("application materials")
        ordering = ["application", "required_material__position", "id"]

    def __str__(self) -> str:
        return self.original_name


class ApplicationEvent(AppendOnlyModel):
    """Append-only history of an application: every transition, with actor, time, from, to, comment."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=48)
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["application", "at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class SupplementNotice(models.Model):
    """A request for material: before acceptance the one 补正 notice (the clock has not started),
    after acceptance a request that suspends the clock."""

    class Stage(models.TextChoices):
        BEFORE_ACCEPTANCE = "before_acceptance", _("Before acceptance (补正)")
        AFTER_ACCEPTANCE = "after_acceptance", _("After acceptance (clock suspended)")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="supplements"
    )
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(_("missing or insufficient items"), default=list, encoder=DjangoJSONEncoder)
    message = models.TextField(_("message"))
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answer = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("supplement notice")
        verbose_name_plural = _("supplement notices")
        ordering = ["application", "requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(stage="before_acceptance"),
                name="supplement_one_notice_before_acceptance",
                violation_error_message=_("Only one supplement notice may be sent before acceptance."),
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(answered_at__isnull=True),
                name="supplement_one_open_per_application",
                violation_error_message=_("This application already has an unanswered supplement request."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.requested_at:%Y-%m-%d}"


class ClockEvent(AppendOnlyModel):
    """Append-only facts of the statutory clock, from which the deadline is recomputed."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        SUSPENDED = "suspended", _("Suspended")
        RESUMED = "resumed", _("Resumed")
        EXTENDED = "extended", _("Extended")
        STOPPED = "stopped", _("Stopped")

    class Reason(models.TextChoices):
        """Why the clock stands still: a supplement request, or one of the grounds of art. 45 — and
        nothing else (a site inspection, art. 34, is done within the time limit)."""

        SUPPLEMENT = "supplement", _("Supplementary material requested")
        HEARING = "hearing", _("Hearing (art. 45)")
        BIDDING_AUCTION = "bidding_auction", _("Bidding or auction (art. 45)")
        TESTING = "testing", _("Testing, inspection or quarantine (art. 45)")
        APPRAISAL = "appraisal", _("Appraisal (art. 45)")
        EXPERT_REVIEW = "expert_review", _("Expert review (art. 45)")

    ART45_GROUNDS = (
        Reason.HEARING,
        Reason.BIDDING_AUCTION,
        Reason.TESTING,
        Reason.APPRAISAL,
        Reason.EXPERT_REVIEW,
    )

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="clock_events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    on = models.DateField(_("day"))
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices, blank=True)
    # an extension: the working days granted; an art. 45 period: the working days it is expected to
    # take, told to the applicant in writing (the clock counts the days it actually lasted)
    days = models.PositiveSmallIntegerField(_("working days"), null=True, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)
    deemed = models.BooleanField(_("by operation of law"), default=False)

    class Meta:
        verbose_name = _("clock event")
        verbose_name_plural = _("clock events")
        ordering = ["application", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="extended") | (Q(days__gte=1) & Q(approver__isnull=False)),
                name="clockevent_extension_has_days_and_approver",
                violation_error_message=_("An extension names its working days and its approver."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="suspended") | ~Q(reason=""),
                name="clockevent_suspension_has_reason",
                violation_error_message=_("A suspension names its reason."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="suspended")
                | Q(reason__in=["supplement", "hearing", "bidding_auction", "testing", "appraisal", "expert_review"]),
                name="clockevent_suspension_lawful_ground",
                violation_error_message=_(
                    "The clock stands still only for a supplement request or a ground of art. 45."
                ),
            ),
            models.CheckConstraint(
                # (a NULL would pass a bare ``days >= 1``: SQL's CHECK accepts unknown)
                condition=~Q(kind="suspended") | Q(reason="supplement") | (Q(days__isnull=False) & Q(days__gte=1)),
                name="clockevent_art45_has_expected_days",
                violation_error_message=_("An art. 45 period names the working days it is expected to take."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on:%Y-%m-%d} {self.get_kind_display()}"


class ExtensionRequest(models.Model):
    """An art. 42 extension asked for by a decision maker of the lead department and approved or
    refused by the head of the bureau (本行政机关负责人) — never by the person who asked."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the head of the bureau")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="extension_requests"
    )
    days = models.PositiveSmallIntegerField(_("extra working days"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="pending"),
                name="extensionrequest_one_pending_per_application",
                violation_error_message=_("This application already has an extension request awaiting the head."),
            ),
            models.CheckConstraint(
                condition=Q(days__gte=1) & Q(days__lte=15),
                name="extensionrequest_days_in_range",
                violation_error_message=_("An extension is 1 to 15 working days."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="extensionrequest_decided_has_decider",
                violation_error_message=_("A decided extension request records who decided and when."),
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="extensionrequest_not_approved_by_requester",
                violation_error_message=_("The head of the bureau, not the person who asked, decides an extension."),
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_comment=""),
                name="extensionrequest_refusal_has_reasons",
                violation_error_message=_("A refusal gives reasons."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} +{self.days}"


class Step(models.Model):
    """One human step of the flow (window, each department's review, decision) with its own
    deadline and claim record; viewflow's ``Task.assigned`` is never written, so claim times live here."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("Acceptance at the window")
        REVIEW = "review", _("Department review")
        DECIDE = "decide", _("Decision")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="steps"
    )
    kind = models.CharField(_("step"), max_length=16, choices=Kind.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="steps"
    )
    task_id = models.PositiveIntegerField(_("workflow task"), unique=True, null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    due_provisional = models.BooleanField(_("due date is provisional"), default=False)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["application", "opened_at", "id"]
        indexes = [
            models.Index(fields=["department", "closed_at", "due_on"], name="step_open_by_department"),
            # The dashboard's steps by person: the steps someone handled, closed in a period.
            models.Index(
                fields=["closed_at"],
                include=["claimed_by", "department", "due_on"],
                condition=Q(closed_at__isnull=False, claimed_by__isnull=False),
                name="step_handled_by_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.department}"


class ReviewOpinion(models.Model):
    """A co-review department's opinion; deemed consent is recorded against the department."""

    class Outcome(models.TextChoices):
        AGREE = "agree", _("Agree (同意)")
        DISAGREE = "disagree", _("Disagree (不同意)")
        AGREE_FORWARD = "agree_forward", _("Agree, to be forwarded (同意但需转报)")
        DEEMED_CONSENT = "deemed_consent", _("Deemed consent")

    class DeemedBecause(models.TextChoices):
        TIMEOUT = "timeout", _("No answer by the step deadline")
        NO_REASONS = "no_reasons", _("Disagreed without reasons")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="opinions"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="opinions"
    )
    outcome = models.CharField(_("opinion"), max_length=16, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deemed_because = models.CharField(_("deemed because"), max_length=16, choices=DeemedBecause.choices, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("review opinion")
        verbose_name_plural = _("review opinions")
        ordering = ["application", "department__code"]
        indexes = [
            # The dashboard's deemed consents (against a department) in a period: a small part of
            # the opinions, so a partial index by time.
            models.Index(
                fields=["at"],
                include=["department", "application"],
                condition=Q(outcome="deemed_consent"),
                name="opinion_deemed_consent_by_time",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["application", "department"], name="opinion_one_per_department"),
            models.CheckConstraint(
                condition=~Q(outcome="disagree") | ~Q(reasons=""),
                name="opinion_disagree_has_reasons",
                violation_error_message=_("Disagreement needs reasons."),
            ),
            models.CheckConstraint(
                condition=~Q(outcome="deemed_consent") | ~Q(deemed_because=""),
                name="opinion_deemed_consent_has_cause",
                violation_error_message=_("Deemed consent records why."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.get_outcome_display()}"


class Decision(models.Model):
    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    application = models.OneToOneField(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(_("decision"), max_length=16, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"), blank=True)
    override_justification = models.TextField(_("why approved over an objection"), blank=True)
    # Empty for a decision made on a signed commitment (告知承诺): the system approves on the spot.
    decider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)
    opinions = models.JSONField(_("opinions the decision was based on"), default=list, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="refused") | ~Q(reasons=""),
                name="decision_refusal_has_reasons",
                violation_error_message=_("A refusal needs reasons."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_outcome_display()


class Certificate(models.Model):
    """An e-certificate (电子证照), with an identifier in the spirit of GB/T 36904 and the core
    metadata of GB/T 36903 (type, number, holder and holder code, issuer, issue date, validity)."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("certificate number"), max_length=64, unique=True)
    verification_code = models.CharField(_("verification code"), max_length=32, unique=True)
    application = models.OneToOneField(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="certificate"
    )
    enterprise = models.ForeignKey(
        "credit.Enterprise", verbose_name=_("holder"), on_delete=models.PROTECT, related_name="certificates"
    )
    item_version = models.ForeignKey(
        ApprovalItemVersion, verbose_name=_("item"), on_delete=models.PROTECT, related_name="certificates"
    )
    certificate_type = models.CharField(_("certificate type"), max_length=100)
    holder_name = models.CharField(_("holder name"), max_length=200)
    holder_code = models.CharField(_("holder code (USCC)"), max_length=18)
    issuer = models.ForeignKey(Department, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    class Meta:
        verbose_name = _("e-certificate")
        verbose_name_plural = _("e-certificates")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="revoked") | (Q(revoked_at__isnull=False) & ~Q(revocation_reason="")),
                name="certificate_revoked_has_time_and_reason",
                violation_error_message=_("A revoked certificate records when and why."),
            ),
        ]

    def __str__(self) -> str:
        return self.number


def _written_notice_path(instance: WrittenNotice, filename: str) -> str:
    return f"notices/{instance.application_id}/{filename}"


class WrittenNotice(AppendOnlyModel):
    """A written document the law asks for at a step of the procedure (行政许可法 arts. 32, 38, 42,
    45; orders to rectify, revocations), generated as a PDF from the stored records in the
    transaction of the step's event, numbered without gaps, and kept with its SHA-256."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("Notice of acceptance (受理通知书)")
        SUPPLEMENT = "supplement", _("Notice to supplement materials (补正材料通知书)")
        NOT_ACCEPTED = "not_accepted", _("Decision not to accept (不予受理决定书)")
        APPROVAL = "approval", _("Decision to grant the licence (准予行政许可决定书)")
        REFUSAL = "refusal", _("Decision not to grant the licence (不予行政许可决定书)")
        EXTENSION = "extension", _("Notice of extension (延期通知书)")
        SUSPENSION = "suspension", _("Notice of an excluded period (art. 45)")
        RECTIFICATION = "rectification", _("Order to rectify (责令整改通知书)")
        REVOCATION = "revocation", _("Decision to revoke (撤销决定书)")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="written_notices"
    )
    event = models.OneToOneField(
        ApplicationEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="written_notice"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    file = models.FileField(_("file"), upload_to=_written_notice_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("written notice")
        verbose_name_plural = _("written notices")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number
