"""Writes of the approvals app, one module per area. The organisation services are re-exported
here because most callers want them by their plain names."""

from approvals.services.organisation import (
    OrganisationError,
    delegation_create,
    delegation_revoke,
    department_create,
    jurisdiction_create,
    role_group_ensure,
    staff_role_grant,
    staff_role_revoke,
)

__all__ = [
    "OrganisationError",
    "delegation_create",
    "delegation_revoke",
    "department_create",
    "jurisdiction_create",
    "role_group_ensure",
    "staff_role_grant",
    "staff_role_revoke",
]
