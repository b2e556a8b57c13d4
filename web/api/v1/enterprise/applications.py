"""An enterprise's applications on the API: the filing lifecycle of the portal's screens —
create a draft, edit it, upload materials, submit (``Idempotency-Key``), follow the status with
both clocks and the timeline, answer a supplement notice (补正), withdraw.

Every write is the portal's own service or action (``approvals.applications.services``,
``workflows.actions.applications``); serializers check the shape of the request only."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.applications import selectors
from approvals.applications import services as application_services
from approvals.models import Application, ClockEvent, SupplementNotice
from web.api.v1.enterprise import idempotency
from web.api.v1.enterprise.documents import WrittenNoticeSerializer
from web.api.v1.enterprise.scope import EnterpriseView, applications_of, enterprises_of, own_application, service
from web.portal import forms as portal_forms
from workflows.actions import applications as actions

TAGS = ["enterprise: applications"]
ERRORS = {
    400: OpenApiResponse(description="The request's shape is wrong (`invalid`, with `fields`)."),
    401: OpenApiResponse(description="No credentials, or an unknown, expired or revoked token."),
    403: OpenApiResponse(description="Not an enterprise user, or a read-only token writing."),
    404: OpenApiResponse(description="No such application among the caller's enterprises'."),
    422: OpenApiResponse(description="A rule of the procedure refused it; `code` names the rule."),
}


# --- request shapes -----------------------------------------------------------------------------------


class FormDataSerializer(serializers.Serializer[Any]):
    """The applicant's part of the form, as on the portal's filing page."""

    project_name = serializers.CharField(max_length=200)
    project_address = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=4000)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.RegexField(r"^[0-9+\-() ]{7,20}$", max_length=20)


class DraftCreateSerializer(FormDataSerializer):
    enterprise = serializers.IntegerField(min_value=1, help_text="One of the enterprises the caller acts for.")
    item_version = serializers.IntegerField(
        min_value=1, help_text="A published item version (`version_id` of a guide)."
    )


class DraftUpdateSerializer(FormDataSerializer):
    """Any subset of the form's fields: those given replace the draft's."""


class MaterialUploadSerializer(serializers.Serializer[Any]):
    required_material = serializers.IntegerField(
        min_value=1, help_text="The material of the item's list (`materials[].id` of its guide)."
    )
    file = serializers.FileField(help_text="PDF, PNG or JPEG, checked by content, at most MATERIAL_MAX_BYTES.")


class WithdrawSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class SupplementAnswerRequestSerializer(serializers.Serializer[Any]):
    """Multipart: ``answer`` and one file per item of the notice — ``material_<id>`` for each
    catalogue material it lists (required), ``other_<n>`` for its n-th item outside the catalogue
    (a file, or an explanation in ``answer``). The notice's ``slots`` name them."""

    answer = serializers.CharField(max_length=4000, required=False, allow_blank=True)


# --- answer shapes -------------------------------------------------------------------------------------


class ApplicationSummarySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Application.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    route = serializers.ChoiceField(choices=Application.Route.choices)
    enterprise = serializers.IntegerField(source="enterprise_id")
    enterprise_name = serializers.CharField(source="enterprise.name")
    item_version = serializers.IntegerField(source="item_version_id")
    item_name = serializers.CharField(source="item_version.name")
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    band = serializers.ChoiceField(choices=["green", "yellow", "red", "none"], help_text="The warning light.")
    promised_deadline = serializers.DateField(source="deadline", allow_null=True)
    statutory_deadline = serializers.DateField(allow_null=True)


class DeadlineSerializer(serializers.Serializer[Any]):
    deadline = serializers.DateField(allow_null=True)
    provisional = serializers.BooleanField(help_text="A year it reaches into has no working-day calendar yet.")
    working_days_left = serializers.IntegerField(allow_null=True, help_text="Negative once passed; null when closed.")


class ExcludedPeriodSerializer(serializers.Serializer[Any]):
    ground = serializers.CharField()
    reason = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(allow_null=True)
    expected = serializers.IntegerField(allow_null=True)
    counted = serializers.IntegerField(allow_null=True, help_text="Working days excluded; null while it runs.")


class ClockSerializer(serializers.Serializer[Any]):
    state = serializers.CharField(
        help_text="Where the case stands against both limits (not started … statutory overrun)."
    )
    band = serializers.ChoiceField(choices=["green", "yellow", "red", "none"])
    as_of = serializers.DateField()
    suspended = serializers.BooleanField()
    promised = DeadlineSerializer()
    statutory = DeadlineSerializer()
    extension_days = serializers.IntegerField()
    extension_cap = serializers.IntegerField()
    excluded_days = serializers.IntegerField()
    excluded_periods = ExcludedPeriodSerializer(many=True)


class TimelineEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text="Stable code (`submitted`, `accepted`, `supplement_requested` …).")
    label = serializers.CharField()  # type: ignore[assignment]  # named like Field.label
    department = serializers.CharField(allow_null=True)
    comment = serializers.CharField()


class ApplicationMaterialSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    required_material = serializers.IntegerField(source="required_material_id", allow_null=True)
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    supplement = serializers.IntegerField(source="supplement_id", allow_null=True)
    download = serializers.SerializerMethodField(help_text="The file, with the same credentials as this request.")

    def get_download(self, material: Any) -> str:
        return reverse("api_v1:enterprise_material_file", args=[material.application_id, material.pk])


class SupplementSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    stage = serializers.ChoiceField(choices=SupplementNotice.Stage.choices)
    message = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())
    slots = serializers.SerializerMethodField(help_text="The multipart field of each item, for the answer.")
    requested_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answer = serializers.CharField()

    def get_slots(self, notice: SupplementNotice) -> list[str]:
        return [name for name in portal_forms.SupplementAnswerForm(notice=notice).fields if name != "answer"]


class DecisionSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField()
    reasons = serializers.CharField()
    decided_at = serializers.DateTimeField()


class CertificateSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    verify = serializers.SerializerMethodField()

    def get_verify(self, certificate: Any) -> str:
        return reverse("certificate_verify_code", args=[certificate.verification_code])


class ApplicationDetailSerializer(ApplicationSummarySerializer):
    item_code = serializers.CharField(source="item_version.item.code")
    form_data = serializers.DictField(child=serializers.CharField())
    applicant = serializers.IntegerField(source="applicant_id")
    received_on = serializers.DateField(allow_null=True)
    accepted_on = serializers.DateField(allow_null=True)
    deemed_accepted = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    clock = ClockSerializer(source="page.clock")
    materials = ApplicationMaterialSerializer(many=True, source="page.materials")
    supplements = SupplementSerializer(many=True, source="page.supplements")
    open_supplement = serializers.IntegerField(source="page.open_supplement", allow_null=True)
    timeline = TimelineEntrySerializer(many=True, source="page.timeline")
    written_notices = WrittenNoticeSerializer(many=True, source="page.written_notices")
    decision = DecisionSerializer(source="page.decision", allow_null=True)
    certificate = CertificateSerializer(source="page.certificate", allow_null=True)


