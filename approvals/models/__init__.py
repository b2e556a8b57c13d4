"""Models of the approvals app, one module per area."""

from approvals.models.applications import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    Certificate,
    ClockEvent,
    Decision,
    ReferenceSequence,
    ReviewOpinion,
    Step,
    SupplementNotice,
)
from approvals.models.calendar import CalendarDay, CalendarVersion, CalendarYear
from approvals.models.catalogue import ApprovalItem, ApprovalItemVersion, RequiredMaterial
from approvals.models.organisation import Delegation, Department, Jurisdiction, RoleAssignment

__all__ = [
    "Application",
    "ApplicationEvent",
    "ApplicationMaterial",
    "ApprovalItem",
    "ApprovalItemVersion",
    "CalendarDay",
    "CalendarVersion",
    "CalendarYear",
    "Certificate",
    "ClockEvent",
    "Decision",
    "Delegation",
    "Department",
    "Jurisdiction",
    "ReferenceSequence",
    "RequiredMaterial",
    "ReviewOpinion",
    "RoleAssignment",
    "Step",
    "SupplementNotice",
]
