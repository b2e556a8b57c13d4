import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@127.0.0.1:5432/reformflow",
        "postgresql://127.0.0.1/reformflow",
        "sqlite:////tmp/reformflow.sqlite3",
    ],
)
def test_well_formed_database_urls_are_accepted(url):
    config = parse_database_url(url)
    assert config["ENGINE"] in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@127.0.0.1:notaport/reformflow",
        "postgres://user:pw@127.0.0.1:5432/",
        "postgres:///reformflow",
        "mysql://root@127.0.0.1/reformflow",
        "127.0.0.1:5432/reformflow",
        "not a url at all",
        "sqlite://",
    ],
)
def test_malformed_database_urls_are_refused_with_clear_message(url):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parse_database_url(url)
    assert "DATABASE_URL" in str(excinfo.value)


def test_bool_int_and_list_parsing_fail_loudly():
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe'"):
        env_bool("X", False, environ={"X": "maybe"})
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X", 1, environ={"X": "ten"})
    with pytest.raises(ImproperlyConfigured, match="at least"):
        env_int("X", 1, minimum=1, environ={"X": "0"})
    assert env_list("X", [], environ={"X": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("X", [], environ={"X": "a,,b"})


def _manage_check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_process_refuses_to_start_with_malformed_database_url():
    result = _manage_check(DEBUG="1", DATABASE_URL="postgres://user@host:99999999/db")
    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr


def test_process_refuses_to_start_without_secret_key_in_production():
    result = _manage_check(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_process_refuses_bad_boolean():
    result = _manage_check(DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr
