"""Every GET page of the site, with its URL kwargs filled from the seeded demo's own objects.

The helper of ``tests/test_every_page.py``:

- ``site_routes()`` walks the URL resolver recursively from the root (our pages, viewflow's staff
  frontend under ``/staff/``, the admin) and names each route the way ``ResolverMatch.route``
  spells it, so a route's key is stable and a built URL can be checked to resolve back to it;
- ``page_urls()`` turns each route into the concrete URLs of the demo's objects: one filler per URL
  name (``FILLERS``), plus the generic families of viewflow's task and process URLs and of the
  admin's object pages. A route whose kwargs no filler can fill comes back in ``unfilled``; the test
  requires that set to equal its list of skipped routes, so a new page without a filler fails;
- ``get_all()`` GETs a list of URLs with one client and keeps, for every answer of 500 or more, the
  exception and the last frames of its traceback.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

# The admin's object pages of a model: every seeded object's change page up to this many per model
# (spread over the table; the audit trail and the ledger hold hundreds of rows of one template),
# and the history, delete-confirmation and bare-id redirect pages of the model's first object.
ADMIN_CHANGE_PAGES_PER_MODEL = 5
# A URL the admin's catch-all view answers (it 404s or sends to the admin login).
ADMIN_CATCH_ALL_PATH = "no-such-page/"


@dataclass(frozen=True)
class Route:
    key: str  # as ResolverMatch.route spells it, e.g. "portal/applications/<int:pk>/"
    name: str  # the namespaced URL name, e.g. "portal:application" ("" when unnamed)
    kwargs: frozenset[str]

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} /{self.key}"


@dataclass(frozen=True)
class PageUrl:
    route: Route
    url: str
    case: int | None  # pk of the Application the page is about, when it is about one
    enterprise: int | None  # pk of the Enterprise the page is about (a case's enterprise included)


@dataclass(frozen=True)
class Answer:
    page: PageUrl
    status: int
    error: str  # for a status of 500 or more: the exception and the last frames, else ""


def site_routes() -> list[Route]:
    """Every URL pattern of the site, recursively from the root resolver."""
    routes: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            part = str(entry.pattern)
            # Django joins the routes of nested patterns dropping the "^" of every inner one.
            key = prefix + (part.removeprefix("^") if prefix else part)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                walk(entry, key, inner or namespace)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
                routes.append(Route(key=key, name=name, kwargs=frozenset(_kwarg_names(key))))

    walk(get_resolver(), "", "")
    return routes


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _kwarg_names(key: str) -> list[str]:
    return [m["name"] for m in _ROUTE_PARAM.finditer(key) if not m.group(0).startswith("<(")] + [
        m["name"] for m in _REGEX_GROUP.finditer(key)
    ]


def build_url(route: Route, kwargs: dict[str, Any]) -> str:
    path = _REGEX_GROUP.sub(lambda m: str(kwargs[m["name"]]), route.key)
    path = _ROUTE_PARAM.sub(lambda m: str(kwargs[m["name"]]), path)
    return "/" + path.replace("^", "").replace("$", "")


def resolves_to(url: str, route: Route) -> bool:
    return resolve(url.split("?", 1)[0]).route == route.key


# --- what fills the kwargs -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    kwargs: dict[str, Any]
    case: int | None = None  # the Application the page is about
    enterprise: int | None = None  # the Enterprise the page is about (or the case's)


Rows = list[Row]


def _spread(items: list[Any], limit: int) -> list[Any]:
    if len(items) <= limit:
        return items
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def _rows(
    model_label: str, kwarg: str = "pk", *, value: str = "pk", case: str = "", enterprise: str = ""
) -> Callable[[], Rows]:
    """Every object of the model, in pk order: ``kwarg`` ← its ``value`` field, tagged with the
    case and enterprise it belongs to (field paths, "" for none)."""

    def fill() -> Rows:
        fields = [value, case or value, enterprise or value]
        objects = apps.get_model(model_label).objects.order_by("pk").values_list(*fields)
        return [Row({kwarg: v}, case=c if case else None, enterprise=e if enterprise else None) for v, c, e in objects]

    return fill


_applications = _rows("approvals.Application", case="pk", enterprise="enterprise_id")
_enterprises = _rows("credit.Enterprise", enterprise="pk")
_campaigns = _rows("approvals.Campaign", "code", value="code")
_policy_applications = _rows("credit.PolicyApplication", enterprise="enterprise_id")
_projects = _rows("credit.ConstructionProject", enterprise="enterprise_id")
_certificates = _rows(
    "approvals.Certificate",
    "code",
    value="verification_code",
    case="application_id",
    enterprise="application__enterprise_id",
)
_tasks_of_inspection = _rows("approvals.InspectionTask", case="application_id", enterprise="enterprise_id")


def _application_type_id() -> int:
    from approvals.models import Application

    return ContentType.objects.get_for_model(Application).pk


def _case_of_process(process: Any, application_type_id: int) -> int | None:
    return process.artifact_object_id if process.artifact_content_type_id == application_type_id else None


def _tasks() -> Rows:
    from viewflow.workflow.models import Task

    application_type_id = _application_type_id()
    return [
        Row({"task_pk": task.pk}, case=_case_of_process(task.process, application_type_id))
        for task in Task.objects.select_related("process").order_by("pk")
    ]


def _supplement_notices() -> Rows:
    from approvals.models import SupplementNotice

    notices = SupplementNotice.objects.order_by("pk").values_list("pk", "application_id", "application__enterprise_id")
    return [Row({"pk": case, "notice_pk": pk}, case=case, enterprise=e) for pk, case, e in notices]


def _application_children(model_label: str, kwarg: str) -> Callable[[], Rows]:
    """Objects of an application (``pk``: the application, ``kwarg``: the object), tagged with its
    case and enterprise: the API's nested routes."""

    def fill() -> Rows:
        objects = (
            apps.get_model(model_label)
            .objects.order_by("pk")
            .values_list("pk", "application_id", "application__enterprise_id")
        )
        return [Row({"pk": case, kwarg: pk}, case=case, enterprise=e) for pk, case, e in objects]

    return fill


