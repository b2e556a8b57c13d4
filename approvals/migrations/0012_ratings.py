"""好差评: ratings (append-only, a re-rating checked by a trigger to follow the first rating of the
same case) and the 差评 loop."""


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def triggers_create(apps, schema_editor):
    from approvals.ratings.triggers import follows_trigger_create
    from core.append_only import table_triggers_create

    table_triggers_create(schema_editor.connection, tables=("approvals_rating",))
    follows_trigger_create(schema_editor.connection)


def triggers_drop(apps, schema_editor):
    from approvals.ratings.triggers import follows_trigger_drop
    from core.append_only import table_triggers_drop

    follows_trigger_drop(schema_editor.connection)
    table_triggers_drop(schema_editor.connection, tables=("approvals_rating",))


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0011_integrity_alerts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Rating',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('round', models.PositiveSmallIntegerField(choices=[(1, 'Rating'), (2, 'Re-rating after the reply')], default=1, verbose_name='round')),
                ('rated_at', models.DateTimeField(auto_now_add=True, verbose_name='rated at')),
                ('rated_on', models.DateField(verbose_name='day of the rating')),
                ('level', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied (非常满意)'), (4, 'Satisfied (满意)'), (3, 'Fairly satisfied (基本满意)'), (2, 'Dissatisfied (不满意)'), (1, 'Very dissatisfied (非常不满意)')], verbose_name='overall rating')),
                ('efficiency', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied (非常满意)'), (4, 'Satisfied (满意)'), (3, 'Fairly satisfied (基本满意)'), (2, 'Dissatisfied (不满意)'), (1, 'Very dissatisfied (非常不满意)')], verbose_name='efficiency of the handling')),
                ('guide_accuracy', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied (非常满意)'), (4, 'Satisfied (满意)'), (3, 'Fairly satisfied (基本满意)'), (2, 'Dissatisfied (不满意)'), (1, 'Very dissatisfied (非常不满意)')], verbose_name='accuracy of the service guide')),
                ('convenience', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied (非常满意)'), (4, 'Satisfied (满意)'), (3, 'Fairly satisfied (基本满意)'), (2, 'Dissatisfied (不满意)'), (1, 'Very dissatisfied (非常不满意)')], verbose_name='convenience')),
                ('usability', models.PositiveSmallIntegerField(choices=[(5, 'Very satisfied (非常满意)'), (4, 'Satisfied (满意)'), (3, 'Fairly satisfied (基本满意)'), (2, 'Dissatisfied (不满意)'), (1, 'Very dissatisfied (非常不满意)')], verbose_name='usability of the online platform')),
                ('comment', models.TextField(blank=True, max_length=500, verbose_name='comment')),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='ratings', to='approvals.application', verbose_name='application')),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='approvals.department', verbose_name='lead department')),
                ('follows', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='rerating', to='approvals.rating', verbose_name='follows the rating')),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='approvals.approvalitem', verbose_name='item')),
                ('rated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rated by')),
            ],
            options={
                'verbose_name': 'rating',
                'verbose_name_plural': 'ratings',
                'ordering': ['application', 'round'],
            },
        ),
        migrations.CreateModel(
            name='RatingLoop',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('callback', 'Awaiting the callback'), ('verify', 'Awaiting verification'), ('rectify', 'Awaiting rectification'), ('reply', 'Awaiting the reply'), ('closed', 'Replied')], default='callback', max_length=16, verbose_name='status')),
                ('opened_at', models.DateTimeField(auto_now_add=True, verbose_name='opened at')),
                ('callback_due_on', models.DateField(verbose_name='callback due on')),
                ('callback_due_provisional', models.BooleanField(default=False, verbose_name='callback due date is provisional')),
                ('rectify_due_on', models.DateField(verbose_name='rectification due on')),
                ('rectify_due_provisional', models.BooleanField(default=False, verbose_name='rectification due date is provisional')),
                ('due_calendar_version', models.PositiveIntegerField(verbose_name='calendar version of the due dates')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('contacted_at', models.DateTimeField(blank=True, null=True, verbose_name='applicant contacted at')),
                ('contact_channel', models.CharField(blank=True, choices=[('phone', 'Telephone'), ('sms', 'Text message'), ('visit', 'Visit or meeting'), ('online', 'Online message')], max_length=16, verbose_name='contacted by')),
                ('callback_notes', models.TextField(blank=True, max_length=2000, verbose_name='what was said')),
                ('callback_recorded_at', models.DateTimeField(blank=True, null=True, verbose_name='callback recorded at')),
                ('problem_confirmed', models.BooleanField(blank=True, null=True, verbose_name='problem confirmed')),
                ('findings', models.TextField(blank=True, max_length=2000, verbose_name='findings')),
                ('verified_at', models.DateTimeField(blank=True, null=True, verbose_name='verified at')),
                ('nothing_to_rectify', models.BooleanField(default=False, verbose_name='nothing to rectify')),
                ('rectification', models.TextField(blank=True, max_length=2000, verbose_name='what was changed')),
                ('rectified_at', models.DateTimeField(blank=True, null=True, verbose_name='rectified at')),
                ('reply', models.TextField(blank=True, max_length=2000, verbose_name='reply to the applicant')),
                ('replied_at', models.DateTimeField(blank=True, null=True, verbose_name='replied at')),
                ('application', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='rating_loop', to='approvals.application', verbose_name='application')),
                ('callback_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='callback by')),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rating_loops', to='approvals.department', verbose_name='department')),
                ('handler', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='handled by')),
                ('rating', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='loop', to='approvals.rating', verbose_name='rating')),
                ('rectified_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='rectified by')),
                ('replied_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='replied by')),
                ('verified_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='verified by')),
            ],
            options={
                'verbose_name': 'bad-rating loop',
                'verbose_name_plural': 'bad-rating loops',
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='rating',
            index=models.Index(fields=['item', 'level'], name='rating_item_level'),
        ),
        migrations.AddIndex(
            model_name='rating',
            index=models.Index(fields=['department', 'level'], name='rating_department_level'),
        ),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.UniqueConstraint(condition=models.Q(('round', 1)), fields=('application',), name='rating_one_first_per_application', violation_error_message='This case has already been rated.'),
        ),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.UniqueConstraint(condition=models.Q(('round', 2)), fields=('application',), name='rating_one_rerating_per_application', violation_error_message='This case has already been rated again.'),
        ),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('round', 1), ('follows__isnull', True)), models.Q(('round', 2), ('follows__isnull', False)), _connector='OR'), name='rating_rerating_follows_first', violation_error_message='A re-rating follows the first rating; a first rating follows none.'),
        ),
        migrations.AddConstraint(
            model_name='rating',
            constraint=models.CheckConstraint(condition=models.Q(('level__gte', 1), ('level__lte', 5), ('efficiency__gte', 1), ('efficiency__lte', 5), ('guide_accuracy__gte', 1), ('guide_accuracy__lte', 5), ('convenience__gte', 1), ('convenience__lte', 5), ('usability__gte', 1), ('usability__lte', 5)), name='rating_levels_one_to_five', violation_error_message='Every level is between 1 and 5.'),
        ),
        migrations.AddIndex(
            model_name='ratingloop',
            index=models.Index(fields=['department', 'status', 'callback_due_on'], name='ratingloop_department_open'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'callback'), models.Q(('contacted_at__isnull', False), models.Q(('contact_channel', ''), _negated=True), models.Q(('callback_notes', ''), _negated=True)), _connector='OR'), name='ratingloop_past_callback_has_callback', violation_error_message='A loop past the callback records when and how the applicant was contacted.'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['callback', 'verify']), models.Q(('problem_confirmed__isnull', False), models.Q(('findings', ''), _negated=True)), _connector='OR'), name='ratingloop_past_verify_has_findings', violation_error_message='A verified loop records whether the problem was confirmed, and why.'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['callback', 'verify', 'rectify']), models.Q(('rectification', ''), _negated=True), _connector='OR'), name='ratingloop_past_rectify_has_rectification', violation_error_message='A rectified loop records what was changed, or why nothing was.'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'closed'), _negated=True), models.Q(('replied_at__isnull', False), models.Q(('reply', ''), _negated=True)), _connector='OR'), name='ratingloop_closed_has_reply', violation_error_message='A closed loop records the reply to the applicant.'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(('nothing_to_rectify', False), ('problem_confirmed', False), _connector='OR'), name='ratingloop_nothing_to_rectify_only_unconfirmed', violation_error_message='Only a problem that was not confirmed may leave nothing to rectify.'),
        ),
        migrations.AddConstraint(
            model_name='ratingloop',
            constraint=models.CheckConstraint(condition=models.Q(('callback_due_on__lte', models.F('rectify_due_on'))), name='ratingloop_callback_due_before_rectification', violation_error_message='The callback is due before the rectification.'),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