def _timeline(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The portal's history: the events without the bureau's internal deliberation, and the
    extensions granted, in time order."""
    entries = [
        {
            "at": event.at,
            "action": event.action,
            "label": render_to_string("_partials/event_label.html", {"action": event.action}).strip(),
            "department": event.department.name if event.department else None,
            "comment": event.comment,
        }
        for event in page["events"].exclude(action__in=selectors.INTERNAL_EVENT_ACTIONS)
    ]
    for clock_event in page["clock_events"]:
        if clock_event.kind == ClockEvent.Kind.EXTENDED:
            entries.append(
                {
                    "at": clock_event.at,
                    "action": "clock_extended",
                    "label": str(clock_event.get_kind_display()),
                    "department": None,
                    "comment": f"+{clock_event.days} · {clock_event.comment}",
                }
            )
    return sorted(entries, key=lambda entry: entry["at"])


def application_view(application: Application, *, today: datetime.date | None = None) -> dict[str, Any]:
    """The answer about one application: what its portal page shows, from the same read-model."""
    page = selectors.application_page(application, labels=portal_forms.application_field_labels(), today=today)
    standing = page["standing"]
    open_notice = application.supplements.filter(answered_at__isnull=True).first()
    application.band = page["deadline_band"]  # type: ignore[attr-defined]
    application.page = {  # type: ignore[attr-defined]
        "clock": {
            "state": standing.state,
            "band": page["deadline_band"],
            "as_of": standing.as_of,
            "suspended": application.clock_suspended,
            "promised": {
                "deadline": application.deadline,
                "provisional": application.deadline_provisional,
                "working_days_left": page["days_left"],
            },
            "statutory": {
                "deadline": application.statutory_deadline,
                "provisional": application.statutory_deadline_provisional,
                "working_days_left": page["statutory_days_left"],
            },
            "extension_days": application.extension_days,
            "extension_cap": application.extension_cap,
            "excluded_days": page["excluded_days"],
            "excluded_periods": page["excluded_periods"],
        },
        "materials": page["materials"],
        "supplements": page["supplements"],
        "open_supplement": open_notice.pk if open_notice else None,
        "timeline": _timeline(page),
        "written_notices": page["written_notices"],
        "decision": page["decision"],
        "certificate": page["certificate"],
    }
    return ApplicationDetailSerializer(application).data


def _fresh(application: Application) -> Application:
    return Application.objects.select_related("item_version__item", "enterprise").get(pk=application.pk)


# --- endpoints ---------------------------------------------------------------------------------------


@extend_schema(tags=TAGS)
class ApplicationCollection(EnterpriseView, generics.GenericAPIView[Application]):
    serializer_class = ApplicationSummarySerializer

    def get_queryset(self) -> QuerySet[Application]:
        queryset = applications_of(self.request).select_related("item_version", "enterprise")
        status_filter = self.request.query_params.get("status", "")
        if status_filter:
            if status_filter not in Application.Status.values:
                raise ValidationError({"status": [f"Not one of {', '.join(Application.Status.values)}."]})
            queryset = queryset.filter(status=status_filter)
        enterprise = self.request.query_params.get("enterprise", "")
        if enterprise:
            if not enterprise.isdigit():
                raise ValidationError({"enterprise": ["An enterprise id."]})
            queryset = queryset.filter(enterprise_id=int(enterprise))
        return selectors.applications_with_clock(queryset)

    @extend_schema(
        summary="The caller's enterprises' applications, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=Application.Status.values),
            OpenApiParameter("enterprise", int, description="One of the caller's enterprises."),
        ],
        responses={200: ApplicationSummarySerializer(many=True), **{k: v for k, v in ERRORS.items() if k != 422}},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.applications_annotate_standing(list(page or []))
        return self.get_paginated_response(ApplicationSummarySerializer(rows, many=True).data)

    @extend_schema(
        summary="Start a draft",
        request=DraftCreateSerializer,
        responses={201: ApplicationDetailSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A draft",
                request_only=True,
                value={
                    "enterprise": 12,
                    "item_version": 3,
                    "project_name": "沈阳示例食品店",
                    "project_address": "沈阳市浑南区创新路 1 号",
                    "description": "食品经营（预包装食品销售）",
                    "contact_name": "张伟",
                    "contact_phone": "024-12345678",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        shape = DraftCreateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = dict(shape.validated_data)
        enterprise_id, version_id = data.pop("enterprise"), data.pop("item_version")
        if not enterprises_of(request).filter(pk=enterprise_id).exists():
            raise NotFound()
        application = service(
            lambda: application_services.application_draft_save(
                actor=request.user,  # type: ignore[arg-type]
                enterprise_id=enterprise_id,
                item_version_id=version_id,
                form_data=data,
                idempotency_key=uuid.uuid4(),
            )
        )
        return Response(application_view(_fresh(application)), status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class ApplicationItem(EnterpriseView):
    @extend_schema(
        summary="An application: status, both clocks and the timeline",
        responses={200: ApplicationDetailSerializer, **{k: v for k, v in ERRORS.items() if k not in (400, 422)}},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(application_view(own_application(request, pk)))

    @extend_schema(
        summary="Edit a draft (the fields given replace the draft's)",
        request=DraftUpdateSerializer,
        responses={200: ApplicationDetailSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        application = own_application(request, pk)
        shape = DraftUpdateSerializer(data=request.data, partial=True)
        shape.is_valid(raise_exception=True)
        form_data = {**application.form_data, **shape.validated_data}
        service(
            lambda: application_services.application_draft_update(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
                form_data=form_data,
            )
        )
        return Response(application_view(_fresh(application)))


@extend_schema(tags=TAGS)
class MaterialUpload(EnterpriseView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Upload a material to a draft",
        request={"multipart/form-data": MaterialUploadSerializer},
        responses={201: ApplicationMaterialSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        application = own_application(request, pk)
        shape = MaterialUploadSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        material = service(
            lambda: application_services.application_material_attach(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
                required_material_id=shape.validated_data["required_material"],
                upload=shape.validated_data["file"],
            )
        )
        return Response(ApplicationMaterialSerializer(material).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class Submit(EnterpriseView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Submit a draft and start the procedure (idempotent by key)",
        description=(
            "The application gets its reference number and the window's clock starts. A retry with the same "
            "`Idempotency-Key` gets the first answer again (header `Idempotent-Replayed: true`). A refused "
            "submission (e.g. `material_missing`) keeps the key free for the corrected retry."
        ),
        request=None,
        parameters=[idempotency.PARAMETER],
        responses={
            200: ApplicationDetailSerializer,
            409: OpenApiResponse(description="`idempotency_in_flight`: the first request with the key still runs."),
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        application = own_application(request, pk)

        def run() -> Response:
            service(
                lambda: actions.application_submit_and_start(actor=request.user, application=application)  # type: ignore[arg-type]
            )
            return Response(application_view(_fresh(application)))

        return idempotency.idempotent(request, run)


@extend_schema(tags=TAGS)
class SupplementAnswer(EnterpriseView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Answer a supplement notice (补正) with the material it asks for",
        request={"multipart/form-data": SupplementAnswerRequestSerializer},
        responses={200: ApplicationDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, notice_pk: int) -> Response:
        application = own_application(request, pk)
        notice = SupplementNotice.objects.filter(pk=notice_pk, application=application).first()
        if notice is None:
            raise NotFound()
        # The portal's own form: the same slots, the same file checks, the same field errors.
        form = portal_forms.SupplementAnswerForm(request.data, request.FILES, notice=notice)
        if not form.is_valid():
            raise ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
                    for name, messages in form.errors.items()
                }
            )
        service(
            lambda: actions.supplement_answer_and_route(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
                notice=notice,
                answer=form.cleaned_data["answer"],
                uploads=form.uploads(),
            )
        )
        return Response(application_view(_fresh(application)))


@extend_schema(tags=TAGS)
class Withdraw(EnterpriseView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Withdraw an application before its decision",
        request=WithdrawSerializer,
        responses={200: ApplicationDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        application = own_application(request, pk)
        shape = WithdrawSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        service(
            lambda: actions.application_withdraw_and_cancel(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
                reason=shape.validated_data["reason"],
            )
        )
        return Response(application_view(_fresh(application)))
