from io import StringIO

import pytest
from django.core.management import call_command

from approvals import permissions
from approvals.models import Department, RoleAssignment
from approvals.organisation.roles import StaffRole
from core.models import AuditEvent, User
from credit.enterprises import selectors
from credit.models import Enterprise, Membership

pytestmark = pytest.mark.django_db


def _counts():
    from viewflow.workflow.models import Task

    from approvals.models import Application, ApplicationEvent, Certificate, ClockEvent

    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Enterprise,
            Membership,
            Department,
            RoleAssignment,
            AuditEvent,
            Application,
            ApplicationEvent,
            ClockEvent,
            Certificate,
            Task,
        )
    }


def test_seed_demo_is_idempotent_and_says_so():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    after_first = _counts()
    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert _counts() == after_first
    assert "nothing changed" in second.getvalue()
    assert "[9/9]" in first.getvalue()  # progress is shown


def test_seed_demo_covers_every_role_and_confirmed_enterprise_users():
    call_command("seed_demo", stdout=StringIO())
    held = set(RoleAssignment.objects.filter(revoked_at__isnull=True).values_list("role", flat=True))
    assert held == set(StaffRole.values)
    rep = User.objects.get(username="ent_zhangwei")
    assert selectors.enterprises_for_user(user=rep).count() == 1
    pending = User.objects.get(username="ent_pending")
    assert selectors.enterprises_for_user(user=pending).count() == 0
    agency = User.objects.get(username="ent_agency")
    assert selectors.enterprises_for_user(user=agency).count() == 2
    assert permissions.user_is_auditor(user=User.objects.get(username="auditor1"))


def test_seeded_users_can_log_in(client):
    call_command("seed_demo", stdout=StringIO())
    response = client.post("/accounts/login/", {"username": "desk1", "password": "ReformFlow-demo-2026"})
    assert response.status_code == 302


def test_seed_demo_has_applications_in_every_state():
    from approvals.models import Application

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    states = set(Application.objects.values_list("status", flat=True))
    assert states == set(Application.Status.values)
    assert Application.objects.filter(clock_suspended=True).exists()
    assert Application.objects.filter(certificate__status="revoked").exists()
