"""Preferential policies (惠企政策) on the API, as the portal's policy pages have them
(``web.portal.policies``):

- every published policy with its conditions and benefits and, for each of the caller's
  enterprises, the newest *recorded* eligibility answer with its reasons and hints. Reading writes
  nothing, as on the portal's list;
- asking for an answer records it (an ``EligibilityDecision``, purpose ``policy_check``, subject the
  enterprise, so that what the enterprise was told replays): the portal's "check now"
  (``policy_eligibility_check_all``) for all policies, or one policy
  (``policy_eligibility_check``, the same decision for one row). Hence a POST, never a GET;
- applications for a loan guarantee or an interest subsidy: list, detail, submit (the portal's
  action ``policy_apply_and_start`` with the portal's form, and an ``Idempotency-Key``), withdraw
  (``policy_withdraw_and_cancel``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from credit.models import Enterprise
from credit.policies import selectors as policy_selectors
from credit.policies import services as policy_services
from credit.policies.models import (
    APPLICATION_KINDS,
    OPEN_APPLICATION_STATUSES,
    ApplicationStatus,
    EligibilityDecision,
    PolicyApplication,
    PolicyKind,
    PolicyVersion,
)
from web.api.v1.enterprise import idempotency
from web.api.v1.enterprise.scope import EnterpriseView, enterprise_filter, enterprises_of, own_enterprise, service
from web.policy_display import DecisionView, benefit_texts, condition_texts, decision_views
from web.portal.forms import PolicyApplyForm
from workflows.actions import policies as policy_actions

POLICY_TAGS = ["enterprise: policies"]
APPLICATION_TAGS = ["enterprise: policy applications"]
ERRORS = {
    400: OpenApiResponse(description="The request's shape is wrong (`invalid`, with `fields`)."),
    401: OpenApiResponse(description="No credentials, or an unknown, expired or revoked token."),
    403: OpenApiResponse(description="Not an enterprise user, or a read-only token writing."),
    404: OpenApiResponse(description="No such policy or application, or not one of the caller's enterprises."),
    422: OpenApiResponse(description="A rule refused it; `code` names the rule."),
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


# --- eligibility decisions -------------------------------------------------------------------------


class IssueSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable code of the reason or hint.")
    params = serializers.DictField(help_text="Its values (dates, grades, entry numbers …).")
    text = serializers.CharField(help_text="The sentence, in the request's language.")


class EligibilityDecisionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    enterprise = serializers.IntegerField()
    policy = serializers.CharField(allow_null=True, help_text="The policy's code.")
    policy_version = serializers.IntegerField(allow_null=True)
    purpose = serializers.CharField()
    as_of = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    grade = serializers.CharField()
    score = serializers.IntegerField()
    eligible = serializers.BooleanField()
    reasons = IssueSerializer(many=True, help_text="Why the answer is what it is.")
    hints = IssueSerializer(many=True, help_text="What would change the answer.")
    rule_version = serializers.CharField()
    input_digest = serializers.CharField(help_text="SHA-256 of the inputs: the decision replays to the same answer.")


def _issues(stored: list[dict[str, Any]], texts: list[str]) -> list[dict[str, Any]]:
    return [
        {"code": issue.get("code", ""), "params": issue.get("params") or {}, "text": text}
        for issue, text in zip(stored, texts, strict=False)
    ]


def decision_data(decision: EligibilityDecision, view: DecisionView) -> dict[str, Any]:
    version = decision.policy_version
    return EligibilityDecisionSerializer(_decision_row(decision, view, version)).data


def _decision_row(decision: EligibilityDecision, view: DecisionView, version: PolicyVersion | None) -> dict[str, Any]:
    return {
        "id": decision.pk,
        "enterprise": decision.enterprise_id,
        "policy": version.policy.code if version is not None else None,
        "policy_version": version.number if version is not None else None,
        "purpose": decision.purpose,
        "as_of": decision.as_of,
        "recorded_at": decision.created_at,
        "grade": decision.grade,
        "score": decision.score,
        "eligible": decision.eligible,
        "reasons": _issues(decision.reasons, view.reasons),
        "hints": _issues(decision.hints, view.hints),
        "rule_version": decision.rule_version,
        "input_digest": decision.input_digest,
    }


def decisions_data(decisions: list[EligibilityDecision]) -> list[dict[str, Any]]:
    texts = decision_views(decisions)
    return [decision_data(decision, texts[decision.pk]) for decision in decisions]


# --- policies ---------------------------------------------------------------------------------------


class PolicyCheckSerializer(serializers.Serializer[Any]):
    enterprise = serializers.IntegerField()
    enterprise_name = serializers.CharField()
    decision = EligibilityDecisionSerializer(
        allow_null=True, help_text="The newest recorded answer; null until one is asked for."
    )
    open_application = serializers.IntegerField(allow_null=True)


class PolicySerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.ChoiceField(choices=PolicyKind.choices)
    version = serializers.IntegerField()
    legal_basis = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    conditions = serializers.ListField(child=serializers.CharField(), help_text="The decision table as sentences.")
    benefits = serializers.ListField(child=serializers.CharField())
    applicable = serializers.BooleanField(help_text="Applied for by an application (loan guarantee, interest subsidy).")
    checks = PolicyCheckSerializer(
        many=True, help_text="Per enterprise of the caller (none for a deposit waiver: decided per project)."
    )


def policies_data(versions: list[PolicyVersion], enterprises: list[Enterprise]) -> list[dict[str, Any]]:
    """The portal list's rows (``web.portal.policies.policy_list``) for these versions."""
    open_applications = {
        (row["enterprise_id"], row["policy_id"]): row["pk"]
        for row in PolicyApplication.objects.filter(
            enterprise__in=enterprises, status__in=OPEN_APPLICATION_STATUSES
        ).values("pk", "enterprise_id", "policy_id")
    }
    latest = policy_selectors.eligibility_checks_latest(enterprises=enterprises, versions=versions)
    for recorded in latest.values():
        recorded.policy_version = next(v for v in versions if v.pk == recorded.policy_version_id)
    texts = decision_views(list(latest.values()))
    rows = []
    for version in versions:
        policy = version.policy
        checks = []
        if policy.kind != PolicyKind.DEPOSIT_WAIVER:
            for enterprise in enterprises:
                decision = latest.get((enterprise.pk, version.pk))
                checks.append(
                    {
                        "enterprise": enterprise.pk,
                        "enterprise_name": enterprise.name,
                        "decision": decision_data(decision, texts[decision.pk]) if decision is not None else None,
                        "open_application": open_applications.get((enterprise.pk, policy.pk)),
                    }
                )
        rows.append(
            {
                "code": policy.code,
                "name": policy.name,
                "name_en": policy.name_en,
                "kind": policy.kind,
                "version": version.number,
                "legal_basis": policy.legal_basis,
                "valid_from": policy.valid_from,
                "valid_until": policy.valid_until,
                "conditions": condition_texts(version.conditions),
                "benefits": benefit_texts(policy.kind, version.benefits),
                "applicable": policy.kind in APPLICATION_KINDS,
                "checks": checks,
            }
        )
    return rows


