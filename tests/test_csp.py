"""The Content-Security-Policy on every area, templates without inline code, and HSTS settings."""

from __future__ import annotations

import importlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from tests.workflows.conftest import file_application, make_item

BASE_DIR = Path(settings.BASE_DIR)
OUR_APPS = ("core", "credit", "approvals", "workflows")

# What a policy without 'unsafe-inline' refuses to run or apply. Django comments are removed first.
_COMMENTS = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
INLINE_CODE = {
    "style_attribute": re.compile(r"<[a-zA-Z][^<>]*?\sstyle\s*=", re.S),
    "style_element": re.compile(r"<style[\s>]", re.I),
    "inline_script": re.compile(r"<script\b(?![^>]*\ssrc\s*=)[^>]*>", re.I),
    "event_handler_attribute": re.compile(r"<[a-zA-Z][^<>]*?\son[a-z]+\s*=", re.S),
    "javascript_url": re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I),
}


def inline_code(text: str) -> list[str]:
    """The kinds of inline code in an HTML text or template source (empty: none)."""
    text = _COMMENTS.sub("", text)
    return sorted(kind for kind, pattern in INLINE_CODE.items() if pattern.search(text))


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def assert_strict_policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    assert "Content-Security-Policy" in response, response.request["PATH_INFO"]
    header = response["Content-Security-Policy"]
    policy = directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header and "'unsafe-hashes'" not in header
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["style-src"][0] == "'self'"
    assert all(source.startswith("'nonce-") for source in policy["style-src"][1:]), header
    return policy


# --- the header on every area ---------------------------------------------------------------------


@pytest.fixture
def staff_process(bureau, owner, enterprise):  # type: ignore[no-untyped-def]
    """An application in the desk's queue, so that the staff frontend has something to show."""
    return file_application(owner, enterprise, make_item(bureau))


def _pages(bureau, owner, auditor, administrator, staff_process) -> Iterator[tuple[object, str, int]]:  # type: ignore[no-untyped-def]
    from workflows.models import ApplicationProcess

    process = ApplicationProcess.objects.get(artifact_object_id=staff_process.pk)
    yield None, "/", 200
    yield None, reverse("service_list"), 200
    yield None, reverse("certificate_verify"), 200
    yield None, reverse("login"), 200
    yield None, "/no-such-page/", 404
    yield None, "/admin/login/", 200
    yield owner, reverse("portal:home"), 200
    yield owner, reverse("portal:applications"), 200
    yield bureau.desk_user, reverse("workbench:home"), 200
    yield bureau.desk_user, reverse("workbench:application", args=[staff_process.pk]), 200
    yield auditor, reverse("audit:home"), 200
    yield auditor, reverse("audit:events"), 200
    yield bureau.desk_user, "/staff/standardapproval/", 200
    yield bureau.desk_user, "/staff/standardapproval/flows/", 200
    yield bureau.desk_user, "/staff/standardapproval/queue/", 200
    yield bureau.desk_user, f"/staff/standardapproval/{process.pk}/", 200
    yield administrator, "/admin/", 200


@pytest.mark.django_db
def test_every_area_sends_a_policy_without_unsafe_inline_and_pages_carry_no_inline_code(  # type: ignore[no-untyped-def]
    client, bureau, owner, auditor, administrator, staff_process
):
    for user, path, status in _pages(bureau, owner, auditor, administrator, staff_process):
        # given a visitor of that area
        client.logout()
        if user is not None:
            client.force_login(user)
        # when the page is opened
        response = client.get(path)
        # then it is served under the strict policy and its markup needs no inline code
        assert response.status_code == status, (path, response.status_code)
        assert_strict_policy(response)
        assert inline_code(response.content.decode()) == [], path


