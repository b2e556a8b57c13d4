"""Reads of supervision: who inspects, who must not, the inspector's open tasks, the checklist of a
task, and the campaign read-models (roster preview, stored inputs, export, refused draws, the
organiser's campaigns) with the verification of a drawn campaign, in its four parts."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import permissions
from approvals.models import (
    ApplicationEvent,
    Campaign,
    CampaignInspector,
    CampaignRecusal,
    CampaignTarget,
    Certificate,
    Department,
    InspectionTask,
    InspectorConflict,
    RectificationOrder,
    ReviewOpinion,
)
from approvals.supervision import draw
from core.exceptions import DomainError
from core.models import AuditEvent, User
from credit.models import Enterprise

Status = Campaign.Status


class CampaignError(DomainError):
    pass


def inspectors_of(*, department: Department) -> list[User]:
    """Active staff holding the inspector permission on ``department`` themselves, by username."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    codename = permissions.INSPECT.split(".", 1)[1]
    user_ids = UserObjectPermission.objects.filter(
        permission__codename=codename,
        permission__content_type__app_label="approvals",
        content_type=ContentType.objects.get_for_model(Department),
        object_pk=str(department.pk),
    ).values("user_id")
    return list(User.objects.filter(pk__in=user_ids, is_active=True, kind=User.Kind.STAFF).order_by("username"))


def recusals_for(*, enterprise_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Per enterprise: username → reason of every person who must not inspect it — whoever
    accepted, reviewed or decided one of its applications, and every recorded conflict."""
    ids = set(enterprise_ids)
    result: dict[int, dict[str, str]] = {pk: {} for pk in ids}
    acted = (
        ApplicationEvent.objects.filter(
            application__enterprise_id__in=ids, action__in=["accepted", "decided"], actor__isnull=False
        )
        .values_list("application__enterprise_id", "actor__username", "action", "application__reference")
        .distinct()
    )
    for enterprise_id, username, action, reference in acted:
        result[enterprise_id].setdefault(username, f"{action}:{reference}")
    reviewed = (
        ReviewOpinion.objects.filter(application__enterprise_id__in=ids, reviewer__isnull=False)
        .values_list("application__enterprise_id", "reviewer__username", "application__reference")
        .distinct()
    )
    for enterprise_id, username, reference in reviewed:
        result[enterprise_id].setdefault(username, f"reviewed:{reference}")
    conflicts = InspectorConflict.objects.filter(enterprise_id__in=ids).values_list(
        "enterprise_id", "inspector__username", "reason"
    )
    for enterprise_id, username, reason in conflicts:
        result[enterprise_id][username] = f"conflict:{reason}"
    return result


def checklist_of(task: InspectionTask) -> list[str]:
    if task.application_id is not None:
        return [str(line) for line in task.application.item_version.inspection_checklist]  # type: ignore[union-attr]
    lines: list[str] = []
    certificate_items = Certificate.objects.filter(
        enterprise_id=task.enterprise_id,
        item_version__item__in=task.campaign.items.all(),  # type: ignore[union-attr]
    ).values_list("item_version__inspection_checklist", flat=True)
    for checklist in certificate_items:
        for line in checklist or []:
            if str(line) not in lines:
                lines.append(str(line))
    return lines


def tasks_open_for_inspector(*, user: User) -> Any:
    return (
        InspectionTask.objects.filter(Q(inspector_1=user) | Q(inspector_2=user))
        .exclude(status=InspectionTask.Status.CLOSED)
        .select_related("enterprise", "application", "campaign", "department", "inspector_1", "inspector_2")
        .order_by("due_on", "id")
    )


def target_enterprise_ids(campaign: Campaign, *, on: datetime.date) -> list[int]:
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
    enterprise_ids = target_enterprise_ids(campaign, on=timezone.localdate())
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


def _verify_rosters(campaign: Campaign, inputs: StoredInputs) -> list[str]:
    """1. The roster hashes recomputed from the stored roster rows equal the stored hashes."""
    problems: list[str] = []
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
    return problems


def _verify_trail(campaign: Campaign, inputs: StoredInputs) -> list[str]:
    """2. The freeze and the seed as the audit trail recorded them: the hashes, the ratios and the
    recusals' hash recorded at the freeze (the campaign row does not hold the last two), and the
    seed as it was entered."""
    problems: list[str] = []
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
    return problems


def _verify_redraw(campaign: Campaign, inputs: StoredInputs) -> list[str]:
    """3. The draw re-run from the stored rosters, ratios, recusals and seed gives exactly the
    stored inspection tasks: same enterprises in the same order with the same inspector pairs, of
    the campaign's department."""
    problems: list[str] = []
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
    return problems


def _verify_export(campaign: Campaign) -> list[str]:
    """4. ``draw.export_check`` finds nothing wrong in the export document."""
    return draw.export_check(campaign_export(campaign=campaign))


def campaign_verify(*, campaign: Campaign) -> list[str]:
    """Re-check a drawn campaign from what is stored; returns the problems (empty: all matches),
    each part in its own function: the rosters, the audit trail, the draw re-run, the export."""
    campaign = Campaign.objects.select_related("department").get(pk=campaign.pk)
    if campaign.status != Status.DRAWN:
        return [
            _("Campaign %(code)s has not been drawn (status %(status)s).")
            % {"code": campaign.code, "status": campaign.status}
        ]
    inputs = stored_inputs(campaign)
    problems = [
        *_verify_rosters(campaign, inputs),
        *_verify_trail(campaign, inputs),
        *_verify_redraw(campaign, inputs),
        *_verify_export(campaign),
    ]
    return list(dict.fromkeys(problems))


def campaigns_for_organiser(*, user: User) -> Any:
    """The campaigns ``user`` may organise: all for an administrator, else those of the
    departments where the user decides."""
    queryset = Campaign.objects.select_related("department")
    if permissions.user_is_administrator(user=user):
        return queryset
    return queryset.filter(department_id__in=permissions.department_ids_for(user=user, perm=permissions.DECIDE))


def sample_size_preview(*, ratios: Mapping[str, str], counts: Mapping[str, int]) -> dict[str, int]:
    """Per grade, how many targets the ratios select from ``counts`` (for the pages)."""
    return {
        grade: draw.sample_size(ratio=draw.parse_ratio(ratios[grade]), count=counts.get(grade, 0))
        for grade in draw.GRADES
        if grade in ratios
    }


def rectifications_due(*, enterprise_ids: Any) -> QuerySet[RectificationOrder]:
    """The rectification orders the enterprises have still to carry out, earliest deadline first."""
    return (
        RectificationOrder.objects.filter(task__enterprise_id__in=enterprise_ids, status=RectificationOrder.Status.OPEN)
        .select_related("task__enterprise", "task__application")
        .order_by("deadline", "id")
    )
