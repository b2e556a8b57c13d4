import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import get_perms

from approvals import permissions
from approvals.models import Department, RoleAssignment
from approvals.organisation import services
from approvals.organisation.roles import DEPARTMENT_ROLE_PERMISSIONS, StaffRole
from approvals.organisation.services import OrganisationError
from core.models import AuditEvent, User
from tests import factories

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("role", sorted(DEPARTMENT_ROLE_PERMISSIONS))
def test_staff_of_department_x_hold_no_permission_on_department_y(role):
    x, y = factories.department("X"), factories.department("Y")
    staff = factories.staff_with_role(role, department=x)
    perm = DEPARTMENT_ROLE_PERMISSIONS[role]
    assert permissions.user_may_act_for_department(user=staff, perm=perm, department=x)
    assert not permissions.user_may_act_for_department(user=staff, perm=perm, department=y)
    assert staff.has_perm(perm, x)
    assert not staff.has_perm(perm, y)
    assert get_perms(staff, y) == []


@pytest.mark.parametrize("role", sorted(DEPARTMENT_ROLE_PERMISSIONS))
def test_department_roles_are_never_granted_globally(role):
    staff = factories.staff_with_role(role, department=factories.department())
    assert not staff.has_perm(DEPARTMENT_ROLE_PERMISSIONS[role])  # no global grant: viewflow would open every queue
    assert not staff.user_permissions.exists()
    assert list(staff.groups.values_list("name", flat=True)) == ["role:staff"]
    # the base group only lets staff read the workflow frontend
    assert staff.get_group_permissions() == {"workflows.view_applicationprocess"}


def test_department_roles_do_not_leak_between_roles():
    x = factories.department()
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=x)
    assert not permissions.user_may_decide(user=reviewer, department=x)
    assert not permissions.user_may_accept(user=reviewer, department=x)


def test_global_permission_does_not_count_for_department_work():
    x = factories.department()
    staff = factories.UserFactory(staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="review_application"))
    staff = fresh(staff)
    assert staff.has_perm("approvals.review_application")
    assert not permissions.user_may_review(user=staff, department=x)


def test_superuser_is_not_a_processor():
    x = factories.department()
    root = factories.UserFactory(staff=True, is_superuser=True)
    assert not permissions.user_may_review(user=root, department=x)


def test_enterprise_user_cannot_hold_staff_roles():
    user = factories.UserFactory()
    with pytest.raises(OrganisationError) as excinfo:
        services.staff_role_grant(actor=None, user=user, role=StaffRole.REVIEWER, department=factories.department())
    assert excinfo.value.code == "not_staff"
    assert not RoleAssignment.objects.exists()


@pytest.mark.parametrize(
    ("role", "with_department", "code"),
    [
        (StaffRole.REVIEWER, False, "department_required"),
        (StaffRole.AUDITOR, True, "department_not_allowed"),
        ("janitor", False, "role_invalid"),
    ],
)
def test_grant_validates_role_and_department(role, with_department, code):
    staff = factories.UserFactory(staff=True)
    department = factories.department() if with_department else None
    with pytest.raises(OrganisationError) as excinfo:
        services.staff_role_grant(actor=None, user=staff, role=role, department=department)
    assert excinfo.value.code == code


def test_grant_twice_refused():
    x = factories.department()
    staff = factories.staff_with_role(StaffRole.DESK, department=x)
    with pytest.raises(OrganisationError) as excinfo:
        services.staff_role_grant(actor=None, user=staff, role=StaffRole.DESK, department=x)
    assert excinfo.value.code == "role_already_held"


def test_database_refuses_duplicate_active_global_role():
    staff = factories.staff_with_role(StaffRole.AUDITOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=staff, role=StaffRole.AUDITOR)


def test_only_administrators_grant_roles(auditor):
    staff = factories.UserFactory(staff=True)
    with pytest.raises(OrganisationError) as excinfo:
        services.staff_role_grant(actor=auditor, user=staff, role=StaffRole.REVIEWER, department=factories.department())
    assert excinfo.value.code == "permission_denied"


def test_revoke_withdraws_the_permission_and_is_audited(administrator):
    x = factories.department()
    staff = factories.staff_with_role(StaffRole.REVIEWER, department=x)
    assignment = RoleAssignment.objects.get(user=staff)
    services.staff_role_revoke(actor=administrator, assignment=assignment)
    assert not permissions.user_may_review(user=fresh(staff), department=x)
    assert AuditEvent.objects.filter(action="role.revoked", object_id=str(assignment.pk), actor=administrator).exists()
    with pytest.raises(OrganisationError) as excinfo:
        services.staff_role_revoke(actor=administrator, assignment=assignment)
    assert excinfo.value.code == "role_already_revoked"


