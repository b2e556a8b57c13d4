"""Random-inspection campaigns (双随机一公开): create, set parameters, freeze the rosters, enter the
seed and draw, export and verify.

The lifecycle is draft → frozen → drawn. Freezing builds the target roster (holders of valid
certificates of the campaign's items, one per USCC, with their credit grade at that instant) and the
inspector roster (the inspectors of the organising department), adds the automatic recusals, and
stores the SHA-256 of each roster's canonical form (``approvals.draw``) *before* anyone knows the
seed. The freeze's audit event also records the ratios and the hash of the recusals, so that
``campaign_verify`` notices a changed ratio or recusal even where it would not change the sample.
The seed is public (a lottery result, say), typed by a person after the freeze; the draw then makes
the sample into inspection tasks in the same transaction.

Lock order: the ``Campaign`` row only (``select_for_update``), then the roster and task rows it
owns; no application or process lock is ever taken here.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import draw, permissions
from approvals.models import (
    ApprovalItem,
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Certificate,
    Department,
    InspectionTask,
)
from approvals.services.supervision import inspectors_of, recusals_for
from core.exceptions import DomainError
from core.models import AuditEvent, User
from core.services import audit_event_record
from credit import ledger_services
from credit.models import Enterprise

Status = Campaign.Status

# Same alphabet as a SlugField, and never ':' or white space, which the draw's key format excludes.
_CODE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", re.ASCII)
SEED_MAX_LENGTH = Campaign._meta.get_field("seed").max_length or 200
SEED_SOURCE_MAX_LENGTH = Campaign._meta.get_field("seed_source").max_length or 300


class CampaignError(DomainError):
    pass


class _DrawRefusedError(Exception):
    """Carries a refused draw out of its transaction, which is rolled back, to be recorded."""

    def __init__(self, error: CampaignError) -> None:
        self.error = error
        super().__init__(str(error))


# --- who may organise ------------------------------------------------------------------------------


def user_may_organise(*, user: User, department: Department) -> bool:
    """Administrators, and the decision makers of the organising department."""
    return permissions.user_is_administrator(user=user) or permissions.user_may_decide(user=user, department=department)


def _require_organiser(actor: User, department: Department) -> None:
    if not (actor is not None and actor.is_authenticated and user_may_organise(user=actor, department=department)):
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


def _target_enterprise_ids(campaign: Campaign, *, on: datetime.date) -> list[int]:
    """Holders of a valid certificate of one of the campaign's items on ``on``, each once."""
    return sorted(
        set(
            Certificate.objects.filter(item_version__item__in=campaign.items.all(), status=Certificate.Status.VALID)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
            .values_list("enterprise_id", flat=True)
        )
    )


@dataclass
class RosterPreview:
    """What a freeze would find now (grades aside, which only the freeze computes)."""

    targets: int
    inspectors: list[str]
    short_of_inspectors: list[tuple[str, str, int]] = field(default_factory=list)  # (uscc, name, eligible)


def campaign_roster_preview(*, campaign: Campaign, limit: int = 20) -> RosterPreview:
    """The rosters as they would be frozen now, and the targets that would leave fewer than two
    eligible inspectors (a draw that selects one of them is refused). A fixed number of queries."""
    enterprise_ids = _target_enterprise_ids(campaign, on=timezone.localdate())
    usernames = [user.username for user in inspectors_of(department=campaign.department)]
    roster = set(usernames)
    recused = recusals_for(enterprise_ids=enterprise_ids)
    manual: dict[str, set[str]] = {}
    for uscc, username in CampaignRecusal.objects.filter(campaign=campaign).values_list("uscc", "username"):
        manual.setdefault(uscc, set()).add(username)
    short: list[tuple[str, str, int]] = []
    enterprises = {
        pk: (uscc, name)
        for pk, uscc, name in Enterprise.objects.filter(pk__in=enterprise_ids).values_list("pk", "uscc", "name")
    }
    for enterprise_id in enterprise_ids:
        uscc, name = enterprises[enterprise_id]
        excluded = (set(recused.get(enterprise_id, {})) | manual.get(uscc, set())) & roster
        eligible = len(roster) - len(excluded)
        if eligible < draw.INSPECTORS_PER_TARGET:
            short.append((uscc, name, eligible))
            if len(short) >= limit:
                break
    return RosterPreview(targets=len(enterprise_ids), inspectors=usernames, short_of_inspectors=short)


def recusals_canonical(pairs: Iterable[tuple[str, str]]) -> str:
    """The text the recusals' hash is taken of: one ``uscc,username`` line per pair, sorted, no
    repeats, joined by ``\\n`` (the same conventions as the rosters' canonical forms)."""
    return "\n".join(f"{uscc},{username}" for uscc, username in sorted(set(pairs)))


