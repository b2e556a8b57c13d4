"""An enterprise's documents on the API: its e-certificates (电子证照) with their state, the written
notices of its applications (受理通知书, 补正材料通知书, decisions …) with their SHA-256, and the
stored files themselves — a notice's PDF and an uploaded material — downloaded with the bearer
token.

A download answers exactly as the site's (``web.files``): the same permission rule
(``stored_file_for``), the same response (``stored_file_response``: an attachment with the type
recorded at upload, ``X-Content-Type-Options: nosniff``), after the API's own scoping (the token's
enterprise) has found the application."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.applications import selectors
from approvals.models import Certificate, WrittenNotice
from web import files
from web.api.v1.enterprise.scope import EnterpriseView, enterprise_filter, enterprises_of, own_application

CERTIFICATE_TAGS = ["enterprise: certificates"]
DOCUMENT_TAGS = ["enterprise: notices and files"]
READ_ERRORS = {
    401: OpenApiResponse(description="No credentials, or an unknown, expired or revoked token."),
    403: OpenApiResponse(description="Not an enterprise user."),
}
LIST_ERRORS = {400: OpenApiResponse(description="A filter's value is wrong (`invalid`, with `fields`)."), **READ_ERRORS}


def _not_found(what: str) -> dict[int, OpenApiResponse]:
    return {**READ_ERRORS, 404: OpenApiResponse(description=f"No such {what} among the caller's enterprises'.")}


# --- certificates ------------------------------------------------------------------------------------


class HeldCertificateSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["valid", "revoked", "expired"], help_text="What the public verification says today."
    )
    certificate_type = serializers.CharField()
    enterprise = serializers.IntegerField(source="enterprise_id")
    holder_name = serializers.CharField()
    holder_code = serializers.CharField(help_text="The holder's USCC.")
    application = serializers.IntegerField(source="application_id")
    application_reference = serializers.CharField(source="application.reference", allow_null=True)
    item_code = serializers.CharField(source="item_version.item.code")
    item_name = serializers.CharField(source="item_version.name")
    issuer = serializers.CharField(source="issuer.name")
    issued_at = serializers.DateTimeField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True, help_text="Null: valid without an end date.")
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField()
    verify = serializers.SerializerMethodField(help_text="The public verification page (its QR code points here).")
    verify_api = serializers.SerializerMethodField(help_text="The public verification resource of the API.")

    def get_verify(self, certificate: Certificate) -> str:
        return reverse("certificate_verify_code", args=[certificate.verification_code])

    def get_verify_api(self, certificate: Certificate) -> str:
        return reverse("api_v1:public_certificate", args=[certificate.number])


def _with_state(certificates: list[Certificate], *, today: datetime.date | None = None) -> list[Certificate]:
    today = today or timezone.localdate()
    for certificate in certificates:
        certificate.state = selectors.certificate_state(certificate, today=today)  # type: ignore[attr-defined]
    return certificates


def _certificates_of(request: Request) -> QuerySet[Certificate]:
    return Certificate.objects.filter(enterprise__in=enterprises_of(request)).select_related(
        "application", "item_version__item", "issuer"
    )


@extend_schema(tags=CERTIFICATE_TAGS)
class CertificateList(EnterpriseView, generics.GenericAPIView[Certificate]):
    serializer_class = HeldCertificateSerializer

    def get_queryset(self) -> QuerySet[Certificate]:
        return enterprise_filter(self.request, _certificates_of(self.request))

    @extend_schema(
        summary="The caller's enterprises' e-certificates, newest first",
        parameters=[OpenApiParameter("enterprise", int, description="One of the caller's enterprises.")],
        responses={200: HeldCertificateSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = _with_state(list(self.paginate_queryset(self.get_queryset()) or []))
        return self.get_paginated_response(HeldCertificateSerializer(page, many=True).data)


@extend_schema(tags=CERTIFICATE_TAGS)
class CertificateDetail(EnterpriseView):
    @extend_schema(
        summary="One e-certificate: number, item, state, validity, verification",
        responses={200: HeldCertificateSerializer, **_not_found("certificate")},
    )
    def get(self, request: Request, pk: int) -> Response:
        certificate = _certificates_of(request).filter(pk=pk).first()
        if certificate is None:
            raise NotFound()
        return Response(HeldCertificateSerializer(_with_state([certificate])[0]).data)


# --- written notices ----------------------------------------------------------------------------------


class WrittenNoticeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    application = serializers.IntegerField(source="application_id")
    kind = serializers.ChoiceField(choices=WrittenNotice.Kind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    number = serializers.CharField()
    issued_at = serializers.DateTimeField()
    sha256 = serializers.CharField(help_text="Of the PDF as issued: a holder checks a copy against it.")
    size = serializers.IntegerField(help_text="Bytes.")
    verify = serializers.SerializerMethodField(help_text="The public check of the notice (its QR code points here).")
    download = serializers.SerializerMethodField(help_text="The PDF, with the same credentials as this request.")

    def get_verify(self, notice: WrittenNotice) -> str:
        return reverse("notice_verify", args=[notice.number])

    def get_download(self, notice: WrittenNotice) -> str:
        return reverse("api_v1:enterprise_notice_file", args=[notice.application_id, notice.pk])


@extend_schema(tags=DOCUMENT_TAGS)
class WrittenNoticeList(EnterpriseView, generics.GenericAPIView[WrittenNotice]):
    serializer_class = WrittenNoticeSerializer

    @extend_schema(
        summary="The written notices of an application, newest first",
        responses={200: WrittenNoticeSerializer(many=True), **_not_found("application")},
    )
    def get(self, request: Request, pk: int) -> Response:
        application = own_application(request, pk)
        page = self.paginate_queryset(WrittenNotice.objects.filter(application=application))
        return self.get_paginated_response(WrittenNoticeSerializer(page, many=True).data)


def _own_notice(request: Request, pk: int, notice_pk: int) -> WrittenNotice:
    application = own_application(request, pk)
    notice = WrittenNotice.objects.filter(pk=notice_pk, application=application).first()
    if notice is None:
        raise NotFound()
    return notice


@extend_schema(tags=DOCUMENT_TAGS)
class WrittenNoticeDetail(EnterpriseView):
    @extend_schema(
        summary="One written notice: kind, number, day and SHA-256",
        responses={200: WrittenNoticeSerializer, **_not_found("notice")},
    )
    def get(self, request: Request, pk: int, notice_pk: int) -> Response:
        return Response(WrittenNoticeSerializer(_own_notice(request, pk, notice_pk)).data)


class FileDownloadView(EnterpriseView):
    """A stored file, or a refusal in the error shape."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file is never rendered, only a refusal is (as JSON): a client asking for the file's
        # own type (Accept: application/pdf) is not refused 406 before its permission is checked.
        return super().perform_content_negotiation(request, force=True)

    def download(self, request: Request, kind: str, pk: int) -> FileResponse:
        stored = files.stored_file_for(request.user, kind, pk)  # type: ignore[arg-type]
        if stored is None:
            raise NotFound()
        # the underlying request: the auditor trail's middleware reads the mark from it
        return files.stored_file_response(request._request, stored)


_FILE = "The stored file as an attachment, with the type recorded at upload and `X-Content-Type-Options: nosniff`."


@extend_schema(tags=DOCUMENT_TAGS)
class WrittenNoticeFile(FileDownloadView):
    @extend_schema(
        summary="Download a written notice (PDF)",
        responses={
            (200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY, description=_FILE),
            **_not_found("notice"),
        },
    )
    def get(self, request: Request, pk: int, notice_pk: int) -> FileResponse:
        notice = _own_notice(request, pk, notice_pk)
        return self.download(request, "notice", notice.pk)


@extend_schema(tags=DOCUMENT_TAGS)
class MaterialFile(FileDownloadView):
    @extend_schema(
        summary="Download an uploaded material",
        responses={
            **{
                (200, content_type): OpenApiResponse(response=OpenApiTypes.BINARY, description=_FILE)
                for content_type in ("application/pdf", "image/png", "image/jpeg")
            },
            **_not_found("material"),
        },
    )
    def get(self, request: Request, pk: int, material_pk: int) -> FileResponse:
        application = own_application(request, pk)
        if not application.materials.filter(pk=material_pk).exists():
            raise NotFound()
        return self.download(request, "material", material_pk)