def _site_messages_one_per_recipient() -> Rows:
    """One message of each recipient: every enterprise user GETs the API's message routes, and one
    own and a few foreign messages each say what the route answers (all of them would be thousands
    of GETs of the same code path)."""
    from django.db.models import Min

    from core.outbox.models import SiteMessage

    firsts = SiteMessage.objects.values("recipient_id").annotate(first=Min("pk")).values_list("first", flat=True)
    return [Row({"pk": pk}) for pk in sorted(firsts)]


def _clock_actions() -> Rows:
    return [
        Row({**row.kwargs, "action": action}, row.case, row.enterprise)
        for row in _applications()
        for action in CLOCK_ACTIONS
    ]


def _campaign_recusals() -> Rows:
    from approvals.supervision.models import CampaignRecusal

    return [
        Row({"code": code, "pk": pk})
        for pk, code in CampaignRecusal.objects.order_by("pk").values_list("pk", "campaign__code")
    ]


def _manual_entry_proposals() -> Rows:
    from credit.ledger.models import ManualEntryProposal

    proposals = ManualEntryProposal.objects.order_by("pk").values_list("pk", "enterprise_id")
    return [Row({"pk": pk, "decision": d}, enterprise=e) for pk, e in proposals for d in ("approve", "reject")]


def _credit_request_starts() -> Rows:
    from credit.ledger.models import CreditRequest, LedgerEntry

    entries = LedgerEntry.objects.order_by("pk").values_list("enterprise_id", "seq")
    return [
        Row({"pk": e, "seq": seq, "kind": kind}, enterprise=e)
        for e, seq in entries
        for kind in CreditRequest.Kind.values
    ]


CLOCK_ACTIONS = ("supplement", "suspend", "resume", "extend")
CARD_ACTIONS = ("answer", "rectify", "accept", "escalate", "close")
_cards = _rows("approvals.SupervisionCard", case="application_id", enterprise="application__enterprise_id")


def _card_actions() -> Rows:
    return [
        Row({**row.kwargs, "action": action}, row.case, row.enterprise) for row in _cards() for action in CARD_ACTIONS
    ]


MEMBERSHIP_DECISIONS = ("confirm", "reject", "revoke")

