"""Models of the approvals app, one module per area."""

from approvals.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    Certificate,
    ClockEvent,
    Decision,
    ExtensionRequest,
    ReferenceSequence,
    ReviewOpinion,
    Step,
    SupplementNotice,
    WrittenNotice,
)
from approvals.calendar.models import CalendarDay, CalendarVersion, CalendarYear
from approvals.catalogue.models import ApprovalItem, ApprovalItemVersion, RequiredMaterial
from approvals.organisation.models import Delegation, Department, Jurisdiction, RoleAssignment
from approvals.ratings.models import Rating, RatingLoop
from approvals.supervision.card_models import CardEvent, SupervisionCard
from approvals.supervision.integrity_models import IntegrityAlert
from approvals.supervision.models import (
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
from approvals.supervision.rollup_models import EfficiencyCell, EfficiencyMonth

__all__ = [
    "EfficiencyCell",
    "EfficiencyMonth",
    "CardEvent",
    "ExtensionRequest",
    "SupervisionCard",
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
    "WrittenNotice",
    "IntegrityAlert",
    "Rating",
    "RatingLoop",
]
