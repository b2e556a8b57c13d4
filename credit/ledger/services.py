"""Writes of the credit ledger. Each function is one transaction that writes its audit event.

The one lock: the chain head row (``LedgerHead``, id 1), taken with ``select_for_update`` by every
append. It serialises appends, so each entry gets the next sequence number and the previous
entry's hash with no gap and no fork (the primary key on ``seq`` and the unique hash are the
backstop). Take it last: lock any request or proposal row first, then append.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import working_days
from core.actors import real_actor
from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from credit import notices, permissions
from credit.enterprises.models import Enterprise
from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.ledger import hashing as ledger_hashing
from credit.ledger import webhook_events
from credit.ledger.catalogue import INITIAL_KINDS
from credit.ledger.models import (
    CreditEntryKind,
    CreditRequest,
    GradeSnapshot,
    ImportBatch,
    KindEffect,
    LedgerEntry,
    LedgerHead,
    LookupPurpose,
    ManualEntryProposal,
    RequestStatus,
    SourceType,
)


class LedgerError(DomainError):
    pass


# --- catalogue ------------------------------------------------------------------------------------


def entry_kinds_ensure() -> int:
    """Create version 1 of every catalogue kind that has no version yet; return how many."""
    existing = set(CreditEntryKind.objects.values_list("code", flat=True))
    created = 0
    for spec in INITIAL_KINDS:
        if spec.code in existing:
            continue
        CreditEntryKind.objects.create(version=1, is_current=True, **spec._asdict())
        created += 1
    return created


def entry_kind_revise(*, actor: User | None, kind: CreditEntryKind, **changes: Any) -> CreditEntryKind:
    """Make a new current version of ``kind`` with ``changes``; the old version stays for the entries
    recorded with it. Errors: ``kind_not_current``, ``kind_invalid`` (constraint violated)."""
    allowed = {"name", "name_en", "default_points", "tier", "min_window_months", "max_window_months", "forces_grade_d"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    with transaction.atomic():
        current = CreditEntryKind.objects.select_for_update().get(pk=kind.pk)
        if not current.is_current:
            raise LedgerError("kind_not_current", _("Only the current version of a kind can be revised."))
        CreditEntryKind.objects.filter(pk=current.pk, is_current=True).update(is_current=False)
        values = {f: getattr(current, f) for f in allowed | {"code", "effect"}}
        values.update(changes)
        revised = CreditEntryKind(version=current.version + 1, is_current=True, **values)
        try:
            revised.full_clean()
        except Exception as exc:  # ValidationError from the named constraints
            raise LedgerError("kind_invalid", str(exc)) from None
        revised.save()
        audit_event_record(
            actor=actor,
            action="credit.kind_revised",
            obj=revised,
            data={"code": revised.code, "version": revised.version, "changes": changes},
        )
    return revised


# --- the chain ------------------------------------------------------------------------------------


def ledger_head_ensure() -> LedgerHead:
    """The head row, created from the last entry if missing (after migrate or a flush)."""
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None:
        return head
    last = LedgerEntry.objects.order_by("-seq").first()
    defaults: dict[str, Any] = {"seq": 0, "entry_hash": ledger_hashing.GENESIS_HASH, "recorded_at": None}
    if last is not None:
        defaults = {"seq": last.seq, "entry_hash": last.entry_hash, "recorded_at": last.recorded_at}
    head, _created = LedgerHead.objects.get_or_create(pk=1, defaults=defaults)
    return head


def _lock_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ledger_head_ensure()
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def canonical_fields_of(entry: LedgerEntry, *, enterprise_uscc: str) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "enterprise_uscc": enterprise_uscc,
        "kind_code": entry.kind_code,
        "kind_version": entry.kind_version,
        "points": entry.points,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "deciding_authority": entry.deciding_authority,
        "document_number": entry.document_number,
        "legal_basis": entry.legal_basis,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "reason": entry.reason,
        "recorded_by": entry.recorded_by_id,
        "approved_by": entry.approved_by_id,
        "reverses": entry.reverses_id,
        "hash_algorithm": entry.hash_algorithm,
        "prev_hash": entry.prev_hash,
    }


def _require_text(value: str, *, code: str, message: Any, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise LedgerError(code, message)
    if len(text) > max_length:
        raise LedgerError(code, _("The text is too long (at most %(max)s characters).") % {"max": max_length})
    return text


def _validate_correction(*, kind: CreditEntryKind, enterprise: Enterprise, reverses: LedgerEntry | None) -> None:
    if kind.effect == KindEffect.SCORE:
        if reverses is not None:
            raise LedgerError("reverses_not_allowed", _("Only repair and reversal entries refer to another entry."))
        return
    if reverses is None:
        raise LedgerError("reverses_required", _("A repair or reversal names the entry it ends."))
    if reverses.enterprise_id != enterprise.pk:
        raise LedgerError("reverses_other_enterprise", _("The entry belongs to another enterprise."))
    if reverses.kind.effect != KindEffect.SCORE:
        raise LedgerError("reverses_correction", _("A repair or reversal cannot itself be repaired or reversed."))
    if LedgerEntry.objects.filter(reverses_id=reverses.pk).exists():
        raise LedgerError("already_ended", _("The effect of this entry has already been ended."))


def credit_entry_append(
    *,
    actor: User | None,
    enterprise: Enterprise,
    kind: CreditEntryKind,
    occurred_at: datetime.datetime,
    deciding_authority: str,
    reason: str,
    source_type: str,
    source_id: str,
    points: int | None = None,
    document_number: str = "",
    legal_basis: str = "",
    recorded_by: User | None = None,
    approved_by: User | None = None,
    reverses: LedgerEntry | None = None,
    algorithm: str | None = None,
    backfill_recorded_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """Append one entry to the chain.

    ``points`` defaults to the kind's; a non-zero value must have the kind's sign. ``recorded_by``
    defaults to ``actor``. ``backfill_recorded_at`` is only for loading a history into a ledger (the
    demo): it is clamped between the head's ``recorded_at`` and now, so ``recorded_at`` never goes
    backwards along the chain.

    Errors: ``reason_required``, ``authority_required``, ``source_required``, ``source_type_unknown``,
    ``occurred_in_future``, ``points_sign_mismatch``, ``reverses_required``, ``reverses_not_allowed``,
    ``reverses_other_enterprise``, ``reverses_correction``, ``already_ended``, ``four_eyes``,
    ``document_number_too_long``, ``legal_basis_too_long``.
    """
    reason = _require_text(reason, code="reason_required", message=_("A reason is required."), max_length=4000)
    deciding_authority = _require_text(
        deciding_authority, code="authority_required", message=_("The deciding authority is required."), max_length=200
    )
    source_id = _require_text(
        source_id, code="source_required", message=_("The source reference is required."), max_length=100
    )
    if source_type not in SourceType.values:
        raise LedgerError("source_type_unknown", _("Unknown source type."))
    # A legal record is refused, never cut: a truncated document number names another document.
    document_number = (document_number or "").strip()
    legal_basis = (legal_basis or "").strip()
    if len(document_number) > 100:
        raise LedgerError(
            "document_number_too_long", _("The document number is longer than %(max)s characters.") % {"max": 100}
        )
    if len(legal_basis) > 300:
        raise LedgerError(
            "legal_basis_too_long", _("The legal basis is longer than %(max)s characters.") % {"max": 300}
        )
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be time-zone aware")
    now = timezone.now()
    if occurred_at > now + datetime.timedelta(minutes=5):
        raise LedgerError("occurred_in_future", _("The decision or fact cannot lie in the future."))
    value = kind.default_points if points is None else int(points)
    if kind.effect != KindEffect.SCORE:
        value = 0
    elif value and kind.default_points and (value > 0) != (kind.default_points > 0):
        raise LedgerError("points_sign_mismatch", _("The points must have the same sign as the kind's default."))
    recorder = real_actor(recorded_by) if recorded_by is not None else real_actor(actor)
    approver = real_actor(approved_by)
    if approver is not None and recorder is not None and approver.pk == recorder.pk:
        raise LedgerError("four_eyes", _("The person who proposed an entry cannot approve it."))
    with transaction.atomic():
        head = _lock_head()
        # Under the head lock: two concurrent repairs of one entry cannot both pass this check.
        _validate_correction(kind=kind, enterprise=enterprise, reverses=reverses)
        recorded_at = now
        if backfill_recorded_at is not None:
            recorded_at = min(backfill_recorded_at, now)
        if head.recorded_at is not None and recorded_at < head.recorded_at:
            # Clocks of two workers may disagree by a little: never let recorded_at go backwards,
            # or a grade as of a past instant could change.
            recorded_at = head.recorded_at
        entry = LedgerEntry(
            seq=head.seq + 1,
            enterprise=enterprise,
            kind=kind,
            kind_code=kind.code,
            kind_version=kind.version,
            points=value,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            deciding_authority=deciding_authority,
            document_number=document_number,
            legal_basis=legal_basis,
            source_type=source_type,
            source_id=source_id,
            reason=reason,
            recorded_by=recorder,
            approved_by=approver,
            reverses=reverses,
            hash_algorithm=algorithm or settings.CREDIT_LEDGER_HASH_ALGORITHM,
            canonical_version=ledger_hashing.CURRENT_CANONICAL_VERSION,
            prev_hash=head.entry_hash,
        )
        entry.entry_hash = ledger_hashing.entry_hash(canonical_fields_of(entry, enterprise_uscc=enterprise.uscc))
        entry.save(force_insert=True)
        updated = LedgerHead.objects.filter(pk=1, seq=head.seq).update(
            seq=entry.seq, entry_hash=entry.entry_hash, recorded_at=recorded_at
        )
        if updated != 1:  # cannot happen under the row lock; refuse rather than fork
            raise IntegrityError("ledger head moved while locked")
        audit_event_record(
            actor=actor,
            action="credit.entry_appended",
            obj=entry,
            data={
                "enterprise": enterprise.uscc,
                "kind": kind.code,
                "points": value,
                "source": f"{source_type}:{source_id}",
                "reverses": reverses.pk if reverses else None,
            },
        )
        if backfill_recorded_at is None:  # a history loaded into the ledger is not news to anyone
            webhook_events.entry_recorded(entry)
            _entry_tell(entry, now=now)
    return entry


def _entry_tell(entry: LedgerEntry, *, now: datetime.datetime) -> None:
    """Tell the enterprise (and the subscribed systems) of the grade ``entry`` moved (before and
    after, as of now, from the one read of its facts that includes the new entry), and the
    enterprise of the entry."""
    from credit.ledger import scoring
    from credit.ledger import selectors as ledger_selectors

    facts = ledger_selectors.entry_facts(enterprise=entry.enterprise_id)
    before = scoring.grade_as_of([fact for fact in facts if fact.seq != entry.seq], now)
    after = scoring.grade_as_of(facts, now)
    notices.entry_recorded_tell(entry, grade_before=before.grade, grade_after=after.grade, score=after.score)
    if before.grade != after.grade:
        webhook_events.grade_changed(entry, before=before.grade, after=after.grade, as_of=now)


# --- manual entries (four-eyes) -------------------------------------------------------------------


def _require_credit_office(actor: User) -> None:
    if not permissions.user_is_credit_office(user=actor):
        raise LedgerError("not_credit_office", _("Only the credit office may do this."))


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def manual_entry_propose(
    *,
    actor: User,
    enterprise: Enterprise,
    kind: CreditEntryKind,
    points: int,
    occurred_on: datetime.date,
    deciding_authority: str,
    reason: str,
    justification: str,
    document_number: str = "",
    legal_basis: str = "",
    reverses: LedgerEntry | None = None,
) -> ManualEntryProposal:
    """A credit-office member proposes a manual entry (or an override) for a colleague's approval.

    Errors: ``not_credit_office``, ``justification_required``, ``reason_required``,
    ``authority_required``, ``kind_not_current``, ``occurred_in_future``, ``points_sign_mismatch``,
    and the correction errors of ``credit_entry_append``.
    """
    _require_credit_office(actor)
    justification = _require_text(
        justification, code="justification_required", message=_("A justification is required."), max_length=4000
    )
    reason = _require_text(reason, code="reason_required", message=_("A reason is required."), max_length=4000)
    deciding_authority = _require_text(
        deciding_authority, code="authority_required", message=_("The deciding authority is required."), max_length=200
    )
    if not kind.is_current:
        raise LedgerError("kind_not_current", _("Use the current version of the kind."))
    if occurred_on > timezone.localdate():
        raise LedgerError("occurred_in_future", _("The decision or fact cannot lie in the future."))
    if kind.effect == KindEffect.SCORE and points and kind.default_points and (points > 0) != (kind.default_points > 0):
        raise LedgerError("points_sign_mismatch", _("The points must have the same sign as the kind's default."))
    with transaction.atomic():
        _validate_correction(kind=kind, enterprise=enterprise, reverses=reverses)
        proposal = ManualEntryProposal.objects.create(
            enterprise=enterprise,
            kind=kind,
            points=points if kind.effect == KindEffect.SCORE else 0,
            occurred_on=occurred_on,
            deciding_authority=deciding_authority,
            document_number=document_number.strip(),
            legal_basis=legal_basis.strip(),
            reason=reason,
            justification=justification,
            reverses=reverses,
            proposed_by=actor,
        )
        audit_event_record(
            actor=actor,
            action="credit.manual_proposed",
            obj=proposal,
            data={"enterprise": enterprise.uscc, "kind": kind.code, "points": proposal.points},
        )
    return proposal


def _lock_pending_proposal(proposal: ManualEntryProposal) -> ManualEntryProposal:
    locked = ManualEntryProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != RequestStatus.PENDING:
        raise LedgerError("already_decided", _("This proposal has already been decided."))
    return locked


def manual_entry_approve(*, actor: User, proposal: ManualEntryProposal, note: str = "") -> LedgerEntry:
    """A second credit-office member approves: the entry is appended naming proposer and approver.

    Errors: ``not_credit_office``, ``four_eyes`` (the proposer), ``already_decided``, and the
    errors of ``credit_entry_append``.
    """
    _require_credit_office(actor)
    with transaction.atomic():
        locked = _lock_pending_proposal(proposal)
        if locked.proposed_by_id == actor.pk:
            raise LedgerError("four_eyes", _("The person who proposed an entry cannot approve it."))
        entry = credit_entry_append(
            actor=actor,
            enterprise=locked.enterprise,
            kind=locked.kind,
            points=locked.points,
            occurred_at=_start_of_day(locked.occurred_on),
            deciding_authority=locked.deciding_authority,
            document_number=locked.document_number,
            legal_basis=locked.legal_basis,
            reason=locked.reason,
            source_type=SourceType.MANUAL,
            source_id=f"manual:{locked.pk}",
            recorded_by=locked.proposed_by,
            approved_by=actor,
            reverses=locked.reverses,
        )
        locked.status = RequestStatus.GRANTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()[:300]
        locked.entry = entry
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "entry"])
        audit_event_record(
            actor=actor, action="credit.manual_approved", obj=locked, data={"entry": entry.seq, "note": note}
        )
    return entry


def manual_entry_reject(*, actor: User, proposal: ManualEntryProposal, note: str) -> ManualEntryProposal:
    """Errors: ``not_credit_office``, ``four_eyes``, ``already_decided``, ``note_required``."""
    _require_credit_office(actor)
    note = _require_text(note, code="note_required", message=_("Give the reason for rejecting."), max_length=300)
    with transaction.atomic():
        locked = _lock_pending_proposal(proposal)
        if locked.proposed_by_id == actor.pk:
            raise LedgerError("four_eyes", _("The person who proposed an entry cannot decide on it."))
        locked.status = RequestStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_event_record(actor=actor, action="credit.manual_rejected", obj=locked, data={"note": note})
    return locked


# --- objections and repairs -----------------------------------------------------------------------


def credit_request_submit(
    *,
    actor: User,
    enterprise: Enterprise,
    entry: LedgerEntry,
    kind: str,
    statement: str,
    evidence: str,
    commitment: str = "",
) -> CreditRequest:
    """An enterprise objects to an entry, or asks for its repair after the minimum window.

    The caller has checked that ``actor`` acts for ``enterprise`` (foreign → 404). Errors:
    ``entry_not_found`` (another enterprise's entry), ``not_scoring_entry``, ``already_ended``,
    ``statement_required``, ``evidence_required``, ``commitment_required`` (repair),
    ``repair_too_early`` (minimum window not over), ``calendar_not_published`` (the bureau's calendar
    does not cover the decision deadline's year), ``request_open`` (one open request per entry
    and type).
    """
    from credit.ledger import scoring

    if kind not in CreditRequest.Kind.values:
        raise LedgerError("request_kind_unknown", _("Unknown request type."))
    if entry.enterprise_id != enterprise.pk:
        raise LedgerError("entry_not_found", _("No such entry."))
    statement = _require_text(statement, code="statement_required", message=_("Explain your request."), max_length=4000)
    evidence = _require_text(
        evidence, code="evidence_required", message=_("Describe the evidence you provide."), max_length=4000
    )
    commitment = (commitment or "").strip()
    if kind == CreditRequest.Kind.REPAIR and not commitment:
        raise LedgerError("commitment_required", _("A repair request needs a public credit commitment."))
    if entry.kind.effect != KindEffect.SCORE:
        raise LedgerError("not_scoring_entry", _("A repair or reversal entry cannot be objected to or repaired."))
    if kind == CreditRequest.Kind.REPAIR and entry.points >= 0:
        raise LedgerError("not_negative_entry", _("Only negative entries can be repaired."))
    if LedgerEntry.objects.filter(reverses_id=entry.pk).exists():
        raise LedgerError("already_ended", _("The effect of this entry has already been ended."))
    if kind == CreditRequest.Kind.REPAIR:
        possible_from = scoring.add_months(entry.occurred_at, entry.kind.min_window_months)
        if timezone.now() < possible_from:
            raise LedgerError(
                "repair_too_early",
                _("Repair can be requested from %(date)s.")
                % {"date": timezone.localtime(possible_from).strftime("%Y-%m-%d")},
            )
    with transaction.atomic():
        if CreditRequest.objects.filter(entry=entry, kind=kind, status=RequestStatus.PENDING).exists():
            raise LedgerError("request_open", _("There is already an open request of this type for this entry."))
        due_on, due_provisional = working_days.due_after(
            timezone.localdate(), settings.CREDIT_REQUEST_DECISION_WORKING_DAYS
        )
        try:
            with transaction.atomic():
                request = CreditRequest.objects.create(
                    kind=kind,
                    enterprise=enterprise,
                    entry=entry,
                    statement=statement,
                    evidence=evidence,
                    commitment=commitment,
                    submitted_by=actor,
                    due_on=due_on,
                    due_provisional=due_provisional,
                )
        except IntegrityError:
            raise LedgerError(
                "request_open", _("There is already an open request of this type for this entry.")
            ) from None
        audit_event_record(
            actor=actor,
            action=f"credit.{kind}_submitted",
            obj=request,
            data={"enterprise": enterprise.uscc, "entry": entry.seq},
        )
    return request


def credit_request_decide(*, actor: User, credit_request: CreditRequest, grant: bool, reason: str) -> CreditRequest:
    """The credit office grants or refuses. Granting an objection appends a reversal, granting a
    repair appends a repair entry; both end the original's effect. Refusals need reasons.

    Errors: ``not_credit_office``, ``already_decided``, ``reason_required``, ``already_ended``.
    """
    _require_credit_office(actor)
    reason = _require_text(
        reason, code="reason_required", message=_("Give the reasons for the decision."), max_length=4000
    )
    with transaction.atomic():
        locked = (
            CreditRequest.objects.select_for_update(of=("self",))
            .select_related("entry", "enterprise")
            .get(pk=credit_request.pk)
        )
        if locked.status != RequestStatus.PENDING:
            raise LedgerError("already_decided", _("This request has already been decided."))
        now = timezone.now()
        if grant:
            code = "repair" if locked.kind == CreditRequest.Kind.REPAIR else "reversal"
            kind = CreditEntryKind.objects.get(code=code, is_current=True)
            locked.result_entry = credit_entry_append(
                actor=actor,
                enterprise=locked.enterprise,
                kind=kind,
                occurred_at=now,
                deciding_authority=str(_("Credit office")),
                reason=reason,
                source_type=SourceType.REQUEST,
                source_id=f"request:{locked.pk}",
                reverses=locked.entry,
            )
        locked.status = RequestStatus.GRANTED if grant else RequestStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "result_entry"])
        audit_event_record(
            actor=actor,
            action=f"credit.{locked.kind}_{'granted' if grant else 'refused'}",
            obj=locked,
            data={"entry": locked.entry_id, "result_entry": locked.result_entry_id},
        )
        notices.credit_request_decided_tell(locked)
    return locked


# --- import ---------------------------------------------------------------------------------------

IMPORT_COLUMNS = ("uscc", "kind", "occurred_on", "document_number", "legal_basis", "reason")


@dataclass
class ImportReport:
    batch: ImportBatch | None
    rows_total: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, detail)
    already_imported: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected


def _parse_row(row: dict[str, str]) -> tuple[str, CreditEntryKind, datetime.date]:
    try:
        uscc = uscc_validate(row.get("uscc") or "")
    except InvalidUSCCError:
        raise LedgerError("uscc_invalid", row.get("uscc") or "") from None
    kind = CreditEntryKind.objects.filter(code=(row.get("kind") or "").strip(), is_current=True).first()
    if kind is None or kind.effect != KindEffect.SCORE:
        raise LedgerError("kind_unknown", row.get("kind") or "")
    try:
        day = datetime.date.fromisoformat((row.get("occurred_on") or "").strip())
    except ValueError:
        raise LedgerError("date_invalid", row.get("occurred_on") or "") from None
    if day > timezone.localdate():
        raise LedgerError("date_in_future", str(day))
    if not (row.get("document_number") or "").strip():
        raise LedgerError("document_number_required", "")
    return uscc, kind, day


# The rules a row of an import can break, each with its message (the report names the code).
IMPORT_ROW_ERRORS: dict[str, Any] = {
    "uscc_invalid": _("The unified social credit code is not valid."),
    "enterprise_unknown": _("No enterprise with this unified social credit code is registered."),
    "kind_unknown": _("Unknown kind of record (or one that is not scored)."),
    "date_invalid": _("The date is not a date as YYYY-MM-DD."),
    "date_in_future": _("The date lies in the future."),
    "document_number_required": _("The document number (文书号) is required."),
}


def import_row_message(code: str) -> str:
    """The message of a rejected row's ``code`` (``IMPORT_ROW_ERRORS``)."""
    return str(IMPORT_ROW_ERRORS.get(code, code))


def ledger_import_csv(
    *,
    actor: User | None,
    file_name: str,
    content: bytes,
    authority: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import records of another authority (columns ``IMPORT_COLUMNS``, UTF-8, header row).

    All or nothing: if any row is rejected (``IMPORT_ROW_ERRORS``: ``uscc_invalid``,
    ``enterprise_unknown``, ``kind_unknown``, ``date_invalid``, ``date_in_future``,
    ``document_number_required``), nothing is written and the report lists every rejected row by
    its line in the file. The same file imported twice adds nothing (content hash), and a row
    already in the ledger (same enterprise, kind, authority and document number) is counted as a
    duplicate, not added again. Errors: ``authority_required``, ``file_unreadable``,
    ``columns_missing``.
    """
    authority = _require_text(
        authority, code="authority_required", message=_("Name the supplying authority."), max_length=200
    )
    digest = hashlib.sha256(content).hexdigest()
    if ImportBatch.objects.filter(file_sha256=digest).exists():
        return ImportReport(batch=ImportBatch.objects.get(file_sha256=digest), already_imported=True)
    try:
        text = content.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error):
        raise LedgerError("file_unreadable", _("The file is not a UTF-8 CSV file.")) from None
    header = set(rows[0].keys()) if rows else set()
    if not rows or not set(IMPORT_COLUMNS) <= header:
        raise LedgerError(
            "columns_missing", _("The file needs the columns: %(columns)s.") % {"columns": ", ".join(IMPORT_COLUMNS)}
        )
    return _import_rows(
        actor=actor, file_name=file_name, digest=digest, rows=rows, authority=authority, first=2, progress=progress
    )


def ledger_import_records(
    *, actor: User, authority: str, records: list[dict[str, str]], source_name: str
) -> ImportReport:
    """Import a batch of records sent by another authority's system (each a mapping with the keys
    of ``IMPORT_COLUMNS``), with the rules and the all-or-nothing of ``ledger_import_csv``: any
    rejected record is reported by its index in ``records`` (from 0) and nothing is written. The
    same batch from the same authority imported again adds nothing (hash of its canonical JSON and
    the authority), and a record already in the ledger is counted as a duplicate. ``actor`` is the
    system's service account: every entry is recorded by it. Errors: ``authority_required``,
    ``batch_empty``.
    """
    authority = _require_text(
        authority, code="authority_required", message=_("Name the supplying authority."), max_length=200
    )
    if not records:
        raise LedgerError("batch_empty", _("The batch holds no record."))
    rows = [{column: str(record.get(column) or "") for column in IMPORT_COLUMNS} for record in records]
    canonical = json.dumps({"authority": authority, "records": rows}, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    if ImportBatch.objects.filter(file_sha256=digest).exists():
        return ImportReport(
            batch=ImportBatch.objects.get(file_sha256=digest), rows_total=len(rows), already_imported=True
        )
    return _import_rows(actor=actor, file_name=source_name, digest=digest, rows=rows, authority=authority, first=0)


def _import_rows(
    *,
    actor: User | None,
    file_name: str,
    digest: str,
    rows: list[dict[str, str]],
    authority: str,
    first: int,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check every row (reporting each rejected one at its position, counted from ``first``), then,
    only if none was rejected, write the batch and its new entries in one transaction."""
    report = ImportReport(batch=None, rows_total=len(rows))
    parsed: list[tuple[int, Enterprise, CreditEntryKind, datetime.date, dict[str, str]]] = []
    enterprises = {e.uscc: e for e in Enterprise.objects.all().only("pk", "uscc")}
    for line, row in enumerate(rows, start=first):
        try:
            uscc, kind, day = _parse_row(row)
        except LedgerError as exc:
            report.rejected.append((line, exc.code, str(exc.message)))
            continue
        enterprise = enterprises.get(uscc)
        if enterprise is None:
            report.rejected.append((line, "enterprise_unknown", uscc))
            continue
        parsed.append((line, enterprise, kind, day, row))
    if report.rejected:
        return report
    with transaction.atomic():
        try:
            with transaction.atomic():
                batch = ImportBatch.objects.create(
                    file_name=file_name[:200], file_sha256=digest, authority=authority, imported_by=real_actor(actor)
                )
        except IntegrityError:  # the same batch, imported concurrently
            return ImportReport(
                batch=ImportBatch.objects.get(file_sha256=digest), rows_total=len(rows), already_imported=True
            )
        for done, (_line, enterprise, kind, day, row) in enumerate(parsed, start=1):
            document_number = row["document_number"].strip()
            duplicate = LedgerEntry.objects.filter(
                enterprise=enterprise,
                kind_code=kind.code,
                deciding_authority=authority,
                document_number=document_number,
            ).exists()
            if duplicate:
                report.duplicates += 1
            else:
                credit_entry_append(
                    actor=actor,
                    enterprise=enterprise,
                    kind=kind,
                    occurred_at=_start_of_day(day),
                    deciding_authority=authority,
                    document_number=document_number,
                    legal_basis=(row.get("legal_basis") or "").strip(),
                    reason=(row.get("reason") or "").strip() or str(kind.name),
                    source_type=SourceType.IMPORT_BATCH,
                    source_id=f"import:{batch.pk}:{_line}",
                )
                report.added += 1
            if progress is not None:
                progress(done, len(parsed))
        batch.rows_total = report.rows_total
        batch.rows_added = report.added
        batch.rows_duplicate = report.duplicates
        batch.save(update_fields=["rows_total", "rows_added", "rows_duplicate"])
        audit_event_record(
            actor=actor,
            action="credit.import_batch",
            obj=batch,
            data={"file": file_name, "added": report.added, "duplicates": report.duplicates},
        )
    report.batch = batch
    return report


# --- snapshots ------------------------------------------------------------------------------------


@dataclass
class GradeSummary:
    """Grade, score and contributing entries as of an instant (no excluded list): what a stored
    snapshot holds. From a snapshot, ``contributing`` is read only when asked for (it can be
    thousands of entries; the grade alone is one small row)."""

    as_of: datetime.datetime
    grade: str
    score: int
    rule_version: str
    from_snapshot: bool
    snapshot_id: int | None = None
    _contributing: tuple[int, ...] | None = None

    @property
    def contributing(self) -> tuple[int, ...]:
        if self._contributing is None:
            stored = (
                None
                if self.snapshot_id is None
                else GradeSnapshot.objects.filter(pk=self.snapshot_id).values_list("contributing", flat=True).first()
            )
            self._contributing = tuple(stored or ())
        return self._contributing


def grade_snapshot_store(*, enterprise: Enterprise, as_of: datetime.datetime) -> GradeSnapshot:
    """Compute and store the grade as of ``as_of``: a cache, always re-derivable from the ledger, so
    (unlike the domain writes) it writes no audit event."""
    from credit.ledger import selectors as ledger_selectors

    # The last entry known at ``as_of`` (recorded_at grows with seq): a later entry makes the
    # snapshot unusable for instants after ``as_of`` (see credit_grade_current).
    last = (
        LedgerEntry.objects.filter(enterprise=enterprise, recorded_at__lte=as_of)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=as_of)
    head = LedgerHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    snapshot, _created = GradeSnapshot.objects.update_or_create(
        enterprise=enterprise,
        as_of=as_of,
        rule_version=result.rule_version,
        defaults={
            "head_seq": head,
            "score": result.score,
            "grade": result.grade,
            "contributing": [c.seq for c in result.contributing],
            "stable_until": result.stable_until,
            "enterprise_last_seq": last or 0,
        },
    )
    return snapshot


def credit_grade_current(*, enterprise: Enterprise, as_of: datetime.datetime | None = None) -> GradeSummary:
    """The grade as of ``as_of`` (default now), from a stored snapshot when one is provably still
    exact, else computed (and stored, when ``as_of`` is not before the enterprise's latest entry).

    A snapshot is stored only at an instant S after the enterprise's last entry was recorded; it is
    exact for every T in [S, stable_until) while the enterprise has no newer entry: the grade changes
    only when a window ends, a dated entry takes effect, or an entry is recorded. One indexed query
    when it hits.
    """
    from django.db.models import Q, Subquery
    from django.db.models.functions import Coalesce

    from credit.ledger import scoring
    from credit.ledger import selectors as ledger_selectors

    moment = as_of or timezone.now()
    last_seq = Coalesce(
        Subquery(LedgerEntry.objects.filter(enterprise=enterprise).order_by("-seq").values("seq")[:1]), 0
    )
    hit = (
        GradeSnapshot.objects.filter(
            enterprise=enterprise,
            rule_version=scoring.CURRENT_RULES.version,
            enterprise_last_seq=last_seq,
            as_of__lte=moment,
        )
        .filter(Q(stable_until__isnull=True) | Q(stable_until__gt=moment))
        .order_by("-as_of")
        .values_list("pk", "grade", "score", "rule_version")
        .first()
    )
    if hit is not None:
        snapshot_id, grade, score, rule_version = hit
        return GradeSummary(moment, grade, score, rule_version, True, snapshot_id)
    last_recorded = (
        LedgerEntry.objects.filter(enterprise=enterprise).order_by("-seq").values_list("recorded_at", flat=True).first()
    )
    if last_recorded is not None and moment < last_recorded:
        # An instant before the latest entry was recorded: computed, never stored.
        result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=moment)
        seqs = tuple(c.seq for c in result.contributing)
        return GradeSummary(moment, result.grade, result.score, result.rule_version, False, None, seqs)
    stored = grade_snapshot_store(enterprise=enterprise, as_of=moment)
    return GradeSummary(
        moment, stored.grade, stored.score, stored.rule_version, False, stored.pk, tuple(stored.contributing)
    )


