"""The integrity demo: its cases go through the real flow and the scan raises real alerts from them,
once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from approvals.models import Application, IntegrityAlert
from approvals.supervision import integrity
from core.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_integrity_raises_alerts_from_the_demo_cases_once():
    # Given the demo, which runs the integrity demo as one of its steps (with its progress)
    progress = StringIO()
    call_command("seed_demo", stdout=StringIO(), stderr=progress)
    # Then the decision maker's many decisions for one enterprise and the late decision are flagged
    decider = User.objects.get(username="dec_wj")
    rules = set(IntegrityAlert.objects.filter(person=decider).values_list("rule", flat=True))
    assert {integrity.SAME_DECIDER_ENTERPRISE, integrity.DECISION_OUTSIDE_HOURS} <= rules
    assert all(alert.applications.exists() for alert in IntegrityAlert.objects.all())
    assert "integrity case 5/5" in progress.getvalue()
    # When it runs again: nothing new
    counts = (Application.objects.count(), IntegrityAlert.objects.count())
    again = StringIO()
    call_command("seed_demo_integrity", stdout=again, stderr=StringIO())
    assert (Application.objects.count(), IntegrityAlert.objects.count()) == counts
    assert "demo cases: 0 created" in again.getvalue() and "alerts raised: 0" in again.getvalue()


def test_seed_demo_integrity_without_the_demo_says_so():
    out = StringIO()
    call_command("seed_demo_integrity", stdout=out)
    assert "skipped" in out.getvalue()
    assert not IntegrityAlert.objects.exists()
