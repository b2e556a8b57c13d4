"""What the applicant is told, and when: every case event of these actions sends a notice to the
applicant through the outbox (``core.outbox``), in the same transaction as the event. The texts are
rendered at delivery in the applicant's language; ``%(reference)s`` and friends come from the
event (``notice_context``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals.applications.documents import NoticeDocument, notice_pdf
from core.outbox.kinds import EMAIL, SITE, SMS, NoticeKind, notice_kinds_register
from core.outbox.services import notify

if TYPE_CHECKING:
    from approvals.applications.models import Application, ApplicationEvent, WrittenNotice

# A step with a written notice (行政许可法 art. 32, 38, 42, 45) sends it by e-mail as well as in
# the message centre, whatever the applicant's choices; the two that set the applicant a task
# also go by SMS unless turned off.
WRITTEN = (SITE, EMAIL)
URGENT = (SITE, EMAIL, SMS)

KINDS = (
    NoticeKind(
        "application.submitted",
        _("Application %(reference)s received"),
        _("Your application %(reference)s for %(item)s has been received and waits for acceptance at the window."),
        label=_("Application received"),
    ),
    NoticeKind(
        "application.accepted",
        _("Application %(reference)s accepted"),
        _("Your application %(reference)s for %(item)s was accepted. The decision is due by %(deadline)s."),
        mandatory=WRITTEN,
        label=_("Application accepted"),
    ),
    NoticeKind(
        "application.deemed_accepted",
        _("Application %(reference)s deemed accepted"),
        _(
            "The window did not answer your application %(reference)s in time, so it counts as accepted "
            "(Administrative Licensing Law, art. 32). The decision is due by %(deadline)s."
        ),
        mandatory=WRITTEN,
        label=_("Application deemed accepted"),
    ),
    NoticeKind(
        "application.not_accepted",
        _("Application %(reference)s not accepted"),
        _("Your application %(reference)s for %(item)s was not accepted. Reasons: %(comment)s"),
        mandatory=WRITTEN,
        label=_("Application not accepted"),
    ),
    NoticeKind(
        "application.supplement_requested",
        _("Material to supplement for %(reference)s"),
        _(
            "Please supplement the material of your application %(reference)s: %(comment)s "
            "Open the application to see every item and answer."
        ),
        mandatory=WRITTEN,
        channels=URGENT,
        label=_("Material to supplement (补正)"),
    ),
    NoticeKind(
        "application.clock_suspended",
        _("Application %(reference)s: the time limit is suspended"),
        _("The time limit of your application %(reference)s is suspended. %(comment)s"),
        mandatory=WRITTEN,
        label=_("Time limit suspended"),
    ),
    NoticeKind(
        "application.clock_resumed",
        _("Application %(reference)s: the time limit runs again"),
        _("The time limit of your application %(reference)s runs again. The decision is due by %(deadline)s."),
        label=_("Time limit runs again"),
    ),
    NoticeKind(
        "application.extended",
        _("Application %(reference)s: time limit extended"),
        _(
            "The time limit of your application %(reference)s was extended by %(days)s working days. Reasons: %(comment)s"
        ),
        mandatory=WRITTEN,
        label=_("Time limit extended"),
    ),
    NoticeKind(
        "application.approved",
        _("Application %(reference)s approved"),
        _("Your application %(reference)s for %(item)s was approved."),
        mandatory=WRITTEN,
        label=_("Application approved"),
    ),
    NoticeKind(
        "application.refused",
        _("Application %(reference)s refused"),
        _("Your application %(reference)s for %(item)s was refused. Reasons: %(comment)s"),
        mandatory=WRITTEN,
        label=_("Application refused"),
    ),
    NoticeKind(
        "application.certificate_issued",
        _("Certificate %(number)s issued"),
        _("The certificate %(number)s for your application %(reference)s has been issued."),
        label=_("Certificate issued"),
    ),
    NoticeKind(
        "application.certificate_revoked",
        _("Certificate of %(reference)s revoked"),
        _("The certificate of your application %(reference)s was revoked. Reasons: %(comment)s"),
        mandatory=WRITTEN,
        label=_("Certificate revoked"),
    ),
    NoticeKind(
        "application.inspection_assigned",
        _("Verification of %(reference)s assigned"),
        _(
            "The commitment you signed for %(reference)s (%(item)s) will be verified on site by two inspectors "
            "of %(department)s by %(deadline)s. Please keep the premises and records available."
        ),
        label=_("Verification assigned"),
    ),
    NoticeKind(
        "application.rectification_ordered",
        _("Rectification ordered for %(reference)s"),
        _("The inspection of %(reference)s found problems to rectify by %(deadline)s. %(comment)s"),
        mandatory=WRITTEN,
        channels=URGENT,
        label=_("Rectification ordered"),
    ),
)
notice_kinds_register(*KINDS)

# case event action → notice kind ("decided" depends on the outcome)
ACTION_KINDS = {
    "submitted": "application.submitted",
    "accepted": "application.accepted",
    "deemed_accepted": "application.deemed_accepted",
    "not_accepted": "application.not_accepted",
    "supplement_requested": "application.supplement_requested",
    "clock_suspended": "application.clock_suspended",
    "clock_resumed": "application.clock_resumed",
    "extended": "application.extended",
    "certificate_issued": "application.certificate_issued",
    "certificate_revoked": "application.certificate_revoked",
    "rectification_ordered": "application.rectification_ordered",
    "verification_opened": "application.inspection_assigned",
}


def notice_kind_of(event: ApplicationEvent) -> str | None:
    if event.action == "decided":
        return "application.approved" if event.data.get("outcome") == "approved" else "application.refused"
    return ACTION_KINDS.get(event.action)


def notice_context(application: Application, event: ApplicationEvent) -> dict[str, Any]:
    data = event.data or {}
    return {
        "reference": application.reference or f"#{application.pk}",
        "item": application.item_version.name,
        "comment": event.comment,
        "deadline": data.get("deadline")
        or data.get("due_on")
        or (application.deadline.isoformat() if application.deadline else "—"),
        "days": data.get("days", ""),
        "number": data.get("number", ""),
        "department": event.department.name if event.department_id else "",
    }


# These notices name the deadline the event moves: the service sends them once the clock is
# refreshed (``applicant_tell_latest``), not when the event is written.
AFTER_CLOCK = frozenset({"accepted", "deemed_accepted", "clock_resumed", "extended"})


def applicant_tell(application: Application, event: ApplicationEvent, *, clock_refreshed: bool = False) -> None:
    """Send the applicant the notice of ``event``, if its action has one."""
    kind = notice_kind_of(event)
    if kind is None or (event.action in AFTER_CLOCK and not clock_refreshed):
        return
    context = notice_context(application, event)
    written = written_notice_issue(application, event)
    if written is not None:
        context["notice_number"] = written.number
        context["attachments"] = [
            {
                "storage_name": written.file.name,
                "filename": f"{written.number}.pdf",
                "content_type": "application/pdf",
                "sha256": written.sha256,
            }
        ]
    notify(
        recipient=application.applicant,
        kind=kind,
        dedupe_key=f"application_event:{event.pk}",
        context=context,
        obj=application,
    )


def applicant_tell_latest(application: Application, action: str) -> None:
    """The notice of the newest ``action`` event of ``application``, now that its clock is fresh."""
    from approvals.applications.models import ApplicationEvent

    event = ApplicationEvent.objects.filter(application=application, action=action).order_by("-id").first()
    if event is not None:
        applicant_tell(application, event, clock_refreshed=True)


# --- the written notices ---------------------------------------------------------------------------

_REMEDY = _(
    "If you disagree with this decision, you may apply for administrative reconsideration within 60 days "
    "or bring an administrative lawsuit within 6 months of receiving it."
)


def _written_kind(event: ApplicationEvent) -> str | None:
    from approvals.applications.models import WrittenNotice

    Kind = WrittenNotice.Kind  # noqa: N806
    if event.action == "decided":
        return Kind.APPROVAL if event.data.get("outcome") == "approved" else Kind.REFUSAL
    return {
        "accepted": Kind.ACCEPTANCE,
        "deemed_accepted": Kind.ACCEPTANCE,
        "supplement_requested": Kind.SUPPLEMENT,
        "not_accepted": Kind.NOT_ACCEPTED,
        "extended": Kind.EXTENSION,
        "clock_suspended": Kind.SUSPENSION,
        "rectification_ordered": Kind.RECTIFICATION,
        "certificate_revoked": Kind.REVOCATION,
    }.get(event.action)


def _document_texts(kind: str, application: Application, event: ApplicationEvent) -> tuple[str, list[str], list[str]]:
    """The title, the paragraphs and the listed items of a written notice, in the current language."""
    from approvals.applications.models import ClockEvent, SupplementNotice, WrittenNotice

    Kind = WrittenNotice.Kind  # noqa: N806
    values = {
        **notice_context(application, event),
        "received": application.received_on.isoformat() if application.received_on else "—",
    }
    items: list[str] = []
    if kind == Kind.ACCEPTANCE:
        title = gettext("Notice of acceptance")
        paragraphs = [
            gettext(
                "Your application for %(item)s (reference %(reference)s), received on %(received)s, is complete and "
                "in the statutory form; under article 32 of the Administrative Licensing Law of the People's "
                "Republic of China it is accepted."
            )
            % values
        ]
        if event.action == "deemed_accepted":
            paragraphs.append(
                gettext("It was not answered within the time limit and counts as accepted by operation of law.")
            )
        paragraphs.append(gettext("The decision is due by %(deadline)s.") % values)
    elif kind == Kind.SUPPLEMENT:
        title = gettext("Notice to supplement materials")
        notice = SupplementNotice.objects.filter(application=application).order_by("-id").first()
        items = [str(item.get("name", "")) for item in (notice.items if notice else [])]
        paragraphs = [
            gettext(
                "Your application for %(item)s (reference %(reference)s) needs the following, listed here all at "
                "once under article 32 of the Administrative Licensing Law:"
            )
            % values
        ]
        if event.comment:
            items.append(event.comment)
    elif kind == Kind.NOT_ACCEPTED:
        title = gettext("Decision not to accept")
        paragraphs = [
            gettext(
                "Your application for %(item)s (reference %(reference)s) is not accepted, for these reasons: %(comment)s"
            )
            % values,
            str(_REMEDY),
        ]
    elif kind == Kind.APPROVAL:
        title = gettext("Decision to grant the licence")
        paragraphs = [
            gettext(
                "Your application for %(item)s (reference %(reference)s) meets the statutory conditions; under "
                "article 38 of the Administrative Licensing Law the licence is granted."
            )
            % values
        ]
    elif kind == Kind.REFUSAL:
        title = gettext("Decision not to grant the licence")
        paragraphs = [
            gettext(
                "Your application for %(item)s (reference %(reference)s) does not meet the statutory conditions; "
                "under article 38 of the Administrative Licensing Law the licence is not granted, for these reasons: "
                "%(comment)s"
            )
            % values,
            str(_REMEDY),
        ]
    elif kind == Kind.EXTENSION:
        title = gettext("Notice of extension")
        paragraphs = [
            gettext(
                "Under article 42 of the Administrative Licensing Law the time limit for deciding your application "
                "%(reference)s is extended by %(days)s working days, for these reasons: %(comment)s The decision is "
                "now due by %(deadline)s."
            )
            % values
        ]
    elif kind == Kind.SUSPENSION:
        title = gettext("Notice of an excluded period")
        reason = (
            ClockEvent.Reason(event.data.get("reason")).label
            if event.data.get("reason") in ClockEvent.Reason.values
            else ""
        )
        paragraphs = [
            gettext(
                "Under article 45 of the Administrative Licensing Law, the time needed for %(reason)s is not counted in "
                "the time limit of your application %(reference)s. %(comment)s"
            )
            % {**values, "reason": reason}
        ]
        if event.data.get("expected_days"):
            paragraphs.append(
                gettext(
                    "It is expected to take %(days)s working days; you will be told when the time limit runs again."
                )
                % {"days": event.data["expected_days"]}
            )
    elif kind == Kind.RECTIFICATION:
        title = gettext("Order to rectify")
        paragraphs = [
            gettext(
                "The inspection concerning %(reference)s found the following; rectify it by %(deadline)s: %(comment)s"
            )
            % values
        ]
    else:
        title = gettext("Decision to revoke")
        paragraphs = [
            gettext("The licence granted on your application %(reference)s is revoked, for these reasons: %(comment)s")
            % values,
            str(_REMEDY),
        ]
    return title, paragraphs, items


def written_notice_issue(application: Application, event: ApplicationEvent) -> WrittenNotice | None:
    """The written notice of ``event`` (if its step has one): numbered without gaps (in this
    transaction), rendered from the stored records in the bureau's language, stored with its
    SHA-256. Written documents are in the bureau's language whatever the applicant's."""
    from approvals.applications.models import WrittenNotice
    from approvals.applications.services import reference_next

    kind = _written_kind(event)
    if kind is None:
        return None
    existing = WrittenNotice.objects.filter(event=event).first()
    if existing is not None:
        return existing
    now = timezone.now()
    number = reference_next(prefix=f"WS{timezone.localdate(now).year}")
    verify_url = settings.NOTICE_SITE_URL + reverse("notice_verify", args=[number])
    with translation.override(settings.LANGUAGE_CODE):
        title, paragraphs, items = _document_texts(kind, application, event)
        document = NoticeDocument(
            bureau=settings.NOTICE_BUREAU_NAME,
            title=title,
            number=gettext("No. %(number)s") % {"number": number},
            addressee=gettext("%(name)s:") % {"name": application.enterprise.name},
            paragraphs=paragraphs,
            items=items,
            issued_on=timezone.localdate(now),
            verify_url=verify_url,
            verify_text=gettext("Scan the QR code or open %(url)s to verify this document.") % {"url": verify_url},
        )
    content = notice_pdf(document)
    notice = WrittenNotice(
        application=application,
        event=event,
        kind=kind,
        number=number,
        issued_at=now,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
    notice.file.save(f"{number}.pdf", ContentFile(content), save=False)
    notice.save()
    return notice
