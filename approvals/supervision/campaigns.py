"""Random-inspection campaigns (双随机一公开): create, set parameters, freeze the rosters, enter the
seed and draw, export and verify.

The lifecycle is draft → frozen → drawn. Freezing builds the target roster (holders of valid
certificates of the campaign's items, one per USCC, with their credit grade at that instant) and the
inspector roster (the inspectors of the organising department), adds the automatic recusals, and
stores the SHA-256 of each roster's canonical form (``approvals.supervision.draw``) *before* anyone knows the
seed. The freeze's audit event also records the ratios and the hash of the recusals, so that
``campaign_verify`` notices a changed ratio or recusal even where it would not change the sample.
The seed is public (a lottery result, say), typed by a person after the freeze; the draw then makes
the sample into inspection tasks in the same transaction.

Lock order: the ``Campaign`` row only (``select_for_update``), then the roster and task rows it
owns; no application or process lock is ever taken here.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import permissions
from approvals.models import (
    ApprovalItem,
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Department,
    InspectionTask,
)
from approvals.supervision import draw
from approvals.supervision.selectors import (
    CampaignError,
    inspectors_of,
    recusals_canonical,
    recusals_for,
    stored_inputs,
    target_enterprise_ids,
)
from core.models import User
from core.services import audit_event_record
from credit.ledger import services as ledger_services
from credit.models import Enterprise

Status = Campaign.Status

# Same alphabet as a SlugField, and never ':' or white space, which the draw's key format excludes.
_CODE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", re.ASCII)
SEED_MAX_LENGTH = Campaign._meta.get_field("seed").max_length or 200
SEED_SOURCE_MAX_LENGTH = Campaign._meta.get_field("seed_source").max_length or 300


class _DrawRefusedError(Exception):
    """Carries a refused draw out of its transaction, which is rolled back, to be recorded."""

    def __init__(self, error: CampaignError) -> None:
        self.error = error
        super().__init__(str(error))


# --- who may organise ------------------------------------------------------------------------------


def _require_organiser(actor: User, department: Department) -> None:
    if not (
        actor is not None
        and actor.is_authenticated
        and permissions.user_may_organise(user=actor, department=department)
    ):
        raise CampaignError(
            "permission_denied",
            _("Only an administrator or a decision maker of %(department)s may organise this campaign.")
            % {"department": department.name},
        )


# --- parameters ------------------------------------------------------------------------------------


def ratios_clean(ratios: Mapping[str, Any] | None) -> dict[str, str]:
    """The ratios as stored: one decimal string per grade A–D (``draw.DEFAULT_RATIOS`` when
    ``None``), each between 0 and 1, in canonical notation.
    Errors: ``grade_unknown``, ``ratio_missing``, ``ratio_invalid`` (param ``grade``)."""
    if ratios is None:
        return dict(draw.DEFAULT_RATIOS)
    if not isinstance(ratios, Mapping):
        # Valid JSON of another shape (a number, a list) typed into a form: grade → ratio only.
        raise CampaignError(
            "grade_unknown",
            _("Ratios are given for grades A, B, C and D only, not %(grades)s.") % {"grades": ratios},
        )
    unknown = sorted(str(grade) for grade in ratios if grade not in draw.GRADES)
    if unknown:
        raise CampaignError(
            "grade_unknown",
            _("Ratios are given for grades A, B, C and D only, not %(grades)s.") % {"grades": ", ".join(unknown)},
        )
    cleaned: dict[str, str] = {}
    for grade in draw.GRADES:
        if grade not in ratios or ratios[grade] in (None, ""):
            raise CampaignError(
                "ratio_missing", _("Give the sampling ratio of grade %(grade)s.") % {"grade": grade}, grade=grade
            )
        value = ratios[grade]
        try:
            cleaned[grade] = draw.ratio_text(value if isinstance(value, Decimal) else str(value).strip())
        except draw.DrawError:
            raise CampaignError(
                "ratio_invalid",
                _("The ratio of grade %(grade)s is a decimal number between 0 and 1, such as 0.05.") % {"grade": grade},
                grade=grade,
            ) from None
    return cleaned


def _lock(campaign: Campaign) -> Campaign:
    # ``of=("self",)``: lock the campaign row only, not the department joined for its name.
    return Campaign.objects.select_for_update(of=("self",)).select_related("department").get(pk=campaign.pk)


def _require_draft(locked: Campaign) -> None:
    if locked.status != Status.DRAFT:
        raise CampaignError(
            "campaign_not_draft", _("The rosters and parameters of this campaign are frozen; they cannot change.")
        )


def campaign_create(
    *,
    actor: User,
    code: str,
    name: str,
    department: Department,
    items: Iterable[ApprovalItem],
    ratios: Mapping[str, Any] | None,
    inspection_due_on: datetime.date,
) -> Campaign:
    """A draft campaign of ``department`` over the certificate holders of ``items``.

    ``code`` is public and part of every draw key (letters, digits, ``-`` and ``_``, at most 40);
    ``ratios`` default to ``draw.DEFAULT_RATIOS``; inspections are due on ``inspection_due_on``
    (today or later).

    Errors: ``permission_denied``, ``department_inactive``, ``code_invalid``, ``code_taken``,
    ``name_required``, ``items_required``, ``due_date_invalid``, and those of ``ratios_clean``."""
    _require_organiser(actor, department)
    if not department.is_active:
        raise CampaignError("department_inactive", _("This department is no longer active."))
    code = (code or "").strip()
    if not _CODE_SHAPE.fullmatch(code):
        raise CampaignError(
            "code_invalid",
            _(
                "The campaign code has up to 40 letters, digits, hyphens or underscores, starting with a letter or digit."
            ),
        )
    name = (name or "").strip()
    if not name:
        raise CampaignError("name_required", _("Give the campaign a name."))
    chosen = list(items)
    if not chosen:
        raise CampaignError("items_required", _("Choose the approval items whose certificate holders are inspected."))
    if inspection_due_on is None or inspection_due_on < timezone.localdate():
        raise CampaignError("due_date_invalid", _("The inspections are due today or later."))
    cleaned = ratios_clean(ratios)
    with transaction.atomic():
        if Campaign.objects.filter(code__iexact=code).exists():
            raise CampaignError("code_taken", _("Another campaign already has this code."))
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(
                    code=code,
                    name=name[:200],
                    department=department,
                    ratios=cleaned,
                    inspection_due_on=inspection_due_on,
                    created_by=actor,
                )
        except IntegrityError:
            raise CampaignError("code_taken", _("Another campaign already has this code.")) from None
        campaign.items.set(chosen)
        audit_event_record(
            actor=actor,
            action="campaign.created",
            obj=campaign,
            data={
                "code": code,
                "department": department.code,
                "items": sorted(item.code for item in chosen),
                "ratios": cleaned,
                "inspection_due_on": inspection_due_on.isoformat(),
            },
        )
    return campaign


def campaign_ratios_set(*, actor: User, campaign: Campaign, ratios: Mapping[str, Any]) -> Campaign:
    """Change the sampling ratios of a draft campaign.
    Errors: ``permission_denied``, ``campaign_not_draft``, and those of ``ratios_clean``."""
    _require_organiser(actor, campaign.department)
    cleaned = ratios_clean(ratios)
    with transaction.atomic():
        locked = _lock(campaign)
        _require_draft(locked)
        Campaign.objects.filter(pk=locked.pk, status=Status.DRAFT).update(ratios=cleaned)
        audit_event_record(
            actor=actor, action="campaign.ratios_set", obj=locked, data={"from": locked.ratios, "to": cleaned}
        )
    campaign.refresh_from_db()
    return campaign


def campaign_recusal_add(*, actor: User, campaign: Campaign, uscc: str, username: str, reason: str) -> CampaignRecusal:
    """Record by hand, while the campaign is a draft, that ``username`` must not inspect the
    enterprise ``uscc`` in this campaign (conflicts known only to the organiser; recorded conflicts
    and the people who handled the enterprise's applications are added by the freeze itself).

    Errors: ``permission_denied``, ``campaign_not_draft``, ``recusal_reason_required``,
    ``recusal_enterprise_unknown``, ``recusal_inspector_unknown``, ``recusal_exists``."""
    _require_organiser(actor, campaign.department)
    uscc = (uscc or "").strip().upper()
    username = (username or "").strip()
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError("recusal_reason_required", _("Say why this inspector must not inspect the enterprise."))
    if not Enterprise.objects.filter(uscc=uscc).exists():
        raise CampaignError("recusal_enterprise_unknown", _("No enterprise has this unified social credit code."))
    if not User.objects.filter(username=username, kind=User.Kind.STAFF).exists():
        raise CampaignError("recusal_inspector_unknown", _("No staff member has this user name."))
    with transaction.atomic():
        locked = _lock(campaign)
        _require_draft(locked)
        if CampaignRecusal.objects.filter(campaign=locked, uscc=uscc, username=username).exists():
            raise CampaignError("recusal_exists", _("This recusal is already recorded."))
        recusal = CampaignRecusal.objects.create(campaign=locked, uscc=uscc, username=username, reason=reason[:300])
        audit_event_record(
            actor=actor,
            action="campaign.recusal_added",
            obj=locked,
            data={"uscc": uscc, "username": username, "reason": recusal.reason},
        )
    return recusal


def campaign_recusal_remove(*, actor: User, campaign: Campaign, recusal_id: int) -> None:
    """Withdraw a recusal entered by hand while the campaign is a draft.
    Errors: ``permission_denied``, ``campaign_not_draft``, ``recusal_not_found``."""
    _require_organiser(actor, campaign.department)
    with transaction.atomic():
        locked = _lock(campaign)
        _require_draft(locked)
        recusal = CampaignRecusal.objects.filter(campaign=locked, pk=recusal_id).first()
        if recusal is None:
            raise CampaignError("recusal_not_found", _("No such recusal in this campaign."))
        recusal.delete()
        audit_event_record(
            actor=actor,
            action="campaign.recusal_removed",
            obj=locked,
            data={"uscc": recusal.uscc, "username": recusal.username, "reason": recusal.reason},
        )


# --- rosters ---------------------------------------------------------------------------------------


def campaign_freeze(*, actor: User, campaign: Campaign) -> Campaign:
    """Freeze the rosters, ratios and recusals of a draft campaign and store the roster hashes.

    Targets: every enterprise holding a valid certificate (status valid, ``valid_until`` empty or
    today or later) of one of the campaign's items, once per USCC, with its credit grade as of the
    freeze instant (``credit.ledger.services.credit_grade_current``). Inspectors: the inspectors of
    the organising department (``inspectors_of``). Recusals: for every target, the people who
    accepted, reviewed or decided its applications and the recorded conflicts (``recusals_for``),
    plus those entered by hand; a recusal that names no target or no rostered inspector cannot
    affect the draw and is dropped (listed in the audit event). Then the status flips to frozen and
    nothing of this may change again (the roster rows refuse it too).

    Errors: ``permission_denied``, ``campaign_not_draft``, ``targets_empty``,
    ``too_few_inspectors``, and those of ``ratios_clean`` (a ratio stored by other means)."""
    _require_organiser(actor, campaign.department)
    with transaction.atomic():
        locked = _lock(campaign)
        _require_draft(locked)
        ratios = ratios_clean(locked.ratios)
        now = timezone.now()
        enterprise_ids = target_enterprise_ids(locked, on=timezone.localdate(now))
        if not enterprise_ids:
            raise CampaignError(
                "targets_empty", _("No enterprise holds a valid certificate of the chosen items: nothing to inspect.")
            )
        inspectors = inspectors_of(department=locked.department)
        if len(inspectors) < draw.INSPECTORS_PER_TARGET:
            raise CampaignError(
                "too_few_inspectors",
                _("%(department)s has fewer than two inspectors; inspections are made in pairs.")
                % {"department": locked.department.name},
            )
        enterprises = list(Enterprise.objects.filter(pk__in=enterprise_ids).order_by("uscc"))
        targets = [
            CampaignTarget(
                campaign=locked,
                enterprise=enterprise,
                uscc=enterprise.uscc,
                name=enterprise.name[:200],
                grade=ledger_services.credit_grade_current(enterprise=enterprise, as_of=now).grade,
            )
            for enterprise in enterprises
        ]
        usernames = [user.username for user in inspectors]
        # The canonical forms check the shapes (USCC, grade, username) before anything is written.
        try:
            targets_text = draw.targets_canonical(draw.Target(t.uscc, t.grade) for t in targets)
            inspectors_text = draw.inspectors_canonical(usernames)
        except draw.DrawError as error:
            raise _from_draw_error(error, locked) from None
        roster_usccs = {t.uscc for t in targets}
        roster_names = set(usernames)
        uscc_of = {enterprise.pk: enterprise.uscc for enterprise in enterprises}
        # Existing rows are the hand-entered ones: they win over an automatic reason.
        manual = {(r.uscc, r.username): r for r in CampaignRecusal.objects.filter(campaign=locked)}
        dropped = sorted(
            f"{uscc},{username}"
            for uscc, username in manual
            if uscc not in roster_usccs or username not in roster_names
        )
        CampaignRecusal.objects.filter(
            pk__in=[r.pk for key, r in manual.items() if f"{key[0]},{key[1]}" in dropped]
        ).delete()
        automatic: list[CampaignRecusal] = []
        for enterprise_id, people in recusals_for(enterprise_ids=enterprise_ids).items():
            uscc = uscc_of[enterprise_id]
            for username, reason in sorted(people.items()):
                if username in roster_names and (uscc, username) not in manual:
                    automatic.append(
                        CampaignRecusal(campaign=locked, uscc=uscc, username=username, reason=reason[:300])
                    )
        # Drafts hold no roster rows but the hand-entered recusals: clear anything else first.
        CampaignTarget.objects.filter(campaign=locked).delete()
        CampaignInspector.objects.filter(campaign=locked).delete()
        CampaignTarget.objects.bulk_create(targets, batch_size=1000)
        CampaignInspector.objects.bulk_create(
            [CampaignInspector(campaign=locked, user=user, username=user.username) for user in inspectors]
        )
        CampaignRecusal.objects.bulk_create(automatic, batch_size=1000)
        pairs = list(CampaignRecusal.objects.filter(campaign=locked).values_list("uscc", "username"))
        targets_sha256 = draw.roster_hash(targets_text)
        inspectors_sha256 = draw.roster_hash(inspectors_text)
        changed = Campaign.objects.filter(pk=locked.pk, status=Status.DRAFT).update(
            status=Status.FROZEN,
            ratios=ratios,
            frozen_by=actor,
            frozen_at=now,
            targets_sha256=targets_sha256,
            inspectors_sha256=inspectors_sha256,
            recusals_sha256=draw.roster_hash(recusals_canonical(pairs)),
        )
        if changed != 1:  # pragma: no cover - the row is locked above
            raise CampaignError("campaign_not_draft", _("This campaign was frozen meanwhile."))
        grades = dict.fromkeys(draw.GRADES, 0)
        for target in targets:
            grades[target.grade] += 1
        audit_event_record(
            actor=actor,
            action="campaign.frozen",
            obj=locked,
            data={
                "targets_sha256": targets_sha256,
                "inspectors_sha256": inspectors_sha256,
                "recusals_sha256": draw.roster_hash(recusals_canonical(pairs)),
                "ratios": ratios,
                "targets": len(targets),
                "targets_per_grade": grades,
                "inspectors": sorted(usernames),
                "recusals": len(pairs),
                "recusals_dropped": dropped,
            },
        )
    campaign.refresh_from_db()
    return campaign


# --- the draw --------------------------------------------------------------------------------------


def _from_draw_error(error: draw.DrawError, campaign: Campaign) -> CampaignError:
    """A translated message for a refused draw; the code and parameters stay the draw's."""
    params = dict(error.params)
    if error.code == "too_few_inspectors":
        uscc = str(params.get("uscc", ""))
        name = CampaignTarget.objects.filter(campaign=campaign, uscc=uscc).values_list("name", flat=True).first()
        message = _(
            "%(name)s (%(uscc)s) was drawn but has only %(eligible)s eligible inspector(s) after recusals; "
            "two are needed. Nothing was drawn."
        ) % {"name": name or uscc, "uscc": uscc, "eligible": params.get("eligible", 0)}
    elif error.code == "seed_empty":
        message = _("Enter the public seed of the draw.")
    elif error.code in ("ratio_invalid", "ratio_missing"):
        message = _("The sampling ratio of grade %(grade)s is missing or invalid.") % {
            "grade": params.get("grade", "?")
        }
    else:
        message = _("The draw was refused: %(detail)s") % {"detail": error.message}
    return CampaignError(error.code, message, **params)


def campaign_draw(*, actor: User, campaign: Campaign, seed: str, seed_source: str) -> Campaign:
    """Enter the public seed of a frozen campaign and draw: the sample becomes inspection tasks
    (kind random, in draw order, with their inspector pair, due on the campaign's date, of the
    campaign's department). All or nothing: a refused draw writes nothing.

    The seed is used as entered, stripped of surrounding white space (``draw.normalise_seed``).

    Errors: ``permission_denied``, ``seed_empty``, ``seed_too_long``, ``seed_source_required``,
    ``campaign_not_frozen`` (still a draft: the seed comes after the freeze),
    ``campaign_already_drawn``, ``campaign_draw_refused``, ``too_few_inspectors`` (params ``uscc``,
    ``eligible``: a drawn target with fewer than two eligible inspectors; the message names it), and
    the other ``DrawError`` codes of ``approvals.supervision.draw.draw``. A refused draw writes nothing of the
    draw, but ends the campaign (status refused, with the seed tried) and writes one audit event,
    ``campaign.draw_refused``: no second seed can be tried on the same rosters."""
    _require_organiser(actor, campaign.department)
    try:
        clean_seed = draw.normalise_seed(seed or "")
    except draw.DrawError as error:
        raise _from_draw_error(error, campaign) from None
    if len(clean_seed) > SEED_MAX_LENGTH:
        raise CampaignError("seed_too_long", _("The seed has at most %(max)s characters.") % {"max": SEED_MAX_LENGTH})
    source = (seed_source or "").strip()
    if not source:
        raise CampaignError("seed_source_required", _("Say where the seed comes from, so that anyone can check it."))
    try:
        with transaction.atomic():
            locked = _lock(campaign)
            if locked.status == Status.DRAFT:
                raise CampaignError(
                    "campaign_not_frozen", _("Freeze the rosters first: the seed is entered only after the freeze.")
                )
            if locked.status == Status.REFUSED:
                raise CampaignError(
                    "campaign_draw_refused",
                    _("The draw of this campaign was refused; start a new campaign with corrected rosters."),
                )
            if locked.status != Status.FROZEN:
                raise CampaignError("campaign_already_drawn", _("This campaign has already been drawn."))
            inputs = stored_inputs(locked)
            try:
                result = draw.draw(
                    seed=clean_seed,
                    campaign_code=locked.code,
                    targets=inputs.targets,
                    inspectors=inputs.inspectors,
                    recusals=inputs.recusals,
                    ratios=inputs.ratios,
                )
            except draw.DrawError as error:
                raise _DrawRefusedError(_from_draw_error(error, locked)) from None
            now = timezone.now()
            changed = Campaign.objects.filter(pk=locked.pk, status=Status.FROZEN).update(
                status=Status.DRAWN,
                seed=clean_seed,
                seed_source=source[:SEED_SOURCE_MAX_LENGTH],
                seed_entered_by=actor,
                drawn_at=now,
            )
            if changed != 1:  # pragma: no cover - the row is locked above
                raise CampaignError("campaign_already_drawn", _("This campaign has already been drawn."))
            enterprise_of = dict(CampaignTarget.objects.filter(campaign=locked).values_list("uscc", "enterprise_id"))
            user_of = dict(CampaignInspector.objects.filter(campaign=locked).values_list("username", "user_id"))
            InspectionTask.objects.bulk_create(
                [
                    InspectionTask(
                        kind=InspectionTask.Kind.RANDOM,
                        enterprise_id=enterprise_of[entry.uscc],
                        campaign=locked,
                        draw_position=position,
                        department_id=locked.department_id,
                        inspector_1_id=user_of[entry.inspectors[0]],
                        inspector_2_id=user_of[entry.inspectors[1]],
                        due_on=locked.inspection_due_on,
                    )
                    for position, entry in enumerate(result.sample, start=1)
                ],
                batch_size=1000,
            )
            audit_event_record(
                actor=actor,
                action="campaign.seed_entered",
                obj=locked,
                data={"seed": clean_seed, "seed_source": source[:SEED_SOURCE_MAX_LENGTH]},
            )
            audit_event_record(
                actor=actor,
                action="campaign.drawn",
                obj=locked,
                data={
                    "seed": clean_seed,
                    "targets_sha256": locked.targets_sha256,
                    "inspectors_sha256": locked.inspectors_sha256,
                    "sample_sizes": result.sample_sizes,
                    "sample": [entry.uscc for entry in result.sample],
                },
            )
    except _DrawRefusedError as refused:
        # Nothing of the draw was written, but the attempt is: a seed tried and refused stays on
        # record, so that nobody can quietly try seeds until the sample suits them.
        refusal = refused.error
        # The campaign ends here (no second seed); its rosters stay as frozen, for the record.
        Campaign.objects.filter(pk=campaign.pk, status=Status.FROZEN).update(
            status=Status.REFUSED,
            seed=clean_seed,
            seed_source=source[:SEED_SOURCE_MAX_LENGTH],
            seed_entered_by=actor,
        )
        audit_event_record(
            actor=actor,
            action="campaign.draw_refused",
            obj=campaign,
            data={
                "seed": clean_seed,
                "seed_source": source[:SEED_SOURCE_MAX_LENGTH],
                "code": refusal.code,
                "params": {key: str(value) for key, value in refusal.params.items()},
            },
        )
        raise refusal from None
    campaign.refresh_from_db()
    return campaign


# --- export and verification -----------------------------------------------------------------------


# --- reads for the pages ---------------------------------------------------------------------------
