"""The Celery app of ``outbox_bench.py``'s workers: ReformFlow's app with the benchmark's notice
kind registered (the workers render the messages), and the fake e-mail channel they send to."""

from __future__ import annotations

from collections.abc import Sequence

import django
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from config.celery import app

django.setup()

from core.outbox.kinds import NoticeKind, notice_kinds_register  # noqa: E402

notice_kinds_register(NoticeKind("bench.notice", "Notice %(n)s", "Benchmark notice number %(n)s."))


class DiscardingEmailBackend(BaseEmailBackend):
    """Each e-mail is rendered to the bytes an SMTP backend would send, then dropped. (Django's
    locmem backend keeps every message in the worker's memory: at 100 000 e-mails that growth, not
    the worker, would be the peak RSS measured.)"""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            message.message().as_bytes()
        return len(email_messages)


__all__ = ["DiscardingEmailBackend", "app"]
