"""Writes for preferential policies: the catalogue and its versions, eligibility decisions (the
commitment route, policy checks, fast track, construction deposits), applications, grants and
disbursements. Each function is one transaction that writes its audit event(s).

Every eligibility decision is evaluated by the pure ``credit.policies.rules`` from the enterprise's
ledger entries loaded in one query (``policy_selectors.ledger_facts``) and stored with all its
inputs and their digest (``EligibilityDecision``); ``policy_selectors.eligibility_replay``
re-derives it. Checking eligibility needs no lock: it reads the ledger as of an instant.

Lock order (take them in this order, never the reverse): a ``Policy`` row, then its
``PolicyVersion`` rows (publishing); a ``PolicyApplication`` row, then its ``PolicyGrant`` row.
No service here takes the ledger's chain-head lock.

Callers have checked who may ask for a check (an approval flow, the enterprise's own screen): the
check services record ``actor`` and do not refuse anyone. The writes of the policy office
re-check ``credit.work_policy_office``; an enterprise's application re-checks its membership.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import working_days
from core.actors import real_actor
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from credit import notices, permissions
from credit.enterprises.models import Enterprise
from credit.enterprises.selectors import enterprises_for_user
from credit.ledger import scoring
from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies.models import (
    APPLICATION_KINDS,
    SUBJECT_CONSTRUCTION_PROJECT,
    ApplicationStatus,
    ConstructionProject,
    DecisionPurpose,
    Disbursement,
    EligibilityDecision,
    Policy,
    PolicyApplication,
    PolicyGrant,
    PolicyKind,
    PolicyVersion,
    PolicyVersionStatus,
)


class PolicyError(DomainError):
    pass


# Subject types this module writes itself (others come from the callers, e.g. "application").
SUBJECT_POLICY_APPLICATION = "policy_application"

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_MAX_MONEY = Decimal("99999999999999.99")


def _text(value: str | None, *, code: str, message: Any, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise PolicyError(code, message)
    if len(text) > max_length:
        raise PolicyError(code, _("The text is too long (at most %(max)s characters).") % {"max": max_length})
    return text


def _money(value: Any, *, code: str, allow_zero: bool = False) -> Decimal:
    """A positive (or zero) amount in yuan with at most two decimals (floats refused: inexact)."""
    message = _("Give a positive amount in yuan with at most two decimals.")
    if isinstance(value, bool | float) or value is None:
        raise PolicyError(code, message)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PolicyError(code, message) from None
    if not amount.is_finite() or amount > _MAX_MONEY or amount != amount.quantize(policies.CENT):
        raise PolicyError(code, message)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise PolicyError(code, message)
    return amount.quantize(policies.CENT)


def _months(value: Any, *, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 600:
        raise PolicyError(code, _("Give the term as a whole number of months."))
    return value


def _as_of(as_of: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    if as_of is None:
        return now
    if as_of.tzinfo is None:
        raise PolicyError("as_of_invalid", _("The instant must carry a time zone."))
    if as_of > now:
        # The ledger as of a future instant is not known yet: a decision could not be reproduced.
        raise PolicyError("as_of_in_future", _("Eligibility cannot be decided as of a future instant."))
    return as_of


def _subject(source_type: str, source_id: str) -> tuple[str, str]:
    kind = _text(source_type, code="source_required", message=_("Name what the check is for."), max_length=40)
    ident = _text(source_id, code="source_required", message=_("Name what the check is for."), max_length=100)
    return kind, ident


def _require_perm(actor: User | None, perm: str) -> None:
    """``actor`` None is the system itself (a seed, a command)."""
    if actor is None:
        return
    if not (actor.is_authenticated and actor.is_active and actor.has_perm(perm)):
        raise PolicyError("not_authorised", _("You may not change the policy catalogue."))


def _require_policy_office(actor: User) -> None:
    if not permissions.user_is_policy_office(user=actor):
        raise PolicyError("not_policy_office", _("Only the policy office may do this."))


def _require_member(actor: User, enterprise: Enterprise) -> None:
    if actor is None or not enterprises_for_user(user=actor).filter(pk=enterprise.pk).exists():
        raise PolicyError("not_member", _("You do not act for this enterprise."))


# --- catalogue ------------------------------------------------------------------------------------


def _problems_text(problems: list[policies.Problem]) -> str:
    return "; ".join(f"{code} {params}" if params else code for code, params in problems)


def _validate_conditions(conditions: Any) -> None:
    problems = policies.conditions_validate(conditions)
    if problems:
        raise PolicyError(
            "conditions_invalid",
            _("The eligibility conditions are not valid: %(problems)s") % {"problems": _problems_text(problems)},
        )


def _validate_content(kind: str, conditions: Any, benefits: Any) -> None:
    _validate_conditions(conditions)
    problems = policies.benefits_validate(kind, benefits)
    if problems:
        raise PolicyError(
            "benefits_invalid",
            _("The benefit parameters are not valid: %(problems)s") % {"problems": _problems_text(problems)},
        )


def _validity(valid_from: datetime.date, valid_until: datetime.date | None) -> None:
    if not isinstance(valid_from, datetime.date) or (valid_until is not None and valid_until < valid_from):
        raise PolicyError("validity_invalid", _("A policy cannot end before it starts."))


def _policy_create_values(
    *,
    code: str,
    name: str,
    kind: str,
    legal_basis: str,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    name_en: str = "",
    description: str = "",
    conditions: list[dict[str, Any]] | None = None,
    benefits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The new policy's values as they will be stored, or the refusal ``policy_create`` would give.
    Reads only."""
    code = (code or "").strip()
    if not _CODE.match(code):
        raise PolicyError("code_invalid", _("Use lower-case letters, digits, '-' and '_' (at most 40)."))
    name = _text(name, code="name_required", message=_("The name is required."), max_length=200)
    name_en = _text(name_en, code="name_required", message="", max_length=200, required=False)
    legal_basis = _text(
        legal_basis, code="legal_basis_required", message=_("The legal basis is required."), max_length=300
    )
    if kind not in PolicyKind.values:
        raise PolicyError("kind_unknown", _("Unknown kind of policy."))
    _validity(valid_from, valid_until)
    conditions = [] if conditions is None else conditions
    benefits = {} if benefits is None else benefits
    _validate_conditions(conditions)
    if benefits:
        _validate_content(kind, conditions, benefits)
    if Policy.objects.filter(code=code).exists():
        raise PolicyError("code_taken", _("A policy with this code exists."))
    return {
        "code": code,
        "name": name,
        "name_en": name_en,
        "kind": kind,
        "legal_basis": legal_basis,
        "description": (description or "").strip(),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "conditions": conditions,
        "benefits": benefits,
    }


