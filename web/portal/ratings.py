"""好差评 on the portal's case page: the rating form once the case has ended, the rating given,
the progress of the 差评 loop a bad rating opened, and the form of the one re-rating after the
department's reply. Scoped like every case page: another enterprise's case is 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals.models import Application
from approvals.ratings import selectors
from approvals.ratings.models import COMMENT_MAX_LENGTH, Level
from core.exceptions import DomainError
from core.forms import form_error
from web.portal.applications import _detail_context, _own_application
from workflows.actions import ratings as actions

# Best first, as the scale is shown to the applicant.
_LEVEL_CHOICES = sorted(Level.choices, key=lambda choice: -choice[0])


def _level_field(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=_LEVEL_CHOICES, coerce=int, widget=forms.RadioSelect)


class RatingForm(forms.Form):
    level = _level_field(_("Overall, how satisfied are you with the handling of this case?"))
    efficiency = _level_field(_("Efficiency of the handling"))
    guide_accuracy = _level_field(_("Accuracy of the service guide"))
    convenience = _level_field(_("Convenience"))
    usability = _level_field(_("Usability of the online platform"))
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A rating of dissatisfied or very dissatisfied is followed up by the department."),
    )


def rating_context(application: Application, *, form: RatingForm | None = None) -> dict[str, Any]:
    """The rating panel of the case page, with the form when the case may be rated (again)."""
    panel = selectors.rating_panel(application=application)
    if form is None and (panel["may_rate"] or panel["may_rerate"]):
        form = RatingForm()
    panel["rating_form"] = form if (panel["may_rate"] or panel["may_rerate"]) else None
    return panel


@login_required
@require_POST
def application_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """Rate the case, or rate it again after the reply; a refusal shows the page again with the
    form's errors (400) and writes nothing."""
    application = _own_application(request, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            actions.rating_give_and_start(
                actor=request.user,  # type: ignore[arg-type]
                application=application,
                level=form.cleaned_data["level"],
                efficiency=form.cleaned_data["efficiency"],
                guide_accuracy=form.cleaned_data["guide_accuracy"],
                convenience=form.cleaned_data["convenience"],
                usability=form.cleaned_data["usability"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, gettext("Thank you for your rating."))
            return HttpResponseRedirect(reverse("portal:application", args=[pk]) + "#rating")
    context = _detail_context(application)
    panel = selectors.rating_panel(application=application)
    context.update({**panel, "rating_form": form})
    return render(request, "portal/application_detail.html", context, status=400)
