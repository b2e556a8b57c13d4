"""Browser tests use the session-wide ``browser`` and ``page`` fixtures of tests/conftest.py
(Debian's Chromium, driven by Playwright; skipped without it unless ``--require-browser``).

Every context a browser test opens (the ``page`` fixture, ``helpers.log_in``, or
``browser.new_context`` directly) is watched: a console error or an uncaught exception on any of
its pages fails the test. That is how a script or style blocked by the Content-Security-Policy
shows. A test that provokes an error on purpose names it with
``@pytest.mark.allow_browser_errors(r"regex", ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported for older imports)
from tests.e2e.helpers import BrowserErrors


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_browser_errors(*patterns): console errors matching these regexes do not fail the test"
    )


@pytest.fixture(autouse=True)
def browser_errors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[BrowserErrors]:
    marker = request.node.get_closest_marker("allow_browser_errors")
    errors = BrowserErrors(marker.args if marker else ())
    if "browser" in request.fixturenames:
        browser = request.getfixturevalue("browser")
        open_context = browser.new_context

        def new_context(*args: Any, **kwargs: Any) -> Any:
            context = open_context(*args, **kwargs)
            errors.watch_context(context)
            return context

        # Autouse, so this runs before the ``page`` fixture opens its context.
        monkeypatch.setattr(browser, "new_context", new_context)
    request.node.browser_errors = errors  # type: ignore[attr-defined]
    yield errors
    late = errors.new_errors()
    if late:
        pytest.fail("browser errors after the test body:\n" + "\n".join(late), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    errors: BrowserErrors | None = getattr(item, "browser_errors", None)
    if errors is not None:
        found = errors.new_errors()
        if found:
            pytest.fail("browser errors:\n" + "\n".join(found), pytrace=False)
    return result