# URL name → the rows of its kwargs. Generic families (viewflow's task and process URLs, the admin's
# object pages) are filled in ``_generic_rows``.
FILLERS: dict[str, Callable[[], Rows]] = {
    "policies:apply": _rows("credit.Policy", "policy_pk"),
    "policies:application": _policy_applications,
    "policies:withdraw": _policy_applications,
    "policies:project": _projects,
    "policies:project_decide": _projects,
    "portal:application_file": _rows("approvals.ApprovalItemVersion", "version_pk"),
    "portal:application": _applications,
    "portal:application_submitted": _applications,
    "portal:supplement_answer": _supplement_notices,
    "portal:application_withdraw": _applications,
    "portal:commitment": _applications,
    "portal:rectification_report": _rows(
        "approvals.RectificationOrder", case="task__application_id", enterprise="task__enterprise_id"
    ),
    "credit:enterprise": _enterprises,
    "credit:credit": _enterprises,
    "campaigns:detail": _campaigns,
    "campaigns:ratios": _campaigns,
    "campaigns:recusal_add": _campaigns,
    "campaigns:recusal_remove": _campaign_recusals,
    "campaigns:freeze": _campaigns,
    "campaigns:draw": _campaigns,
    "workbench:task": _tasks,
    "workbench:task_claim": _tasks,
    "workbench:task_release": _tasks,
    "workbench:task_reassign": _tasks,
    "workbench:application": _applications,
    "api_v1:staff_task": _tasks,
    "api_v1:staff_task_claim": _tasks,
    "api_v1:staff_task_release": _tasks,
    "api_v1:staff_task_accept": _tasks,
    "api_v1:staff_task_review": _tasks,
    "api_v1:staff_task_decide": _tasks,
    "oauth2_provider:detail": _rows("oauth2_provider.Application"),
    "api_v1:system_grade": _rows("credit.Enterprise", "uscc", value="uscc", enterprise="pk"),
    "workbench:clock_action": _clock_actions,
    "supervision:task": _tasks_of_inspection,
    "service_guide": _rows("approvals.ApprovalItem", "code", value="code"),
    "certificate_verify_code": _certificates,
    "certificate_qr": _certificates,
    "material_download": _rows(
        "approvals.ApplicationMaterial", case="application_id", enterprise="application__enterprise_id"
    ),
    "inspection_attachment": _rows(
        "approvals.InspectionAttachment",
        case="inspection__task__application_id",
        enterprise="inspection__task__enterprise_id",
    ),
    "letter_download": _rows("credit.Membership", enterprise="enterprise_id"),
    "notice_download": _rows("approvals.WrittenNotice", case="application_id", enterprise="application__enterprise_id"),
    "notice_verify": _rows(
        "approvals.WrittenNotice",
        "number",
        value="number",
        case="application_id",
        enterprise="application__enterprise_id",
    ),
    "inbox:detail": _rows("core.SiteMessage"),
    "credit_audit:enterprise": _enterprises,
    "audit_eligibility:decision": _rows("credit.EligibilityDecision", enterprise="enterprise_id"),
    "audit_eligibility:replay": _rows("credit.EligibilityDecision", enterprise="enterprise_id"),
    "audit_campaigns:export": _campaigns,
    "audit_campaigns:verify": _campaigns,
    "audit:enterprise": _enterprises,
    "inspections_public:detail": _campaigns,
    "credit_office:proposal_decide": _manual_entry_proposals,
    "policy_office:review": _policy_applications,
    "policy_office:grant": _rows("credit.PolicyGrant", enterprise="enterprise_id"),
    "policy_office:project": _projects,
    "credit_request_start": _credit_request_starts,
    "credit_request_decide": _rows("credit.CreditRequest", enterprise="enterprise_id"),
    "integrity:alert": _rows("approvals.IntegrityAlert"),
    "integrity:dispose": _rows("approvals.IntegrityAlert"),
    "portal:application_rate": _applications,
    "portal:token_revoke": _rows("core.AccessToken"),
    "api_v1:public_item": _rows("approvals.ApprovalItem", "code", value="code"),
    "api_v1:public_certificate": _rows(
        "approvals.Certificate", "number", value="number", case="application_id", enterprise="enterprise_id"
    ),
    "api_v1:public_campaign": _campaigns,
    "api_v1:public_campaign_sample": _campaigns,
    "api_v1:enterprise_application": _applications,
    "api_v1:enterprise_application_materials": _applications,
    "api_v1:enterprise_application_submit": _applications,
    "api_v1:enterprise_application_withdraw": _applications,
    "api_v1:enterprise_supplement_answer": _supplement_notices,
    "api_v1:enterprise_material_file": _application_children("approvals.ApplicationMaterial", "material_pk"),
    "api_v1:enterprise_notices": _applications,
    "api_v1:enterprise_notice": _application_children("approvals.WrittenNotice", "notice_pk"),
    "api_v1:enterprise_notice_file": _application_children("approvals.WrittenNotice", "notice_pk"),
    "api_v1:enterprise_certificate": _rows("approvals.Certificate", case="application_id", enterprise="enterprise_id"),
    "api_v1:enterprise_credit": _enterprises,
    "api_v1:enterprise_credit_entries": _enterprises,
    "api_v1:enterprise_policy": _rows("credit.Policy", "code", value="code"),
    "api_v1:enterprise_policy_eligibility": _rows("credit.Policy", "code", value="code"),
    "api_v1:enterprise_policy_application": _policy_applications,
    "api_v1:enterprise_policy_application_withdraw": _policy_applications,
    "api_v1:enterprise_message": _site_messages_one_per_recipient,
    "api_v1:enterprise_message_read": _site_messages_one_per_recipient,
    "workbench:card": _cards,
    "workbench:card_action": _card_actions,
    "card_notice_download": _cards,
    "workbench:extension_decide": _rows(
        "approvals.ExtensionRequest", case="application_id", enterprise="application__enterprise_id"
    ),
    "workbench:rating_loop": _rows(
        "approvals.RatingLoop", case="application_id", enterprise="application__enterprise_id"
    ),
}