def campaign_freeze(*, actor: User, campaign: Campaign) -> Campaign:
    """Freeze the rosters, ratios and recusals of a draft campaign and store the roster hashes.

    Targets: every enterprise holding a valid certificate (status valid, ``valid_until`` empty or
    today or later) of one of the campaign's items, once per USCC, with its credit grade as of the
    freeze instant (``credit.ledger_services.credit_grade_current``). Inspectors: the inspectors of
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
        enterprise_ids = _target_enterprise_ids(locked, on=timezone.localdate(now))
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


@dataclass
class StoredInputs:
    targets: list[draw.Target]
    inspectors: list[str]
    recusals: list[tuple[str, str]]
    ratios: dict[str, str]


def stored_inputs(campaign: Campaign) -> StoredInputs:
    """The frozen inputs of the draw as stored (four queries whatever the roster size)."""
    return StoredInputs(
        targets=[
            draw.Target(uscc, grade)
            for uscc, grade in CampaignTarget.objects.filter(campaign=campaign).values_list("uscc", "grade")
        ],
        inspectors=list(CampaignInspector.objects.filter(campaign=campaign).values_list("username", flat=True)),
        recusals=list(CampaignRecusal.objects.filter(campaign=campaign).values_list("uscc", "username")),
        ratios=dict(campaign.ratios or {}),
    )


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
    the other ``DrawError`` codes of ``approvals.draw.draw``. A refused draw writes nothing of the
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
        error = refused.error
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
                "code": error.code,
                "params": {key: str(value) for key, value in error.params.items()},
            },
        )
        raise error from None
    campaign.refresh_from_db()
    return campaign


# --- export and verification -----------------------------------------------------------------------


def _stored_sample(campaign: Campaign, grade_of: Mapping[str, str]) -> list[draw.SampleEntry]:
    """The sample as the stored inspection tasks say, in draw order (USCC and usernames as the
    frozen rosters name them; an inspector off the roster shows as ``#<user id>``)."""
    uscc_of = dict(CampaignTarget.objects.filter(campaign=campaign).values_list("enterprise_id", "uscc"))
    username_of = dict(CampaignInspector.objects.filter(campaign=campaign).values_list("user_id", "username"))
    rows = (
        InspectionTask.objects.filter(campaign=campaign, kind=InspectionTask.Kind.RANDOM)
        .order_by("draw_position", "id")
        .values_list("enterprise_id", "enterprise__uscc", "inspector_1_id", "inspector_2_id")
    )
    sample = []
    for enterprise_id, enterprise_uscc, first, second in rows:
        uscc = uscc_of.get(enterprise_id, enterprise_uscc)
        sample.append(
            draw.SampleEntry(
                uscc,
                grade_of.get(uscc, ""),
                draw.target_key(seed=campaign.seed, campaign_code=campaign.code, uscc=uscc),
                (username_of.get(first, f"#{first}"), username_of.get(second, f"#{second}")),
            )
        )
    return sample


def campaign_export(*, campaign: Campaign) -> dict[str, Any]:
    """The public-audit document of a drawn campaign (``draw.export_document``): inputs, roster
    hashes as stored, and the sample as the stored inspection tasks hold it. Anyone can re-run the
    draw from it (``draw.export_check``). Errors: ``campaign_not_drawn``."""
    if campaign.status != Status.DRAWN:
        raise CampaignError("campaign_not_drawn", _("This campaign has not been drawn yet."))
    inputs = stored_inputs(campaign)
    grade_of = {t.uscc: t.grade for t in inputs.targets}
    return draw.export_document(
        campaign_code=campaign.code,
        seed=campaign.seed,
        ratios=inputs.ratios,
        targets=inputs.targets,
        inspectors=inputs.inspectors,
        recusals=inputs.recusals,
        sample=_stored_sample(campaign, grade_of),
        # The hashes published at the freeze, not recomputed: a roster changed since then shows.
        roster_hashes={"targets": campaign.targets_sha256, "inspectors": campaign.inspectors_sha256},
    )


def export_json(document: Mapping[str, Any]) -> str:
    """The export as text, byte for byte what ``draw_export`` prints and auditors download."""
    return draw.export_dumps(document)


def _freeze_record(campaign: Campaign) -> dict[str, Any] | None:
    event = (
        AuditEvent.objects.filter(
            action="campaign.frozen", object_type=Campaign._meta.label_lower, object_id=str(campaign.pk)
        )
        .order_by("created_at", "id")
        .values_list("data", flat=True)
        .first()
    )
    return event


def campaign_refused_draws(*, campaign: Campaign) -> list[dict[str, Any]]:
    """The refused draw attempts of ``campaign`` (time, seed, seed source), oldest first: public,
    so that a seed tried and refused cannot be quietly replaced by a more convenient one."""
    rows = AuditEvent.objects.filter(
        action="campaign.draw_refused", object_type=Campaign._meta.label_lower, object_id=str(campaign.pk)
    ).order_by("created_at", "id")
    return [
        {"at": at, "seed": data.get("seed", ""), "seed_source": data.get("seed_source", "")}
        for at, data in rows.values_list("created_at", "data")
    ]


def _draw_record(campaign: Campaign) -> dict[str, Any] | None:
    return (
        AuditEvent.objects.filter(
            action="campaign.drawn", object_type=Campaign._meta.label_lower, object_id=str(campaign.pk)
        )
        .order_by("created_at", "id")
        .values_list("data", flat=True)
        .first()
    )


def campaign_verify(*, campaign: Campaign) -> list[str]:
    """Re-check a drawn campaign from what is stored; returns the problems (empty: all matches).

    - the roster hashes recomputed from the stored roster rows equal the stored hashes, and those
      equal the hashes recorded in the freeze's audit event (with the ratios and the recusals'
      hash, which the campaign row does not hold);
    - the seed equals the one recorded when it was entered;
    - the draw re-run from the stored rosters, ratios, recusals and seed gives exactly the stored
      inspection tasks: same enterprises in the same order with the same inspector pairs, of the
      campaign's department;
    - ``draw.export_check`` finds nothing wrong in the export document."""
    problems: list[str] = []
    campaign = Campaign.objects.select_related("department").get(pk=campaign.pk)
    if campaign.status != Status.DRAWN:
        return [
            _("Campaign %(code)s has not been drawn (status %(status)s).")
            % {"code": campaign.code, "status": campaign.status}
        ]
    inputs = stored_inputs(campaign)

    # 1. Roster hashes from the stored rows.
    try:
        targets_hash = draw.roster_hash(draw.targets_canonical(inputs.targets))
    except draw.DrawError as error:
        targets_hash = ""
        problems.append(_("The stored target roster is malformed: %(detail)s") % {"detail": error.message})
    try:
        inspectors_hash = draw.roster_hash(draw.inspectors_canonical(inputs.inspectors))
    except draw.DrawError as error:
        inspectors_hash = ""
        problems.append(_("The stored inspector roster is malformed: %(detail)s") % {"detail": error.message})
    if targets_hash and targets_hash != campaign.targets_sha256:
        problems.append(
            _("Target roster hash mismatch: the stored rows hash to %(actual)s, the campaign records %(stored)s.")
            % {"actual": targets_hash, "stored": campaign.targets_sha256}
        )
    if inspectors_hash and inspectors_hash != campaign.inspectors_sha256:
        problems.append(
            _("Inspector roster hash mismatch: the stored rows hash to %(actual)s, the campaign records %(stored)s.")
            % {"actual": inspectors_hash, "stored": campaign.inspectors_sha256}
        )

    # 2. The freeze and the seed as the audit trail recorded them.
    frozen = _freeze_record(campaign)
    if frozen is None:
        problems.append(_("The audit trail has no record of the freeze."))
    else:
        for key, label in (("targets_sha256", _("target roster")), ("inspectors_sha256", _("inspector roster"))):
            if frozen.get(key) != getattr(campaign, key):
                problems.append(
                    _(
                        "The %(roster)s hash recorded at the freeze (%(recorded)s) differs from the stored one (%(stored)s)."
                    )
                    % {"roster": label, "recorded": frozen.get(key), "stored": getattr(campaign, key)}
                )
        if frozen.get("ratios") != inputs.ratios:
            problems.append(
                _("The ratios differ from those frozen: %(stored)s now, %(recorded)s at the freeze.")
                % {"stored": json.dumps(inputs.ratios), "recorded": json.dumps(frozen.get("ratios"))}
            )
        recusals_hash = draw.roster_hash(recusals_canonical(inputs.recusals))
        if campaign.recusals_sha256 and campaign.recusals_sha256 != recusals_hash:
            problems.append(
                _("The recusals hash to %(actual)s; the campaign records %(stored)s.")
                % {"actual": recusals_hash, "stored": campaign.recusals_sha256}
            )
        if frozen.get("recusals_sha256") != recusals_hash:
            problems.append(
                _("The recusals differ from those frozen (hash %(actual)s now, %(recorded)s at the freeze).")
                % {"actual": recusals_hash, "recorded": frozen.get("recusals_sha256")}
            )
    drawn = _draw_record(campaign)
    if drawn is None:
        problems.append(_("The audit trail has no record of the draw."))
    elif drawn.get("seed") != campaign.seed:
        problems.append(
            _("The stored seed %(stored)r differs from the seed entered, %(recorded)r.")
            % {"stored": campaign.seed, "recorded": drawn.get("seed")}
        )

    # 3. The draw again, against the stored tasks.
    try:
        result = draw.draw(
            seed=campaign.seed,
            campaign_code=campaign.code,
            targets=inputs.targets,
            inspectors=inputs.inspectors,
            recusals=inputs.recusals,
            ratios=inputs.ratios,
        )
    except draw.DrawError as error:
        problems.append(_("The draw cannot be re-run from the stored inputs: %(detail)s") % {"detail": error.message})
        result = None
    tasks = list(
        InspectionTask.objects.filter(campaign=campaign)
        .order_by("draw_position", "id")
        .values_list("kind", "draw_position", "enterprise__uscc", "department_id", "due_on")
    )
    for number, (kind, position, uscc, department_id, _due_on) in enumerate(tasks, start=1):
        if kind != InspectionTask.Kind.RANDOM:
            problems.append(_("Task of %(uscc)s is not a random inspection.") % {"uscc": uscc})
        if department_id != campaign.department_id:
            problems.append(_("Task of %(uscc)s belongs to another department.") % {"uscc": uscc})
        if position != number:
            problems.append(
                _("Task of %(uscc)s is at position %(position)s, expected %(number)s.")
                % {"uscc": uscc, "position": position, "number": number}
            )
    if result is not None:
        grade_of = {t.uscc: t.grade for t in inputs.targets}
        stored = _stored_sample(campaign, grade_of)
        expected = list(result.sample)
        if len(expected) != len(stored):
            problems.append(
                _("The draw gives %(expected)s targets, %(stored)s inspection tasks are stored.")
                % {"expected": len(expected), "stored": len(stored)}
            )
        for position, (want, have) in enumerate(zip(expected, stored, strict=False), start=1):
            if want.uscc != have.uscc:
                problems.append(
                    _("Position %(position)s: the draw gives %(uscc)s, the stored task has %(stored)s.")
                    % {"position": position, "uscc": want.uscc, "stored": have.uscc}
                )
            elif tuple(want.inspectors) != tuple(have.inspectors):
                problems.append(
                    _(
                        "Position %(position)s (%(uscc)s): the draw gives inspectors %(pair)s, "
                        "the stored task has %(stored)s."
                    )
                    % {
                        "position": position,
                        "uscc": want.uscc,
                        "pair": " + ".join(want.inspectors),
                        "stored": " + ".join(have.inspectors),
                    }
                )
        for position, entry in enumerate(expected[len(stored) :], start=len(stored) + 1):
            problems.append(
                _("Position %(position)s: the draw gives %(uscc)s, no task is stored.")
                % {"position": position, "uscc": entry.uscc}
            )
        for position, entry in enumerate(stored[len(expected) :], start=len(expected) + 1):
            problems.append(
                _("Stored task at position %(position)s (%(uscc)s) is not in the draw.")
                % {"position": position, "uscc": entry.uscc}
            )

    # 4. The export document, checked by the draw module itself.
    problems.extend(draw.export_check(campaign_export(campaign=campaign)))
    return list(dict.fromkeys(problems))


# --- reads for the pages ---------------------------------------------------------------------------


def campaigns_for_organiser(*, user: User) -> Any:
    """The campaigns ``user`` may organise: all for an administrator, else those of the
    departments where the user decides."""
    queryset = Campaign.objects.select_related("department")
    if permissions.user_is_administrator(user=user):
        return queryset
    return queryset.filter(department_id__in=permissions.department_ids_for(user=user, perm=permissions.DECIDE))


def user_may_organise_any(*, user: User) -> bool:
    return permissions.user_is_administrator(user=user) or bool(
        permissions.department_ids_for(user=user, perm=permissions.DECIDE)
    )


def sample_size_preview(*, ratios: Mapping[str, str], counts: Mapping[str, int]) -> dict[str, int]:
    """Per grade, how many targets the ratios select from ``counts`` (for the pages)."""
    return {
        grade: draw.sample_size(ratio=draw.parse_ratio(ratios[grade]), count=counts.get(grade, 0))
        for grade in draw.GRADES
        if grade in ratios
    }