def policy_create_check(*, actor: User | None, **fields: Any) -> None:
    """Would ``policy_create`` with these arguments succeed? Raises its refusal; writes nothing
    (the admin's form validation)."""
    _require_perm(actor, "credit.add_policy")
    _policy_create_values(**fields)


def policy_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    legal_basis: str,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
    name_en: str = "",
    description: str = "",
    conditions: list[dict[str, Any]] | None = None,
    benefits: dict[str, Any] | None = None,
) -> Policy:
    """Add a policy to the catalogue with its version 1 as a draft (``conditions``/``benefits``,
    validated when given; an empty table is allowed in a draft of any kind but fast track and
    deposit waiver, whose benefits are required at publication).

    Errors: ``not_authorised`` (needs ``credit.add_policy``), ``code_invalid``, ``code_taken``,
    ``name_required``, ``kind_unknown``, ``legal_basis_required``, ``validity_invalid``,
    ``conditions_invalid``, ``benefits_invalid``.
    """
    _require_perm(actor, "credit.add_policy")
    with transaction.atomic():
        values = _policy_create_values(
            code=code,
            name=name,
            kind=kind,
            legal_basis=legal_basis,
            valid_from=valid_from,
            valid_until=valid_until,
            name_en=name_en,
            description=description,
            conditions=conditions,
            benefits=benefits,
        )
        conditions, benefits = values.pop("conditions"), values.pop("benefits")
        try:
            with transaction.atomic():
                policy = Policy.objects.create(**values)
        except IntegrityError:
            raise PolicyError("code_taken", _("A policy with this code exists.")) from None
        PolicyVersion.objects.create(
            policy=policy, number=1, conditions=conditions, benefits=benefits, created_by=real_actor(actor)
        )
        audit_event_record(
            actor=actor, action="credit.policy_created", obj=policy, data={"code": policy.code, "kind": kind}
        )
    return policy


_EDITABLE_POLICY_FIELDS = frozenset({"name", "name_en", "legal_basis", "description", "valid_from", "valid_until"})


_VALIDITY_FIELDS = ("valid_from", "valid_until")


