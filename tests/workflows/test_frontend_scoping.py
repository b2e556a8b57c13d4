"""Every URL viewflow's staff frontend mounts asks ``user_may_view_application``.

On the demo (``seed_demo``): every URL pattern under ``/staff/`` is filled with every process of
the demo and each of its tasks, and opened as staff of a department that takes part in the case
and as staff of one that does not; as an enterprise user; and anonymously. A page that names a
case answers 404 to anyone the predicate refuses; viewflow's write URLs answer 404 to everyone.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from viewflow.workflow.models import Process, Task

from approvals import permissions
from approvals.models import Application
from core.models import User
from web.staff.site import WRITE_URL_NAMES
from workflows.commitment_flows import CommitmentApprovalFlow
from workflows.flows import StandardApprovalFlow

pytestmark = pytest.mark.django_db

# The flows the staff site mounts (the policy flow's screens are the policy office's own).
MOUNTED = [StandardApprovalFlow, CommitmentApprovalFlow]


def _staff_patterns() -> list[tuple[str, str | None]]:
    """(route template, URL name) of every pattern under /staff/."""
    found: list[tuple[str, str | None]] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith("staff/"):
                    found.append(("/" + route, entry.name))

    walk(get_resolver().url_patterns, "")
    return found


def _urls_for(process: Process, tasks: list[Task]) -> list[tuple[str, str | None]]:
    """Every frontend URL that names this process (and each of its tasks)."""
    flow_prefix = f"/staff/{process.flow_class.instance.flow_label.split('/')[-1]}/"
    urls = []
    for route, name in _staff_patterns():
        if not route.startswith(flow_prefix) or "<int:process_pk>" not in route:
            continue
        if "<int:task_pk>" not in route:
            urls.append((route.replace("<int:process_pk>", str(process.pk)), name))
            continue
        node = route.split("/")[4]  # /staff/<flow>/<process_pk>/<node>/<task_pk>/...
        for task in tasks:
            if task.flow_task.name == node:
                urls.append(
                    (route.replace("<int:process_pk>", str(process.pk)).replace("<int:task_pk>", str(task.pk)), name)
                )
    return urls


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.timeout(1200)  # every frontend URL of every demo case, as each kind of reader
def test_every_frontend_url_of_every_demo_case_is_narrowed_to_the_case_readers(client, demo):
    staff = list(User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("username"))
    applications = {a.pk: a for a in Application.objects.select_related("item_version")}
    processes = list(Process.objects.filter(flow_class__in=MOUNTED).order_by("pk"))
    assert len(processes) >= 10, "the demo has cases in every state"
    readers_checked = outsiders_checked = 0
    failures: list[str] = []
    for process in processes:
        application = applications[process.artifact_object_id]
        tasks = list(Task.objects.filter(process=process).order_by("pk"))
        urls = _urls_for(process, tasks)
        assert any(name == "detail" for _url, name in urls), process
        readers = [u for u in staff if permissions.user_may_view_application(user=u, application=application)]
        outsiders = [u for u in staff if u not in readers]
        # One reader and one outsider per case, both of a department (not auditor/supervisor).
        reader = next((u for u in readers if not permissions.user_is_auditor(user=u)), None)
        outsider = outsiders[process.pk % len(outsiders)] if outsiders else None
        for user, may_read in ((reader, True), (outsider, False)):
            if user is None:
                continue
            client.force_login(user)
            for url, name in urls:
                status = client.get(url).status_code
                if name in WRITE_URL_NAMES or not may_read:
                    expected: tuple[int, ...] = (404,)
                elif name == "execute":
                    # Our task page for whoever may work on it; viewflow's 403 for a reader who may not.
                    expected = (303, 403)
                elif name == "index":
                    expected = (200, 302)  # viewflow sends a task's index to its detail page
                else:
                    expected = (200,)
                if status not in expected:
                    failures.append(f"{user.username} {url} → {status}, expected {expected}")
            if may_read:
                readers_checked += 1
            else:
                outsiders_checked += 1
    assert not failures, "\n".join(failures)
    assert readers_checked >= 10 and outsiders_checked >= 10


def test_lists_and_dashboard_show_only_cases_the_user_may_read(client, demo):
    staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("username")
    references = dict(Application.objects.filter(reference__isnull=False).values_list("pk", "reference"))
    assert references
    seen_hidden = False
    # One user per distinct set of readable cases (the pages depend on nothing else).
    by_visible: dict[frozenset[int], User] = {}
    for user in staff:
        visible = frozenset(
            a.pk
            for a in Application.objects.select_related("item_version")
            if permissions.user_may_view_application(user=user, application=a)
        )
        by_visible.setdefault(visible, user)
    assert len(by_visible) >= 3
    for visible, user in by_visible.items():
        hidden_refs = [ref for pk, ref in references.items() if pk not in visible]
        seen_hidden = seen_hidden or bool(hidden_refs)
        client.force_login(user)
        for flow in ("standardapproval", "commitmentapproval"):
            for page in ("", "flows/", "tasks/", "inbox/", "queue/", "archive/"):
                response = client.get(f"/staff/{flow}/{page}")
                assert response.status_code == 200, (user.username, flow, page)
                body = response.content.decode()
                leaked = [ref for ref in hidden_refs if re.search(rf"\b{re.escape(ref)}\b", body)]
                assert not leaked, (user.username, flow, page, leaked)
                # The process links of a list point only at readable processes.
                for process_pk in re.findall(rf"/staff/{flow}/(\d+)/", body):
                    process = Process.objects.get(pk=process_pk)
                    assert process.artifact_object_id in visible, (user.username, page, process_pk)
    assert seen_hidden, "the demo has cases some staff may not read"


def test_enterprise_and_anonymous_users_never_see_a_frontend_page(client, demo):
    process = Process.objects.filter(flow_class__in=MOUNTED).order_by("pk").first()
    tasks = list(Task.objects.filter(process=process))
    urls = [url for url, _name in _urls_for(process, tasks)] + ["/staff/", "/staff/standardapproval/"]
    client.force_login(User.objects.get(username="ent_zhangwei"))
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
