"""Who is acting: the two questions every layer asks about a user, answered once.

``real_actor`` turns "the request's user" into what an audit line or a ``decided_by`` column stores
(``None`` for the system or an anonymous request); ``is_working_staff`` is the gate every staff
permission starts from (an active staff account, not an enterprise user)."""

from __future__ import annotations

from typing import Any


def real_actor(actor: Any) -> Any:
    """``actor`` when it is a signed-in user, else ``None`` (the system, a timer, an anonymous request)."""
    return actor if actor is not None and actor.is_authenticated else None


def is_working_staff(user: Any) -> bool:
    """An active, signed-in staff account: the precondition of every staff role and permission."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and getattr(user, "kind", None) == "staff"
    )
