import pytest
from django.urls import reverse

from approvals.models import RoleAssignment
from approvals.organisation.roles import StaffRole
from core.models import AuditEvent
from credit.models import Enterprise, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def test_administrator_confirms_membership_in_admin(client, administrator, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise)
    client.force_login(administrator)
    response = client.post(reverse("admin:credit_membership_decide", args=[membership.pk, "confirm"]), {"note": ""})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CONFIRMED
    assert membership.decided_by == administrator


def test_reject_without_reason_is_a_form_error(client, administrator, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise)
    client.force_login(administrator)
    response = client.post(reverse("admin:credit_membership_decide", args=[membership.pk, "reject"]), {"note": ""})
    assert response.status_code == 400
    membership.refresh_from_db()
    assert membership.status == Membership.Status.PENDING


def test_unknown_decision_is_404(client, administrator, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise)
    client.force_login(administrator)
    assert client.get(reverse("admin:credit_membership_decide", args=[membership.pk, "explode"])).status_code == 404


def test_bulk_confirm_action(client, administrator):
    pending = factories.MembershipFactory.create_batch(3)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:credit_membership_changelist"),
        {"action": "confirm_selected", "_selected_action": [m.pk for m in pending]},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(status=Membership.Status.CONFIRMED).count() == 3
    assert AuditEvent.objects.filter(action="membership.confirmed").count() == 3


def test_admin_add_enterprise_validates_code(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:credit_enterprise_add"),
        {
            "uscc": "91110000600037341X",
            "name": "某公司",
            "legal_representative": "张三",
            "profile_changes-TOTAL_FORMS": "0",
            "profile_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("uscc", "uscc_invalid_checksum")
    assert not Enterprise.objects.exists()


def test_admin_add_enterprise_keeps_history(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:credit_enterprise_add"),
        {
            "uscc": "91110000600037341l",
            "name": "某公司",
            "legal_representative": "张三",
            "profile_changes-TOTAL_FORMS": "0",
            "profile_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get()
    assert enterprise.uscc == "91110000600037341L"
    assert enterprise.profile_changes.count() == 1


def test_admin_profile_change(client, administrator, enterprise):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:credit_enterprise_profile_change", args=[enterprise.pk]),
        {
            "name": "更名后公司",
            "legal_representative": enterprise.legal_representative,
            "effective_on": "2026-10-01",
            "reason": "变更登记",
        },
    )
    assert response.status_code == 302
    assert enterprise.profile_changes.count() == 1  # factory rows have no history; the change adds one
    enterprise.refresh_from_db()
    assert enterprise.name == "更名后公司"


def test_admin_grants_department_role_through_service(client, administrator):
    department = factories.department()
    staff = factories.UserFactory(staff=True)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:approvals_roleassignment_add"),
        {"user": staff.pk, "role": StaffRole.REVIEWER, "department": department.pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assignment = RoleAssignment.objects.get(user=staff)
    assert assignment.granted_by == administrator
    assert staff.has_perm("approvals.review_application", department)


def test_admin_role_grant_without_department_is_a_form_error(client, administrator):
    staff = factories.UserFactory(staff=True)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:approvals_roleassignment_add"), {"user": staff.pk, "role": StaffRole.REVIEWER}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("__all__")
    assert not RoleAssignment.objects.filter(user=staff).exists()


def test_staff_without_administrator_role_cannot_open_admin(client):
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    client.force_login(reviewer)
    assert client.get(reverse("admin:index")).status_code == 302
