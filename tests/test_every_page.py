"""Every page of the site answers below 500 for every demo user, now, a month later and a year later.

Why: every overdue application's page once answered 500 (``templates/_days_left.html``) and no test
saw it, because no test rendered the pages of a case that had aged past its deadline: the demo's
dates are fixed when it is seeded, the calendar moves on. Here the demo is seeded once for the
module and every page is fetched with GET (never anything else) at three instants, by
``time_machine.travel``: the moment of the seed, 30 days later and 365 days later, when the demo's
cases are past their deadlines, agents' letters of authorisation have lapsed and the date lies
beyond the years the demo publishes in the working-day calendar.

What is walked (``tests/page_walk.py``): every URL pattern of the site, recursively from
``get_resolver()`` — our screens, viewflow's staff frontend under ``/staff/`` and the admin — with
its kwargs filled from the demo's real objects (every application, viewflow process and task of
each node, material, certificate, enterprise, ledger entry, inspection task, campaign, policy,
policy application, grant, project, eligibility decision, credit request …). A pattern no object
fills is listed in ``SKIPPED_ROUTES`` with its reason; ``test_every_route_is_walked_or_skipped``
fails when a new pattern cannot be filled (write its filler in ``page_walk.FILLERS``) and when a
skipped one has become fillable or is gone.

Who: every user the seed creates (staff of every role and department, auditor, supervisor, the
administrator, legal representatives, agents, the agency acting for two enterprises, the user whose
membership is pending) and the anonymous visitor, each logged in with ``force_login`` inside the
instant (a session made before the travel would have expired after it).

Sampling. The full product (35 users × 3,300 URLs × 3 instants) takes over half an hour, so:

- one *representative* of each user kind — the first user of the kind: ``admin``, ``desk1``,
  ``rev_sc``, ``dec_sc``, ``insp1``, ``credit1``, ``policy1``, ``supervisor1``, ``auditor1``,
  ``ent_zhangwei`` (legal representative), ``ent_agent_bf`` (agent), ``ent_agency`` (agent of two
  enterprises), ``ent_pending`` and the anonymous visitor — GETs every URL of every pattern of its
  audience's areas (``AUDIENCES``) that it may see: every case its departments take part in (the
  auditor and the supervisor: all), every object of the enterprises it acts for, every object
  that belongs to no case or enterprise; and the first URL of each of those patterns (the refusal
  of an object it may not see). Representatives of ``REFUSAL_KINDS`` also GET the first URL of
  every pattern outside their audience; those of ``PUBLIC_KINDS`` every public URL (the others the
  first of each public pattern);
- viewflow's per-task pages of the staff frontend show no clock and are a third of the URLs (see
  ``DEEP_FRONTEND_KINDS``): the auditor's representative GETs their detail pages for every task,
  the action forms and the other representatives one task per pattern; the frontend's cancel and
  chart pages of a process likewise (the process page itself: every case, for every representative);
- every other user GETs the pages that list its own cases and deadlines (``LANDING_PAGES``) and the
  pages of every case and enterprise it may see (``CASE_PAGES``);
- shortcuts that hide no page: a pattern whose first URL answers 405 accepts no GET
  (``require_POST`` refuses before reading anything), so its other URLs are passed over for that
  user; the admin refuses every user without ``is_staff`` in one place before reading anything, so
  they GET only ``ADMIN_FOR_EVERYONE`` and its catch-all; the administrator GETs every admin pattern
  with at most ``page_walk.ADMIN_CHANGE_PAGES_PER_MODEL`` change pages per model (spread over the
  table: the audit trail and the ledger hold hundreds of rows of one template) and the first
  object's history, delete and redirect pages.

Every route the plan fills is fetched by someone at every instant (the test checks it).

The walk cannot pass by being empty: every user must get 200 on the case pages it may see (the
enterprise user on its own applications while its membership is valid, staff on their departments'
cases), every application must be answered 200 to some staff user and to some enterprise user at
every instant, and each kind must collect at least ``MIN_200_PER_KIND`` answers of 200.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from tests import page_walk
from tests.credit.ledger_helpers import runtime_role_connections
from tests.page_walk import Answer, PageUrl

INSTANTS: dict[str, datetime.timedelta] = {
    "now": datetime.timedelta(0),
    "one month later": datetime.timedelta(days=30),
    "one year later": datetime.timedelta(days=365),
}

_NO_DEMO_ROW = "the demo has no row of this model"
SKIPPED_ROUTES: dict[str, str] = {
    "workbench/campaigns/<slug:code>/recusals/<int:pk>/remove/": "the demo campaign records no recusal",
    "files/inspections/<int:pk>/": "no demo inspection carries an attachment",
    "credit-office/proposals/<int:pk>/<str:decision>/": "the demo proposes no manual ledger entry",
    "portal/tokens/<int:pk>/revoke/": "the demo makes no personal access token (and the page takes POST only)",
    **{
        f"admin/{model}/<path:object_id>/{page}": _NO_DEMO_ROW
        for model in (
            "approvals/campaignrecusal",
            "approvals/inspectorconflict",
            # The demo subscribes no external system to webhooks (there is none to receive them).
            "core/webhooksubscription",
            "core/webhookdelivery",
            # The axes tables fill only when someone logs in; the plan is made before the walk.
            "axes/accessattempt",
            "axes/accessfailurelog",
            "axes/accesslog",
            # Linked only at a single sign-on, which the demo does not configure.
            "core/externalidentity",
        )
        for page in ("history/", "delete/", "change/", "")
    },
    **{
        f"staff/standardapproval/<int:process_pk>/{node}/<int:task_pk>/{page}": reason
        for node, reason in (
            ("deem_accepted", "no demo application was left unanswered long enough to be deemed accepted"),
            ("deem_consent", "no demo co-review department stayed silent long enough to be deemed to consent"),
        )
        for page in ("cancel/", "revive/", "undo/", "", "detail/")
    },
    **{
        f"staff/commitmentapproval/<int:process_pk>/{node}/<int:task_pk>/{page}": (
            "no demo commitment has missed its verification deadline"
        )
        for node, pages in (
            ("deadline_missed", ("cancel/", "revive/", "undo/", "", "detail/")),
            ("deadline_noted", ("revive/", "undo/", "", "detail/")),
        )
        for page in pages
    },
}

# The pages about one application or one enterprise that every user who may see them GETs, for
# every such case and enterprise: the ones that show the statutory clock or the credit record.
CASE_PAGES = frozenset(
    {
        "portal:application",
        "workbench:application",
        "credit:enterprise",
        "credit:credit",
    }
)

# The pages listing a user's own cases, tasks and deadlines, which every user GETs (with CASE_PAGES).
LANDING_PAGES = frozenset(
    {
        "home",
        "portal:home",
        "portal:applications",
        "portal:inspections",
        "policies:applications",
        "workbench:home",
        "workbench:supervision",
        "supervision:mine",
        "audit:home",
        "credit_office:home",
        "policy_office:home",
    }
)

# viewflow's per-task pages of the staff frontend (/staff/<flow>/<process>/<node>/<task>/…: 900
# URLs, a third of the walk's time) show the task's own fields and no clock. The auditor's
# representative (it reads every case) GETs the detail pages (``index``, ``detail``) of every task;
# the action pages (cancel, undo, revive, assign, unassign, execute: viewflow's generic
# confirmation forms) are fetched for the first task the auditor's and the desk's representatives
# may see; the other representatives fetch the detail pages of the first task they may see, and of
# the first task of all (the refusal path).
DEEP_FRONTEND_KINDS = frozenset({"staff:auditor"})
FRONTEND_ACTION_KINDS = frozenset({"staff:auditor", "staff:desk"})
FRONTEND_DETAIL_PAGES = ("index", "detail")

# The admin refuses every user without is_staff in one place (AdminSite.admin_view) before it reads
# anything: the other representatives GET only these admin pages, and its catch-all view.
ADMIN_FOR_EVERYONE = frozenset({"admin:index", "admin:login"})

# Public pages (no audience in AUDIENCES) look alike for everyone but for the navigation: the
# representatives of these kinds GET every public URL, the others the first URL of each pattern.
PUBLIC_KINDS = frozenset({"anonymous", "enterprise:legal_rep", "staff:desk"})

# The representatives of these kinds also GET the first URL of every pattern outside their audience
# (the refusal paths of the visitor who is not logged in, of the enterprise user on staff pages and
# of the staff member on enterprise and other offices' pages).
REFUSAL_KINDS = frozenset({"anonymous", "enterprise:pending", "staff:credit_office"})

# Fewest answers of 200 each user of a kind collects at every instant: (its representative, every
# other user). About half of what the demo gives today, so that a broken login, an empty seed or a
# page turning 404 for its own audience fails. An enterprise user who acts for no enterprise at the
# instant (the pending one; agents, whose letters lapse within the year) collects only public pages:
# for it the floor is MIN_200_WITHOUT_ENTERPRISE.
MIN_200_PER_KIND: dict[str, tuple[int, int]] = {
    "anonymous": (15, 0),
    "staff:administrator": (100, 0),
    "staff:desk": (100, 12),
    "staff:reviewer": (50, 3),
    "staff:decider": (50, 3),
    "staff:inspector": (50, 3),
    "staff:credit_office": (10, 2),
    "staff:policy_office": (10, 2),
    "staff:supervisor": (100, 0),
    "staff:auditor": (150, 0),
    "staff:bureau_head": (20, 0),
    "enterprise:legal_rep": (100, 4),
    "enterprise:agent": (100, 4),
    "enterprise:agency": (100, 4),
    "enterprise:pending": (8, 0),
}
MIN_200_WITHOUT_ENTERPRISE = (8, 0)


# --- the demo, once per module ---------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    username: str  # "anonymous" for the visitor who is not logged in
    kind: str
    representative: bool
    user: Any = None


@dataclass
class Demo:
    seeded_at: datetime.datetime
    plan: page_walk.Plan
    visitors: list[Visitor]
    case_enterprises: dict[int, int]  # application pk → enterprise pk


def _kind_of(user: Any) -> str:
    from approvals.models import RoleAssignment
    from credit.models import Membership

    roles = sorted(RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list("role", flat=True))
    if roles:
        return "staff:" + "+".join(roles)
    confirmed = list(Membership.objects.filter(user=user, status=Membership.Status.CONFIRMED))
    if not confirmed:
        return "enterprise:pending"
    if len(confirmed) > 1:
        return "enterprise:agency"
    return f"enterprise:{confirmed[0].role}"


def _visitors() -> list[Visitor]:
    from core.models import User

    visitors = [Visitor(username="anonymous", kind="anonymous", representative=True)]
    seen: set[str] = set()
    for user in User.objects.order_by("pk"):
        kind = _kind_of(user)
        visitors.append(Visitor(username=user.username, kind=kind, representative=kind not in seen, user=user))
        seen.add(kind)
    return visitors


@pytest.fixture(scope="module")
def _runtime_role(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str | None]:
    """On PostgreSQL with ``CREDIT_TEST_RUNTIME_ROLE`` (CI), the pages are rendered with the runtime
    role's grants, as in production (see tests/credit/conftest.py)."""
    yield from runtime_role_connections(django_db_setup, django_db_blocker)