def _published(code: str) -> PolicyVersion:
    version = policy_selectors.policies_published().filter(policy__code=code).first()
    if version is None:
        raise NotFound()
    return version


@extend_schema(tags=POLICY_TAGS)
class PolicyList(EnterpriseView, generics.GenericAPIView[PolicyVersion]):
    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet[PolicyVersion]:
        return policy_selectors.policies_published()

    @extend_schema(
        summary="Every published policy, with each enterprise's newest recorded eligibility answer",
        description="Reading writes nothing: ask for an answer with `POST …/eligibility/`.",
        responses={200: PolicySerializer(many=True), **_errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        versions = list(self.paginate_queryset(self.get_queryset()) or [])
        rows = policies_data(versions, list(enterprises_of(request)))
        return self.get_paginated_response(PolicySerializer(rows, many=True).data)


@extend_schema(tags=POLICY_TAGS)
class PolicyDetail(EnterpriseView):
    @extend_schema(
        summary="One published policy, with each enterprise's newest recorded eligibility answer",
        responses={200: PolicySerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        version = _published(code)
        return Response(PolicySerializer(policies_data([version], list(enterprises_of(request)))[0]).data)


class EligibilityRequestSerializer(serializers.Serializer[Any]):
    enterprise = serializers.IntegerField(min_value=1, help_text="One of the enterprises the caller acts for.")


@extend_schema(tags=POLICY_TAGS)
class PolicyEligibility(EnterpriseView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Check an enterprise's eligibility for one policy now, and record the answer",
        request=EligibilityRequestSerializer,
        responses={201: EligibilityDecisionSerializer, **ERRORS},
        examples=[OpenApiExample("An enterprise", request_only=True, value={"enterprise": 12})],
    )
    def post(self, request: Request, code: str) -> Response:
        version = _published(code)
        shape = EligibilityRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        enterprise = own_enterprise(request, shape.validated_data["enterprise"])
        decision = service(
            lambda: policy_services.policy_eligibility_check(
                actor=request.user,  # type: ignore[arg-type]
                enterprise=enterprise,
                policy=version.policy,
                source_type="enterprise",
                source_id=str(enterprise.pk),
            )
        )
        return Response(decisions_data([decision])[0], status=status.HTTP_201_CREATED)


@extend_schema(tags=POLICY_TAGS)
class PolicyEligibilityAll(EnterpriseView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Check every enterprise of the caller against every published policy now (the portal's "
        "“check now”), and record the answers",
        operation_id="enterprise_policies_eligibility_all_create",
        request=None,
        responses={201: EligibilityDecisionSerializer(many=True), **_errors(401, 403, 422)},
    )
    def post(self, request: Request) -> Response:
        enterprises = list(enterprises_of(request))
        decisions = service(
            lambda: policy_services.policy_eligibility_check_all(
                actor=request.user,  # type: ignore[arg-type]
                enterprises=enterprises,
            )
        )
        return Response(decisions_data(list(decisions)), status=status.HTTP_201_CREATED)


# --- policy applications ------------------------------------------------------------------------


class DisbursementSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid_on = serializers.DateField()
    reference = serializers.CharField()


class GrantSerializer(serializers.Serializer[Any]):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    term_months = serializers.IntegerField()
    disbursed_total = serializers.DecimalField(max_digits=16, decimal_places=2)
    granted_at = serializers.DateTimeField()
    note = serializers.CharField()
    disbursements = DisbursementSerializer(many=True, source="disbursements.all")


class PolicyApplicationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    enterprise = serializers.IntegerField(source="enterprise_id")
    enterprise_name = serializers.CharField(source="enterprise.name")
    policy = serializers.CharField(source="policy.code")
    policy_name = serializers.CharField(source="policy.name")
    kind = serializers.ChoiceField(source="policy.kind", choices=PolicyKind.choices)
    policy_version = serializers.IntegerField(source="policy_version.number")
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    requested_amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    requested_term_months = serializers.IntegerField(allow_null=True)
    statement = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    review_due_on = serializers.DateField(allow_null=True)
    review_due_provisional = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    eligibility = serializers.SerializerMethodField()
    grant = serializers.SerializerMethodField()

    @extend_schema_field(EligibilityDecisionSerializer(allow_null=True))
    def get_eligibility(self, application: PolicyApplication) -> dict[str, Any] | None:
        view = getattr(application, "view", None)
        if application.eligibility is None or view is None:
            return None
        return decision_data(application.eligibility, view)

    @extend_schema_field(GrantSerializer(allow_null=True))
    def get_grant(self, application: PolicyApplication) -> dict[str, Any] | None:
        grant = getattr(application, "grant", None)
        return GrantSerializer(grant).data if grant is not None else None


def _with_views(applications: list[PolicyApplication]) -> list[PolicyApplication]:
    """Each application's eligibility decision with its reasons and hints (one pass for the page)."""
    texts = decision_views([application.eligibility for application in applications])
    for application in applications:
        if application.eligibility is not None:
            application.eligibility.policy_version = application.policy_version
            application.view = texts.get(application.eligibility.pk)  # type: ignore[attr-defined]
    return applications


def _applications_of(request: Request) -> QuerySet[PolicyApplication]:
    return policy_selectors.applications_with_details(
        PolicyApplication.objects.filter(enterprise__in=enterprises_of(request))
    ).select_related("policy_version__policy")


def _own_application(request: Request, pk: int) -> PolicyApplication:
    application = _applications_of(request).filter(pk=pk).first()
    if application is None:
        raise NotFound()
    return application


def _application_view(application: PolicyApplication) -> dict[str, Any]:
    return PolicyApplicationSerializer(_with_views([application])[0]).data


class PolicyApplicationRequestSerializer(serializers.Serializer[Any]):
    """The shape of the portal's application form (``PolicyApplyForm``), which then checks it
    against the policy's caps."""

    policy = serializers.CharField(max_length=40, help_text="A published loan guarantee or interest subsidy.")
    enterprise = serializers.IntegerField(min_value=1, help_text="One of the enterprises the caller acts for.")
    requested_amount = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Yuan, as a string.")
    requested_term_months = serializers.IntegerField(min_value=1, max_value=600)
    statement = serializers.CharField(max_length=4000, help_text="What the funds finance, how they are repaid.")


@extend_schema(tags=APPLICATION_TAGS)
class PolicyApplicationCollection(EnterpriseView, generics.GenericAPIView[PolicyApplication]):
    serializer_class = PolicyApplicationSerializer
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[PolicyApplication]:
        queryset = enterprise_filter(self.request, _applications_of(self.request))
        status_filter = self.request.query_params.get("status", "")
        if status_filter:
            if status_filter not in ApplicationStatus.values:
                raise ValidationError({"status": [f"Not one of {', '.join(ApplicationStatus.values)}."]})
            queryset = queryset.filter(status=status_filter)
        return queryset

    @extend_schema(
        summary="The caller's enterprises' policy applications, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=ApplicationStatus.values),
            OpenApiParameter("enterprise", int, description="One of the caller's enterprises."),
        ],
        responses={200: PolicyApplicationSerializer(many=True), **_errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = _with_views(list(self.paginate_queryset(self.get_queryset()) or []))
        return self.get_paginated_response(PolicyApplicationSerializer(page, many=True).data)

    @extend_schema(
        summary="Apply for a policy (eligibility decided and recorded at once; idempotent by key)",
        description=(
            "Eligible → `pending_review` (the policy office reviews it); not eligible → `ineligible` at once, "
            "with the decision's reasons and hints. One open application per enterprise and policy "
            "(`application_open`). A retry with the same `Idempotency-Key` gets the first answer again."
        ),
        request=PolicyApplicationRequestSerializer,
        parameters=[idempotency.PARAMETER],
        responses={
            201: PolicyApplicationSerializer,
            409: OpenApiResponse(description="`idempotency_in_flight`: the first request with the key still runs."),
            **ERRORS,
        },
        examples=[
            OpenApiExample(
                "A loan guarantee",
                request_only=True,
                value={
                    "policy": "loan_guarantee_2026",
                    "enterprise": 12,
                    "requested_amount": "1000000.00",
                    "requested_term_months": 24,
                    "statement": "用于购置生产设备，按月还款",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        shape = PolicyApplicationRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        data = shape.validated_data
        version = _published(data["policy"])
        if version.policy.kind not in APPLICATION_KINDS:
            raise NotFound()
        enterprise = own_enterprise(request, data["enterprise"])
        # The portal's form: the same caps of the policy's version, the same field errors.
        form = PolicyApplyForm(
            {
                "enterprise": enterprise.pk,
                "requested_amount": data["requested_amount"],
                "requested_term_months": data["requested_term_months"],
                "statement": data["statement"],
            },
            enterprises=[enterprise],
            version=version,
        )
        if not form.is_valid():
            raise ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
                    for name, messages in form.errors.items()
                }
            )

        def run() -> Response:
            application = service(
                lambda: policy_actions.policy_apply_and_start(
                    actor=request.user,  # type: ignore[arg-type]
                    enterprise=enterprise,
                    policy=version.policy,
                    requested_amount=form.cleaned_data["requested_amount"],
                    requested_term_months=form.cleaned_data["requested_term_months"],
                    statement=form.cleaned_data["statement"],
                )
            )
            return Response(
                _application_view(_own_application(request, application.pk)), status=status.HTTP_201_CREATED
            )

        return idempotency.idempotent(request, run)


@extend_schema(tags=APPLICATION_TAGS)
class PolicyApplicationItem(EnterpriseView):
    @extend_schema(
        summary="A policy application: status, eligibility with reasons and hints, grant",
        responses={200: PolicyApplicationSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_application_view(_own_application(request, pk)))


@extend_schema(tags=APPLICATION_TAGS)
class PolicyApplicationWithdraw(EnterpriseView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Withdraw an application awaiting the policy office",
        request=None,
        responses={200: PolicyApplicationSerializer, **_errors(401, 403, 404, 422)},
    )
    def post(self, request: Request, pk: int) -> Response:
        application = _own_application(request, pk)
        service(
            lambda: policy_actions.policy_withdraw_and_cancel(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
            )
        )
        return Response(_application_view(_own_application(request, pk)))
