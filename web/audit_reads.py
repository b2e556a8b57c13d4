"""The one place that records an auditor's reads (``auditor.read`` audit events).

Every request by an auditor that reads (GET or HEAD) and succeeds (2xx) writes exactly one event,
wherever it lands: our pages, the file-download view, viewflow's staff frontend under ``/staff/``,
the admin. The object is the one the view declared with ``core.audit_reads.audit_read_mark``, or,
when it declared nothing, the one its URL names: ``object_type`` is the route's
``namespace:url_name``, ``object_id`` the last id-like URL kwarg (a task is more specific than its
process) or ``"*"`` when there is none, and ``data`` carries the path, the route and the kwargs.

The systems of other authorities (system accounts, OAuth2 client credentials) are logged the same
way, as ``system.read`` events: every successful read they make, such as a grade look-up, whose
view marks the enterprise and the purpose.

A request of another method writes an event only when its view marked a read: the eligibility
replay is a POST that shows a decision and writes nothing else. Views never check the role for
this; the middleware does, so a page that also renders for supervisors or inspectors records
nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from approvals.permissions import user_is_auditor
from core.audit_reads import AuditRead, audit_read_marked
from core.models import AuditEvent
from core.services import AUDITOR_READ, SYSTEM_READ, audit_read_record
from credit.permissions import user_is_credit_auditor

READ_METHODS = frozenset({"GET", "HEAD"})
LIST = "*"
UNRESOLVED = "unresolved"
# URL kwargs that name the object a page shows, besides every ``*_pk`` and ``*_id``.
_ID_KWARGS = frozenset({"pk", "id", "object_id", "code"})
_TYPE_LENGTH = AuditEvent._meta.get_field("object_type").max_length or 64
_ID_LENGTH = AuditEvent._meta.get_field("object_id").max_length or 64
_QUERY_LENGTH = 500


def _is_auditor(user: Any) -> bool:
    # The credit console is guarded by its own permission (``credit`` cannot import ``approvals``);
    # the auditor role grants both, and a holder of either reads as an auditor.
    return bool(
        user is not None and user.is_authenticated and (user_is_auditor(user=user) or user_is_credit_auditor(user=user))
    )


def _is_system_account(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and getattr(user, "is_system_account", False))


def _names_object(kwarg: str) -> bool:
    return kwarg in _ID_KWARGS or kwarg.endswith(("_pk", "_id"))


def audit_read_from_url(request: HttpRequest) -> AuditRead:
    """What a page read when its view marked nothing: the object its URL names."""
    match = request.resolver_match
    data: dict[str, Any] = {"path": request.path}
    query = request.META.get("QUERY_STRING", "")
    if query:
        data["query"] = query[:_QUERY_LENGTH]
    if match is None:
        # Only a middleware answering before URL resolution gets here; nothing names an object.
        return AuditRead(object_type=UNRESOLVED, object_id=LIST, data=data)
    # Only what the URL captured: a route's extra kwargs (``path(..., {...})``) name nothing asked for.
    kwargs = {name: str(value) for name, value in match.captured_kwargs.items()}
    ids = [value for name, value in kwargs.items() if _names_object(name)]
    data.update(route=match.route, kwargs=kwargs)
    return AuditRead(
        object_type=match.view_name[:_TYPE_LENGTH],
        object_id=ids[-1][:_ID_LENGTH] if ids else LIST,
        data=data,
    )


def audit_read_of(request: HttpRequest, response: HttpResponseBase) -> AuditRead | None:
    """The read this request made, if it is one to record; ``None`` otherwise."""
    if not 200 <= response.status_code < 300:
        return None
    marked = audit_read_marked(request)
    if marked is None and request.method not in READ_METHODS:
        return None
    user = getattr(request, "user", None)
    if not (_is_auditor(user) or _is_system_account(user)):
        return None
    return marked or audit_read_from_url(request)


class AuditorReadMiddleware:
    """Writes one ``auditor.read`` event per successful read by an auditor (see the module doc).

    It needs ``request.user``, so it sits after the authentication middleware. The event is
    written before the response leaves, so a read that cannot be recorded fails with a 500 and is
    not delivered; a streamed body (CSV export, file download) is never touched here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        read = audit_read_of(request, response)
        if read is not None:
            audit_read_record(
                actor=request.user,  # type: ignore[arg-type]
                object_type=read.object_type,
                object_id=read.object_id,
                data=read.data,
                action=SYSTEM_READ if _is_system_account(request.user) else AUDITOR_READ,
            )
        return response
