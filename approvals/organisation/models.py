"""Organisation of the bureau: jurisdictions, departments, staff roles and delegations.

The approval list, applications and the statutory clock arrive with the standard-approval issue.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.organisation.roles import StaffRole


class Jurisdiction(models.Model):
    """A territory with its own bureau: the city, a district, or a zone such as 沈大自创区."""

    class Level(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        ZONE = "zone", _("Zone")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="city") | Q(parent__isnull=False),
                name="jurisdiction_below_city_has_parent",
                violation_error_message=_("A district or zone belongs to a parent jurisdiction."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A unit of the bureau: the bureau itself, a department under it, or a section of a department.

    Staff permissions for department work are django-guardian object permissions on this model
    (see ``approvals.organisation.roles``). ``parent`` is fixed at creation so that a department's place in the
    tree, and every queue scoped by it, cannot shift under a running case.
    """

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("Bureau")
        DEPARTMENT = "department", _("Department")
        SECTION = "section", _("Section")

    PARENT_KIND = {Kind.DEPARTMENT: Kind.BUREAU, Kind.SECTION: Kind.DEPARTMENT}

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["jurisdiction__code", "code"]
        default_permissions = ("add", "change", "view")
        permissions = [
            ("accept_application", _("Can accept applications at the one-window desk (per department)")),
            ("review_application", _("Can review applications for the department (per department)")),
            ("decide_application", _("Can decide applications for the lead department (per department)")),
            ("inspect_enterprise", _("Can carry out inspections (per department)")),
            ("supervise", _("Can watch deadlines and escalations (e-supervision)")),
            ("approve_extension", _("Can approve extensions of the time limit (head of the agency, art. 42)")),
            ("audit", _("Can read every case as an auditor")),
            ("administer", _("Can administer the catalogue, departments and users")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="bureau", parent__isnull=True) | (~Q(kind="bureau") & Q(parent__isnull=False)),
                name="department_only_bureau_is_root",
                violation_error_message=_("A bureau has no parent unit; a department or section has one."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="department_not_own_parent",
                violation_error_message=_("A unit cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A staff member holding a role, in one department for department-scoped roles.

    The row is the record (who granted it, when, until when); the permission it carries is
    granted and removed by ``approvals.organisation.services`` in the same transaction.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=32, choices=StaffRole.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user", "role", "id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__in=["desk", "reviewer", "decider", "inspector"]) & Q(department__isnull=False))
                | (~Q(role__in=["desk", "reviewer", "decider", "inspector"]) & Q(department__isnull=True)),
                name="roleassignment_department_iff_department_role",
                violation_error_message=_(
                    "Desk, reviewer, decision maker and inspector roles belong to a department; the others do not."
                ),
            ),
            # Two partial constraints rather than NULLS NOT DISTINCT, which SQLite lacks.
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(revoked_at__isnull=True, department__isnull=False),
                name="roleassignment_one_active_per_user_role_department",
                violation_error_message=_("This staff member already holds this role here."),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(revoked_at__isnull=True, department__isnull=True),
                name="roleassignment_one_active_bureau_wide_role",
                violation_error_message=_("This staff member already holds this role."),
            ),
        ]

    def __str__(self) -> str:
        where = f" @ {self.department}" if self.department_id else ""
        return f"{self.user}: {self.get_role_display()}{where}"


class Delegation(models.Model):
    """``delegate`` acts for ``delegator`` in ``department`` from ``starts_at`` to ``ends_at``.

    Recorded instead of sharing accounts, so that every action taken under it names the real
    actor. It confers the delegator's department-scoped permissions on that department only, and
    only while it runs (``approvals.permissions``).
    """

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("absent colleague"),
        on_delete=models.PROTECT,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acting colleague"),
        on_delete=models.PROTECT,
        related_name="delegations_received",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="delegations"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_at", "id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="delegation_ends_after_start",
                violation_error_message=_("A delegation must end after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(delegator=F("delegate")),
                name="delegation_not_to_self",
                violation_error_message=_("A staff member cannot delegate to themselves."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegate} ↦ {self.delegator} @ {self.department}"
