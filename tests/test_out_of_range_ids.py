"""Ids beyond the database's integer range are a 404 (or the login redirect), never a 500.

Every route of the site is walked from the root resolver, through the admin's and viewflow's
included resolvers: each route with an ``int`` or an object-id parameter gets 99999999999999999999
in every such parameter and is fetched by a superuser administrator, a bureau desk officer and an
anonymous visitor (and an enterprise user). Without ``config.converters.bound_int_converters`` the number reached the
database driver (OverflowError on SQLite, DataError on PostgreSQL).

The test client re-raises a view's exception, so a 500 fails the test with its traceback.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, StringConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern

from approvals.organisation.roles import StaffRole
from config.converters import MAX_DATABASE_INTEGER, BoundedIntConverter
from tests import factories

HUGE = "99999999999999999999"  # 20 digits: above 2**63 - 1
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "portal/policies/<int:policy_pk>/apply/"
    converters: dict[str, object]
    has_regex: bool


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = "", converters=None, regex=False
) -> Iterator[Route]:  # type: ignore[no-untyped-def]
    for entry in patterns:
        merged = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        template = prefix + str(entry.pattern)
        has_regex = regex or isinstance(entry.pattern, RegexPattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, template, merged, has_regex)
        else:
            yield Route(template, merged, has_regex)


def _is_id(name: str) -> bool:
    return name in ("pk", "object_id") or name.endswith(("_pk", "_id"))


def _targets(route: Route) -> bool:
    return any(
        isinstance(converter, IntConverter) or (_is_id(name) and isinstance(converter, StringConverter))
        for name, converter in route.converters.items()
    )


def _url(route: Route, number: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        converter = route.converters[name]
        if isinstance(converter, IntConverter) or _is_id(name):
            return number
        if isinstance(converter, UUIDConverter):
            return str(uuid.UUID(int=0))
        if isinstance(converter, PathConverter):
            return "x/y"
        return "x"

    return "/" + _PARAMETER.sub(fill, route.template)


ALL_ROUTES = [route for route in _routes(get_resolver().url_patterns) if not route.has_regex]
ID_ROUTES = [route for route in ALL_ROUTES if _targets(route)]


def test_the_walk_reaches_admin_and_viewflow_routes():
    templates = {route.template for route in ID_ROUTES}

    assert "portal/policies/<int:policy_pk>/apply/" in templates
    assert any(t.startswith("staff/") and t.endswith("/<int:process_pk>/chart/") for t in templates)
    assert any(t.startswith("staff/") and "<int:task_pk>" in t for t in templates)
    assert "admin/approvals/calendaryear/<path:object_id>/change/" in templates


def test_every_int_parameter_of_the_site_is_bounded():
    unbounded = [
        f"{route.template} ({name})"
        for route in ALL_ROUTES
        for name, converter in route.converters.items()
        if isinstance(converter, IntConverter) and not isinstance(converter, BoundedIntConverter)
    ]

    assert unbounded == []


def test_no_regex_route_takes_a_number():
    # A regex group is passed to the view as a string, unbounded: routes use <int:…> instead.
    numeric = [
        str(entry.pattern)
        for entry in _flatten(get_resolver().url_patterns)
        if isinstance(entry.pattern, RegexPattern) and re.search(r"\(\?P<\w+>(\\d|\[0-9\])", str(entry.pattern))
    ]

    assert numeric == []


def _flatten(patterns):  # type: ignore[no-untyped-def]
    for entry in patterns:
        yield entry
        if isinstance(entry, URLResolver):
            yield from _flatten(entry.url_patterns)


@pytest.mark.parametrize(
    ("value", "bounded"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        (str(MAX_DATABASE_INTEGER), MAX_DATABASE_INTEGER),
        ("0" * 30 + "5", 5),
    ],
)
def test_converter_keeps_numbers_in_range(value, bounded):
    assert BoundedIntConverter().to_python(value) == bounded


@pytest.mark.parametrize("value", [str(MAX_DATABASE_INTEGER + 1), HUGE, "9" * 5000])
def test_converter_refuses_numbers_out_of_range(value):
    with pytest.raises(ValueError):
        BoundedIntConverter().to_python(value)


def test_an_out_of_range_int_resolves_to_nothing():
    with pytest.raises(Resolver404):
        resolve(f"/portal/policies/{HUGE}/apply/")
    assert resolve("/portal/policies/1/apply/").kwargs == {"policy_pk": 1}


def _expected(response) -> bool:  # type: ignore[no-untyped-def]
    # 404; a redirect (to the login page, or the admin's "no such object" back to its index); or
    # a refusal (403/405) of a view that never looked the id up.
    return response.status_code in (301, 302, 303, 403, 404, 405)


def _fetch_all(client, users, number: str, expected) -> list[str]:  # type: ignore[no-untyped-def]
    urls = sorted({_url(route, number) for route in ID_ROUTES})
    assert len(urls) > 250  # the walk found the admin's and viewflow's routes too
    failures = []
    for user in users:
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        for url in urls:
            try:
                response = client.get(url)
            except Exception as exc:  # noqa: BLE001  (the client re-raises a 500's exception: list them all)
                failures.append(f"{user}: GET {url} raised {type(exc).__name__}: {exc}")
                continue
            if not expected(response):
                failures.append(f"{user}: GET {url} -> {response.status_code}")
    return failures


@pytest.mark.django_db
def test_no_route_answers_5xx_to_an_out_of_range_id(client):
    # Given a superuser administrator, a bureau desk officer, an enterprise's legal representative
    # (the portal looks its enterprises up before the id) and an anonymous visitor
    administrator = factories.staff_with_role(StaffRole.ADMINISTRATOR, is_superuser=True, is_staff=True)
    desk = factories.staff_with_role(StaffRole.DESK, department=factories.department())
    owner = factories.MembershipFactory(confirmed=True).user

    # When every route is fetched with 99999999999999999999 in its ids
    failures = _fetch_all(client, (administrator, desk, owner, None), HUGE, _expected)

    # Then the answer is a 404 or a redirect, never a 5xx
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_the_largest_id_in_range_reaches_the_views_without_5xx(client):
    # Given a superuser administrator and an enterprise's legal representative
    administrator = factories.staff_with_role(StaffRole.ADMINISTRATOR, is_superuser=True, is_staff=True)
    owner = factories.MembershipFactory(confirmed=True).user

    # When every route is fetched with 2**63 - 1 (the converter lets it through to the view)
    failures = _fetch_all(client, (administrator, owner), str(MAX_DATABASE_INTEGER), lambda r: r.status_code < 500)

    # Then the views look it up and find nothing, without a 5xx
    assert failures == [], "\n".join(failures)
