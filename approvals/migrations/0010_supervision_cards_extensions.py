"""Issue 13: supervision cards and their trail; art. 42 extension requests approved by the head of
the bureau, with the cap as a database constraint; the art. 45 grounds (nothing else) with the
expected duration of each excluded period.

The data step runs before the new constraints: an existing application gets its item's cap and the
days already extended; a suspension recorded under the former "site inspection or appraisal" ground
becomes an appraisal (a site inspection is not an art. 45 ground) and an art. 45 period without an
expected duration gets the working days it lasted (1 while still open). The clock trail is
append-only, so its triggers are lifted for that one correction of the schema's own history and
created again, as after every migration that alters (and on SQLite rebuilds) the table.
"""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _working_days(exceptions, start, end):
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if exceptions.get(day, day.weekday() < 5):
            count += 1
    return max(count, 1)


def backfill(apps, schema_editor):
    from core.append_only import triggers_create, triggers_drop

    Application = apps.get_model("approvals", "Application")
    ClockEvent = apps.get_model("approvals", "ClockEvent")
    CalendarDay = apps.get_model("approvals", "CalendarDay")
    for application in Application.objects.select_related("item_version").iterator():
        days = sum(
            ClockEvent.objects.filter(application_id=application.pk, kind="extended").values_list("days", flat=True)
        )
        cap = min(max(application.item_version.max_extension_days, days), 15)
        Application.objects.filter(pk=application.pk).update(extension_cap=cap, extension_days=min(days, cap))
    legacy = ClockEvent.objects.filter(kind="suspended").exclude(reason="supplement")
    legacy = legacy.filter(models.Q(reason="site_inspection") | models.Q(days__isnull=True))
    if not legacy.exists():
        return
    exceptions = {row.date: row.kind == "workday" for row in CalendarDay.objects.filter(removed_in__isnull=True)}
    triggers_drop(schema_editor.connection, app_label="approvals")
    for event in legacy:
        resumed = (
            ClockEvent.objects.filter(application_id=event.application_id, kind="resumed", at__gt=event.at)
            .order_by("at")
            .first()
        )
        days = event.days or (_working_days(exceptions, event.on, resumed.on) if resumed else 1)
        reason = "appraisal" if event.reason == "site_inspection" else event.reason
        ClockEvent.objects.filter(pk=event.pk).update(reason=reason, days=days)
    triggers_create(schema_editor.connection, app_label="approvals")


def triggers(apps, schema_editor):
    from core.append_only import triggers_create

    triggers_create(schema_editor.connection, app_label="approvals")


