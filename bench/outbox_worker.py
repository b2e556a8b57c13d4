"""The Celery app of ``outbox_bench.py``'s workers: ReformFlow's app with the benchmark's notice
kind registered (the workers render the messages)."""

from __future__ import annotations

import django

from config.celery import app

django.setup()

from core.outbox.kinds import NoticeKind, notice_kinds_register  # noqa: E402

notice_kinds_register(NoticeKind("bench.notice", "Notice %(n)s", "Benchmark notice number %(n)s."))

__all__ = ["app"]
