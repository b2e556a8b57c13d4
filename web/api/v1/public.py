"""The public resources (no login, read only): the published approval list and each item's service
guide, certificate verification by number, the public results of random-inspection campaigns.

Each answers what its public screen shows (``web.public``), read through the same selectors, and
nothing more: no personal data beyond the screen's."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.applications import selectors as application_selectors
from approvals.catalogue import selectors as catalogue_selectors
from approvals.models import (
    ApprovalItemVersion,
    Campaign,
    CampaignInspector,
    CampaignTarget,
    Certificate,
    InspectionTask,
)
from approvals.supervision import draw
from approvals.supervision import selectors as supervision_selectors
from web.api.pagination import Cursor
from web.api.tokens import AUTHENTICATION, THROTTLES
from web.campaign_display import items_with_names, with_counts
from web.public.campaigns import campaign_tally

PUBLIC = ["public"]


class PublicView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]
    throttle_classes = THROTTLES


# --- the approval list and service guides ---------------------------------------------------------


class ItemSerializer(serializers.ModelSerializer[ApprovalItemVersion]):
    code = serializers.CharField(source="item.code")
    version = serializers.IntegerField(source="number")
    lead_department = serializers.CharField(source="lead_department.name")
    # Declared rather than derived from the model: a derived small integer's bounds are the
    # database backend's (SQLite's differ from PostgreSQL's), and the checked-in schema must not
    # depend on the database it was generated with.
    statutory_limit_days = serializers.IntegerField(min_value=0, help_text="Working days.")
    promised_limit_days = serializers.IntegerField(min_value=0, help_text="Working days.")

    class Meta:
        model = ApprovalItemVersion
        fields = [
            "code",
            "version",
            "name",
            "lead_department",
            "reform_mode",
            "statutory_limit_days",
            "promised_limit_days",
            "fee",
        ]


class GuideMaterialSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    description = serializers.CharField()
    mandatory = serializers.BooleanField()
    may_be_missing = serializers.BooleanField(help_text="May be supplied after acceptance (容缺受理).")
    replaced_by_commitment = serializers.BooleanField()


class GuideSerializer(ItemSerializer):
    version_id = serializers.IntegerField(source="pk", help_text="The id to file an application under.")
    desk_department = serializers.CharField(source="desk_department.name")
    supervising_department = serializers.CharField(source="supervising_department.name", allow_null=True)
    certificate_validity_months = serializers.IntegerField(
        min_value=0, allow_null=True, help_text="Null: valid without time limit."
    )
    verification_window_days = serializers.IntegerField(min_value=0, allow_null=True, help_text="Working days.")
    co_review_departments = serializers.SerializerMethodField()
    materials = GuideMaterialSerializer(many=True, source="materials.all")

    class Meta(ItemSerializer.Meta):
        fields = [
            *ItemSerializer.Meta.fields,
            "version_id",
            "legal_basis",
            "desk_department",
            "co_review_departments",
            "conditions",
            "procedure",
            "certificate_name",
            "certificate_validity_months",
            "commitment_min_grade",
            "commitment_notice",
            "proofs_waived",
            "verification_method",
            "verification_window_days",
            "supervising_department",
            "published_at",
            "materials",
        ]

    def get_co_review_departments(self, version: ApprovalItemVersion) -> list[str]:
        return [d.name for d in version.co_review_departments.order_by("code")]


class ItemCursor(Cursor):
    ordering = "item_code"


@extend_schema(
    tags=PUBLIC,
    summary="The published approval list (清单)",
    parameters=[
        OpenApiParameter("q", str, description="A keyword in the name, the item code or the legal basis."),
        OpenApiParameter("department", int, description="Items led or co-reviewed by this department."),
    ],
)
class ItemList(PublicView, generics.ListAPIView[ApprovalItemVersion]):
    serializer_class = ItemSerializer
    pagination_class = ItemCursor

    def get_queryset(self) -> QuerySet[ApprovalItemVersion]:
        query = self.request.query_params.get("q", "").strip()[:100]
        department = self.request.query_params.get("department", "")
        return catalogue_selectors.items_published(
            department_id=int(department) if department.isdigit() else None, query=query
        ).annotate(item_code=F("item__code"))


@extend_schema(tags=PUBLIC, summary="The service guide (办事指南) of an item's published version")
class ItemGuide(PublicView, generics.RetrieveAPIView[ApprovalItemVersion]):
    serializer_class = GuideSerializer

    def get_object(self) -> ApprovalItemVersion:
        return get_object_or_404(
            ApprovalItemVersion.objects.filter(status=ApprovalItemVersion.Status.PUBLISHED)
            .select_related("item", "lead_department", "desk_department", "supervising_department")
            .prefetch_related("materials"),
            item__code=self.kwargs["code"],
        )


# --- certificate verification -----------------------------------------------------------------------


class CertificateVerificationSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=["valid", "revoked", "expired"])
    certificate_type = serializers.CharField()
    holder_name = serializers.CharField()
    holder_code = serializers.CharField(help_text="The holder's unified social credit code.")
    issuer = serializers.CharField(source="issuer.name")
    issued_at = serializers.DateTimeField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField()


@extend_schema(
    tags=PUBLIC,
    summary="Verify an e-certificate by its number",
    description="What the public verification page shows: valid, revoked or expired, and nothing private.",
    responses=CertificateVerificationSerializer,
    examples=[
        OpenApiExample(
            "A valid certificate",
            response_only=True,
            value={
                "number": "SC-001-SY01-000123-7",
                "state": "valid",
                "certificate_type": "食品经营许可证",
                "holder_name": "沈阳示例食品有限公司",
                "holder_code": "91210100MA0XXXXXXX",
                "issuer": "市场监督管理局",
                "issued_at": "2026-03-02T10:15:00+08:00",
                "valid_from": "2026-03-02",
                "valid_until": "2031-03-01",
                "revoked_at": None,
                "revocation_reason": "",
            },
        )
    ],
)
class CertificateVerify(PublicView):
    def get(self, request: Request, number: str) -> Response:
        certificate = get_object_or_404(
            Certificate.objects.select_related("issuer"), number=number.strip()[:64].upper()
        )
        certificate.state = application_selectors.certificate_state(certificate)  # type: ignore[attr-defined]
        return Response(CertificateVerificationSerializer(certificate).data)


# --- random-inspection campaigns ------------------------------------------------------------------


class CampaignSummarySerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField(source="department.name")
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    frozen_at = serializers.DateTimeField()
    drawn_at = serializers.DateTimeField(allow_null=True)
    target_count = serializers.IntegerField()
    sample_count = serializers.IntegerField()


class CampaignItemSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class TallySerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    outcome = serializers.CharField(help_text="Empty while the task is not closed.")
    label = serializers.CharField()  # type: ignore[assignment]  # named like Field.label
    count = serializers.IntegerField()


class RefusedDrawSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    seed = serializers.CharField()
    seed_source = serializers.CharField()


class CampaignSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField(source="department.name")
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    items = CampaignItemSerializer(many=True)
    ratios = serializers.DictField(child=serializers.CharField(), help_text="Sampling ratio per credit grade.")
    inspection_due_on = serializers.DateField()
    frozen_at = serializers.DateTimeField()
    targets_sha256 = serializers.CharField()
    inspectors_sha256 = serializers.CharField()
    recusals_sha256 = serializers.CharField()
    seed = serializers.CharField()
    seed_source = serializers.CharField()
    drawn_at = serializers.DateTimeField(allow_null=True)
    target_total = serializers.IntegerField()
    inspector_total = serializers.IntegerField()
    refused_draws = RefusedDrawSerializer(many=True)
    tally = TallySerializer(many=True, help_text="Tasks per status or outcome, once drawn.")


class SampleRowSerializer(serializers.Serializer[Any]):
    draw_position = serializers.IntegerField()
    enterprise_name = serializers.CharField(source="enterprise__name")
    enterprise_uscc = serializers.CharField(source="enterprise__uscc")
    status = serializers.ChoiceField(choices=InspectionTask.Status.choices)
    outcome = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)


def _public_campaigns() -> QuerySet[Campaign]:
    # Every campaign whose rosters are frozen: their hashes are public from that moment.
    return Campaign.objects.exclude(status=Campaign.Status.DRAFT).select_related("department")


@extend_schema(tags=PUBLIC, summary="Random-inspection campaigns with published rosters (一公开)")
class CampaignList(PublicView, generics.ListAPIView[Campaign]):
    serializer_class = CampaignSummarySerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        return with_counts(_public_campaigns())  # type: ignore[no-any-return]


PLAIN_CAMPAIGN_FIELDS = (
    "code",
    "name",
    "status",
    "inspection_due_on",
    "frozen_at",
    "targets_sha256",
    "inspectors_sha256",
    "recusals_sha256",
    "seed",
    "seed_source",
    "drawn_at",
)


@extend_schema(
    tags=PUBLIC, summary="A campaign's parameters, roster hashes, seed and result tally", responses=CampaignSerializer
)
class CampaignDetail(PublicView):
    def get(self, request: Request, code: str) -> Response:
        campaign = get_object_or_404(_public_campaigns(), code=code)
        data: dict[str, Any] = {
            **{name: getattr(campaign, name) for name in PLAIN_CAMPAIGN_FIELDS},
            "department": campaign.department,
            "items": [{"code": c, "name": n} for c, n in items_with_names(campaign)],
            "ratios": {grade: str(campaign.ratios.get(grade, "")) for grade in draw.GRADES},
            "target_total": CampaignTarget.objects.filter(campaign=campaign).count(),
            "inspector_total": CampaignInspector.objects.filter(campaign=campaign).count(),
            "refused_draws": supervision_selectors.campaign_refused_draws(campaign=campaign),
            "tally": campaign_tally(campaign) if campaign.status == Campaign.Status.DRAWN else [],
        }
        return Response(CampaignSerializer(data).data)


class SampleCursor(Cursor):
    ordering = "draw_position"


@extend_schema(tags=PUBLIC, summary="The drawn sample of a campaign and each target's result")
class CampaignSample(PublicView, generics.ListAPIView[Any]):
    serializer_class = SampleRowSerializer
    pagination_class = SampleCursor

    def get_queryset(self) -> Any:
        campaign = get_object_or_404(_public_campaigns(), code=self.kwargs["code"])
        # Name, USCC and outcome only, as on the public page: the query reads nothing else.
        return InspectionTask.objects.filter(campaign=campaign).values(
            "draw_position", "enterprise__name", "enterprise__uscc", "status", "outcome", "closed_at"
        )
