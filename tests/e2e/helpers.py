"""What the browser journeys share: screenshots into tests/e2e/artifacts/, logging in, and the
collector of browser errors that fails a journey (tests/e2e/conftest.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests import factories

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(browser: Any, base_url: str, user: Any, *, language: str | None = None) -> tuple[Any, Any]:
    """A fresh browser context logged in as ``user`` (optionally with the language cookie set)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if language:
        context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page = context.new_page()
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    return context, page


def filing_fill(page: Any, version: Any, *, project_name: str, project_address: str, description: str) -> None:
    """Fill the filing form of ``version`` (its first material a one-page PDF)."""
    from core.uploads import minimal_pdf

    page.fill("#id_project_name", project_name)
    page.fill("#id_project_address", project_address)
    page.fill("#id_description", description)
    page.fill("#id_contact_name", "张三")
    page.fill("#id_contact_phone", "13800000000")
    first = version.materials.get(position=1)
    page.set_input_files(
        f"#id_material_{first.pk}",
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": minimal_pdf()}],
    )


class BrowserErrors:
    """Console errors and uncaught exceptions of every page opened in the watched contexts.

    A script or style refused by the Content-Security-Policy shows up only here (as a console
    error), never as an exception in the test: without this a journey passes on a page whose
    scripts did not run.
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = [re.compile(pattern) for pattern in allowed]
        self.errors: list[str] = []
        self.pages: list[Any] = []
        self.reported = 0

    def watch_context(self, context: Any) -> None:
        context.on("page", self.watch_page)
        for page in context.pages:
            self.watch_page(page)

    def watch_page(self, page: Any) -> None:
        if page in self.pages:
            return
        self.pages.append(page)
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self._record(f"uncaught exception on {page.url}: {error}"))

    def _console(self, page: Any, message: Any) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url") or page.url
        if message.text.startswith("Failed to load resource") and (
            # The status of the page itself (a form answered with 400, a 404 on purpose) is the
            # view's answer, which the test checks; a stylesheet or script that fails is not.
            where == page.url
            # Chromium asks every site for /favicon.ico on its own; the pages name no such file.
            or urlsplit(where).path == "/favicon.ico"
        ):
            return
        self._record(f"console error on {page.url} ({where}): {message.text}")

    def _record(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self.allowed):
            self.errors.append(text)

    def flush(self) -> None:
        """Take delivery of messages still on their way: one round trip to each open page."""
        from playwright.sync_api import Error as PlaywrightError

        for page in self.pages:
            if not page.is_closed():
                # A page closing or navigating meanwhile has nothing more to report.
                with contextlib.suppress(PlaywrightError):
                    page.evaluate("0")

    def new_errors(self) -> list[str]:
        self.flush()
        fresh = self.errors[self.reported :]
        self.reported = len(self.errors)
        return fresh