@pytest.fixture(scope="module")
def demo(_runtime_role: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``seed_demo`` once, inside a transaction the module's tests nest in (as their savepoints) and
    that is rolled back at the end: nothing is committed, so no flush of the append-only tables is
    needed, on SQLite and on PostgreSQL alike."""
    from approvals.models import Application
    from core.outbox import services as outbox_services
    from core.scheduling import job_run

    files = Path(tmp_path_factory.mktemp("every_page"))
    with override_settings(MEDIA_ROOT=files / "media", CREDIT_LEDGER_ANCHOR_FILE=files / "anchors.jsonl"):
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            # As Django's TestCase marks its class-wide transaction: the services' own atomic
            # blocks nest in it.
            atomic._from_testcase = True  # type: ignore[attr-defined]
            atomic.__enter__()
        try:
            with django_db_blocker.unblock():
                seeded_at = timezone.now()
                call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
                # Nothing commits here, so no hand-off at commit ran: deliver the notices as beat's
                # outbox sweep would (it records its run: the scheduled jobs' pages have a row).
                job_run(
                    "outbox.sweep",
                    lambda: outbox_services.outbox_sweep(now=timezone.now() + outbox_services.SWEEP_GRACE, limit=10**6),
                    min_gap=datetime.timedelta(seconds=30),
                )
                seeded = Demo(
                    seeded_at=seeded_at,
                    plan=page_walk.page_urls(),
                    visitors=_visitors(),
                    case_enterprises=dict(Application.objects.values_list("pk", "enterprise_id")),
                )
            yield seeded
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


# --- who may see what, at the instant ---------------------------------------------------------


def _is_staff(kind: str) -> bool:
    return kind.startswith("staff:")


# Whom each part of the site is for, by path (first match; anything else is public). A
# representative GETs every object of its audience's areas that it may see; outside them only the
# representatives of REFUSAL_KINDS GET anything (the first URL of each pattern). The admin is for
# users with is_staff (see ADMIN_FOR_EVERYONE).
AUDIENCES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("portal/", lambda kind: kind.startswith("enterprise:")),
    ("api/v1/enterprise/", lambda kind: kind.startswith("enterprise:")),
    ("files/", lambda kind: kind != "anonymous"),
    ("audit/", lambda kind: kind == "staff:auditor"),
    ("credit-office/", lambda kind: kind == "staff:credit_office"),
    ("policy-office/", lambda kind: kind == "staff:policy_office"),
    ("workbench/", _is_staff),
    ("staff/", _is_staff),
    ("api/v1/staff/", _is_staff),
    # the systems of other authorities: no session opens them (the refusal kinds try the first URL)
    ("api/v1/system/", lambda kind: False),
)


def _audience(page: PageUrl) -> Callable[[str], bool] | None:
    """Who the page is for; None for a public page."""
    for prefix, audience in AUDIENCES:
        if page.route.key.startswith(prefix):
            return audience
    return None


def _is_admin(page: PageUrl) -> bool:
    return page.route.key.startswith("admin/")


@dataclass
class Sight:
    """What one visitor may see at the instant: the oracle of the 200s the test insists on."""

    kind: str
    staff: bool
    enterprise_user: bool
    admin: bool
    cases: set[int] | None  # None: every case (auditor, supervisor)
    enterprises: set[int]

    @classmethod
    def of(cls, visitor: Visitor, case_enterprises: dict[int, int]) -> Sight:
        from approvals.applications import selectors
        from credit.models import Membership

        user = visitor.user
        if user is None:
            return cls(visitor.kind, staff=False, enterprise_user=False, admin=False, cases=set(), enterprises=set())
        if visitor.kind.startswith("staff:"):
            visible = selectors.application_ids_visible_to(user=user)
            cases = None if visible is None else {row["pk"] for row in visible}
            return cls(
                visitor.kind, staff=True, enterprise_user=False, admin=user.is_staff, cases=cases, enterprises=set()
            )
        # The rule of credit.models.Membership, written out here rather than read from the selector
        # under test: confirmed, and for an agent only within the letter's validity.
        today = timezone.localdate()
        enterprises = {
            m.enterprise_id
            for m in Membership.objects.filter(user=user, status=Membership.Status.CONFIRMED)
            if m.role == Membership.Role.LEGAL_REPRESENTATIVE
            or (m.valid_from is not None and m.valid_until is not None and m.valid_from <= today <= m.valid_until)
        }
        cases = {case for case, enterprise in case_enterprises.items() if enterprise in enterprises}
        return cls(visitor.kind, staff=False, enterprise_user=True, admin=False, cases=cases, enterprises=enterprises)

    def sees_case(self, case: int) -> bool:
        return self.cases is None or case in self.cases

    def may_see(self, page: PageUrl) -> bool:
        if _is_admin(page):
            return self.admin
        audience = _audience(page)
        if audience is None:
            return True
        if not audience(self.kind):
            return False
        if self.enterprise_user and page.enterprise is not None:
            return page.enterprise in self.enterprises
        if page.case is not None:
            return self.sees_case(page.case)
        return True

    def expects_200(self, page: PageUrl) -> bool:
        """The case pages this visitor must be answered 200."""
        if page.case is None:
            return False
        if page.route.name == "portal:application":
            return self.enterprise_user and self.sees_case(page.case)
        if page.route.name == "workbench:application":
            return self.staff and self.sees_case(page.case)
        return False


def _is_frontend_task_page(page: PageUrl) -> bool:
    return page.route.key.startswith("staff/") and "task_pk" in page.route.kwargs


def _is_frontend_process_page(page: PageUrl) -> bool:
    """The frontend's per-process pages but the process page itself (cancel form, chart)."""
    return (
        page.route.key.startswith("staff/")
        and page.route.kwargs == {"process_pk"}
        and not page.route.name.endswith(":process_detail")
    )


def _is_frontend_detail_page(page: PageUrl) -> bool:
    return page.route.name.rsplit(":", 1)[-1] in FRONTEND_DETAIL_PAGES


def _pages_for(visitor: Visitor, sight: Sight, plan: page_walk.Plan) -> list[PageUrl]:
    if not visitor.representative:
        return [
            p for p in plan.urls if (p.route.name in LANDING_PAGES or p.route.name in CASE_PAGES) and sight.may_see(p)
        ]
    kind = visitor.kind
    deep_frontend = kind in DEEP_FRONTEND_KINDS
    frontend_actions = kind in FRONTEND_ACTION_KINDS
    pages = []
    firsts: set[str] = set()  # routes whose first URL was considered (the refusal path)
    firsts_seen: set[str] = set()  # routes with one URL the visitor may see taken
    for page in plan.urls:
        key = page.route.key
        first = key not in firsts
        firsts.add(key)
        audience = _audience(page)
        if _is_admin(page):
            catch_all = page.route.kwargs == {"url"}
            take = sight.admin or first and (page.route.name in ADMIN_FOR_EVERYONE or catch_all)
        elif audience is None:
            take = first or kind in PUBLIC_KINDS
        elif not audience(kind):
            take = first and kind in REFUSAL_KINDS
        elif _is_frontend_task_page(page):
            detail = _is_frontend_detail_page(page)
            seen = sight.may_see(page) and (detail or frontend_actions)
            take = (seen and (deep_frontend and detail or key not in firsts_seen)) or (first and detail)
            if seen:
                firsts_seen.add(key)
        elif _is_frontend_process_page(page) and not deep_frontend:
            seen = sight.may_see(page)
            take = first or seen and key not in firsts_seen
            if seen:
                firsts_seen.add(key)
        else:
            take = first or sight.may_see(page)
        if take:
            pages.append(page)
    return pages


# --- the walk ----------------------------------------------------------------------------------


@dataclass
class Walk:
    answers: list[tuple[Visitor, Answer]] = field(default_factory=list)
    passed_over: int = 0
    problems: list[str] = field(default_factory=list)
    sights: dict[str, Sight] = field(default_factory=dict)


def _walk(demo: Demo) -> Walk:
    walk = Walk()
    for visitor in demo.visitors:
        client = Client(raise_request_exception=False)
        if visitor.user is not None:
            client.force_login(visitor.user)
        sight = Sight.of(visitor, demo.case_enterprises)
        walk.sights[visitor.username] = sight
        pages = _pages_for(visitor, sight, demo.plan)
        answers, passed_over = page_walk.get_all(client, pages)
        walk.answers.extend((visitor, answer) for answer in answers)
        walk.passed_over += passed_over
        for answer in answers:
            # A 5xx is reported with its exception by _server_errors.
            if sight.expects_200(answer.page) and answer.status != 200 and answer.status < 500:
                walk.problems.append(
                    f"{visitor.username} ({visitor.kind}) got {answer.status}, not 200, on its case page "
                    f"{answer.page.url}"
                )
    return walk


def _server_errors(instant: str, walk: Walk) -> list[str]:
    grouped: dict[tuple[str, str], list[tuple[Visitor, Answer]]] = defaultdict(list)
    for visitor, answer in walk.answers:
        if answer.status >= 500:
            grouped[(str(answer.page.route), answer.error)].append((visitor, answer))
    lines = []
    for (route, error), hits in sorted(grouped.items()):
        kinds = sorted({visitor.kind for visitor, _ in hits})
        example_visitor, example = hits[0]
        lines.append(
            f"[{instant}] {hits[0][1].status} on {route} — {len(hits)} GET(s), user kinds {', '.join(kinds)}; "
            f"e.g. {example_visitor.username} GET {example.page.url}\n    " + error.replace("\n", "\n    ")
        )
    return lines


def _thin_walk(walk: Walk, demo: Demo) -> list[str]:
    problems = []
    ok_by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    rendered: dict[str, set[int]] = {"workbench:application": set(), "portal:application": set()}
    for visitor, answer in walk.answers:
        if answer.status == 200:
            ok_by_kind[visitor.kind][visitor.username] += 1
            if answer.page.route.name in rendered and answer.page.case is not None:
                rendered[answer.page.route.name].add(answer.page.case)
    for kind in sorted({visitor.kind for visitor in demo.visitors}):
        floors = MIN_200_PER_KIND.get(kind)
        if floors is None:
            problems.append(f"user kind {kind} is new: give it floors in MIN_200_PER_KIND")
            continue
        for visitor in (v for v in demo.visitors if v.kind == kind):
            sight = walk.sights[visitor.username]
            if sight.enterprise_user and not sight.enterprises:
                floors = MIN_200_WITHOUT_ENTERPRISE
            got, floor = ok_by_kind[kind][visitor.username], floors[0 if visitor.representative else 1]
            if got < floor:
                problems.append(f"{visitor.username} ({kind}) got only {got} answers of 200 (at least {floor})")
    for name, cases in rendered.items():
        missing = sorted(set(demo.case_enterprises) - cases)
        if missing:
            problems.append(f"no user was answered 200 on {name} for the applications {missing}")
    walked = {answer.page.route.key for _, answer in walk.answers}
    unwalked = sorted({page.route.key for page in demo.plan.urls} - walked)
    if unwalked:
        problems.append(f"routes nobody fetched: {unwalked}")
    return problems


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_route_is_walked_or_skipped(demo: Demo, _runtime_role: str | None) -> None:
    if _runtime_role is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == _runtime_role, "the pages are not rendered as the runtime role"
    unfilled = demo.plan.unfilled
    new = {key: why for key, why in unfilled.items() if key not in SKIPPED_ROUTES}
    stale = sorted(set(SKIPPED_ROUTES) - set(unfilled))
    assert not new, "URL patterns no demo object fills — write a filler in tests/page_walk.py:FILLERS:\n" + "\n".join(
        f"  /{key}: {why}" for key, why in sorted(new.items())
    )
    assert not stale, "SKIPPED_ROUTES lists patterns that are fillable now or gone: " + ", ".join(stale)
    assert not demo.plan.misbuilt, "\n".join(demo.plan.misbuilt)
    names = {route.name for route in demo.plan.routes}
    assert not (CASE_PAGES | LANDING_PAGES) - names, "CASE_PAGES or LANDING_PAGES name URLs that are gone"
    assert len(demo.plan.urls) > 1000, "the demo seeded far fewer objects than expected"


@pytest.mark.django_db
@pytest.mark.parametrize("instant", list(INSTANTS))
@pytest.mark.timeout(1200)  # every page of the demo as every user: about 10 000 requests per instant
def test_every_page_answers_below_500(demo: Demo, instant: str) -> None:
    # Given the seeded demo, aged to the instant
    started = time.perf_counter(), time.process_time()
    with time_machine.travel(demo.seeded_at + INSTANTS[instant], tick=True), page_walk.quiet_request_logs():
        # When every visitor GETs the pages it may reach
        walk = _walk(demo)

    # Then no page answers 500 or more, and the walk really saw the pages
    errors = _server_errors(instant, walk)
    thin = walk.problems + _thin_walk(walk, demo)
    statuses = Counter(answer.status for _, answer in walk.answers)
    summary = (
        f"[{instant}] {len(demo.visitors)} visitors, {len({a.page.route.key for _, a in walk.answers})} routes, "
        f"{len(walk.answers)} GETs ({walk.passed_over} POST-only passed over): {dict(sorted(statuses.items()))}; "
        f"{time.perf_counter() - started[0]:.0f} s ({time.process_time() - started[1]:.0f} s CPU)"
    )
    print(summary)
    assert not errors and not thin, "\n".join([summary, *errors, *thin])
