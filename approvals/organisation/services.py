"""Writes of the bureau's organisation. Each function: check the actor → validate → write → audit,
in one transaction."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, remove_perm

from approvals.models import Delegation, Department, Jurisdiction, RoleAssignment
from approvals.organisation.roles import (
    DEPARTMENT_ROLE_PERMISSIONS,
    GLOBAL_ROLE_PERMISSIONS,
    STAFF_BASE_GROUP,
    STAFF_BASE_PERMISSIONS,
    StaffRole,
    group_name,
)
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record


class OrganisationError(DomainError):
    pass


def _require_administrator(actor: User | None) -> None:
    """``None`` is the system itself (migrations, ``seed_demo``); a person must hold ``administer``."""
    if actor is not None and not (actor.is_active and actor.has_perm("approvals.administer")):
        raise OrganisationError("permission_denied", _("Only an administrator may change the organisation."))


def role_group_ensure(*, role: str) -> Group:
    """The group of a bureau-wide role, with exactly the permissions ``GLOBAL_ROLE_PERMISSIONS`` lists."""
    wanted = GLOBAL_ROLE_PERMISSIONS[role]
    group, _created = Group.objects.get_or_create(name=group_name(role))
    permissions = []
    for perm in wanted:
        app_label, codename = perm.split(".", 1)
        permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if set(group.permissions.all()) != set(permissions):
        group.permissions.set(permissions)
    return group


def staff_base_group_ensure() -> Group:
    """The group every staff member with a role belongs to (``STAFF_BASE_PERMISSIONS``)."""
    group, _created = Group.objects.get_or_create(name=STAFF_BASE_GROUP)
    permissions = []
    for perm in STAFF_BASE_PERMISSIONS:
        app_label, codename = perm.split(".", 1)
        found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if found is not None:
            permissions.append(found)
    if set(group.permissions.all()) != set(permissions):
        group.permissions.set(permissions)
    return group


def jurisdiction_create(
    *, actor: User | None, code: str, name: str, level: str, parent: Jurisdiction | None = None
) -> Jurisdiction:
    """Errors: ``permission_denied``, ``jurisdiction_parent_required``, ``code_taken``."""
    _require_administrator(actor)
    if level != Jurisdiction.Level.CITY and parent is None:
        raise OrganisationError(
            "jurisdiction_parent_required", _("A district or zone belongs to a parent jurisdiction.")
        )
    with transaction.atomic():
        if Jurisdiction.objects.filter(code=code).exists():
            raise OrganisationError("code_taken", _("This code is already in use."))
        jurisdiction = Jurisdiction.objects.create(code=code, name=name, level=level, parent=parent)
        audit_event_record(
            actor=actor, action="jurisdiction.created", obj=jurisdiction, data={"code": code, "name": name}
        )
    return jurisdiction


def department_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    jurisdiction: Jurisdiction,
    parent: Department | None = None,
) -> Department:
    """Create a unit in the bureau → department → section tree.

    Errors: ``permission_denied``, ``department_parent_kind`` (a department sits under a bureau, a
    section under a department, a bureau under nothing), ``department_parent_jurisdiction``,
    ``code_taken``.
    """
    _require_administrator(actor)
    expected_parent_kind = Department.PARENT_KIND.get(kind)  # type: ignore[call-overload]
    if kind not in Department.Kind.values:
        raise OrganisationError("department_kind_invalid", _("Choose bureau, department or section."))
    if (parent is None) != (expected_parent_kind is None) or (
        parent is not None and parent.kind != expected_parent_kind
    ):
        raise OrganisationError(
            "department_parent_kind",
            _("A bureau has no parent unit, a department belongs to a bureau and a section to a department."),
        )
    if parent is not None and parent.jurisdiction_id != jurisdiction.pk:
        raise OrganisationError(
            "department_parent_jurisdiction", _("A unit belongs to the jurisdiction of its parent.")
        )
    with transaction.atomic():
        if Department.objects.filter(code=code).exists():
            raise OrganisationError("code_taken", _("This code is already in use."))
        department = Department.objects.create(
            code=code, name=name, kind=kind, jurisdiction=jurisdiction, parent=parent
        )
        audit_event_record(
            actor=actor,
            action="department.created",
            obj=department,
            data={"code": code, "name": name, "kind": kind, "parent": parent.code if parent else None},
        )
    return department


def staff_role_grant(
    *, actor: User | None, user: User, role: str, department: Department | None = None
) -> RoleAssignment:
    """Give a staff member a role: the record, and the permission it carries, together.

    Department roles become a guardian object permission on ``department`` (never a global one);
    bureau-wide roles become membership of the role's group. Errors: ``permission_denied``,
    ``not_staff``, ``role_invalid``, ``department_required``, ``department_not_allowed``,
    ``department_inactive``, ``role_already_held``.
    """
    _require_administrator(actor)
    if user.kind != User.Kind.STAFF:
        raise OrganisationError("not_staff", _("Only bureau staff accounts can hold staff roles."))
    if role not in StaffRole.values:
        raise OrganisationError("role_invalid", _("Unknown role."))
    if role in DEPARTMENT_ROLE_PERMISSIONS:
        if department is None:
            raise OrganisationError("department_required", _("This role is held in a department; choose one."))
        if not department.is_active:
            raise OrganisationError("department_inactive", _("This department is no longer active."))
    elif department is not None:
        raise OrganisationError("department_not_allowed", _("This role is bureau-wide and has no department."))
    with transaction.atomic():
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        if RoleAssignment.objects.filter(
            user=locked_user, role=role, department=department, revoked_at__isnull=True
        ).exists():
            raise OrganisationError("role_already_held", _("This staff member already holds this role here."))
        try:
            with transaction.atomic():
                assignment = RoleAssignment.objects.create(
                    user=locked_user, role=role, department=department, granted_by=actor
                )
        except IntegrityError:
            raise OrganisationError("role_already_held", _("This staff member already holds this role here.")) from None
        locked_user.groups.add(staff_base_group_ensure())
        if department is not None:
            assign_perm(DEPARTMENT_ROLE_PERMISSIONS[role], locked_user, department)
        else:
            locked_user.groups.add(role_group_ensure(role=role))
            if role == StaffRole.ADMINISTRATOR and not locked_user.is_staff:
                locked_user.is_staff = True  # the Django admin site is the administrators' screen
                locked_user.save(update_fields=["is_staff"])
        audit_event_record(
            actor=actor,
            action="role.granted",
            obj=assignment,
            data={"user": locked_user.username, "role": role, "department": department.code if department else None},
        )
    return assignment


def staff_role_revoke(*, actor: User | None, assignment: RoleAssignment) -> RoleAssignment:
    """End a role assignment and withdraw its permission. Errors: ``permission_denied``,
    ``role_already_revoked``."""
    _require_administrator(actor)
    now = timezone.now()
    with transaction.atomic():
        changed = RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor
        )
        if changed != 1:
            raise OrganisationError("role_already_revoked", _("This role assignment has already ended."))
        assignment.refresh_from_db()
        user = User.objects.select_for_update().get(pk=assignment.user_id)
        if assignment.department_id is not None:
            remove_perm(DEPARTMENT_ROLE_PERMISSIONS[assignment.role], user, assignment.department)
        else:
            user.groups.remove(role_group_ensure(role=assignment.role))
            if assignment.role == StaffRole.ADMINISTRATOR and user.is_staff and not user.is_superuser:
                user.is_staff = False
                user.save(update_fields=["is_staff"])
        if not RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).exists():
            user.groups.remove(staff_base_group_ensure())
        audit_event_record(
            actor=actor,
            action="role.revoked",
            obj=assignment,
            data={"user": user.username, "role": assignment.role, "department": assignment.department_id},
        )
    return assignment


def delegation_create(
    *,
    actor: User | None,
    delegator: User,
    delegate: User,
    department: Department,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str,
) -> Delegation:
    """Let ``delegate`` act for ``delegator`` in ``department`` for a period.

    The actor is the delegator or an administrator. Errors: ``permission_denied``,
    ``delegation_to_self``, ``delegation_period``, ``reason_required``, ``not_staff``,
    ``delegator_has_no_role``.
    """
    if actor is not None and actor.pk != delegator.pk:
        _require_administrator(actor)
    if delegator.pk == delegate.pk:
        raise OrganisationError("delegation_to_self", _("A staff member cannot delegate to themselves."))
    if ends_at <= starts_at:
        raise OrganisationError("delegation_period", _("A delegation must end after it starts."))
    if not reason.strip():
        raise OrganisationError("reason_required", _("Give the reason for the delegation."))
    if delegate.kind != User.Kind.STAFF or not delegate.is_active:
        raise OrganisationError("not_staff", _("Only an active staff member can act for a colleague."))
    with transaction.atomic():
        if not RoleAssignment.objects.filter(user=delegator, department=department, revoked_at__isnull=True).exists():
            raise OrganisationError(
                "delegator_has_no_role", _("The absent colleague holds no role in this department to delegate.")
            )
        delegation = Delegation.objects.create(
            delegator=delegator,
            delegate=delegate,
            department=department,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip()[:300],
            created_by=actor,
        )
        audit_event_record(
            actor=actor,
            action="delegation.created",
            obj=delegation,
            data={
                "delegator": delegator.username,
                "delegate": delegate.username,
                "department": department.code,
                "starts_at": starts_at,
                "ends_at": ends_at,
            },
        )
    return delegation


def delegation_revoke(*, actor: User, delegation: Delegation) -> Delegation:
    """End a delegation early. Errors: ``permission_denied``, ``delegation_already_revoked``."""
    if actor.pk != delegation.delegator_id:
        _require_administrator(actor)
    with transaction.atomic():
        changed = Delegation.objects.filter(pk=delegation.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed != 1:
            raise OrganisationError("delegation_already_revoked", _("This delegation has already ended."))
        delegation.refresh_from_db()
        audit_event_record(actor=actor, action="delegation.revoked", obj=delegation)
    return delegation