def _flow_namespace(flow_class: Any) -> str:
    # viewflow's own default for a flow's URL namespace (``Flow.app_name`` is reassigned once the
    # staff site's URLs are built, so it cannot be read back reliably).
    return str(flow_class.__name__).removesuffix("Flow").lower()


@dataclass
class _FlowObjects:
    """The demo's viewflow processes and tasks, grouped by the URL namespace of their flow."""

    processes: dict[str, Rows]
    tasks: dict[tuple[str, str], Rows]  # (flow namespace, node name) → rows

    @classmethod
    def load(cls) -> _FlowObjects:
        from viewflow.workflow.models import Process, Task

        application_type_id = _application_type_id()
        processes: dict[str, Rows] = defaultdict(list)
        for process in Process.objects.order_by("pk"):
            case = _case_of_process(process, application_type_id)
            processes[_flow_namespace(process.flow_class)].append(Row({"process_pk": process.pk}, case=case))
        tasks: dict[tuple[str, str], Rows] = defaultdict(list)
        for task in Task.objects.select_related("process").order_by("pk"):
            case = _case_of_process(task.process, application_type_id)
            key = (_flow_namespace(task.flow_task.flow_class), task.flow_task.name)
            tasks[key].append(Row({"process_pk": task.process_id, "task_pk": task.pk}, case=case))
        return cls(processes=dict(processes), tasks=dict(tasks))


_ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def _admin_rows(route: Route) -> Rows | None:
    if route.name == "admin:view_on_site":
        rows: Rows = []
        for model in admin.site._registry:
            first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            if first is not None:
                rows.append(Row({"content_type_id": ContentType.objects.get_for_model(model).pk, "object_id": first}))
        return rows
    if route.name == "admin:app_list":
        return [Row({"app_label": label}) for label in sorted({m._meta.app_label for m in admin.site._registry})]
    if route.kwargs == {"url"}:
        return [Row({"url": ADMIN_CATCH_ALL_PATH})]
    match = _ADMIN_MODEL_ROUTE.match(route.key)
    if match is None:
        return None
    try:
        model: type[models.Model] = apps.get_model(match["app"], match["model"])
    except LookupError:
        return None
    pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    if route.kwargs == {"object_id"}:
        chosen = _spread(pks, ADMIN_CHANGE_PAGES_PER_MODEL) if route.name.endswith("_change") else pks[:1]
        return [Row({"object_id": pk}) for pk in chosen]
    if route.kwargs == {"id"}:  # the user admin's password page
        return [Row({"id": pk}) for pk in _spread(pks, ADMIN_CHANGE_PAGES_PER_MODEL)]
    if route.kwargs == {"pk"}:  # our own object views in the admin (document, profile change)
        return [Row({"pk": pk}) for pk in pks]
    if route.kwargs == {"pk", "decision"}:
        return [Row({"pk": pk, "decision": decision}) for pk in pks for decision in MEMBERSHIP_DECISIONS]
    return None


