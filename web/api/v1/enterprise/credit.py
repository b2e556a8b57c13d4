"""An enterprise's credit on the API: its grade with the explanation, as the portal's credit page
shows it (``web.portal.credit``: the score, the entries that count, those left out and why, the
hard rule), as of now or any past instant (``?as_of=``: the entries *recorded* by then, so the
answer is reproducible); and its ledger entries, newest first.

Entries whose effect a repair or reversal ended, and the corrections themselves, are left out as
the portal leaves them out (``ledger_selectors.hidden_from_public``); auditors see them."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import LedgerEntry
from web import credit_display
from web.api.pagination import Cursor
from web.api.v1.enterprise.scope import EnterpriseView, own_enterprise

TAGS = ["enterprise: credit"]
ERRORS = {
    401: OpenApiResponse(description="No credentials, or an unknown, expired or revoked token."),
    403: OpenApiResponse(description="Not an enterprise user."),
    404: OpenApiResponse(description="Not one of the caller's enterprises."),
}


class ContributionSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField(help_text="The ledger entry's number.")
    kind_code = serializers.CharField()
    kind_label = serializers.CharField()
    points = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    counts_until = serializers.DateTimeField(help_text="The end of its publication window.")
    forces_grade_d = serializers.BooleanField()
    deciding_authority = serializers.CharField()
    document_number = serializers.CharField()
    repair_from = serializers.DateTimeField(
        allow_null=True, help_text="A negative entry: when credit repair may be asked (its minimum window)."
    )


class ExclusionSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField()
    kind_code = serializers.CharField()
    kind_label = serializers.CharField()
    points = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=[
            scoring.EXPIRED,
            scoring.REPAIRED,
            scoring.REVERSED,
            scoring.NOT_YET_OCCURRED,
            scoring.CORRECTION,
        ],
        help_text="Why it is left out of the score (stable code).",
    )
    reason_label = serializers.CharField()
    by_seq = serializers.IntegerField(allow_null=True, help_text="The repair or reversal that ended it.")


class GradeSerializer(serializers.Serializer[Any]):
    enterprise = serializers.IntegerField()
    as_of = serializers.DateTimeField(help_text="The entries recorded by this instant count.")
    grade = serializers.ChoiceField(choices=list(scoring.GRADES))
    score = serializers.IntegerField()
    base = serializers.IntegerField()
    rule_version = serializers.CharField()
    forced_by = serializers.ListField(
        child=serializers.IntegerField(), help_text="Entries forcing grade D (an active serious entry)."
    )
    stable_until = serializers.DateTimeField(
        allow_null=True, help_text="The answer holds until then unless an entry is recorded."
    )
    contributing = ContributionSerializer(many=True)
    excluded = ExclusionSerializer(many=True)


def _as_of(request: Request) -> datetime.datetime:
    """``?as_of=``: an ISO 8601 instant or a date (its end, Asia/Shanghai); absent: now. Today's
    date means now; a later instant is refused — the ledger as of the future is not known yet."""
    now = timezone.now()
    text = request.query_params.get("as_of", "").strip()
    if not text:
        return now
    try:
        moment = ledger_selectors.parse_as_of(text)
    except ledger_selectors.AsOfError as exc:
        raise ParseError(detail=str(exc.message), code=exc.code) from exc
    if moment > now:
        if len(text) == 10 and moment.astimezone(scoring.SHANGHAI).date() == timezone.localdate(now):
            return now
        raise ParseError(detail=_("The grade cannot be given as of a future instant."), code="as_of_in_future")
    return moment


def grade_view(enterprise: Any, as_of: datetime.datetime) -> dict[str, Any]:
    """The portal's explanation (``credit_display.explanation``) of the grade as of ``as_of``."""
    result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=as_of)
    entries = {entry.seq: entry for entry in ledger_selectors.entries_of(enterprise=enterprise)}
    explanation = credit_display.explanation(
        result, entries, ledger_selectors.hidden_from_public(enterprise=enterprise)
    )
    contributing = []
    for row in explanation["contributing"]:
        contribution, entry = row["c"], row["entry"]
        contributing.append(
            {
                "seq": contribution.seq,
                "kind_code": contribution.kind_code,
                "kind_label": entry.kind.label,
                "points": contribution.points,
                "occurred_at": contribution.occurred_at,
                "counts_until": contribution.window_ends_at,
                "forces_grade_d": contribution.forces_grade_d,
                "deciding_authority": entry.deciding_authority,
                "document_number": entry.document_number,
                "repair_from": scoring.add_months(entry.occurred_at, entry.kind.min_window_months)
                if contribution.points < 0
                else None,
            }
        )
    excluded = [
        {
            "seq": row["e"].seq,
            "kind_code": row["e"].kind_code,
            "kind_label": row["entry"].kind.label,
            "points": row["e"].points,
            "reason": row["e"].reason,
            "reason_label": row["reason"],
            "by_seq": row["e"].by_seq,
        }
        for row in explanation["excluded"]
    ]
    return {
        "enterprise": enterprise.pk,
        "as_of": result.as_of,
        "grade": result.grade,
        "score": result.score,
        "base": result.base,
        "rule_version": result.rule_version,
        "forced_by": list(result.forced_by),
        "stable_until": result.stable_until,
        "contributing": contributing,
        "excluded": excluded,
    }


@extend_schema(tags=TAGS)
class CreditGrade(EnterpriseView):
    @extend_schema(
        summary="The enterprise's credit grade with the explanation, as of now or a past instant",
        parameters=[
            OpenApiParameter(
                "as_of",
                str,
                description=(
                    "An ISO 8601 instant (2026-05-31T12:00:00+08:00; without a zone: Asia/Shanghai) or a date "
                    "(its end). Default: now. A bad value → 400 `as_of_invalid`, a future one → 400 `as_of_in_future`."
                ),
            )
        ],
        responses={
            200: GradeSerializer,
            400: OpenApiResponse(description="`as_of_invalid` or `as_of_in_future`."),
            **ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        enterprise = own_enterprise(request, pk)
        return Response(GradeSerializer(grade_view(enterprise, _as_of(request))).data)


class LedgerEntrySerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField()
    kind_code = serializers.CharField()
    kind_label = serializers.CharField(source="kind.label")
    tier = serializers.CharField(source="kind.tier")
    points = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    deciding_authority = serializers.CharField()
    document_number = serializers.CharField()
    legal_basis = serializers.CharField()
    reason = serializers.CharField()
    entry_hash = serializers.CharField(help_text="Of the entry's canonical form, chained to the previous entry.")


class BySeq(Cursor):
    ordering = "-seq"


@extend_schema(tags=TAGS)
class LedgerEntryList(EnterpriseView, generics.GenericAPIView[LedgerEntry]):
    serializer_class = LedgerEntrySerializer
    pagination_class = BySeq

    @extend_schema(
        summary="The enterprise's credit ledger entries, newest first",
        responses={200: LedgerEntrySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        enterprise = own_enterprise(request, pk)
        hidden = ledger_selectors.hidden_from_public(enterprise=enterprise)
        entries: QuerySet[LedgerEntry] = ledger_selectors.entries_of(enterprise=enterprise).exclude(seq__in=hidden)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)