def triggers_off(apps, schema_editor):
    from core.append_only import table_triggers_drop

    table_triggers_drop(schema_editor.connection, tables=("approvals_cardevent",))


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0009_application_statutory_deadline"),
        ("credit", "0007_membership_letter_type"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CardEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("raised", "Raised"),
                            ("answered", "Department answered"),
                            ("accepted", "Answer accepted"),
                            ("escalated", "Escalated to a red card"),
                            ("rectified", "Rectification reported"),
                            ("closed", "Closed with accountability"),
                        ],
                        max_length=16,
                        verbose_name="action",
                    ),
                ),
                ("on", models.DateField(verbose_name="day")),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="time")),
                ("comment", models.TextField(blank=True, verbose_name="comment")),
            ],
            options={
                "verbose_name": "card event",
                "verbose_name_plural": "card events",
                "ordering": ["card", "at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ExtensionRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("days", models.PositiveSmallIntegerField(verbose_name="extra working days")),
                ("reason", models.TextField(verbose_name="reason")),
                ("requested_at", models.DateTimeField(auto_now_add=True, verbose_name="requested at")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Awaiting the head of the bureau"),
                            ("approved", "Approved"),
                            ("refused", "Refused"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided at")),
                ("decision_comment", models.TextField(blank=True, verbose_name="comment")),
            ],
            options={
                "verbose_name": "extension request",
                "verbose_name_plural": "extension requests",
                "ordering": ["-requested_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SupervisionCard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "subject_type",
                    models.CharField(
                        choices=[
                            ("case", "Case"),
                            ("step", "Step of a case"),
                            ("opinion", "Review opinion"),
                            ("verification", "Inspection or commitment verification"),
                            ("rectification", "Rectification report"),
                            ("credit_request", "Credit objection or repair decision"),
                            ("policy_review", "Policy application review"),
                        ],
                        max_length=16,
                        verbose_name="subject",
                    ),
                ),
                ("subject_id", models.PositiveIntegerField(verbose_name="subject id")),
                ("subject_label", models.CharField(max_length=80, verbose_name="subject reference")),
                (
                    "office",
                    models.CharField(
                        blank=True,
                        choices=[("", "—"), ("credit_office", "Credit office"), ("policy_office", "Policy office")],
                        max_length=16,
                        verbose_name="addressed to office",
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("reminder", "Reminder"),
                            ("yellow", "Yellow card (督办)"),
                            ("red", "Red card (整改)"),
                        ],
                        max_length=8,
                        verbose_name="level",
                    ),
                ),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("approaching", "Deadline approaching"),
                            ("overdue", "Deadline passed"),
                            ("step_overrun", "A step overran its own limit"),
                            ("not_accepted_in_window", "Not accepted or refused within the window"),
                            ("statutory_overrun", "Past the statutory time limit"),
                            ("refusal_without_reasons", "Disagreement without reasons"),
                        ],
                        max_length=32,
                        verbose_name="trigger",
                    ),
                ),
                ("raised_on", models.DateField(verbose_name="raised on")),
                ("raised_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded at")),
                ("due_on", models.DateField(blank=True, null=True, verbose_name="deadline measured")),
                ("reply_due_on", models.DateField(blank=True, null=True, verbose_name="answer due on")),
                ("calendar_version", models.PositiveIntegerField(verbose_name="calendar version")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("notified", "Reminder sent"),
                            ("awaiting_answer", "Awaiting the department's answer"),
                            ("answered", "Answered, awaiting the supervisor"),
                            ("accepted", "Answer accepted"),
                            ("escalated", "Escalated to a red card"),
                            ("awaiting_rectification", "Awaiting rectification"),
                            ("rectified", "Rectification reported, awaiting the supervisor"),
                            ("closed", "Closed with accountability decided"),
                        ],
                        max_length=24,
                        verbose_name="status",
                    ),
                ),
                ("process_id", models.PositiveIntegerField(blank=True, null=True, verbose_name="supervision process")),
                ("notice_number", models.CharField(blank=True, max_length=40, verbose_name="notice number")),
                (
                    "notice_file",
                    models.FileField(blank=True, max_length=200, upload_to="supervision/", verbose_name="notice"),
                ),
                ("notice_sha256", models.CharField(blank=True, max_length=64, verbose_name="notice SHA-256")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="closed at")),
                (
                    "accountability",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("none", "No accountability (objective reasons established)"),
                            ("reminder_talk", "Reminder talk (提醒谈话)"),
                            ("criticism", "Criticism and education (批评教育)"),
                            ("written_self_examination", "Written self-examination ordered (书面检查)"),
                            ("circulated_criticism", "Circulated criticism (通报批评)"),
                            ("admonishment", "Admonishment talk (诫勉谈话)"),
                            ("referred", "Referred to the discipline inspection body (移送纪检监察)"),
                        ],
                        max_length=32,
                        verbose_name="accountability",
                    ),
                ),
                ("accountability_reasons", models.TextField(blank=True, verbose_name="reasons")),
            ],
            options={
                "verbose_name": "supervision card",
                "verbose_name_plural": "supervision cards",
                "ordering": ["-raised_on", "-id"],
            },
        ),
        migrations.AlterModelOptions(
            name="department",
            options={
                "default_permissions": ("add", "change", "view"),
                "ordering": ["jurisdiction__code", "code"],
                "permissions": [
                    ("accept_application", "Can accept applications at the one-window desk (per department)"),
                    ("review_application", "Can review applications for the department (per department)"),
                    ("decide_application", "Can decide applications for the lead department (per department)"),
                    ("inspect_enterprise", "Can carry out inspections (per department)"),
                    ("supervise", "Can watch deadlines and escalations (e-supervision)"),
                    ("approve_extension", "Can approve extensions of the time limit (head of the agency, art. 42)"),
                    ("audit", "Can read every case as an auditor"),
                    ("administer", "Can administer the catalogue, departments and users"),
                ],
                "verbose_name": "department",
                "verbose_name_plural": "departments",
            },
        ),
        migrations.AddField(
            model_name="application",
            name="extension_cap",
            field=models.PositiveSmallIntegerField(default=10, verbose_name="longest extension (working days)"),
        ),
        migrations.AddField(
            model_name="application",
            name="extension_days",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="extension working days granted"),
        ),
        migrations.AlterField(
            model_name="clockevent",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("supplement", "Supplementary material requested"),
                    ("hearing", "Hearing (art. 45)"),
                    ("bidding_auction", "Bidding or auction (art. 45)"),
                    ("testing", "Testing, inspection or quarantine (art. 45)"),
                    ("appraisal", "Appraisal (art. 45)"),
                    ("expert_review", "Expert review (art. 45)"),
                ],
                max_length=32,
                verbose_name="reason",
            ),
        ),
        migrations.AlterField(
            model_name="roleassignment",
            name="role",
            field=models.CharField(
                choices=[
                    ("desk", "One-window desk"),
                    ("reviewer", "Department reviewer"),
                    ("decider", "Lead-department decision maker"),
                    ("inspector", "Inspector"),
                    ("credit_office", "Credit office"),
                    ("policy_office", "Policy office"),
                    ("supervisor", "Supervisor (e-supervision)"),
                    ("auditor", "Auditor"),
                    ("bureau_head", "Head of the bureau"),
                    ("administrator", "Administrator"),
                ],
                max_length=32,
                verbose_name="role",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.CheckConstraint(
                condition=models.Q(("extension_days__lte", models.F("extension_cap")), ("extension_cap__lte", 15)),
                name="application_extension_within_cap",
                violation_error_message="Extensions may not exceed the item's cap (art. 42: 10 working days, 15 for joint processing).",
            ),
        ),
        migrations.AddConstraint(
            model_name="approvalitemversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("max_extension_days__lte", 15)),
                name="itemversion_extension_within_art42",
                violation_error_message="Art. 42 allows at most 10 working days of extension (15 for joint processing).",
            ),
        ),
        migrations.AddConstraint(
            model_name="clockevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "suspended"), _negated=True),
                    (
                        "reason__in",
                        ["supplement", "hearing", "bidding_auction", "testing", "appraisal", "expert_review"],
                    ),
                    _connector="OR",
                ),
                name="clockevent_suspension_lawful_ground",
                violation_error_message="The clock stands still only for a supplement request or a ground of art. 45.",
            ),
        ),
        migrations.AddConstraint(
            model_name="clockevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "suspended"), _negated=True),
                    ("reason", "supplement"),
                    models.Q(("days__isnull", False), ("days__gte", 1)),
                    _connector="OR",
                ),
                name="clockevent_art45_has_expected_days",
                violation_error_message="An art. 45 period names the working days it is expected to take.",
            ),
        ),
        migrations.AddField(
            model_name="cardevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by",
            ),
        ),
        migrations.AddField(
            model_name="extensionrequest",
            name="application",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="extension_requests",
                to="approvals.application",
                verbose_name="application",
            ),
        ),
        migrations.AddField(
            model_name="extensionrequest",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="decided by",
            ),
        ),
        migrations.AddField(
            model_name="extensionrequest",
            name="requested_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="requested by",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="application",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="supervision_cards",
                to="approvals.application",
                verbose_name="application",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="closed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="closed by",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="supervision_cards",
                to="approvals.department",
                verbose_name="addressed to",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="escalated_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="escalated by",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="handler",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="handler",
            ),
        ),
        migrations.AddField(
            model_name="supervisioncard",
            name="yellow",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="red_cards",
                to="approvals.supervisioncard",
                verbose_name="yellow card",
            ),
        ),
        migrations.AddField(
            model_name="cardevent",
            name="card",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="approvals.supervisioncard",
                verbose_name="card",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("application",),
                name="extensionrequest_one_pending_per_application",
                violation_error_message="This application already has an extension request awaiting the head.",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("days__gte", 1), ("days__lte", 15)),
                name="extensionrequest_days_in_range",
                violation_error_message="An extension is 1 to 15 working days.",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "pending"),
                    models.Q(("decided_by__isnull", False), ("decided_at__isnull", False)),
                    _connector="OR",
                ),
                name="extensionrequest_decided_has_decider",
                violation_error_message="A decided extension request records who decided and when.",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("decided_by__isnull", True),
                    models.Q(("decided_by", models.F("requested_by")), _negated=True),
                    _connector="OR",
                ),
                name="extensionrequest_not_approved_by_requester",
                violation_error_message="The head of the bureau, not the person who asked, decides an extension.",
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "refused"), _negated=True),
                    models.Q(("decision_comment", ""), _negated=True),
                    _connector="OR",
                ),
                name="extensionrequest_refusal_has_reasons",
                violation_error_message="A refusal gives reasons.",
            ),
        ),
        migrations.AddIndex(
            model_name="supervisioncard",
            index=models.Index(fields=["status", "level", "raised_on"], name="card_queue"),
        ),
        migrations.AddIndex(
            model_name="supervisioncard",
            index=models.Index(fields=["department", "status"], name="card_by_department"),
        ),
        migrations.AddIndex(
            model_name="supervisioncard",
            index=models.Index(fields=["application"], name="card_by_application"),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.UniqueConstraint(
                fields=("subject_type", "subject_id", "trigger", "level"),
                name="card_once_per_subject_trigger_level",
                violation_error_message="This card was already raised.",
            ),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("level", "red"), _negated=True), ("yellow__isnull", False), _connector="OR"
                ),
                name="card_red_has_yellow",
                violation_error_message="A red card follows a yellow card.",
            ),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.CheckConstraint(
                condition=models.Q(("level", "reminder"), ("reply_due_on__isnull", False), _connector="OR"),
                name="card_yellow_red_have_reply_due",
                violation_error_message="A yellow or red card names the day its answer is due.",
            ),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("department__isnull", False), models.Q(("office", ""), _negated=True), _connector="OR"
                ),
                name="card_has_addressee",
                violation_error_message="A card is addressed to a department or an office.",
            ),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    models.Q(
                        ("closed_at__isnull", False),
                        ("closed_by__isnull", False),
                        models.Q(("accountability", ""), _negated=True),
                        models.Q(("accountability_reasons", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="card_closed_has_accountability",
                violation_error_message="A closed card records who closed it, the accountability and the reasons.",
            ),
        ),
        migrations.AddConstraint(
            model_name="supervisioncard",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("yellow__isnull", True), models.Q(("yellow", models.F("id")), _negated=True), _connector="OR"
                ),
                name="card_yellow_not_itself",
                violation_error_message="A card cannot follow itself.",
            ),
        ),
        migrations.AddConstraint(
            model_name="cardevent",
            constraint=models.UniqueConstraint(
                fields=("card", "action"),
                name="cardevent_once_per_action",
                violation_error_message="This step of the card was already recorded.",
            ),
        ),
        migrations.RunPython(triggers, triggers_off),
    ]
