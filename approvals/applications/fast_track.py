"""Fast track in the standard approval flow (issue 6, item 6): the item-level privileges that a
published fast-track credit policy grants one application, and the places the flow consults them.

The credit side decides: ``credit.policies.services.fast_track_check`` evaluates every published
fast-track policy covering the item, records one ``EligibilityDecision`` per policy (purpose
``fast_track``, subject ``application`` / ``application:<pk>``) and returns the most favourable
granting one. This module is the glue:

- at submission ``fast_track_decide`` asks for the check and ``application_submit`` stores the
  granting decision on ``Application.fast_track_decision``;
- ``privileges_of`` reads the privileges from that *stored decision* (its ``outcome``, written by the
  pure evaluation from the policy version it names). Decisions are append-only and never
  re-evaluated here, so a policy version published later, or a grade that drops later, changes
  nothing for an application already submitted: a recomputed deadline stays the same;
- ``promised_days`` is the promised limit the statutory clock counts (less the reduction, never below
  one working day); ``materials_blocking`` the mandatory materials that stop a submission or an
  acceptance; ``fast_track_summary`` what the application pages show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from approvals.models import Application, RequiredMaterial
from core.models import User
from credit.ledger.models import SourceType
from credit.policies import services as credit_policies
from credit.policies.models import EligibilityDecision

# The shortest promised limit a reduction can leave: a case is never due on the day it is accepted.
MIN_PROMISED_DAYS = 1

# 容缺受理 for every applicant. The catalogue marks the mandatory materials that may be missing at
# acceptance (``RequiredMaterial.may_be_missing``), and the standard flow as built lets *every*
# applicant submit and be accepted without them (``materials_blocking`` below). So
# while this is True the ``allow_missing_secondary`` privilege is recorded and shown but adds nothing
# at submission. Practice (notes/domain-practice.md §1.4) and issue 6 make 容缺 a credit-gated
# privilege: set this to False and only a granted fast-track privilege lets a 容缺 material be
# missing at submission and acceptance (the tests cover both settings; tests/workflows/conftest's
# ``new_draft``, the demo cases and the portal form's hint assume True today).
SECONDARY_MAY_BE_MISSING_FOR_EVERY_APPLICANT = True


@dataclass(frozen=True)
class Privileges:
    """What a granting fast-track decision gives one application."""

    promised_days_reduction: int = 0
    allow_missing_secondary: bool = False

    def __bool__(self) -> bool:
        return self.promised_days_reduction > 0 or self.allow_missing_secondary


NO_PRIVILEGES = Privileges()


def privileges_from_outcome(outcome: Any) -> Privileges:
    """The privileges in a decision's ``outcome`` (``{"privileges": {...}}``); anything malformed
    grants nothing rather than guessing."""
    raw = outcome.get("privileges") if isinstance(outcome, Mapping) else None
    if not isinstance(raw, Mapping):
        return NO_PRIVILEGES
    reduction = raw.get("promised_days_reduction")
    if isinstance(reduction, bool) or not isinstance(reduction, int) or reduction < 0:
        reduction = 0
    return Privileges(
        promised_days_reduction=reduction,
        allow_missing_secondary=raw.get("allow_missing_secondary") is True,
    )


def privileges_of_decision(decision: EligibilityDecision | None) -> Privileges:
    if decision is None or not decision.eligible:
        return NO_PRIVILEGES
    return privileges_from_outcome(decision.outcome)


def privileges_of(application: Application) -> Privileges:
    """The privileges of the decision stored on the application (none without one; no query then)."""
    if application.fast_track_decision_id is None:
        return NO_PRIVILEGES
    return privileges_of_decision(application.fast_track_decision)


def promised_days(application: Application) -> int:
    """The promised limit (working days) the application's statutory clock counts."""
    promised = application.item_version.promised_limit_days
    reduction = privileges_of(application).promised_days_reduction
    if not reduction:
        return promised
    return max(MIN_PROMISED_DAYS, promised - reduction)


def subject_id(application: Application) -> str:
    """The subject reference of the application's eligibility decisions (as the commitment route)."""
    return f"application:{application.pk}"


def fast_track_decide(*, actor: User | None, application: Application) -> credit_policies.FastTrackGrant | None:
    """Evaluate and record the fast-track policies covering the application's item for its
    enterprise (one decision per covering policy, granting or not), now. Returns the granting
    result, or ``None`` (no policy covers the item, or none grants).

    Runs in the caller's transaction: the submission stores the decision it returns."""
    return credit_policies.fast_track_check(
        actor=actor,
        enterprise=application.enterprise,
        item_code=application.item_version.item.code,
        source_type=SourceType.APPLICATION,
        source_id=subject_id(application),
    )


def _supplied_material_ids(application: Application) -> set[int]:
    return set(
        application.materials.exclude(required_material__isnull=True).values_list("required_material_id", flat=True)
    )


def materials_blocking(application: Application, *, privileges: Privileges) -> list[RequiredMaterial]:
    """Mandatory materials not supplied that stop a submission or an acceptance: every one, except
    the secondary ones (``may_be_missing``, 容缺) when 容缺 applies to everyone or the application
    holds the privilege."""
    secondary_allowed = SECONDARY_MAY_BE_MISSING_FOR_EVERY_APPLICANT or privileges.allow_missing_secondary
    supplied = _supplied_material_ids(application)
    return [
        material
        for material in application.item_version.materials.all()
        if material.mandatory and material.pk not in supplied and not (material.may_be_missing and secondary_allowed)
    ]


def secondary_materials_missing(application: Application) -> list[RequiredMaterial]:
    """The 容缺 materials not supplied yet (to be supplied later)."""
    supplied = _supplied_material_ids(application)
    return [
        material
        for material in application.item_version.materials.all()
        if material.mandatory and material.may_be_missing and material.pk not in supplied
    ]


@dataclass(frozen=True)
class FastTrackSummary:
    """What the application pages show: which policy granted what, by which decision."""

    decision: EligibilityDecision
    policy_code: str
    policy_label: str
    privileges: Privileges
    secondary_missing: tuple[str, ...]

    @property
    def secondary_missing_text(self) -> str:
        return "、".join(self.secondary_missing)


def fast_track_summary(application: Application) -> FastTrackSummary | None:
    """The fast track granted to ``application``, or ``None`` (no query then). One query loads the
    decision with its policy version and policy; one more lists the 容缺 materials still missing
    when the privilege was granted."""
    if application.fast_track_decision_id is None:
        return None
    decision = (
        EligibilityDecision.objects.select_related("policy_version__policy")
        .filter(pk=application.fast_track_decision_id)
        .first()
    )
    if decision is None or decision.policy_version is None:
        return None
    privileges = privileges_of_decision(decision)
    missing: tuple[str, ...] = ()
    if privileges.allow_missing_secondary:
        missing = tuple(material.name for material in secondary_materials_missing(application))
    policy = decision.policy_version.policy
    return FastTrackSummary(
        decision=decision,
        policy_code=policy.code,
        policy_label=policy.label,
        privileges=privileges,
        secondary_missing=missing,
    )
