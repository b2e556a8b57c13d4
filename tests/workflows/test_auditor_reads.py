"""Every read by an auditor is recorded, wherever it happens, exactly once
(``web.audit_reads.AuditorReadMiddleware``).

The walk goes over every URL pattern of the site (``tests.page_walk``: recursively from the root
resolver, viewflow's staff frontend and the admin included), with kwargs filled from the seeded
demo's objects, up to ``URLS_PER_ROUTE`` URLs per route, and GETs each one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import resolve, reverse

from approvals.models import Campaign
from core.audit_reads import audit_read_mark
from core.models import AuditEvent, User
from tests import factories, page_walk
from web.audit_reads import AuditorReadMiddleware

pytestmark = pytest.mark.django_db

URLS_PER_ROUTE = 2
# The walk must not pass by visiting nothing: the demo gives the auditor about a hundred pages.
MIN_AUDITOR_PAGES = 80
MIN_STAFF_PAGES = 40
MIN_NON_AUDITOR_PAGES = 60
# Pages the auditor must reach (2xx) in the walk.
REQUIRED_AUDITOR_ROUTES = {
    "workbench:application",
    "material_download",
    "audit:home",
    "audit:enterprise",
    "audit:events",
    "credit_audit:ledger",
    "credit_audit:enterprise",
    "credit_audit:verify",
    "credit_audit:export",
    "audit_eligibility:list",
    "audit_eligibility:decision",
    "audit_campaigns:list",
    "audit_campaigns:export",
    "audit_campaigns:verify",
    "workbench:supervision",
    "supervision:task",
}


def _campaign_pk(kwargs: dict[str, str]) -> str:
    return str(Campaign.objects.get(code=kwargs["code"]).pk)


Expected = Callable[[dict[str, str]], tuple[str, str]]

# Views that declare what they read (``audit_read_mark``); every other page is recorded as the
# object its URL names.
MARKED: dict[str, Expected] = {
    "audit:home": lambda kw: ("credit.enterprise", "*"),
    "audit:enterprise": lambda kw: ("credit.enterprise", kw["pk"]),
    "audit:events": lambda kw: ("core.auditevent", "*"),
    "workbench:supervision": lambda kw: ("approvals.supervision", "*"),
    "supervision:task": lambda kw: ("approvals.inspectiontask", kw["pk"]),
    "credit_audit:ledger": lambda kw: ("credit.ledgerentry", "*"),
    "credit_audit:enterprise": lambda kw: ("credit.enterprise.credit", kw["pk"]),
    "credit_audit:verify": lambda kw: ("credit.ledger", "verify-page"),
    "credit_audit:export": lambda kw: ("credit.ledgerentry", "export"),
    "audit_eligibility:list": lambda kw: ("credit.eligibilitydecision", "*"),
    "audit_eligibility:decision": lambda kw: ("credit.eligibilitydecision", kw["pk"]),
    "audit_campaigns:list": lambda kw: ("approvals.campaign", "*"),
    "audit_campaigns:export": lambda kw: ("approvals.campaign", _campaign_pk(kw)),
    "audit_campaigns:verify": lambda kw: ("approvals.campaign", _campaign_pk(kw)),
    "workbench:application": lambda kw: ("approvals.application", kw["pk"]),
    "material_download": lambda kw: ("approvals.applicationmaterial", kw["pk"]),
    "inspection_attachment": lambda kw: ("approvals.inspectionattachment", kw["pk"]),
    "letter_download": lambda kw: ("credit.membership", kw["pk"]),
    "notice_download": lambda kw: ("approvals.writtennotice", kw["pk"]),
    "integrity:list": lambda kw: ("approvals.integrityalert", "*"),
    "workbench:cards": lambda kw: ("approvals.supervisioncard", "*"),
    "workbench:dashboard": lambda kw: ("approvals.efficiency", "*"),
    "workbench:dashboard_export": lambda kw: ("approvals.efficiency", "export"),
    "workbench:card": lambda kw: ("approvals.supervisioncard", kw["pk"]),
    "card_notice_download": lambda kw: ("approvals.supervisioncard", kw["pk"]),
    "integrity:alert": lambda kw: ("approvals.integrityalert", kw["pk"]),
    "workbench:rating_loops": lambda kw: ("approvals.ratingloop", "*"),
    "workbench:rating_loop": lambda kw: ("approvals.ratingloop", kw["pk"]),
}


def _names_object(kwarg: str) -> bool:
    return kwarg in {"pk", "id", "object_id", "code"} or kwarg.endswith(("_pk", "_id"))


def _expected(page: page_walk.PageUrl) -> tuple[str, str]:
    captured = {name: str(value) for name, value in resolve(page.url).captured_kwargs.items()}
    if page.route.name in MARKED:
        return MARKED[page.route.name](captured)
    # The object the URL names: the last id in it (a task rather than its process), else a list.
    ids = [value for name, value in captured.items() if _names_object(name)]
    return page.route.name, ids[-1] if ids else "*"


def _seed_and_plan() -> list[page_walk.PageUrl]:
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    plan = page_walk.page_urls()
    assert not plan.misbuilt, plan.misbuilt
    assert len(plan.routes) > 400  # the walk really starts from the root resolver
    pages: list[page_walk.PageUrl] = []
    taken: Counter[str] = Counter()
    for page in plan.urls:
        if taken[page.route.key] < URLS_PER_ROUTE:
            taken[page.route.key] += 1
            pages.append(page)
    return pages


def _reads() -> Any:
    return AuditEvent.objects.filter(action="auditor.read")


def _walk(client: Client, pages: list[page_walk.PageUrl]) -> list[tuple[page_walk.PageUrl, int, list[AuditEvent]]]:
    """GET every page; for each, the status and the auditor.read events it wrote."""
    results = []
    last = _reads().order_by("-pk").values_list("pk", flat=True).first() or 0
    with page_walk.quiet_request_logs():
        for page in pages:
            response = client.get(page.url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)  # type: ignore[attr-defined]
            written = list(_reads().filter(pk__gt=last).order_by("pk"))
            if written:
                last = written[-1].pk
            results.append((page, response.status_code, written))
    return results


def test_every_successful_get_by_the_auditor_writes_exactly_one_read_of_its_object(client):
    # given the demo and every route of the site
    pages = _seed_and_plan()
    auditor = User.objects.get(username="auditor1")
    client.force_login(auditor)
    before = _reads().count()

    # when the auditor GETs every page
    results = _walk(client, pages)

    # then each 2xx wrote exactly one auditor.read by the auditor, of the page's object; others none
    problems = []
    ok_routes: Counter[str] = Counter()
    for page, status, written in results:
        if not 200 <= status < 300:
            if written:
                problems.append(f"{page.url} answered {status} and wrote {len(written)} read(s)")
            continue
        ok_routes[page.route.name] += 1
        if len(written) != 1:
            problems.append(f"{page.url} answered {status} and wrote {len(written)} reads")
            continue
        event = written[0]
        expected = _expected(page)
        if (event.actor_id, event.object_type, event.object_id) != (auditor.pk, *expected):
            problems.append(
                f"{page.url}: {event.object_type}#{event.object_id} by {event.actor_id}, expected {expected}"
            )
        elif page.route.name not in MARKED and event.data["path"] != page.url:
            problems.append(f"{page.url}: data names path {event.data['path']!r}")
    assert not problems, "\n".join(problems)

    # and the walk really went through the auditor's pages
    ok_pages = sum(ok_routes.values())
    staff_pages = sum(1 for page, status, _written in results if 200 <= status < 300 and page.url.startswith("/staff/"))
    assert ok_pages >= MIN_AUDITOR_PAGES, ok_routes
    assert staff_pages >= MIN_STAFF_PAGES, ok_routes
    assert not REQUIRED_AUDITOR_ROUTES - set(ok_routes), REQUIRED_AUDITOR_ROUTES - set(ok_routes)
    assert _reads().count() == before + ok_pages

    # and, spelled out: a case's page names the case, a staff task page its task (not the
    # process), a process page its process, a download its file, a list page "*"
    read_of = {page.url: written[0] for page, status, written in results if 200 <= status < 300}
    application = next(url for url in read_of if url.startswith("/workbench/applications/"))
    assert (read_of[application].object_type, read_of[application].object_id) == (
        "approvals.application",
        application.split("/")[3],
    )
    task_page = next(url for url in read_of if url.startswith("/staff/") and url.endswith("/detail/"))
    _staff, flow, process_pk, _node, task_pk, _detail = task_page.strip("/").split("/")
    assert read_of[task_page].object_id == task_pk != process_pk
    assert read_of[task_page].data["kwargs"] == {"process_pk": process_pk, "task_pk": task_pk}
    process_page = f"/staff/{flow}/{process_pk}/"
    assert (read_of[process_page].object_type, read_of[process_page].object_id) == (
        f"{flow}:process_detail",
        process_pk,
    )
    download = next(url for url in read_of if url.startswith("/files/materials/"))
    assert (read_of[download].object_type, read_of[download].object_id) == (
        "approvals.applicationmaterial",
        download.split("/")[3],
    )
    assert read_of[f"/staff/{flow}/"].object_id == "*"


def test_the_same_pages_as_a_non_auditor_write_no_read(client):
    # given the demo and a supervisor, who sees the supervision pages, inspections and files too
    pages = _seed_and_plan()
    supervisor = User.objects.get(username="supervisor1")
    client.force_login(supervisor)

    # when the supervisor GETs every page
    results = _walk(client, pages)

    # then nothing was recorded as an auditor's read
    assert [(page.url, status) for page, status, written in results if written] == []
    assert not _reads().exists()
    ok = {page.route.name for page, status, _written in results if 200 <= status < 300}
    assert sum(1 for _page, status, _w in results if 200 <= status < 300) >= MIN_NON_AUDITOR_PAGES
    # pages whose views mark a read were among them: the middleware, not the view, checks the role
    assert {"workbench:supervision", "supervision:task", "material_download", "workbench:application"} <= ok


def test_head_is_a_read_and_other_methods_only_when_the_view_marked_one(client, auditor):
    # given an auditor
    client.force_login(auditor)
    # when they HEAD a page, then it is recorded once
    assert client.head(reverse("audit:events")).status_code == 200
    assert list(_reads().values_list("object_type", "object_id")) == [("core.auditevent", "*")]
    # when they POST to a page that marks nothing, then nothing more is recorded
    assert client.post(reverse("workbench:home")).status_code == 200
    assert _reads().count() == 1
    # when they POST to a page that shows what it marks, then that is a read like a GET
    assert client.post(reverse("audit:events")).status_code == 200
    assert _reads().count() == 2


def _middleware(view: Callable[[Any], HttpResponse]) -> AuditorReadMiddleware:
    return AuditorReadMiddleware(view)


def test_a_marked_read_of_a_failed_request_is_not_recorded(auditor):
    # given a view that marks a read and then fails
    def view(request: Any) -> HttpResponse:
        audit_read_mark(request, object_type="credit.enterprise", object_id="1")
        return HttpResponse(status=400)

    request = RequestFactory().get("/anything/")
    request.user = auditor
    # when it runs, then nothing is recorded
    assert _middleware(view)(request).status_code == 400
    assert not _reads().exists()


def test_a_marked_post_is_recorded_with_its_mark(auditor):
    # given a POST view that shows something and marks it
    def view(request: Any) -> HttpResponse:
        audit_read_mark(request, object_type="credit.enterprise", object_id="*", data={"first": True})
        audit_read_mark(request, object_type="credit.enterprise", object_id="7", data={"replay": True})
        return HttpResponse("ok")

    request = RequestFactory().post("/anything/")
    request.user = auditor
    # when it runs, then the last mark is recorded once
    _middleware(view)(request)
    assert list(_reads().values_list("actor_id", "object_type", "object_id", "data")) == [
        (auditor.pk, "credit.enterprise", "7", {"replay": True})
    ]


def test_a_request_without_a_resolved_url_is_still_recorded(auditor):
    # given an answer that never went through URL resolution (resolver_match is None)
    request = RequestFactory().get("/somewhere/", {"q": "x"})
    request.user = auditor
    assert request.resolver_match is None
    # when it succeeds, then it is recorded as an unresolved read of its path
    _middleware(lambda request: HttpResponse("ok"))(request)
    read = _reads().get()
    assert (read.object_type, read.object_id, read.data) == ("unresolved", "*", {"path": "/somewhere/", "query": "q=x"})


def test_anonymous_and_enterprise_users_are_never_recorded(owner):
    for user in (owner, factories.staff_with_role("supervisor")):
        request = RequestFactory().get("/somewhere/")
        request.user = user
        _middleware(lambda request: HttpResponse("ok"))(request)
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    _middleware(lambda request: HttpResponse("ok"))(request)
    assert not _reads().exists()
