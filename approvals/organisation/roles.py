"""The staff roles and the permissions each one carries.

Department-scoped roles (desk, reviewer, decision maker, inspector) are django-guardian *object*
permissions on one ``Department``; they are never granted globally, because viewflow's
``can_assign`` accepts a global permission and would open every department's queue. Bureau-wide
roles (credit office, policy office, supervisor, auditor, administrator) are Django groups with
global permissions.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    DESK = "desk", _("One-window desk")
    REVIEWER = "reviewer", _("Department reviewer")
    DECIDER = "decider", _("Lead-department decision maker")
    INSPECTOR = "inspector", _("Inspector")
    CREDIT_OFFICE = "credit_office", _("Credit office")
    POLICY_OFFICE = "policy_office", _("Policy office")
    SUPERVISOR = "supervisor", _("Supervisor (e-supervision)")
    AUDITOR = "auditor", _("Auditor")
    # 本行政机关负责人 (行政许可法 art. 42): approves extensions asked for by a department's decision maker
    BUREAU_HEAD = "bureau_head", _("Head of the bureau")
    ADMINISTRATOR = "administrator", _("Administrator")


# role → the object permission it holds on its department ("<app_label>.<codename>").
DEPARTMENT_ROLE_PERMISSIONS: dict[str, str] = {
    StaffRole.DESK: "approvals.accept_application",
    StaffRole.REVIEWER: "approvals.review_application",
    StaffRole.DECIDER: "approvals.decide_application",
    StaffRole.INSPECTOR: "approvals.inspect_enterprise",
}

# role → the global permissions of its group.
GLOBAL_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    StaffRole.CREDIT_OFFICE: ("credit.work_credit_office", "credit.view_enterprise"),
    StaffRole.POLICY_OFFICE: (
        "credit.work_policy_office",
        "credit.view_enterprise",
        "credit.view_policy",
        "credit.view_policyversion",
        "credit.view_eligibilitydecision",
        "credit.view_policyapplication",
        "credit.view_policygrant",
        "credit.view_disbursement",
        "credit.view_constructionproject",
    ),
    StaffRole.SUPERVISOR: ("approvals.supervise",),
    StaffRole.AUDITOR: ("approvals.audit", "credit.audit_credit"),
    StaffRole.BUREAU_HEAD: ("approvals.approve_extension",),
    StaffRole.ADMINISTRATOR: (
        "approvals.administer",
        "credit.confirm_membership",
        "credit.view_enterprise",
        "credit.add_enterprise",
        "credit.change_enterprise",
        "credit.view_enterpriseprofilechange",
        "credit.view_membership",
        "approvals.view_jurisdiction",
        "approvals.add_jurisdiction",
        "approvals.change_jurisdiction",
        "approvals.view_department",
        "approvals.add_department",
        "approvals.change_department",
        "approvals.view_roleassignment",
        "approvals.view_delegation",
        "approvals.view_approvalitem",
        "approvals.add_approvalitem",
        "approvals.change_approvalitem",
        "approvals.view_approvalitemversion",
        "approvals.add_approvalitemversion",
        "approvals.change_approvalitemversion",
        "approvals.view_requiredmaterial",
        "approvals.add_requiredmaterial",
        "approvals.change_requiredmaterial",
        "approvals.delete_requiredmaterial",
        "approvals.view_calendarday",
        "approvals.add_calendarday",
        "approvals.view_calendaryear",
        "approvals.add_calendaryear",
        "approvals.view_calendarversion",
        "core.view_user",
        "core.add_user",
        "core.change_user",
        "core.view_auditevent",
        # the preferential-policy catalogue (issue 6): versions are published through the service
        "credit.view_policy",
        "credit.add_policy",
        "credit.change_policy",
        "credit.view_policyversion",
        "credit.add_policyversion",
        "credit.change_policyversion",
        "credit.publish_policyversion",
        "credit.view_eligibilitydecision",
        "credit.view_policyapplication",
        "credit.view_policygrant",
        "credit.view_disbursement",
        "credit.view_constructionproject",
        # supervision (issue 5): campaigns and conflicts of interest
        "approvals.view_campaign",
        "approvals.add_campaign",
        "approvals.change_campaign",
        "approvals.view_campaigntarget",
        "approvals.view_campaigninspector",
        "approvals.view_campaignrecusal",
        "approvals.view_inspectiontask",
        "approvals.view_inspectorconflict",
        "approvals.add_inspectorconflict",
        "approvals.change_inspectorconflict",
        "approvals.view_commitment",
        "approvals.view_inspection",
        "approvals.view_rectificationorder",
    ),
}

DEPARTMENT_ROLES = frozenset(DEPARTMENT_ROLE_PERMISSIONS)
GLOBAL_ROLES = frozenset(GLOBAL_ROLE_PERMISSIONS)


def group_name(role: str) -> str:
    return f"role:{role}"


# Every staff member with at least one role: reading the workflow frontend (viewflow needs the
# flow's view permission; which processes each one sees is narrowed by department).
STAFF_BASE_GROUP = "role:staff"
STAFF_BASE_PERMISSIONS: tuple[str, ...] = ("workflows.view_applicationprocess",)
