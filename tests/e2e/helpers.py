"""What the browser journeys share: screenshots into tests/e2e/artifacts/ and logging in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
