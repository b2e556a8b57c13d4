"""Reading settings from the environment, failing loudly on bad values.

Every variable read here is documented in README.md ("Environment variables"). A value that cannot
be understood raises ``ImproperlyConfigured`` naming the variable: a typo in a deployment must stop
the process at start-up, not silently fall back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = env_str(name, environ=environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    value = env_str(name, environ=environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = env_str(name, environ=environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={value!r} has an empty item; separate values with single commas.")
    return items


_SQLITE_SCHEMES = {"sqlite"}
_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Turn a database URL into a Django ``DATABASES`` entry, or raise ``ImproperlyConfigured``.

    Only SQLite (``sqlite:////absolute/path.sqlite3``) and PostgreSQL
    (``postgres://user:password@host:port/dbname``) are supported: those are the two databases the
    project is tested on.
    """
    import dj_database_url

    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed ({exc}): {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme in _SQLITE_SCHEMES:
        if parts.netloc not in ("",) or parts.path in ("", "/"):
            raise ImproperlyConfigured(
                f"{name} is malformed: a SQLite URL has the form sqlite:////absolute/path/db.sqlite3, got {url!r}"
            )
    elif scheme in _POSTGRES_SCHEMES:
        dbname = parts.path.lstrip("/")
        if not parts.hostname and "host=" not in parts.query:
            raise ImproperlyConfigured(f"{name} is malformed: no host in {url!r}")
        if not dbname or "/" in dbname:
            raise ImproperlyConfigured(f"{name} is malformed: no single database name in {url!r}")
        del port
    else:
        raise ImproperlyConfigured(
            f"{name} is malformed or unsupported: scheme {parts.scheme!r} in {url!r}; "
            "use postgres://user:password@host:5432/dbname or sqlite:////path/db.sqlite3"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except Exception as exc:  # dj_database_url raises several types on bad input
        raise ImproperlyConfigured(f"{name} is malformed ({exc}): {url!r}") from None
    if scheme in _POSTGRES_SCHEMES:
        # No JIT compilation: the dashboards' aggregates are estimated costly enough to trigger it,
        # and compiling takes longer (~25 ms) than these queries run. A URL's own ?options=…jit…
        # keeps its choice.
        options = config.setdefault("OPTIONS", {})
        given = str(options.get("options", ""))
        if "jit" not in given:
            options["options"] = f"{given} -c jit=off".strip()
    return config
