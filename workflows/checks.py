"""System checks for our flows.

viewflow's default ``lock_impl`` is ``no_lock``: two parallel branches finishing together create
two Join tasks and leave the process stuck (see shared/notes/viewflow-2.4.md §6.3). Every flow of
ours must take a select-for-update lock on its process row; ``manage.py check`` (run in CI) fails
the build otherwise. The views the human nodes name by dotted path must import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import checks


def _flow_classes() -> list[type]:
    from viewflow.workflow.base import Flow

    found: list[type] = []
    pending = list(Flow.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.split(".")[0] in {"workflows", "approvals", "credit"}]


def flows_without_row_lock(flow_classes: Iterable[type]) -> list[checks.CheckMessage]:
    from viewflow.workflow.lock import SelectForUpdateLock

    errors: list[checks.CheckMessage] = []
    for cls in flow_classes:
        lock = getattr(cls, "lock_impl", None)
        if not isinstance(lock, SelectForUpdateLock):
            errors.append(
                checks.Error(
                    f"{cls.__module__}.{cls.__qualname__} does not lock its process row.",
                    hint="Set lock_impl = lock.SelectForUpdateLock(nowait=False) (or lock.select_for_update_lock).",
                    obj=cls,
                    id="workflows.E001",
                )
            )
    return errors


@checks.register()
def check_flow_locks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return flows_without_row_lock(_flow_classes())


def screens_missing(paths: Iterable[str]) -> list[checks.CheckMessage]:
    """Every view a node names by its dotted path (``workflows.nodes.screen``) must import."""
    from django.utils.module_loading import import_string

    errors: list[checks.CheckMessage] = []
    for path in sorted(paths):
        try:
            import_string(path)
        except ImportError as exc:
            errors.append(checks.Error(f"The node view {path} cannot be imported: {exc}", id="workflows.E002"))
    return errors


@checks.register()
def check_node_screens(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from workflows import commitment_flows, flows  # noqa: F401  (the flows name their screens when defined)
    from workflows.nodes import SCREENS

    return screens_missing(SCREENS)
