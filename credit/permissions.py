"""Who may do what with credit records. ``credit`` cannot import ``approvals``, so the global role
permissions (granted to the bureau-wide groups by ``approvals.organisation.roles``) are checked here directly."""

from __future__ import annotations

from typing import Any

from core.actors import is_working_staff

CREDIT_OFFICE = "credit.work_credit_office"
CREDIT_AUDIT = "credit.audit_credit"
POLICY_OFFICE = "credit.work_policy_office"
PUBLISH_POLICY = "credit.publish_policyversion"


def user_is_credit_office(*, user: Any) -> bool:
    return is_working_staff(user) and user.has_perm(CREDIT_OFFICE)


def user_is_credit_auditor(*, user: Any) -> bool:
    return is_working_staff(user) and user.has_perm(CREDIT_AUDIT)


def user_is_policy_office(*, user: Any) -> bool:
    return is_working_staff(user) and user.has_perm(POLICY_OFFICE)