@pytest.mark.django_db
def test_staff_frontend_nonce_is_the_one_turbo_reads(client, bureau, staff_process):  # type: ignore[no-untyped-def]
    # given a member of staff on viewflow's frontend, whose Turbo inserts a <style> for its progress bar
    client.force_login(bureau.desk_user)
    # when a page of the frontend is opened
    response = client.get("/staff/standardapproval/")
    # then the style-src nonce is the one in <meta name="csp-nonce">, and scripts get no nonce
    policy = assert_strict_policy(response)
    nonces = [source[len("'nonce-") : -1] for source in policy["style-src"] if source.startswith("'nonce-")]
    assert len(nonces) == 1
    assert f'<meta name="csp-nonce" content="{nonces[0]}">' in response.content.decode()
    assert policy["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_pages_outside_the_staff_frontend_get_no_nonce(client, owner):  # type: ignore[no-untyped-def]
    client.force_login(owner)
    for path in ("/", reverse("portal:home"), "/admin/login/"):
        policy = assert_strict_policy(client.get(path))
        assert policy["style-src"] == ["'self'"], path


# --- the templates ----------------------------------------------------------------------------------


def _template_files() -> list[Path]:
    roots = [BASE_DIR / "templates", *(BASE_DIR / app / "templates" for app in OUR_APPS)]
    return sorted(path for root in roots if root.is_dir() for path in root.rglob("*") if path.is_file())


def test_the_scanner_finds_each_kind_of_inline_code():
    assert inline_code('<p class="x" style="color:red">') == ["style_attribute"]
    assert inline_code("<style>p { color: red }</style>") == ["style_element"]
    assert inline_code("<script>alert(1)</script>") == ["inline_script"]
    assert inline_code('<select name="l" onchange="this.form.submit()">') == ["event_handler_attribute"]
    assert inline_code('<a href="javascript:void(0)">x</a>') == ["javascript_url"]
    assert inline_code('<script src="/static/js/x.js" defer></script><link rel="stylesheet" href="/x.css">') == []
    assert inline_code('{# <style> #}{% comment %}<p style="x">{% endcomment %}<p>styled on purpose</p>') == []


def test_no_template_carries_inline_style_or_script():
    files = _template_files()
    assert any(path.name == "base.html" for path in files)
    offenders = {
        str(path.relative_to(BASE_DIR)): found
        for path in files
        if (found := inline_code(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert offenders == {}


def test_the_static_files_the_templates_name_exist():
    for name in ("css/reformflow.css", "css/admin.css", "css/staff.css", "js/submit-on-change.js", "js/staff.js"):
        assert (BASE_DIR / "static" / name).is_file(), name


# --- HSTS and the deployment check -------------------------------------------------------------------

_SECURITY_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


@pytest.fixture
def settings_module(monkeypatch):  # type: ignore[no-untyped-def]
    """config.settings re-read under a changed environment (and re-read as it was afterwards)."""
    import config.settings as module

    for name in _SECURITY_VARIABLES[2:]:
        monkeypatch.delenv(name, raising=False)

    def load(**environment: str):  # type: ignore[no-untyped-def]
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(module)

    yield load
    monkeypatch.undo()
    importlib.reload(module)


def test_hsts_subdomains_follow_hsts_and_preload_is_off_by_default(settings_module):  # type: ignore[no-untyped-def]
    assert settings_module().SECURE_HSTS_INCLUDE_SUBDOMAINS is False
    on = settings_module(SECURE_HSTS_SECONDS="31536000")
    assert (on.SECURE_HSTS_SECONDS, on.SECURE_HSTS_INCLUDE_SUBDOMAINS, on.SECURE_HSTS_PRELOAD) == (
        31536000,
        True,
        False,
    )


def test_hsts_subdomains_and_preload_are_read_from_the_environment(settings_module):  # type: ignore[no-untyped-def]
    loaded = settings_module(SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="0", SECURE_HSTS_PRELOAD="yes")
    assert (loaded.SECURE_HSTS_INCLUDE_SUBDOMAINS, loaded.SECURE_HSTS_PRELOAD) == (False, True)


def test_a_malformed_hsts_flag_stops_start_up(settings_module):  # type: ignore[no-untyped-def]
    with pytest.raises(ImproperlyConfigured, match="SECURE_HSTS_PRELOAD"):
        settings_module(SECURE_HSTS_PRELOAD="maybe")


def test_production_environment_passes_the_deployment_checks(settings_module):  # type: ignore[no-untyped-def]
    # given the environment .ci/run gives `manage.py check --deploy`
    production = settings_module(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="approval.example.gov.cn",
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
    )
    values = {name: getattr(production, name) for name in dir(production) if name.isupper()}
    relevant = {
        name: values[name]
        for name in (
            *_SECURITY_VARIABLES,
            "SECURE_CONTENT_TYPE_NOSNIFF",
            "SECURE_REFERRER_POLICY",
            "SECURE_CROSS_ORIGIN_OPENER_POLICY",
            "X_FRAME_OPTIONS",
        )
        if name in values
    }
    # when Django's security checks run on those settings
    with override_settings(**relevant):
        found = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    # then none of them warns
    assert [message.id for message in found] == []
