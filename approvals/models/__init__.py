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
from approvals.models.supervision import (
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Commitment,
    Inspection,
    InspectionAttachment,
    InspectionTask,
    InspectorConflict,
    RectificationOrder,
)

__all__ = [
    "RectificationOrder",
    "InspectorConflict",
    "InspectionTask",
    "InspectionAttachment",
    "Inspection",
    "Commitment",
    "CampaignTarget",
    "CampaignRecusal",
    "CampaignInspector",
    "Campaign",
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
