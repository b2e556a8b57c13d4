"""Who may do what: the one place later code asks "may this user do X to this object?".

Department work is decided by django-guardian object permissions on ``Department`` that were
granted to the user *directly* (``approvals.organisation.services.staff_role_grant``), plus running delegations
from a colleague who holds them. Global permissions and superuser status are deliberately ignored
for department work: a global grant would open every department's queue.
"""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from guardian.models import UserObjectPermission

from approvals.models import Delegation, Department, InspectionTask, RoleAssignment
from approvals.organisation.roles import DEPARTMENT_ROLE_PERMISSIONS, StaffRole
from core.actors import is_working_staff
from core.models import User

ACCEPT = DEPARTMENT_ROLE_PERMISSIONS[StaffRole.DESK]
REVIEW = DEPARTMENT_ROLE_PERMISSIONS[StaffRole.REVIEWER]
DECIDE = DEPARTMENT_ROLE_PERMISSIONS[StaffRole.DECIDER]
INSPECT = DEPARTMENT_ROLE_PERMISSIONS[StaffRole.INSPECTOR]
DEPARTMENT_PERMISSIONS = frozenset(DEPARTMENT_ROLE_PERMISSIONS.values())


def _check_department_perm(perm: str) -> str:
    if perm not in DEPARTMENT_PERMISSIONS:
        raise ValueError(f"{perm!r} is not a department-scoped permission")
    return perm.split(".", 1)[1]


def _holder_department_ids(*, perm: str) -> QuerySet[UserObjectPermission]:
    codename = _check_department_perm(perm)
    return UserObjectPermission.objects.filter(
        permission__codename=codename,
        permission__content_type__app_label="approvals",
        content_type=ContentType.objects.get_for_model(Department),
        user__is_active=True,
    )


def department_ids_for(*, user: User, perm: str, at: datetime.datetime | None = None) -> set[int]:
    """Ids of the departments where ``user`` holds ``perm`` at ``at`` (default now): their own object
    permission, or a running delegation from a colleague who holds it there. One query."""
    if not is_working_staff(user):
        return set()
    moment = at or timezone.now()
    running_delegation = (
        Delegation.objects.filter(
            delegate_id=user.pk,
            revoked_at__isnull=True,
            starts_at__lte=moment,
            ends_at__gt=moment,
            delegator_id=OuterRef("user_id"),
        )
        # guardian stores the object's key as text: compare as text, so no cast can fail.
        .annotate(department_key=Cast("department_id", CharField()))
        .filter(department_key=OuterRef("object_pk"))
    )
    keys = (
        _holder_department_ids(perm=perm)
        .filter(Q(user_id=user.pk) | Exists(running_delegation))
        .values_list("object_pk", flat=True)
    )
    return {int(key) for key in keys}


def department_staff(*, department: Department, perm: str, at: datetime.datetime | None = None) -> QuerySet[User]:
    """The active staff who may do ``perm`` for ``department`` at ``at`` (default now): holders of
    the object permission and colleagues acting for one under a running delegation. One query."""
    moment = at or timezone.now()
    holders = _holder_department_ids(perm=perm).filter(object_pk=str(department.pk)).values("user_id")
    delegates = Delegation.objects.filter(
        department=department,
        delegator_id__in=holders,
        revoked_at__isnull=True,
        starts_at__lte=moment,
        ends_at__gt=moment,
    ).values("delegate_id")
    return User.objects.filter(Q(pk__in=holders) | Q(pk__in=delegates), is_active=True, kind=User.Kind.STAFF).order_by(
        "pk"
    )


def departments_for(*, user: User, perm: str, at: datetime.datetime | None = None) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=department_ids_for(user=user, perm=perm, at=at), is_active=True)


def user_may_act_for_department(
    *, user: User, perm: str, department: Department, at: datetime.datetime | None = None
) -> bool:
    """May ``user`` do the department work ``perm`` (one of ``DEPARTMENT_PERMISSIONS``) for
    ``department`` at ``at``?"""
    return department.is_active and department.pk in department_ids_for(user=user, perm=perm, at=at)


def user_may_accept(*, user: User, department: Department) -> bool:
    return user_may_act_for_department(user=user, perm=ACCEPT, department=department)


def user_may_review(*, user: User, department: Department) -> bool:
    return user_may_act_for_department(user=user, perm=REVIEW, department=department)


def user_may_decide(*, user: User, department: Department) -> bool:
    return user_may_act_for_department(user=user, perm=DECIDE, department=department)


def user_may_inspect(*, user: User, department: Department) -> bool:
    return user_may_act_for_department(user=user, perm=INSPECT, department=department)


def user_may_handle_case(*, user: User, department: Department) -> bool:
    """A reviewer or decision maker of ``department``: may request material, suspend or resume the
    clock on its behalf."""
    return user_may_review(user=user, department=department) or user_may_decide(user=user, department=department)


def _has_global(user: User, perm: str) -> bool:
    return is_working_staff(user) and user.has_perm(perm)


def user_is_auditor(*, user: User) -> bool:
    return _has_global(user, "approvals.audit")


def user_is_supervisor(*, user: User) -> bool:
    return _has_global(user, "approvals.supervise")


def user_is_credit_office(*, user: User) -> bool:
    return _has_global(user, "credit.work_credit_office")


def user_is_policy_office(*, user: User) -> bool:
    return _has_global(user, "credit.work_policy_office")


def handled_department_ids(*, user: User) -> set[int]:
    """The departments ``user`` works for today in any department role (own or delegated)."""
    ids: set[int] = set()
    for perm in DEPARTMENT_PERMISSIONS:
        ids |= department_ids_for(user=user, perm=perm)
    return ids


