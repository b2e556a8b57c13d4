"""Who may do what with credit records. ``credit`` cannot import ``approvals``, so the global role
permissions (granted to the bureau-wide groups by ``approvals.roles``) are checked here directly."""

from __future__ import annotations

from typing import Any

CREDIT_OFFICE = "credit.work_credit_office"
CREDIT_AUDIT = "credit.audit_credit"


def _working_staff(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and getattr(user, "kind", None) == "staff"
    )


def user_is_credit_office(*, user: Any) -> bool:
    return _working_staff(user) and user.has_perm(CREDIT_OFFICE)


def user_is_credit_auditor(*, user: Any) -> bool:
    return _working_staff(user) and user.has_perm(CREDIT_AUDIT)
