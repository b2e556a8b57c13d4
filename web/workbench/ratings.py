"""The department's 差评 loops: the list (open first, by the deadline the open step is held to,
with its warning band; filtered by status, department and a case's reference or item; paged) and
one loop's page, where its handler takes it up and records the callback, the verification, the
rectification and the reply. Each POST is one action (service + ``BadRatingFlow`` step, one
transaction); the service re-checks the actor. Staff of other departments get 404; the supervisor
and the auditor read (their reads are recorded)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from approvals import permissions
from approvals.models import RatingLoop
from approvals.ratings import selectors, services
from approvals.ratings.models import TEXT_MAX_LENGTH
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from core.forms import form_error
from core.models import User
from workflows.actions import ratings as actions

PAGE_SIZE = 25
Status = RatingLoop.Status


def _text(label: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))


class CallbackForm(forms.Form):
    contacted_at = forms.DateTimeField(
        label=_("When the applicant was contacted"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    channel = forms.ChoiceField(label=_("How"), choices=RatingLoop.Channel.choices)
    notes = _text(_("What was said"))


class VerifyForm(forms.Form):
    confirmed = forms.TypedChoiceField(
        label=_("Is the problem the applicant raised confirmed?"),
        choices=[("yes", _("Yes, confirmed")), ("no", _("No, not confirmed"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    findings = _text(_("Findings"))


class RectifyForm(forms.Form):
    nothing_to_rectify = forms.BooleanField(
        label=_("Nothing to rectify (only for a problem that was not confirmed)"), required=False
    )
    rectification = _text(_("What was changed, or why nothing needs to change"))


class ReplyForm(forms.Form):
    reply = _text(_("Reply to the applicant"))
    reply.help_text = _("Sent to the people acting for the enterprise, who may then rate the case once more.")


STEP_FORMS: dict[str, type[forms.Form]] = {
    Status.CALLBACK: CallbackForm,
    Status.VERIFY: VerifyForm,
    Status.RECTIFY: RectifyForm,
    Status.REPLY: ReplyForm,
}


def _visible_departments(request: HttpRequest) -> set[int] | None:
    user = request.user
    if not (user.is_authenticated and user.is_bureau_staff):
        raise Http404
    visible = selectors.rating_loop_department_ids_visible(user=user)
    if visible is not None and not visible:
        raise Http404
    return visible


@login_required
def loop_list(request: HttpRequest) -> HttpResponse:
    _visible_departments(request)
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *Status.values):
        status = "open"
    department_raw = request.GET.get("department", "")
    department_id = int(department_raw) if department_raw.isdigit() and len(department_raw) < 10 else None
    query = request.GET.get("q", "").strip()[:100]
    loops = selectors.rating_loops_for(
        user=request.user,  # type: ignore[arg-type]
        status="" if status == "all" else status,
        department_id=department_id,
        query=query,
    )
    page = Paginator(loops, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.rating_loops_annotate_band(list(page))
    audit_read_mark(request, object_type="approvals.ratingloop", object_id="*")
    context = {
        "page": page,
        "status": status,
        "statuses": Status.choices,
        "department_id": department_id,
        "departments": selectors.rating_loop_departments_of(user=request.user),  # type: ignore[arg-type]
        "q": query,
    }
    return render(request, "workbench/ratings/list.html", context)


def _loop_or_404(request: HttpRequest, pk: int) -> RatingLoop:
    visible = _visible_departments(request)
    loop = selectors.rating_loop_get(pk=pk)
    if loop is None or (visible is not None and loop.department_id not in visible):
        raise Http404
    return loop


def _perform(action: str, form: forms.Form, loop: RatingLoop, actor: User) -> None:
    if action == "claim":
        services.rating_loop_claim(actor=actor, loop=loop)
    elif action == "release":
        services.rating_loop_release(actor=actor, loop=loop)
    elif action == Status.CALLBACK:
        data = form.cleaned_data
        actions.rating_loop_call_back_and_route(
            actor=actor, loop=loop, contacted_at=data["contacted_at"], channel=data["channel"], notes=data["notes"]
        )
    elif action == Status.VERIFY:
        data = form.cleaned_data
        actions.rating_loop_verify_and_route(
            actor=actor, loop=loop, confirmed=data["confirmed"], findings=data["findings"]
        )
    elif action == Status.RECTIFY:
        data = form.cleaned_data
        actions.rating_loop_rectify_and_route(
            actor=actor,
            loop=loop,
            rectification=data["rectification"],
            nothing_to_rectify=data["nothing_to_rectify"],
        )
    else:
        actions.rating_loop_reply_and_route(actor=actor, loop=loop, reply=form.cleaned_data["reply"])


@login_required
@require_http_methods(["GET", "POST"])
def loop_page(request: HttpRequest, pk: int) -> HttpResponse:
    loop = _loop_or_404(request, pk)
    user: User = request.user  # type: ignore[assignment]
    may_work = permissions.user_may_work_rating_loop(user=user, department=loop.department)
    step_form_class = STEP_FORMS.get(loop.status)
    form: forms.Form | None = None
    if may_work and step_form_class is not None and loop.handler_id == user.pk:
        initial = (
            {"contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")} if loop.status == Status.CALLBACK else {}
        )
        form = step_form_class(initial=initial)
    status_code = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ("claim", "release", loop.status) or step_form_class is None:
            # a step that is not the loop's current one: the page moved on under the user
            messages.error(request, gettext("This follow-up has moved on. Reload the page."))
            return HttpResponseRedirect(reverse("workbench:rating_loop", args=[loop.pk]), status=303)
        posted = step_form_class(request.POST) if action == loop.status else forms.Form(request.POST)
        if posted.is_valid():
            try:
                _perform(action, posted, loop, user)
            except DomainError as exc:
                form_error(posted, exc)
            else:
                messages.success(request, gettext("Recorded."))
                return HttpResponseRedirect(reverse("workbench:rating_loop", args=[loop.pk]), status=303)
        if action == loop.status:
            form = posted
        else:
            for error in posted.non_field_errors():
                messages.error(request, str(error))
        status_code = 400
    audit_read_mark(request, object_type="approvals.ratingloop", object_id=str(loop.pk))
    selectors.rating_loops_annotate_band([loop])
    context = {
        "loop": loop,
        "rating": loop.rating,
        "rerating": getattr(loop.rating, "rerating", None),
        "application": loop.application,
        "rated_by": loop.rating.rated_by,
        "may_work": may_work,
        "form": form,
        "step_label": Status(loop.status).label,
    }
    return render(request, "workbench/ratings/loop.html", context, status=status_code)
