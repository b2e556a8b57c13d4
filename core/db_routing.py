"""Reads of read-only pages from a replica; everything else, and every write, on the primary.

With ``DATABASE_REPLICA_URL`` set, ``settings.DATABASE_REPLICA_ALIAS`` names a second database
(``"replica"``), a streaming replica of the primary (``"default"``). ``ReplicaRouter`` sends a read
there only while the current request has said it may (``replica_reads``); without a replica the
alias does not exist and every answer is ``"default"``, as if there were no router.

A request may read from the replica when all of these hold, checked query by query:

- its view is marked ``@replica_reads`` (pages that show and write nothing: the auditor's console,
  the efficiency dashboard and its CSV export, the public pages) and its method is GET or HEAD;
- the same browser did not write in the last ``DATABASE_REPLICA_PIN_SECONDS`` (the pin cookie set
  by ``ReplicaRoutingMiddleware`` after any request that wrote): the page that follows a POST —
  the redirect, the list the user just changed — reads its own write from the primary, whatever
  the replica's lag (read-your-own-writes);
- this request has not written yet (``db_for_write`` was never asked): a read after a write, even
  the auditor-read record's, comes from the primary;
- no transaction is open on the primary beyond the one the request started in: a read inside
  ``atomic()`` decides something (a ``select_for_update``, a check before a write) and must see the
  rows it will lock;
- the model is not one of those that decide who may read: the session, the user, groups,
  permissions (``auth``, ``guardian``) and the lock-out records (``axes``) are read from the
  primary, so a log-out, a revoked role or a lock-out takes effect at once, not one replica lag
  later.

Everything else — a write, a POST, a Celery task, a management command, a page not marked — has no
permission to use the replica and reads and writes the primary. ``db_for_write`` always answers
``"default"``; migrations run on ``"default"`` only; relations between objects of the two aliases
are allowed (they are the same rows).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

# The pin cookie: the Unix time until which this browser reads from the primary. It only ever
# routes its holder to the primary, so a forged or replayed value harms nobody but its sender.
PIN_COOKIE = "rf_primary_until"
READ_METHODS = frozenset({"GET", "HEAD"})
# Who may read is decided on the primary (see the module doc).
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "guardian", "axes"})
_MARK = "replica_reads"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass
class _Routing:
    """What the current request allows: set by the middleware, consulted by the router."""

    replica_allowed: bool = False
    wrote: bool = False
    # Atomic blocks already open on the primary when the view started (a test case's own): only
    # deeper ones are the request's transactions.
    atomic_depth: int = 0


_routing: contextvars.ContextVar[_Routing | None] = contextvars.ContextVar("reformflow_db_routing", default=None)


def replica_alias() -> str | None:
    """The replica's alias when one is configured, else ``None``."""
    return getattr(settings, "DATABASE_REPLICA_ALIAS", None) or None


def replica_reads(view: View) -> View:
    """Mark a view as read-only: on GET and HEAD its reads may come from the replica.

    Only for a view that writes nothing on those methods and shows nothing the viewer has just
    changed that the pin cookie would not cover. A write it makes anyway still goes to the primary
    and turns the rest of the request to the primary."""
    setattr(view, _MARK, True)
    return view


def _primary_only(model: type[Model]) -> bool:
    meta = model._meta
    if meta.app_label in PRIMARY_ONLY_APPS or meta.label == settings.AUTH_USER_MODEL:
        return True
    # The user's many-to-many tables (groups, user permissions) are created with the user model.
    creator: object = meta.auto_created
    return isinstance(creator, type) and issubclass(creator, Model) and creator._meta.label == settings.AUTH_USER_MODEL


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry: see the module doc."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        alias = replica_alias()
        state = _routing.get()
        if alias is None or state is None or not state.replica_allowed or state.wrote:
            return DEFAULT_DB_ALIAS
        if _primary_only(model):
            return DEFAULT_DB_ALIAS
        if len(connections[DEFAULT_DB_ALIAS].atomic_blocks) > state.atomic_depth:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        state = _routing.get()
        if state is not None:
            # Also asked for ``select_for_update`` and ``get_or_create``: intent to write is enough.
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        aliases = {DEFAULT_DB_ALIAS, replica_alias()}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        # The replica replays the primary's WAL: its schema is the primary's.
        return db == DEFAULT_DB_ALIAS


def _pinned(request: HttpRequest) -> bool:
    raw = request.COOKIES.get(PIN_COOKIE, "")
    try:
        return float(raw) > time.time()
    except ValueError:
        return False


def _iterate_with(state: _Routing, content: Iterable[Any]) -> Iterator[Any]:
    """A streamed body is produced after the middleware has returned: route each chunk's queries
    as the view's own."""
    iterator = iter(content)
    while True:
        token = _routing.set(state)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _routing.reset(token)
        yield chunk


class ReplicaRoutingMiddleware:
    """Opens each request's routing state, lets marked read-only views use the replica, and pins a
    browser to the primary for ``DATABASE_REPLICA_PIN_SECONDS`` after a request that wrote.

    It sits after the auditor-read middleware: the ``auditor.read`` record is written after this
    request's routing has closed, so it goes to the primary (as every write does) and does not pin
    the auditor to the primary for the next page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if replica_alias() is None:
            return self.get_response(request)
        state = _Routing()
        token = _routing.set(state)
        try:
            response = self.get_response(request)
        finally:
            _routing.reset(token)
        if state.wrote:
            seconds = settings.DATABASE_REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if isinstance(response, StreamingHttpResponse) and not response.is_async and state.replica_allowed:
            response.streaming_content = _iterate_with(state, cast(Iterator[bytes], response.streaming_content))
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> None:
        state = _routing.get()
        if state is None or not getattr(view_func, _MARK, False):
            return
        if request.method in READ_METHODS and not _pinned(request):
            state.replica_allowed = True
            state.atomic_depth = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
