"""Resources for the systems of other authorities (OAuth2 client credentials, ``web.api.oauth``):
the credit records import and the grade look-up. Each endpoint needs its scope; every write is
made by the client's service account, every read is logged as a ``system.read``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from credit.enterprises.uscc import InvalidUSCCError
from credit.ledger import services as ledger_services
from credit.ledger.models import LookupPurpose
from web.api.errors import error_body
from web.api.oauth import ScopeRequired, SystemClientAuthentication, SystemClientThrottle, system_account_of


class BadParameter(exceptions.APIException):
    """A parameter the service refused as malformed: 400 with the service's own code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class SystemView(APIView):
    authentication_classes = [SystemClientAuthentication]
    permission_classes = [ScopeRequired]
    throttle_classes = [SystemClientThrottle]
    required_scope = ""


ERROR = inline_serializer(
    "SystemError",
    {"code": serializers.CharField(), "message": serializers.CharField()},
)


# --- credit records import ------------------------------------------------------------------------


class CreditRecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One record, shape only: each rule (a valid and registered USCC, a known kind, a date in the
    past, a document number) is the import's own and reported per record."""

    uscc = serializers.CharField(required=False, allow_blank=True, max_length=40)
    kind = serializers.CharField(required=False, allow_blank=True, max_length=60)
    occurred_on = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text="YYYY-MM-DD")
    document_number = serializers.CharField(required=False, allow_blank=True, max_length=100)
    legal_basis = serializers.CharField(required=False, allow_blank=True, max_length=300)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class CreditImportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    records = CreditRecordSerializer(many=True, allow_empty=False)

    def validate_records(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        limit = settings.API_IMPORT_MAX_RECORDS
        if len(value) > limit:
            raise serializers.ValidationError(
                _("At most %(limit)s records in one batch; split it.") % {"limit": limit}, code="batch_too_large"
            )
        return value


class ImportReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    batch_id = serializers.IntegerField()
    records = serializers.IntegerField(help_text="Records in the batch.")
    added = serializers.IntegerField(help_text="Entries appended to the ledger.")
    duplicates = serializers.IntegerField(
        help_text="Records already in the ledger (same enterprise, kind, authority and document number)."
    )
    already_imported = serializers.BooleanField(help_text="The same batch was imported before: nothing was added.")


class RejectedRecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    index = serializers.IntegerField(help_text="Position of the record in ``records``, from 0.")
    code = serializers.CharField()
    message = serializers.CharField()
    value = serializers.CharField(allow_blank=True, help_text="The value refused, when there is one.")


class ImportRejectedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(help_text="``import_rejected``")
    message = serializers.CharField()
    rejected = RejectedRecordSerializer(many=True)


@extend_schema_view(
    post=extend_schema(
        operation_id="system_credit_records_import",
        summary="Import a batch of the authority's credit records",
        description=(
            "All or nothing: when any record is rejected, nothing is written and the answer (422 "
            "``import_rejected``) lists every rejected record with its index and code. The same batch "
            "sent again adds nothing (200, ``already_imported``); a record already in the ledger is a "
            "duplicate, not a second entry. The records are entered under the client's authority and "
            "recorded by its service account. Scope ``credit:import``."
        ),
        request=CreditImportSerializer,
        responses={
            201: ImportReportSerializer,
            200: ImportReportSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            422: ImportRejectedSerializer,
            429: ERROR,
        },
        examples=[
            OpenApiExample(
                "A court judgment",
                request_only=True,
                value={
                    "records": [
                        {
                            "uscc": "91210100MA0QHKT1BY",
                            "kind": "court_dishonest_debtor",
                            "occurred_on": "2026-03-02",
                            "document_number": "(2026)辽01执123号",
                            "legal_basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
                            "reason": "",
                        }
                    ]
                },
            )
        ],
        tags=["system"],
    )
)
class CreditImportView(SystemView):
    required_scope = "credit:import"

    def post(self, request: Request) -> Response:
        shape = CreditImportSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        account = system_account_of(request)
        assert account is not None  # ScopeRequired let only a system account through
        report = ledger_services.ledger_import_records(
            actor=account.user,
            authority=account.authority,
            records=shape.validated_data["records"],
            source_name=f"api:{account.application.client_id}",
        )
        if report.rejected:
            body = error_body(
                "import_rejected",
                str(_("%(count)s record(s) rejected; nothing was recorded.") % {"count": len(report.rejected)}),
            )
            body["rejected"] = [
                {"index": index, "code": code, "message": ledger_services.import_row_message(code), "value": value}
                for index, code, value in report.rejected
            ]
            return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        assert report.batch is not None
        data = {
            "batch_id": report.batch.pk,
            "records": report.rows_total,
            "added": report.added,
            "duplicates": report.duplicates,
            "already_imported": report.already_imported,
        }
        return Response(
            ImportReportSerializer(data).data,
            status=status.HTTP_200_OK if report.already_imported else status.HTTP_201_CREATED,
        )


# --- grade look-up --------------------------------------------------------------------------------


class SystemGradeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    uscc = serializers.CharField()
    name = serializers.CharField()
    grade = serializers.ChoiceField(choices=["A", "B", "C", "D"])
    score = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    rule_version = serializers.CharField()
    purpose = serializers.ChoiceField(choices=LookupPurpose.choices)


@extend_schema_view(
    get=extend_schema(
        operation_id="system_credit_grade",
        summary="Look up an enterprise's credit grade for an authorised purpose",
        description=(
            "The grade as of now. ``purpose`` is required and one of a fixed list; each look-up is "
            "logged (``system.read``) with the client and the purpose. An unknown USCC is a 404, a "
            "malformed one a 400 with the USCC's own code. Scope ``credit:grade``."
        ),
        parameters=[
            OpenApiParameter("uscc", str, OpenApiParameter.PATH, description="统一社会信用代码 (18 characters)."),
            OpenApiParameter("purpose", str, OpenApiParameter.QUERY, required=True, enum=LookupPurpose.values),
        ],
        responses={200: SystemGradeSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 429: ERROR},
        tags=["system"],
    )
)
class GradeView(SystemView):
    required_scope = "credit:grade"

    def get(self, request: Request, uscc: str) -> Response:
        purpose = str(request.query_params.get("purpose", ""))[:40]
        try:
            found = ledger_services.credit_grade_lookup(uscc=uscc, purpose=purpose)
        except (InvalidUSCCError, DomainError) as exc:
            if isinstance(exc, InvalidUSCCError) or exc.code in {"purpose_required", "purpose_invalid"}:
                raise BadParameter(detail=str(exc.message), code=exc.code) from None
            raise
        if found is None:
            raise exceptions.NotFound(_("No enterprise bears this unified social credit code."))
        account = system_account_of(request)
        assert account is not None
        summary = found.summary
        audit_read_mark(
            request._request,
            object_type="credit.enterprise.grade",
            object_id=str(found.enterprise.pk),
            data={
                "uscc": found.enterprise.uscc,
                "purpose": found.purpose,
                "grade": summary.grade,
                "client_id": account.application.client_id,
                "authority": account.authority,
            },
        )
        body: dict[str, Any] = {
            "uscc": found.enterprise.uscc,
            "name": found.enterprise.name,
            "grade": summary.grade,
            "score": summary.score,
            "as_of": summary.as_of,
            "rule_version": summary.rule_version,
            "purpose": found.purpose,
        }
        return Response(SystemGradeSerializer(body).data)
