"""Browser tests use the session-wide ``browser`` and ``page`` fixtures of tests/conftest.py
(Debian's Chromium, driven by Playwright; skipped without it unless ``--require-browser``)."""

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported for older imports)