def _policy_update_changes(policy: Policy, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as they will be stored, or the refusal ``policy_update`` would give; reads
    ``policy`` as given (``policy_update`` passes the locked row)."""
    unknown = set(changes) - _EDITABLE_POLICY_FIELDS
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    changes = dict(changes)
    if "name" in changes:
        changes["name"] = _text(
            changes["name"], code="name_required", message=_("The name is required."), max_length=200
        )
    if "legal_basis" in changes:
        changes["legal_basis"] = _text(
            changes["legal_basis"],
            code="legal_basis_required",
            message=_("The legal basis is required."),
            max_length=300,
        )
    validity_changes = any(name in changes and changes[name] != getattr(policy, name) for name in _VALIDITY_FIELDS)
    if (
        validity_changes
        and PolicyVersion.objects.filter(policy=policy).exclude(status=PolicyVersionStatus.DRAFT).exists()
    ):
        raise PolicyError(
            "validity_locked",
            _(
                "The in-force period cannot change once a version has been published; a different period is a new policy."
            ),
        )
    _validity(changes.get("valid_from", policy.valid_from), changes.get("valid_until", policy.valid_until))
    return changes


def policy_update_check(*, actor: User | None, policy: Policy, **changes: Any) -> None:
    """Would ``policy_update`` with these changes succeed? Raises its refusal; writes nothing (the
    admin's form validation)."""
    _require_perm(actor, "credit.change_policy")
    _policy_update_changes(policy, changes)


def policy_update(*, actor: User | None, policy: Policy, **changes: Any) -> Policy:
    """Change the catalogue data of a policy (not its code or kind; rules change by a new version).

    The in-force period (``valid_from``, ``valid_until``) is part of the rule every decision is
    evaluated from (``policy_not_in_force``) and of the snapshot the replay compares with the
    policy, so once a version has been published it no longer changes (``validity_locked``): a
    different period is a new policy (a new code, with its own versions), which leaves the
    decisions taken under the old one as they were. Before publication it may change freely.

    Errors: ``not_authorised`` (needs ``credit.change_policy``), ``name_required``,
    ``legal_basis_required``, ``validity_invalid``, ``validity_locked``.
    """
    _require_perm(actor, "credit.change_policy")
    with transaction.atomic():
        # Under the policy's row lock, which publishing takes first: a publication either sees the
        # new period or makes this refuse.
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        changes = _policy_update_changes(locked, changes)
        before = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        audit_event_record(
            actor=actor,
            action="credit.policy_changed",
            obj=locked,
            data={"before": {k: str(v) for k, v in before.items()}, "after": {k: str(v) for k, v in changes.items()}},
        )
    return locked


def policy_version_draft_create(
    *, actor: User | None, policy: Policy, from_version: PolicyVersion | None = None
) -> PolicyVersion:
    """ "New draft from": the next version number, a copy of ``from_version`` (default: the
    published version, else empty).

    Errors: ``not_authorised`` (needs ``credit.add_policyversion``), ``draft_exists``,
    ``version_other_policy``.
    """
    _require_perm(actor, "credit.add_policyversion")
    if from_version is not None and from_version.policy_id != policy.pk:
        raise PolicyError("version_other_policy", _("That version belongs to another policy."))
    with transaction.atomic():
        Policy.objects.select_for_update().get(pk=policy.pk)
        if PolicyVersion.objects.filter(policy=policy, status=PolicyVersionStatus.DRAFT).exists():
            raise PolicyError("draft_exists", _("This policy already has a draft version."))
        source = from_version or policy_selectors.policy_version_published(policy=policy)
        number = (PolicyVersion.objects.filter(policy=policy).aggregate(n=Max("number"))["n"] or 0) + 1
        draft = PolicyVersion.objects.create(
            policy=policy,
            number=number,
            conditions=source.conditions if source else [],
            benefits=source.benefits if source else {},
            note="",
            created_by=real_actor(actor),
        )
        audit_event_record(
            actor=actor,
            action="credit.policy_draft_created",
            obj=draft,
            data={"policy": policy.code, "number": number, "from": source.number if source else None},
        )
    return draft


def policy_version_draft_update(
    *, actor: User | None, version: PolicyVersion, conditions: Any, benefits: Any, note: str = ""
) -> PolicyVersion:
    """Edit a draft. Errors: ``not_authorised`` (needs ``credit.change_policyversion``),
    ``version_not_draft``, ``conditions_invalid``, ``benefits_invalid``."""
    _require_perm(actor, "credit.change_policyversion")
    note = _text(note, code="note_too_long", message="", max_length=300, required=False)
    with transaction.atomic():
        locked = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
        if locked.status != PolicyVersionStatus.DRAFT:
            raise PolicyError("version_not_draft", _("A published version is never edited; make a new draft."))
        _validate_conditions(conditions)
        if benefits:
            _validate_content(locked.policy.kind, conditions, benefits)
        locked.conditions = conditions
        locked.benefits = benefits
        locked.note = note
        locked.save(update_fields=["conditions", "benefits", "note"])
        audit_event_record(
            actor=actor,
            action="credit.policy_draft_changed",
            obj=locked,
            data={"conditions": conditions, "benefits": benefits, "note": note},
        )
    return locked


def policy_version_publish(*, actor: User | None, version: PolicyVersion) -> PolicyVersion:
    """Publish a draft: it becomes the policy's version in force, the previously published one is
    superseded, and its content is frozen (digest recorded). Decisions already taken keep the
    version they name.

    Errors: ``not_authorised`` (needs ``credit.publish_policyversion``), ``version_not_draft``,
    ``conditions_invalid``, ``benefits_invalid``.
    """
    _require_perm(actor, permissions.PUBLISH_POLICY)
    with transaction.atomic():
        # Lock order: the policy, then its versions. Two publishers of one policy serialise here.
        policy = Policy.objects.select_for_update().get(pk=version.policy_id)
        locked = PolicyVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != PolicyVersionStatus.DRAFT:
            raise PolicyError("version_not_draft", _("Only a draft can be published."))
        _validate_content(policy.kind, locked.conditions, locked.benefits)
        now = timezone.now()
        previous = list(
            PolicyVersion.objects.filter(policy=policy, status=PolicyVersionStatus.PUBLISHED).values_list(
                "number", flat=True
            )
        )
        PolicyVersion.objects.filter(policy=policy, status=PolicyVersionStatus.PUBLISHED).update(
            status=PolicyVersionStatus.SUPERSEDED, superseded_at=now
        )
        digest = policies.digest(locked.content())
        updated = PolicyVersion.objects.filter(pk=locked.pk, status=PolicyVersionStatus.DRAFT).update(
            status=PolicyVersionStatus.PUBLISHED,
            published_at=now,
            published_by=real_actor(actor),
            content_digest=digest,
        )
        if updated != 1:  # cannot happen under the row lock; refuse rather than publish twice
            raise IntegrityError("policy version changed while locked")
        locked.refresh_from_db()
        audit_event_record(
            actor=actor,
            action="credit.policy_published",
            obj=locked,
            data={"policy": policy.code, "number": locked.number, "supersedes": previous, "digest": digest},
        )
    return locked


# --- eligibility decisions ------------------------------------------------------------------------


def _decision_record(
    *,
    actor: User | None,
    enterprise: Enterprise,
    purpose: str,
    rule: dict[str, Any],
    policy_version: PolicyVersion | None,
    as_of: datetime.datetime,
    source_type: str,
    source_id: str,
    context: dict[str, Any] | None = None,
    ledger: policy_selectors.LedgerFacts | None = None,
) -> EligibilityDecision:
    """Evaluate and store one decision with its inputs, digest and audit event."""
    context = context or {}
    ledger = ledger if ledger is not None else policy_selectors.ledger_facts(enterprise=enterprise)
    rules = scoring.CURRENT_RULES
    known = ledger.as_of(as_of)
    evaluation = policy_selectors.decision_evaluate(
        purpose=purpose, rule=rule, facts=known, as_of=as_of, context=context, rules=rules
    )
    facts = ledger.as_json(known)
    document = policies.inputs_document(
        purpose=purpose,
        enterprise_id=enterprise.pk,
        as_of=as_of,
        known_through_seq=ledger.known_through_seq,
        score_rule_version=rules.version,
        rule=rule,
        facts=facts,
        context=context,
        source_type=source_type,
        source_id=source_id,
    )
    deposit = evaluation.deposit
    decision = EligibilityDecision(
        enterprise=enterprise,
        purpose=purpose,
        policy_version=policy_version,
        rule_code=rule["code"],
        rule_version=rule["version"],
        rule_snapshot=rule,
        as_of=as_of,
        known_through_seq=ledger.known_through_seq,
        facts=facts,
        context=context,
        source_type=source_type,
        source_id=source_id,
        score_rule_version=evaluation.score_rule_version,
        grade=evaluation.grade,
        score=evaluation.score,
        eligible=evaluation.eligible,
        reasons=evaluation.reasons,
        hints=evaluation.hints,
        outcome=evaluation.outcome,
        deposit_tier=deposit.tier if deposit else "",
        deposit_rate=deposit.rate if deposit else None,
        deposit_amount=deposit.amount if deposit else None,
        input_digest=policies.digest(document),
        actor=real_actor(actor),
    )
    with transaction.atomic():
        decision.save(force_insert=True)
        # The replay compares the decision with this event (policy_selectors.decision_audit_record).
        audit_event_record(
            actor=actor,
            action=policy_selectors.DECISION_AUDIT_ACTION,
            obj=decision,
            data={"enterprise": enterprise.uscc, **policy_selectors.decision_audit_record(decision)},
        )
    return decision


def commitment_eligibility_check(
    *,
    actor: User | None,
    enterprise: Enterprise,
    min_grade: str,
    source_type: str,
    source_id: str,
    as_of: datetime.datetime | None = None,
) -> EligibilityDecision:
    """May the enterprise take the commitment route (告知承诺) of an approval item?

    Conditions (rule ``commitment_route`` v``2026.1``): grade ≥ ``min_grade``; no active serious
    entry (tier serious, negative points, inside its window, not repaired or reversed); no
    ``false_commitment`` entry on record unless repaired or reversed. Always recorded as an
    ``EligibilityDecision`` (purpose ``commitment_route``) with the exact conditions as a snapshot.
    ``decision.eligible``, ``.reasons`` and ``.hints`` give the answer; ``policy_selectors.
    decision_reason_texts`` / ``decision_hint_texts`` the text. Reason codes: ``grade_too_low``,
    ``serious_entry_active``, ``false_commitment_unrepaired``.

    Errors (nothing written): ``min_grade_invalid``, ``source_required``, ``as_of_invalid``,
    ``as_of_in_future``.
    """
    if min_grade not in scoring.GRADES:
        raise PolicyError("min_grade_invalid", _("The minimum grade is one of A, B, C, D."))
    source_type, source_id = _subject(source_type, source_id)
    moment = _as_of(as_of)
    return _decision_record(
        actor=actor,
        enterprise=enterprise,
        purpose=DecisionPurpose.COMMITMENT_ROUTE,
        rule=policies.commitment_rule(min_grade),
        policy_version=None,
        as_of=moment,
        source_type=source_type,
        source_id=source_id,
    )


def _published(policy: Policy) -> PolicyVersion:
    version = (
        PolicyVersion.objects.filter(policy=policy, status=PolicyVersionStatus.PUBLISHED)
        .select_related("policy")
        .first()
    )
    if version is None:
        raise PolicyError("policy_not_published", _("This policy has no published version."))
    return version


def policy_eligibility_check(
    *,
    actor: User | None,
    enterprise: Enterprise,
    policy: Policy,
    source_type: str,
    source_id: str,
    as_of: datetime.datetime | None = None,
) -> EligibilityDecision:
    """Is the enterprise eligible for ``policy`` (its published version) as of ``as_of``? Recorded
    (purpose ``policy_check``). For a deposit waiver use ``deposit_waiver_decide``.

    Errors (nothing written): ``policy_not_published``, ``policy_kind_not_applicable``,
    ``source_required``, ``as_of_invalid``, ``as_of_in_future``.
    """
    if policy.kind == PolicyKind.DEPOSIT_WAIVER:
        raise PolicyError("policy_kind_not_applicable", _("A deposit waiver is decided for a construction project."))
    source_type, source_id = _subject(source_type, source_id)
    moment = _as_of(as_of)
    version = _published(policy)
    return _decision_record(
        actor=actor,
        enterprise=enterprise,
        purpose=DecisionPurpose.POLICY_CHECK,
        rule=policy_selectors.policy_rule_snapshot(version),
        policy_version=version,
        as_of=moment,
        source_type=source_type,
        source_id=source_id,
    )


@dataclass(frozen=True)
class FastTrackGrant:
    """The fast-track policy that grants its privileges for one approval, and its decision."""

    policy: Policy
    decision: EligibilityDecision
    privileges: dict[str, Any]
    decisions: tuple[EligibilityDecision, ...] = field(default_factory=tuple)  # every one recorded


def policy_eligibility_check_all(*, actor: User, enterprises: Iterable[Enterprise]) -> list[EligibilityDecision]:
    """Check each enterprise against every published policy decided per enterprise (all but the
    deposit waiver), as of now, in one transaction: the "check now" of the enterprise's policy
    list. Each answer is recorded like ``policy_eligibility_check`` (subject: the enterprise)."""
    versions = [
        version for version in policy_selectors.policies_published() if version.policy.kind != PolicyKind.DEPOSIT_WAIVER
    ]
    subjects = list(enterprises)
    moment = _as_of(None)
    decisions: list[EligibilityDecision] = []
    with transaction.atomic():
        for version in versions:
            rule = policy_selectors.policy_rule_snapshot(version)
            for enterprise in subjects:
                decisions.append(
                    _decision_record(
                        actor=actor,
                        enterprise=enterprise,
                        purpose=DecisionPurpose.POLICY_CHECK,
                        rule=rule,
                        policy_version=version,
                        as_of=moment,
                        source_type="enterprise",
                        source_id=str(enterprise.pk),
                    )
                )
    return decisions


def _privilege_rank(privileges: dict[str, Any]) -> tuple[int, int]:
    """Smaller is more favourable (for ``min``)."""
    return -int(privileges.get("promised_days_reduction") or 0), -int(bool(privileges.get("allow_missing_secondary")))


def fast_track_check(
    *,
    actor: User | None,
    enterprise: Enterprise,
    item_code: str,
    source_type: str,
    source_id: str,
    as_of: datetime.datetime | None = None,
) -> FastTrackGrant | None:
    """Evaluate every published fast-track policy whose ``item_codes`` include ``item_code``, record
    one decision (purpose ``fast_track``) per policy, and return the most favourable granting one
    (largest ``promised_days_reduction``, then ``allow_missing_secondary``, then policy code), or
    ``None`` when none covers the item or none grants. The ledger is read once for all of them.

    Errors (nothing written): ``item_code_required``, ``source_required``, ``as_of_invalid``,
    ``as_of_in_future``.
    """
    item_code = _text(item_code, code="item_code_required", message=_("The approval item is required."), max_length=60)
    source_type, source_id = _subject(source_type, source_id)
    moment = _as_of(as_of)
    covering = [
        version
        for version in policy_selectors.policies_published(kind=PolicyKind.FAST_TRACK)
        if policies.fast_track_covers(version.benefits, item_code)
    ]
    if not covering:
        return None
    ledger = policy_selectors.ledger_facts(enterprise=enterprise)
    decisions: list[EligibilityDecision] = []
    with transaction.atomic():
        for version in covering:
            decisions.append(
                _decision_record(
                    actor=actor,
                    enterprise=enterprise,
                    purpose=DecisionPurpose.FAST_TRACK,
                    rule=policy_selectors.policy_rule_snapshot(version),
                    policy_version=version,
                    as_of=moment,
                    source_type=source_type,
                    source_id=source_id,
                    context={"item_code": item_code},
                    ledger=ledger,
                )
            )
    granting = [(decision, version) for decision, version in zip(decisions, covering, strict=True) if decision.eligible]
    if not granting:
        return None
    best, version = min(
        granting, key=lambda pair: (*_privilege_rank(pair[0].outcome.get("privileges", {})), pair[1].policy.code)
    )
    return FastTrackGrant(
        policy=version.policy,
        decision=best,
        privileges=dict(best.outcome.get("privileges", {})),
        decisions=tuple(decisions),
    )


# --- construction deposits (§35) ------------------------------------------------------------------


def construction_project_register(
    *,
    actor: User,
    enterprise: Enterprise,
    name: str,
    contract_amount: Any,
    wage_deposit_base: Any,
    reference: str = "",
) -> ConstructionProject:
    """Register a construction project of the enterprise (by its member or the policy office).

    Errors: ``not_member``, ``name_required``, ``amount_invalid``, ``base_invalid``.
    """
    if not permissions.user_is_policy_office(user=actor):
        _require_member(actor, enterprise)
    name = _text(name, code="name_required", message=_("The project name is required."), max_length=200)
    reference = _text(reference, code="reference_too_long", message="", max_length=100, required=False)
    amount = _money(contract_amount, code="amount_invalid")
    base = _money(wage_deposit_base, code="base_invalid", allow_zero=True)
    if base > amount:
        raise PolicyError("base_invalid", _("The wage-deposit base lies between zero and the contract amount."))
    with transaction.atomic():
        project = ConstructionProject.objects.create(
            enterprise=enterprise,
            name=name,
            reference=reference,
            contract_amount=amount,
            wage_deposit_base=base,
            registered_by=real_actor(actor),
        )
        audit_event_record(
            actor=actor,
            action="credit.construction_project_registered",
            obj=project,
            data={"enterprise": enterprise.uscc, "contract_amount": str(amount), "wage_deposit_base": str(base)},
        )
    return project


def construction_project_register_and_decide(
    *,
    actor: User,
    enterprise: Enterprise,
    name: str,
    contract_amount: Any,
    wage_deposit_base: Any,
    reference: str = "",
) -> ConstructionProject:
    """Register a project and decide its §35 wage deposit at once, all or nothing (the portal's
    registration: an enterprise is never left with a project and no deposit decision)."""
    with transaction.atomic():
        project = construction_project_register(
            actor=actor,
            enterprise=enterprise,
            name=name,
            contract_amount=contract_amount,
            wage_deposit_base=wage_deposit_base,
            reference=reference,
        )
        deposit_waiver_decide(actor=actor, project=project)
    return project


def _deposit_policy(*, policy: Policy | None, on: datetime.date) -> PolicyVersion:
    if policy is not None:
        if policy.kind != PolicyKind.DEPOSIT_WAIVER:
            raise PolicyError("policy_kind_mismatch", _("This policy is not a deposit waiver."))
        return _published(policy)
    versions = list(policy_selectors.policies_in_force(on=on, kind=PolicyKind.DEPOSIT_WAIVER)[:2])
    if not versions:
        raise PolicyError("no_deposit_policy", _("No deposit-waiver policy is in force."))
    if len(versions) > 1:
        raise PolicyError("deposit_policy_ambiguous", _("Several deposit-waiver policies are in force; name one."))
    return versions[0]


def deposit_waiver_decide(
    *,
    actor: User | None,
    project: ConstructionProject,
    policy: Policy | None = None,
    as_of: datetime.datetime | None = None,
) -> EligibilityDecision:
    """§35: decide the project's wage deposit from the enterprise's credit (purpose
    ``deposit_waiver``, subject ``construction_project:<id>``): tier exempt / reduced / full, rate
    and amount (= wage-deposit base × rate) are stored on the decision with the reasons. Without
    ``policy``, the one deposit-waiver policy in force is used.

    Errors (nothing written): ``policy_kind_mismatch``, ``policy_not_published``,
    ``no_deposit_policy``, ``deposit_policy_ambiguous``, ``as_of_invalid``, ``as_of_in_future``.
    """
    moment = _as_of(as_of)
    version = _deposit_policy(policy=policy, on=timezone.localtime(moment).date())
    return _decision_record(
        actor=actor,
        enterprise=project.enterprise,
        purpose=DecisionPurpose.DEPOSIT_WAIVER,
        rule=policy_selectors.policy_rule_snapshot(version),
        policy_version=version,
        as_of=moment,
        source_type=SUBJECT_CONSTRUCTION_PROJECT,
        source_id=str(project.pk),
        context={
            "project_id": project.pk,
            "contract_amount": str(Decimal(project.contract_amount).quantize(policies.CENT)),
            "wage_deposit_base": str(Decimal(project.wage_deposit_base).quantize(policies.CENT)),
        },
    )


# --- applications, grants, disbursements ----------------------------------------------------------


def policy_application_submit(
    *,
    actor: User,
    enterprise: Enterprise,
    policy: Policy,
    requested_amount: Any = None,
    requested_term_months: int | None = None,
    statement: str = "",
) -> PolicyApplication:
    """An enterprise applies for a loan guarantee or an interest subsidy. Eligibility is decided at
    once (purpose ``policy_application``, subject ``policy_application:<id>``): not eligible → the
    application is refused (status ``ineligible``) with the decision's reasons and nothing is
    granted; eligible → it waits for the policy office (``pending_review``).

    One open application per enterprise and policy (partial unique constraint; the friendly
    pre-check and the constraint give the same error).

    Errors (nothing written): ``not_member``, ``policy_kind_not_applicable``,
    ``policy_not_published``, ``amount_invalid``, ``term_invalid``, ``statement_too_long``,
    ``application_open``.
    """
    _require_member(actor, enterprise)
    if policy.kind not in APPLICATION_KINDS:
        raise PolicyError("policy_kind_not_applicable", _("This policy is not applied for by an application."))
    amount = None if requested_amount in (None, "") else _money(requested_amount, code="amount_invalid")
    term = None if requested_term_months is None else _months(requested_term_months, code="term_invalid")
    statement = _text(statement, code="statement_too_long", message="", max_length=4000, required=False)
    version = _published(policy)
    with transaction.atomic():
        if policy_selectors.application_open(enterprise=enterprise, policy=policy) is not None:
            raise PolicyError("application_open", _("There is already an open application for this policy."))
        try:
            with transaction.atomic():
                application = PolicyApplication.objects.create(
                    enterprise=enterprise,
                    policy=policy,
                    policy_version=version,
                    status=ApplicationStatus.SUBMITTED,
                    requested_amount=amount,
                    requested_term_months=term,
                    statement=statement,
                    submitted_by=actor,
                )
        except IntegrityError:
            # The concurrent twin committed first (the unique index made us wait for it).
            raise PolicyError("application_open", _("There is already an open application for this policy.")) from None
        now = timezone.now()
        decision = _decision_record(
            actor=actor,
            enterprise=enterprise,
            purpose=DecisionPurpose.POLICY_APPLICATION,
            rule=policy_selectors.policy_rule_snapshot(version),
            policy_version=version,
            as_of=now,
            source_type=SUBJECT_POLICY_APPLICATION,
            source_id=str(application.pk),
        )
        status = ApplicationStatus.PENDING_REVIEW if decision.eligible else ApplicationStatus.INELIGIBLE
        decided_at = None if decision.eligible else now
        review_due_on, provisional = (
            working_days.due_after(timezone.localdate(), settings.POLICY_REVIEW_WORKING_DAYS)
            if decision.eligible
            else (None, False)
        )
        updated = PolicyApplication.objects.filter(pk=application.pk, status=ApplicationStatus.SUBMITTED).update(
            status=status,
            eligibility=decision,
            decided_at=decided_at,
            review_due_on=review_due_on,
            review_due_provisional=provisional,
        )
        if updated != 1:
            raise IntegrityError("policy application changed while being submitted")
        application.status, application.eligibility, application.decided_at = status, decision, decided_at
        application.review_due_on, application.review_due_provisional = review_due_on, provisional
        audit_event_record(
            actor=actor,
            action="credit.policy_application_submitted",
            obj=application,
            data={
                "enterprise": enterprise.uscc,
                "policy": policy.code,
                "version": version.number,
                "decision": decision.pk,
                "eligible": decision.eligible,
            },
        )
        if not decision.eligible:
            audit_event_record(
                actor=actor,
                action="credit.policy_application_ineligible",
                obj=application,
                data={
                    "from": ApplicationStatus.SUBMITTED,
                    "to": status,
                    "reasons": [r["code"] for r in decision.reasons],
                },
            )
    return application


def _lock_pending(application: PolicyApplication) -> PolicyApplication:
    locked = (
        PolicyApplication.objects.select_for_update(of=("self",))
        .select_related("policy", "policy_version", "enterprise")
        .get(pk=application.pk)
    )
    if locked.status != ApplicationStatus.PENDING_REVIEW:
        raise PolicyError("application_not_pending", _("This application is not awaiting a decision."))
    return locked


def policy_application_approve(
    *, actor: User, application: PolicyApplication, amount: Any, term_months: int, note: str = ""
) -> PolicyGrant:
    """The policy office approves with an amount and a term: the grant is recorded in the same
    transaction. The policy must still be in force on the day of the approval (Asia/Shanghai). The
    amount may not exceed what the enterprise requested (when it named an amount) nor the version's
    ``guarantee_cap`` (loan guarantee) or ``max_amount`` (interest subsidy); the term may not
    exceed the term requested (when named) nor the version's ``max_term_months``.

    Errors (nothing written): ``not_policy_office``, ``amount_invalid``, ``term_invalid``,
    ``note_too_long``, ``application_not_pending``, ``policy_not_in_force``,
    ``amount_over_requested``, ``term_over_requested``, ``amount_over_cap``, ``term_over_max``.
    """
    _require_policy_office(actor)
    value = _money(amount, code="amount_invalid")
    term = _months(term_months, code="term_invalid")
    note = _text(note, code="note_too_long", message="", max_length=300, required=False)
    with transaction.atomic():
        locked = _lock_pending(application)
        now = timezone.now()
        # The period cannot change after publication (policy_update), but time passes: an
        # application submitted in force may wait in the queue past the policy's end.
        not_in_force = policies.validity_issue(policy_selectors.policy_rule_snapshot(locked.policy_version), now)
        if not_in_force is not None:
            raise PolicyError("policy_not_in_force", policy_selectors.issue_texts([not_in_force])[0])
        if locked.requested_amount is not None and value > locked.requested_amount:
            raise PolicyError(
                "amount_over_requested",
                _("The amount exceeds the %(requested)s yuan the enterprise requested.")
                % {"requested": locked.requested_amount},
            )
        if locked.requested_term_months is not None and term > locked.requested_term_months:
            raise PolicyError(
                "term_over_requested",
                _("The term exceeds the %(months)s months the enterprise requested.")
                % {"months": locked.requested_term_months},
            )
        benefits = locked.policy_version.benefits
        cap_key = "guarantee_cap" if locked.policy.kind == PolicyKind.LOAN_GUARANTEE else "max_amount"
        cap = policies.decimal_or_none(benefits.get(cap_key))
        if cap is not None and value > cap:
            raise PolicyError(
                "amount_over_cap", _("The amount exceeds the policy's cap of %(cap)s yuan.") % {"cap": cap}
            )
        max_term = benefits.get("max_term_months")
        if isinstance(max_term, int) and term > max_term:
            raise PolicyError(
                "term_over_max", _("The term exceeds the policy's maximum of %(months)s months.") % {"months": max_term}
            )
        locked.status = ApplicationStatus.APPROVED
        locked.decided_at = now
        locked.decided_by = actor
        locked.decision_reason = note
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        grant = PolicyGrant.objects.create(
            application=locked,
            enterprise=locked.enterprise,
            policy_version=locked.policy_version,
            amount=value,
            term_months=term,
            granted_at=now,
            granted_by=actor,
            note=note,
        )
        audit_event_record(
            actor=actor,
            action="credit.policy_application_approved",
            obj=locked,
            data={
                "from": ApplicationStatus.PENDING_REVIEW,
                "to": ApplicationStatus.APPROVED,
                "grant": grant.pk,
                "amount": str(value),
                "term_months": term,
            },
        )
        notices.policy_decided_tell(locked, amount=value, months=term)
    return grant


def policy_application_refuse(*, actor: User, application: PolicyApplication, reason: str) -> PolicyApplication:
    """The policy office refuses with reasons. Errors: ``not_policy_office``, ``reason_required``,
    ``application_not_pending``."""
    _require_policy_office(actor)
    reason = _text(reason, code="reason_required", message=_("Give the reasons for the refusal."), max_length=4000)
    with transaction.atomic():
        locked = _lock_pending(application)
        locked.status = ApplicationStatus.REFUSED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        audit_event_record(
            actor=actor,
            action="credit.policy_application_refused",
            obj=locked,
            data={"from": ApplicationStatus.PENDING_REVIEW, "to": ApplicationStatus.REFUSED, "reason": reason},
        )
        notices.policy_decided_tell(locked)
    return locked


def policy_application_withdraw(*, actor: User, application: PolicyApplication) -> PolicyApplication:
    """The enterprise withdraws an application awaiting the policy office.
    Errors: ``not_member``, ``application_not_pending``."""
    _require_member(actor, application.enterprise)
    with transaction.atomic():
        locked = _lock_pending(application)
        locked.status = ApplicationStatus.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        audit_event_record(
            actor=actor,
            action="credit.policy_application_withdrawn",
            obj=locked,
            data={"from": ApplicationStatus.PENDING_REVIEW, "to": ApplicationStatus.WITHDRAWN},
        )
    return locked


def disbursement_record(
    *, actor: User, grant: PolicyGrant, amount: Any, paid_on: datetime.date, reference: str
) -> Disbursement:
    """Record one instalment paid on an interest-subsidy grant. Under the grant's row lock the total
    paid never exceeds the grant (and the database refuses it too); instalments are numbered 1, 2 …
    and limited by the version's ``instalments`` when set.

    Errors (nothing written): ``not_policy_office``, ``amount_invalid``, ``reference_required``,
    ``paid_in_future``, ``not_disbursable``, ``paid_before_grant``, ``disbursement_exceeds_grant``,
    ``instalments_exceeded``.
    """
    _require_policy_office(actor)
    value = _money(amount, code="amount_invalid")
    reference = _text(
        reference, code="reference_required", message=_("The payment reference is required."), max_length=100
    )
    if not isinstance(paid_on, datetime.date) or paid_on > timezone.localdate():
        raise PolicyError("paid_in_future", _("A payment cannot be dated in the future."))
    with transaction.atomic():
        locked = (
            PolicyGrant.objects.select_for_update(of=("self",))
            .select_related("policy_version__policy")
            .get(pk=grant.pk)
        )
        if locked.policy_version.policy.kind != PolicyKind.INTEREST_SUBSIDY:
            raise PolicyError("not_disbursable", _("Only interest subsidies are paid in instalments."))
        if paid_on < timezone.localtime(locked.granted_at).date():
            raise PolicyError("paid_before_grant", _("A payment cannot precede the grant."))
        if locked.disbursed_total + value > locked.amount:
            raise PolicyError(
                "disbursement_exceeds_grant",
                _("Only %(remaining)s yuan of the grant remain to be paid.") % {"remaining": locked.remaining},
            )
        number = locked.disbursements.count() + 1
        instalments = locked.policy_version.benefits.get("instalments")
        if isinstance(instalments, int) and number > instalments:
            raise PolicyError(
                "instalments_exceeded", _("The grant is paid in at most %(n)s instalments.") % {"n": instalments}
            )
        PolicyGrant.objects.filter(pk=locked.pk).update(disbursed_total=F("disbursed_total") + value)
        disbursement = Disbursement.objects.create(
            grant=locked, number=number, amount=value, paid_on=paid_on, reference=reference, recorded_by=actor
        )
        audit_event_record(
            actor=actor,
            action="credit.disbursement_recorded",
            obj=disbursement,
            data={
                "grant": locked.pk,
                "number": number,
                "amount": str(value),
                "disbursed_total": str(locked.disbursed_total + value),
            },
        )
        notices.disbursement_tell(disbursement, remaining=locked.amount - locked.disbursed_total - value)
    return disbursement


def policy_review_dues_recompute() -> int:
    """Recompute the review deadline of every application awaiting review whose deadline was
    provisional (a calendar year has been entered since). Returns how many changed."""
    changed = 0
    with transaction.atomic():
        for application in PolicyApplication.objects.select_for_update().filter(
            status=ApplicationStatus.PENDING_REVIEW, review_due_provisional=True
        ):
            submitted_on = timezone.localtime(application.submitted_at).date()
            due_on, provisional = working_days.due_after(submitted_on, settings.POLICY_REVIEW_WORKING_DAYS)
            if (due_on, provisional) != (application.review_due_on, application.review_due_provisional):
                PolicyApplication.objects.filter(pk=application.pk).update(
                    review_due_on=due_on, review_due_provisional=provisional
                )
                audit_event_record(
                    actor=None,
                    action="credit.policy_review_due_recomputed",
                    obj=application,
                    data={
                        "from": application.review_due_on.isoformat() if application.review_due_on else None,
                        "to": due_on.isoformat(),
                        "provisional": provisional,
                    },
                )
                changed += 1
    return changed
