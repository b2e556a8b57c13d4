"""Integrity alerts (廉政监管) for supervisors and auditors: the queue (filter by rule, department
and status; open first, newest first; paged), an alert with its evidence, and the supervisor's
disposition (dismiss or refer, with reasons).

Supervisors and auditors read (every auditor read is recorded); only a supervisor disposes; the
person an alert concerns never sees it (404), and everybody else gets 404 too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from approvals import permissions
from approvals.models import IntegrityAlert
from approvals.supervision import integrity_selectors as selectors
from approvals.supervision import integrity_services as services
from core.audit_reads import audit_read_mark
from core.exceptions import DomainError
from core.forms import form_error

PAGE_SIZE = 25
OBJECT_TYPE = "approvals.integrityalert"
Status = IntegrityAlert.Status


class AlertFilterForm(forms.Form):
    rule = forms.ChoiceField(label=gettext_lazy("Rule"), required=False)
    department = forms.TypedChoiceField(label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *Status.choices],
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Any rule")), *selectors.rule_choices()]
        self.fields["department"].choices = [("", _("Any department"))] + [(d.pk, d.name) for d in departments]


class DispositionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Disposition"),
        choices=[
            (Status.DISMISSED, gettext_lazy("Dismiss: no misconduct")),
            (Status.REFERRED, gettext_lazy("Refer to discipline inspection (纪检监察)")),
        ],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=gettext_lazy("Reasons"),
        max_length=services.REASONS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Recorded with your name; a disposition cannot be changed later."),
    )


def _require_reader(request: HttpRequest) -> None:
    if not permissions.user_may_read_integrity_alerts(user=request.user):  # type: ignore[arg-type]
        raise Http404


def _alert_or_404(request: HttpRequest, pk: int) -> IntegrityAlert:
    alert = selectors.alert_get_for(user=request.user, pk=pk)
    if alert is None:
        raise Http404
    return alert


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    departments = list(selectors.alert_departments(user=request.user))
    form = AlertFilterForm(request.GET or None, departments=departments)
    filters: dict[str, Any] = {}
    if form.is_bound and not form.is_valid():
        # A filter value that is not a choice: the queue unfiltered, the form says why.
        alerts = selectors.alert_queue(user=request.user)
    else:
        filters = {key: value for key, value in (form.cleaned_data if form.is_bound else {}).items() if value}
        alerts = selectors.alert_queue(
            user=request.user,
            rule=filters.get("rule", ""),
            department_id=filters.get("department"),
            status=filters.get("status", ""),
        )
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(alert, selectors.rule_title(alert.rule)) for alert in page]
    audit_read_mark(request, object_type=OBJECT_TYPE, object_id="*", data={**filters, "page": page.number})
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "counts": selectors.alert_counts(user=request.user),
        "status_open": Status.OPEN,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "workbench/integrity/list.html", context, status=status)


def _render_alert(
    request: HttpRequest, alert: IntegrityAlert, form: DispositionForm | None, *, status: int = 200
) -> HttpResponse:
    may_dispose = permissions.user_may_dispose_integrity_alert(user=request.user, alert=alert)  # type: ignore[arg-type]
    if may_dispose and form is None:
        form = DispositionForm()
    audit_read_mark(request, object_type=OBJECT_TYPE, object_id=str(alert.pk))
    context = {
        "view": selectors.alert_view(alert),
        "alert": alert,
        "form": form if may_dispose else None,
        "status_open": Status.OPEN,
    }
    return render(request, "workbench/integrity/alert.html", context, status=status)


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    return _render_alert(request, _alert_or_404(request, pk), None)


@login_required
@require_POST
def alert_dispose(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    alert = _alert_or_404(request, pk)
    if not permissions.user_is_supervisor(user=request.user):  # type: ignore[arg-type]
        raise Http404  # an auditor reads, never disposes
    form = DispositionForm(request.POST)
    if not form.is_valid():
        return _render_alert(request, alert, form, status=400)
    try:
        services.integrity_alert_dispose(
            actor=request.user,  # type: ignore[arg-type]
            alert=alert,
            outcome=form.cleaned_data["outcome"],
            reasons=form.cleaned_data["reasons"],
        )
    except DomainError as error:
        if error.code == "alert_already_disposed":
            messages.error(request, str(error.message))
            return redirect("integrity:alert", pk=alert.pk)
        form_error(form, error, {"reasons_required": "reasons", "reasons_too_long": "reasons"})
        return _render_alert(request, alert, form, status=400)
    messages.success(request, _("Disposition recorded."))
    return redirect("integrity:alert", pk=alert.pk)