def credit_request_dues_recompute() -> int:
    """Recompute the decision deadline of every pending request whose deadline was provisional (a
    calendar year has been entered since). Returns how many changed."""
    changed = 0
    with transaction.atomic():
        for request in CreditRequest.objects.select_for_update().filter(
            status=RequestStatus.PENDING, due_provisional=True
        ):
            submitted_on = timezone.localtime(request.submitted_at).date()
            due_on, provisional = working_days.due_after(submitted_on, settings.CREDIT_REQUEST_DECISION_WORKING_DAYS)
            if (due_on, provisional) != (request.due_on, request.due_provisional):
                CreditRequest.objects.filter(pk=request.pk).update(due_on=due_on, due_provisional=provisional)
                audit_event_record(
                    actor=None,
                    action="credit.request_due_recomputed",
                    obj=request,
                    data={"from": request.due_on.isoformat(), "to": due_on.isoformat(), "provisional": provisional},
                )
                changed += 1
    return changed


# --- look-ups by other authorities ----------------------------------------------------------------


@dataclass(frozen=True)
class GradeLookup:
    enterprise: Enterprise
    purpose: str
    summary: GradeSummary


def credit_grade_lookup(*, uscc: str, purpose: str, as_of: datetime.datetime | None = None) -> GradeLookup | None:
    """The grade of the enterprise with ``uscc`` as of ``as_of`` (default now), looked up by
    another authority for ``purpose`` (``LookupPurpose``); ``None`` when no enterprise bears the
    code. It writes nothing but the grade cache (``credit_grade_current``): the caller records the
    read with its purpose. Errors: ``purpose_required``, ``purpose_invalid``, and the USCC's own
    (``uscc_empty``, ``uscc_invalid_length``, ``uscc_invalid_format``, ``uscc_invalid_checksum``).
    """
    if not purpose:
        raise LedgerError("purpose_required", _("Name the purpose of the look-up."))
    if purpose not in LookupPurpose.values:
        raise LedgerError(
            "purpose_invalid",
            _("Unknown purpose; one of: %(purposes)s.") % {"purposes": ", ".join(LookupPurpose.values)},
        )
    number = uscc_validate(uscc)
    enterprise = Enterprise.objects.filter(uscc=number).first()
    if enterprise is None:
        return None
    return GradeLookup(
        enterprise=enterprise, purpose=purpose, summary=credit_grade_current(enterprise=enterprise, as_of=as_of)
    )