def user_may_handle_department(*, user: User, department: Department) -> bool:
    """Works for ``department`` in some role: answers its supervision cards."""
    return is_working_staff(user) and department.pk in handled_department_ids(user=user)


def user_is_bureau_head(*, user: User) -> bool:
    """本行政机关负责人: approves the art. 42 extensions the lead departments ask for."""
    return _has_global(user, "approvals.approve_extension")


def bureau_heads() -> QuerySet[User]:
    """The active staff holding the head-of-bureau role (through its group)."""
    from django.contrib.auth.models import Permission

    perm = Permission.objects.filter(codename="approve_extension", content_type__app_label="approvals")
    return User.objects.filter(is_active=True, groups__permissions__in=perm).distinct()


def user_is_administrator(*, user: User) -> bool:
    return _has_global(user, "approvals.administer")


def roles_of(*, user: User) -> list[RoleAssignment]:
    """The user's active role assignments (one query), for navigation and the workbench."""
    if not is_working_staff(user):
        return []
    return list(
        RoleAssignment.objects.filter(user_id=user.pk, revoked_at__isnull=True)
        .select_related("department")
        .order_by("role", "department__code")
    )


def user_may_view_application(*, user: User, application: object) -> bool:
    """Staff of a department that takes part in the application (window, co-review, lead,
    supervising department of a commitment-mode item), the
    supervisor and the auditor may read it; enterprise access is decided by membership instead."""
    from approvals.models import Application

    assert isinstance(application, Application)
    if not is_working_staff(user):
        return False
    if user_is_auditor(user=user) or user_is_supervisor(user=user) or user_is_bureau_head(user=user):
        return True
    version = application.item_version
    involved = {version.desk_department_id, version.lead_department_id}
    if version.supervising_department_id is not None:  # verifies commitments of the item
        involved.add(version.supervising_department_id)
    involved |= set(version.co_review_departments.values_list("pk", flat=True))
    mine = {a.department_id for a in roles_of(user=user) if a.department_id is not None}
    if involved & mine:
        return True
    return any(involved & department_ids_for(user=user, perm=perm) for perm in DEPARTMENT_PERMISSIONS)


def user_may_organise(*, user: User, department: Department) -> bool:
    """Administrators, and the decision makers of the organising department."""
    return user_is_administrator(user=user) or user_may_decide(user=user, department=department)


def user_may_organise_any(*, user: User) -> bool:
    return user_is_administrator(user=user) or bool(department_ids_for(user=user, perm=DECIDE))


def user_may_record(*, user: User, task: InspectionTask) -> bool:
    """Only the two assigned inspectors record, while they still inspect for the department."""
    return user.pk in task.inspector_ids and user_may_inspect(user=user, department=task.department)


def user_may_view_task(*, user: User, task: InspectionTask) -> bool:
    """The pair, the department's inspectors, the supervisor, auditors and administrators."""
    if not (user.is_authenticated and user.is_bureau_staff):
        return False
    return (
        user.pk in task.inspector_ids
        or user_may_inspect(user=user, department=task.department)
        or user_is_supervisor(user=user)
        or user_is_auditor(user=user)
        or user_is_administrator(user=user)
    )


def user_may_read_integrity_alerts(*, user: User) -> bool:
    """Supervisors (who dispose of integrity alerts) and auditors (who read them)."""
    return user_is_supervisor(user=user) or user_is_auditor(user=user)


def user_may_dispose_integrity_alert(*, user: User, alert: object) -> bool:
    """A supervisor, of an open alert that does not concern them."""
    from approvals.models import IntegrityAlert

    assert isinstance(alert, IntegrityAlert)
    return alert.is_open and alert.person_id != user.pk and user_is_supervisor(user=user)


# --- 好差评: who works the 差评 loop of a case --------------------------------------------------------

# The lead department's desk staff and decision makers call the applicant back, verify, rectify and
# reply (the department that answers for the case's item answers for its rating).
RATING_LOOP_PERMISSIONS = (ACCEPT, DECIDE)


def rating_loop_department_ids(*, user: User) -> set[int]:
    """The departments whose 差评 loops ``user`` may work (two queries)."""
    ids: set[int] = set()
    for perm in RATING_LOOP_PERMISSIONS:
        ids |= department_ids_for(user=user, perm=perm)
    return ids


def user_may_work_rating_loop(*, user: User, department: Department) -> bool:
    return department.is_active and department.pk in rating_loop_department_ids(user=user)


def rating_loop_staff(*, department: Department) -> QuerySet[User]:
    """Everyone who may work ``department``'s 差评 loops now."""
    ids = set()
    for perm in RATING_LOOP_PERMISSIONS:
        ids |= set(department_staff(department=department, perm=perm).values_list("pk", flat=True))
    return User.objects.filter(pk__in=ids).order_by("pk")


def user_may_view_rating_loops(*, user: User, department: Department) -> bool:
    """Those who work the department's loops, and the supervisor and the auditor (read-only)."""
    return (
        user_may_work_rating_loop(user=user, department=department)
        or user_is_supervisor(user=user)
        or user_is_auditor(user=user)
    )


def efficiency_department_ids(*, user: User) -> set[int] | None:
    """The departments whose efficiency figures ``user`` may read: ``None`` for every one (the
    supervisor and the auditor), else the departments they are a decision maker of (a department
    head; a running delegation counts). An empty set: none, the dashboard is not theirs."""
    if user_is_supervisor(user=user) or user_is_auditor(user=user):
        return None
    return department_ids_for(user=user, perm=DECIDE)