def _generic_rows(route: Route, flows: _FlowObjects) -> Rows | None:
    if route.key.startswith("admin/"):
        return _admin_rows(route)
    parts = route.name.split(":")
    if route.key.startswith("staff/") and route.kwargs == {"process_pk", "task_pk"} and len(parts) == 3:
        return flows.tasks.get((parts[0], parts[1]), [])
    if route.key.startswith("staff/") and route.kwargs == {"process_pk"} and len(parts) == 2:
        return flows.processes.get(parts[0], [])
    return None


@dataclass
class Plan:
    routes: list[Route]
    urls: list[PageUrl]
    unfilled: dict[str, str]  # route key → why it has no URL
    misbuilt: list[str]  # URLs that do not resolve back to the route they were built for


def page_urls() -> Plan:
    """The concrete URLs of every route, from the objects now in the database."""
    from approvals.models import Application

    enterprise_of_case = dict(Application.objects.values_list("pk", "enterprise_id"))
    routes = site_routes()
    flows = _FlowObjects.load()
    urls: list[PageUrl] = []
    unfilled: dict[str, str] = {}
    misbuilt: list[str] = []
    for route in routes:
        if not route.kwargs:
            rows: Rows | None = [Row({})]
        elif route.name in FILLERS:
            rows = FILLERS[route.name]()
        else:
            rows = _generic_rows(route, flows)
        if rows is None:
            unfilled[route.key] = "no filler for its kwargs " + ", ".join(sorted(route.kwargs))
            continue
        if not rows:
            unfilled[route.key] = "the demo has no object to fill it with"
            continue
        for row in rows:
            enterprise = row.enterprise if row.enterprise is not None else enterprise_of_case.get(row.case)
            page = PageUrl(route=route, url=build_url(route, row.kwargs), case=row.case, enterprise=enterprise)
            if not resolves_to(page.url, route):
                misbuilt.append(f"{page.url} does not resolve to {route}")
            urls.append(page)
    return Plan(routes=routes, urls=urls, unfilled=unfilled, misbuilt=misbuilt)


# --- walking ---------------------------------------------------------------------------------


def describe_exception(exc_info: Any) -> str:
    """The exception, the last frame of its traceback and the last frame in our own code."""
    if not exc_info:
        return "(no exception recorded: the view returned the 5xx itself)"
    _type, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/.venv/" not in f.filename and "site-packages" not in f.filename]
    lines = [f"{type(value).__name__}: {value}"]
    if frames:
        last = frames[-1]
        lines.append(f"  last frame: {last.filename}:{last.lineno} in {last.name}: {last.line}")
    if ours and ours[-1] is not frames[-1]:
        own = ours[-1]
        lines.append(f"  last frame of ours: {own.filename}:{own.lineno} in {own.name}: {own.line}")
    return "\n".join(lines)


@contextmanager
def quiet_request_logs() -> Iterator[None]:
    """Django logs every 403/404/405 with a traceback; thousands of those cost seconds and bury the
    report. The walk keeps the exception of every 5xx itself, so these loggers can be muted."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def get_all(client: Client, pages: Iterable[PageUrl]) -> tuple[list[Answer], int]:
    """GET every page (never anything else); return the answers and how many pages were passed over.

    A route whose first page answers 405 accepts no GET at all (``require_POST``): the method is
    refused before any object is read, so its other objects are passed over for this client.
    """
    answers = []
    post_only: set[str] = set()
    passed_over = 0
    for page in pages:
        if page.route.key in post_only:
            passed_over += 1
            continue
        response = client.get(page.url)
        if response.status_code == 405:
            post_only.add(page.route.key)
        error = describe_exception(getattr(response, "exc_info", None)) if response.status_code >= 500 else ""
        answers.append(Answer(page=page, status=response.status_code, error=error))
    return answers, passed_over
