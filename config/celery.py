"""The Celery app: ``celery -A config worker`` and ``celery -A config beat``. Its settings are the
``CELERY_*`` names of config/settings.py (broker, result backend, the beat schedule)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("reformflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
