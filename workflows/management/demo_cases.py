"""How the demo seeds play their cases: each case is one named function of its idempotency key, run
in its own transaction, skipped when an application with that key exists (so a seed can run again
and adds only what is missing), with a progress line per case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TextIO

from django.db import transaction

from approvals.models import Application


def cases_play(
    cases: Sequence[tuple[str, Callable[[uuid.UUID], None]]], *, namespace: uuid.UUID, label: str, stderr: TextIO
) -> int:
    """Play the cases not played yet; returns how many were created."""
    created = 0
    for number, (name, play) in enumerate(cases, start=1):
        key = uuid.uuid5(namespace, name)
        if Application.objects.filter(idempotency_key=key).exists():
            continue
        with transaction.atomic():
            play(key)
        created += 1
        stderr.write(f"  {label} {number}/{len(cases)}: {name}\n")
    return created