def test_global_roles_are_groups_with_their_permissions():
    auditor = factories.staff_with_role(StaffRole.AUDITOR)
    assert permissions.user_is_auditor(user=auditor)
    assert not permissions.user_is_administrator(user=auditor)
    assert not auditor.is_staff  # no admin site for auditors
    admin = factories.staff_with_role(StaffRole.ADMINISTRATOR)
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("credit.confirm_membership")


def test_revoking_administrator_closes_the_admin_site(administrator):
    other = factories.staff_with_role(StaffRole.ADMINISTRATOR)
    services.staff_role_revoke(actor=administrator, assignment=RoleAssignment.objects.get(user=other))
    other = fresh(other)
    assert not other.is_staff
    assert not permissions.user_is_administrator(user=other)


def test_department_tree_rules():
    top = factories.bureau()
    with pytest.raises(OrganisationError) as excinfo:
        services.department_create(
            actor=None, code="S1", name="科", kind="section", jurisdiction=top.jurisdiction, parent=top
        )
    assert excinfo.value.code == "department_parent_kind"
    with pytest.raises(OrganisationError) as excinfo:
        services.department_create(actor=None, code="D0", name="处", kind="department", jurisdiction=top.jurisdiction)
    assert excinfo.value.code == "department_parent_kind"
    dept = factories.department()
    section = services.department_create(
        actor=None, code="S2", name="科", kind="section", jurisdiction=top.jurisdiction, parent=dept
    )
    assert section.parent == dept


def test_database_refuses_bureau_with_parent():
    top = factories.bureau()
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(code="B2", name="局", kind="bureau", jurisdiction=top.jurisdiction, parent=top)


class TestDelegation:
    def setup_method(self):
        self.x = factories.department("X")
        self.y = factories.department("Y")
        self.absent = factories.staff_with_role(StaffRole.REVIEWER, department=self.x)
        self.acting = factories.staff_with_role(StaffRole.REVIEWER, department=self.y)
        self.now = timezone.now()

    def delegate(self, start_offset=-1, end_offset=5, **kwargs):
        return services.delegation_create(
            actor=self.absent,
            delegator=self.absent,
            delegate=self.acting,
            department=self.x,
            starts_at=self.now + datetime.timedelta(days=start_offset),
            ends_at=self.now + datetime.timedelta(days=end_offset),
            reason="年假",
            **kwargs,
        )

    def test_running_delegation_confers_the_delegators_department_permission(self):
        self.delegate()
        assert permissions.user_may_review(user=self.acting, department=self.x)
        assert not permissions.user_may_decide(user=self.acting, department=self.x)
        assert AuditEvent.objects.filter(action="delegation.created").count() == 1

    def test_delegation_outside_its_period_confers_nothing(self):
        self.delegate(start_offset=1, end_offset=3)
        assert not permissions.user_may_review(user=self.acting, department=self.x)
        later = self.now + datetime.timedelta(days=2)
        assert permissions.user_may_act_for_department(
            user=self.acting, perm=permissions.REVIEW, department=self.x, at=later
        )
        after = self.now + datetime.timedelta(days=4)
        assert not permissions.user_may_act_for_department(
            user=self.acting, perm=permissions.REVIEW, department=self.x, at=after
        )

    def test_revoked_delegation_confers_nothing(self):
        delegation = self.delegate()
        services.delegation_revoke(actor=self.absent, delegation=delegation)
        assert not permissions.user_may_review(user=self.acting, department=self.x)

    def test_delegation_ends_when_delegator_loses_the_role(self):
        self.delegate()
        services.staff_role_revoke(actor=None, assignment=RoleAssignment.objects.get(user=self.absent))
        assert not permissions.user_may_review(user=self.acting, department=self.x)

    def test_delegation_validation(self):
        with pytest.raises(OrganisationError) as excinfo:
            self.delegate(start_offset=3, end_offset=1)
        assert excinfo.value.code == "delegation_period"
        with pytest.raises(OrganisationError) as excinfo:
            services.delegation_create(
                actor=self.absent,
                delegator=self.absent,
                delegate=self.absent,
                department=self.x,
                starts_at=self.now,
                ends_at=self.now + datetime.timedelta(days=1),
                reason="x",
            )
        assert excinfo.value.code == "delegation_to_self"
        with pytest.raises(OrganisationError) as excinfo:
            services.delegation_create(
                actor=self.absent,
                delegator=self.absent,
                delegate=self.acting,
                department=self.y,
                starts_at=self.now,
                ends_at=self.now + datetime.timedelta(days=1),
                reason="x",
            )
        assert excinfo.value.code == "delegator_has_no_role"

    def test_only_delegator_or_administrator_records_a_delegation(self):
        with pytest.raises(OrganisationError) as excinfo:
            services.delegation_create(
                actor=self.acting,
                delegator=self.absent,
                delegate=self.acting,
                department=self.x,
                starts_at=self.now,
                ends_at=self.now + datetime.timedelta(days=1),
                reason="x",
            )
        assert excinfo.value.code == "permission_denied"
