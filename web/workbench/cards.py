"""Supervision cards on screen: the queue (the supervisor's: every card; a department's: its own),
the card page with its trail, notice and the actions of whoever may act now."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals import permissions
from approvals.models import Department, SupervisionCard
from approvals.supervision import card_services
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from core.models import User
from workflows.actions import supervision_cards as actions

PAGE_SIZE = 50
Card = SupervisionCard


class CardFilter(forms.Form):
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", _("All levels")), *Card.Level.choices])
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("open", _("Open")), ("closed", _("Settled")), ("all", _("All"))],
    )
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.filter(is_active=True)
    )
    subject_type = forms.ChoiceField(
        label=_("Concerning"), required=False, choices=[("", _("Everything")), *Card.Subject.choices]
    )
    item = forms.CharField(label=_("Item code"), required=False, max_length=40)
    q = forms.CharField(label=_("Reference"), required=False, max_length=80)


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("The department's answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class DecideForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalateForm(forms.Form):
    comment = forms.CharField(
        label=_("Why the answer is not enough"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(forms.Form):
    accountability = forms.ChoiceField(label=_("Accountability (问责)"), choices=Card.Accountability.choices)
    reasons = forms.CharField(label=_("Reasons"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


def _may_see_cards(user: User) -> bool:
    return user.is_authenticated and user.is_bureau_staff


@login_required
def card_queue(request: HttpRequest) -> HttpResponse:
    """Sorted by urgency: open before settled, red before yellow before reminders, the answer due
    soonest first. A constant number of queries per page."""
    if not _may_see_cards(request.user):
        raise Http404
    cards = card_services.cards_visible_to(user=request.user)
    form = CardFilter(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    state = data.get("state") or "open"
    if state == "open":
        cards = cards.filter(status__in=Card.OPEN_STATUSES)
    elif state == "closed":
        cards = cards.exclude(status__in=Card.OPEN_STATUSES)
    if data.get("level"):
        cards = cards.filter(level=data["level"])
    if data.get("department"):
        cards = cards.filter(department=data["department"])
    if data.get("subject_type"):
        cards = cards.filter(subject_type=data["subject_type"])
    if data.get("item"):
        cards = cards.filter(application__item_version__item__code__iexact=data["item"].strip())
    if data.get("q"):
        cards = cards.filter(subject_label__icontains=data["q"].strip())
    if state == "open":
        cards = cards.order_by("severity", "reply_due_on", "-raised_on", "pk")
    else:
        cards = cards.annotate(
            settled=Case(
                When(status__in=Card.OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        ).order_by("settled", "severity", "reply_due_on", "-raised_on", "pk")
    page = Paginator(cards.select_related("department", "application", "handler"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if permissions.user_is_auditor(user=request.user):
        audit_read_mark(request, object_type="approvals.supervisioncard", object_id="*")
    counts = dict(
        card_services.cards_visible_to(user=request.user)
        .filter(status__in=Card.OPEN_STATUSES)
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    return render(
        request,
        "workbench/cards/queue.html",
        {
            "page": page,
            "form": form,
            "counts": counts,
            "is_supervisor": permissions.user_is_supervisor(user=request.user),
        },
    )


def _card_or_404(user: User, pk: int) -> SupervisionCard:
    card = (
        card_services.cards_visible_to(user=user)
        .select_related("department", "application__item_version", "handler", "yellow", "closed_by", "escalated_by")
        .filter(pk=pk)
        .first()
    )
    if card is None:
        raise Http404
    return card


@login_required
def card_page(request: HttpRequest, pk: int) -> HttpResponse:
    if not _may_see_cards(request.user):
        raise Http404
    card = _card_or_404(request.user, pk)
    if permissions.user_is_auditor(user=request.user):
        audit_read_mark(request, object_type="approvals.supervisioncard", object_id=str(card.pk))
    answers = card_services.user_answers_for(user=request.user, card=card)
    supervises = card_services.user_supervises(user=request.user, card=card)
    Status = Card.Status  # noqa: N806
    context = {
        "card": card,
        "events": card.events.select_related("actor").order_by("at", "id"),
        "red_cards": card.red_cards.order_by("pk"),
        "may_answer": answers and card.status == Status.AWAITING_ANSWER,
        "may_rectify": answers and card.status == Status.AWAITING_RECTIFICATION,
        "may_accept": supervises and card.status == Status.ANSWERED,
        "may_escalate": supervises and card.status in (Status.AWAITING_ANSWER, Status.ANSWERED),
        "may_close": supervises
        and (
            (card.level == Card.Level.YELLOW and card.status in (Status.AWAITING_ANSWER, Status.ANSWERED))
            or (card.level == Card.Level.RED and card.status == Status.RECTIFIED)
        ),
        "answer_form": AnswerForm(),
        "decide_form": DecideForm(),
        "escalate_form": EscalateForm(),
        "close_form": CloseForm(),
    }
    return render(request, "workbench/cards/card.html", context)


@login_required
@require_POST
def card_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not _may_see_cards(request.user):
        raise Http404
    card = _card_or_404(request.user, pk)
    user = request.user
    assert isinstance(user, User)
    result = card
    try:
        if action in ("answer", "rectify"):
            form: forms.Form = AnswerForm(request.POST)
            data = _valid(form)
            if action == "answer":
                actions.card_answer_and_route(actor=user, card=card, answer=data["text"])
            else:
                actions.card_rectified_and_route(actor=user, card=card, report=data["text"])
        elif action == "accept":
            data = _valid(DecideForm(request.POST))
            actions.card_accept_and_route(actor=user, card=card, comment=data["comment"])
        elif action == "escalate":
            data = _valid(EscalateForm(request.POST))
            result = actions.card_escalate_and_route(actor=user, card=card, comment=data["comment"])
        elif action == "close":
            data = _valid(CloseForm(request.POST))
            actions.card_close_and_route(
                actor=user, card=card, accountability=data["accountability"], reasons=data["reasons"]
            )
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Recorded."))
    return HttpResponseRedirect(reverse("workbench:card", args=[result.pk]))


def _valid(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        raise DomainError("form_invalid", _("Check the form: %(errors)s") % {"errors": form.errors.as_text()})
    return form.cleaned_data


def any_open_cards_for(user: User) -> int:
    """The open cards addressed to ``user``'s departments and offices (for the workbench home)."""
    if permissions.user_is_supervisor(user=user) or permissions.user_is_auditor(user=user):
        return Card.objects.filter(status__in=Card.OPEN_STATUSES).count()
    return card_services.cards_visible_to(user=user).filter(status__in=Card.OPEN_STATUSES).count()
